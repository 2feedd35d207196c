"""Real Chromium (issue 14, point 5): axe-core finds no WCAG 2.2 A/AA violation on any page,
in any of the interface's languages, in the pages' main states; and under
``prefers-reduced-motion: reduce`` nothing animates.

axe-core comes from npm (``package.json``, pinned in ``package-lock.json``) and is injected
with ``page.evaluate`` (the pages' CSP forbids inline scripts, not the test's own code)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest
from playwright.async_api import Page, expect

from recordings.archive import RecordingProcessed, RecordingStarted, RecordingStopped
from server.keys import CLOCK, LOGIN_LINKS, MEDIA, QA, SETTINGS, STORE
from server.media.synthetic import start_synthetic_panel
from sessions import breakouts as br
from sessions.delivery import SetInterpretation
from sessions.demo import LIVE_PANEL_CODE
from sessions.qa import Ask, Moderate
from sessions.roles import Role, language_scope
from tests.e2e.conftest import Pages, Server, page_until
from web import i18n

pytestmark = pytest.mark.e2e

CODE = LIVE_PANEL_CODE
ENDED = "opening"
UPCOMING = "newcomers"
AXE = Path(__file__).parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.2 A and AA, and axe's best practices (unique landmarks, headings in order, …).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {
    runOnly: { type: "tag", values: tags },
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
  }));
}"""
CAPTIONS_ON = '[data-captions-toggle][aria-pressed="true"]'
# The pages' scripts have mounted their components and their sockets have answered.
SETTLED = """() => document.readyState === "complete"
  && [...document.querySelectorAll("[data-qa-connection], [data-breakout-connection]")]
       .every((el) => el.hidden || el.dataset.state !== "connecting")"""


@dataclass
class Visit:
    """A page to check: who looks (a browser context's page) and where."""

    name: str
    page: Page
    path: str
    ready: str = ""  # what shows once the page has what it waits for (a selector)


async def sign_in(page: Page, server: Server, role: Role, scope: str, lands_on: str) -> None:
    app = server.app
    token, _ = await app[LOGIN_LINKS].issue(
        app[STORE], role, scope, dt.datetime.now(dt.UTC), dt.timedelta(hours=1)
    )
    await page.goto(f"{server.url}/login/{token}")
    await page.get_by_label("Display name").fill(f"Ada {role.value.title()}")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{server.url}{lands_on}")


async def violations(page: Page, source: str) -> list[dict[str, Any]]:
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.evaluate(source)
    found: list[dict[str, Any]] = await page.evaluate(RUN_AXE, TAGS)
    return found


def report(found: dict[str, list[dict[str, Any]]]) -> str:
    lines = []
    for where, problems in found.items():
        for problem in problems:
            lines.append(f"{where}: {problem['id']} ({problem['impact']}): {problem['help']}")
            for node in problem["nodes"]:
                summary = " ".join(node["summary"].split())
                lines.append(f"    {node['target']}  — {summary}")
    return "\n".join(lines)


async def recording(server: Server, key: str) -> None:
    """A second of video where the archive keeps ``key``, so the replay page plays it."""
    folder = server.app[SETTINGS].data_dir / "recordings"
    folder.mkdir(parents=True, exist_ok=True)
    ffmpeg = await asyncio.create_subprocess_exec(
        *("ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i"),
        *("color=c=gray:s=160x90:d=1", "-c:v", "libvpx", "-y", str(folder / key)),
    )
    assert await ffmpeg.wait() == 0


async def prepare(server: Server, pages: Pages) -> list[Visit]:
    """The conference in its main states, and a page for each kind of visitor."""
    app = server.app
    qa, now = app[QA], app[CLOCK]()
    # The live panel is interpreted into French (a booth, a channel to pick).
    await qa.submit_command(CODE, SetInterpretation(CODE, "mod", ("fr",)), now)
    await recording(server, "r1.webm")
    for recorded in (
        RecordingStarted("r1", CODE, "guid", "webm", "r1.webm"),
        RecordingStopped("r1"),
        RecordingProcessed("r1", 1.0, 1000),
    ):
        await qa.submit_command(CODE, recorded, now)

    anonymous, ann, moderator, planner, speaker, captioner, interpreter = [
        await pages.open() for _ in range(7)
    ]
    # Ann joins and asks; her questions wait, are not taken, or are on screen.
    await ann.goto(f"{server.url}/sessions/{CODE}")
    await ann.get_by_label("Display name").fill("Ann Asker")
    await ann.get_by_role("button", name="Join").click()
    await ann.get_by_role("textbox", name="Your question").fill("Does shade beat paint?")
    await ann.get_by_role("button", name="Send question").click()
    await expect(ann.locator("[data-qa-status]")).to_contain_text("once a moderator approves")
    ann_id = await ann.locator("[data-qa-panel]").get_attribute("data-participant-id")
    assert ann_id
    for command in (
        Ask("q-dismissed", ann_id, "Ann Asker", "Is white paint enough?"),
        Moderate("q-dismissed", "mod", "dismiss"),
        Ask("q-onscreen", "someone", "Bo Okafor", "Who pays for the trees?"),
        Moderate("q-onscreen", "mod", "approve"),
        Moderate("q-onscreen", "mod", "highlight"),
        Ask("q-answered", "someone", "Bo Okafor", "And the roofs?"),
        Moderate("q-answered", "mod", "approve"),
        Moderate("q-answered", "mod", "answer"),
    ):
        await qa.submit_command(CODE, command, now)

    # Break-out rooms: planned in the upcoming session, open in the live one (Ann in room 1).
    rooms = (br.RoomSpec("room-1", "Shade", "Trees or awnings?"), br.RoomSpec("room-2", "Roofs"))
    await qa.submit_command(UPCOMING, br.PlanRooms("mod", rooms, "manual"), now)
    await qa.submit_command(CODE, br.PlanRooms("mod", rooms, "manual"), now)
    await qa.submit_command(CODE, br.Join(ann_id, "Ann Asker"), now)
    await qa.submit_command(CODE, br.Move("mod", ann_id, "room-1"), now)
    await qa.submit_command(CODE, br.Open("mod", 15), now)

    scope = language_scope(CODE, "fr")
    await asyncio.gather(
        sign_in(moderator, server, Role.MODERATOR, CODE, f"/sessions/{CODE}/moderate"),
        sign_in(planner, server, Role.MODERATOR, UPCOMING, f"/sessions/{UPCOMING}/moderate"),
        sign_in(speaker, server, Role.SPEAKER, CODE, f"/sessions/{CODE}/studio"),
        sign_in(captioner, server, Role.CAPTIONER, scope, f"/sessions/{CODE}/captions/fr"),
        sign_in(interpreter, server, Role.INTERPRETER, scope, f"/sessions/{CODE}/booth/fr"),
    )
    await captioner.get_by_label("Next line").fill("Bonjour à toutes et à tous.")
    await captioner.get_by_label("Next line").press("Enter")
    await expect(captioner.get_by_label("Next line")).to_have_value("")

    sign_in_link, _ = await app[LOGIN_LINKS].issue(
        app[STORE], Role.SPEAKER, CODE, dt.datetime.now(dt.UTC), dt.timedelta(hours=1)
    )

    async def alone() -> Page:
        return await pages.open()

    async def beside(page: Page) -> Page:  # another tab of the same visitor
        return await page.context.new_page()

    return [
        Visit("programme", anonymous, "/"),
        Visit("session live", await alone(), f"/sessions/{CODE}"),
        Visit("session upcoming", await alone(), f"/sessions/{UPCOMING}"),
        Visit("session ended", await alone(), f"/sessions/{ENDED}"),
        Visit("session joined", ann, f"/sessions/{CODE}"),
        Visit("break-out room", await beside(ann), f"/sessions/{CODE}/breakouts/room-1"),
        Visit("console", moderator, f"/sessions/{CODE}/moderate"),
        Visit("console, rooms planned", planner, f"/sessions/{UPCOMING}/moderate"),
        Visit("stage", await beside(moderator), f"/sessions/{CODE}/stage"),
        Visit("studio", speaker, f"/sessions/{CODE}/studio"),
        Visit("captioner", captioner, f"/sessions/{CODE}/captions/fr"),
        Visit("booth", interpreter, f"/sessions/{CODE}/booth/fr"),
        Visit("archive", await alone(), "/archive"),
        Visit("replay", await alone(), "/archive/r1"),
        Visit("sign-in", await alone(), f"/login/{sign_in_link}"),
        Visit("sign-in link not valid", await alone(), "/login/not-a-token"),
        Visit("error", await alone(), "/no-such-page"),
    ]


async def test_no_page_has_an_accessibility_violation_in_any_language(
    server: Server, pages: Pages
) -> None:
    began = time.monotonic()
    source = AXE.read_text()
    visits = await prepare(server, pages)
    prepared = time.monotonic()
    found: dict[str, list[dict[str, Any]]] = {}

    async def check(visit: Visit, code: str, scheme: Literal["light", "dark"] = "light") -> None:
        await visit.page.emulate_media(color_scheme=scheme)
        await visit.page.goto(f"{server.url}{visit.path}?lang={code}")
        await page_until(visit.page, f"({SETTLED})()", seconds=10)
        if visit.ready:
            await expect(visit.page.locator(visit.ready)).to_be_visible(timeout=10_000)
        if problems := await violations(visit.page, source):
            found[f"{visit.name} [{code}, {scheme}] {visit.path}"] = problems

    async def tour(visit: Visit) -> None:
        for code in i18n.LOCALES:
            await check(visit, code)
        await check(visit, i18n.SOURCE_LOCALE, "dark")  # contrast again, in dark colours

    await asyncio.gather(*(tour(visit) for visit in visits))
    # Last, the live panel on air: the player and its controls (captions, the French channel).
    # Alone, as encoding and decoding its video would slow every other page down.
    start_synthetic_panel(server.app[MEDIA], CODE, dt.datetime.now(dt.UTC))
    on_air = Visit("session on air", visits[1].page, f"/sessions/{CODE}", CAPTIONS_ON)
    await on_air.page.goto(f"{server.url}{on_air.path}")
    await on_air.page.locator("[data-captions-toggle]").click(timeout=10_000)  # remembered
    await tour(on_air)
    visits.append(on_air)
    print(
        f"axe: {len(visits) * (len(i18n.LOCALES) + 1)} pages in {time.monotonic() - prepared:.1f} s"
        f" after {prepared - began:.1f} s of setting up"
    )
    if found:
        print(report(found))
        pytest.fail(f"axe found violations on {len(found)} pages (see the output above)")


# Every element (and ::before / ::after) that animates or has a transition of some length.
MOVING = """() => {
  const name = (el) => el.localName + [...el.classList].map((c) => `.${c}`).join("");
  const moving = [];
  for (const el of document.querySelectorAll("body *")) {
    for (const pseudo of [null, "::before", "::after"]) {
      const style = getComputedStyle(el, pseudo);
      const transition = style.transitionDuration.split(",").some((d) => parseFloat(d) > 0);
      if (style.animationName !== "none" || transition) {
        const own = el.classList.length ? name(el) : `${name(el.parentElement)} > ${name(el)}`;
        moving.push(own + (pseudo ?? ""));
      }
    }
  }
  return [...new Set(moving)].sort();
}"""
# What animates on the session page and the console but only appears with live content: a
# caption line over the player and a break-out call's tile.
ANIMATED = """() => {
  const overlay = document.createElement("div");
  overlay.className = "captions-overlay";
  overlay.append(document.createElement("p"));
  const tile = document.createElement("div");
  tile.className = "tile";
  document.body.append(overlay, tile);
}"""


async def test_nothing_moves_when_the_reader_asks_for_reduced_motion(
    server: Server, pages: Pages
) -> None:
    console = await pages.open()
    await sign_in(console, server, Role.MODERATOR, CODE, f"/sessions/{CODE}/moderate")
    session = await pages.open()
    await session.goto(f"{server.url}/sessions/{CODE}")
    for page in (console, session):
        await page.evaluate(ANIMATED)

    # Without the preference, the switches slide, tiles light up, captions fade in …
    overlay = "div.captions-overlay > p"
    moving = await console.evaluate(MOVING)
    assert {overlay, "div.tile", "label.switch > input", "label.switch > input::before"} <= set(
        moving
    ), moving
    assert overlay in await session.evaluate(MOVING)

    # … and with it, nothing does.
    for page in (console, session):
        await page.emulate_media(reduced_motion="reduce")
        assert await page.evaluate(MOVING) == [], page.url

"""Real Chromium, keyboard alone (issue 14, point 5): a participant joins, asks and upvotes;
a speaker goes live and stops in the studio; an interpreter enters the booth and takes over;
a captioner writes and corrects. Every control is reached with Tab (never clicked), and a
newly approved question is read out through the panel's live region."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from server.keys import CLOCK, LOGIN_LINKS, MEDIA, QA, STORE
from server.media.stream_key import StreamKey
from server.media.synthetic import start_synthetic_panel
from sessions import breakouts as br
from sessions.delivery import SetInterpretation
from sessions.demo import LIVE_PANEL_CODE
from sessions.qa import Ask, Moderate
from sessions.roles import Role, language_scope
from tests.e2e.conftest import Pages, Server
from tests.e2e.test_studio_browser import Studio, speaker_studio

pytestmark = pytest.mark.e2e

CODE = LIVE_PANEL_CODE
TABS = 120
"""At most this many presses of Tab to reach a control: a page whose control is further
(or unreachable) fails."""


async def tab_to(page: Page, target: Locator, *, backwards: bool = False) -> None:
    """Press Tab (Shift+Tab) until ``target`` has the focus (found again each time: a page
    script may have drawn it anew)."""
    await expect(target).to_be_visible()
    for _ in range(TABS):
        if await target.evaluate("element => document.activeElement === element"):
            return
        await page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"{target} cannot be reached with the keyboard")


async def type_into(page: Page, target: Locator, text: str) -> None:
    await tab_to(page, target)
    await page.keyboard.type(text)


async def sign_in_with_link(page: Page, server: Server, role: Role, scope: str, name: str) -> None:
    app = server.app
    token, _ = await app[LOGIN_LINKS].issue(
        app[STORE], role, scope, dt.datetime.now(dt.UTC), dt.timedelta(hours=1)
    )
    await page.goto(f"{server.url}/login/{token}")
    await type_into(page, page.get_by_label("Display name"), name)
    await page.keyboard.press("Enter")


async def test_a_participant_joins_asks_and_upvotes_by_keyboard(
    server: Server, pages: Pages
) -> None:
    app = server.app
    ann = await pages.open()
    await ann.goto(f"{server.url}/sessions/{CODE}")
    await type_into(ann, ann.get_by_label("Display name"), "Ann Keys")
    await ann.keyboard.press("Enter")
    await expect(ann.locator(".identity")).to_contain_text("Ann Keys")
    await expect(ann.locator("[data-qa-connection]")).to_have_text("Live")

    await type_into(ann, ann.get_by_role("textbox", name="Your question"), "Who cools the buses?")
    await tab_to(ann, ann.get_by_role("button", name="Send question"))
    await ann.keyboard.press("Enter")
    await expect(ann.locator("[data-qa-own]")).to_contain_text("Who cools the buses?")

    now = app[CLOCK]()
    await app[QA].submit(CODE, Ask("kb-1", "bob-id", "Bob", "Shade before paint?"), now)
    await app[QA].submit(CODE, Moderate("kb-1", "mod", "approve"), now)
    public = ann.locator("[data-qa-list] li", has_text="Shade before paint?")
    await expect(public).to_be_visible()
    await expect(ann.locator("[data-qa-announce]")).to_have_text(
        "New question: Shade before paint?"
    )  # read out by screen readers (aria-live)
    upvote = public.get_by_role("button", name="Upvote")
    await tab_to(ann, upvote)
    await ann.keyboard.press("Space")
    await expect(public.locator(".vote-count")).to_contain_text("1")
    assert pages.errors == []


async def test_a_speaker_goes_live_and_stops_by_keyboard(browser: Browser, server: Server) -> None:
    errors: list[str] = []
    context, page = await speaker_studio(browser, server, errors)
    try:
        studio = Studio(page)
        await tab_to(page, studio.go_live)
        await page.keyboard.press("Enter")
        await studio.says_live()
        assert server.app[MEDIA].live(StreamKey.panel(CODE)) is not None
        await tab_to(page, studio.stop, backwards=True)
        await page.keyboard.press("Enter")
        await studio.says_stopped()
    finally:
        await context.close()
    assert errors == []


async def test_an_interpreter_and_a_captioner_work_by_keyboard(
    server: Server, pages: Pages
) -> None:
    app = server.app
    await app[QA].submit_command(CODE, SetInterpretation(CODE, "mod", ("fr",)), app[CLOCK]())
    start_synthetic_panel(app[MEDIA], CODE, dt.datetime.now(dt.UTC))
    anne, bruno = await pages.open(), await pages.open()
    for page, name in ((anne, "Anne"), (bruno, "Bruno")):
        await sign_in_with_link(page, server, Role.INTERPRETER, language_scope(CODE, "fr"), name)
        await expect(page).to_have_url(f"{server.url}/sessions/{CODE}/booth/fr")
        await tab_to(page, page.get_by_role("button", name="Enter the booth"))
        await page.keyboard.press("Enter")
        await expect(page.locator("[data-booth-link]")).to_have_attribute(
            "data-booth-link", "connected"
        )
    await expect(bruno.locator("[data-booth-air]")).to_have_attribute("data-booth-air", "other")
    await tab_to(bruno, bruno.get_by_role("button", name="Take over"), backwards=True)
    await bruno.keyboard.press("Space")
    await expect(bruno.locator("[data-booth-air]")).to_have_attribute("data-booth-air", "me")
    await expect(anne.locator("[data-booth-air]")).to_have_attribute("data-booth-air", "other")

    claire = await pages.open()
    await sign_in_with_link(claire, server, Role.CAPTIONER, language_scope(CODE, "fr"), "Claire")
    await expect(claire).to_have_url(f"{server.url}/sessions/{CODE}/captions/fr")
    line = claire.get_by_label("Next line")
    await expect(line).to_be_focused()  # the page opens ready to write
    await claire.keyboard.type("Bonjour à tous")
    await claire.keyboard.press("Enter")
    await expect(claire.locator("[data-captioner-sent]")).to_contain_text("Bonjour à tous")
    await claire.keyboard.press("ArrowUp")
    await claire.keyboard.press("End")
    await claire.keyboard.type(" et à toutes")
    await claire.keyboard.press("Enter")
    await expect(claire.locator("[data-captioner-sent]")).to_contain_text(
        "Bonjour à tous et à toutes"
    )
    assert pages.errors == []


async def test_a_participant_takes_part_in_a_break_out_room_by_keyboard(
    server: Server, pages: Pages
) -> None:
    app = server.app
    rooms = (br.RoomSpec("room-1", "Heat and cities"),)
    await app[QA].submit_command(CODE, br.PlanRooms("mod", rooms, "auto"), app[CLOCK]())
    ann = await pages.open()
    await ann.goto(f"{server.url}/sessions/{CODE}")
    await type_into(ann, ann.get_by_label("Display name"), "Ann Keys")
    await ann.keyboard.press("Enter")
    card = ann.locator("[data-breakouts-card]")
    await expect(card).to_contain_text("Heat and cities")
    await tab_to(ann, card.get_by_role("button", name="Take part"))
    await ann.keyboard.press("Enter")
    await expect(card.locator("[data-breakouts-body]")).to_contain_text("You are taking part.")
    await app[QA].submit_command(CODE, br.Assign("mod", 1), app[CLOCK]())
    await app[QA].submit_command(CODE, br.Open("mod", 10), app[CLOCK]())
    await expect(ann).to_have_url(f"{server.url}/sessions/{CODE}/breakouts/room-1")

    await type_into(ann, ann.get_by_label("Message to everyone in this room"), "Shade maps?")
    await ann.keyboard.press("Enter")
    await expect(ann.locator("[data-breakout-chat]")).to_contain_text("Shade maps?")
    await tab_to(ann, ann.get_by_role("button", name="Mute"))
    await ann.keyboard.press("Space")
    await expect(ann.get_by_role("button", name="Unmute")).to_be_focused()
    assert pages.errors == []


async def test_a_moderator_runs_the_queue_by_keyboard(server: Server, pages: Pages) -> None:
    app = server.app
    now = app[CLOCK]()
    for number, text in enumerate(("Who pays for shade?", "Trees or roofs?"), start=1):
        await app[QA].submit(CODE, Ask(f"kbm-{number}", f"p{number}", "Pat", text), now)
    mo = await pages.open()
    await sign_in_with_link(mo, server, Role.MODERATOR, CODE, "Mo Keys")
    await expect(mo).to_have_url(f"{server.url}/sessions/{CODE}/moderate")
    await expect(mo.locator('[data-count="pending"]')).to_have_text("2")
    first = mo.locator("article.mod-question").first
    await tab_to(mo, first)  # the queue is one tab stop; j/k move within it
    await mo.keyboard.press("j")
    await expect(mo.locator("article.mod-question").nth(1)).to_be_focused()
    await mo.keyboard.press("a")  # approve the focused question
    await expect(mo.locator('[data-count="pending"]')).to_have_text("1")
    await expect(mo.locator("article.mod-question").first).to_be_focused()
    await mo.keyboard.press("d")  # dismiss the one now in its place
    await expect(mo.locator('[data-count="pending"]')).to_have_text("0")
    assert pages.errors == []

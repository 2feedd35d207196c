"""Real Chromium: the live panel is recorded while a moderator marks a moment from the
console, the recording reaches the public archive, and its replay page plays and seeks."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page, expect

from recordings.archive import SetPublished
from server.keys import LOGIN_LINKS, MEDIA, QA, RECORDER, STORE
from server.media.stream_key import StreamKey
from server.media.synthetic import start_synthetic_panel
from sessions.demo import LIVE_PANEL_CODE
from sessions.roles import Role
from tests.e2e.conftest import Pages, Server, page_until

pytestmark = pytest.mark.e2e

CODE = LIVE_PANEL_CODE
ENDED_CODE = "opening"
TITLE = "Cities after the heat: adapting public space"
MARKER = "Shade & water <in> dense streets"
VIDEO = "document.querySelector('[data-replay-video]')"
NOW = f"{VIDEO}.currentTime"


async def until(condition: Callable[[], Any], seconds: float, what: str) -> Any:
    """Poll ``condition`` until it is truthy; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not (value := condition()):
        assert time.monotonic() < deadline, f"after {seconds} s still not: {what}"
        await asyncio.sleep(0.05)
    return value


async def published(server: Server, recording_id: str, seconds: float) -> dict[str, Any]:
    """Poll the public JSON until the recording is in it."""
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as http:
        while True:
            async with http.get(f"{server.url}/api/recordings") as response:
                assert response.status == 200
                listing: list[dict[str, Any]] = (await response.json())["recordings"]
            found = [view for view in listing if view["id"] == recording_id]
            if found:
                return found[0]
            assert time.monotonic() < deadline, f"after {seconds} s not published: {listing}"
            await asyncio.sleep(0.1)


async def open_console(page: Page, server: Server, code: str = CODE) -> None:
    token, _ = await server.app[LOGIN_LINKS].issue(
        server.app[STORE], Role.MODERATOR, code, dt.datetime.now(dt.UTC), dt.timedelta(hours=1)
    )
    await page.goto(f"{server.url}/login/{token}")
    await page.get_by_label("Display name").fill("Mo Moderator")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{server.url}/sessions/{code}/moderate")
    await expect(page.get_by_role("heading", name="Moderator console")).to_be_visible()


async def test_a_recorded_panel_is_replayed_from_the_archive(server: Server, pages: Pages) -> None:
    began = time.monotonic()
    app = server.app
    engine, recorder = app[MEDIA], app[RECORDER]
    visitor = await pages.open()
    await visitor.goto(f"{server.url}/archive")
    await expect(visitor.locator("[data-archive-empty]")).to_contain_text("No recordings yet")
    console = await open_console_page(pages, server)
    panel = console.locator("[data-rec-console]")
    await expect(panel.locator("[data-rec-state]")).to_have_text("Ready")
    await expect(panel.get_by_role("switch", name="Record this session")).to_be_checked()

    # The live panel, and (for its session page's replay link) the opening, which has ended.
    start_synthetic_panel(engine, CODE, dt.datetime.now(dt.UTC))
    start_synthetic_panel(engine, ENDED_CODE, dt.datetime.now(dt.UTC))
    active = await until(lambda: recorder.active.get(CODE), 15, "the panel is recorded")
    ended = await until(lambda: recorder.active.get(ENDED_CODE), 15, "the opening is recorded")
    await expect(panel.locator("[data-rec-state]")).to_have_text("Recording")
    item = panel.locator(f'[data-recording-id="{active.recording_id}"]')
    await expect(item.locator(".rec-status")).to_have_text("Recording")

    await until(lambda: ended.recorder.state.duration_seconds >= 1.5, 10, "1.5 s of the opening")
    opening = engine.live(StreamKey.panel(ENDED_CODE))
    assert opening is not None
    await engine.unpublish(opening)

    await until(lambda: active.recorder.state.duration_seconds >= 2, 10, "2 s of the panel")
    await panel.get_by_label("Marker", exact=True).fill(MARKER)
    await panel.get_by_role("button", name="Add marker").click()
    await expect(panel.locator("[data-rec-markers] li")).to_contain_text(MARKER)
    await expect(panel.get_by_label("Marker", exact=True)).to_have_value("")

    await until(lambda: active.recorder.state.duration_seconds >= 5, 10, "5 s of the panel")
    publication = engine.live(StreamKey.panel(CODE))
    assert publication is not None
    await engine.unpublish(publication)
    view = await published(server, active.recording_id, 20)
    assert view["title"] == TITLE
    await expect(item.locator(".rec-status")).to_have_text("Published")
    await expect(panel.locator("[data-rec-state]")).to_have_text("Ready")
    # recorded after its session ended: it waits for a moderator, who publishes it
    archive = app[QA].archive
    await until(lambda: archive.recordings[ended.recording_id].status == "review", 20, "review")
    await app[QA].submit_command(
        ENDED_CODE, SetPublished(ended.recording_id, "mod", True), dt.datetime.now(dt.UTC)
    )
    await published(server, ended.recording_id, 20)

    # Unpublish and publish again from the console: the archive follows.
    listed = visitor.locator(f'[data-recording-id="{active.recording_id}"]')
    await item.get_by_role("button", name="Unpublish", exact=True).click()
    await expect(item.locator(".rec-status")).to_have_text("Hidden")
    await visitor.goto(f"{server.url}/archive")
    await expect(visitor.locator(f'[data-recording-id="{ended.recording_id}"]')).to_be_visible()
    await expect(listed).to_have_count(0)
    await item.get_by_role("button", name="Publish", exact=True).click()
    await expect(item.locator(".rec-status")).to_have_text("Published")
    await expect(item.get_by_role("button", name="Unpublish", exact=True)).to_be_focused()

    # The archive lists it; search by a speaker finds it, nonsense does not.
    await visitor.goto(f"{server.url}/archive")
    await expect(visitor.get_by_role("link", name="Archive", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    await expect(listed.get_by_role("link", name=TITLE, exact=True)).to_be_visible()
    await expect(listed).to_contain_text("Amara Okafor")
    assert await visitor.locator('link[rel="alternate"][type="application/atom+xml"]').count()
    search = visitor.get_by_label("Search by title or speaker")
    await search.fill("okafor")
    await search.press("Enter")
    await expect(visitor).to_have_url(f"{server.url}/archive?q=okafor")
    await expect(listed.get_by_role("link", name=TITLE, exact=True)).to_be_visible()
    await expect(visitor.locator(f'[data-recording-id="{ended.recording_id}"]')).to_have_count(0)
    await visitor.get_by_label("Search by title or speaker").fill("zzxq nonsense")
    await visitor.get_by_role("button", name="Search").click()
    await expect(visitor.locator("[data-archive-empty]")).to_contain_text(
        "Nothing matches “zzxq nonsense”"
    )
    await expect(listed).to_have_count(0)

    # The replay page plays, and the marker's chapter seeks.
    await visitor.goto(f"{server.url}/archive?q=Amara")
    await listed.get_by_role("link", name=TITLE, exact=True).click()
    await expect(visitor).to_have_url(f"{server.url}/archive/{active.recording_id}")
    await expect(visitor.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    chapter = visitor.get_by_role("button", name=MARKER)
    start = float(await chapter.get_attribute("data-chapter-start") or "nan")
    assert 1.5 <= start <= 4.5, start
    await visitor.evaluate(f"{VIDEO}.muted = true")
    await visitor.locator("[data-replay-video]").focus()
    await visitor.keyboard.press("Space")  # the browser's own controls
    await page_until(visitor, f"{NOW} > 0.3 && !{VIDEO}.paused", 10)
    assert await visitor.evaluate(NOW) < start - 0.5, "the chapter must seek forward"
    await chapter.click()
    await page_until(visitor, f"Math.abs({NOW} - {start}) < 0.75", 5)
    await expect(chapter).to_have_attribute("aria-current", "true")
    await expect(visitor.locator("[data-replay-chapter]")).to_have_text(MARKER)

    # A shared link starts where it says.
    await visitor.goto(f"{server.url}/archive/{active.recording_id}#t=4")
    await page_until(visitor, f"Math.abs({NOW} - 4) < 0.5", 10)
    await expect(visitor.locator("[data-replay-share]")).to_have_value(
        f"{server.url}/archive/{active.recording_id}#t=4"
    )

    # The ended session's page links to its replay; the live one's has none.
    await visitor.goto(f"{server.url}/sessions/{ENDED_CODE}")
    replay = visitor.get_by_role("link", name="Watch the replay")
    await expect(replay).to_have_attribute("href", f"/archive/{ended.recording_id}")
    await expect(visitor.get_by_text("Its replay will appear here")).to_have_count(0)

    assert pages.errors == []
    assert time.monotonic() - began < 40


async def open_console_page(pages: Pages, server: Server) -> Page:
    page = await pages.open()
    await open_console(page, server)
    return page

"""Chromium watches the live panel: WHEP from the session page's player, frames decoded."""

from __future__ import annotations

import datetime as dt

import aiohttp
import pytest
from playwright.async_api import Browser, Page, expect

from server.keys import MEDIA
from server.media.stream_key import StreamKey
from server.media.synthetic import start_synthetic_panel
from sessions.demo import LIVE_PANEL_CODE
from tests.e2e.conftest import Server, page_until

pytestmark = pytest.mark.e2e

VIDEO = "document.querySelector('[data-player-video]')"
FRAMES = f"{VIDEO}.getVideoPlaybackQuality().totalVideoFrames"
WIDTH = f"{VIDEO}.videoWidth"


async def frames_keep_coming(page: Page, frames: int = 10) -> None:
    """The player shows a picture and decodes at least ``frames`` more frames."""
    await expect(page.locator("[data-player-badge]")).to_have_text("Live")
    await page_until(page, f"{WIDTH} > 0", seconds=15)
    decoded = await page.evaluate(FRAMES)
    await page_until(page, f"{FRAMES} > {decoded + frames}", seconds=10)


async def test_the_session_page_plays_the_live_panel(browser: Browser, server: Server) -> None:
    start_synthetic_panel(server.app[MEDIA], LIVE_PANEL_CODE, dt.datetime.now(dt.UTC))
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(f"{server.url}/sessions/{LIVE_PANEL_CODE}")
    await frames_keep_coming(page)
    assert await page.evaluate(WIDTH) == 640
    assert server.app[MEDIA].viewer_count(StreamKey.panel(LIVE_PANEL_CODE)) == 1
    await expect(page.locator("[data-player-viewers]")).to_have_text("1 watching")

    engine = server.app[MEDIA]
    publication = engine.live(StreamKey.panel(LIVE_PANEL_CODE))
    assert publication is not None
    await engine.unpublish(publication, dropped=True)
    await expect(page.locator("[data-player-badge]")).to_have_text("Paused")
    await expect(page.locator("[data-player-message]")).to_contain_text("resumes here by itself")

    start_synthetic_panel(engine, LIVE_PANEL_CODE, dt.datetime.now(dt.UTC))
    await expect(page.locator("[data-player-badge]")).to_have_text("Live")
    decoded = await page.evaluate(FRAMES)
    await page_until(page, f"{FRAMES} > {decoded + 10}", seconds=10)
    assert errors == []
    await page.close()


async def test_the_programme_shows_which_live_session_is_streaming(
    browser: Browser, server: Server
) -> None:
    page = await browser.new_page()
    await page.goto(f"{server.url}/")
    note = page.locator(f'[data-live-session="{LIVE_PANEL_CODE}"] [data-stream-note]')
    await expect(note).to_be_hidden()
    start_synthetic_panel(server.app[MEDIA], LIVE_PANEL_CODE, dt.datetime.now(dt.UTC))
    await expect(note).to_have_text("· streaming")
    watcher = await browser.new_page()
    await watcher.goto(f"{server.url}/sessions/{LIVE_PANEL_CODE}")
    await expect(note).to_have_text("· streaming, 1 watching")
    await watcher.close()
    publication = server.app[MEDIA].live(StreamKey.panel(LIVE_PANEL_CODE))
    assert publication is not None
    await server.app[MEDIA].unpublish(publication, dropped=True)
    await expect(note).to_have_text("· stream paused")
    await page.close()


async def test_a_programme_running_late_still_goes_live_on_an_ended_sessions_page(
    browser: Browser, server: Server
) -> None:
    page = await browser.new_page()
    await page.goto(f"{server.url}/sessions/opening")  # ended by the schedule
    ended = page.locator("[data-session-replays]")
    await expect(ended).to_contain_text("This session has ended.")
    await expect(page.locator("[data-player]")).to_be_hidden()

    start_synthetic_panel(server.app[MEDIA], "opening", dt.datetime.now(dt.UTC))
    await expect(page.locator("[data-player]")).to_be_visible()
    await expect(ended).to_be_hidden()
    await frames_keep_coming(page)
    await page.close()


async def test_an_upcoming_session_that_streams_says_live_in_its_header(
    browser: Browser, server: Server
) -> None:
    code = "talk-open-data"  # starts over an hour after the demo panel
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.clock.install()
    await page.goto(f"{server.url}/sessions/{code}")
    header = page.locator(".session-header [data-state-badge]")
    await expect(header).to_have_text("Upcoming")

    engine = server.app[MEDIA]
    start_synthetic_panel(engine, code, dt.datetime.now(dt.UTC))
    await expect(page.locator("[data-player-badge]")).to_have_text("Live")
    await expect(header).to_have_text("Live now")
    await page.clock.fast_forward(31_000)  # past the schedule check that runs every 30 s
    await expect(header).to_have_text("Live now")
    await page.reload()
    await expect(header).to_have_text("Live now")
    async with aiohttp.ClientSession() as http, http.get(f"{server.url}/sessions/{code}") as served:
        assert "data-state-badge>Live now<" in await served.text()

    publication = engine.live(StreamKey.panel(code))
    assert publication is not None
    await engine.unpublish(publication)
    await expect(page.locator("[data-player-badge]")).to_have_text("Offline")
    await expect(header).to_have_text("Upcoming")
    assert errors == []
    await page.close()

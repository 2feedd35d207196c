"""Chromium plays the live panel over LL-HLS through the vendored hls.js: when asked to,
when WebRTC cannot connect, and when the moderators switch the session to broadcast mode."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.async_api import Page, Route, expect

from server.keys import MEDIA
from server.media.stream_key import StreamKey
from server.media.synthetic import start_synthetic_panel
from sessions.demo import LIVE_PANEL_CODE
from tests.e2e.conftest import Pages, Server, page_until
from tests.e2e.test_archive_browser import open_console, until
from tests.e2e.test_stream_browser import frames_keep_coming

pytestmark = pytest.mark.e2e

PLAYER = "document.querySelector('[data-player]')"
VIDEO = "document.querySelector('[data-player-video]')"
TIME = f"{VIDEO}.currentTime"


async def plays_hls(page: Page) -> None:
    """The player is on HLS, shows a picture, and its playback time keeps advancing."""
    await page_until(page, f"{PLAYER}.dataset.transport === 'hls'", seconds=20)
    await expect(page.locator("[data-player-badge]")).to_have_text("Live", timeout=20_000)
    await expect(page.locator("[data-player-transport]")).to_have_text("HLS")
    await page_until(page, f"{VIDEO}.videoWidth > 0 && {TIME} > 0", seconds=20)
    started = await page.evaluate(TIME)
    await page_until(page, f"{TIME} > {started + 2}", seconds=10)
    assert await page.evaluate(f"{VIDEO}.videoWidth") == 640


def hls_requests(page: Page) -> list[str]:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    return requested


async def test_the_page_plays_hls_when_asked(pages: Pages, server: Server) -> None:
    start_synthetic_panel(server.app[MEDIA], LIVE_PANEL_CODE, dt.datetime.now(dt.UTC))
    page = await pages.open()
    requested = hls_requests(page)
    await page.goto(f"{server.url}/sessions/{LIVE_PANEL_CODE}?player=hls")
    await plays_hls(page)
    assert any(url.endswith("/static/vendor/hls.js/hls.min.mjs") for url in requested)
    assert any(f"/hls/{LIVE_PANEL_CODE}/index.m3u8" in url for url in requested)
    assert any(url.endswith(".m4s") for url in requested), "parts or segments were fetched"
    assert server.app[MEDIA].viewer_count(StreamKey.panel(LIVE_PANEL_CODE)) == 0, "no WebRTC"
    assert pages.errors == []


async def test_the_page_turns_to_hls_when_webrtc_cannot_connect(
    pages: Pages, server: Server
) -> None:
    start_synthetic_panel(server.app[MEDIA], LIVE_PANEL_CODE, dt.datetime.now(dt.UTC))
    page = await pages.open()
    refused: list[str] = []

    async def unreachable(route: Route) -> None:
        refused.append(route.request.url)
        await route.abort("connectionrefused")

    await page.route("**/whep/**", unreachable)
    await page.goto(f"{server.url}/sessions/{LIVE_PANEL_CODE}")
    await plays_hls(page)
    assert len(refused) == 2, "two WebRTC offers went unanswered before HLS took over"
    # The aborted offers are the only console errors.
    assert all("ERR_CONNECTION_REFUSED" in error for error in pages.errors), pages.errors


async def test_broadcast_mode_moves_open_pages_to_hls_and_back(
    pages: Pages, server: Server
) -> None:
    app = server.app
    start_synthetic_panel(app[MEDIA], LIVE_PANEL_CODE, dt.datetime.now(dt.UTC))
    page = await pages.open()
    await page.goto(f"{server.url}/sessions/{LIVE_PANEL_CODE}")
    await frames_keep_coming(page)
    assert await page.evaluate(f"{PLAYER}.dataset.transport") == "webrtc"
    key = StreamKey.panel(LIVE_PANEL_CODE)
    assert app[MEDIA].viewer_count(key) == 1

    console = await pages.open()
    await open_console(console, server)
    # the console's preview is a WebRTC viewer of its own (moderators watch what goes out)
    await until(lambda: app[MEDIA].viewer_count(key) == 2, 10, "the console's preview")
    switch = console.get_by_role("switch", name="Broadcast mode")
    await expect(switch).to_be_enabled()
    await expect(switch).not_to_be_checked()
    await switch.check()
    await expect(console.locator("[data-stream-console-status]")).to_contain_text("HLS")
    await plays_hls(page)
    # The page hangs up its WebRTC viewer (WHEP DELETE) as it turns to HLS.
    await until(lambda: app[MEDIA].viewer_count(key) == 1, 10, "the WebRTC viewer hung up")

    late = await pages.open()
    await late.goto(f"{server.url}/sessions/{LIVE_PANEL_CODE}")
    assert await late.locator("[data-player]").get_attribute("data-mode") == "broadcast"
    await plays_hls(late)

    await switch.uncheck()
    await page_until(page, f"{PLAYER}.dataset.transport === 'webrtc'", seconds=10)
    await frames_keep_coming(page)
    assert pages.errors == []


async def test_a_stream_hls_cannot_carry_is_watched_over_webrtc(
    pages: Pages, server: Server
) -> None:
    """The playlist answers 409 hls.unsupported_codec: the page does not ask again and
    again, it says so and plays over WebRTC, even where HLS was asked for."""
    start_synthetic_panel(server.app[MEDIA], LIVE_PANEL_CODE, dt.datetime.now(dt.UTC))
    page = await pages.open()
    playlists: list[str] = []

    async def unsupported(route: Route) -> None:
        playlists.append(route.request.url)
        await route.fulfill(
            status=409,
            content_type="application/json",
            body='{"error": {"code": "hls.unsupported_codec", "message": "no"}}',
        )

    await page.route("**/hls/**/index.m3u8*", unsupported)
    await page.goto(f"{server.url}/sessions/{LIVE_PANEL_CODE}?player=hls")
    await page_until(page, f"{PLAYER}.dataset.transport === 'webrtc'", seconds=15)
    await frames_keep_coming(page)
    await expect(page.locator("[data-player-transport]")).to_have_text("WebRTC")
    assert len(playlists) == 1, "a 409 is not retried"
    assert server.app[MEDIA].viewer_count(StreamKey.panel(LIVE_PANEL_CODE)) == 1
    # The refused playlist is the only console error.
    assert all("409" in error for error in pages.errors), pages.errors

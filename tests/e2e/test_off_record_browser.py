"""Off the record in real Chromium (issue 15, point 2): the moderator presses "o" in the
console, a viewer's player shows the slate at once and its picture stops; the moderator
puts the session back on the record and the player resumes by itself."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from playwright.async_api import expect

from server.keys import MEDIA, QA
from server.media.synthetic import start_synthetic_panel
from tests.e2e.conftest import Pages, Server, page_until
from tests.e2e.test_archive_browser import CODE, open_console

pytestmark = pytest.mark.e2e

VIDEO = "document.querySelector('[data-player-video]')"
FRAMES = f"{VIDEO}.getVideoPlaybackQuality().totalVideoFrames"
"""Frames the player decoded (a live stream's currentTime runs on without any)."""


async def test_o_takes_the_session_off_the_record_and_the_player_resumes_by_itself(
    pages: Pages, server: Server
) -> None:
    start_synthetic_panel(server.app[MEDIA], CODE, dt.datetime.now(dt.UTC))
    viewer = await pages.open()
    await viewer.goto(f"{server.url}/sessions/{CODE}?player=webrtc")
    await page_until(viewer, f"{VIDEO}.currentTime > 0.5", seconds=20)
    slate = viewer.locator("[data-player-slate]")
    await expect(slate).to_be_hidden()

    console = await pages.open()
    await open_console(console, server)
    panel = console.locator("#stream-console")
    await expect(panel.locator("[data-consent-console]")).to_contain_text("Streamed and recorded.")
    await expect(panel.get_by_role("button", name="Go off the record")).to_be_visible()
    await console.locator("body").press("o")
    await expect(panel.locator("[data-off-record-banner]")).to_contain_text("Off the record")
    assert server.app[QA].delivery.is_off_record(CODE)

    await expect(slate).to_be_visible(timeout=5_000)
    await expect(slate).to_contain_text("This part is off the record")
    await asyncio.sleep(0.5)  # frames already on the way when it went off the record
    frozen = await viewer.evaluate(FRAMES)
    await asyncio.sleep(1.5)  # media time: 30 frames a second would have come meanwhile
    assert await viewer.evaluate(FRAMES) == frozen, "the player decoded frames off the record"

    await panel.get_by_role("button", name="Back on the record").click()
    await expect(slate).to_be_hidden(timeout=5_000)
    await page_until(viewer, f"{FRAMES} > {frozen} + 30", seconds=15)
    [segment] = server.app[QA].delivery.off_record_segments(CODE)
    assert segment.ended_at is not None and segment.started_by_name == segment.ended_by_name
    assert pages.errors == []

"""Real Chromium: a replay page offers one set of play controls, the browser's own, and
they work from the keyboard."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.async_api import expect

from server.keys import MEDIA, RECORDER
from server.media.stream_key import StreamKey
from server.media.synthetic import start_synthetic_panel
from sessions.demo import LIVE_PANEL_CODE
from tests.e2e.conftest import Pages, Server, page_until
from tests.e2e.test_archive_browser import published, until

pytestmark = pytest.mark.e2e

CODE = LIVE_PANEL_CODE
VIDEO = "document.querySelector('[data-replay-video]')"


async def recorded_panel(server: Server, seconds: float) -> str:
    """Record ``seconds`` of the synthetic panel and return the published recording's id."""
    engine, recorder = server.app[MEDIA], server.app[RECORDER]
    start_synthetic_panel(engine, CODE, dt.datetime.now(dt.UTC))
    active = await until(lambda: recorder.active.get(CODE), 15, "the panel is recorded")
    await until(lambda: active.recorder.state.duration_seconds >= seconds, 10, "long enough")
    publication = engine.live(StreamKey.panel(CODE))
    assert publication is not None
    await engine.unpublish(publication)
    await published(server, active.recording_id, 20)
    recording_id: str = active.recording_id
    return recording_id


async def test_the_replay_page_has_one_set_of_play_controls(server: Server, pages: Pages) -> None:
    recording_id = await recorded_panel(server, 3)
    page = await pages.open()
    await page.goto(f"{server.url}/archive/{recording_id}")
    video = page.locator("[data-replay-video]")
    await expect(video).to_have_attribute("aria-label", re.compile("^Replay: "))
    assert await video.evaluate("video => video.controls") is True
    play_buttons = page.get_by_role("button", name=re.compile(r"\b(play|pause)\b", re.IGNORECASE))
    await expect(play_buttons).to_have_count(0)
    await expect(page.get_by_text(re.compile(r"^\d+:\d\d / \d+:\d\d$"))).to_have_count(0)

    # The browser's controls answer the keyboard on the focused video.
    await page.evaluate(f"{VIDEO}.muted = true")
    await video.focus()
    assert await page.evaluate(f"document.activeElement === {VIDEO}")
    await page.keyboard.press("Space")
    await page_until(page, f"{VIDEO}.currentTime > 0.3 && !{VIDEO}.paused", 10)
    await page.keyboard.press("Space")
    await page_until(page, f"{VIDEO}.paused", 5)
    assert pages.errors == []

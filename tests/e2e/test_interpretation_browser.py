"""Real Chromium with fake devices (issue 14, point 1): an interpreter publishes on fr, a
viewer picks fr and receives that channel (getStats shows audio bytes on it); a hand-over
between two booth tabs mutes the one who is no longer on air while the viewer keeps
hearing the channel on the same connection."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from playwright.async_api import Page, expect

from server.keys import LOGIN_LINKS, MEDIA, RECORDER, STORE
from server.media.stream_key import StreamKey
from server.media.synthetic import start_synthetic_panel
from sessions.demo import LIVE_PANEL_CODE
from sessions.roles import Role, language_scope
from tests.e2e.conftest import Pages, Server, page_until
from tests.e2e.test_archive_browser import published, until
from tests.e2e.test_qa_browser import sign_in_moderator

pytestmark = pytest.mark.e2e

CODE = LIVE_PANEL_CODE
KEEP_PEERS = """(() => {
  const Original = window.RTCPeerConnection;
  window.__peers = [];
  window.RTCPeerConnection = class extends Original {
    constructor(...args) { super(...args); window.__peers.push(this); }
  };
  const open = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  window.__microphones = [];
  navigator.mediaDevices.getUserMedia = async (...args) => {
    const stream = await open(...args);
    window.__microphones.push(...stream.getAudioTracks());
    return stream;
  };
})();"""
MICROPHONE_ON = "window.__microphones.length > 0 && window.__microphones.every((t) => t.enabled)"
MICROPHONE_OFF = "window.__microphones.length > 0 && window.__microphones.every((t) => !t.enabled)"
CHANNEL_BYTES = """async () => {
  let total = 0;
  for (const peer of window.__peers) {
    const kinds = peer.getTransceivers().map((t) => t.receiver.track?.kind);
    const audioOnly = kinds.length === 1 && kinds[0] === "audio";
    if (!audioOnly || peer.connectionState !== "connected") continue;
    for (const stat of (await peer.getStats()).values()) {
      if (stat.type === "inbound-rtp" && stat.kind === "audio") total += stat.bytesReceived;
    }
  }
  window.__channelBytes = total;
  return total;
}"""


async def enter_booth(page: Page, server: Server, name: str) -> None:
    app = server.app
    await page.add_init_script(KEEP_PEERS)
    token, _ = await app[LOGIN_LINKS].issue(
        app[STORE],
        Role.INTERPRETER,
        language_scope(CODE, "fr"),
        dt.datetime.now(dt.UTC),
        dt.timedelta(hours=1),
    )
    await page.goto(f"{server.url}/login/{token}")
    await page.get_by_label("Display name").fill(name)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{server.url}/sessions/{CODE}/booth/fr")
    await page.get_by_role("button", name="Enter the booth").click()
    await expect(page.locator("[data-booth-link]")).to_have_attribute(
        "data-booth-link", "connected"
    )


async def bytes_beyond(page: Page, floor: int, failure: str, seconds: float = 10) -> int:
    """Audio bytes the page's channel connection received, once they pass ``floor``."""
    deadline = time.monotonic() + seconds
    while True:
        total: int = await page.evaluate(CHANNEL_BYTES)
        if total > floor:
            return total
        assert time.monotonic() < deadline, f"{failure} ({total} bytes)"
        await page.wait_for_timeout(100)


async def test_a_viewer_hears_the_channel_and_a_hand_over(server: Server, pages: Pages) -> None:
    app = server.app
    moderator = await pages.open()
    await sign_in_moderator(moderator, server)
    languages = moderator.get_by_label("Languages (codes such as fr, de, ru)")
    await languages.fill("FR")
    await moderator.get_by_role("button", name="Save languages").click()
    channels = moderator.locator("[data-interpretation-channels]")
    await expect(channels).to_contain_text("French: no interpreter yet")
    # Live from here on: the recording holds the languages declared when it starts.
    start_synthetic_panel(app[MEDIA], CODE, dt.datetime.now(dt.UTC))

    anne, bruno = await pages.open(), await pages.open()
    await enter_booth(anne, server, "Anne")
    await expect(anne.locator("[data-booth-air]")).to_have_attribute("data-booth-air", "me")
    await enter_booth(bruno, server, "Bruno")
    await expect(bruno.locator("[data-booth-air]")).to_have_attribute("data-booth-air", "other")
    await expect(channels).to_contain_text("French: an interpreter is on air")
    assert await bruno.evaluate(
        "document.querySelector('[data-booth-floor]').srcObject !== null"
    ), "the booth hears the floor"

    viewer = await pages.open()
    await viewer.add_init_script(KEEP_PEERS)
    await viewer.goto(f"{server.url}/sessions/{CODE}")
    await expect(viewer.locator("[data-player-badge]")).to_have_text("Live", timeout=15_000)
    choice = viewer.locator("[data-channel-choice]")
    await expect(choice.locator("option[value=fr]")).to_have_text("French")
    await choice.select_option("fr")
    before = await bytes_beyond(viewer, 2000, "no audio arrived on the fr channel")
    await page_until(anne, MICROPHONE_ON, 5)
    await page_until(bruno, MICROPHONE_OFF, 5)  # the one not on air is muted

    await bruno.get_by_role("button", name="Take over").click()
    await expect(bruno.locator("[data-booth-air]")).to_have_attribute("data-booth-air", "me")
    await expect(anne.locator("[data-booth-air]")).to_have_attribute("data-booth-air", "other")
    await page_until(bruno, MICROPHONE_ON, 5)
    await page_until(anne, MICROPHONE_OFF, 5)
    peers = await viewer.evaluate("window.__peers.length")
    await bytes_beyond(viewer, before + 2000, "the channel stopped after the hand-over")
    assert await viewer.evaluate("window.__peers.length") == peers, "no new connection"

    # The replay offers the channel: its own audio file, played in step with the video.
    # (The viewer leaves the live page first: its player's DELETE may race the end of the
    # stream and meet a 404 the browser logs.)
    await viewer.goto(f"{server.url}/")
    recorder = app[RECORDER]
    active = await until(lambda: recorder.active.get(CODE), 10, "the panel is recorded")
    await until(lambda: active.recorder.state.duration_seconds >= 3, 10, "long enough")
    panel = app[MEDIA].live(StreamKey.panel(CODE))
    assert panel is not None
    await app[MEDIA].unpublish(panel)
    await published(server, active.recording_id, 20)
    await viewer.goto(f"{server.url}/archive/{active.recording_id}")
    language = viewer.locator("[data-replay-language]")
    await expect(language.locator("option[value=fr]")).to_have_text("French")
    await language.select_option("fr")
    await viewer.locator("[data-replay-video]").evaluate(
        "video => { video.muted = true; video.play(); }"
    )
    await page_until(
        viewer,
        "document.querySelector('[data-replay-channel]').currentTime > 0.5"
        " && document.querySelector('[data-replay-video]').volume === 0",
        10,
    )
    assert pages.errors == []

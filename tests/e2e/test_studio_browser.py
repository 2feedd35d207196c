"""A speaker's browser publishes its (fake) camera from the studio; another tab watches."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from server.keys import LOGIN_LINKS, MEDIA, STORE
from server.media.stream_key import StreamKey
from sessions.demo import LIVE_PANEL_CODE
from sessions.roles import Role
from tests.e2e.conftest import Server
from tests.e2e.test_stream_browser import frames_keep_coming

pytestmark = pytest.mark.e2e


async def studio_signed_in(
    context: BrowserContext, base_url: str, token: str, code: str, errors: list[str]
) -> Page:
    """A speaker's sign-in link followed to the studio, its camera ready; page errors go
    into `errors`."""
    studio = await context.new_page()
    studio.on("pageerror", lambda error: errors.append(str(error)))
    await studio.goto(f"{base_url}/login/{token}")
    await studio.get_by_label("Display name").fill("Lena at the desk")
    await studio.get_by_role("button", name="Sign in").click()
    await expect(studio).to_have_url(f"{base_url}/sessions/{code}/studio")
    await expect(studio.locator("[data-studio-status]")).to_have_text(
        "Camera and microphone ready."
    )
    return studio


async def test_publish_from_the_studio_and_watch_on_the_session_page(
    browser: Browser, server: Server
) -> None:
    app = server.app
    token, _ = await app[LOGIN_LINKS].issue(
        app[STORE], Role.SPEAKER, LIVE_PANEL_CODE, dt.datetime.now(dt.UTC), dt.timedelta(hours=1)
    )
    speaker = await browser.new_context()
    errors: list[str] = []
    studio = await studio_signed_in(speaker, server.url, token, LIVE_PANEL_CODE, errors)
    camera = studio.get_by_label("Camera", exact=True)
    await expect(camera.locator("option").first).to_be_attached()
    await studio.get_by_role("button", name="Go live").click()
    await expect(studio.locator("[data-studio-badge]")).to_have_text("Live")
    assert app[MEDIA].live(StreamKey.panel(LIVE_PANEL_CODE)) is not None

    audience = await browser.new_context()
    viewer = await audience.new_page()
    viewer.on("pageerror", lambda error: errors.append(str(error)))
    await viewer.goto(f"{server.url}/sessions/{LIVE_PANEL_CODE}")
    await frames_keep_coming(viewer)

    await studio.get_by_role("button", name="Stop").click()
    await expect(studio.locator("[data-studio-badge]")).to_have_text("Offline")
    await expect(viewer.locator("[data-player-badge]")).to_have_text("Offline")
    await expect(viewer.locator("[data-player-message]")).to_have_text("The stream has ended.")
    assert app[MEDIA].live(StreamKey.panel(LIVE_PANEL_CODE)) is None
    assert errors == []
    await speaker.close()
    await audience.close()

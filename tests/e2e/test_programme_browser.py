"""A real Chromium opens the programme and a session page of a running server."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, expect

from sessions.demo import LIVE_PANEL_CODE
from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e


async def test_programme_to_live_session_in_the_viewers_zone(
    browser: Browser, server: Server
) -> None:
    base_url = server.url
    context = await browser.new_context(timezone_id="America/New_York", locale="en-US")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    await page.goto(base_url + "/")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Hybrid Futures Vienna 2026")
    live = page.locator(".now-item")
    await expect(live).to_have_count(1)
    await expect(live).to_contain_text("Cities after the heat")

    first_time = page.locator(f'article[data-session] a[href="/sessions/{LIVE_PANEL_CODE}"]')
    await expect(first_time).to_have_count(1)
    zone_label = page.locator("[data-zone-label]")
    await expect(zone_label).to_contain_text("America/New_York")
    card_time = page.locator("article.state-live time").first
    start = dt.datetime.fromisoformat(await card_time.get_attribute("datetime") or "")
    new_york = start.astimezone(ZoneInfo("America/New_York"))
    await expect(card_time).to_contain_text(f"{new_york:%I:%M}".lstrip("0"))

    await page.keyboard.press("Tab")
    await expect(page.locator(".skip-link")).to_be_focused()

    await live.get_by_role("link").click()
    await expect(page).to_have_url(f"{base_url}/sessions/{LIVE_PANEL_CODE}")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Cities after the heat: adapting public space"
    )
    await expect(page.locator(".session-header [data-state-badge]")).to_have_text("Live now")
    await expect(page.get_by_role("heading", name="Speakers")).to_be_visible()

    await page.get_by_label("Display name").fill("Remote Ruth")
    await page.get_by_role("button", name="Join").click()
    await expect(page.locator(".identity")).to_contain_text("Remote Ruth")
    assert errors == []
    await context.close()

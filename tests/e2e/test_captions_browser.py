"""Real Chromium (issue 14, point 3): a captioner writes a line in one tab and a viewer of
the session's player reads it over the video within a second; the captioner corrects their
last line and the viewer's caption changes in place."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.async_api import Page, expect

from server.keys import LOGIN_LINKS, STORE
from sessions.demo import LIVE_PANEL_CODE
from sessions.roles import Role, language_scope
from tests.e2e.conftest import Pages, Server

pytestmark = pytest.mark.e2e

CODE = LIVE_PANEL_CODE
WATCH_TEXT = """() => {
  window.seen = {};
  new MutationObserver(() => {
    for (const line of document.querySelectorAll("[data-captions-lines] p")) {
      window.seen[line.textContent] ??= Date.now();
    }
  }).observe(document.body, { subtree: true, childList: true, characterData: true });
}"""


async def sign_in_captioner(page: Page, server: Server, language: str) -> None:
    app = server.app
    token, _ = await app[LOGIN_LINKS].issue(
        app[STORE],
        Role.CAPTIONER,
        language_scope(CODE, language),
        dt.datetime.now(dt.UTC),
        dt.timedelta(hours=1),
    )
    await page.goto(f"{server.url}/login/{token}")
    await page.get_by_label("Display name").fill("Claire Captioner")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{server.url}/sessions/{CODE}/captions/{language}")
    await expect(page.locator("[data-captioner-connection]")).to_have_attribute(
        "data-state", "live"
    )


async def send(page: Page, text: str) -> int:
    """Type ``text`` and press Enter; when (ms since the epoch) it was sent."""
    line = page.get_by_label("Next line")
    await line.fill(text)
    sent_at: int = await page.evaluate("Date.now()")
    await line.press("Enter")
    await expect(line).to_have_value("")
    return sent_at


async def test_a_line_reaches_the_viewers_player_within_a_second(
    server: Server, pages: Pages
) -> None:
    captioner = await pages.open()
    await sign_in_captioner(captioner, server, "fr")
    viewer = await pages.open()
    await viewer.goto(f"{server.url}/sessions/{CODE}")
    await send(captioner, "Bonjour à toutes et à tous.")
    toggle = viewer.locator("[data-captions-toggle]")
    await expect(toggle).to_have_text("Captions")  # captions exist: the player offers them
    await toggle.click()
    await expect(toggle).to_have_attribute("aria-pressed", "true")
    await expect(viewer.locator("[data-captions-language]")).to_have_value("fr")
    lines = viewer.locator("[data-captions-lines]")
    await expect(lines).to_have_attribute("aria-live", "polite")
    await expect(lines).to_have_attribute("lang", "fr")
    await viewer.evaluate(WATCH_TEXT)

    text = "La chaleur en ville tue plus que les inondations."
    sent_at = await send(captioner, text)
    await expect(lines.locator("p", has_text=text)).to_be_visible()
    shown_at = await viewer.evaluate(f"window.seen[{text!r}]")
    print(f"caption latency: {shown_at - sent_at} ms")
    assert shown_at - sent_at < 1000, f"the line took {shown_at - sent_at} ms"
    await expect(captioner.locator("[data-captioner-preview]")).to_contain_text(text)

    # Up arrow on the empty line brings the last line back to correct it.
    field = captioner.get_by_label("Next line")
    await field.press("ArrowUp")
    await expect(captioner.get_by_label("Correct your last line")).to_have_value(text)
    await captioner.get_by_label("Correct your last line").fill(
        "La chaleur en ville tue plus que les crues."
    )
    await captioner.get_by_label("Correct your last line").press("Enter")
    await expect(lines).to_contain_text("La chaleur en ville tue plus que les crues.")
    await expect(lines).not_to_contain_text("inondations")
    await expect(captioner.locator("[data-captioner-sent]")).to_contain_text("(corrected)")

    # The viewer's choices are remembered: bigger text, at the top, after a reload.
    await viewer.locator("[data-captions-size]").select_option("l")
    await viewer.get_by_role("button", name="Captions at the top").click()
    await viewer.reload()
    await expect(viewer.locator("[data-captions-lines]")).to_have_class(
        "captions-overlay captions-l captions-top"
    )
    assert pages.errors == []

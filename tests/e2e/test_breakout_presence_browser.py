"""Real Chromium (issue 12, point 2): someone who took part and closed their page shows as
offline in the moderator console, and assigning deals only the people who are there."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from server.keys import PRESENCE
from tests.e2e.conftest import Pages, Server
from tests.e2e.test_qa_browser import join, sign_in_moderator

pytestmark = pytest.mark.e2e


async def test_a_closed_page_shows_offline_and_is_not_dealt_a_seat(
    server: Server, pages: Pages
) -> None:
    server.app[PRESENCE].away_after = 0.5
    moderator = await pages.open()
    await sign_in_moderator(moderator, server)
    panel = moderator.locator("[data-bo-console]")
    await panel.get_by_role("button", name="Create the rooms").click()
    await expect(panel.locator("[data-bo-status]")).to_contain_text("created")

    for name in ("Ann Lindqvist", "Bo Okafor"):
        page = await pages.open()
        await join(page, server.url, name)
        card = page.locator("[data-breakouts-card]")
        await card.get_by_role("button", name="Take part").click()
        await expect(card.locator("[data-breakouts-body]")).to_contain_text("You are taking part.")
    await expect(panel.locator("[data-bo-pool]")).to_have_text(
        "2 people taking part · 2 not in a room"
    )

    await page.close()  # Bo closes the tab
    await expect(panel.locator("[data-bo-pool]")).to_have_text(
        "1 person online taking part · 1 not in a room · 1 offline (their page is closed)"
    )
    bo = panel.locator('[data-person][data-online="false"]')
    await expect(bo).to_contain_text("Bo Okafor")
    await expect(bo).to_contain_text("offline")

    await panel.get_by_role("button", name="Assign automatically").click()
    await expect(panel.locator("[data-bo-pool]")).to_have_text(
        "1 person online taking part · everyone online has a room"
        " · 1 offline (their page is closed)"
    )
    rooms = panel.locator("[data-room-card^='room-']")
    await expect(rooms.filter(has_text="Ann Lindqvist")).to_have_count(1)
    await expect(rooms.filter(has_text="Bo Okafor")).to_have_count(0)

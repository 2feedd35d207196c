"""Real Chromium with fake cameras: a moderator plans a break-out room from the console, three
participants take part from the session page and land in the room when it opens, each one
decodes the other two's cameras, chat travels between them, and closing with a short countdown
sends everyone back to the session page."""

from __future__ import annotations

import asyncio
import re

import pytest
from playwright.async_api import Page, expect

from sessions.demo import LIVE_PANEL_CODE
from tests.e2e.conftest import Pages, Server, page_until
from tests.e2e.test_qa_browser import join, sign_in_moderator

pytestmark = pytest.mark.e2e

CODE = LIVE_PANEL_CODE
ROOM = f"/sessions/{CODE}/breakouts/room-1"
NAMES = ("Ann Lindqvist", "Bo Okafor", "Cy Tanaka")
GRACE_SECONDS = 3


TILES = """JSON.stringify([...document.querySelectorAll('[data-tile]')].map((tile) => ({
  id: tile.dataset.tile, connection: tile.dataset.connection, classes: tile.className,
  width: tile.querySelector('video').videoWidth,
})))"""


async def decodes(page: Page, participant_id: str, frames: int = 10) -> None:
    """The tile of ``participant_id`` shows a picture and keeps decoding new frames."""
    video = f"document.querySelector('[data-tile=\"{participant_id}\"] video')"
    total = f"{video}.getVideoPlaybackQuality().totalVideoFrames"
    try:
        await page_until(page, f"{video} !== null && {video}.videoWidth > 0", seconds=20)
        decoded = await page.evaluate(total)
        await page_until(page, f"{total} > {decoded + frames}", seconds=10)
    except AssertionError as error:
        raise AssertionError(f"{error}; tiles: {await page.evaluate(TILES)}") from None


async def test_three_people_meet_in_a_break_out_room_and_come_back(
    server: Server, pages: Pages
) -> None:
    moderator = await pages.open()
    await sign_in_moderator(moderator, server)
    panel = moderator.locator("[data-bo-console]")
    await expect(panel.get_by_label("Name of room 2")).to_be_visible()
    await panel.get_by_role("button", name="Remove room 2").click()
    await panel.get_by_label("Name of room 1").fill("Heat and cities")
    await panel.get_by_label("Topic of room 1").fill("Cooling streets without air conditioning")
    await panel.get_by_role("button", name="Create the rooms").click()
    await expect(panel.locator("[data-bo-status]")).to_have_text(
        "1 room created. Participants can now take part."
    )

    people: list[Page] = []
    for name in NAMES:
        page = await pages.open()
        await join(page, server.url, name)
        card = page.locator("[data-breakouts-card]")
        await expect(card).to_contain_text("Heat and cities")
        await card.get_by_role("button", name="Take part").click()
        await expect(card.locator("[data-breakouts-body]")).to_contain_text("You are taking part.")
        people.append(page)

    await expect(panel.locator("[data-bo-pool]")).to_have_text(
        "3 people taking part · 3 not in a room"
    )
    await panel.get_by_role("button", name="Assign automatically").click()
    room_card = panel.locator('[data-room-card="room-1"]')
    for name in NAMES:
        await expect(room_card).to_contain_text(name)
    await panel.get_by_label("Duration in minutes").fill("10")
    await panel.get_by_role("button", name="Open the rooms").click()
    await expect(panel.locator("[data-bo-phase]")).to_have_text("Open")

    ids: list[str] = []
    for page in people:
        await expect(page).to_have_url(f"{server.url}{ROOM}")
        await expect(page.get_by_role("heading", name="Heat and cities")).to_be_visible()
        me = await page.locator("[data-breakout-room]").get_attribute("data-me")
        assert me
        ids.append(me)
    await asyncio.gather(
        *(
            decodes(page, other)
            for page, me in zip(people, ids, strict=True)
            for other in ids
            if other != me
        )
    )
    countdown = people[0].locator("[data-breakout-countdown]")
    await expect(countdown).to_have_text(re.compile(r"^(10:00|9:[0-5]\d)$"))

    ann, bo, cy = people
    await ann.get_by_label("Message to everyone in this room").fill("Shade maps first?")
    await ann.get_by_label("Message to everyone in this room").press("Enter")
    for page in people:
        message = page.locator("[data-breakout-chat] li", has_text="Shade maps first?")
        await expect(message).to_contain_text(NAMES[0])
    await expect(ann.get_by_label("Message to everyone in this room")).to_have_value("")

    await ann.get_by_role("button", name="Mute").click()
    await expect(ann.get_by_role("button", name="Unmute")).to_be_visible()
    await expect(bo.locator(f'[data-tile="{ids[0]}"] .badge-muted')).to_have_text("Muted")

    await moderator.get_by_label("Message", exact=True).fill("Two minutes to wrap up, please.")
    await panel.get_by_role("button", name="Send to all rooms").click()
    for page in people:
        await expect(page.locator("[data-breakout-banners]")).to_contain_text(
            "Two minutes to wrap up, please."
        )

    await cy.get_by_role("button", name="Ask for help").click()
    help_requests = panel.locator("[data-bo-help]")
    await expect(help_requests).to_contain_text(f"{NAMES[2]} in Heat and cities asks for help.")
    await expect(bo.get_by_role("button", name="Help is on the way")).to_be_disabled()
    await help_requests.get_by_role("button", name="Done: Heat and cities has been helped").click()
    await expect(help_requests).to_be_hidden()
    await expect(bo.get_by_role("button", name="Ask for help")).to_be_enabled()

    await panel.get_by_label("Countdown before closing, in seconds").fill(str(GRACE_SECONDS))
    await panel.get_by_role("button", name="Close the rooms").click()
    await asyncio.gather(
        *(
            expect(page.locator("[data-breakout-clock-label]")).to_have_text(
                "Back to the main session in"
            )
            for page in people
        )
    )
    await expect(ann.locator("[data-breakout-banners]")).to_contain_text("The rooms are closing.")
    await expect(ann.locator("[data-breakout-countdown]")).to_have_text(
        re.compile(rf"^0:0[0-{GRACE_SECONDS}]$")
    )
    for page in people:
        await expect(page).to_have_url(
            f"{server.url}/sessions/{CODE}", timeout=GRACE_SECONDS * 1000 + 5000
        )
        await expect(page.locator("[data-breakouts-card]")).to_contain_text(
            "The break-out rooms have ended."
        )
    await expect(panel.locator("[data-bo-phase]")).to_have_text("Closed")
    assert pages.errors == []

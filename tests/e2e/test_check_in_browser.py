"""Real Chromium (issue 15, point 3): door staff sign in with their link, and the check-in
page reads an in-person registrant's ticket from the phone's camera (Chromium's fake camera
playing a video of the ticket's QR code), shows who it is, checks them in, and says they
already came when the same ticket is shown again."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import segno
from playwright.async_api import Browser, async_playwright, expect

from server.keys import LOGIN_LINKS, SETTINGS, STORE
from server.registrations.tokens import RegistrationCodes
from sessions.registration_import import read_registrations
from sessions.roles import CONFERENCE_SCOPE, Role
from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS, Pages, Server

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "registrations"
WIDTH, HEIGHT, FRAMES = 640, 480, 10


def qr_video(text: str, path: Path) -> Path:
    """A short Y4M video (what Chromium's fake camera plays, in a loop) of ``text`` as a QR
    code, black on white in the middle of the picture."""
    matrix = segno.make(text, error="m").matrix
    modules = len(matrix)
    scale = min(WIDTH, HEIGHT) * 3 // 4 // modules
    side = modules * scale
    left, top = (WIDTH - side) // 2, (HEIGHT - side) // 2
    luma = bytearray(b"\xeb" * (WIDTH * HEIGHT))
    for y, row in enumerate(matrix):
        line = bytes(0x10 if dark else 0xEB for dark in row for _ in range(scale))
        for dy in range(scale):
            start = (top + y * scale + dy) * WIDTH + left
            luma[start : start + side] = line
    chroma = b"\x80" * (WIDTH * HEIGHT // 2)  # both 4:2:0 planes, no colour
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(FRAMES):
            video.write(b"FRAME\n" + bytes(luma) + chroma)
    return path


@pytest.fixture
async def camera_browser(ticket_video: Path) -> AsyncIterator[Browser]:
    video = ticket_video
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[*CHROMIUM_FLAGS, f"--use-file-for-fake-video-capture={video}"],
            headless=True,
        )
        yield browser
        await browser.close()


@pytest.fixture
async def ticket_video(server: Server, tmp_path: Path) -> Path:
    store = server.app[STORE]
    imported = read_registrations((FIXTURES / "spreadsheet.csv").read_bytes())
    await store.import_registrations(imported.registrations)
    ana = await store.registration("ana.pereira@mne.pt")
    assert ana is not None
    code = RegistrationCodes(server.app[SETTINGS].secret_key).ticket_code(ana.participant_id)
    return qr_video(code, tmp_path / "ticket.y4m")


async def test_door_staff_check_someone_in_from_the_camera(
    server: Server, camera_browser: Browser
) -> None:
    pages = Pages(camera_browser)
    try:
        page = await pages.open()
        app = server.app
        token, _ = await app[LOGIN_LINKS].issue(
            app[STORE],
            Role.DOOR,
            CONFERENCE_SCOPE,
            dt.datetime.now(dt.UTC),
            dt.timedelta(hours=1),
        )
        await page.goto(f"{server.url}/login/{token}")
        await page.get_by_label("Display name").fill("Dana at the door")
        await page.get_by_role("button", name="Sign in").click()
        await expect(page).to_have_url(f"{server.url}/organise/check-in")

        answer = page.locator("[data-check-in-answer]")
        await expect(answer).to_have_attribute("aria-live", "assertive")
        arrival = answer.locator("[data-arrival]")
        await expect(arrival).to_contain_text("Checked in now", timeout=15_000)
        await expect(arrival).to_contain_text("Ana Pereira")
        await expect(arrival).to_contain_text("Permanent Mission of Portugal")
        await expect(arrival).to_contain_text("Portugal")
        await expect(arrival).to_contain_text("Participating State")
        ana = await app[STORE].registration("ana.pereira@mne.pt")
        assert ana is not None and ana.checked_in_at is not None

        # The camera keeps reading: the same ticket shown again is an answer, not an error.
        await expect(answer.locator('[data-arrival][data-already="true"]')).to_contain_text(
            "Already checked in at", timeout=15_000
        )
        again = await app[STORE].registration("ana.pereira@mne.pt")
        assert again is not None and again.checked_in_at == ana.checked_in_at

        # Someone without their ticket: found by name, checked in with one button.
        await page.get_by_label("Name, organisation or country").fill("Sara")
        await page.get_by_label("Name, organisation or country").press("Enter")
        await page.get_by_role("button", name="Check in Sara Cohen").click()
        await expect(answer.locator("[data-arrival]")).to_contain_text("Sara Cohen")
        sara = await app[STORE].registration("sara.cohen@osce.org")
        assert sara is not None and sara.checked_in_at is not None
        assert pages.errors == []
    finally:
        await pages.close()

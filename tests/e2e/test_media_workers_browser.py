"""The studio and the session page in Chromium, with the media on a worker process:
`plenaria serve --media-workers 1` passes the page's WHIP and WHEP exchanges on."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Browser, expect

from tests.e2e.test_stream_browser import frames_keep_coming
from tests.e2e.test_studio_browser import studio_signed_in
from tests.integration.test_media_workers import wait_for_workers
from tests.integration.test_two_processes import wait_for_state
from tests.processes import PLENARIA, SECRET, free_port, plenaria, server_process

pytestmark = pytest.mark.e2e

CODE = "G9JGWY"


async def speaker_link_token(data: Path) -> str:
    process = await asyncio.create_subprocess_exec(
        PLENARIA, "link", "speaker", CODE,
        "--data", str(data), stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PLENARIA_SECRET_KEY": SECRET},
    )  # fmt: skip
    output, _ = await process.communicate()
    assert process.returncode == 0
    link = next(word for word in output.decode().split() if "/login/" in word)
    return link.rsplit("/login/", 1)[1]


async def test_the_studio_publishes_and_the_page_plays_through_a_media_worker(
    browser: Browser, schedules_dir: Path, tmp_path: Path
) -> None:
    source = str(schedules_dir / "pretalx-democon.json")
    assert await plenaria("programme", "import", source, "--data", str(tmp_path)) == 0
    async with (
        server_process(tmp_path, free_port(), "--media-workers", "1") as (front, _),
        aiohttp.ClientSession() as http,
    ):
        await wait_for_workers(http, front, 1)
        token = await speaker_link_token(tmp_path)
        errors: list[str] = []
        studio = await studio_signed_in(await browser.new_context(), front, token, CODE, errors)
        await studio.get_by_role("button", name="Go live").click()
        await expect(studio.locator("[data-studio-badge]")).to_have_text("Live")
        await wait_for_state(http, front, "live")  # the front hears within a heartbeat

        viewer = await (await browser.new_context()).new_page()
        viewer.on("pageerror", lambda error: errors.append(str(error)))
        await viewer.goto(f"{front}/sessions/{CODE}")
        await frames_keep_coming(viewer)

        await studio.get_by_role("button", name="Stop").click()
        await expect(viewer.locator("[data-player-badge]")).not_to_have_text("Live")
        assert errors == []

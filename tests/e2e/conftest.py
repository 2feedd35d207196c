from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    WebSocket,
    async_playwright,
)

from server.app import create_app
from server.keys import STORE
from sessions.demo import demo_programme
from tests.helpers import settings_for

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"Chromium is missing at {CHROMIUM}: apt-get install chromium")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True
        )
        yield browser
        await browser.close()


class Server:
    """A real server on a free port, serving the demo conference as of the test's start."""

    def __init__(self, app: web.Application, url: str) -> None:
        self.app = app
        self.url = url


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    now = dt.datetime.now(dt.UTC)
    app = create_app(settings_for(tmp_path))

    async def load(app: web.Application) -> None:
        await app[STORE].replace_programme(demo_programme(now), now)

    app.on_startup.append(load)
    # Pages may outlive the server in teardown: players keep polling, so don't wait for quiet.
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield Server(app, f"http://127.0.0.1:{runner.addresses[0][1]}")
    await runner.cleanup()


class Pages:
    """Pages in their own browser contexts that record every console error and page error,
    and every frame their sockets send."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.contexts: list[BrowserContext] = []
        self.errors: list[str] = []
        self.sent: list[str] = []

    async def open(self) -> Page:
        context = await self.browser.new_context()
        self.contexts.append(context)
        page = await context.new_page()

        def console(message: ConsoleMessage) -> None:
            if message.type == "error":
                self.errors.append(f"{page.url}: {message.text}")

        def socket(websocket: WebSocket) -> None:
            websocket.on("framesent", self.frame_sent)

        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        page.on("console", console)
        page.on("websocket", socket)
        return page

    def frame_sent(self, frame: str | bytes) -> None:
        self.sent.append(frame if isinstance(frame, str) else frame.decode())

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()


@pytest.fixture
async def pages(browser: Browser) -> AsyncIterator[Pages]:
    opened = Pages(browser)
    yield opened
    await opened.close()


async def page_until(page: Page, expression: str, seconds: float) -> None:
    """Poll a page expression with a deadline (the pages' CSP forbids wait_for_function's
    eval)."""
    deadline = time.monotonic() + seconds
    while not await page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {seconds} s: {expression}"
        await asyncio.sleep(0.1)

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from aiortc import RTCPeerConnection

from server.app import create_app
from server.keys import STORE
from sessions.programme import Programme
from tests.helpers import at, programme, session, settings_for

ClientFactory = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]

NOW = at(11, 10, 30)


def conference() -> Programme:
    return programme(
        session("opening", at(11, 9), minutes=30, title="Opening <script>alert(1)</script>"),
        session(
            "panel",
            at(11, 10),
            title="The live panel",
            abstract="First paragraph.\n\nSecond <b>paragraph</b>.",
            track="Policy",
        ),
        session("side", at(11, 11), room="Salon", title="A side event"),
        session("closing", at(12, 16), title="Closing"),
    )


@pytest.fixture
async def peers() -> AsyncIterator[list[RTCPeerConnection]]:
    """WebRTC peers a test makes, closed after it."""
    made: list[RTCPeerConnection] = []
    yield made
    await asyncio.gather(*(peer.close() for peer in made))


@pytest.fixture
def clock() -> list[dt.datetime]:
    return [NOW]


@pytest.fixture
async def client(
    aiohttp_client: ClientFactory, tmp_path: Path, clock: list[dt.datetime]
) -> TestClient[web.Request, web.Application]:
    app = create_app(settings_for(tmp_path), clock=lambda: clock[0])

    async def load(app: web.Application) -> None:
        await app[STORE].replace_programme(conference(), NOW)

    app.on_startup.append(load)
    return await aiohttp_client(app)


async def csrf_token(client: TestClient[web.Request, web.Application], path: str = "/") -> str:
    page = await (await client.get(path)).text()
    match = re.search(r'name="csrf-token" content="([0-9a-f]+)"', page)
    assert match, "every page embeds a CSRF token"
    return match.group(1)

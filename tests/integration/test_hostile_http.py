"""Random and hostile requests to every entry: always an answer below 500."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.integration.conftest import csrf_token
from tests.integration.test_qa_api import ANN, MOD, ask

Client = TestClient[web.Request, web.Application]

POST_ROUTES = [
    "/participants",
    "/api/participants",
    "/logout",
    "/login/abc.def",
    "/",
    "/api/sessions/panel/questions",
    "/api/sessions/panel/qa",
    "/api/sessions/panel/notes",
    "/api/questions/{question}/vote",
    "/api/questions/{question}/moderation",
    *(
        f"/api/sessions/panel/breakouts/{action}"
        for action in [
            *("plan", "assign", "rebalance", "move", "open", "extend", "broadcast"),
            *("answer-help", "visit", "close", "join", "leave", "choose", "help"),
        ]
    ),
    "/api/sessions/panel/breakouts/rooms/room-1/chat",
    "/api/sessions/panel/breakouts/rooms/room-1/call-state",
    "/api/sessions/panel/breakouts/rooms/room-1/publish",
    "/api/sessions/panel/breakouts/rooms/room-1/members/id-ann/watch",
    "/api/sessions/panel/recording",
    "/api/sessions/panel/markers",
    "/api/recordings/abc123/visibility",
]
GET_PATHS = [
    "/sessions/{}",
    "/api/sessions/panel/questions?order={}",
    "/api/sessions/{}/questions",
    "/api/sessions/{}",
    "/api/sessions/panel/breakouts/rooms/{}",
    "/sessions/panel/breakouts/{}",
    "/archive/{}",
    "/archive?q={}",
    "/media/recordings/{}",
    "/api/recordings/{}",
    "/api/sessions/panel/recordings?x={}",
    "/login/{}",
    "/static/{}",
    "/{}",
]
CONTENT_TYPES = [
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=zz",
    "text/plain",
    "application/json; charset=latin-1",
]


def noise(rng: random.Random, size: int) -> bytes:
    pieces = [b'{"display_name":', b"display_name=", b"--zz\r\n", b"%", b"\xff", b"\x00", b'"']
    out = bytearray()
    while len(out) < size:
        out += rng.choice(pieces) if rng.random() < 0.3 else bytes([rng.randrange(256)])
    return bytes(out)


async def test_random_bodies_never_cause_a_server_error(client: Client) -> None:
    rng = random.Random(20261123)
    token = await csrf_token(client)
    question = await ask(client)
    plan = {"rooms": [{"name": "One"}]}
    await client.post("/api/sessions/panel/breakouts/plan", json=plan, headers=MOD)
    for n in range(600):
        headers = {"Content-Type": rng.choice(CONTENT_TYPES), "X-CSRF-Token": token}
        if n % 2:
            headers.update(MOD)
        response = await client.post(
            rng.choice(POST_ROUTES).format(question=question),
            data=noise(rng, rng.randrange(0, 400)),
            headers=headers,
            allow_redirects=False,
        )
        assert response.status < 500, await response.text()


async def test_random_paths_never_cause_a_server_error(client: Client) -> None:
    rng = random.Random(7)
    alphabet = "abcXYZ019-_.~%/\\'\"<>é😀"
    for _ in range(300):
        segment = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 80)))
        path = rng.choice(GET_PATHS).format(segment).replace("//", "/x/")
        response = await client.get(path, allow_redirects=False)
        assert response.status < 500, (path, await response.text())
        assert "Content-Security-Policy" in response.headers


async def in_two_parts(body: bytes) -> AsyncIterator[bytes]:
    """A body sent as two chunks, the second a moment later: what a slow link delivers."""
    half = len(body) // 2
    yield body[:half]
    await asyncio.sleep(0.05)  # shapes the input: the server reads the first part alone
    yield body[half:]


async def test_a_body_that_arrives_in_parts_is_read_whole(client: Client) -> None:
    text = "Why " * 120
    body = json.dumps({"text": text}).encode()
    response = await client.post(
        "/api/sessions/panel/questions",
        data=in_two_parts(body),
        headers={"Content-Type": "application/json", **ANN},
    )
    assert response.status == 201, await response.text()
    assert (await response.json())["question"]["text"] == text.strip()

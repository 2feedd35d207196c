"""The /ws hub over real sockets: topics, privacy, resume, slow consumers, coalescing."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from server.keys import HUB
from server.realtime import hub as hub_module
from server.realtime.hub import SLOW_CLOSE_CODE, Change
from tests.integration.test_qa_api import ANN, BOB, MOD, ask, moderate

Client = TestClient[web.Request, web.Application]
Socket = aiohttp.ClientWebSocketResponse


class Filler(Change, frozen=True, tag="filler"):
    """A change of no kind the pages know, to fill sockets with."""

    text: str


async def receive(socket: Socket) -> list[Any]:
    message: list[Any] = await socket.receive_json(timeout=5)
    return message


async def call(socket: Socket, verb: str, body: dict[str, Any], message_id: int = 1) -> list[Any]:
    await socket.send_json([verb, message_id, body])
    while True:
        message = await receive(socket)
        if message[1] == message_id and message[0] in ("ok", "error"):
            return message


async def next_event(socket: Socket, topic: str) -> dict[str, Any]:
    while True:
        message = await receive(socket)
        if message[0] == "event" and message[1] == topic:
            body: dict[str, Any] = message[2]
            return body


async def test_public_topic_snapshot_then_live_events(client: Client) -> None:
    qid = await ask(client)
    async with client.ws_connect("/ws", headers=BOB) as socket:
        verb, _, body = await call(socket, "subscribe", {"topic": "session:panel:qa"})
        assert verb == "ok"
        assert body["snapshot"]["questions"] == []
        await moderate(client, qid, "approve")
        event = await next_event(socket, "session:panel:qa")
        assert event["seq"] > body["seq"]
        assert event["changes"][0]["type"] == "question"
        assert event["changes"][0]["question"]["id"] == qid
        assert "author_id" not in event["changes"][0]["question"]


async def test_moderation_topic_is_for_that_sessions_moderators(client: Client) -> None:
    qid = await ask(client)
    for who, code in (({}, "auth.required"), (BOB, "topic.forbidden")):
        async with client.ws_connect("/ws", headers=who) as socket:
            verb, _, body = await call(socket, "subscribe", {"topic": "session:panel:moderation"})
            assert (verb, body["code"]) == ("error", code)
    async with client.ws_connect("/ws", headers=MOD) as socket:
        verb, _, body = await call(socket, "subscribe", {"topic": "session:panel:moderation"})
        assert [q["id"] for q in body["snapshot"]["questions"]] == [qid]
        second = await ask(client, "Another one", who=BOB)
        event = await next_event(socket, "session:panel:moderation")
        assert event["changes"][0]["question"]["id"] == second
        assert event["changes"][0]["question"]["state"] == "pending"


async def test_participant_topic_is_private(client: Client) -> None:
    async with client.ws_connect("/ws", headers=ANN) as socket:
        refused = await call(socket, "subscribe", {"topic": "participant:id-bob"})
        assert refused[2]["code"] == "topic.forbidden"
        ok = await call(socket, "subscribe", {"topic": "participant:id-ann"}, message_id=2)
        assert ok[0] == "ok"
        assert ok[2]["snapshot"] == {"participant": "id-ann", "own": [], "voted": []}
        qid = await ask(client)
        event = await next_event(socket, "participant:id-ann")
        assert event["changes"] == [
            {"type": "own_question", "question": event["changes"][0]["question"]}
        ]
        assert event["changes"][0]["question"]["id"] == qid
        assert event["changes"][0]["question"]["state"] == "pending"
    async with client.ws_connect("/ws", headers=ANN) as socket:
        again = await call(socket, "subscribe", {"topic": "participant:id-ann"})
        assert [q["id"] for q in again[2]["snapshot"]["own"]] == [qid]


async def test_resume_gives_exactly_the_missed_events(client: Client) -> None:
    async with client.ws_connect("/ws", headers=MOD) as socket:
        _, _, body = await call(socket, "subscribe", {"topic": "session:panel:moderation"})
        await ask(client, "First")
        seen = (await next_event(socket, "session:panel:moderation"))["seq"]
    missed = [await ask(client, f"Missed {n}", who=BOB if n % 2 else ANN) for n in range(4)]
    async with client.ws_connect("/ws", headers=MOD) as socket:
        verb, _, body = await call(
            socket, "subscribe", {"topic": "session:panel:moderation", "since": seen}
        )
        assert verb == "ok"
        assert body["resumed"] == 4
        assert body["seq"] == seen
        replayed = [await next_event(socket, "session:panel:moderation") for _ in missed]
        assert [e["changes"][0]["question"]["id"] for e in replayed] == missed
        assert [e["seq"] for e in replayed] == sorted(e["seq"] for e in replayed)
        assert all(e["seq"] > seen for e in replayed)


async def test_resume_from_too_long_ago_gets_a_snapshot(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hub_module, "TOPIC_MEMORY", 2)
    async with client.ws_connect("/ws", headers=MOD) as socket:
        await call(socket, "subscribe", {"topic": "session:panel:moderation"})
    for n in range(3):
        await ask(client, f"Question {n}")
    for n in range(3):
        await ask(client, f"More {n}", who=BOB)
    async with client.ws_connect("/ws", headers=MOD) as socket:
        _, _, body = await call(
            socket, "subscribe", {"topic": "session:panel:moderation", "since": 1}
        )
        assert "resumed" not in body
        assert len(body["snapshot"]["questions"]) == 6


async def test_a_slow_socket_is_dropped_without_delaying_others(client: Client) -> None:
    hub = client.app[HUB]
    slow = await client.ws_connect("/ws", headers=BOB)
    await call(slow, "subscribe", {"topic": "session:panel:qa"})
    async with client.ws_connect("/ws", headers=ANN) as fast:
        await call(fast, "subscribe", {"topic": "session:panel:qa"})
        payload = [Filler("x" * 8000)]
        seq = 10_000
        while hub.slow_drops == 0 and seq < 20_000:
            for _ in range(50):
                seq += 1
                hub.publish("session:panel:qa", seq, payload)
            for _ in range(50):
                message = await receive(fast)
                assert message[0] == "event"
        assert hub.slow_drops == 1
        hub.publish("session:panel:qa", seq + 1, [Filler("after")])
        assert (await receive(fast))[2]["changes"] == [{"type": "filler", "text": "after"}]
    closed = None
    while closed is None:
        raw = await slow.receive(timeout=5)
        if raw.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            closed = slow.close_code
    assert closed == SLOW_CLOSE_CODE
    await slow.close()


async def test_vote_counts_are_coalesced(client: Client) -> None:
    await client.post("/api/sessions/panel/qa", json={"moderation": "post"}, headers=MOD)
    qid = await ask(client)
    async with client.ws_connect("/ws", headers=BOB) as socket:
        await call(socket, "subscribe", {"topic": "session:panel:qa"})
        voters = [f"voter{n}" for n in range(24)]
        from tests.integration.test_qa_api import token

        started = time.perf_counter()
        await asyncio.gather(
            *(client.post(f"/api/questions/{qid}/vote", headers=token(v)) for v in voters)
        )
        frames = 0
        votes = 0
        while votes < len(voters):
            event = await next_event(socket, "session:panel:qa")
            frames += 1
            votes = event["changes"][-1]["votes"][qid]
        elapsed = time.perf_counter() - started
    assert frames <= elapsed / 0.25 + 1
    assert frames < len(voters)


async def test_bad_messages_get_error_replies(client: Client) -> None:
    async with client.ws_connect("/ws") as socket:
        await socket.send_str("not json")
        assert (await receive(socket))[2]["code"] == "message.malformed"
        await socket.send_str('{"verb": "subscribe"}')
        assert (await receive(socket))[2]["code"] == "message.malformed"
        assert (await call(socket, "shout", {}))[2]["code"] == "verb.unknown"
        assert (await call(socket, "subscribe", {"topic": "nope"}))[2]["code"] == "topic.unknown"
        unknown_session = await call(socket, "subscribe", {"topic": "session:nope:qa"})
        assert unknown_session[2]["code"] == "topic.unknown"
        extra = await call(socket, "subscribe", {"topic": "session:panel:qa", "x": 1})
        assert extra[2]["code"] == "message.invalid"
        await socket.send_bytes(b"\x00")
        assert (await receive(socket))[2]["code"] == "message.binary"
        codes = [(await call(socket, "ping", {}, n))[0] for n in range(60)]
        assert "error" in codes


async def test_oversized_message_closes_the_socket(client: Client) -> None:
    async with client.ws_connect("/ws") as socket:
        await socket.send_str('["ping", 1, {"x": "' + "x" * 20_000 + '"}]')
        message = await socket.receive(timeout=5)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_other_origins_are_refused(client: Client) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/ws", headers={"Origin": "https://evil.example"})
    assert refused.value.status == 403


async def test_random_socket_messages_get_replies_and_keep_the_socket(client: Client) -> None:
    rng = random.Random(11)
    pieces = ['["subscribe",', '"topic":', '{"since":', "null", "1e999", "[", "]", "{", "}",
              '"\\ud800"', ",", "-1"]  # fmt: skip
    async with client.ws_connect("/ws", headers=MOD) as socket:
        for _ in range(45):
            text = "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 12)))
            await socket.send_str(text)
            message = await receive(socket)
            assert message[0] in ("ok", "error"), (text, message)
        assert (await call(socket, "subscribe", {"topic": "session:panel:qa", "since": -5}))[0]

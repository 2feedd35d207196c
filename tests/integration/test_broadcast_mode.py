"""Broadcast mode: a session's moderators switch every page player to HLS; the switch goes
through the command log to the live topic, the stream API and the session page."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from server.backends.log_codec import LogEntry, decode_entry, encode_entry
from server.keys import STORE
from sessions.delivery import BroadcastChanged, Delivery, SetBroadcast
from tests.integration.conftest import NOW, conference
from tests.integration.test_qa_api import ANN, MOD, OTHER_MOD
from tests.integration.test_realtime import call, next_event

Client = TestClient[web.Request, web.Application]
BROADCAST = "/api/sessions/panel/stream/broadcast"


def test_the_switch_changes_only_what_differs() -> None:
    delivery = Delivery()
    now = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)
    assert not delivery.is_broadcast("panel")
    assert delivery.apply(SetBroadcast("panel", "mo", True), now) == [
        BroadcastChanged("panel", True)
    ]
    assert delivery.apply(SetBroadcast("panel", "mo", True), now) == []
    assert delivery.is_broadcast("panel") and not delivery.is_broadcast("side")
    assert delivery.apply(SetBroadcast("panel", "mo", False), now) == [
        BroadcastChanged("panel", False)
    ]
    assert not delivery.is_broadcast("panel")


def test_the_command_survives_the_log() -> None:
    entry = LogEntry("panel", NOW, SetBroadcast("panel", "mo", True))
    assert decode_entry(encode_entry(entry)) == entry


async def stream(client: Client) -> dict[str, Any]:
    response = await client.get("/api/sessions/panel/stream")
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


async def test_moderators_switch_players_to_hls_and_back(client: Client) -> None:
    before = await stream(client)
    assert before["broadcast"] is False
    assert before["whep"] == "/whep/panel"
    assert before["hls"] == "/hls/panel/index.m3u8"
    page = await (await client.get("/sessions/panel")).text()
    assert 'data-mode="interactive"' in page
    assert 'data-hls="/hls/panel/index.m3u8"' in page
    assert "/hls/panel/index.m3u8</code>" in page and "/whep/panel</code>" in page

    async with client.ws_connect("/ws", headers=ANN) as socket:
        verb, _, body = await call(socket, "subscribe", {"topic": "session:panel:live"})
        assert verb == "ok"
        assert body["snapshot"]["broadcast"] is False
        response = await client.post(BROADCAST, json={"broadcast": True}, headers=MOD)
        assert response.status == 200
        assert (await response.json())["broadcast"] is True
        event = await next_event(socket, "session:panel:live")
        assert event["changes"] == [
            {"type": "stream", "stream": {**before_state(before), "broadcast": True}}
        ]

    assert (await stream(client))["broadcast"] is True
    assert 'data-mode="broadcast"' in await (await client.get("/sessions/panel")).text()
    side = await client.get("/api/sessions/side/stream")
    assert (await side.json())["broadcast"] is False, "the switch is one session's"

    response = await client.post(BROADCAST, json={"broadcast": False}, headers=MOD)
    assert response.status == 200
    assert (await stream(client))["broadcast"] is False


def before_state(stream: dict[str, Any]) -> dict[str, Any]:
    return {key: stream[key] for key in ("state", "started_at", "viewers", "rehearsal", "cut")}


async def test_only_valid_switches_from_this_sessions_moderators(client: Client) -> None:
    # Anonymous callers are refused with every other moderator route (test_qa_api).
    for body, who, status, code in [
        ({"broadcast": True}, ANN, 403, "auth.forbidden"),
        ({"broadcast": True}, OTHER_MOD, 403, "auth.forbidden"),
        ({"broadcast": "yes"}, MOD, 422, None),
        ({"broadcast": True, "extra": 1}, MOD, 422, None),
        ({}, MOD, 422, None),
    ]:
        response = await client.post(BROADCAST, json=body, headers=who)
        assert response.status == status, (body, who)
        if code:
            assert (await response.json())["error"]["code"] == code
    not_json = await client.post(BROADCAST, data="broadcast=1", headers=MOD)
    assert 400 <= not_json.status < 500
    unknown = await client.post("/api/sessions/nope/stream/broadcast", json={}, headers=MOD)
    assert unknown.status == 404
    assert (await stream(client))["broadcast"] is False


async def test_a_session_not_streamed_has_no_broadcast_mode(client: Client) -> None:
    programme = conference()
    sessions = tuple(
        dataclasses.replace(s, do_not_stream=True) if s.code == "panel" else s
        for s in programme.sessions
    )
    await client.app[STORE].replace_programme(
        dataclasses.replace(programme, sessions=sessions), NOW
    )
    response = await client.post(BROADCAST, json={"broadcast": True}, headers=MOD)
    assert response.status == 409
    assert (await response.json())["error"]["code"] == "stream.not_streamed"

"""The socket at ``/ws``: frames that are ``[verb, id, body]`` as the protocol says, then
mutated, text and binary, on a socket of its own per example (so one example's rate limit
does not decide the next one's answers). Every text frame gets exactly one reply."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
from hypothesis import strategies as st

from tests.fuzz.harness import (
    HANG_AFTER,
    FuzzEntry,
    FuzzServer,
    Tally,
    each_answer,
    run_examples,
)
from tests.fuzz.http_api import IDENTITIES
from tests.fuzz.mutations import JSON, mutated_json, serialised

KINDS = ("qa", "moderation", "live", "studio", "breakouts", "captions")
TOPICS = st.one_of(
    st.builds(
        "session:{}:{}".format, st.sampled_from(("panel", "side", "nope")), st.sampled_from(KINDS)
    ),
    st.builds(
        "room:{}:{}".format, st.sampled_from(("panel", "nope")), st.sampled_from(("room-1", "x"))
    ),
    st.builds("participant:{}".format, st.sampled_from(("id-participant", "id-other"))),
)
MESSAGE_IDS = st.one_of(st.integers(0, 2**31), st.text(max_size=8), st.none())


def valid_frames() -> st.SearchStrategy[JSON]:
    subscribe = st.fixed_dictionaries({"topic": TOPICS}, optional={"since": st.integers(0, 50)})
    return st.one_of(
        st.tuples(st.just("subscribe"), MESSAGE_IDS, subscribe).map(list),
        st.tuples(
            st.just("unsubscribe"), MESSAGE_IDS, st.fixed_dictionaries({"topic": TOPICS})
        ).map(list),
        st.tuples(st.just("ping"), MESSAGE_IDS, st.just({})).map(list),
    )


Frame = str | bytes

FRAMES: st.SearchStrategy[Frame] = st.one_of(
    valid_frames().map(json.dumps),
    valid_frames().map(json.dumps),
    serialised(mutated_json(valid_frames())).map(lambda body: body.decode(errors="replace")),
    st.text(max_size=100),
    st.binary(max_size=64),
    st.integers(16 * 1024 - 16, 17 * 1024).map(
        lambda size: json.dumps(["ping", 1, {"x": "a" * size}])
    ),
)


async def exchange(
    server: FuzzServer, tally: Tally, headers: dict[str, str], frames: list[Frame]
) -> None:
    started = time.monotonic()
    try:
        async with server.http.ws_connect(
            "/ws", headers=headers, timeout=aiohttp.ClientWSTimeout(ws_close=HANG_AFTER)
        ) as socket:
            for frame in frames:
                try:
                    if isinstance(frame, bytes):
                        await socket.send_bytes(frame)
                    else:
                        await socket.send_str(frame)
                except ConnectionError:  # the server closed it (a frame over its limit)
                    outcome = f"closed {socket.close_code}"
                else:
                    outcome = await asyncio.wait_for(reply(socket), HANG_AFTER)
                tally.note(101, outcome, time.monotonic() - started)
                if outcome.startswith("closed"):
                    return
    except TimeoutError:
        tally.hangs.append(f"no reply in {HANG_AFTER} s to {frames!r:.300}")
        tally.note(0, "hang", HANG_AFTER)
    except ConnectionError:  # the server went away mid-exchange without a close frame
        tally.note(101, "lost", time.monotonic() - started)
    except aiohttp.WSServerHandshakeError as refused:
        tally.note(refused.status, "handshake", time.monotonic() - started)
        if refused.status >= 500:
            tally.server_errors.append(f"handshake {refused.status} with {headers}")
    for error in server.errors.take():
        tally.server_errors.append(f"/ws logged {error}: {frames!r:.300}")


async def reply(socket: aiohttp.ClientWebSocketResponse) -> str:
    """The reply's verb and error code, skipping event frames (a resumed subscription's)."""
    while True:
        message = await socket.receive()
        if message.type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSED,
            aiohttp.WSMsgType.CLOSING,
        ):
            return f"closed {socket.close_code}"
        if message.type != aiohttp.WSMsgType.TEXT:
            return f"unexpected {message.type.name}"
        verb, _, body = json.loads(message.data)
        if verb == "event":
            continue
        return f"{verb} {body['code']}" if verb == "error" else "ok"


def fuzz_websocket(server: FuzzServer, examples: int, seed: int) -> Tally:
    tally = Tally("WebSocket frames")
    strategy = st.tuples(st.sampled_from(IDENTITIES), st.lists(FRAMES, min_size=1, max_size=5))

    async def send(example: tuple[dict[str, str], list[Frame]]) -> None:
        before = await server.fingerprint()
        await exchange(server, tally, *example)
        if await server.fingerprint() != before:
            tally.store_changes.append(f"frames changed the store: {example!r:.300}")

    run_examples(strategy, each_answer(server, send), examples=examples, seed_value=seed)
    return tally


ENTRIES = (FuzzEntry("WebSocket frames", fuzz_websocket, weight=1.0),)

"""The WebSocket at ``/ws``: one per browser tab, carrying subscriptions and events.

Messages are ``[verb, id, body]``; replies ``["ok", id, body]`` or
``["error", id, {"code": ..., "message": ...}]``; events ``["event", topic, {"seq": n,
"changes": [...]}]``. Commands that change state go through the HTTP API.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets

import msgspec
from aiohttp import WSMsgType, web

from server.http.errors import AppError
from server.http.middleware import same_origin
from server.keys import BOOTHS, CLOCK, HUB, IDENTITY, MEDIA, PRESENCE, QA, ROOM_CALLS, STORE
from server.realtime.hub import Connection, Hub, encode_frame
from server.realtime.topics import (
    Sources,
    TopicError,
    TopicSnapshot,
    is_breakouts_topic,
    is_snapshot_only,
    session_code_of,
    snapshot,
)
from sessions.ratelimit import SlidingWindow

routes = web.RouteTableDef()

MAX_MESSAGE = 16 * 1024
MAX_SUBSCRIPTIONS = 64
MESSAGES_PER_WINDOW = 50
MESSAGE_WINDOW = dt.timedelta(seconds=10)

MessageId = int | str | None


class Subscribe(msgspec.Struct, forbid_unknown_fields=True):
    topic: str
    since: int | None = None


class Unsubscribe(msgspec.Struct, forbid_unknown_fields=True):
    topic: str


class Subscribed(msgspec.Struct, frozen=True):
    """A subscription from scratch: the topic's state now, as of log entry ``seq``."""

    topic: str
    seq: int
    snapshot: TopicSnapshot


class Resumed(msgspec.Struct, frozen=True):
    """A subscription resumed after ``seq``: the ``resumed`` frames it missed follow."""

    topic: str
    seq: int
    resumed: int


class Unsubscribed(msgspec.Struct, frozen=True):
    topic: str


class Pong(msgspec.Struct, frozen=True):
    pong: bool = True


class Refusal(msgspec.Struct, frozen=True):
    code: str
    message: str


Reply = Subscribed | Resumed | Unsubscribed | Pong


def reply(verb: str, message_id: MessageId, body: Reply | Refusal) -> bytes:
    return encode_frame(msgspec.json.encode([verb, message_id, body]).decode())


def error(message_id: MessageId, code: str, message: str) -> bytes:
    return reply("error", message_id, Refusal(code, message))


_message = msgspec.json.Decoder(tuple[str, MessageId, msgspec.Raw])


class SocketSession:
    """What one socket may do, and its answers."""

    def __init__(self, request: web.Request, connection: Connection) -> None:
        self.request = request
        self.connection = connection
        self.limit = SlidingWindow(MESSAGES_PER_WINDOW, MESSAGE_WINDOW)
        self.token = secrets.token_urlsafe(9)
        self.present: set[tuple[str, str]] = set()
        """(session, participant) whose break-outs this socket listens to."""

    @property
    def hub(self) -> Hub:
        return self.request.app[HUB]

    async def handle(self, text: str) -> None:
        try:
            verb, message_id, body = _message.decode(text)
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError):
            self.connection.offer(
                error(None, "message.malformed", "Send [verb, id, body] as JSON.")
            )
            return
        if not self.limit.allow("socket", self.request.app[CLOCK]()):
            self.connection.offer(error(message_id, "rate.limited", "Too many messages."))
            return
        try:
            if verb == "subscribe":
                await self.subscribe(message_id, msgspec.json.decode(body, type=Subscribe))
            elif verb == "unsubscribe":
                topic = msgspec.json.decode(body, type=Unsubscribe).topic
                self.hub.unsubscribe(self.connection, topic)
                self.connection.offer(reply("ok", message_id, Unsubscribed(topic)))
            elif verb == "ping":
                self.connection.offer(reply("ok", message_id, Pong()))
            else:
                self.connection.offer(error(message_id, "verb.unknown", f"Unknown verb {verb!r}."))
        except (msgspec.ValidationError, msgspec.DecodeError) as invalid:
            self.connection.offer(error(message_id, "message.invalid", str(invalid)))
        except TopicError as refused:
            self.connection.offer(error(message_id, refused.code, refused.message))

    async def subscribe(self, message_id: MessageId, body: Subscribe) -> None:
        if len(self.connection.topics) >= MAX_SUBSCRIPTIONS:
            raise TopicError("topic.too_many", f"At most {MAX_SUBSCRIPTIONS} topics a socket.")
        code = session_code_of(body.topic)
        exists = False
        if code:
            programme = await self.request.app[STORE].load_programme()
            exists = programme is not None and programme.session_by_code(code) is not None
        await self.request.app[QA].sync()
        # From here on nothing awaits: the snapshot, the subscription and the reply are one
        # step, so no event can slip between them.
        app = self.request.app
        service = app[QA]
        sources = Sources(service, app[MEDIA], app[ROOM_CALLS], app[BOOTHS], app[CLOCK]())
        state = snapshot(body.topic, self.request[IDENTITY], sources, exists)
        topic = self.hub.subscribe(self.connection, body.topic, service.applied)
        identity = self.request[IDENTITY]
        if code and is_breakouts_topic(body.topic) and not identity.is_anonymous:
            self.present.add((code, identity.participant_id))
            app[PRESENCE].arrived(self.token, (code, identity.participant_id))
        since = None if is_snapshot_only(body.topic) else body.since
        missed = topic.since(since) if since is not None else None
        if since is None or missed is None:
            self.connection.offer(
                reply("ok", message_id, Subscribed(body.topic, service.applied, state))
            )
            return
        # The frames that follow carry their own sequences; ``since`` stays the resume point.
        self.connection.offer(reply("ok", message_id, Resumed(body.topic, since, len(missed))))
        for text in missed:
            self.connection.offer(text)


@routes.get("/ws")
async def websocket(request: web.Request) -> web.StreamResponse:
    origin = request.headers.get("Origin")
    if origin is not None and not same_origin(request, origin):
        raise AppError(403, "ws.origin", "Connections from other sites are refused.")
    # No per-message compression: frames are encoded once and the same bytes go to every
    # subscriber (see server/realtime/hub.py), which deflating per socket would undo.
    socket = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_MESSAGE, compress=False)
    await socket.prepare(request)
    transport = request.transport
    if transport is None:
        return socket
    closing: set[asyncio.Task[bool]] = set()

    def close(code: int) -> None:
        task = asyncio.create_task(socket.close(code=code, message=b"too slow; resume"))
        closing.add(task)
        task.add_done_callback(closing.discard)

    connection = Connection(transport, close)
    hub = request.app[HUB]
    hub.connect(connection)
    session = SocketSession(request, connection)
    try:
        async for message in socket:
            if connection.dropped:
                break
            if message.type == WSMsgType.TEXT:
                await session.handle(message.data)
            elif message.type == WSMsgType.BINARY:
                connection.offer(error(None, "message.binary", "Send text frames."))
    finally:
        hub.disconnect(connection)
        request.app[PRESENCE].left(session.token, session.present)
        if closing:
            await asyncio.gather(*closing, return_exceptions=True)
    return socket

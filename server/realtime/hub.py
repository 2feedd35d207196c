"""The realtime hub: topics with sequence numbers, resumable, fanned out without letting
one slow socket delay the others.

Each topic keeps its recent frames so a client that reconnects can say the last sequence
it saw and get exactly what it missed; when that is older than the topic remembers, it
gets a fresh snapshot instead. A frame is encoded once and its bytes written to every
subscriber's transport without awaiting; a socket with too much unsent data is dropped (it
resumes when it reconnects).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import msgspec

log = logging.getLogger("plenaria.hub")

BUFFER_LIMIT = 1 << 20
"""Bytes a socket may have waiting to be sent before it counts as too slow and is dropped."""
TOPIC_MEMORY = 1000
SLOW_CLOSE_CODE = 4001
"""Close code for a socket that fell too far behind; the client should resume."""


class Transport(Protocol):
    """The connection under a WebSocket (asyncio's transport has all of it)."""

    def write(self, data: bytes) -> None: ...

    def get_write_buffer_size(self) -> int: ...

    def is_closing(self) -> bool: ...


class Change(msgspec.Struct, frozen=True, tag_field="type"):
    """One thing a frame says happened; its ``type`` tag names which (the kinds are in
    ``server/realtime/changes.py``)."""

    def merged_with(self, newer: Change) -> Change:
        """What one frame says when the hub merges this change and a newer one of the same
        type (high-rate updates): by default the newer says it all."""
        return newer


def encode_frame(text: str) -> bytes:
    """One unmasked, uncompressed WebSocket text frame (RFC 6455 5.2), as a server sends it.

    A frame is encoded once and the same bytes are written to every subscriber."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        header = bytes((0x81, size))
    elif size < 1 << 16:
        header = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return header + payload


def frame(topic: str, seq: int, changes: Sequence[Change]) -> bytes:
    return encode_frame(
        msgspec.json.encode(["event", topic, {"seq": seq, "changes": changes}]).decode()
    )


@dataclass(eq=False)
class Connection:
    """One socket: its subscriptions, and writes that never wait.

    Frames go straight into the socket's transport. What the peer has not read yet stays in
    the transport's buffer, which is this socket's bounded queue: past ``BUFFER_LIMIT`` the
    socket is dropped, so one slow reader never holds up a publish."""

    transport: Transport
    close: Callable[[int], None]
    """Starts closing the socket with a close code; must not block."""
    topics: set[str] = field(default_factory=set)
    dropped: bool = False
    on_drop: Callable[[Connection], None] | None = None

    def offer(self, data: bytes) -> bool:
        if self.dropped or self.transport.is_closing():
            return False
        if self.transport.get_write_buffer_size() > BUFFER_LIMIT:
            self.drop()
            return False
        self.transport.write(data)
        return True

    def drop(self) -> None:
        """Stop sending to a socket that fell behind, and close it so it resumes."""
        if self.dropped:
            return
        self.dropped = True
        self.close(SLOW_CLOSE_CODE)
        if self.on_drop is not None:
            self.on_drop(self)


@dataclass
class Topic:
    name: str
    floor: int
    """Every frame with a sequence above this is still in ``recent``."""
    recent: deque[tuple[int, bytes]] = field(default_factory=lambda: deque(maxlen=TOPIC_MEMORY))
    subscribers: set[Connection] = field(default_factory=set)
    last_seq: int = 0

    def remember(self, seq: int, text: bytes) -> None:
        if len(self.recent) == self.recent.maxlen:
            self.floor = self.recent[0][0]
        self.recent.append((seq, text))
        self.last_seq = seq

    def since(self, seq: int) -> list[bytes] | None:
        """Frames after ``seq``, or ``None`` when some of them are no longer remembered."""
        if seq < self.floor:
            return None
        return [text for frame_seq, text in self.recent if frame_seq > seq]


class Hub:
    def __init__(self) -> None:
        self._topics: dict[str, Topic] = {}
        self._pending: dict[str, tuple[int, Change]] = {}
        self._flush_handle: asyncio.TimerHandle | None = None
        self.merge_interval = 0.25
        self.connections: set[Connection] = set()
        self.slow_drops = 0
        self.frames_sent = 0

    def topic(self, name: str, current_seq: int) -> Topic:
        topic = self._topics.get(name)
        if topic is None:
            topic = self._topics[name] = Topic(name=name, floor=current_seq, last_seq=current_seq)
        return topic

    def listened(self) -> list[str]:
        """The topics someone here is subscribed to."""
        return [name for name, topic in self._topics.items() if topic.subscribers]

    def connect(self, connection: Connection) -> None:
        connection.on_drop = self._dropped
        self.connections.add(connection)

    def disconnect(self, connection: Connection) -> None:
        for name in connection.topics:
            topic = self._topics.get(name)
            if topic is not None:
                topic.subscribers.discard(connection)
        connection.topics.clear()
        self.connections.discard(connection)
        connection.dropped = True

    def _dropped(self, connection: Connection) -> None:
        self.slow_drops += 1
        log.info("dropped a slow socket", extra={"topics": sorted(connection.topics)})
        self.disconnect(connection)

    def subscribe(self, connection: Connection, name: str, current_seq: int) -> Topic:
        topic = self.topic(name, current_seq)
        self._flush(name)
        topic.subscribers.add(connection)
        connection.topics.add(name)
        return topic

    def unsubscribe(self, connection: Connection, name: str) -> None:
        topic = self._topics.get(name)
        if topic is not None:
            topic.subscribers.discard(connection)
        connection.topics.discard(name)

    def publish(self, name: str, seq: int, changes: Sequence[Change]) -> None:
        """Send ``changes`` of log entry ``seq`` to the topic's subscribers, in order."""
        self._flush(name)
        self._send(name, seq, changes)

    def publish_merged(self, name: str, seq: int, change: Change) -> None:
        """High-rate updates (vote counts, viewer counts, stream health) are merged: the topic
        gets at most one frame of them per ``merge_interval``, saying what ``merged_with``
        makes of the changes since the last (the latest count of each question)."""
        pending = self._pending.get(name)
        if pending is not None and type(pending[1]) is not type(change):
            self._flush(name)
            pending = None
        merged = pending[1].merged_with(change) if pending is not None else change
        self._pending[name] = (seq, merged)
        if self._flush_handle is None:
            loop = asyncio.get_running_loop()
            self._flush_handle = loop.call_later(self.merge_interval, self._flush_all)

    def _flush_all(self) -> None:
        self._flush_handle = None
        for name in list(self._pending):
            self._flush(name)

    def _flush(self, name: str) -> None:
        pending = self._pending.pop(name, None)
        if pending is not None:
            seq, change = pending
            self._send(name, seq, [change])

    def _send(self, name: str, seq: int, changes: Sequence[Change]) -> None:
        topic = self.topic(name, seq - 1)
        text = frame(name, seq, changes)
        topic.remember(seq, text)
        for connection in list(topic.subscribers):
            if connection.offer(text):
                self.frames_sent += 1

    def close(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
        for connection in list(self.connections):
            self.disconnect(connection)

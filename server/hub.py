"""The realtime hub: topics with sequence numbers, resumable, fanned out without letting
one slow socket delay the others.

Each topic keeps its recent frames so a client that reconnects can say the last sequence
it saw and get exactly what it missed; when that is older than the topic remembers, it
gets a fresh snapshot instead. Each socket has a bounded queue and its own writer task;
publishing never awaits a socket, and a socket whose queue is full is dropped (it resumes
when it reconnects).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger("plenaria.hub")

QUEUE_LIMIT = 512
TOPIC_MEMORY = 1000
SLOW_CLOSE_CODE = 4001
"""Close code for a socket that fell too far behind; the client should resume."""


class Socket(Protocol):
    """What the hub needs of a connection (aiohttp's WebSocketResponse has it)."""

    async def send_str(self, data: str) -> None: ...

    async def close(self, *, code: int = ..., message: bytes = ...) -> bool: ...


def frame(topic: str, seq: int, changes: list[dict[str, Any]]) -> str:
    return json.dumps(["event", topic, {"seq": seq, "changes": changes}], separators=(",", ":"))


@dataclass(eq=False)
class Connection:
    """One socket: its subscriptions, its bounded outgoing queue and its writer."""

    socket: Socket
    identity_key: str
    queue: asyncio.Queue[str | None] = field(
        default_factory=lambda: asyncio.Queue(maxsize=QUEUE_LIMIT)
    )
    topics: set[str] = field(default_factory=set)
    dropped: bool = False
    close_code: int = 1000
    on_drop: Callable[[Connection], None] | None = None

    def offer(self, text: str) -> bool:
        """Queue ``text`` without waiting; drop the connection if it is too far behind."""
        if self.dropped:
            return False
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.drop()
            return False
        return True

    def drop(self) -> None:
        """Stop sending to a socket that fell behind; its writer closes it."""
        if self.dropped:
            return
        self.close_code = SLOW_CLOSE_CODE
        self.stop_writer()
        if self.on_drop is not None:
            self.on_drop(self)

    def stop_writer(self) -> None:
        self.dropped = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)

    async def write(self) -> None:
        """Send queued frames until the connection is dropped or closed."""
        while (text := await self.queue.get()) is not None:
            await self.socket.send_str(text)
        with contextlib.suppress(Exception):
            await self.socket.close(code=self.close_code, message=b"too slow; resume")


@dataclass
class Topic:
    name: str
    floor: int
    """Every frame with a sequence above this is still in ``recent``."""
    recent: deque[tuple[int, str]] = field(default_factory=lambda: deque(maxlen=TOPIC_MEMORY))
    subscribers: set[Connection] = field(default_factory=set)
    last_seq: int = 0

    def remember(self, seq: int, text: str) -> None:
        if len(self.recent) == self.recent.maxlen:
            self.floor = self.recent[0][0]
        self.recent.append((seq, text))
        self.last_seq = seq

    def since(self, seq: int) -> list[str] | None:
        """Frames after ``seq``, or ``None`` when some of them are no longer remembered."""
        if seq < self.floor:
            return None
        return [text for frame_seq, text in self.recent if frame_seq > seq]


class Hub:
    def __init__(self) -> None:
        self._topics: dict[str, Topic] = {}
        self._pending_votes: dict[str, tuple[int, dict[str, int]]] = {}
        self._flush_handle: asyncio.TimerHandle | None = None
        self.vote_interval = 0.25
        self.connections: set[Connection] = set()
        self.slow_drops = 0
        self.frames_sent = 0

    def topic(self, name: str, current_seq: int) -> Topic:
        topic = self._topics.get(name)
        if topic is None:
            topic = self._topics[name] = Topic(name=name, floor=current_seq, last_seq=current_seq)
        return topic

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
        if not connection.dropped:
            connection.stop_writer()

    def _dropped(self, connection: Connection) -> None:
        self.slow_drops += 1
        log.info("dropped a slow socket", extra={"topics": sorted(connection.topics)})
        self.disconnect(connection)

    def subscribe(self, connection: Connection, name: str, current_seq: int) -> Topic:
        topic = self.topic(name, current_seq)
        self._flush_votes(name)
        topic.subscribers.add(connection)
        connection.topics.add(name)
        return topic

    def unsubscribe(self, connection: Connection, name: str) -> None:
        topic = self._topics.get(name)
        if topic is not None:
            topic.subscribers.discard(connection)
        connection.topics.discard(name)

    def publish(self, name: str, seq: int, changes: list[dict[str, Any]]) -> None:
        """Send ``changes`` of log entry ``seq`` to the topic's subscribers, in order."""
        self._flush_votes(name)
        self._send(name, seq, changes)

    def publish_votes(self, name: str, seq: int, votes: dict[str, int]) -> None:
        """Vote counts are coalesced: at most one frame per topic per ``vote_interval``."""
        _, pending = self._pending_votes.get(name, (seq, {}))
        pending.update(votes)
        self._pending_votes[name] = (seq, pending)
        if self._flush_handle is None:
            loop = asyncio.get_running_loop()
            self._flush_handle = loop.call_later(self.vote_interval, self._flush_all_votes)

    def _flush_all_votes(self) -> None:
        self._flush_handle = None
        for name in list(self._pending_votes):
            self._flush_votes(name)

    def _flush_votes(self, name: str) -> None:
        pending = self._pending_votes.pop(name, None)
        if pending is not None:
            seq, votes = pending
            self._send(name, seq, [{"type": "votes", "votes": votes}])

    def _send(self, name: str, seq: int, changes: list[dict[str, Any]]) -> None:
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

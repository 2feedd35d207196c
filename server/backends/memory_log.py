"""The command log in one process's memory: the :class:`~server.backends.command_log.
CommandLog` protocol without storage, so the fold, the services above it and the hub can be
tested without SQLite or Redis (as httpx ships ``MockTransport`` for its clients). It keeps
every guarantee but durability; the contract suite runs it beside the real backends."""

from __future__ import annotations

import asyncio
import contextlib

from server.backends.log_codec import LogEntry, decode_entry, encode_entry


class MemoryCommandLog:
    def __init__(self) -> None:
        self._entries: list[bytes] = []
        self._appended = asyncio.Event()
        """Set by the next append (then replaced), waking every waiter."""

    async def append(self, entry: LogEntry) -> int:
        # Encoded and decoded like the real backends, so what cannot cross them fails here.
        self._entries.append(encode_entry(entry))
        self._appended.set()
        self._appended = asyncio.Event()
        return len(self._entries)

    async def read(self, after: int, limit: int = 1000) -> list[tuple[int, LogEntry]]:
        chosen = self._entries[max(after, 0) : max(after, 0) + limit]
        return [(after + 1 + i, decode_entry(data)) for i, data in enumerate(chosen)]

    async def wait(self, after: int, max_wait: float) -> None:
        if len(self._entries) > after:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._appended.wait(), max_wait)

    async def last_sequence(self) -> int:
        return len(self._entries)

"""Who is on a session's break-outs right now, so rounds deal only people who are there.

A participant in the pool counts as present while a socket of theirs listens to the
session's break-outs or to a room. When their last socket here closes and none comes back
within :data:`AWAY_SECONDS` (a reload, a dropped Wi-Fi), this process writes ``Away`` to the
command log: every process then shows them offline, and their seat is freed. When a socket
of someone marked away arrives, it writes ``Present`` and they get their seat back. A
participant who reconnects to another process is confirmed there; every
:data:`RECHECK_SECONDS` each process confirms again the people it holds sockets for, which
undoes an ``Away`` written while they were already back elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Iterable

from server.conference_log import QAService
from sessions.breakouts import Away, BreakoutCommand, BreakoutError, Present

log = logging.getLogger("plenaria.breakouts")

AWAY_SECONDS = 15.0
RECHECK_SECONDS = 10.0

PersonKey = tuple[str, str]
"""(session code, participant id)."""


class BreakoutPresence:
    def __init__(self, service: QAService, clock: Callable[[], dt.datetime]) -> None:
        self._service = service
        self._clock = clock
        self._sockets: dict[PersonKey, set[str]] = {}
        self._leaving: dict[PersonKey, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._recheck: asyncio.Task[None] | None = None
        self.away_after = AWAY_SECONDS

    def start(self) -> None:
        self._recheck = asyncio.get_running_loop().create_task(self._confirm_all())

    async def close(self) -> None:
        for timer in self._leaving.values():
            timer.cancel()
        tasks = [*self._tasks, *([self._recheck] if self._recheck else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def arrived(self, socket: str, key: PersonKey) -> None:
        """A socket of this participant listens to the session's break-outs."""
        self._sockets.setdefault(key, set()).add(socket)
        if (timer := self._leaving.pop(key, None)) is not None:
            timer.cancel()
        self._confirm(key)

    def left(self, socket: str, keys: Iterable[PersonKey]) -> None:
        """A socket closed: whoever it carried and has no other socket here may be gone."""
        since = self._clock()
        for key in keys:
            sockets = self._sockets.get(key, set())
            sockets.discard(socket)
            if sockets:
                continue
            self._sockets.pop(key, None)
            loop = asyncio.get_running_loop()
            self._leaving[key] = loop.call_later(self.away_after, self._gone, key, since)

    def _gone(self, key: PersonKey, since: dt.datetime) -> None:
        self._leaving.pop(key, None)
        code, participant = key
        rooms = self._service.breakouts(code)
        if key not in self._sockets and participant in rooms.pool and participant not in rooms.away:
            self._submit(code, Away(participant, since))

    def _confirm(self, key: PersonKey) -> None:
        code, participant = key
        if participant in self._service.breakouts(code).away:
            self._submit(code, Present(participant))

    async def _confirm_all(self) -> None:
        while True:
            await asyncio.sleep(RECHECK_SECONDS)
            for key in list(self._sockets):
                self._confirm(key)

    def _submit(self, code: str, command: BreakoutCommand) -> None:
        async def submit() -> None:
            try:
                await self._service.submit_command(code, command, self._clock())
            except BreakoutError as error:
                log.info("presence not recorded", extra={"session": code, "code": error.code})

        task = asyncio.get_running_loop().create_task(submit())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

"""Folds the shared command log through every domain (each session's Q&A and break-outs,
the archive, stream delivery), in the same order on every process.

A command is acknowledged only after its log entry is durable *and* this process has
folded it, so the answer (its events, or why it was refused) is the one every process
computes for that position in the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import NoReturn

from recordings.archive import Archive, ArchiveCommand, ArchiveEvent
from server.backends import is_unavailable
from server.backends.command_log import CommandLog
from server.backends.log_codec import Command as LoggedCommand
from server.backends.log_codec import LogEntry, encode_entry
from server.backends.store import StoreUnavailable
from sessions.breakouts import BreakoutCommand, BreakoutEvent, Breakouts
from sessions.captions import CaptionCommand, CaptionEvent, Captions
from sessions.delivery import Delivery, DeliveryCommand, DeliveryEvent
from sessions.domain_errors import DomainError
from sessions.qa import (
    QUESTIONS_PER_MINUTE,
    VOTES_PER_MINUTE,
    Ask,
    Command,
    Event,
    QASession,
)
from sessions.ratelimit import SlidingWindow

log = logging.getLogger("plenaria.qa")

DomainEvent = Event | BreakoutEvent | ArchiveEvent | DeliveryEvent | CaptionEvent
Outcome = list[DomainEvent] | DomainError
Listener = Callable[[int, str, list[DomainEvent]], None]
"""Called with (sequence, session code, events) for every folded entry that had events."""

REMEMBERED_OUTCOMES = 10_000
READ_BATCH = 1000
IDLE_WAIT = 5.0
RETRY_AFTER = 1.0
SYNC_LIMIT = 5.0
ACKNOWLEDGE_LIMIT = 15.0
"""How long a request waits for its appended command to be folded before it is answered
503 (the log cannot be read: the store went away after the append)."""


class QARateLimits:
    """Per-process limits that refuse floods before they reach the shared log; the domain
    applies the same limits again, deterministically, on every process."""

    def __init__(self) -> None:
        self.questions = SlidingWindow(QUESTIONS_PER_MINUTE)
        self.votes = SlidingWindow(VOTES_PER_MINUTE)


def same_entry(folded: LogEntry, appended: LogEntry) -> bool:
    """Whether the entry folded at a sequence is the one just appended there (read back
    from the log, so compared as the log holds it)."""
    return encode_entry(folded) == encode_entry(appended)


class QAService:
    def __init__(self, command_log: CommandLog) -> None:
        self._log = command_log
        self._sessions: dict[str, QASession] = {}
        self._breakouts: dict[str, Breakouts] = {}
        self.archive = Archive()
        self.delivery = Delivery()
        self.captions = Captions()
        self._question_sessions: dict[str, str] = {}
        self._applied = 0
        self.diverged = False
        """The log went backwards under this process (Redis restored or failed over with
        less than it had): its state no longer matches the log, so it refuses writes."""
        self.refused_count = 0
        """Log entries a domain refused (they stay in the log and fold into nothing)."""
        self._outcomes: OrderedDict[int, tuple[LogEntry, Outcome]] = OrderedDict()
        self._waiters: dict[int, asyncio.Future[tuple[LogEntry, Outcome]]] = {}
        self._listeners: list[Listener] = []
        self._follower: asyncio.Task[None] | None = None
        self._nudge = asyncio.Event()
        self._progress = asyncio.Condition()

    @property
    def applied(self) -> int:
        """The sequence of the last folded log entry."""
        return self._applied

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def session(self, code: str) -> QASession:
        qa = self._sessions.get(code)
        if qa is None:
            qa = self._sessions[code] = QASession(code)
        return qa

    def breakouts(self, code: str) -> Breakouts:
        rooms = self._breakouts.get(code)
        if rooms is None:
            rooms = self._breakouts[code] = Breakouts(code)
        return rooms

    def all_breakouts(self) -> list[Breakouts]:
        return list(self._breakouts.values())

    def sessions(self) -> list[QASession]:
        return list(self._sessions.values())

    def session_of_question(self, question_id: str) -> str | None:
        return self._question_sessions.get(question_id)

    async def start(self) -> None:
        """Fold the whole log, then follow it."""
        await self._catch_up()
        log.info("q&a state loaded", extra={"sequence": self._applied})
        self._follower = asyncio.create_task(self._follow(), name="qa-follower")

    async def stop(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
        for waiter in self._waiters.values():
            waiter.cancel()

    async def sync(self) -> None:
        """Wait until this process has folded everything any process appended so far, so a
        read after another process's acknowledged write sees it."""
        target = await self._log.last_sequence()
        if self._applied >= target:
            return
        self._nudge.set()
        try:
            async with self._progress:
                await asyncio.wait_for(
                    self._progress.wait_for(lambda: self._applied >= target), SYNC_LIMIT
                )
        except TimeoutError:
            log.warning("answering from a view that lags the log", extra={"target": target})

    async def submit(self, session_code: str, command: Command, now: dt.datetime) -> list[Event]:
        """Append ``command`` durably, wait until it is folded, return its events or raise
        the :class:`QAError` that refused it."""
        events = await self._submit(session_code, command, now)
        return [event for event in events if isinstance(event, Event)]

    async def submit_command(
        self, session_code: str, command: LoggedCommand, now: dt.datetime
    ) -> None:
        """Append any command durably and wait until it is folded; raise the
        :class:`~sessions.domain_errors.DomainError` that refused it (the HTTP edge answers
        it by its kind)."""
        await self._submit(session_code, command, now)

    async def _submit(
        self, session_code: str, command: LoggedCommand, now: dt.datetime
    ) -> list[DomainEvent]:
        if self.diverged:
            raise StoreUnavailable("The command log went backwards; this process must restart.")
        entry = LogEntry(session_code, now, command)
        sequence = await self._log.append(entry)
        folded = self._outcomes.get(sequence)
        if folded is None and sequence <= self._applied:
            self._diverge(sequence)
        if folded is None:
            waiter = self._waiters.get(sequence)
            if waiter is None:
                waiter = self._waiters[sequence] = asyncio.get_running_loop().create_future()
            self._nudge.set()
            try:
                folded = await asyncio.wait_for(asyncio.shield(waiter), ACKNOWLEDGE_LIMIT)
            except TimeoutError:
                raise StoreUnavailable("The command was appended but not read back.") from None
            finally:
                self._waiters.pop(sequence, None)
        folded_entry, outcome = folded
        if not same_entry(folded_entry, entry):
            self._diverge(sequence)
        if isinstance(outcome, DomainError):
            raise outcome
        return outcome

    def _diverge(self, sequence: int) -> NoReturn:
        if not self.diverged:
            log.critical(
                "the command log went backwards: a new entry got a sequence this process "
                "folded already (was the store restored or failed over?); it refuses writes "
                "until it is restarted",
                extra={"sequence": sequence, "applied": self._applied},
            )
        self.diverged = True
        raise StoreUnavailable("The command log went backwards; this process must restart.")

    async def _follow(self) -> None:
        while True:
            try:
                if not await self._catch_up():
                    await self._wait_for_more()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if is_unavailable(error):
                    log.warning("the command log cannot be read; retrying in a second: %r", error)
                else:
                    log.exception("reading the command log failed; retrying in a second")
                await asyncio.sleep(RETRY_AFTER)

    async def _wait_for_more(self) -> None:
        self._nudge.clear()
        waiting = asyncio.create_task(self._log.wait(self._applied, IDLE_WAIT))
        nudged = asyncio.create_task(self._nudge.wait())
        try:
            await asyncio.wait({waiting, nudged}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiting.cancel()
            nudged.cancel()
        if waiting.done() and not waiting.cancelled() and waiting.exception() is not None:
            log.warning("waiting on the command log failed", exc_info=waiting.exception())

    async def _catch_up(self) -> bool:
        """Fold what the log holds beyond what this process applied; say if there was any."""
        folded = False
        while entries := await self._log.read(self._applied, READ_BATCH):
            for sequence, entry in entries:
                self._fold(sequence, entry)
            folded = True
            async with self._progress:
                self._progress.notify_all()
        return folded

    def _fold(self, sequence: int, entry: LogEntry) -> None:
        command = entry.command
        outcome: Outcome
        try:
            if isinstance(command, BreakoutCommand):
                outcome = list(self.breakouts(entry.session_code).apply(command, entry.received_at))
            elif isinstance(command, ArchiveCommand):
                outcome = list(self.archive.apply(command, entry.received_at))
            elif isinstance(command, DeliveryCommand):
                outcome = list(self.delivery.apply(command, entry.received_at))
            elif isinstance(command, CaptionCommand):
                off_record = self.delivery.is_off_record(command.session_code)
                outcome = list(
                    self.captions.apply(command, entry.received_at, off_record=off_record)
                )
            else:
                outcome = list(self.session(entry.session_code).apply(command, entry.received_at))
        except DomainError as error:
            outcome = error
            self.refused_count += 1
        self._applied = sequence
        if isinstance(command, Ask) and not isinstance(outcome, DomainError):
            self._question_sessions[command.question_id] = entry.session_code
        self._outcomes[sequence] = (entry, outcome)
        if len(self._outcomes) > REMEMBERED_OUTCOMES:
            self._outcomes.popitem(last=False)
        waiter = self._waiters.get(sequence)
        if waiter is not None and not waiter.done():
            waiter.set_result((entry, outcome))
        if not isinstance(outcome, DomainError) and outcome:
            for listener in self._listeners:
                try:
                    listener(sequence, entry.session_code, outcome)
                except Exception:
                    log.exception("a q&a listener failed")

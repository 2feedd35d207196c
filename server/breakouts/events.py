"""Keeps every client's view of the break-out rooms current, on this process.

Folded break-out events become frames on ``session:<code>:breakouts`` (a fresh snapshot),
``room:<code>:<room>`` (chat) and the moderators' topic (help requests, numbered by the
command log like everything else there; the snapshot-only topics take this process's own
sequence). Phases also change
with the clock (warnings at 5 and 1 minute, the end of a round, the end of the grace
countdown), so each process keeps one timer per running round and sends a snapshot when it
fires; every process derives the same phase from the same log, so nothing is written back.
Calls of people who are no longer in a room (moved, rooms closed) are ended here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from server.conference_log import DomainEvent, QAService
from server.keys import Clock
from server.media.rooms import RoomCalls
from server.realtime.changes import (
    BreakoutsUpdated,
    BroadcastReceived,
    CallUpdated,
    ChatSaid,
    HelpAsked,
)
from server.realtime.hub import Change, Hub
from server.realtime.topics import breakouts_topic, moderation_topic, room_topic
from sessions.breakouts import BreakoutsChanged, BroadcastSent, ChatPosted, HelpRequested
from web.breakout_views import breakouts_view, chat_view

log = logging.getLogger("plenaria.breakouts")


class BreakoutPublisher:
    def __init__(self, hub: Hub, service: QAService, calls: RoomCalls, clock: Clock) -> None:
        self._hub = hub
        self._service = service
        self._calls = calls
        self._clock = clock
        self._seq = time.time_ns() // 1000
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        service.subscribe(self.on_events)
        calls.listeners.append(self.on_call_changed)

    def start(self) -> None:
        """Schedule the clock of every round the log left running."""
        for rooms in self._service.all_breakouts():
            self._schedule(rooms.session_code)

    async def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _send(self, topic: str, changes: list[Change]) -> None:
        self._seq += 1
        self._hub.publish(topic, self._seq, changes)

    def on_events(self, sequence: int, code: str, events: list[DomainEvent]) -> None:
        changed = False
        for event in events:
            match event:
                case BreakoutsChanged():
                    changed = True
                case ChatPosted(message):
                    self._send(room_topic(code, message.room_id), [ChatSaid(chat_view(message))])
                case BroadcastSent(message):
                    self._send(
                        breakouts_topic(code),
                        [BroadcastReceived(message.text, message.sent_at.isoformat())],
                    )
                case HelpRequested(room_id, participant_id, display_name):
                    changed = True
                    # The moderation topic is resumable and numbered by the command log:
                    # this frame takes its entry's sequence, like every other frame there.
                    self._hub.publish(
                        moderation_topic(code),
                        sequence,
                        [HelpAsked(room_id, participant_id, display_name)],
                    )
        if changed:
            self.refresh(code)

    def refresh(self, code: str) -> None:
        """Send the session's break-out snapshot, end calls of people no longer in a room
        and set the timer for the next change the clock brings."""
        rooms = self._service.breakouts(code)
        now = self._clock()
        self._send(breakouts_topic(code), [BreakoutsUpdated(breakouts_view(rooms, now))])
        allowed: set[tuple[str, str]] = set()
        if rooms.phase_at(now) in ("open", "closing"):
            for room in rooms.rooms:
                allowed.update((room.room_id, member) for member, _ in rooms.members(room.room_id))
            allowed.update(
                (room_id, moderator) for moderator, (_, room_id) in rooms.visitors.items()
            )
        task = asyncio.get_running_loop().create_task(self._calls.keep_only(code, allowed))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._schedule(code)

    def _schedule(self, code: str) -> None:
        timer = self._timers.pop(code, None)
        if timer is not None:
            timer.cancel()
        now = self._clock()
        deadline = self._service.breakouts(code).next_deadline(now)
        if deadline is None:
            return
        delay = max(0.0, (deadline - now).total_seconds()) + 0.05
        self._timers[code] = asyncio.get_running_loop().call_later(delay, self.refresh, code)

    def on_call_changed(self, code: str, room_id: str) -> None:
        self._send(room_topic(code, room_id), [CallUpdated(self._calls.call(code, room_id))])

"""Break-out rooms for one programme session: a state machine that does no I/O.

A moderator plans rooms, participants join the session's pool and are dealt into rooms
(automatically, by the moderator, or by their own choice), then the rooms open for a fixed
time, count down a grace period and close. Like :mod:`sessions.qa`, every change is a command
applied with the time it was received, and :meth:`Breakouts.apply` is deterministic: chance
comes from the command's seed and time from ``now``, so every process folding the same
command log holds the same rooms.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
import re
from dataclasses import dataclass, field
from typing import Literal, assert_never

from sessions import domain_errors
from sessions.ratelimit import SlidingWindow

Phase = Literal["planning", "open", "closing", "closed"]
AssignmentMode = Literal["auto", "manual", "self"]

DEFAULT_CAPACITY = 12
MAX_CAPACITY = 50
MIN_CAPACITY = 2
MAX_ROOMS = 50
DEFAULT_GRACE_SECONDS = 60
MAX_GRACE_SECONDS = 300
MAX_MINUTES = 240
MAX_EXTEND_MINUTES = 120
WARNINGS = (dt.timedelta(minutes=5), dt.timedelta(minutes=1))
"""How long before the end of a round participants are warned, longest first."""
CHAT_PER_MINUTE = 20
CHAT_KEPT = 200
"""Chat messages kept per room."""
BROADCASTS_KEPT = 20
MAX_NAME = 80
MAX_TOPIC = 280
MAX_BROADCAST = 500
MAX_MESSAGE = 1000
MAX_DISPLAY_NAME = 80
RATE_WINDOW = dt.timedelta(minutes=1)
ROOM_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
"""A room id, matched whole; it appears in URLs."""

_MODES: dict[str, AssignmentMode] = {"auto": "auto", "manual": "manual", "self": "self"}


class BreakoutError(domain_errors.DomainError):
    scope = "breakouts"


@dataclass(frozen=True, slots=True)
class RoomSpec:
    """One planned room."""

    room_id: str
    name: str
    topic: str = ""
    capacity: int = DEFAULT_CAPACITY


@dataclass(frozen=True, slots=True)
class ChatMessage:
    message_id: str
    room_id: str
    author_id: str
    author_name: str
    text: str
    sent_at: dt.datetime


@dataclass(frozen=True, slots=True)
class BroadcastMessage:
    """A moderator's message to every room at once."""

    text: str
    sent_by: str
    sent_at: dt.datetime


# Commands ---------------------------------------------------------------------------------
# ``by`` is always the moderator's participant id.


@dataclass(frozen=True, slots=True)
class PlanRooms:
    by: str
    rooms: tuple[RoomSpec, ...]
    assignment: str = "auto"
    """One of :data:`AssignmentMode`; a plain string so a bad value is refused, not undecodable."""


@dataclass(frozen=True, slots=True)
class Join:
    """Enter the session's break-out pool, or change one's name there."""

    participant_id: str
    display_name: str


@dataclass(frozen=True, slots=True)
class Leave:
    """Leave the pool, one's room and any room one visits."""

    participant_id: str


@dataclass(frozen=True, slots=True)
class Present:
    """A participant in the pool is on the session's page again (a live socket)."""

    participant_id: str


@dataclass(frozen=True, slots=True)
class Away:
    """A participant's last socket closed at ``since`` and did not come back: unless they
    were seen present after that, they are offline, and their seat is freed."""

    participant_id: str
    since: dt.datetime


@dataclass(frozen=True, slots=True)
class Assign:
    """Deal the whole pool into the rooms at random, as evenly as capacity allows."""

    by: str
    seed: int


@dataclass(frozen=True, slots=True)
class Rebalance:
    """Seat whoever has no room, then even out room sizes by moving the latest joined."""

    by: str


@dataclass(frozen=True, slots=True)
class Move:
    by: str
    participant_id: str
    room_id: str
    """The room to move to; empty to take the participant out of every room."""


@dataclass(frozen=True, slots=True)
class Choose:
    """A participant picks a room, when the plan lets participants choose."""

    participant_id: str
    room_id: str


@dataclass(frozen=True, slots=True)
class Open:
    by: str
    minutes: int


@dataclass(frozen=True, slots=True)
class Extend:
    by: str
    minutes: int


@dataclass(frozen=True, slots=True)
class Broadcast:
    by: str
    text: str


@dataclass(frozen=True, slots=True)
class AskHelp:
    participant_id: str


@dataclass(frozen=True, slots=True)
class AnswerHelp:
    by: str
    room_id: str


@dataclass(frozen=True, slots=True)
class Visit:
    """A moderator drops into a room (empty ``room_id``: leaves it); visitors take no seat."""

    by: str
    display_name: str
    room_id: str


@dataclass(frozen=True, slots=True)
class Close:
    by: str
    grace_seconds: int = DEFAULT_GRACE_SECONDS


@dataclass(frozen=True, slots=True)
class Say:
    """A chat message in the room the participant is in, as member or visitor."""

    message_id: str
    participant_id: str
    display_name: str
    text: str


BreakoutCommand = (
    PlanRooms
    | Join
    | Leave
    | Present
    | Away
    | Assign
    | Rebalance
    | Move
    | Choose
    | Open
    | Extend
    | Broadcast
    | AskHelp
    | AnswerHelp
    | Visit
    | Close
    | Say
)


# Events -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BreakoutsChanged:
    """Rooms, phase, timers, assignments, visitors or help changed: refetch the snapshot."""


@dataclass(frozen=True, slots=True)
class ChatPosted:
    message: ChatMessage


@dataclass(frozen=True, slots=True)
class BroadcastSent:
    message: BroadcastMessage


@dataclass(frozen=True, slots=True)
class HelpRequested:
    """A room asks for a moderator; also the pending request as the state keeps it."""

    room_id: str
    participant_id: str
    display_name: str


BreakoutEvent = BreakoutsChanged | ChatPosted | BroadcastSent | HelpRequested


def within_rate(window: SlidingWindow, who: str, now: dt.datetime, what: str) -> None:
    domain_errors.within_rate(window, who, now, what, BreakoutError)


def clean_text(raw: str, limit: int, what: str, *, multiline: bool = True) -> str:
    return domain_errors.clean_text(raw, limit, what, BreakoutError, multiline=multiline)


def _invalid(message: str) -> BreakoutError:
    return BreakoutError("breakouts.invalid", message, "invalid")


def _wrong_phase(phase: Phase, doing: str) -> BreakoutError:
    return BreakoutError("breakouts.wrong_phase", f"Cannot {doing} while the rooms are {phase}.")


@dataclass
class Breakouts:
    """The break-out rooms of one programme session."""

    session_code: str
    phase: Phase = "planning"
    planned: bool = False
    assignment: AssignmentMode = "auto"
    rooms: list[RoomSpec] = field(default_factory=list)
    pool: dict[str, str] = field(default_factory=dict)
    """Participant id → display name, in the order they joined."""
    room_of: dict[str, str] = field(default_factory=dict)
    """Participant id → assigned room id; kept after the rooms close, for the record."""
    visitors: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Moderator id → (display name, visited room id)."""
    seen_at: dict[str, dt.datetime] = field(default_factory=dict)
    """Pool member → when they were last known to be present (joined, or came back)."""
    away: dict[str, str | None] = field(default_factory=dict)
    """Pool members whose page closed, with the room they had (their seat is freed, and
    given back if it is still free when they return)."""
    opened_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    closes_at: dt.datetime | None = None
    help: dict[str, HelpRequested] = field(default_factory=dict)
    """Room id → its pending request for help."""
    chat: dict[str, list[ChatMessage]] = field(default_factory=dict)
    broadcasts: list[BroadcastMessage] = field(default_factory=list)
    _chat_rate: SlidingWindow = field(
        default_factory=lambda: SlidingWindow(CHAT_PER_MINUTE, RATE_WINDOW), repr=False
    )

    # -- the clock -------------------------------------------------------------------------

    def clock_at(self, now: dt.datetime) -> tuple[Phase, dt.datetime | None]:
        """The phase and end of grace as :meth:`settle` would leave them at ``now``."""
        phase, closes_at = self.phase, self.closes_at
        if phase == "open" and self.ends_at is not None and now >= self.ends_at:
            phase, closes_at = "closing", self.ends_at + dt.timedelta(seconds=DEFAULT_GRACE_SECONDS)
        if phase == "closing" and closes_at is not None and now >= closes_at:
            phase = "closed"
        return phase, closes_at

    def settle(self, now: dt.datetime) -> bool:
        """Move the phase on as time has passed (the round ended, the grace ran out); say
        whether it moved."""
        phase, closes_at = self.clock_at(now)
        if phase == self.phase:
            return False
        self.closes_at = closes_at
        if phase == "closed":
            self._finish()
        else:
            self.phase = phase
        return True

    def _finish(self) -> None:
        # New dicts rather than clear(): apply restores the old ones when a command is refused.
        self.phase = "closed"
        self.help = {}
        self.visitors = {}

    # -- reading ---------------------------------------------------------------------------

    def phase_at(self, now: dt.datetime) -> Phase:
        return self.clock_at(now)[0]

    def next_deadline(self, now: dt.datetime) -> dt.datetime | None:
        """The next moment after ``now`` at which the clock changes what clients see: a
        warning, the end of the round or the end of the grace period."""
        phase, closes_at = self.clock_at(now)
        moments: list[dt.datetime] = []
        if phase == "open" and self.ends_at is not None:
            moments = [*self._warning_moments(), self.ends_at]
        elif phase == "closing" and closes_at is not None:
            moments = [closes_at]
        return min((m for m in moments if m > now), default=None)

    def warning_at(self, now: dt.datetime) -> int | None:
        """Minutes left (5 or 1) when ``now`` is in the last minutes of an open round."""
        if self.phase_at(now) != "open" or self.ends_at is None:
            return None
        due = [
            self.ends_at - moment
            for moment in self._warning_moments()
            if moment <= now < self.ends_at
        ]
        return min(due) // dt.timedelta(minutes=1) if due else None

    def _warning_moments(self) -> list[dt.datetime]:
        """When the round's warnings fall; none before it opened (a 3-minute round gets
        no 5-minute warning)."""
        if self.ends_at is None or self.opened_at is None:
            return []
        return [self.ends_at - w for w in WARNINGS if self.ends_at - w > self.opened_at]

    def members(self, room_id: str) -> list[tuple[str, str]]:
        """The (id, name) of the room's members, in the order they joined."""
        return [(pid, name) for pid, name in self.pool.items() if self.room_of.get(pid) == room_id]

    def room_id_of(self, participant_id: str) -> str | None:
        """The room someone is in: the one they visit, else the one they are assigned to."""
        visit = self.visitors.get(participant_id)
        return visit[1] if visit is not None else self.room_of.get(participant_id)

    def chat_of(self, room_id: str) -> list[ChatMessage]:
        return list(self.chat.get(room_id, ()))

    def _room(self, room_id: str) -> RoomSpec:
        room = next((r for r in self.rooms if r.room_id == room_id), None)
        if room is None:
            raise BreakoutError("breakouts.room_unknown", "There is no such room.", "not_found")
        return room

    def _sizes(self) -> dict[str, int]:
        sizes = {room.room_id: 0 for room in self.rooms}
        for room_id in self.room_of.values():
            sizes[room_id] += 1
        return sizes

    def _least_full(self, sizes: dict[str, int]) -> str | None:
        """The emptiest room with a seat left, the first planned among equals."""
        free = [room.room_id for room in self.rooms if sizes[room.room_id] < room.capacity]
        return min(free, key=sizes.__getitem__, default=None)

    # -- writing ---------------------------------------------------------------------------

    def apply(self, command: BreakoutCommand, now: dt.datetime) -> list[BreakoutEvent]:
        """Settle the clock, then apply ``command`` received at ``now``; raise
        :class:`BreakoutError` and change nothing when it is not allowed."""
        before = (self.phase, self.closes_at, self.help, self.visitors)
        moved = self.settle(now)
        try:
            events = self._apply(command, now)
        except BreakoutError:
            self.phase, self.closes_at, self.help, self.visitors = before
            raise
        if moved and not any(isinstance(event, BreakoutsChanged) for event in events):
            events.insert(0, BreakoutsChanged())
        return events

    def _apply(self, command: BreakoutCommand, now: dt.datetime) -> list[BreakoutEvent]:
        match command:
            case PlanRooms():
                return self._plan(command)
            case Join():
                return self._join(command, now)
            case Leave():
                return self._leave(command.participant_id)
            case Present():
                return self._present(command.participant_id, now)
            case Away():
                return self._away(command.participant_id, command.since)
            case Assign():
                return self._assign(command.seed)
            case Rebalance():
                return self._rebalance()
            case Move():
                return self._move(command.participant_id, command.room_id)
            case Choose():
                return self._choose(command.participant_id, command.room_id)
            case Open():
                return self._open(command.minutes, now)
            case Extend():
                return self._extend(command.minutes, now)
            case Broadcast():
                return self._broadcast(command, now)
            case AskHelp():
                return self._ask_help(command.participant_id)
            case AnswerHelp():
                return self._answer_help(command.room_id)
            case Visit():
                return self._visit(command)
            case Close():
                return self._close(command.grace_seconds, now)
            case Say():
                return self._say(command, now)
            case _:
                assert_never(command)

    def _plan(self, command: PlanRooms) -> list[BreakoutEvent]:
        if self.phase not in ("planning", "closed"):
            raise _wrong_phase(self.phase, "plan rooms")
        mode = _MODES.get(command.assignment)
        if mode is None:
            raise _invalid("Assignment is auto, manual or self.")
        if not 1 <= len(command.rooms) <= MAX_ROOMS:
            raise _invalid(f"Plan between 1 and {MAX_ROOMS} rooms.")
        rooms: list[RoomSpec] = []
        for spec in command.rooms:
            if not ROOM_ID.fullmatch(spec.room_id):
                raise _invalid(f"{spec.room_id!r} is not a valid room id.")
            if any(room.room_id == spec.room_id for room in rooms):
                raise _invalid(f"Room id {spec.room_id!r} is used twice.")
            if not MIN_CAPACITY <= spec.capacity <= MAX_CAPACITY:
                raise _invalid(f"A room seats between {MIN_CAPACITY} and {MAX_CAPACITY}.")
            name = clean_text(spec.name, MAX_NAME, "name", multiline=False)
            topic = (
                clean_text(spec.topic, MAX_TOPIC, "topic", multiline=False)
                if spec.topic.strip()
                else ""
            )
            rooms.append(RoomSpec(spec.room_id, name, topic, spec.capacity))
        if self.phase == "closed":  # a new round: new rooms, and everyone starts afresh
            self.phase = "planning"
            self.opened_at = self.ends_at = self.closes_at = None
            self.help, self.chat, self.broadcasts = {}, {}, []
            self.room_of = {}
            self.away = {pid: None for pid in self.away}
        self.planned, self.assignment, self.rooms = True, mode, rooms
        capacity = {room.room_id: room.capacity for room in rooms}
        seated = dict.fromkeys(capacity, 0)
        kept: dict[str, str] = {}
        for pid in self.pool:  # in join order, so the latest joined lose their seats first
            room_id = self.room_of.get(pid)
            if room_id in capacity and seated[room_id] < capacity[room_id]:
                seated[room_id] += 1
                kept[pid] = room_id
        self.room_of = kept
        return [BreakoutsChanged()]

    def _join(self, command: Join, now: dt.datetime) -> list[BreakoutEvent]:
        name = clean_text(command.display_name, MAX_DISPLAY_NAME, "display_name", multiline=False)
        pid = command.participant_id
        self.seen_at[pid] = now
        if pid in self.away:
            self._return(pid)
            self.pool[pid] = name
            return [BreakoutsChanged()]
        if pid in self.pool:
            if self.pool[pid] == name:
                return []
            self.pool[pid] = name
            return [BreakoutsChanged()]
        self.pool[pid] = name
        if self.phase == "open" and self.assignment == "auto":
            room_id = self._least_full(self._sizes())
            if room_id is not None:
                self.room_of[pid] = room_id
        return [BreakoutsChanged()]

    def _leave(self, pid: str) -> list[BreakoutEvent]:
        if pid not in self.pool and pid not in self.visitors:
            raise BreakoutError("breakouts.not_in_pool", "You have not joined the break-outs.")
        self.pool.pop(pid, None)
        self.room_of.pop(pid, None)
        self.visitors.pop(pid, None)
        self.away.pop(pid, None)
        self.seen_at.pop(pid, None)
        return [BreakoutsChanged()]

    def _present(self, pid: str, now: dt.datetime) -> list[BreakoutEvent]:
        if pid not in self.pool:
            return []
        self.seen_at[pid] = now
        if pid not in self.away:
            return []
        self._return(pid)
        return [BreakoutsChanged()]

    def _return(self, pid: str) -> None:
        """Back online: the seat they had, if it is still free; in an open automatic round,
        the emptiest room, as a late joiner gets."""
        room_id = self.away.pop(pid)
        sizes = self._sizes()
        capacity = {room.room_id: room.capacity for room in self.rooms}
        if room_id in capacity and sizes[room_id] < capacity[room_id]:
            self.room_of[pid] = room_id
        elif (
            self.phase == "open"
            and self.assignment == "auto"
            and (emptiest := self._least_full(sizes)) is not None
        ):
            self.room_of[pid] = emptiest

    def _away(self, pid: str, since: dt.datetime) -> list[BreakoutEvent]:
        seen = self.seen_at.get(pid)
        if pid not in self.pool or pid in self.away or (seen is not None and seen > since):
            return []
        self.away[pid] = self.room_of.pop(pid, None)
        return [BreakoutsChanged()]

    def online(self) -> list[str]:
        """The pool members who are not known to have left, in the order they joined."""
        return [pid for pid in self.pool if pid not in self.away]

    def _require_plan(self, doing: str, phases: tuple[Phase, ...]) -> None:
        if not self.planned:
            raise BreakoutError("breakouts.not_planned", "Plan the rooms first.")
        if self.phase not in phases:
            raise _wrong_phase(self.phase, doing)

    def _reassign(self, room_of: dict[str, str]) -> list[BreakoutEvent]:
        if room_of == self.room_of:
            return []
        self.room_of = room_of
        return [BreakoutsChanged()]

    def _assign(self, seed: int) -> list[BreakoutEvent]:
        self._require_plan("assign rooms", ("planning", "open"))
        people = sorted(self.online())
        # Not for security: the seed is in the command log so every process deals the same.
        random.Random(seed).shuffle(people)  # noqa: S311
        sizes = dict.fromkeys((room.room_id for room in self.rooms), 0)
        room_of: dict[str, str] = {}
        turn = 0
        for pid in people:
            for step in range(len(self.rooms)):
                room = self.rooms[(turn + step) % len(self.rooms)]
                if sizes[room.room_id] < room.capacity:
                    sizes[room.room_id] += 1
                    room_of[pid] = room.room_id
                    turn = (turn + step + 1) % len(self.rooms)
                    break
            else:
                break  # every room is full
        return self._reassign(room_of)

    def _rebalance(self) -> list[BreakoutEvent]:
        self._require_plan("rebalance rooms", ("planning", "open"))
        order = {pid: index for index, pid in enumerate(self.pool)}
        room_of = dict(self.room_of)
        sizes = self._sizes()
        for pid in self.online():
            if pid not in room_of:
                room_id = self._least_full(sizes)
                if room_id is None:
                    break
                room_of[pid] = room_id
                sizes[room_id] += 1
        # Each room's members by join order, so the latest joined is the one to move.
        joined: dict[str, list[int]] = {room.room_id: [] for room in self.rooms}
        for pid, room_id in room_of.items():
            bisect.insort(joined[room_id], order[pid])
        people = list(self.pool)
        while True:
            largest = max(self.rooms, key=lambda room: sizes[room.room_id]).room_id
            smallest = self._least_full(sizes)
            if smallest is None or sizes[largest] - sizes[smallest] <= 1:
                break
            index = joined[largest].pop()
            bisect.insort(joined[smallest], index)
            room_of[people[index]] = smallest
            sizes[largest] -= 1
            sizes[smallest] += 1
        return self._reassign(room_of)

    def _seat(self, pid: str, room_id: str) -> list[BreakoutEvent]:
        """Put a pool member in a room, or in none when ``room_id`` is empty."""
        if pid not in self.pool:
            raise BreakoutError("breakouts.not_in_pool", "That participant has not joined.")
        if not room_id:
            return [BreakoutsChanged()] if self.room_of.pop(pid, None) is not None else []
        room = self._room(room_id)
        if self.room_of.get(pid) == room_id:
            return []
        if self._sizes()[room_id] >= room.capacity:
            raise BreakoutError("breakouts.room_full", f"{room.name} is full.")
        self.room_of[pid] = room_id
        return [BreakoutsChanged()]

    def _move(self, pid: str, room_id: str) -> list[BreakoutEvent]:
        if self.phase not in ("planning", "open", "closing"):
            raise _wrong_phase(self.phase, "move participants")
        return self._seat(pid, room_id)

    def _choose(self, pid: str, room_id: str) -> list[BreakoutEvent]:
        if self.assignment != "self":
            raise BreakoutError("breakouts.not_self_select", "Rooms are assigned, not chosen.")
        if self.phase not in ("planning", "open"):
            raise _wrong_phase(self.phase, "choose a room")
        self._room(room_id)  # choosing no room is not a choice
        return self._seat(pid, room_id)

    def _open(self, minutes: int, now: dt.datetime) -> list[BreakoutEvent]:
        self._require_plan("open the rooms", ("planning",))
        if not 1 <= minutes <= MAX_MINUTES:
            raise _invalid(f"Rooms open for 1 to {MAX_MINUTES} minutes.")
        self.phase = "open"
        self.opened_at = now
        self.ends_at = now + dt.timedelta(minutes=minutes)
        self.closes_at = None
        if self.assignment == "auto":
            # Automatic rooms take in whoever joined after the last Assign, as late joiners are.
            sizes = self._sizes()
            for pid in self.online():
                if pid not in self.room_of and (room_id := self._least_full(sizes)) is not None:
                    self.room_of[pid] = room_id
                    sizes[room_id] += 1
        return [BreakoutsChanged()]

    def _extend(self, minutes: int, now: dt.datetime) -> list[BreakoutEvent]:
        if self.phase not in ("open", "closing"):
            raise _wrong_phase(self.phase, "extend the round")
        if not 1 <= minutes <= MAX_EXTEND_MINUTES:
            raise _invalid(f"Extend by 1 to {MAX_EXTEND_MINUTES} minutes.")
        if self.phase == "closing" or self.ends_at is None:
            self.phase = "open"
            self.ends_at = now + dt.timedelta(minutes=minutes)
            self.closes_at = None
        else:
            self.ends_at += dt.timedelta(minutes=minutes)
        return [BreakoutsChanged()]

    def _broadcast(self, command: Broadcast, now: dt.datetime) -> list[BreakoutEvent]:
        if self.phase not in ("open", "closing"):
            raise _wrong_phase(self.phase, "broadcast")
        message = BroadcastMessage(
            clean_text(command.text, MAX_BROADCAST, "broadcast"), command.by, now
        )
        self.broadcasts = [*self.broadcasts, message][-BROADCASTS_KEPT:]
        return [BroadcastSent(message)]

    def _ask_help(self, pid: str) -> list[BreakoutEvent]:
        if self.phase != "open":
            raise _wrong_phase(self.phase, "ask for help")
        room_id = self.room_of.get(pid)
        if room_id is None:
            raise BreakoutError("breakouts.not_in_room", "You are not in a room.")
        if room_id in self.help:
            raise BreakoutError("breakouts.help_pending", "A moderator is already on the way.")
        request = HelpRequested(room_id, pid, self.pool[pid])
        self.help[room_id] = request
        return [BreakoutsChanged(), request]

    def _answer_help(self, room_id: str) -> list[BreakoutEvent]:
        self._room(room_id)
        if self.help.pop(room_id, None) is None:
            raise BreakoutError("breakouts.no_help_pending", "That room has not asked for help.")
        return [BreakoutsChanged()]

    def _visit(self, command: Visit) -> list[BreakoutEvent]:
        if self.phase not in ("open", "closing"):
            raise _wrong_phase(self.phase, "visit a room")
        if not command.room_id:
            return [BreakoutsChanged()] if self.visitors.pop(command.by, None) else []
        self._room(command.room_id)
        name = clean_text(command.display_name, MAX_DISPLAY_NAME, "display_name", multiline=False)
        visit = (name, command.room_id)
        if self.visitors.get(command.by) == visit:
            return []
        self.visitors[command.by] = visit
        return [BreakoutsChanged()]

    def _close(self, grace_seconds: int, now: dt.datetime) -> list[BreakoutEvent]:
        if self.phase != "open":
            raise _wrong_phase(self.phase, "close the rooms")
        if not 0 <= grace_seconds <= MAX_GRACE_SECONDS:
            raise _invalid(f"The grace period is 0 to {MAX_GRACE_SECONDS} seconds.")
        self.closes_at = now + dt.timedelta(seconds=grace_seconds)
        if grace_seconds:
            self.phase = "closing"
        else:
            self._finish()
        return [BreakoutsChanged()]

    def _say(self, command: Say, now: dt.datetime) -> list[BreakoutEvent]:
        if self.phase not in ("open", "closing"):
            raise _wrong_phase(self.phase, "chat")
        room_id = self.room_id_of(command.participant_id)
        if room_id is None:
            raise BreakoutError("breakouts.not_in_room", "You are not in a room.")
        message = ChatMessage(
            message_id=command.message_id,
            room_id=room_id,
            author_id=command.participant_id,
            author_name=clean_text(
                command.display_name, MAX_DISPLAY_NAME, "display_name", multiline=False
            ),
            text=clean_text(command.text, MAX_MESSAGE, "message"),
            sent_at=now,
        )
        within_rate(self._chat_rate, command.participant_id, now, "messages")
        self.chat[room_id] = [*self.chat.get(room_id, []), message][-CHAT_KEPT:]
        return [ChatPosted(message)]

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from typing import Any

import msgspec
import pytest

from sessions.breakouts import (
    BROADCASTS_KEPT,
    CHAT_KEPT,
    CHAT_PER_MINUTE,
    DEFAULT_GRACE_SECONDS,
    MAX_BROADCAST,
    MAX_CAPACITY,
    MAX_MINUTES,
    MAX_ROOMS,
    MIN_CAPACITY,
    AnswerHelp,
    AskHelp,
    Assign,
    Away,
    BreakoutCommand,
    BreakoutError,
    BreakoutEvent,
    Breakouts,
    BreakoutsChanged,
    Broadcast,
    BroadcastSent,
    ChatPosted,
    Choose,
    Close,
    Extend,
    HelpRequested,
    Join,
    Leave,
    Move,
    Open,
    PlanRooms,
    Present,
    Rebalance,
    RoomSpec,
    Say,
    Visit,
)
from web.breakout_views import breakouts_view

T0 = dt.datetime(2026, 5, 11, 10, tzinfo=dt.UTC)
ROOMS = (RoomSpec("a", "Alpha", capacity=3), RoomSpec("b", "Beta", capacity=3))
CHANGED: list[BreakoutEvent] = [BreakoutsChanged()]


def snapshot(breakouts: Breakouts, now: dt.datetime) -> Any:
    """The rooms as the session's pages get them, as JSON values."""
    return msgspec.to_builtins(breakouts_view(breakouts, now))


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def planned(*people: str, mode: str = "auto", rooms: tuple[RoomSpec, ...] = ROOMS) -> Breakouts:
    """Rooms planned at T0 with ``people`` in the pool (named after their ids, title-cased)."""
    breakouts = Breakouts("panel")
    breakouts.apply(PlanRooms("mod", rooms, mode), T0)
    for person in people:
        breakouts.apply(Join(person, person.title()), T0)
    return breakouts


def opened(*seated: tuple[str, str], minutes: int = 20, mode: str = "auto") -> Breakouts:
    """Rooms open from T0 for ``minutes`` with each (person, room) seated."""
    breakouts = planned(*(person for person, _ in seated), mode=mode)
    for person, room in seated:
        breakouts.apply(Move("mod", person, room), T0)
    breakouts.apply(Open("mod", minutes), T0)
    return breakouts


def observable(breakouts: Breakouts) -> dict[str, object]:
    """The state but for the rate limiter's bookkeeping (which counts refused calls)."""
    return {
        f.name: copy.deepcopy(getattr(breakouts, f.name))
        for f in dataclasses.fields(breakouts)
        if f.name != "_chat_rate"
    }


def error_code(breakouts: Breakouts, command: BreakoutCommand, now: dt.datetime = T0) -> str:
    before = observable(breakouts)
    with pytest.raises(BreakoutError) as raised:
        breakouts.apply(command, now)
    assert observable(breakouts) == before, "a refused command changed the state"
    return raised.value.code


def sizes(breakouts: Breakouts) -> list[int]:
    return [len(breakouts.members(room.room_id)) for room in breakouts.rooms]


# -- planning --------------------------------------------------------------------------------


def test_plan_cleans_the_rooms_and_sets_the_mode() -> None:
    breakouts = Breakouts("panel")
    events = breakouts.apply(
        PlanRooms("mod", (RoomSpec("heat", "  Heat   and\ncities ", " Trees? ", 4),), "self"), T0
    )
    assert events == CHANGED
    assert breakouts.planned
    assert breakouts.assignment == "self"
    assert breakouts.rooms == [RoomSpec("heat", "Heat and cities", "Trees?", 4)]


def room(room_id: str = "a", name: str = "Alpha", topic: str = "", capacity: int = 3) -> RoomSpec:
    return RoomSpec(room_id, name, topic, capacity)


@pytest.mark.parametrize(
    ("rooms", "mode", "code"),
    [
        ((), "auto", "breakouts.invalid"),
        (tuple(room(f"r{n}") for n in range(MAX_ROOMS + 1)), "auto", "breakouts.invalid"),
        ((room(),), "random", "breakouts.invalid"),
        ((room("A"),), "auto", "breakouts.invalid"),
        ((room("-a"),), "auto", "breakouts.invalid"),
        ((room("a\n"),), "auto", "breakouts.invalid"),
        ((room("a" * 33),), "auto", "breakouts.invalid"),
        ((room(), room()), "auto", "breakouts.invalid"),
        ((room(capacity=MIN_CAPACITY - 1),), "auto", "breakouts.invalid"),
        ((room(capacity=MAX_CAPACITY + 1),), "auto", "breakouts.invalid"),
        ((room(name="  "),), "auto", "breakouts.name_empty"),
        ((room(name="x" * 81),), "auto", "breakouts.name_too_long"),
        ((room(name="a\x00b"),), "auto", "breakouts.name_invalid"),
        ((room(topic="x" * 281),), "auto", "breakouts.topic_too_long"),
    ],
)
def test_a_bad_plan_is_refused(rooms: tuple[RoomSpec, ...], mode: str, code: str) -> None:
    assert error_code(Breakouts("panel"), PlanRooms("mod", rooms, mode)) == code


def test_longest_room_ids_and_plans_are_accepted() -> None:
    rooms = tuple(room(f"r{n}-" + "x" * 28) for n in range(MAX_ROOMS))
    breakouts = Breakouts("panel")
    breakouts.apply(PlanRooms("mod", rooms), T0)
    assert len(breakouts.rooms) == MAX_ROOMS


def test_replanning_drops_vanished_rooms_and_the_latest_joined_above_capacity() -> None:
    breakouts = planned("ann", "bob", "cyd", "dee", rooms=(room("a", capacity=3), room("b")))
    for person, room_id in (("ann", "a"), ("bob", "a"), ("cyd", "a"), ("dee", "b")):
        breakouts.apply(Move("mod", person, room_id), T0)
    breakouts.apply(PlanRooms("mod", (room("a", capacity=2), room("c"))), T0)
    assert breakouts.room_of == {"ann": "a", "bob": "a"}
    assert list(breakouts.pool) == ["ann", "bob", "cyd", "dee"]


def test_plan_is_refused_while_the_rooms_are_open() -> None:
    breakouts = opened()
    assert error_code(breakouts, PlanRooms("mod", ROOMS)) == "breakouts.wrong_phase"
    breakouts.apply(Close("mod", 30), at(1))
    assert error_code(breakouts, PlanRooms("mod", ROOMS), at(1)) == "breakouts.wrong_phase"


def test_a_new_plan_after_a_round_starts_over_but_keeps_the_pool() -> None:
    breakouts = opened(("ann", "a"), ("bob", "b"))
    breakouts.apply(Say("m1", "ann", "Ann", "hello"), at(1))
    breakouts.apply(Broadcast("mod", "two minutes"), at(1))
    breakouts.apply(AskHelp("bob"), at(1))
    breakouts.apply(Close("mod", 0), at(2))
    assert breakouts.phase_at(at(2)) == "closed"
    breakouts.apply(PlanRooms("mod", (room("a"),), "manual"), at(3))
    assert (breakouts.phase, breakouts.assignment) == ("planning", "manual")
    assert (breakouts.opened_at, breakouts.ends_at, breakouts.closes_at) == (None, None, None)
    assert (breakouts.help, breakouts.chat, breakouts.broadcasts) == ({}, {}, [])
    assert breakouts.pool == {"ann": "Ann", "bob": "Bob"}
    assert breakouts.room_of == {}, "a new round's rooms start empty: nobody is in last round's"


# -- the pool --------------------------------------------------------------------------------


def test_join_is_idempotent_and_renames() -> None:
    breakouts = planned()
    assert breakouts.apply(Join("ann", " Ann "), T0) == CHANGED
    assert breakouts.apply(Join("ann", "Ann"), T0) == []
    assert breakouts.apply(Join("ann", "Ann B."), T0) == CHANGED
    assert breakouts.pool == {"ann": "Ann B."}


def test_join_needs_a_display_name() -> None:
    assert error_code(planned(), Join("ann", " \t")) == "breakouts.display_name_empty"
    assert error_code(planned(), Join("ann", "x" * 81)) == "breakouts.display_name_too_long"


def test_join_before_the_rooms_open_waits_unassigned() -> None:
    breakouts = planned("ann")
    breakouts.apply(Move("mod", "ann", "a"), T0)
    breakouts.apply(Join("bob", "Bob"), T0)
    assert breakouts.room_id_of("bob") is None


def test_join_while_open_seats_the_newcomer_in_the_emptiest_room() -> None:
    breakouts = opened(("ann", "a"), ("bob", "a"))
    breakouts.apply(Join("cyd", "Cyd"), at(1))
    breakouts.apply(Join("dee", "Dee"), at(1))
    breakouts.apply(Join("eve", "Eve"), at(1))
    assert [breakouts.room_id_of(p) for p in ("cyd", "dee", "eve")] == ["b", "b", "a"]
    breakouts.apply(Join("fay", "Fay"), at(1))
    breakouts.apply(Join("gus", "Gus"), at(1))
    assert breakouts.room_id_of("gus") is None, "every room is full"


def test_join_while_open_does_not_seat_unless_assignment_is_auto() -> None:
    breakouts = opened(mode="manual")
    breakouts.apply(Join("ann", "Ann"), at(1))
    assert breakouts.room_id_of("ann") is None


def test_join_is_allowed_after_the_rooms_closed() -> None:
    breakouts = opened()
    breakouts.apply(Close("mod", 0), at(1))
    assert breakouts.apply(Join("ann", "Ann"), at(2)) == CHANGED
    assert breakouts.room_id_of("ann") is None


def test_leave_drops_from_pool_and_room() -> None:
    breakouts = opened(("ann", "a"), ("bob", "a"))
    assert breakouts.apply(Leave("ann"), at(1)) == CHANGED
    assert "ann" not in breakouts.pool
    assert breakouts.members("a") == [("bob", "Bob")]
    assert error_code(breakouts, Leave("ann"), at(1)) == "breakouts.not_in_pool"


def test_leave_ends_a_moderators_visit() -> None:
    breakouts = opened()
    breakouts.apply(Visit("mod", "Mo", "a"), at(1))
    assert breakouts.apply(Leave("mod"), at(1)) == CHANGED
    assert breakouts.visitors == {}


# -- assignment ------------------------------------------------------------------------------


def test_assign_deals_the_pool_evenly_and_is_determined_by_the_seed() -> None:
    people = [f"p{n}" for n in range(5)]
    one, two = planned(*people), planned(*people)
    assert one.apply(Assign("mod", 42), T0) == CHANGED
    two.apply(Assign("mod", 42), T0)
    assert one.room_of == two.room_of
    assert set(one.room_of) == set(people)
    assert sorted(sizes(one)) == [2, 3]
    assert one.apply(Assign("mod", 42), T0) == [], "the same deal changes nothing"
    deals = set()
    for seed in range(20):
        one.apply(Assign("mod", seed), T0)
        deals.add(tuple(sorted(one.room_of.items())))
    assert len(deals) > 1


def test_assign_leaves_unassigned_who_does_not_fit() -> None:
    breakouts = planned(*(f"p{n}" for n in range(8)), rooms=(room("a", capacity=2), room("b")))
    breakouts.apply(Assign("mod", 1), T0)
    assert sizes(breakouts) == [2, 3]
    assert len(breakouts.room_of) == 5


def test_assign_skips_full_rooms_and_balances_the_rest() -> None:
    rooms = (room("a", capacity=2), room("b", capacity=10), room("c", capacity=10))
    breakouts = planned(*(f"p{n}" for n in range(12)), rooms=rooms)
    breakouts.apply(Assign("mod", 3), T0)
    assert sizes(breakouts) == [2, 5, 5]


def test_assign_needs_a_plan_and_the_right_phase() -> None:
    breakouts = Breakouts("panel")
    assert error_code(breakouts, Assign("mod", 1)) == "breakouts.not_planned"
    breakouts = opened()
    breakouts.apply(Close("mod", 30), at(1))
    assert error_code(breakouts, Assign("mod", 1), at(1)) == "breakouts.wrong_phase"


def test_rebalance_seats_the_unassigned_and_moves_the_latest_joined() -> None:
    rooms = (room("a", capacity=6), room("b", capacity=6))
    breakouts = planned("ann", "bob", "cyd", "dee", "eve", rooms=rooms)
    for person in ("ann", "bob", "cyd", "dee"):
        breakouts.apply(Move("mod", person, "a"), T0)
    assert breakouts.apply(Rebalance("mod"), T0) == CHANGED
    assert breakouts.members("a") == [("ann", "Ann"), ("bob", "Bob"), ("cyd", "Cyd")]
    assert breakouts.members("b") == [("dee", "Dee"), ("eve", "Eve")]
    assert breakouts.apply(Rebalance("mod"), T0) == []


def test_rebalance_evens_out_what_capacity_allows() -> None:
    rooms = (room("a", capacity=2), room("b", capacity=8), room("c", capacity=8))
    breakouts = planned(*(f"p{n}" for n in range(9)), rooms=rooms)
    for n in range(8):
        breakouts.apply(Move("mod", f"p{n}", "b"), T0)
    breakouts.apply(Rebalance("mod"), T0)
    assert sizes(breakouts) == [2, 4, 3]


def test_rebalance_needs_a_plan_and_the_right_phase() -> None:
    assert error_code(Breakouts("panel"), Rebalance("mod")) == "breakouts.not_planned"
    breakouts = opened()
    breakouts.apply(Close("mod", 0), at(1))
    assert error_code(breakouts, Rebalance("mod"), at(1)) == "breakouts.wrong_phase"


def test_move_seats_and_unseats() -> None:
    breakouts = planned("ann")
    assert breakouts.apply(Move("mod", "ann", "b"), T0) == CHANGED
    assert breakouts.room_id_of("ann") == "b"
    assert breakouts.apply(Move("mod", "ann", "b"), T0) == []
    assert breakouts.apply(Move("mod", "ann", ""), T0) == CHANGED
    assert breakouts.room_id_of("ann") is None
    assert breakouts.apply(Move("mod", "ann", ""), T0) == []


def test_move_refusals() -> None:
    breakouts = planned("ann", "bob", "cyd", "dee")
    for person in ("ann", "bob", "cyd"):
        breakouts.apply(Move("mod", person, "a"), T0)
    assert error_code(breakouts, Move("mod", "dee", "a")) == "breakouts.room_full"
    assert error_code(breakouts, Move("mod", "dee", "zz")) == "breakouts.room_unknown"
    assert error_code(breakouts, Move("mod", "eve", "b")) == "breakouts.not_in_pool"
    breakouts.apply(Open("mod", 5), T0)
    breakouts.apply(Close("mod", 30), at(1))
    assert breakouts.room_id_of("dee") == "b", "opening seated the one left over"
    assert breakouts.apply(Move("mod", "dee", ""), at(1)) == CHANGED, "allowed while closing"
    breakouts.settle(at(2))
    assert error_code(breakouts, Move("mod", "ann", "b"), at(2)) == "breakouts.wrong_phase"


def test_choose_lets_participants_pick_when_the_plan_says_so() -> None:
    breakouts = planned("ann", "bob", "cyd", "dee", mode="self")
    for person in ("ann", "bob", "cyd"):
        assert breakouts.apply(Choose(person, "a"), T0) == CHANGED
    assert error_code(breakouts, Choose("dee", "a")) == "breakouts.room_full"
    assert error_code(breakouts, Choose("dee", "zz")) == "breakouts.room_unknown"
    assert error_code(breakouts, Choose("dee", "")) == "breakouts.room_unknown"
    assert error_code(breakouts, Choose("eve", "b")) == "breakouts.not_in_pool"
    assert breakouts.apply(Choose("ann", "b"), T0) == CHANGED
    breakouts.apply(Open("mod", 5), T0)
    assert breakouts.apply(Choose("dee", "a"), at(1)) == CHANGED
    breakouts.apply(Close("mod", 30), at(2))
    assert error_code(breakouts, Choose("dee", "b"), at(2)) == "breakouts.wrong_phase"


def test_choose_is_refused_unless_self_select() -> None:
    assert error_code(planned("ann"), Choose("ann", "a")) == "breakouts.not_self_select"


# -- the round -------------------------------------------------------------------------------


def test_open_starts_the_clock() -> None:
    breakouts = planned()
    assert breakouts.apply(Open("mod", 20), T0) == CHANGED
    assert breakouts.phase == "open"
    assert (breakouts.opened_at, breakouts.ends_at, breakouts.closes_at) == (T0, at(20), None)


def test_open_refusals() -> None:
    assert error_code(Breakouts("panel"), Open("mod", 5)) == "breakouts.not_planned"
    assert error_code(planned(), Open("mod", 0)) == "breakouts.invalid"
    assert error_code(planned(), Open("mod", MAX_MINUTES + 1)) == "breakouts.invalid"
    assert error_code(opened(), Open("mod", 5)) == "breakouts.wrong_phase"


def test_extend_an_open_round_adds_to_its_end() -> None:
    breakouts = opened()
    assert breakouts.apply(Extend("mod", 10), at(5)) == CHANGED
    assert breakouts.ends_at == at(30)


def test_extend_while_closing_reopens_from_now() -> None:
    breakouts = opened()
    breakouts.apply(Close("mod", 120), at(5))
    assert breakouts.apply(Extend("mod", 10), at(6)) == CHANGED
    assert breakouts.phase == "open"
    assert (breakouts.ends_at, breakouts.closes_at) == (at(16), None)


def test_extend_refusals() -> None:
    assert error_code(planned(), Extend("mod", 5)) == "breakouts.wrong_phase"
    assert error_code(opened(), Extend("mod", 0)) == "breakouts.invalid"
    assert error_code(opened(), Extend("mod", 121)) == "breakouts.invalid"


def test_close_counts_down_the_grace_then_closes() -> None:
    breakouts = opened(("ann", "a"))
    breakouts.apply(Visit("mod", "Mo", "a"), at(1))
    breakouts.apply(AskHelp("ann"), at(1))
    assert breakouts.apply(Close("mod", 30), at(2)) == CHANGED
    assert breakouts.phase == "closing"
    assert breakouts.closes_at == at(2.5)
    assert breakouts.phase_at(at(2.5)) == "closed"
    assert breakouts.settle(at(2.5))
    assert (breakouts.phase, breakouts.help, breakouts.visitors) == ("closed", {}, {})
    assert breakouts.room_of == {"ann": "a"}, "assignments are kept for the record"


def test_close_without_grace_closes_at_once() -> None:
    breakouts = opened(("ann", "a"))
    breakouts.apply(Visit("mod", "Mo", "b"), at(1))
    breakouts.apply(AskHelp("ann"), at(1))
    assert breakouts.apply(Close("mod", 0), at(2)) == CHANGED
    assert (breakouts.phase, breakouts.help, breakouts.visitors) == ("closed", {}, {})


def test_close_refusals() -> None:
    assert error_code(planned(), Close("mod")) == "breakouts.wrong_phase"
    assert error_code(opened(), Close("mod", -1)) == "breakouts.invalid"
    assert error_code(opened(), Close("mod", 301)) == "breakouts.invalid"
    closing = opened()
    closing.apply(Close("mod", 30), at(1))
    assert error_code(closing, Close("mod", 0), at(1)) == "breakouts.wrong_phase"


# -- the clock -------------------------------------------------------------------------------


def test_the_round_ends_on_time_then_the_grace_runs_out() -> None:
    breakouts = opened(minutes=20)
    assert breakouts.phase_at(at(20) - dt.timedelta(microseconds=1)) == "open"
    assert breakouts.phase_at(at(20)) == "closing"
    assert breakouts.phase_at(at(21)) == "closed"
    assert breakouts.phase == "open", "reading does not settle"
    phases = []
    for moment in (at(19), at(20), at(21)):
        phases.append((breakouts.settle(moment), breakouts.phase, breakouts.closes_at))
    grace_end = at(20) + dt.timedelta(seconds=DEFAULT_GRACE_SECONDS)
    assert phases == [
        (False, "open", None),
        (True, "closing", grace_end),
        (True, "closed", grace_end),
    ]


def test_settling_jumps_straight_to_closed_when_long_past() -> None:
    breakouts = opened(minutes=20)
    assert breakouts.settle(at(100))
    assert breakouts.phase == "closed"
    assert breakouts.closes_at == at(21)


def test_a_command_that_moves_the_phase_says_so() -> None:
    breakouts = opened(("ann", "a"), minutes=20)
    events = breakouts.apply(Broadcast("mod", "wrap up"), at(20))
    assert isinstance(events[0], BreakoutsChanged)
    assert isinstance(events[1], BroadcastSent)
    assert breakouts.phase == "closing"
    assert breakouts.apply(Join("ann", "Ann"), at(21)) == CHANGED
    assert breakouts.apply(Join("ann", "Ann"), T0 + dt.timedelta(hours=1)) == []


def test_a_refused_command_does_not_settle_the_clock() -> None:
    breakouts = opened(minutes=20)
    assert error_code(breakouts, Open("mod", 5), at(30)) == "breakouts.wrong_phase"
    assert breakouts.phase == "open"


def test_extend_from_the_automatic_grace() -> None:
    breakouts = opened(minutes=20)
    breakouts.apply(Extend("mod", 3), at(20.5))
    assert breakouts.phase == "open"
    assert breakouts.ends_at == at(23.5)
    assert breakouts.closes_at is None


def test_warnings_and_deadlines_through_a_round() -> None:
    breakouts = opened(minutes=20)
    grace_end = at(21)
    assert breakouts.next_deadline(at(1)) == at(15)
    assert breakouts.warning_at(at(1)) is None
    assert breakouts.next_deadline(at(15)) == at(19)
    assert breakouts.warning_at(at(15)) == 5
    assert breakouts.warning_at(at(18.9)) == 5
    assert breakouts.next_deadline(at(19)) == at(20)
    assert breakouts.warning_at(at(19)) == 1
    assert breakouts.next_deadline(at(20)) == grace_end
    assert breakouts.warning_at(at(20)) is None
    assert breakouts.next_deadline(grace_end) is None
    assert breakouts.warning_at(grace_end) is None


def test_a_short_round_gets_no_warning_before_it_opened() -> None:
    breakouts = opened(minutes=3)
    assert breakouts.next_deadline(T0) == at(2)
    assert breakouts.warning_at(T0) is None
    assert breakouts.warning_at(at(2)) == 1
    five = opened(minutes=5)
    assert five.next_deadline(T0) == at(4)


def test_deadlines_while_closing_early_and_before_opening() -> None:
    assert planned().next_deadline(T0) is None
    breakouts = opened(minutes=20)
    breakouts.apply(Close("mod", 30), at(2))
    assert breakouts.next_deadline(at(2)) == at(2.5)
    assert breakouts.warning_at(at(2)) is None


# -- messages and help -----------------------------------------------------------------------


def test_broadcast_reaches_everyone_and_only_the_latest_are_kept() -> None:
    breakouts = opened()
    events = breakouts.apply(Broadcast("mod", "  Five   minutes left "), at(1))
    assert [type(e) for e in events] == [BroadcastSent]
    message = breakouts.broadcasts[-1]
    assert (message.text, message.sent_by, message.sent_at) == ("Five minutes left", "mod", at(1))
    for n in range(BROADCASTS_KEPT + 5):
        breakouts.apply(Broadcast("mod", f"note {n}"), at(2))
    assert len(breakouts.broadcasts) == BROADCASTS_KEPT
    assert breakouts.broadcasts[-1].text == f"note {BROADCASTS_KEPT + 4}"


def test_broadcast_refusals() -> None:
    assert error_code(planned(), Broadcast("mod", "hi")) == "breakouts.wrong_phase"
    assert error_code(opened(), Broadcast("mod", " ")) == "breakouts.broadcast_empty"
    too_long = Broadcast("mod", "x" * (MAX_BROADCAST + 1))
    assert error_code(opened(), too_long) == "breakouts.broadcast_too_long"


def test_help_is_asked_once_per_room_and_answered() -> None:
    breakouts = opened(("ann", "a"), ("bob", "a"))
    events = breakouts.apply(AskHelp("ann"), at(1))
    assert events == [BreakoutsChanged(), HelpRequested("a", "ann", "Ann")]
    assert error_code(breakouts, AskHelp("bob"), at(1)) == "breakouts.help_pending"
    assert breakouts.apply(AnswerHelp("mod", "a"), at(2)) == CHANGED
    assert breakouts.help == {}
    assert error_code(breakouts, AnswerHelp("mod", "a"), at(2)) == "breakouts.no_help_pending"
    assert error_code(breakouts, AnswerHelp("mod", "zz"), at(2)) == "breakouts.room_unknown"


def test_help_refusals() -> None:
    assert error_code(planned("ann"), AskHelp("ann")) == "breakouts.wrong_phase"
    breakouts = opened(("ann", "a"))
    breakouts.apply(Join("bob", "Bob"), at(1))
    breakouts.apply(Move("mod", "bob", ""), at(1))
    assert error_code(breakouts, AskHelp("bob"), at(1)) == "breakouts.not_in_room"
    assert error_code(breakouts, AskHelp("eve"), at(1)) == "breakouts.not_in_room"
    breakouts.apply(Close("mod", 30), at(2))
    assert error_code(breakouts, AskHelp("ann"), at(2)) == "breakouts.wrong_phase"


def test_a_visiting_moderator_is_in_the_room_without_taking_a_seat() -> None:
    breakouts = opened(("ann", "a"), ("bob", "a"), ("cyd", "a"))
    assert breakouts.apply(Visit("mod", "Mo", "a"), at(1)) == CHANGED
    assert breakouts.room_id_of("mod") == "a"
    assert breakouts.members("a") == [("ann", "Ann"), ("bob", "Bob"), ("cyd", "Cyd")]
    assert breakouts.apply(Visit("mod", "Mo", "a"), at(1)) == []
    assert breakouts.apply(Visit("mod", "Mo", "b"), at(1)) == CHANGED
    assert breakouts.room_id_of("mod") == "b"
    assert breakouts.apply(Visit("mod", "Mo", ""), at(1)) == CHANGED
    assert breakouts.room_id_of("mod") is None
    assert breakouts.apply(Visit("mod", "Mo", ""), at(1)) == []


def test_a_visit_outranks_the_visitors_own_seat() -> None:
    breakouts = opened(("ann", "a"))
    breakouts.apply(Visit("ann", "Ann", "b"), at(1))
    assert breakouts.room_id_of("ann") == "b"
    assert breakouts.room_of["ann"] == "a"


def test_visit_refusals() -> None:
    assert error_code(planned(), Visit("mod", "Mo", "a")) == "breakouts.wrong_phase"
    assert error_code(opened(), Visit("mod", "Mo", "zz")) == "breakouts.room_unknown"
    assert error_code(opened(), Visit("mod", "", "a")) == "breakouts.display_name_empty"


def test_chat_goes_to_the_room_the_author_is_in() -> None:
    breakouts = opened(("ann", "a"))
    events = breakouts.apply(Say("m1", "ann", "Ann", " hello\n\n\n\nall "), at(1))
    assert len(events) == 1 and isinstance(events[0], ChatPosted)
    message = events[0].message
    assert (message.room_id, message.author_id, message.text) == ("a", "ann", "hello\n\nall")
    breakouts.apply(Visit("mod", "Mo", "a"), at(1))
    breakouts.apply(Say("m2", "mod", "Mo", "hi, Mo here"), at(2))
    assert [m.message_id for m in breakouts.chat_of("a")] == ["m1", "m2"]
    assert breakouts.chat_of("b") == []


def test_chat_refusals() -> None:
    assert error_code(planned("ann"), Say("m1", "ann", "Ann", "hi")) == "breakouts.wrong_phase"
    breakouts = opened(("ann", "a"))
    assert error_code(breakouts, Say("m1", "bob", "Bob", "hi"), at(1)) == "breakouts.not_in_room"
    assert error_code(breakouts, Say("m1", "ann", "Ann", " "), at(1)) == "breakouts.message_empty"
    long = Say("m1", "ann", "Ann", "x" * 1001)
    assert error_code(breakouts, long, at(1)) == "breakouts.message_too_long"
    breakouts.apply(Close("mod", 0), at(2))
    assert error_code(breakouts, Say("m1", "ann", "Ann", "hi"), at(2)) == "breakouts.wrong_phase"


def test_chat_is_rate_limited_per_participant() -> None:
    breakouts = opened(("ann", "a"), ("bob", "a"))
    for n in range(CHAT_PER_MINUTE):
        breakouts.apply(Say(f"m{n}", "ann", "Ann", "hi"), at(1 + n / 100))
    late = Say("late", "ann", "Ann", "hi")
    assert error_code(breakouts, late, at(1.5)) == "breakouts.rate_limited"
    breakouts.apply(Say("other", "bob", "Bob", "hi"), at(1.5))
    assert breakouts.apply(late, at(2)) != []


def test_only_the_latest_chat_is_kept() -> None:
    breakouts = opened(("ann", "a"), minutes=MAX_MINUTES)
    for n in range(CHAT_KEPT + 3):
        breakouts.apply(Say(f"m{n}", "ann", "Ann", "hi"), at(n))
    kept = breakouts.chat_of("a")
    assert len(kept) == CHAT_KEPT
    assert (kept[0].message_id, kept[-1].message_id) == ("m3", f"m{CHAT_KEPT + 2}")


# -- reading ---------------------------------------------------------------------------------


def test_snapshot_says_what_everyone_may_see() -> None:
    breakouts = opened(("ann", "a"), ("bob", "b"), minutes=20)
    breakouts.apply(Join("cyd", "Cyd"), T0)
    breakouts.apply(Move("mod", "cyd", ""), T0)
    breakouts.apply(Visit("mod", "Mo", "a"), at(1))
    breakouts.apply(AskHelp("bob"), at(1))
    breakouts.apply(Broadcast("mod", "hello"), at(2))
    assert snapshot(breakouts, at(16)) == {
        "phase": "open",
        "planned": True,
        "assignment": "auto",
        "opened_at": T0.isoformat(),
        "ends_at": at(20).isoformat(),
        "closes_at": None,
        "warning": 5,
        "rooms": [
            {
                "room_id": "a",
                "name": "Alpha",
                "topic": "",
                "capacity": 3,
                "members": [{"id": "ann", "name": "Ann", "online": True}],
                "visitors": [{"id": "mod", "name": "Mo"}],
                "help": None,
            },
            {
                "room_id": "b",
                "name": "Beta",
                "topic": "",
                "capacity": 3,
                "members": [{"id": "bob", "name": "Bob", "online": True}],
                "visitors": [],
                "help": {"id": "bob", "name": "Bob"},
            },
        ],
        "unassigned": [{"id": "cyd", "name": "Cyd", "online": True}],
        "broadcasts": [{"text": "hello", "at": at(2).isoformat()}],
    }


def test_snapshot_follows_the_clock_without_settling() -> None:
    breakouts = opened(("ann", "a"), minutes=20)
    breakouts.apply(Visit("mod", "Mo", "a"), at(1))
    breakouts.apply(AskHelp("ann"), at(1))
    closing = snapshot(breakouts, at(20.5))
    assert (closing["phase"], closing["closes_at"]) == ("closing", at(21).isoformat())
    closed = snapshot(breakouts, at(30))
    assert closed["phase"] == "closed"
    assert closed["rooms"] == [
        {
            "room_id": "a",
            "name": "Alpha",
            "topic": "",
            "capacity": 3,
            "members": [{"id": "ann", "name": "Ann", "online": True}],
            "visitors": [],
            "help": None,
        },
        {
            "room_id": "b",
            "name": "Beta",
            "topic": "",
            "capacity": 3,
            "members": [],
            "visitors": [],
            "help": None,
        },
    ]
    assert breakouts.phase == "open"


def test_commands_survive_the_command_log_encoding() -> None:
    commands: list[BreakoutCommand] = [
        PlanRooms("mod", (RoomSpec("a", "Alpha", "t", 4), RoomSpec("b", "Beta")), "self"),
        Join("ann", "Ann"),
        Leave("ann"),
        Assign("mod", 2**40),
        Rebalance("mod"),
        Move("mod", "ann", ""),
        Choose("ann", "a"),
        Open("mod", 20),
        Extend("mod", 5),
        Broadcast("mod", "hi"),
        AskHelp("ann"),
        AnswerHelp("mod", "a"),
        Visit("mod", "Mo", "a"),
        Close("mod"),
        Say("m1", "ann", "Ann", "hi"),
    ]
    for command in commands:
        encoded = msgspec.json.encode(command)
        assert msgspec.json.decode(encoded, type=type(command)) == command


def test_opening_automatic_rooms_seats_whoever_is_still_unassigned() -> None:
    rooms = Breakouts("panel")
    rooms.apply(
        PlanRooms("mod", (RoomSpec("a", "A", capacity=2), RoomSpec("b", "B", capacity=2))), T0
    )
    for pid in ("p1", "p2", "p3"):
        rooms.apply(Join(pid, pid.upper()), T0)
    rooms.apply(Open("mod", 10), T0)
    assert sorted(len(rooms.members(r)) for r in ("a", "b")) == [1, 2]
    manual = Breakouts("panel")
    manual.apply(PlanRooms("mod", (RoomSpec("a", "A"),), "manual"), T0)
    manual.apply(Join("p1", "P1"), T0)
    manual.apply(Open("mod", 10), T0)
    assert manual.room_id_of("p1") is None


# -- who is there ----------------------------------------------------------------------------


def test_people_whose_page_closed_are_not_dealt_and_show_offline() -> None:
    breakouts = planned("ann", "bob", "cyd", "dee")
    assert breakouts.apply(Away("bob", at(1)), at(1.2)) == CHANGED
    breakouts.apply(Away("dee", at(1)), at(1.2))
    breakouts.apply(Assign("mod", seed=3), at(2))
    assert sorted(breakouts.room_of) == ["ann", "cyd"]
    unassigned = snapshot(breakouts, at(2))["unassigned"]
    assert unassigned == [
        {"id": "bob", "name": "Bob", "online": False},
        {"id": "dee", "name": "Dee", "online": False},
    ]
    breakouts.apply(Rebalance("mod"), at(3))
    breakouts.apply(Open("mod", 20), at(3))
    assert sorted(breakouts.room_of) == ["ann", "cyd"], "nor seated by rebalance or opening"


def test_leaving_frees_the_seat_and_coming_back_returns_it() -> None:
    breakouts = opened(("ann", "a"), ("bob", "a"), ("cyd", "b"), mode="manual")
    breakouts.apply(Away("bob", at(1)), at(1.2))
    assert breakouts.members("a") == [("ann", "Ann")]
    assert breakouts.apply(Present("bob"), at(2)) == CHANGED
    assert breakouts.room_of["bob"] == "a"
    assert breakouts.apply(Present("bob"), at(3)) == [], "already there: nothing changes"


def test_a_returning_person_whose_seat_was_taken_gets_the_emptiest_room_when_automatic() -> None:
    breakouts = planned(*"abcdef", rooms=(room("a", capacity=3), room("b", capacity=4)))
    breakouts.apply(Assign("mod", seed=1), T0)
    breakouts.apply(Open("mod", 20), T0)
    gone = next(p for p, r in breakouts.room_of.items() if r == "a")
    breakouts.apply(Away(gone, at(1)), at(1))
    breakouts.apply(Join("late", "Late"), at(2))  # takes the freed seat or the emptiest
    breakouts.apply(Move("mod", "late", "a"), at(2))
    breakouts.apply(Present(gone), at(3))
    assert breakouts.room_of[gone] == "b"


def test_away_is_ignored_when_seen_since_and_for_strangers() -> None:
    breakouts = planned("ann")
    breakouts.apply(Present("ann"), at(5))  # back on another process before this one noticed
    assert breakouts.apply(Away("ann", at(4)), at(6)) == []
    assert breakouts.apply(Away("zed", at(4)), at(6)) == []
    assert breakouts.apply(Present("zed"), at(6)) == []
    breakouts.apply(Away("ann", at(7)), at(7))
    assert breakouts.apply(Away("ann", at(8)), at(8)) == [], "already away"
    assert breakouts.apply(Join("ann", "Ann"), at(9)) == CHANGED
    assert "ann" not in breakouts.away, "joining again is being there"
    breakouts.apply(Leave("ann"), at(10))
    assert "ann" not in breakouts.seen_at


def test_a_new_round_in_people_choose_mode_starts_with_nobody_placed() -> None:
    breakouts = opened(("ann", "a"), ("bob", "b"), mode="self")
    breakouts.apply(Close("mod", 0), at(2))
    breakouts.apply(PlanRooms("mod", ROOMS, "self"), at(3))
    assert breakouts.room_of == {}
    assert snapshot(breakouts, at(3))["unassigned"] == [
        {"id": "ann", "name": "Ann", "online": True},
        {"id": "bob", "name": "Bob", "online": True},
    ]

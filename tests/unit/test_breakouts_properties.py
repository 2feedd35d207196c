"""Random plans and random sequences of pool and assignment commands against the break-out
rooms, checking capacity, membership, balance and that replaying gives the same rooms."""

from __future__ import annotations

import datetime as dt
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from sessions.breakouts import (
    MAX_MINUTES,
    MIN_CAPACITY,
    Assign,
    BreakoutCommand,
    BreakoutError,
    Breakouts,
    Choose,
    Join,
    Leave,
    Move,
    Open,
    PlanRooms,
    Rebalance,
    RoomSpec,
)
from tests.unit.test_breakouts import observable

T0 = dt.datetime(2026, 5, 11, 10, tzinfo=dt.UTC)
PEOPLE = [f"p{n}" for n in range(12)]
FAST = settings(max_examples=200, deadline=None)

PERSON = st.sampled_from(PEOPLE)
ROOM_CHOICE = st.sampled_from(["r0", "r1", "r2", "r3", "r4", "", "zz"])
JOIN = st.builds(Join, PERSON, st.sampled_from(["Ann", "Bob"]))
COMMANDS: st.SearchStrategy[BreakoutCommand] = st.one_of(
    JOIN,
    JOIN,
    st.builds(Leave, PERSON),
    st.builds(Assign, st.just("mod"), st.integers(0, 2**32)),
    st.builds(Rebalance, st.just("mod")),
    st.builds(Move, st.just("mod"), PERSON, ROOM_CHOICE),
    st.builds(Choose, PERSON, ROOM_CHOICE),
    st.just(Open("mod", MAX_MINUTES)),
)


@st.composite
def plans(draw: st.DrawFn, max_capacity: int = 6) -> PlanRooms:
    capacities = draw(st.lists(st.integers(MIN_CAPACITY, max_capacity), min_size=1, max_size=5))
    rooms = tuple(RoomSpec(f"r{n}", f"Room {n}", capacity=c) for n, c in enumerate(capacities))
    return PlanRooms("mod", rooms, draw(st.sampled_from(["auto", "manual", "self"])))


def sizes(breakouts: Breakouts) -> dict[str, int]:
    return {room.room_id: len(breakouts.members(room.room_id)) for room in breakouts.rooms}


def is_full(breakouts: Breakouts, room_id: str) -> bool:
    return len(breakouts.members(room_id)) >= next(
        room.capacity for room in breakouts.rooms if room.room_id == room_id
    )


def check_consistent(breakouts: Breakouts) -> None:
    room_ids = {room.room_id for room in breakouts.rooms}
    assert set(breakouts.room_of) <= set(breakouts.pool)
    assert set(breakouts.room_of.values()) <= room_ids
    for room in breakouts.rooms:
        assert len(breakouts.members(room.room_id)) <= room.capacity
    seated = [pid for room in breakouts.rooms for pid, _ in breakouts.members(room.room_id)]
    assert sorted(seated) == sorted(breakouts.room_of), "everyone is in at most one room"


def check_balanced(breakouts: Breakouts) -> None:
    """No room is more than one bigger than a room with a seat left."""
    count = sizes(breakouts)
    for room_id, size in count.items():
        if not is_full(breakouts, room_id):
            assert max(count.values()) - size <= 1, count


def check_seated_if_possible(breakouts: Breakouts) -> None:
    if sum(room.capacity for room in breakouts.rooms) >= len(breakouts.pool):
        assert set(breakouts.room_of) == set(breakouts.pool)
    else:
        assert all(is_full(breakouts, room.room_id) for room in breakouts.rooms)


def run(
    plan: PlanRooms, arrivals: list[str], commands: list[BreakoutCommand]
) -> tuple[Breakouts, list[object]]:
    breakouts = Breakouts("panel")
    breakouts.apply(plan, T0)
    for person in arrivals:
        breakouts.apply(Join(person, "Early"), T0)
    outcomes: list[object] = []
    for step, command in enumerate(commands):
        before = observable(breakouts)
        try:
            outcomes.append(breakouts.apply(command, T0 + dt.timedelta(seconds=step)))
        except BreakoutError as error:
            assert observable(breakouts) == before, "a refused command changed the state"
            outcomes.append(error.code)
            continue
        check_consistent(breakouts)
        if isinstance(command, Assign | Rebalance):
            check_balanced(breakouts)
            check_seated_if_possible(breakouts)
    return breakouts, outcomes


@FAST
@given(
    plan=plans(),
    arrivals=st.lists(PERSON, unique=True),
    commands=st.lists(COMMANDS, min_size=5, max_size=50),
)
def test_random_sequences_keep_the_rooms_consistent_and_replay_identically(
    plan: PlanRooms, arrivals: list[str], commands: list[BreakoutCommand]
) -> None:
    first, outcomes = run(plan, arrivals, commands)
    again, replayed = run(plan, arrivals, commands)
    assert first == again
    assert outcomes == replayed


@FAST
@given(plan=plans(max_capacity=12), data=st.data(), seed=st.integers())
def test_assign_seats_everyone_evenly_when_capacity_allows(
    plan: PlanRooms, data: st.DataObject, seed: int
) -> None:
    capacity = sum(room.capacity for room in plan.rooms)
    people = data.draw(st.integers(0, capacity))
    breakouts = Breakouts("panel")
    breakouts.apply(plan, T0)
    for person in range(people):
        breakouts.apply(Join(f"p{person}", "Someone"), T0)
    breakouts.apply(Assign("mod", seed), T0)
    check_consistent(breakouts)
    assert len(breakouts.room_of) == people
    check_balanced(breakouts)
    if all(room.capacity >= math.ceil(people / len(plan.rooms)) for room in plan.rooms):
        count = sizes(breakouts).values()
        assert max(count) - min(count) <= 1


@FAST
@given(plan=plans(max_capacity=12), data=st.data(), seed=st.integers())
def test_rebalance_after_people_leave_evens_the_rooms_again(
    plan: PlanRooms, data: st.DataObject, seed: int
) -> None:
    capacity = sum(room.capacity for room in plan.rooms)
    people = [f"p{n}" for n in range(data.draw(st.integers(0, capacity)))]
    leaving = data.draw(st.lists(st.sampled_from(people), unique=True) if people else st.just([]))
    breakouts = Breakouts("panel")
    breakouts.apply(plan, T0)
    for person in people:
        breakouts.apply(Join(person, "Someone"), T0)
    breakouts.apply(Assign("mod", seed), T0)
    for person in leaving:
        breakouts.apply(Leave(person), T0)
    breakouts.apply(Rebalance("mod"), T0)
    check_consistent(breakouts)
    check_balanced(breakouts)
    assert set(breakouts.room_of) == set(breakouts.pool)
    staying = len(people) - len(leaving)
    if all(room.capacity >= math.ceil(staying / len(plan.rooms)) for room in plan.rooms):
        count = sizes(breakouts).values()
        assert max(count) - min(count) <= 1

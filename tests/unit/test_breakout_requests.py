"""Break-out request bodies: one tagged Struct per action, each becoming its command."""

from __future__ import annotations

import msgspec
import pytest

from server.breakouts.requests import (
    MODERATOR_REQUESTS,
    PARTICIPANT_REQUESTS,
    AssignRequest,
    ModeratorRequest,
    ParticipantRequest,
    moderator_command,
    participant_command,
)
from sessions import breakouts as br

BODIES: dict[str, bytes] = {
    "plan": b'{"rooms": [{"name": "Shade"}, {"name": "Roofs", "room_id": "roofs"}]}',
    "assign": b'{"seed": 7}',
    "rebalance": b"{}",
    "move": b'{"participant_id": "ann", "room_id": "room-1"}',
    "open": b'{"minutes": 10}',
    "extend": b'{"minutes": 5}',
    "broadcast": b'{"text": "Five minutes left"}',
    "answer-help": b'{"room_id": "room-1"}',
    "visit": b'{"room_id": "room-1"}',
    "close": b"{}",
    "join": b"{}",
    "leave": b"{}",
    "choose": b'{"room_id": "room-2"}',
    "help": b"{}",
}

COMMANDS: dict[str, type[br.BreakoutCommand]] = {
    "plan": br.PlanRooms,
    "assign": br.Assign,
    "rebalance": br.Rebalance,
    "move": br.Move,
    "open": br.Open,
    "extend": br.Extend,
    "broadcast": br.Broadcast,
    "answer-help": br.AnswerHelp,
    "visit": br.Visit,
    "close": br.Close,
    "join": br.Join,
    "leave": br.Leave,
    "choose": br.Choose,
    "help": br.AskHelp,
}


def test_every_action_has_a_body_and_becomes_its_own_command() -> None:
    assert set(MODERATOR_REQUESTS) | set(PARTICIPANT_REQUESTS) == set(BODIES)
    assert not set(MODERATOR_REQUESTS) & set(PARTICIPANT_REQUESTS)
    for action, moderator_kind in MODERATOR_REQUESTS.items():
        moderator_request: ModeratorRequest = msgspec.json.decode(
            BODIES[action], type=moderator_kind
        )
        command = moderator_command(moderator_request, "mod", "Mo")
        assert type(command) is COMMANDS[action], action
    for action, participant_kind in PARTICIPANT_REQUESTS.items():
        participant_request: ParticipantRequest = msgspec.json.decode(
            BODIES[action], type=participant_kind
        )
        command = participant_command(participant_request, "ann", "Ann")
        assert type(command) is COMMANDS[action], action


def test_a_plan_numbers_rooms_without_an_id_and_keeps_the_given_ones() -> None:
    plan = msgspec.json.decode(BODIES["plan"], type=MODERATOR_REQUESTS["plan"])
    command = moderator_command(plan, "mod", "Mo")
    assert isinstance(command, br.PlanRooms)
    assert [room.room_id for room in command.rooms] == ["room-1", "roofs"]
    assert command.assignment == "auto"


def test_a_seedless_assignment_draws_a_seed_and_a_visit_carries_the_visitors_name() -> None:
    assign = moderator_command(AssignRequest(), "mod", "Mo")
    assert isinstance(assign, br.Assign) and 0 <= assign.seed < 2**31
    visit = msgspec.json.decode(BODIES["visit"], type=MODERATOR_REQUESTS["visit"])
    assert moderator_command(visit, "mod", "Mo") == br.Visit("mod", "Mo", "room-1")


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("open", b"{}"),  # minutes missing
        ("open", b'{"minutes": "ten"}'),
        ("move", b'{"participant_id": "ann"}'),
        ("rebalance", b'{"seed": 1}'),  # unknown field
        ("close", b'{"action": "open"}'),  # a tag that is not this action's
    ],
)
def test_a_body_that_does_not_fit_its_action_is_refused(action: str, body: bytes) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(body, type=MODERATOR_REQUESTS[action])

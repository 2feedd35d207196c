"""What a break-out request's body may say, one tagged Struct per action, and the command each
becomes.

The action comes from the URL (`POST …/breakouts/<action>`); its Struct decodes the body
(msgspec refuses unknown fields and wrong types with a 422) and `moderator_command` /
`participant_command` match the union exhaustively: an action added to a union but not to its
match fails mypy, not a moderator's click.
"""

from __future__ import annotations

import secrets
from typing import Literal, assert_never, get_args

import msgspec

from sessions import breakouts as br


class RoomBody(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    topic: str = ""
    capacity: int = br.DEFAULT_CAPACITY
    room_id: str = ""


class _Request(msgspec.Struct, forbid_unknown_fields=True, tag_field="action"):
    pass


class PlanRequest(_Request, tag="plan"):
    rooms: list[RoomBody]
    assignment: Literal["auto", "manual", "self"] = "auto"

    def specs(self) -> tuple[br.RoomSpec, ...]:
        return tuple(
            br.RoomSpec(
                room_id=room.room_id or f"room-{index}",
                name=room.name,
                topic=room.topic,
                capacity=room.capacity,
            )
            for index, room in enumerate(self.rooms, start=1)
        )


class AssignRequest(_Request, tag="assign"):
    seed: int | None = None


class RebalanceRequest(_Request, tag="rebalance"):
    pass


class MoveRequest(_Request, tag="move"):
    participant_id: str
    room_id: str


class OpenRequest(_Request, tag="open"):
    minutes: int


class ExtendRequest(_Request, tag="extend"):
    minutes: int


class BroadcastRequest(_Request, tag="broadcast"):
    text: str


class AnswerHelpRequest(_Request, tag="answer-help"):
    room_id: str


class VisitRequest(_Request, tag="visit"):
    room_id: str


class CloseRequest(_Request, tag="close"):
    grace_seconds: int = br.DEFAULT_GRACE_SECONDS


ModeratorRequest = (
    PlanRequest
    | AssignRequest
    | RebalanceRequest
    | MoveRequest
    | OpenRequest
    | ExtendRequest
    | BroadcastRequest
    | AnswerHelpRequest
    | VisitRequest
    | CloseRequest
)


class JoinRequest(_Request, tag="join"):
    pass


class LeaveRequest(_Request, tag="leave"):
    pass


class ChooseRequest(_Request, tag="choose"):
    room_id: str


class HelpRequest(_Request, tag="help"):
    pass


ParticipantRequest = JoinRequest | LeaveRequest | ChooseRequest | HelpRequest


def _tag(kind: type[_Request]) -> str:
    return str(kind.__struct_config__.tag)


MODERATOR_REQUESTS: dict[str, type[ModeratorRequest]] = {
    _tag(kind): kind for kind in get_args(ModeratorRequest)
}
PARTICIPANT_REQUESTS: dict[str, type[ParticipantRequest]] = {
    _tag(kind): kind for kind in get_args(ParticipantRequest)
}


def moderator_command(request: ModeratorRequest, by: str, display_name: str) -> br.BreakoutCommand:
    match request:
        case PlanRequest():
            return br.PlanRooms(by, request.specs(), request.assignment)
        case AssignRequest(seed=seed):
            return br.Assign(by, secrets.randbits(31) if seed is None else seed)
        case RebalanceRequest():
            return br.Rebalance(by)
        case MoveRequest(participant_id=participant_id, room_id=room_id):
            return br.Move(by, participant_id, room_id)
        case OpenRequest(minutes=minutes):
            return br.Open(by, minutes)
        case ExtendRequest(minutes=minutes):
            return br.Extend(by, minutes)
        case BroadcastRequest(text=text):
            return br.Broadcast(by, text)
        case AnswerHelpRequest(room_id=room_id):
            return br.AnswerHelp(by, room_id)
        case VisitRequest(room_id=room_id):
            return br.Visit(by, display_name, room_id)
        case CloseRequest(grace_seconds=grace_seconds):
            return br.Close(by, grace_seconds)
        case _:
            assert_never(request)


def participant_command(
    request: ParticipantRequest, participant_id: str, display_name: str
) -> br.BreakoutCommand:
    match request:
        case JoinRequest():
            return br.Join(participant_id, display_name)
        case LeaveRequest():
            return br.Leave(participant_id)
        case ChooseRequest(room_id=room_id):
            return br.Choose(participant_id, room_id)
        case HelpRequest():
            return br.AskHelp(participant_id)
        case _:
            assert_never(request)

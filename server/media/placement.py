"""Where media goes when several processes (media nodes) serve one conference: pure
decisions over the nodes' last heartbeats, no I/O.

A panel's publication lives on one node, its origin. Viewers are served by nodes that carry
the stream: the origin, or a node that pulled one relay of it from the origin. A node is
full when it reaches its share (``NodeRecord.full``); a viewer then goes to the emptiest
carrier with room, else to the emptiest node with room, which pulls a relay.

A break-out room's call is placed whole: every member publishes and watches on the node
that carries the room, so its n·(n−1) streams never cross between nodes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import msgspec

from server.media.health import StreamHealth

CPU_SHARE_PERCENT = 75.0
"""A node at this much of one core (its event loop) takes no more viewers while another
node has room: above it, packets start to wait behind each other."""


class NodeLoad(msgspec.Struct, frozen=True):
    """What a node carries and what it costs, as of its last heartbeat."""

    publications: int = 0
    viewers: int = 0
    packets_per_second: float = 0.0
    cpu_percent: float = 0.0
    """Of what the node may use of one core (all of it, or its CPU quota's share), over the
    last heartbeat interval."""


class CarriedStream(msgspec.Struct, frozen=True):
    """A panel a node carries: published there (``origin``) or relayed from its origin."""

    session: str
    origin: bool
    started_at: dt.datetime
    viewers: int = 0
    rehearsal: bool = False
    health: StreamHealth | None = None
    """How the publisher's media arrives at the origin (none on a relay)."""


class MemberCall(msgspec.Struct, frozen=True):
    """One member's part in a room's call: what they send and what they switched off."""

    kinds: tuple[str, ...] = ()
    muted: bool = False
    camera_off: bool = False


class RoomCall(msgspec.Struct, frozen=True):
    """A break-out room's call as its members see it."""

    members: dict[str, MemberCall] = {}
    """By participant id."""
    speaker: str | None = None


class CarriedRoom(msgspec.Struct, frozen=True):
    """A break-out room whose call a node carries."""

    session: str
    room: str
    call: RoomCall


class NodeRecord(msgspec.Struct, frozen=True):
    """One media node as the others see it: how to reach it, its load and its streams."""

    id: str
    url: str
    """The node's own HTTP address, which the other nodes call (``http://host:port``)."""
    load: NodeLoad
    streams: tuple[CarriedStream, ...] = ()
    rooms: tuple[CarriedRoom, ...] = ()
    max_viewers: int = 0
    """0: no fixed cap, only the CPU share."""
    incarnation: str = ""
    """Made afresh each time the node's process starts: a node restarted under the same id
    is a new node, whose streams are not the dead one's."""

    @property
    def instance(self) -> str:
        return f"{self.id}/{self.incarnation}"

    def carries(self, session: str) -> CarriedStream | None:
        return next((s for s in self.streams if s.session == session), None)

    def carries_room(self, session: str, room: str) -> CarriedRoom | None:
        return next((r for r in self.rooms if r.session == session and r.room == room), None)

    def origin_of(self, session: str) -> bool:
        stream = self.carries(session)
        return stream is not None and stream.origin

    @property
    def full(self) -> bool:
        if self.max_viewers and self.load.viewers >= self.max_viewers:
            return True
        return self.load.cpu_percent >= CPU_SHARE_PERCENT


CPU_STEP_PERCENT = 10.0
"""CPU readings closer than this are as good as equal: what a node carries decides."""


def _emptiest(nodes: Iterable[NodeRecord]) -> NodeRecord | None:
    return min(
        nodes,
        key=lambda n: (
            int(n.load.cpu_percent // CPU_STEP_PERCENT),
            n.load.viewers + n.load.publications,
            n.id,
        ),
        default=None,
    )


def origin(nodes: Sequence[NodeRecord], session: str) -> NodeRecord | None:
    """The node where the session's panel is published, if any is alive."""
    return next((n for n in nodes if n.origin_of(session)), None)


def place_publication(nodes: Sequence[NodeRecord]) -> NodeRecord | None:
    """The node a new publication goes to: the emptiest."""
    return _emptiest(nodes)


@dataclass(frozen=True, slots=True)
class ViewerPlacement:
    node: NodeRecord
    relay: bool
    """The node does not carry the stream yet: it pulls one relay from the origin first."""


def place_viewer(nodes: Sequence[NodeRecord], session: str) -> ViewerPlacement | None:
    """Where a new viewer of the session's panel goes; None while nothing is published."""
    published = origin(nodes, session)
    if published is None:
        return None
    stream = published.carries(session)
    if stream is not None and stream.rehearsal:  # a few moderators: never worth a relay
        return ViewerPlacement(published, relay=False)
    carriers = [n for n in nodes if n.carries(session)]
    roomy = [n for n in carriers if not n.full]
    if chosen := _emptiest(roomy):
        return ViewerPlacement(chosen, relay=False)
    if chosen := _emptiest(n for n in nodes if not n.full and not n.carries(session)):
        return ViewerPlacement(chosen, relay=True)
    chosen = _emptiest(carriers)  # every node is full: the least-loaded carrier still serves
    assert chosen is not None
    return ViewerPlacement(chosen, relay=False)


def started_at(nodes: Sequence[NodeRecord], session: str) -> dt.datetime | None:
    """When the session's panel started, if any of ``nodes`` publishes it."""
    published = origin(nodes, session)
    stream = published.carries(session) if published else None
    return stream.started_at if stream else None


def merged(calls: Iterable[RoomCall]) -> RoomCall:
    """One call of the parts of a room that several nodes carry."""
    members: dict[str, MemberCall] = {}
    speaker = None
    for call in calls:
        members.update(call.members)
        speaker = speaker or call.speaker
    return RoomCall(members, speaker)


def room_node(nodes: Sequence[NodeRecord], session: str, room: str) -> NodeRecord | None:
    """The node carrying the room's call, if a member is on it; the one with the most
    members should a race have split it."""
    carriers = [(len(r.call.members), n) for n in nodes if (r := n.carries_room(session, room))]
    return max(carriers, key=lambda c: (c[0], c[1].id))[1] if carriers else None


def place_booth(nodes: Sequence[NodeRecord], session: str, room: str) -> NodeRecord | None:
    """Like :func:`place_room`, but a new booth goes to the node where the session's floor
    is published while it has room: that node records the session, channels included."""
    if carrier := room_node(nodes, session, room):
        return carrier
    floor = origin(nodes, session)
    return floor if floor is not None and not floor.full else place_room(nodes, session, room)


def member_node(
    nodes: Sequence[NodeRecord], session: str, room: str, member: str
) -> NodeRecord | None:
    """The node a member of the room publishes on."""
    return next(
        (n for n in nodes if (r := n.carries_room(session, room)) and member in r.call.members),
        None,
    )


def place_room(nodes: Sequence[NodeRecord], session: str, room: str) -> NodeRecord | None:
    """The node a member joining the room's call goes to: the room's, else the emptiest
    node with room for it, else the emptiest."""
    if carrier := room_node(nodes, session, room):
        return carrier
    return _emptiest(n for n in nodes if not n.full) or _emptiest(nodes)

"""Where media goes when several processes (media nodes) serve one conference: pure
decisions over the nodes' last heartbeats, no I/O.

A panel's publication lives on one node, its origin. Viewers are served by nodes that carry
the stream: the origin, or a node that pulled one relay of it from the origin. A node is
full when it reaches its share (``NodeRecord.full``); a viewer then goes to the emptiest
carrier with room, else to the emptiest node with room, which pulls a relay.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import msgspec

CPU_SHARE_PERCENT = 75.0
"""A node at this much of one core (its event loop) takes no more viewers while another
node has room: above it, packets start to wait behind each other."""


class NodeLoad(msgspec.Struct, frozen=True):
    """What a node carries and what it costs, as of its last heartbeat."""

    publications: int = 0
    viewers: int = 0
    packets_per_second: float = 0.0
    cpu_percent: float = 0.0
    """Of one core, over the last heartbeat interval."""


class CarriedStream(msgspec.Struct, frozen=True):
    """A panel a node carries: published there (``origin``) or relayed from its origin."""

    session: str
    origin: bool
    started_at: dt.datetime
    viewers: int = 0


class NodeRecord(msgspec.Struct, frozen=True):
    """One media node as the others see it: how to reach it, its load and its streams."""

    id: str
    url: str
    """The node's own HTTP address, which the other nodes call (``http://host:port``)."""
    load: NodeLoad
    streams: tuple[CarriedStream, ...] = ()
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
    if origin(nodes, session) is None:
        return None
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

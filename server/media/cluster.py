"""This process as one media node among several: its heartbeat, what it knows of the other
nodes, and the relays it pulls from them.

Every ``plenaria serve`` that carries media (on one Redis, or a media worker on the SQLite
file; not a parent that only places media on its workers) is a media node. Each second it
writes its
record (address, load, the panels it carries) to the registry and reads everyone else's. A
viewer who asks a node for a panel published on another node is served from one relay of
that panel: the node pulls it from the origin once, over WHEP like any viewer, and forwards
it to all of its own viewers (a cascade; never a relay per viewer). The break-out rooms a
node carries are in its record too, with their calls' state: the other processes show it to
the members whose sockets they hold.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import logging
import resource
import secrets
import time
from collections.abc import Callable

import aiohttp
import msgspec
from aiortc import RTCPeerConnection, RTCSessionDescription

from server.media import placement
from server.media.booths import BOOTH_PREFIX, Booths, booth_room
from server.media.cpu_budget import cpu_budget
from server.media.engine import (
    NO_ICE_SERVERS,
    PAUSE_SECONDS,
    MediaEngine,
    Publication,
    StreamState,
)
from server.media.errors import MediaError, offline, unreachable
from server.media.placement import CarriedStream, NodeLoad, NodeRecord, RoomCall
from server.media.registry import HEARTBEAT_SECONDS, NodeRegistry, RegistryUnavailableError
from server.media.rooms import RoomCalls
from server.media.stream_key import StreamKey

log = logging.getLogger("plenaria.media.cluster")

RELAY_HEADER = "X-Plenaria-Relay"
"""Sent by a node pulling a relay, with its node id: the origin serves it from its own
publication only, so relays never chain."""
PLACED_HEADER = "X-Plenaria-Placed"
"""Sent with a WHIP or WHEP request one node forwards to the node it placed it on, with
that node's id: it is served there, not placed again."""


def internal_header(secret: bytes, header: str, node_id: str) -> str:
    """The value of an internal header, signed with the conference's secret key: only a
    process that shares it can make one, so a client cannot skip placement or pose as a
    relay by sending the header itself."""
    return f"{node_id}.{_signature(secret, header, node_id)}"


def node_of_header(secret: bytes, header: str, value: str | None) -> str | None:
    """The node id a signed internal header names; None when absent or not signed by us."""
    node_id, _, signature = (value or "").rpartition(".")
    if not node_id or not hmac.compare_digest(signature, _signature(secret, header, node_id)):
        return None
    return node_id


def _signature(secret: bytes, header: str, node_id: str) -> str:
    digest = hmac.new(secret, f"{header.lower()}:{node_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


RELAY_TIMEOUT_SECONDS = 10.0
LOAD_WINDOW_SECONDS = 0.8
ROOM_MEMORY_SECONDS = 2 * HEARTBEAT_SECONDS + 1.0
"""How long a room placed from here stays on its node before a heartbeat shows it there
(its first member's exchange and that node's next beat)."""
BEAT_GAP_SECONDS = 0.2
"""Changes beat at once, but no more often than this (a room's speaker can change four
times a second in each of fifty rooms)."""
RESOURCE_SEPARATOR = "-"


def new_node_id() -> str:
    return secrets.token_hex(6)


class LoadMeter:
    """CPU (as a share of what this process may use of a core) and packets/s since the last
    reading."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, budget: float | None = None
    ) -> None:
        self._clock = clock
        self._fixed_budget = budget
        self.budget = cpu_budget() if budget is None else budget
        """Read again at each reading: a container's CPU limit can change while it runs."""
        self._at = clock()
        self._cpu = self._cpu_seconds()
        self._packets = 0
        self._cpu_percent = 0.0
        self._packets_per_second = 0.0

    @staticmethod
    def _cpu_seconds() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    def read(self, engine: MediaEngine) -> NodeLoad:
        """The engine's counts now; CPU and packets/s over the time since the last reading
        at least :data:`LOAD_WINDOW_SECONDS` ago (a shorter window would be noise)."""
        now = self._clock()
        elapsed = now - self._at
        if elapsed >= LOAD_WINDOW_SECONDS:
            cpu = self._cpu_seconds()
            packets = sum(
                f.packets_out for p in engine.publications.values() for f in p.streams.values()
            ) + sum(t.forwarded for t in engine.retired_totals.values())
            if self._fixed_budget is None:
                self.budget = cpu_budget()
            self._cpu_percent = round(100 * (cpu - self._cpu) / elapsed / self.budget, 1)
            self._packets_per_second = round(max(packets - self._packets, 0) / elapsed, 1)
            self._at, self._cpu, self._packets = now, cpu, packets
        return NodeLoad(
            publications=len(engine.publications),
            viewers=len(engine.viewers),
            packets_per_second=self._packets_per_second,
            cpu_percent=self._cpu_percent,
        )


class MediaCluster:
    def __init__(
        self,
        engine: MediaEngine,
        calls: RoomCalls,
        registry: NodeRegistry,
        url: str,
        *,
        node_id: str | None = None,
        max_viewers: int = 0,
        places_only: bool = False,
        secret: bytes = b"",
        booths: Booths | None = None,
    ) -> None:
        self.engine = engine
        self.calls = calls
        self.booths = booths
        self.secret = secret
        """The conference's secret key, which signs the headers nodes send each other."""
        self.registry = registry
        self.id = node_id or new_node_id()
        self.incarnation = secrets.token_hex(4)
        self.url = url.rstrip("/")
        self.max_viewers = max_viewers
        self.places_only = places_only
        """A process that starts media workers places media on them and carries none: it
        writes no record of its own."""
        self.nodes: list[NodeRecord] = []
        """Every live node as of the last heartbeat, this one included."""
        self._meter = LoadMeter()
        self._load = NodeLoad()
        self._task: asyncio.Task[None] | None = None
        self._relays: dict[StreamKey, asyncio.Future[Publication]] = {}
        self._carrying: set[asyncio.Task[None]] = set()
        self._lost: dict[str, tuple[dt.datetime, float]] = {}
        """Panels whose origin node died, with when they started and when to stop showing
        them paused (the publisher may come back on another node)."""
        self._http: aiohttp.ClientSession | None = None
        engine.elsewhere = self.state_elsewhere
        engine.listeners.append(self._stream_changed)
        calls.elsewhere = self.call_elsewhere
        calls.listeners.append(self._room_changed)
        if booths is not None:
            booths.listeners.append(self._booth_changed)
            booths.elsewhere = self.booth_elsewhere
        self._announced_rooms: set[tuple[str, str]] = set()
        self._placed_rooms: dict[tuple[str, str], tuple[str, float]] = {}
        """Rooms placed from here lately: node id, and until when to remember it."""
        self._beat_soon: asyncio.Event | None = None
        engine.resource_prefix = f"{self.id}{RESOURCE_SEPARATOR}"

    # -- heartbeat -----------------------------------------------------------------------------

    def record(self, load: NodeLoad | None = None) -> NodeRecord:
        """This node as it is now; its load measured afresh unless ``load`` is given."""
        engine = self.engine
        streams = tuple(
            CarriedStream(
                key.session,
                origin=publication.relay_of is None,
                started_at=publication.started_at,
                viewers=engine.viewer_count(key),
                rehearsal=publication.rehearsal,
                health=publication.health() if publication.relay_of is None else None,
            )
            for key, publication in engine.publications.items()
            if key.is_panel
        )
        if load is None:
            load = self._load = self._meter.read(engine)
        return NodeRecord(
            self.id,
            self.url,
            load,
            streams,
            (*self.calls.carried(), *(self.booths.carried() if self.booths else ())),
            max_viewers=self.max_viewers,
            incarnation=self.incarnation,
        )

    async def beat(self) -> None:
        """Write this node's record, read everyone's, and follow what changed: relays
        whose origin died pause (their viewers held, as a dropped publisher's are), and
        held viewers get a fresh relay once the panel is published again anywhere."""
        await self._write()
        before = {n.instance: n for n in self.nodes}
        seen_before = self._panels_elsewhere()
        self._follow_rooms(await self.registry.alive())
        alive = {n.instance for n in self.nodes}
        now = asyncio.get_running_loop().time()
        for instance, record in before.items():
            if instance not in alive:
                log.warning("media node lost", extra={"node": record.id})
                for stream in record.streams:
                    if stream.origin and not stream.rehearsal:
                        self._lost[stream.session] = (stream.started_at, now + PAUSE_SECONDS)
        for session in list(self._lost):
            if self._lost[session][1] <= now or placement.origin(self.nodes, session):
                del self._lost[session]
        engine = self.engine
        seen_now = self._panels_elsewhere()
        for session in seen_before.keys() | seen_now.keys():
            if seen_before.get(session) != seen_now.get(session):
                engine.changed(StreamKey.panel(session))  # pages and sockets here hear of it
        for publication in list(engine.publications.values()):
            if publication.relay_of is not None and publication.relay_of not in alive:
                await engine.unpublish(publication, dropped=True)
        for key in list(engine.pauses):
            held = key.is_panel and engine.paused(key) and engine.live(key) is None
            if held and placement.origin(self.others(), key.session) is not None:
                self._spawn_carry(key)

    def _spawn_carry(self, key: StreamKey) -> None:
        async def carry() -> None:
            try:
                await self.carry(key)
            except MediaError as error:
                log.warning("relay not pulled", extra={"stream": str(key), "code": error.code})

        task = asyncio.get_running_loop().create_task(carry())
        self._carrying.add(task)
        task.add_done_callback(self._carrying.discard)

    async def start(self) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(RELAY_TIMEOUT_SECONDS))
        await self.beat()
        self._task = asyncio.create_task(self._beating(), name="media-heartbeat")
        if not self.places_only:
            log.info("media node up", extra={"node": self.id, "url": self.url})

    async def _write(self) -> None:
        if not self.places_only:
            record = self.record()
            await self.registry.beat(record)
            self._announced_rooms = {(r.session, r.room) for r in record.rooms}

    async def announce(self) -> None:
        """Write this node's record now: a room request changed the room's call, and the
        process that passed it on reads the records as soon as the answer is back."""
        with contextlib.suppress(RegistryUnavailableError):
            await self._write()

    def _stream_changed(self, key: StreamKey) -> None:
        """A publication started or ended here: tell the others now, not at the next beat."""
        if self._beat_soon is not None and key.is_panel:
            self._beat_soon.set()

    def _room_changed(self, session: str, room: str) -> None:
        """A room's call changed: if it is (or was) carried here, tell the others soon."""
        here = (session, room) in self._announced_rooms or self.calls.publications(session, room)
        if self._beat_soon is not None and here:
            self._beat_soon.set()

    def _booth_changed(self, session: str, language: str) -> None:
        """Who is in a booth here, or on air, changed: tell the others soon."""
        if self._beat_soon is not None:
            self._beat_soon.set()

    def booth_languages(self, session: str) -> set[str]:
        """The session's booths the other nodes carry."""
        return {
            room.room.removeprefix(BOOTH_PREFIX)
            for node in self.others()
            for room in node.rooms
            if room.session == session and room.room.startswith(BOOTH_PREFIX)
        }

    def booth_elsewhere(self, session: str, language: str) -> RoomCall | None:
        """A booth as another node carries it (interpreters, and who is on air)."""
        return self.call_elsewhere(session, booth_room(language))

    async def _beating(self) -> None:
        self._beat_soon = asyncio.Event()
        loop = asyncio.get_running_loop()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._beat_soon.wait(), HEARTBEAT_SECONDS)
            self._beat_soon.clear()
            since = loop.time()
            try:
                await self.beat()
            except RegistryUnavailableError as error:
                log.warning("media registry unreachable", extra={"error": str(error)})
            await asyncio.sleep(max(0.0, since + BEAT_GAP_SECONDS - loop.time()))

    async def close(self) -> None:
        for task in [*self._carrying, *([self._task] if self._task else [])]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if not self.places_only:
            with contextlib.suppress(RegistryUnavailableError):
                await self.registry.forget(self.id)
        if self._http is not None:
            await self._http.close()

    @property
    def http(self) -> aiohttp.ClientSession:
        assert self._http is not None, "start() first"
        return self._http

    async def refresh(self) -> None:
        """Read the other nodes' latest records now (they beat at once when a publication
        starts or ends); keep the last known ones if the registry cannot be reached."""
        with contextlib.suppress(RegistryUnavailableError):
            self._follow_rooms(await self.registry.alive())

    def _follow_rooms(self, nodes: list[NodeRecord]) -> None:
        """Take ``nodes`` as the live ones, and tell this process's room listeners about
        the calls that changed on the others."""
        before = self._rooms_elsewhere()
        self.nodes = nodes
        after = self._rooms_elsewhere()
        for session, room in before.keys() | after.keys():
            if before.get((session, room)) != after.get((session, room)):
                self.calls.changed_elsewhere(session, room)

    def _rooms_elsewhere(self) -> dict[tuple[str, str], RoomCall]:
        return {(r.session, r.room): r.call for n in self.others() for r in n.rooms}

    # -- placement -----------------------------------------------------------------------------

    def _current(self) -> list[NodeRecord]:
        """The nodes as of their last heartbeats, this one as it is now (with its last CPU
        reading and what it has been given since)."""
        load = msgspec.structs.replace(
            self._load,
            publications=len(self.engine.publications),
            viewers=len(self.engine.viewers),
        )
        if self.places_only:
            return self.others()
        return [*self.others(), self.record(load)]

    def place_publication(self) -> NodeRecord | None:
        """The node a new publication goes to; None while no node is known (not even this
        one yet)."""
        self.nodes = self._current()
        chosen = placement.place_publication(self.nodes)
        if chosen is not None:
            self._count_in(chosen, publications=1)
        return chosen

    def place_viewer(self, session: str) -> placement.ViewerPlacement | None:
        self.nodes = self._current()
        placed = placement.place_viewer(self.nodes, session)
        if placed is not None:
            self._count_in(placed.node, viewers=1)
        return placed

    def _count_in(self, node: NodeRecord, *, viewers: int = 0, publications: int = 0) -> None:
        """Add what was just placed to ``node``'s last known load, so a burst of requests
        within one heartbeat spreads as the next heartbeat would show it."""
        load = node.load
        per_viewer = load.cpu_percent / load.viewers if load.viewers else 0.0
        updated = msgspec.structs.replace(
            node,
            load=msgspec.structs.replace(
                load,
                viewers=load.viewers + viewers,
                publications=load.publications + publications,
                cpu_percent=load.cpu_percent + per_viewer * viewers,
            ),
        )
        self.nodes = [updated if n.id == node.id else n for n in self.nodes]

    def place_room(self, session: str, room: str, *, near_floor: bool = False) -> NodeRecord | None:
        """The node carrying the room's call, or the one it goes to; None while no node is
        known. A room placed from here keeps its node until the heartbeats show it there."""
        self.nodes = self._current()
        now = asyncio.get_running_loop().time()
        self._placed_rooms = {k: v for k, v in self._placed_rooms.items() if v[1] > now}
        if carrier := placement.room_node(self.nodes, session, room):
            return carrier
        placed = self._placed_rooms.get((session, room), ("", 0.0))[0]
        if remembered := next((n for n in self.nodes if n.id == placed), None):
            return remembered
        place = placement.place_booth if near_floor else placement.place_room
        chosen = place(self.nodes, session, room)
        if chosen is not None:
            self._count_in(chosen, publications=1)
            self._placed_rooms[(session, room)] = (chosen.id, now + ROOM_MEMORY_SECONDS)
        return chosen

    def member_node(self, session: str, room: str, member: str) -> NodeRecord | None:
        """The node the member publishes on, else the room's."""
        nodes = self._current()
        return placement.member_node(nodes, session, room, member) or placement.room_node(
            nodes, session, room
        )

    def call_elsewhere(self, session: str, room: str) -> RoomCall | None:
        """The room's call on the other nodes (on two, should a race have split it)."""
        calls = [r.call for n in self.others() if (r := n.carries_room(session, room))]
        return placement.merged(calls) if calls else None

    def node_of_resource(self, resource: str) -> NodeRecord | None:
        """The other node a WHIP or WHEP resource lives on; None when it is this node's
        (or names no node alive)."""
        node_id = resource.partition(RESOURCE_SEPARATOR)[0]
        if node_id == self.id:
            return None
        return next((n for n in self.nodes if n.id == node_id), None)

    # -- what the other nodes carry ------------------------------------------------------------

    def others(self) -> list[NodeRecord]:
        return [n for n in self.nodes if n.id != self.id]

    def _panels_elsewhere(self) -> dict[str, StreamState]:
        sessions = {s.session for n in self.others() for s in n.streams} | set(self._lost)
        return {
            session: state
            for session in sessions
            if (state := self.state_elsewhere(StreamKey.panel(session))) is not None
        }

    def state_elsewhere(self, key: StreamKey) -> StreamState | None:
        """The panel as the other nodes carry it: live when one publishes it, paused when
        its origin died lately, with the audience on all of them."""
        if not key.is_panel:
            return None
        others = self.others()
        viewers = sum(s.viewers for n in others if (s := n.carries(key.session)))
        if (published := placement.origin(others, key.session)) is not None:
            stream = published.carries(key.session)
            assert stream is not None
            return StreamState("live", stream.started_at, viewers, stream.rehearsal, stream.health)
        if lost := self._lost.get(key.session):
            return StreamState("paused", lost[0], viewers)
        return StreamState("offline", None, viewers) if viewers else None

    # -- relays --------------------------------------------------------------------------------

    async def carry(self, key: StreamKey) -> None:
        """Make sure this node carries ``key`` before a viewer watches it here: pull one
        relay from the node publishing it, unless it is published or relayed here already.
        Concurrent viewers share one pull."""
        if self.places_only or not key.is_panel or self.engine.live(key) is not None:
            return
        pulling = self._relays.get(key)
        if pulling is None:
            pulling = asyncio.ensure_future(self._pull(key))
            self._relays[key] = pulling
            pulling.add_done_callback(lambda _: self._relays.pop(key, None))
        await asyncio.shield(pulling)

    async def _pull(self, key: StreamKey) -> Publication:
        origin = placement.origin(self.others(), key.session)
        if origin is None:  # published since the last beat, perhaps: look again
            await self.refresh()
            origin = placement.origin(self.others(), key.session)
        if origin is None:
            raise offline()
        carried = origin.carries(key.session)
        assert carried is not None
        peer = RTCPeerConnection(NO_ICE_SERVERS)
        try:
            peer.addTransceiver("audio", direction="recvonly")
            peer.addTransceiver("video", direction="recvonly")
            await peer.setLocalDescription(await peer.createOffer())
            answer = await self._ask_origin(origin, key, peer.localDescription.sdp)
            await peer.setRemoteDescription(RTCSessionDescription(answer, "answer"))
            return self.engine.publish_relay(
                key, peer, carried.started_at, origin.instance, rehearsal=carried.rehearsal
            )
        except BaseException:
            await peer.close()
            raise

    async def _ask_origin(self, origin: NodeRecord, key: StreamKey, offer: str) -> str:
        assert self._http is not None, "start() first"
        origin_unreachable = unreachable(
            "media.origin_unreachable",
            "The media node publishing this session cannot be reached; try again shortly.",
        )
        try:
            async with self._http.post(
                f"{origin.url}/whep/{key.session}",
                data=offer,
                headers={
                    "Content-Type": "application/sdp",
                    RELAY_HEADER: internal_header(self.secret, RELAY_HEADER, self.id),
                },
            ) as response:
                if response.status != 201:
                    log.warning(
                        "origin refused a relay",
                        extra={"origin": origin.id, "status": response.status},
                    )
                    raise origin_unreachable
                return await response.text()
        except (aiohttp.ClientError, TimeoutError):
            raise origin_unreachable from None

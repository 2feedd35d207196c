"""Publications and viewers: who publishes each session's stream, and who watches it.

One publisher per session (WHIP), any number of viewers (WHEP). Each publication track is a
:class:`~server.media.rtp_forwarding.StreamForwarder`: the publisher's RTP packets are
rewritten per viewer and sent from one synchronous loop, never decoded or re-encoded. Frames
are reassembled once per publication, and only while the recorder or HLS packaging reads
them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import secrets
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from aiortc import (
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamTrack

from server.media import aiortc_glue
from server.media.errors import MediaError, already_live, offline, unusable
from server.media.health import HealthMeter, StreamHealth
from server.media.offer_check import check_offer
from server.media.relay import Broadcast, KeyframeRequest, KeyframeRequests, Packet
from server.media.rtp_forwarding import Batch, StreamForwarder, Subscriber
from server.media.stream_key import StreamKey

log = logging.getLogger("plenaria.media")

NO_ICE_SERVERS = RTCConfiguration(iceServers=[])
MEDIA_KINDS = ("audio", "video")


SENDER_REPORT_SECONDS = 1.0
"""How often the engine sends every viewer an RTCP sender report (SR + SDES) per track."""
FIRST_MEDIA_SECONDS = 8.0
"""A publication whose publisher sent no media this long after the answer is ended: ICE
and DTLS take well under this, over a TURN relay included."""
PAUSE_SECONDS = 15 * 60
"""How long a session whose publisher dropped (no DELETE) shows as paused, not offline."""


async def answer(
    peer: RTCPeerConnection, offer_sdp: str, wire: Callable[[], None], *, sending: bool
) -> None:
    """Check the offer (``sending``: from a publisher), take it, let ``wire`` attach tracks
    to what it created, and answer; close the peer and refuse with a clear error when any
    of it fails."""
    try:
        check_offer(offer_sdp, sending=sending)
        await peer.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
        wire()
        answer_sdp = (await peer.createAnswer()).sdp
        answer_sdp = aiortc_glue.answer_as_dtls_server(offer_sdp, answer_sdp)
        await peer.setLocalDescription(RTCSessionDescription(answer_sdp, "answer"))
    except MediaError:
        await aiortc_glue.close_half_built(peer)
        raise
    except Exception as error:  # aiortc raises many kinds for a bad offer
        await aiortc_glue.close_half_built(peer)
        log.info("an offer passed the checks but aiortc refused it", exc_info=True)
        raise unusable(f"The offer cannot be used: {error!r}") from None


@dataclass(eq=False)
class Publication:
    key: StreamKey
    resource: str
    started_at: dt.datetime
    peer: RTCPeerConnection | None = None
    """The publisher's connection; ``None`` for a publisher inside this process."""
    stop: Callable[[], None] | None = None
    """Stops an in-process publisher (may block; run off the event loop)."""
    streams: dict[str, StreamForwarder] = field(default_factory=dict)
    """The viewers' path, by kind: RTP packets forwarded."""
    broadcasts: dict[str, Broadcast] = field(default_factory=dict)
    """The recorder's path, by kind: frames, reassembled once."""
    codecs: dict[str, str] = field(default_factory=dict)
    relay_of: str | None = None
    """For a relay: the media node it is pulled from (the stream's origin), as its
    ``NodeRecord.instance``."""
    rehearsal: bool = False
    """A speaker's rehearsal: its session's moderators and speakers may watch it, nobody
    else sees it live, and it is never recorded."""
    health_meter: HealthMeter = field(default_factory=HealthMeter)

    def health(self) -> StreamHealth:
        """How the publisher's media arrives, over the last second or so."""
        return self.health_meter.read(self.streams.values())

    batch: Batch = field(default_factory=Batch)
    """Open while packets that arrived together are pushed: the forwarders send them on
    together."""

    def withhold(self, kinds: frozenset[str]) -> None:
        """Send none of ``kinds`` on (to viewers, relays, packaging or recordings) until
        they are no longer named; the publisher is not told and goes on sending."""
        for kind, forwarder in self.streams.items():
            broadcast = self.broadcasts[kind]
            if kind in kinds:
                forwarder.withhold()
                broadcast.withhold()
            else:
                forwarder.release()
                broadcast.release()

    def withheld_kinds(self) -> frozenset[str]:
        return frozenset(kind for kind, forwarder in self.streams.items() if forwarder.withheld)

    def add_stream(
        self, kind: str, mime_type: str, source: MediaStreamTrack, request: KeyframeRequest | None
    ) -> tuple[StreamForwarder, Broadcast]:
        keyframes = KeyframeRequests(request)
        forwarder = StreamForwarder(kind, clock_rate(mime_type), keyframes.wanted, batch=self.batch)
        on_frame = None
        if self.peer is None:  # frames made here: packetise them once, for every viewer
            packetizer = aiortc_glue.FramePacketizer(mime_type)

            def on_frame(packet: Packet) -> None:
                with self.batch:
                    for rtp in packetizer.packetize(packet):
                        forwarder.push(rtp)

        broadcast = Broadcast(source, keyframes, on_frame=on_frame)
        self.streams[kind] = forwarder
        self.broadcasts[kind] = broadcast
        self.codecs[kind] = mime_type
        return forwarder, broadcast


def ingest_tracks(publication: Publication, peer: RTCPeerConnection) -> None:
    """Give each track ``peer`` receives a forwarder (fed from its receiver, packet by
    packet) and a frame broadcast (fed only while someone reads frames)."""
    for transceiver in peer.getTransceivers():
        track = transceiver.receiver.track
        if track is None or track.kind in publication.streams:
            continue
        mime_type = aiortc_glue.negotiated_mime_type(transceiver)
        forwarder, broadcast = publication.add_stream(
            track.kind,
            mime_type,
            track,
            partial(aiortc_glue.request_keyframe_from, transceiver.receiver),
        )
        aiortc_glue.tap_receiver(
            transceiver.receiver, forwarder, mime_type, broadcast.frames_wanted
        )


@dataclass(slots=True)
class ForwardingCounts:
    """Packet counts summed over forwarders."""

    received: int = 0
    forwarded: int = 0
    retransmitted: int = 0
    duplicates: int = 0
    backed_up: int = 0

    def add(self, forwarder: StreamForwarder) -> None:
        self.received += forwarder.packets_in
        self.forwarded += forwarder.packets_out
        self.retransmitted += forwarder.retransmitted
        self.duplicates += forwarder.duplicates
        self.backed_up += forwarder.backed_up


def clock_rate(mime_type: str) -> int:
    return 90_000 if mime_type.lower().startswith("video/") else 48_000


@dataclass(frozen=True, slots=True)
class StreamState:
    state: str
    """``live`` while someone publishes; ``paused`` for a while after the publisher dropped
    without ending (its viewers resume when it returns); else ``offline``."""
    started_at: dt.datetime | None
    viewers: int
    rehearsal: bool = False
    """Live as a speaker's rehearsal: shown only to the session's moderators and speakers."""
    health: StreamHealth | None = None
    """How the publisher's media arrives: for the session's moderators and speakers."""


SWITCH_GAP_SECONDS = 0.02
"""The time a switched viewer's stream skips between the last packet of one source and the
first of the next: one audio frame."""

OFFLINE = StreamState("offline", None, 0)


@dataclass(eq=False)
class Pause:
    """A publication that dropped: its start, its resource, when the pause lapses, and the
    viewers held connected meanwhile (they continue when the publisher returns)."""

    started_at: dt.datetime
    resource: str
    until: float
    dropped_at: float
    codecs: dict[str, str]
    held: list[Viewer]


@dataclass(frozen=True, slots=True)
class Subscription:
    """One track a viewer receives: its transceiver, the track's forwarder, its state."""

    transceiver: RTCRtpTransceiver
    forwarder: StreamForwarder
    subscriber: Subscriber


@dataclass(eq=False)
class Viewer:
    key: StreamKey
    resource: str
    peer: RTCPeerConnection
    subscriptions: list[Subscription] = field(default_factory=list)
    started: bool = False
    relay: bool = False
    """Another media node pulling this stream for its own viewers: a connection, not
    audience."""
    owner: str = ""
    """The participant watching, where it matters who (a break-out room's member): only
    they may end it."""


class MediaEngine:
    def __init__(self) -> None:
        aiortc_glue.install()
        self.publications: dict[StreamKey, Publication] = {}
        self.viewers: dict[str, Viewer] = {}
        self.pauses: dict[StreamKey, Pause] = {}
        self.aliases: dict[StreamKey, StreamKey] = {}
        """Streams that are another's for now: a language channel is the booth on air."""
        self.listeners: list[Callable[[StreamKey], None]] = []
        """Called with a stream's key whenever its state or viewer count changes."""
        self._reports: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.retired_totals: dict[str, ForwardingCounts] = {}
        """Packet counts of ended publications, by kind, so /metrics counters never drop."""
        self.resource_prefix = ""
        """Starts every resource id made here; a media node puts its id there, so any node
        can tell whose resource a WHIP or WHEP URL names."""
        self.elsewhere: Callable[[StreamKey], StreamState | None] = lambda key: None
        self.withheld: dict[str, frozenset[str]] = {}
        """The kinds of media a session's panel and booths send nobody, by session: all of
        them while it is off the record, video when it may only be heard."""
        self.first_media_seconds = FIRST_MEDIA_SECONDS
        """A stream's state on the other media nodes (see ``server.media.cluster``), for
        streams this process neither carries nor holds paused."""

    def withhold(self, session: str, kinds: frozenset[str]) -> None:
        """From now on, send none of ``kinds`` of ``session``'s panel and booths published
        here (see :meth:`Publication.withhold`); an empty set sends everything again."""
        if kinds:
            self.withheld[session] = kinds
        else:
            self.withheld.pop(session, None)
        for publication in list(self.publications.values()):
            if _withholdable(publication, session):
                publication.withhold(kinds)

    def _withhold_new(self, publication: Publication) -> None:
        kinds = self.withheld.get(publication.key.session)
        if kinds and _withholdable(publication, publication.key.session):
            publication.withhold(kinds)

    def new_resource(self) -> str:
        return self.resource_prefix + secrets.token_urlsafe(12)

    def changed(self, key: StreamKey) -> None:
        """Tell the listeners ``key``'s state changed (also when it changed on another
        media node)."""
        for listener in self.listeners:
            try:
                listener(key)
            except Exception:
                log.exception("a stream state listener failed")

    def live(self, key: StreamKey) -> Publication | None:
        return self.publications.get(self.aliases.get(key, key))

    def viewer_count(self, key: StreamKey) -> int:
        """The stream's audience here (relays to other nodes not counted)."""
        return sum(v.key == key and not v.relay for v in self.viewers.values())

    def paused(self, key: StreamKey) -> Pause | None:
        pause = self.pauses.get(key)
        return pause if pause and pause.until > asyncio.get_running_loop().time() else None

    def state(self, key: StreamKey, *, rehearsals: bool = False) -> StreamState:
        """The stream's state over every media node: live or paused here, else as the other
        nodes see it; viewers counted on all of them. A rehearsal is offline unless
        ``rehearsals`` (for its session's moderators and speakers)."""
        viewers = self.viewer_count(key)
        remote = self.elsewhere(key)
        everyone = viewers + (remote.viewers if remote else 0)
        if publication := self.publications.get(key):
            if publication.rehearsal and not rehearsals:
                return OFFLINE
            health = publication.health() if rehearsals else None
            return StreamState(
                "live", publication.started_at, everyone, publication.rehearsal, health
            )
        if pause := self.paused(key):
            return StreamState("paused", pause.started_at, everyone)
        if remote is not None and remote.state != "offline":
            if remote.rehearsal and not rehearsals:
                return OFFLINE
            health = remote.health if rehearsals else None
            return StreamState(remote.state, remote.started_at, everyone, remote.rehearsal, health)
        return StreamState("offline", None, everyone)

    async def end_pause(self, key: StreamKey, resource: str) -> bool:
        """The dropped publisher's DELETE arrived after all: the stream ended."""
        pause = self.pauses.get(key)
        if pause is None or pause.resource != resource:
            return False
        await self._end_pause(key, pause)
        return True

    async def _end_pause(self, key: StreamKey, pause: Pause) -> None:
        if self.pauses.get(key) is pause:
            del self.pauses[key]
        for viewer in pause.held:
            await self.leave(viewer)
        self.changed(key)

    def _resume(self, publication: Publication) -> None:
        """A publisher returning from a pause continues the stream it dropped: same start,
        and the viewers held meanwhile continue (from its first keyframe, their sequence
        numbers and timestamps running on) unless it changed codec."""
        key = publication.key
        pause = self.paused(key)
        self.pauses.pop(key, None)
        if pause is None:
            return
        publication.started_at = pause.started_at
        gap = time.monotonic() - pause.dropped_at
        for viewer in pause.held:
            if self.viewers.get(viewer.resource) is not viewer:
                continue
            kinds = [s.forwarder.kind for s in viewer.subscriptions]
            if any(
                kind not in publication.streams or publication.codecs[kind] != pause.codecs[kind]
                for kind in kinds
            ):
                self._spawn(self.leave(viewer))
                continue
            viewer.subscriptions = [
                Subscription(s.transceiver, publication.streams[s.forwarder.kind], s.subscriber)
                for s in viewer.subscriptions
            ]
            if viewer.started:
                for subscription in viewer.subscriptions:
                    subscription.forwarder.adopt(subscription.subscriber, gap)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def publish(
        self,
        key: StreamKey,
        offer_sdp: str,
        now: dt.datetime,
        *,
        pause_on_drop: bool = True,
        rehearsal: bool = False,
    ) -> tuple[Publication, str]:
        """Take a publisher's offer; a rehearsal does not pause when it drops (nobody but
        its moderators waits for it)."""
        if key in self.publications:
            raise already_live()
        peer = RTCPeerConnection(NO_ICE_SERVERS)
        publication = Publication(key, self.new_resource(), now, peer=peer, rehearsal=rehearsal)
        pause_on_drop = pause_on_drop and not rehearsal
        tracks: list[MediaStreamTrack] = []
        peer.on("track", tracks.append)

        def check() -> None:
            if not tracks:
                raise MediaError(
                    "media.sdp_direction", "The offer sends no audio or video.", "invalid"
                )

        await answer(peer, offer_sdp, check, sending=True)
        self._take(publication, peer, pause_on_drop=pause_on_drop)
        asyncio.get_running_loop().call_later(
            self.first_media_seconds, self._end_if_silent, publication
        )
        log.info("publishing", extra={"stream": str(key), "codecs": publication.codecs})
        return publication, peer.localDescription.sdp

    def _end_if_silent(self, publication: Publication) -> None:
        if self.publications.get(publication.key) is not publication:
            return
        if any(stream.packets_in for stream in publication.streams.values()):
            return
        log.info(
            "the publisher sent no media; its publication ended",
            extra={"stream": str(publication.key), "seconds": self.first_media_seconds},
        )
        self._spawn(self.unpublish(publication))

    def publish_relay(
        self,
        key: StreamKey,
        peer: RTCPeerConnection,
        started_at: dt.datetime,
        origin: str,
        *,
        rehearsal: bool = False,
    ) -> Publication:
        """Publish what ``peer`` (already negotiated with the ``origin`` node, receiving
        only) brings in: one relay of another node's publication, served to this node's
        viewers. It ends when the origin ends it; it is never paused here (the origin holds
        its relay through a publisher's drop, as it holds any viewer)."""
        if key in self.publications:
            raise already_live()
        publication = Publication(
            key, self.new_resource(), started_at, peer=peer, relay_of=origin, rehearsal=rehearsal
        )
        self._take(publication, peer, pause_on_drop=False)
        log.info("relaying", extra={"stream": str(key), "origin": origin})
        return publication

    def _take(
        self, publication: Publication, peer: RTCPeerConnection, *, pause_on_drop: bool
    ) -> None:
        ingest_tracks(publication, peer)
        self._withhold_new(publication)
        self._resume(publication)
        self.publications[publication.key] = publication

        @peer.on("connectionstatechange")
        async def changed() -> None:
            if peer.connectionState == "connected":
                aiortc_glue.ingest_eagerly(peer, self._tasks, publication.batch)
            elif peer.connectionState in ("failed", "closed"):
                await self.unpublish(publication, dropped=pause_on_drop)

        self.changed(publication.key)

    def publish_local(
        self,
        key: StreamKey,
        sources: list[tuple[MediaStreamTrack, KeyframeRequest | None, str]],
        now: dt.datetime,
        stop: Callable[[], None],
    ) -> Publication:
        """Publish tracks made in this process: (track, keyframe request, MIME type)."""
        if key in self.publications:
            raise already_live()
        publication = Publication(key, self.new_resource(), now, stop=stop)
        for track, request_keyframe, mime in sources:
            publication.add_stream(track.kind, mime, track, request_keyframe)
        self._withhold_new(publication)
        self._resume(publication)
        self.publications[key] = publication
        self.changed(key)
        return publication

    async def unpublish(self, publication: Publication, *, dropped: bool = False) -> None:
        """End a publication; ``dropped`` when its connection failed rather than the
        publisher ending it, which leaves the session paused for :data:`PAUSE_SECONDS`."""
        key = publication.key
        if self.publications.get(key) is not publication:
            return
        del self.publications[key]
        for kind, forwarder in publication.streams.items():
            self.retired_totals.setdefault(kind, ForwardingCounts()).add(forwarder)
        watching = [v for v in self.viewers.values() if v.key == key]
        if dropped:
            loop = asyncio.get_running_loop()
            pause = Pause(
                publication.started_at,
                publication.resource,
                loop.time() + PAUSE_SECONDS,
                time.monotonic(),
                dict(publication.codecs),
                watching,
            )
            self.pauses[key] = pause
            loop.call_later(PAUSE_SECONDS, lambda: self._spawn(self._end_pause(key, pause)))
            for viewer in watching:
                for subscription in viewer.subscriptions:
                    subscription.forwarder.remove(subscription.subscriber)
        for broadcast in publication.broadcasts.values():
            await broadcast.close()
        if publication.peer is not None:
            await publication.peer.close()
        if publication.stop is not None:
            await asyncio.to_thread(publication.stop)
        if not dropped:
            for viewer in watching:
                await self.leave(viewer)
        self.changed(key)

    async def watch(
        self, key: StreamKey, offer_sdp: str, *, relay: bool = False, owner: str = ""
    ) -> tuple[Viewer, str]:
        publication = self.live(key)
        if publication is None:
            raise offline()
        peer = RTCPeerConnection(NO_ICE_SERVERS)
        viewer = Viewer(key, self.new_resource(), peer, relay=relay, owner=owner)

        def wire() -> None:
            for transceiver in peer.getTransceivers():
                forwarder = publication.streams.get(transceiver.kind)
                if forwarder is None or any(s.forwarder is forwarder for s in viewer.subscriptions):
                    continue
                mime = publication.codecs.get(transceiver.kind, "")
                if not aiortc_glue.pin_codec(transceiver, mime):
                    raise MediaError(
                        "media.sdp_codecs",
                        f"The publisher sends {mime}, which this viewer cannot receive.",
                        "invalid",
                    )
                subscriber = Subscriber(transceiver.kind)
                aiortc_glue.wire_sender(transceiver.sender, forwarder, subscriber)
                aiortc_glue.report_from_engine(transceiver.sender)
                transceiver.direction = "sendonly"
                viewer.subscriptions.append(Subscription(transceiver, forwarder, subscriber))
            if not viewer.subscriptions:
                raise MediaError(
                    "media.sdp_direction", "The offer receives neither audio nor video.", "invalid"
                )

        await answer(peer, offer_sdp, wire, sending=False)
        self.viewers[viewer.resource] = viewer
        self.changed(key)
        self._report_senders()

        @peer.on("connectionstatechange")
        async def changed() -> None:
            if peer.connectionState == "connected":
                await self._start(viewer)
            elif peer.connectionState in ("failed", "closed"):
                await self.leave(viewer)

        return viewer, peer.localDescription.sdp

    def switch(self, alias: StreamKey, to: StreamKey) -> None:
        """Make ``alias`` (a language channel) ``to``'s stream (the booth going on air):
        its viewers hear ``to`` from its next packet on, their sequence numbers and
        timestamps running on, with no new connection; a viewer that cannot receive its
        codec is ended."""
        publication = self.publications.get(to)
        if publication is None:
            raise offline()
        self.aliases[alias] = to
        for viewer in [v for v in self.viewers.values() if v.key == alias]:
            moved: list[Subscription] = []
            for subscription in viewer.subscriptions:
                kind = subscription.forwarder.kind
                forwarder = publication.streams.get(kind)
                mime = aiortc_glue.negotiated_mime_type(subscription.transceiver)
                if forwarder is None or publication.codecs.get(kind, "").lower() != mime.lower():
                    self._spawn(self.leave(viewer))
                    break
                if forwarder is not subscription.forwarder:
                    subscription.forwarder.remove(subscription.subscriber)
                    if viewer.started:
                        forwarder.adopt(subscription.subscriber, SWITCH_GAP_SECONDS)
                moved.append(
                    Subscription(subscription.transceiver, forwarder, subscription.subscriber)
                )
            else:
                viewer.subscriptions = moved
        self.changed(alias)

    async def _start(self, viewer: Viewer) -> None:
        """The viewer's connection is up: start forwarding to it, from the latest keyframe."""
        if viewer.started or self.viewers.get(viewer.resource) is not viewer:
            return
        viewer.started = True
        for subscription in viewer.subscriptions:
            sink = aiortc_glue.sink_for(subscription.transceiver.sender)
            if sink is None:
                log.warning("a viewer connected without a usable transport")
                await self.leave(viewer)
                return
            parameters = aiortc_glue.subscriber_parameters(subscription.transceiver)
            subscription.forwarder.add(subscription.subscriber, parameters, sink)

    def _report_senders(self) -> None:
        if self._reports is None or self._reports.done():
            self._reports = asyncio.create_task(self._send_sender_reports(), name="rtcp-sr")

    async def _send_sender_reports(self) -> None:
        while self.viewers:
            await asyncio.sleep(SENDER_REPORT_SECONDS)
            for viewer in list(self.viewers.values()):
                for subscription in viewer.subscriptions:
                    aiortc_glue.send_sender_report(
                        subscription.transceiver.sender,
                        subscription.subscriber,
                        subscription.forwarder.last_ntp,
                    )

    async def leave(self, viewer: Viewer) -> None:
        if self.viewers.pop(viewer.resource, None) is not None:
            self.changed(viewer.key)
        for subscription in viewer.subscriptions:
            subscription.forwarder.remove(subscription.subscriber)
            subscription.subscriber.release()
        await viewer.peer.close()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._reports is not None:
            self._reports.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reports
        for viewer in list(self.viewers.values()):
            with contextlib.suppress(Exception):
                await self.leave(viewer)
        for publication in list(self.publications.values()):
            with contextlib.suppress(Exception):
                await self.unpublish(publication)


def _withholdable(publication: Publication, session: str) -> bool:
    """A session's panel or booth published here by its own publisher: a relay gets only
    what its origin sends it, and break-out calls are the participants' own."""
    key = publication.key
    return key.session == session and key.room is None and publication.relay_of is None

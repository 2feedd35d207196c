"""Interpretation booths: per session and language, the interpreters' audio, and which of
them is on air in that language's channel.

Each interpreter in a booth publishes their microphone (audio only) as their own stream; the
language's channel is whichever of them is on air. Viewers watch the channel, so a hand-over
("take over") moves every listener from one interpreter to the other between two packets:
both are publishing already, nobody reconnects, and the listeners' sequence numbers and
timestamps run on (``MediaEngine.switch``). When the interpreter on air leaves, the other
in the booth (if any) goes on air by itself; with nobody left, listeners stay connected
and hear the next interpreter who comes.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from asyncio import FIRST_COMPLETED
from collections.abc import Callable

from aiortc.mediastreams import MediaStreamError

from server.media.engine import MediaEngine, Publication, Viewer
from server.media.errors import MediaError
from server.media.placement import CarriedRoom, MemberCall, RoomCall
from server.media.relay import ForwardedTrack, Packet
from server.media.stream_key import StreamKey

OPUS = "audio/opus"
FRAME_SECONDS = 0.02
"""One Opus frame: the least time between two packets of a track."""

BOOTH_PREFIX = "booth:"


def booth_room(language: str) -> str:
    """A language's booth as the media nodes' records place it: like a break-out room, a
    whole booth (its interpreters and its listeners) lives on one node. No room id has a
    colon, so a booth never meets a room."""
    return BOOTH_PREFIX + language


BoothListener = Callable[[str, str], None]
"""Told (session, language) when who is on air, or who is in the booth, changed."""


class Booths:
    def __init__(self, engine: MediaEngine) -> None:
        self.engine = engine
        self.listeners: list[BoothListener] = []
        self.elsewhere: Callable[[str, str], RoomCall | None] = lambda session, language: None
        """A booth as another media node carries it."""
        engine.listeners.append(self._engine_changed)

    def interpreters(self, session: str, language: str) -> list[str]:
        """Who is publishing in the booth, in the order they came."""
        return [
            key.member
            for key in self.engine.publications
            if key.member is not None
            and key.room is None
            and (key.session, key.language) == (session, language)
        ]

    def on_air(self, session: str, language: str) -> str | None:
        """The interpreter the channel's listeners hear, if any."""
        channel = StreamKey.channel(session, language)
        booth = self.engine.aliases.get(channel)
        if booth is None or self.engine.publications.get(booth) is None:
            return None
        return booth.member

    def speaking(self, session: str, language: str) -> str | None:
        """The interpreter on air, here or on the node that carries the booth."""
        here = self.on_air(session, language)
        if here is not None:
            return here
        there = self.elsewhere(session, language)
        return there.speaker if there is not None else None

    def carried(self) -> tuple[CarriedRoom, ...]:
        """The booths this process carries, for its heartbeat: interpreters as members,
        the one on air as the speaker."""
        booths = sorted(
            {(key.session, key.language) for key in self.engine.publications
             if key.language is not None and key.member is not None}
        )  # fmt: skip
        return tuple(
            CarriedRoom(
                session,
                booth_room(language),
                RoomCall(
                    {who: MemberCall(("audio",)) for who in self.interpreters(session, language)},
                    self.on_air(session, language),
                ),
            )
            for session, language in booths
        )

    def languages_with_interpreters(self, session: str) -> list[str]:
        """The session's booths this process carries (someone interprets there)."""
        return sorted(
            {
                key.language
                for key in self.engine.publications
                if key.session == session and key.language is not None and key.member
            }
        )

    async def publish(
        self, session: str, language: str, interpreter: str, offer: str, now: dt.datetime
    ) -> tuple[Publication, str]:
        """An interpreter's microphone; one who publishes again (a reload) replaces their
        earlier stream. The first in an empty booth goes on air."""
        key = StreamKey.booth(session, language, interpreter)
        earlier = self.engine.live(key)
        publication, answer = (
            await self.engine.publish(key, offer, now, pause_on_drop=False)
            if earlier is None
            else await self._replace(earlier, offer, now)
        )
        if set(publication.streams) != {"audio"}:
            await self.engine.unpublish(publication)
            raise MediaError("media.audio_only", "A booth sends audio only.", "invalid")
        if self.on_air(session, language) in (None, interpreter):
            self.engine.switch(StreamKey.channel(session, language), key)
        self._notify(session, language)
        return publication, answer

    async def _replace(
        self, earlier: Publication, offer: str, now: dt.datetime
    ) -> tuple[Publication, str]:
        await self.engine.unpublish(earlier)
        return await self.engine.publish(earlier.key, offer, now, pause_on_drop=False)

    def take_over(self, session: str, language: str, interpreter: str) -> None:
        """Put ``interpreter`` on air: the channel's listeners hear them from now on."""
        key = StreamKey.booth(session, language, interpreter)
        if self.engine.live(key) is None:
            raise MediaError(
                "media.not_in_booth", "Publish your microphone before taking over.", "conflict"
            )
        self.engine.switch(StreamKey.channel(session, language), key)
        self._notify(session, language)

    async def watch(self, session: str, language: str, offer: str) -> tuple[Viewer, str]:
        """A listener of the language's channel (audio only)."""
        return await self.engine.watch(StreamKey.channel(session, language), offer)

    def _engine_changed(self, key: StreamKey) -> None:
        if key.language is None or key.member is None or key.room is not None:
            return
        session, language = key.session, key.language
        channel = StreamKey.channel(session, language)
        if self.engine.aliases.get(channel) == key and self.engine.live(key) is None:
            others = self.interpreters(session, language)
            if others:  # the one on air left: the other in the booth goes on air
                self.engine.switch(channel, StreamKey.booth(session, language, others[0]))
        self._notify(session, language)

    def _notify(self, session: str, language: str) -> None:
        for listener in self.listeners:
            listener(session, language)


class ChannelTrack:
    """One reader of a language channel's audio frames (the recorder): it reads the booth
    on air and follows every hand-over; while nobody is on air it waits (the track has a
    gap, which players play as silence). Each interpreter's stream has a clock of its own,
    so the first packet after a hand-over is placed where the last one ended plus the time
    that passed: the track's timestamps run on."""

    def __init__(self, engine: MediaEngine, channel: StreamKey) -> None:
        self._engine = engine
        self._channel = channel
        self._changed = asyncio.Event()
        self._publication: Publication | None = None
        self._inner: ForwardedTrack | None = None
        self._stopped = False
        self._fresh = True
        """The next packet is the first from the source followed now."""
        self._offset = 0
        self._last: tuple[int, float] | None = None
        """The last packet's timestamp (after the offset) and when it came."""
        engine.listeners.append(self._engine_changed)

    def _engine_changed(self, key: StreamKey) -> None:
        if (key.session, key.language) == (self._channel.session, self._channel.language):
            self._changed.set()

    def _follow(self, publication: Publication | None) -> None:
        if self._inner is not None:
            self._inner.stop()
        self._publication, self._inner, self._fresh = publication, None, True
        if publication is not None and publication.codecs.get("audio", "").lower() == OPUS:
            self._inner = publication.broadcasts["audio"].subscribe()

    async def recv(self) -> Packet:
        while not self._stopped:
            publication = self._engine.live(self._channel)
            if publication is not self._publication:
                self._follow(publication)
            if self._inner is None:
                await self._changed.wait()
                self._changed.clear()
                continue
            receiving = asyncio.ensure_future(self._inner.recv())
            changing = asyncio.ensure_future(self._changed.wait())
            done, _ = await asyncio.wait({receiving, changing}, return_when=FIRST_COMPLETED)
            if receiving in done:
                changing.cancel()
                try:
                    packet: Packet = receiving.result()
                except MediaStreamError:  # that booth ended: wait for the channel to change
                    self._inner = None
                    continue
                return self._placed(packet)
            receiving.cancel()
            self._changed.clear()
        raise MediaStreamError

    def _placed(self, packet: Packet) -> Packet:
        now = time.monotonic()
        if packet.pts is None:
            return packet
        if self._fresh:
            self._fresh = False
            if self._last is not None and packet.time_base:
                last_pts, last_at = self._last
                elapsed = max(now - last_at, FRAME_SECONDS)
                self._offset = last_pts + round(elapsed / packet.time_base) - packet.pts
        packet.pts += self._offset
        packet.dts = packet.pts
        self._last = (packet.pts, now)
        return packet

    def request_keyframe(self) -> None:
        """Audio has no keyframes."""

    def stop(self) -> None:
        self._stopped = True
        self._changed.set()
        if self._inner is not None:
            self._inner.stop()
        with contextlib.suppress(ValueError):
            self._engine.listeners.remove(self._engine_changed)


class ChannelBroadcast:
    """A language channel as the recorder subscribes to it (a ``Broadcast``)."""

    def __init__(self, engine: MediaEngine, session: str, language: str) -> None:
        self._engine = engine
        self._channel = StreamKey.channel(session, language)

    def subscribe(self) -> ChannelTrack:
        return ChannelTrack(self._engine, self._channel)

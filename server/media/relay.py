"""A publication's encoded frames for whoever wants frames rather than RTP packets (the
recorder), and the keyframe requests every reader of a publication shares.

Viewers do not come through here: they are fed at RTP level (``rtp_forwarding``). A frame
reader gets its own track with a bounded queue; one that falls behind loses frames up to the
next keyframe instead of holding up the others. Keyframe requests, from frame readers and
from viewers alike, reach the publisher at most once per ``interval`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

log = logging.getLogger("plenaria.media")

if TYPE_CHECKING:
    Packet = av.Packet[Any]
else:
    Packet = av.Packet
KeyframeRequest = Callable[[], Coroutine[Any, Any, None]]

QUEUE_PACKETS = 256
KEYFRAME_INTERVAL = 0.5


class ForwardedTrack(MediaStreamTrack):
    """What one viewer's sender reads: the publisher's packets, in order, never re-encoded."""

    def __init__(self, broadcast: Broadcast) -> None:
        super().__init__()
        self.kind = broadcast.kind
        self._broadcast = broadcast
        self._queue: asyncio.Queue[Packet | None] = asyncio.Queue(maxsize=QUEUE_PACKETS)
        self._needs_keyframe = self.kind == "video"
        self.dropped = 0

    def offer(self, packet: Packet | None) -> None:
        if packet is None:
            self._put(None)
            return
        if self._needs_keyframe:
            if not packet.is_keyframe:
                self.dropped += 1
                return
            self._needs_keyframe = False
        if self._queue.full():
            self._skip_to_next_keyframe()
            self.dropped += 1
            return
        self._queue.put_nowait(packet)

    def _put(self, item: Packet | None) -> None:
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(item)

    def _skip_to_next_keyframe(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()
            self.dropped += 1
        if self.kind == "video":
            self._needs_keyframe = True
            self._broadcast.keyframe_wanted()

    async def recv(self) -> Packet:
        packet = await self._queue.get()
        if packet is None:
            self.stop()
            raise MediaStreamError
        return packet

    def request_keyframe(self) -> None:
        """Called by the sender when its viewer asks for a keyframe (PLI / FIR)."""
        self._broadcast.keyframe_wanted()

    def stop(self) -> None:
        super().stop()
        self._broadcast.unsubscribe(self)


class KeyframeRequests:
    """Asks a publisher for a keyframe at most once per interval, however many ask; a request
    inside the interval is sent when it ends (one for all who asked), never dropped, or a
    viewer who joined just after a keyframe went by would wait for the encoder's next one."""

    def __init__(
        self, request: KeyframeRequest | None, *, interval: float = KEYFRAME_INTERVAL
    ) -> None:
        self._request = request
        self._interval = interval
        self._last = -float("inf")
        self._deferred: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.sent = 0

    def wanted(self) -> None:
        if self._request is None:
            return
        wait = self._last + self._interval - time.monotonic()
        if wait > 0:
            if self._deferred is None:
                loop = asyncio.get_running_loop()
                self._deferred = loop.call_later(wait, self._send_deferred)
            return
        self._send()

    def _send_deferred(self) -> None:
        self._deferred = None
        self._send()

    def _send(self) -> None:
        assert self._request is not None
        self._last = time.monotonic()
        self.sent += 1
        task = asyncio.create_task(self._request())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def close(self) -> None:
        if self._deferred is not None:
            self._deferred.cancel()
            self._deferred = None


class Broadcast:
    """One publisher track read once and handed to every frame reader. With ``on_frame``
    (a publisher inside this process, whose frames are also packetised for the viewers) it
    reads from the start; otherwise only once someone subscribes."""

    def __init__(
        self,
        source: MediaStreamTrack,
        keyframes: KeyframeRequests | None = None,
        *,
        on_frame: Callable[[Packet], None] | None = None,
    ) -> None:
        self.source = source
        self.kind = source.kind
        self.keyframes = keyframes or KeyframeRequests(None)
        self._on_frame = on_frame
        self.subscribers: set[ForwardedTrack] = set()
        self._pump: asyncio.Task[None] | None = None
        self.packets = 0
        self.withheld = False
        """Off the record (or not consented to): frames are dropped as they arrive."""
        self._keyframe_due = False
        """Released, but a video reader cannot use what comes before the next keyframe."""
        if on_frame is not None:
            self._start()

    def _start(self) -> None:
        if self._pump is None:
            self._pump = asyncio.create_task(self._forward(), name=f"broadcast-{self.kind}")

    def subscribe(self) -> ForwardedTrack:
        track = ForwardedTrack(self)
        self.subscribers.add(track)
        self._start()
        self.keyframe_wanted()
        return track

    def unsubscribe(self, track: ForwardedTrack) -> None:
        self.subscribers.discard(track)

    def frames_wanted(self) -> bool:
        return bool(self.subscribers)

    def withhold(self) -> None:
        self.withheld = True

    def release(self) -> None:
        if not self.withheld:
            return
        self.withheld = False
        if self.kind == "video":
            self._keyframe_due = True
            self.keyframe_wanted()

    def _passes(self, packet: Packet) -> bool:
        if self.withheld:
            return False
        if self._keyframe_due:
            if not packet.is_keyframe:
                return False
            self._keyframe_due = False
        return True

    def keyframe_wanted(self) -> None:
        if self.kind == "video":
            self.keyframes.wanted()

    async def _forward(self) -> None:
        try:
            while True:
                packet = await self.source.recv()
                if not isinstance(packet, av.Packet):
                    raise TypeError("the media engine forwards encoded packets only")
                self.packets += 1
                if not self._passes(packet):
                    continue
                if self._on_frame is not None:
                    try:
                        self._on_frame(packet)
                    except Exception:
                        log.exception("packetising a frame failed", extra={"kind": self.kind})
                for track in list(self.subscribers):
                    track.offer(packet)
        except MediaStreamError:
            log.info("publisher track ended", extra={"kind": self.kind})
        finally:
            for track in list(self.subscribers):
                track.offer(None)

    async def close(self) -> None:
        self.keyframes.close()
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump

"""Fan-out of one publisher's encoded media to many viewers, without decoding.

Each viewer gets its own track with a bounded queue: a viewer that falls behind loses
packets up to the next keyframe instead of holding up the publisher or the other viewers.
Keyframe requests from viewers are relayed to the publisher at most once per
``keyframe_interval`` seconds, however many viewers ask.
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


class Broadcast:
    """One publisher track read once and handed to every subscriber."""

    def __init__(
        self,
        source: MediaStreamTrack,
        request_keyframe: KeyframeRequest | None = None,
        *,
        keyframe_interval: float = KEYFRAME_INTERVAL,
    ) -> None:
        self.source = source
        self.kind = source.kind
        self._request_keyframe = request_keyframe
        self._keyframe_interval = keyframe_interval
        self._last_keyframe_request = -float("inf")
        self._deferred_request: asyncio.TimerHandle | None = None
        self.keyframe_requests = 0
        self.subscribers: set[ForwardedTrack] = set()
        self._pump: asyncio.Task[None] | None = None
        self._requests: set[asyncio.Task[None]] = set()
        self.packets = 0

    def subscribe(self) -> ForwardedTrack:
        track = ForwardedTrack(self)
        self.subscribers.add(track)
        if self._pump is None:
            self._pump = asyncio.create_task(self._forward(), name=f"broadcast-{self.kind}")
        self.keyframe_wanted()
        return track

    def unsubscribe(self, track: ForwardedTrack) -> None:
        self.subscribers.discard(track)

    def keyframe_wanted(self) -> None:
        """Ask the publisher for a keyframe, at most once per interval; a request inside the
        interval is sent when it ends (one for all who asked), never dropped, or a viewer
        who joined just after a keyframe went by would wait for the encoder's next one."""
        if self.kind != "video" or self._request_keyframe is None:
            return
        wait = self._last_keyframe_request + self._keyframe_interval - time.monotonic()
        if wait > 0:
            if self._deferred_request is None:
                loop = asyncio.get_running_loop()
                self._deferred_request = loop.call_later(wait, self._send_deferred_request)
            return
        self._send_keyframe_request()

    def _send_deferred_request(self) -> None:
        self._deferred_request = None
        if self.subscribers:
            self._send_keyframe_request()

    def _send_keyframe_request(self) -> None:
        assert self._request_keyframe is not None
        self._last_keyframe_request = time.monotonic()
        self.keyframe_requests += 1
        task = asyncio.create_task(self._request_keyframe())
        self._requests.add(task)
        task.add_done_callback(self._requests.discard)

    async def _forward(self) -> None:
        try:
            while True:
                packet = await self.source.recv()
                if not isinstance(packet, av.Packet):
                    raise TypeError("the media engine forwards encoded packets only")
                self.packets += 1
                for track in list(self.subscribers):
                    track.offer(packet)
        except MediaStreamError:
            log.info("publisher track ended", extra={"kind": self.kind})
        finally:
            for track in list(self.subscribers):
                track.offer(None)

    async def close(self) -> None:
        if self._deferred_request is not None:
            self._deferred_request.cancel()
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump

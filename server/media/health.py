"""How a publisher's stream arrives, as an AV desk reads it in OBS: bitrate, frame rate,
loss, and whether audio and video come at all. Measured from the forwarders' counters over
the time since the last reading (at least :data:`WINDOW_SECONDS`), without touching packets.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Protocol

import msgspec

WINDOW_SECONDS = 0.8


class StreamHealth(msgspec.Struct, frozen=True):
    kbps: int = 0
    fps: float = 0.0
    loss_percent: float = 0.0
    """Packets the publisher sent that never arrived (after retransmissions)."""
    audio: bool = False
    video: bool = False


class InboundCounts(Protocol):
    kind: str
    packets_in: int
    octets_in: int
    expected_in: int
    frames_in: int


class HealthMeter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._at = clock()
        self._totals: dict[str, tuple[int, int, int, int]] = {}
        self.health = StreamHealth()

    def read(self, streams: Iterable[InboundCounts]) -> StreamHealth:
        now = self._clock()
        elapsed = now - self._at
        if elapsed < WINDOW_SECONDS:
            return self.health
        totals = {s.kind: (s.packets_in, s.octets_in, s.expected_in, s.frames_in) for s in streams}
        delta = {
            kind: tuple(
                n - b for n, b in zip(counts, self._totals.get(kind, (0, 0, 0, 0)), strict=True)
            )
            for kind, counts in totals.items()
        }
        packets = sum(d[0] for d in delta.values())
        expected = sum(d[2] for d in delta.values())
        self.health = StreamHealth(
            kbps=round(sum(d[1] for d in delta.values()) * 8 / elapsed / 1000),
            fps=round(delta["video"][3] / elapsed, 1) if "video" in delta else 0.0,
            loss_percent=round(100 * max(expected - packets, 0) / expected, 1) if expected else 0.0,
            audio=delta.get("audio", (0,))[0] > 0,
            video=delta.get("video", (0,))[0] > 0,
        )
        self._at, self._totals = now, totals
        return self.health

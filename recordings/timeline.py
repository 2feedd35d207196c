"""Places a track's packets on a timeline shared with the publication's other tracks."""

from __future__ import annotations

import fractions

RTP_WRAP = 1 << 32


class TrackClock:
    """Places one track's packets on a timeline (a recording's, a live packaging's), in
    ticks of ``1 / rate``.

    Timestamps are unwrapped at 2^32 in the packets' own time base (an RTP clock for a
    WebRTC publisher), then converted."""

    def __init__(self, rate: int, resync_seconds: float) -> None:
        self.rate = rate
        self._resync = resync_seconds
        self._last = 0
        self._unwrapped = 0
        self._offset: int | None = None

    def place(self, timestamp: int, time_base: fractions.Fraction, since_start: float) -> int:
        timestamp %= RTP_WRAP
        expected = round(since_start * self.rate)
        if self._offset is None:
            self._unwrapped = timestamp
        else:
            step = (timestamp - self._last + RTP_WRAP // 2) % RTP_WRAP - RTP_WRAP // 2
            self._unwrapped += step
        self._last = timestamp
        ticks = round(self._unwrapped * time_base * self.rate)
        if self._offset is None:
            self._offset = expected - ticks
        ticks += self._offset
        if abs(ticks - expected) > self._resync * self.rate:
            self._offset += expected - ticks
            ticks = expected
        return ticks

"""Sliding-window rate limits, driven by the caller's clock."""

from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import dataclass, field

SWEEP_EVERY = 1024
"""Calls between sweeps of keys that have gone quiet."""


@dataclass
class SlidingWindow:
    """At most ``limit`` events per ``window`` for each key."""

    limit: int
    window: dt.timedelta = dt.timedelta(minutes=1)
    _times: dict[str, deque[dt.datetime]] = field(default_factory=dict, repr=False)
    _calls: int = field(default=0, repr=False)

    def allow(self, key: str, now: dt.datetime) -> bool:
        """Count an event for ``key`` and say whether it is within the limit.

        A refused event is not counted, so a client that keeps retrying is let in again as
        soon as its oldest counted event leaves the window."""
        self._calls += 1
        if self._calls % SWEEP_EVERY == 0:
            self.forget_idle(now)
        times = self._times.setdefault(key, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) >= self.limit:
            return False
        times.append(now)
        return True

    def forget_idle(self, now: dt.datetime) -> None:
        """Drop keys with no event in the window, so memory follows active clients only."""
        for key in [k for k, t in self._times.items() if not t or now - t[-1] >= self.window]:
            del self._times[key]

"""A recording's captions: the cues sent while it ran, on its own clock, as WebVTT."""

from __future__ import annotations

import datetime as dt

from recordings.archive import webvtt
from sessions.captions import Cue

LONGEST_CUE = 6.0
"""Seconds a line stays up when the next comes later (or never)."""
SHORTEST_CUE = 1.0


def caption_track(cues: list[Cue], start: dt.datetime, end: dt.datetime | None) -> str:
    """``cues`` as a WebVTT file whose clock starts at ``start``: each line shows until the
    next one arrives, at most :data:`LONGEST_CUE` seconds and never past ``end``."""
    spans: list[tuple[float, float, str]] = []
    stop = (end - start).total_seconds() if end is not None else None
    for index, cue in enumerate(cues):
        begin = (cue.at - start).total_seconds()
        if begin < 0 or (stop is not None and begin >= stop):
            continue
        later = cues[index + 1].at if index + 1 < len(cues) else None
        finish = begin + LONGEST_CUE
        if later is not None:
            finish = min(finish, max(begin + SHORTEST_CUE, (later - start).total_seconds()))
        if stop is not None:
            finish = min(finish, stop)
        spans.append((begin, finish, cue.text))
    return webvtt(spans, cue_name="cue")

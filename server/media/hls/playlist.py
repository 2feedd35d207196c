"""A live LL-HLS media playlist and the media it lists, in memory (no I/O).

Parts arrive in order from the segmenter; a segment is complete when the next one's
first part arrives. The playlist keeps :data:`SEGMENTS_KEPT` complete segments, lists the
parts of the last :data:`SEGMENTS_WITH_PARTS`, and hints the next part, so players ask for
it before it exists (the server holds such a request until it does). Every URI carries
the run (one publication's packaging) so that a cache never mixes two runs' segment 0.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import dataclass, field

from server.media.hls.segmenter import PART_TARGET, TARGET_DURATION, InitReady, PartReady

SEGMENTS_KEPT = 8
SEGMENTS_WITH_PARTS = 3
PART_HOLD_BACK = round(3 * PART_TARGET, 3)
BLOCKING_MSN_AHEAD = 2
"""A blocking request may ask for at most this many segments beyond the last one."""


@dataclass(slots=True)
class Segment:
    msn: int
    init: int
    program_time: dt.datetime
    parts: list[PartReady] = field(default_factory=list)
    data: bytes | None = None
    """The whole segment, once complete."""

    @property
    def complete(self) -> bool:
        return self.data is not None

    @property
    def duration(self) -> float:
        return sum(part.duration for part in self.parts)


class OutOfRangeError(ValueError):
    """A blocking reload asked for a segment too far ahead of the live edge."""


class LivePlaylist:
    def __init__(self, run: str, epoch: float) -> None:
        self.run = run
        self._epoch = epoch
        self._inits: dict[int, InitReady] = {}
        self._segments: deque[Segment] = deque()
        self._discontinuities = 0
        self._rendered: str | None = None

    @property
    def codecs(self) -> str:
        return self._inits[max(self._inits)].codecs if self._inits else ""

    @property
    def ready(self) -> bool:
        """True once there is something to play: a complete segment."""
        return any(segment.complete for segment in self._segments)

    def add_init(self, init: InitReady) -> None:
        self._inits[init.init] = init
        self._rendered = None

    def add_part(self, part: PartReady) -> None:
        last = self._segments[-1] if self._segments else None
        if last is None or part.segment != last.msn:
            if last is not None:
                last.data = b"".join(p.data for p in last.parts)
            program_time = dt.datetime.fromtimestamp(self._epoch + part.start, dt.UTC)
            self._segments.append(Segment(part.segment, part.init, program_time))
            self._forget_old()
        self._segments[-1].parts.append(part)
        self._rendered = None

    def _forget_old(self) -> None:
        while sum(s.complete for s in self._segments) > SEGMENTS_KEPT:
            gone = self._segments.popleft()
            if self._segments and self._segments[0].init != gone.init:
                self._discontinuities += 1
        used = {segment.init for segment in self._segments}
        for init in [i for i in self._inits if i not in used and i < max(used, default=0)]:
            del self._inits[init]

    def has(self, msn: int, part: int | None) -> bool:
        """Whether a blocking reload for ``msn`` (and ``part``) can be answered now;
        :class:`OutOfRangeError` when it asks too far ahead."""
        if not self._segments:
            return False
        last = self._segments[-1]
        if msn > last.msn + BLOCKING_MSN_AHEAD:
            raise OutOfRangeError(msn)
        if msn < last.msn:
            return True
        if msn > last.msn:
            return False
        return last.complete if part is None else part < len(last.parts)

    def init(self, init: int) -> bytes | None:
        found = self._inits.get(init)
        return found.data if found else None

    def segment(self, msn: int) -> bytes | None:
        for segment in self._segments:
            if segment.msn == msn:
                return segment.data
        return None

    def part(self, msn: int, index: int) -> bytes | None:
        for segment in self._segments:
            if segment.msn == msn:
                return segment.parts[index].data if index < len(segment.parts) else None
        return None

    def hinted(self, msn: int, index: int) -> bool:
        """Whether part (``msn``, ``index``) is the next to come (worth waiting for)."""
        if not self._segments:
            return msn == 0 and index == 0
        last = self._segments[-1]
        return (msn == last.msn and index == len(last.parts)) or (
            msn == last.msn + 1 and index == 0
        )

    def render(self) -> str:
        """The playlist text (made once per change: every player asks for the same)."""
        if self._rendered is None:
            self._rendered = self._render()
        return self._rendered

    def _render(self) -> str:
        segments = list(self._segments)
        first_init = segments[0].init if segments else 0
        lines = [
            "#EXTM3U",
            "#EXT-X-VERSION:9",
            f"#EXT-X-TARGETDURATION:{TARGET_DURATION}",
            f"#EXT-X-PART-INF:PART-TARGET={PART_TARGET:.3f}",
            f"#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK={PART_HOLD_BACK:.3f}",
            f"#EXT-X-MEDIA-SEQUENCE:{segments[0].msn if segments else 0}",
        ]
        if self._discontinuities:
            lines.append(f"#EXT-X-DISCONTINUITY-SEQUENCE:{self._discontinuities}")
        lines.append(f'#EXT-X-MAP:URI="{self.run}/init-{first_init}.mp4"')
        previous_init = first_init
        with_parts = segments[-SEGMENTS_WITH_PARTS:]
        for segment in segments:
            if segment.init != previous_init:
                lines.append("#EXT-X-DISCONTINUITY")
                lines.append(f'#EXT-X-MAP:URI="{self.run}/init-{segment.init}.mp4"')
                previous_init = segment.init
            program_time = segment.program_time.isoformat(timespec="milliseconds")
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{program_time.replace('+00:00', 'Z')}")
            if segment in with_parts:
                for part in segment.parts:
                    independent = ",INDEPENDENT=YES" if part.independent else ""
                    lines.append(
                        f"#EXT-X-PART:DURATION={part.duration:.5f},"
                        f'URI="{self.run}/{segment.msn}.{part.index}.m4s"{independent}'
                    )
            if segment.complete:
                lines.append(f"#EXTINF:{segment.duration:.5f},")
                lines.append(f"{self.run}/{segment.msn}.m4s")
        if segments:
            last = segments[-1]
            lines.append(
                f'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="{self.run}/{last.msn}.{len(last.parts)}.m4s"'
            )
        return "\n".join(lines) + "\n"

"""Live captions: what a session's human captioners write, line by line, in each language.

A captioner writes a line and sends it; it is a cue, stamped when the command log receives
it, and reaches every viewer of that language at once. Cues are kept for the session's
replays: each recording serves, per language, the cues that fell within it as WebVTT on the
recording's own clock. A captioner may correct the last line they sent (a typo seen too late)
within a short while; later corrections would confuse viewers who read it already.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import assert_never

from sessions.domain_errors import DomainError, clean_language, clean_text, within_rate
from sessions.ratelimit import SlidingWindow

MAX_CUE = 300
"""Characters in one line: what fits on two lines of captions over the player."""
MAX_CUES = 20_000
"""Cues kept per session and language: a two-day conference's worth of a session."""
CUES_PER_MINUTE = 120
CORRECTION_SECONDS = 30


class CaptionError(DomainError):
    scope = "captions"


@dataclass(frozen=True, slots=True)
class Cue:
    cue_id: str
    session_code: str
    language: str
    text: str
    at: dt.datetime
    """When the command log received it: where it sits on a recording's clock."""
    by: str
    corrected: bool = False


@dataclass(frozen=True, slots=True)
class AddCue:
    cue_id: str
    session_code: str
    language: str
    text: str
    by: str


@dataclass(frozen=True, slots=True)
class CorrectCue:
    """The captioner's last line, written again."""

    cue_id: str
    session_code: str
    language: str
    text: str
    by: str


CaptionCommand = AddCue | CorrectCue


@dataclass(frozen=True, slots=True)
class CueShown:
    cue: Cue


CaptionEvent = CueShown


def language_code(raw: str) -> str:
    """A captions or interpretation language as a lower-case ISO 639 code ("fr", "ase")."""
    return clean_language(raw, CaptionError)


@dataclass
class Captions:
    """Every session's cues, by session and language, in the order they were sent."""

    cues: dict[tuple[str, str], list[Cue]] = field(default_factory=dict)
    _rate: SlidingWindow = field(
        default_factory=lambda: SlidingWindow(CUES_PER_MINUTE, dt.timedelta(minutes=1))
    )

    def languages(self, session_code: str) -> list[str]:
        """The languages a session has captions in, in the order they started."""
        return [language for code, language in self.cues if code == session_code]

    def of(self, session_code: str, language: str) -> list[Cue]:
        return list(self.cues.get((session_code, language), ()))

    def within(
        self, session_code: str, language: str, start: dt.datetime, end: dt.datetime
    ) -> list[Cue]:
        """The cues sent between ``start`` and ``end`` (a recording's span)."""
        return [cue for cue in self.of(session_code, language) if start <= cue.at <= end]

    def apply(
        self, command: CaptionCommand, now: dt.datetime, *, off_record: bool = False
    ) -> list[CaptionEvent]:
        """``off_record``: the session is off the record now, so a new line would reach
        remote viewers with what the hall alone may hear; it waits until the segment ends."""
        language = language_code(command.language)
        text = clean_text(command.text, MAX_CUE, "cue", CaptionError, multiline=False)
        cues = self.cues.get((command.session_code, language), [])
        match command:
            case AddCue():
                if off_record:
                    raise CaptionError(
                        "captions.off_record",
                        "This part is off the record: captions wait until it ends.",
                        "conflict",
                    )
                within_rate(self._rate, command.by, now, "lines", CaptionError)
                if len(cues) >= MAX_CUES:
                    raise CaptionError(
                        "captions.full", "This session has as many captions as it can keep."
                    )
                cue = Cue(command.cue_id, command.session_code, language, text, now, command.by)
                self.cues[(command.session_code, language)] = [*cues, cue]
                return [CueShown(cue)]
            case CorrectCue():
                last = cues[-1] if cues else None
                if last is None or last.cue_id != command.cue_id or last.by != command.by:
                    raise CaptionError(
                        "captions.not_last", "Only your last line can be corrected.", "conflict"
                    )
                if (now - last.at).total_seconds() > CORRECTION_SECONDS:
                    raise CaptionError(
                        "captions.too_late",
                        f"A line can be corrected for {CORRECTION_SECONDS} seconds.",
                    )
                if text == last.text:
                    return []
                corrected = replace(last, text=text, corrected=True)
                cues[-1] = corrected
                return [CueShown(corrected)]
            case _:
                assert_never(command)

"""Live captions as pages, the API and the socket see them."""

from __future__ import annotations

import msgspec

from sessions.captions import Captions, Cue

RECENT = 3
"""Lines a viewer joining late is shown at once, per language."""


class CueView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    language: str
    text: str
    at: str
    corrected: bool


class CaptionsSnapshot(msgspec.Struct, frozen=True):
    """The languages a session has captions in, and the last few lines of each."""

    languages: list[str]
    recent: dict[str, list[CueView]]


def cue_view(cue: Cue) -> CueView:
    return CueView(
        id=cue.cue_id,
        language=cue.language,
        text=cue.text,
        at=cue.at.isoformat(),
        corrected=cue.corrected,
    )


def captions_snapshot(captions: Captions, session_code: str) -> CaptionsSnapshot:
    languages = captions.languages(session_code)
    return CaptionsSnapshot(
        languages=languages,
        recent={
            language: [cue_view(c) for c in captions.of(session_code, language)[-RECENT:]]
            for language in languages
        },
    )

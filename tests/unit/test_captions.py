"""Live captions: lines, corrections, refusals, and a recording's WebVTT track."""

from __future__ import annotations

import datetime as dt

import pytest

from recordings.captions import caption_track
from sessions.captions import (
    CORRECTION_SECONDS,
    CUES_PER_MINUTE,
    MAX_CUE,
    AddCue,
    CaptionError,
    Captions,
    CorrectCue,
    CueShown,
)

T0 = dt.datetime(2026, 5, 11, 10, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_a_line_is_stamped_when_received_and_kept_per_language() -> None:
    captions = Captions()
    [shown] = captions.apply(AddCue("c1", "panel", "FR", "  Bonjour   à tous ", "cap"), at(1))
    assert isinstance(shown, CueShown)
    assert (shown.cue.language, shown.cue.text, shown.cue.at) == ("fr", "Bonjour à tous", at(1))
    captions.apply(AddCue("c2", "panel", "en", "Hello all", "cap-en"), at(2))
    captions.apply(AddCue("c3", "panel", "fr", "Ensuite", "cap"), at(3))
    assert captions.languages("panel") == ["fr", "en"]
    assert [c.cue_id for c in captions.of("panel", "fr")] == ["c1", "c3"]
    assert [c.cue_id for c in captions.within("panel", "fr", at(2), at(9))] == ["c3"]
    assert captions.languages("other") == []


def test_only_the_writers_last_line_is_corrected_and_only_for_a_while() -> None:
    captions = Captions()
    captions.apply(AddCue("c1", "panel", "fr", "Bonjuor", "cap"), at(0))
    [fixed] = captions.apply(CorrectCue("c1", "panel", "fr", "Bonjour", "cap"), at(5))
    assert isinstance(fixed, CueShown) and fixed.cue.corrected and fixed.cue.at == at(0)
    assert captions.apply(CorrectCue("c1", "panel", "fr", "Bonjour", "cap"), at(6)) == []
    with pytest.raises(CaptionError) as not_theirs:
        captions.apply(CorrectCue("c1", "panel", "fr", "Salut", "someone-else"), at(7))
    assert not_theirs.value.code == "captions.not_last"
    captions.apply(AddCue("c2", "panel", "fr", "Suite", "cap"), at(8))
    with pytest.raises(CaptionError) as not_last:
        captions.apply(CorrectCue("c1", "panel", "fr", "Bonjour !", "cap"), at(9))
    assert not_last.value.code == "captions.not_last"
    with pytest.raises(CaptionError) as late:
        captions.apply(
            CorrectCue("c2", "panel", "fr", "La suite", "cap"), at(9 + CORRECTION_SECONDS)
        )
    assert late.value.code == "captions.too_late"
    assert [c.text for c in captions.of("panel", "fr")] == ["Bonjour", "Suite"]


@pytest.mark.parametrize(
    ("language", "text", "code"),
    [
        ("f", "Bonjour", "captions.language_invalid"),
        ("fr-CA", "Bonjour", "captions.language_invalid"),
        ("fr", "   ", "captions.cue_empty"),
        ("fr", "x" * (MAX_CUE + 1), "captions.cue_too_long"),
        ("fr", "bell\x07", "captions.cue_invalid"),
    ],
)
def test_bad_lines_are_refused_and_change_nothing(language: str, text: str, code: str) -> None:
    captions = Captions()
    with pytest.raises(CaptionError) as refused:
        captions.apply(AddCue("c1", "panel", language, text, "cap"), at(0))
    assert refused.value.code == code and refused.value.kind == "invalid"
    assert captions.cues == {}


def test_a_flood_of_lines_is_refused() -> None:
    captions = Captions()
    for index in range(CUES_PER_MINUTE):
        captions.apply(AddCue(f"c{index}", "panel", "fr", "ligne", "cap"), at(index * 0.1))
    with pytest.raises(CaptionError) as flood:
        captions.apply(AddCue("more", "panel", "fr", "ligne", "cap"), at(30))
    assert flood.value.kind == "rate_limited"


def test_a_recordings_track_runs_on_its_clock_each_line_until_the_next() -> None:
    captions = Captions()
    for cue_id, seconds, text in [
        ("before", 5, "Avant"),
        ("a", 12, "Bonjour <à> tous & toutes"),
        ("b", 14, "Ensuite"),
        ("c", 30, "Enfin"),
        ("after", 75, "Après"),
    ]:
        captions.apply(AddCue(cue_id, "panel", "fr", text, "cap"), at(seconds))
    track = caption_track(captions.of("panel", "fr"), at(10), at(33))
    assert track == (
        "WEBVTT\n\n"
        "cue-1\n00:00:02.000 --> 00:00:04.000\nBonjour &lt;à> tous &amp; toutes\n\n"
        "cue-2\n00:00:04.000 --> 00:00:10.000\nEnsuite\n\n"  # at most 6 s
        "cue-3\n00:00:20.000 --> 00:00:23.000\nEnfin\n"  # not past the recording's end
    )

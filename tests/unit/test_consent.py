"""Consent (issue 15, point 1): each party's answer, the strictest enforced, edits logged."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from recordings.archive import Marker, QuietStretch, Recording, chapters
from server.backends.log_codec import LogEntry, decode_entry, encode_entry
from sessions.consent import Consent, session_consent
from sessions.delivery import ConsentChanged, Delivery, DeliveryError, SetConsent, SetOffRecord
from sessions.programme import Speaker
from tests.helpers import at, session

NOW = at(11, 10)
PANEL = session("panel", NOW, speakers=(Speaker("amira", "Amira N."), Speaker("jo", "Jo Example")))


def test_the_programme_gives_the_sessions_defaults_and_speakers_agree_until_they_say() -> None:
    plain = session_consent(PANEL, {})
    assert plain.streamed and plain.recorded and not plain.audio_only
    assert [p.subject for p in plain.parties] == ["", "amira", "jo"]
    assert not any(p.edited for p in plain.parties)
    unrecorded = session_consent(dataclasses.replace(PANEL, do_not_record=True), {})
    assert unrecorded.streamed and not unrecorded.recorded
    assert [p.name for p in unrecorded.withholding("record")] == [""]
    unstreamed = session_consent(dataclasses.replace(PANEL, do_not_stream=True), {})
    assert not unstreamed.streamed and not unstreamed.recorded, "no stream, nothing to record"


def test_the_strictest_answer_is_enforced() -> None:
    edits = {"amira": Consent(media="audio"), "jo": Consent(record=False)}
    consent = session_consent(PANEL, edits)
    assert consent.streamed and not consent.recorded and consent.audio_only
    assert [p.name for p in consent.withholding("media")] == ["Amira N."]
    assert [p.name for p in consent.withholding("record")] == ["Jo Example"]
    assert not session_consent(PANEL, {"jo": Consent(stream=False)}).streamed
    # An edit of the session's own consent overrides the programme (it may correct it).
    corrected = session_consent(dataclasses.replace(PANEL, do_not_record=True), {"": Consent()})
    assert corrected.recorded
    # An edit for someone no longer on the panel does not count.
    assert session_consent(PANEL, {"gone": Consent(stream=False)}).streamed


def test_edits_are_logged_with_who_and_when_and_repeats_change_nothing() -> None:
    delivery = Delivery()
    command = SetConsent("panel", "mo", "amira", Consent(media="audio"), "Mo")
    [event] = delivery.apply(command, NOW)
    assert isinstance(event, ConsentChanged)
    assert (event.change.by, event.change.by_name, event.change.at) == ("mo", "Mo", NOW)
    assert delivery.apply(command, NOW) == []
    assert delivery.consent_edits("panel") == {"amira": Consent(media="audio")}
    with pytest.raises(DeliveryError):
        delivery.apply(SetConsent("panel", "mo", "x\n", Consent()), NOW)
    with pytest.raises(DeliveryError):
        delivery.apply(SetConsent("panel", "mo", "a", Consent(media="smell")), NOW)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "command",
    [
        SetConsent("panel", "mo", "amira", Consent(False, True, "audio"), "Mo"),
        SetOffRecord("panel", "mo", True, "Mo"),
    ],
)
def test_the_commands_survive_the_log(command: SetConsent | SetOffRecord) -> None:
    entry = LogEntry("panel", NOW, command)
    assert decode_entry(encode_entry(entry)) == entry


def test_a_quiet_stretch_is_a_chapter_and_the_chapter_it_cut_into_resumes() -> None:
    start = NOW
    recording = Recording(
        "r1", "panel", "guid-panel", "webm", "k.webm", start, "published", duration_seconds=600
    )
    markers = [Marker("m1", "panel", "Opening", start + dt.timedelta(seconds=10), "mo")]
    answered = [(start + dt.timedelta(seconds=200), "Asked off the record")]  # inside: dropped
    quiet = [
        QuietStretch(
            start + dt.timedelta(seconds=120), start + dt.timedelta(seconds=360), "Off (4 min)"
        )
    ]
    assert chapters(recording, markers, answered, quiet) == [
        (10.0, 120.0, "Opening"),
        (120.0, 360.0, "Off (4 min)"),
        (360.0, 600.0, "Opening"),
    ]
    assert chapters(recording, [], [], quiet, "Back") == [
        (120.0, 360.0, "Off (4 min)"),
        (360.0, 600.0, "Back"),
    ]

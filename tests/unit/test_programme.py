from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessions.demo import LIVE_PANEL_CODE, demo_programme
from sessions.programme import ProgrammeError, now_and_next, validate
from sessions.programme_changes import compare
from sessions.roles import DisplayNameError, Identity, Role, clean_display_name
from tests.helpers import VIENNA, at, programme, session


def test_session_state_follows_the_clock() -> None:
    talk = session("a", at(11, 10), minutes=30)
    assert talk.state(at(11, 9, 59)) == "upcoming"
    assert talk.state(at(11, 10)) == "live"
    assert talk.state(at(11, 10, 29)) == "live"
    assert talk.state(at(11, 10, 30)) == "ended"


def test_now_and_next_lists_live_sessions_and_first_upcoming_per_room() -> None:
    plan = programme(
        session("live", at(11, 10)),
        session("next-main", at(11, 11)),
        session("later-main", at(11, 12)),
        session("next-side", at(11, 11, 30), room="Side"),
    )
    result = now_and_next(plan, at(11, 10, 15))
    assert [s.code for s in result.live] == ["live"]
    assert [s.code for s in result.next] == ["next-main", "next-side"]


def test_validate_refuses_duplicate_guids_and_codes_and_inverted_times() -> None:
    with pytest.raises(ProgrammeError, match="guid"):
        validate(programme(session("a", at(11, 10)), session("b", at(11, 11), guid="guid-a")))
    with pytest.raises(ProgrammeError, match="code"):
        validate(programme(session("a", at(11, 10)), session("a", at(11, 11), guid="other")))
    with pytest.raises(ProgrammeError, match="ends before"):
        validate(programme(session("a", at(11, 10), minutes=-5)))


def test_validate_sorts_sessions_by_start() -> None:
    plan = validate(programme(session("late", at(11, 12)), session("early", at(11, 9))))
    assert [s.code for s in plan.sessions] == ["early", "late"]


def test_programme_days_rooms_tracks_and_speakers() -> None:
    plan = programme(
        session("a", at(11, 10), track="Policy"),
        session("b", at(12, 10), room="Side", track="Data"),
    )
    assert plan.tracks == ("Data", "Policy")
    assert [s.key for s in plan.speakers] == ["s1"]
    assert [s.code for s in plan.sessions_on(plan.days[1])] == ["b"]
    assert plan.day_of(plan.sessions[0]) == plan.days[0]


def test_compare_reports_added_changed_removed_and_unchanged() -> None:
    old = programme(session("a", at(11, 10)), session("b", at(11, 11)), session("c", at(11, 12)))
    new = programme(
        session("a", at(11, 10)),
        session("b", at(11, 11), title="Renamed"),
        session("d", at(11, 13)),
    )
    changes = compare(old, new)
    assert [a.session.code for a in changes.added] == ["d"]
    assert [(c.after.code, c.fields) for c in changes.changed] == [("b", ("title",))]
    assert [r.session.code for r in changes.removed] == ["c"]
    assert changes.unchanged == 1
    assert changes.summary() == "1 added, 1 changed, 1 removed, 1 unchanged"


def test_compare_with_itself_is_empty_and_first_import_adds_everything() -> None:
    plan = programme(session("a", at(11, 10)))
    assert compare(plan, plan).is_empty
    first = compare(None, plan)
    assert [a.session.code for a in first.added] == ["a"]
    assert first.conference_changed


def test_compare_treats_the_same_instant_in_another_zone_as_unchanged() -> None:
    plan = programme(session("a", at(11, 10)))
    moved = programme(
        replace(
            plan.sessions[0],
            start=plan.sessions[0].start.astimezone(dt.UTC),
            end=plan.sessions[0].end.astimezone(dt.UTC),
        )
    )
    assert compare(plan, moved).is_empty


@given(st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2090, 1, 1)))
def test_demo_always_has_exactly_one_live_panel(naive: dt.datetime) -> None:
    now = naive.replace(tzinfo=dt.UTC)
    plan = demo_programme(now)
    live = [s for s in plan.sessions if s.state(now) == "live"]
    assert [s.code for s in live] == [LIVE_PANEL_CODE]
    assert live[0].type == "Panel"
    assert len(plan.days) == 2
    assert all(plan.day_of(s) is not None for s in plan.sessions)
    assert {s.type for s in plan.sessions} >= {"Opening", "Panel", "Talk", "Side event", "Closing"}
    assert sum(s.type == "Panel" for s in plan.sessions) == 3


def test_demo_keeps_guids_stable_between_starts() -> None:
    first = demo_programme(dt.datetime(2026, 5, 11, 8, tzinfo=dt.UTC))
    second = demo_programme(dt.datetime(2026, 5, 11, 9, tzinfo=dt.UTC))
    changes = compare(first, second)
    assert not changes.added and not changes.removed
    assert all(set(c.fields) <= {"start", "end"} for c in changes.changed)


def test_display_names_are_cleaned_and_bounded() -> None:
    assert clean_display_name("  Ada   Lovelace ") == "Ada Lovelace"
    for bad in ["", "   ", "x" * 61, "bell\x07"]:
        with pytest.raises(DisplayNameError):
            clean_display_name(bad)


def test_roles_are_per_session() -> None:
    moderator = Identity("p1", "Mo").with_role("panel-a", Role.MODERATOR)
    assert moderator.can_moderate("panel-a")
    assert not moderator.can_moderate("panel-b")
    assert not moderator.has_role("panel-a", Role.SPEAKER)
    assert Identity().is_anonymous


def test_duration_is_elapsed_time_across_a_clock_change() -> None:
    start = dt.datetime(2026, 10, 25, 1, 30, tzinfo=VIENNA)
    end = start.astimezone(dt.UTC) + dt.timedelta(minutes=90)
    talk = session("dst", start, end=end.astimezone(VIENNA))
    assert talk.duration == dt.timedelta(minutes=90)


def test_the_demo_keeps_one_live_panel_through_dst_changes() -> None:
    """Every three minutes across Vienna's changes to and from summer time (an hour that
    repeats, an hour that never happens): times are added in UTC, sessions compared in UTC."""
    for change in (
        dt.datetime(2026, 3, 29, 1, tzinfo=dt.UTC),
        dt.datetime(2026, 10, 25, 1, tzinfo=dt.UTC),
    ):
        for minutes in range(-180, 180, 3):
            now = change + dt.timedelta(minutes=minutes)
            plan = demo_programme(now)
            assert [s.code for s in plan.sessions if s.state(now) == "live"] == [LIVE_PANEL_CODE]
            starts = [s.start.astimezone(dt.UTC) for s in plan.sessions]
            assert starts == sorted(starts)
            assert all(s.duration > dt.timedelta(0) for s in plan.sessions)
            assert all(plan.day_of(s) is not None for s in plan.sessions)
            assert now_and_next(plan, now).live == tuple(
                s for s in plan.sessions if s.code == LIVE_PANEL_CODE
            )

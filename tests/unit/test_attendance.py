"""Attendance figures from viewing records, registrations and activity (pure)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from sessions.attendance import (
    Activity,
    Participation,
    Viewing,
    conference_figures,
    participant_key,
    peak_concurrent,
    public_count,
    public_countries,
    remote_keys,
    session_figures,
)
from sessions.registrations import Registration
from web.attendance_views import bar_chart, report_csv, sentence, session_row
from web.i18n import localizer

T0 = dt.datetime(2026, 5, 11, 8, 0, tzinfo=dt.UTC)


def m(n: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=n)


def viewing(
    viewer: str, start: float, end: float, channel: str = "webrtc", session: str = "a"
) -> Viewing:
    return Viewing(f"{viewer}-{start}-{channel}", session, viewer, channel, m(start), m(end))  # type: ignore[arg-type]


def test_peak_is_the_most_overlapping_intervals() -> None:
    assert peak_concurrent([]) == 0
    assert peak_concurrent([(m(0), m(10)), (m(5), m(15)), (m(9), m(20))]) == 3
    # one ends exactly when the next starts: never together
    assert peak_concurrent([(m(0), m(10)), (m(10), m(20))]) == 1
    assert peak_concurrent([(m(0), m(0)), (m(5), m(4))]) == 0  # empty spans count for nothing


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), max_size=30))
def test_peak_matches_counting_minute_by_minute(spans: list[tuple[int, int]]) -> None:
    intervals = [(m(a), m(b)) for a, b in spans]
    brute = max(
        (sum(a <= t < b for a, b in spans) for t in range(0, 51)),
        default=0,
    )
    assert peak_concurrent(intervals) == brute


def test_session_figures_count_people_over_channels_and_rooms() -> None:
    ada, bob, browser = participant_key("ada"), participant_key("bob"), "v:tab"
    viewings = [
        viewing(ada, 0, 30),
        viewing(ada, 40, 50, "hls"),  # the same person again, on the other channel
        viewing(bob, 10, 20),
        viewing(browser, 15, 45, "hls"),
        viewing(bob, 0, 90, session="b"),  # another session: not counted here
    ]
    activity = Activity(
        asked={"q1", "q2", "q3"},
        approved={"q1", "q2"},
        answered={"q1"},
        votes=4,
    )
    seated = [
        Participation("a", "r1", ada, m(60)),
        Participation("a", "r1", participant_key("cyd"), m(60)),
        Participation("b", "r1", participant_key("dee"), m(60)),
    ]
    figures = session_figures("a", "A", viewings, activity, replays=7, participations=seated)
    assert figures.unique_remote == 4  # ada, bob, the browser, cyd (rooms only)
    assert figures.peak_concurrent == 3  # 15-20: ada, bob, the browser
    assert (figures.peak_webrtc, figures.peak_hls) == (2, 2)  # 40-45 on HLS
    assert figures.watch_seconds == (30 + 10 + 10 + 30) * 60
    assert (figures.questions_asked, figures.questions_approved, figures.questions_answered) == (
        3,
        2,
        1,
    )
    assert (figures.votes, figures.breakout_participants, figures.replays) == (4, 2, 7)
    assert remote_keys(viewings, seated) == {
        ada,
        bob,
        browser,
        participant_key("cyd"),
        participant_key("dee"),
    }


def registration(n: int, attends: str, country: str, checked_in: bool = False) -> Registration:
    return Registration(
        key=f"k{n}",
        participant_id=f"p{n}",
        name=f"Person {n}",
        email=f"p{n}@example.org",
        attends=attends,  # type: ignore[arg-type]
        country=country,
        checked_in_at=T0 if checked_in else None,
    )


def test_conference_figures_and_the_sentence_in_two_languages() -> None:
    people = [
        registration(1, "in_person", "AT", checked_in=True),
        registration(2, "in_person", "AT", checked_in=True),
        registration(3, "in_person", "FR"),  # registered, never came
        registration(4, "remote", "DE"),
        registration(5, "remote", "AT"),
        registration(6, "remote", ""),
        registration(7, "in_person", "IT", checked_in=True),
    ]
    followed = {participant_key("p4"), participant_key("p6"), participant_key("p1"), "v:anon"}
    figures = conference_figures(people, followed)
    assert (figures.registered, figures.registered_in_person, figures.registered_remote) == (
        7,
        4,
        3,
    )
    assert (figures.checked_in, figures.in_person, figures.in_person_basis) == (
        3,
        3,
        "checked_in",
    )
    assert figures.followed_remotely == 4
    assert figures.remote_registrants_followed == 3  # p1 came and watched too
    assert figures.countries == {"AT": 2, "DE": 1, "IT": 1}  # p1 once; p6 has no country
    assert sentence(figures, localizer("en")) == (
        "7 registered, 3 in person, 4 followed remotely, from 3 participating states"
    )
    assert sentence(figures, localizer("fr")) == (
        "7 inscrits, 3 sur place, 4 ont suivi à distance, de 3 États participants"
    )
    one = conference_figures([registration(1, "in_person", "AT")], set())
    assert one.in_person_basis == "registered" and one.in_person == 1
    assert sentence(one, localizer("en")) == (
        "1 registered, 1 in person, 0 followed remotely, from 1 participating state"
    )
    assert sentence(one, localizer("de")).endswith("aus 1 Teilnehmerstaat")


def test_public_figures_single_nobody_out() -> None:
    assert public_countries({"AT": 5, "DE": 3, "FR": 2, "IT": 1}) == {"AT": 5, "DE": 3, "other": 3}
    assert public_countries({"AT": 5, "FR": 2}) == {"AT": 5}
    assert public_count(2) is None and public_count(3) == 3


def test_chart_and_csv() -> None:
    chart = bar_chart("t", ["a", "b"], [("one", (4, 2)), ("two", (1, 0))])
    assert [[bar.width for bar in bars] for _, bars in chart.groups] == [[380, 190], [95, 0]]
    figures = session_figures("a", "=cmd()", [viewing("v:x", 0, 90)])
    csv_text = report_csv([session_row(figures)])
    assert csv_text.splitlines()[1].startswith("a,'=cmd(),1,1,1,0,1.5,")

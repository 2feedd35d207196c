"""The organiser's report and the public figures as views: the ready sentence, the tables, the
bar charts (drawn on the server as SVG, each with its table as the text alternative) and the
exports. Computed without I/O from :mod:`sessions.attendance` figures."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import msgspec
from babel import Locale, UnknownLocaleError

from sessions.attendance import (
    OTHER,
    ConferenceFigures,
    SessionFigures,
    public_count,
    public_countries,
)
from web.i18n import Localizer


class SessionRow(msgspec.Struct, frozen=True):
    code: str
    title: str
    unique_remote: int
    peak_concurrent: int
    peak_webrtc: int
    peak_hls: int
    watch_hours: float
    questions_asked: int
    questions_approved: int
    questions_answered: int
    votes: int
    breakout_participants: int
    replays: int


class ConferenceView(msgspec.Struct, frozen=True):
    registered: int
    registered_in_person: int
    registered_remote: int
    checked_in: int
    in_person: int
    in_person_basis: str
    followed_remotely: int
    remote_registrants_followed: int
    states: int
    countries: dict[str, int]


class ReportView(msgspec.Struct, frozen=True):
    """What ``/organise/report.json`` answers: aggregates only, no names."""

    sentence: str
    conference: ConferenceView
    sessions: list[SessionRow]
    generated_at: str


class PublicSession(msgspec.Struct, frozen=True):
    """A session as the public sees it: head counts under three are ``None``."""

    code: str
    title: str
    unique_remote: int | None
    peak_concurrent: int | None
    watch_hours: float | None
    questions_asked: int
    questions_answered: int
    replays: int | None


class PublicFigures(msgspec.Struct, frozen=True):
    sentence: str
    registered: int
    in_person: int
    followed_remotely: int
    states: int
    countries: dict[str, int]
    """Countries with three people or more; the rest together as ``other`` (if three or more)."""
    sessions: list[PublicSession]


def hours(seconds: int) -> float:
    return round(seconds / 3600, 1)


def session_row(figures: SessionFigures) -> SessionRow:
    return SessionRow(
        code=figures.code,
        title=figures.title,
        unique_remote=figures.unique_remote,
        peak_concurrent=figures.peak_concurrent,
        peak_webrtc=figures.peak_webrtc,
        peak_hls=figures.peak_hls,
        watch_hours=hours(figures.watch_seconds),
        questions_asked=figures.questions_asked,
        questions_approved=figures.questions_approved,
        questions_answered=figures.questions_answered,
        votes=figures.votes,
        breakout_participants=figures.breakout_participants,
        replays=figures.replays,
    )


def sentence(figures: ConferenceFigures, language: Localizer) -> str:
    """The seeds' sentence: "812 registered, 481 in person, 336 followed remotely, from 54
    participating states"."""
    states = figures.states
    number = language.number
    return language.gettext(
        "%(registered)s, %(in_person)s, %(remote)s, %(states)s",
        registered=language.ngettext(
            "%(number)s registered", "%(number)s registered", figures.registered,
            number=number(figures.registered),
        ),
        in_person=language.ngettext(
            "%(number)s in person", "%(number)s in person", figures.in_person,
            number=number(figures.in_person),
        ),
        remote=language.ngettext(
            "%(number)s followed remotely", "%(number)s followed remotely",
            figures.followed_remotely, number=number(figures.followed_remotely),
        ),
        states=language.ngettext(
            "from %(number)s participating state", "from %(number)s participating states",
            states, number=number(states),
        ),
    )  # fmt: skip


def conference_view(figures: ConferenceFigures) -> ConferenceView:
    return ConferenceView(
        registered=figures.registered,
        registered_in_person=figures.registered_in_person,
        registered_remote=figures.registered_remote,
        checked_in=figures.checked_in,
        in_person=figures.in_person,
        in_person_basis=figures.in_person_basis,
        followed_remotely=figures.followed_remotely,
        remote_registrants_followed=figures.remote_registrants_followed,
        states=figures.states,
        countries=dict(figures.countries),
    )


def public_figures(
    figures: ConferenceFigures, sessions: Sequence[SessionFigures], language: Localizer
) -> PublicFigures:
    countries = public_countries(figures.countries)
    return PublicFigures(
        # every state present counts in the sentence: a number of states singles nobody out
        sentence=sentence(figures, language),
        registered=figures.registered,
        in_person=figures.in_person,
        followed_remotely=figures.followed_remotely,
        states=figures.states,
        countries=countries,
        sessions=[
            PublicSession(
                code=s.code,
                title=s.title,
                unique_remote=public_count(s.unique_remote),
                peak_concurrent=public_count(s.peak_concurrent),
                watch_hours=hours(s.watch_seconds) if public_count(s.unique_remote) else None,
                questions_asked=s.questions_asked,
                questions_answered=s.questions_answered,
                replays=public_count(s.replays),
            )
            for s in sessions
        ],
    )


def country_name(code: str, language: Localizer) -> str:
    if code == OTHER:
        return language.gettext("Other countries")
    try:
        name = Locale.parse(language.code).territories.get(code)
    except (UnknownLocaleError, ValueError):
        name = None
    return str(name) if name else code


# -- charts -----------------------------------------------------------------------------------


class Bar(msgspec.Struct, frozen=True):
    label: str
    value: int
    y: int
    width: float
    """Of the bar, in the chart's units (the longest bar fills :data:`BAR_SPACE`)."""


class Series(msgspec.Struct, frozen=True):
    name: str
    bars: list[Bar]


class BarChart(msgspec.Struct, frozen=True):
    """Horizontal bars, one group per label, one bar per series; the template draws it."""

    title: str
    series_names: list[str]
    groups: list[tuple[str, list[Bar]]]
    height: int
    width: int = 640


LABEL_SPACE = 200
BAR_SPACE = 380
BAR_HEIGHT = 14
GROUP_GAP = 10


def bar_chart(
    title: str, series: Sequence[str], rows: Sequence[tuple[str, Sequence[int]]]
) -> BarChart:
    """``rows``: a label and one value per series."""
    largest = max((v for _, values in rows for v in values), default=0) or 1
    groups: list[tuple[str, list[Bar]]] = []
    y = 0
    for label, values in rows:
        bars = []
        for value in values:
            bars.append(Bar(label, value, y, BAR_SPACE * value / largest))
            y += BAR_HEIGHT
        groups.append((label, bars))
        y += GROUP_GAP
    return BarChart(title, list(series), groups, max(y, BAR_HEIGHT))


# -- exports ----------------------------------------------------------------------------------

CSV_COLUMNS = tuple(SessionRow.__struct_fields__)


def report_csv(rows: Sequence[SessionRow]) -> str:
    """One line per session; cells that a spreadsheet would run as a formula are quoted."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([_cell(getattr(row, column)) for column in CSV_COLUMNS])
    return out.getvalue()


def _cell(value: object) -> object:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value

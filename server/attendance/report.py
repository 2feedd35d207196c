"""The organiser's report (their home page), its exports, the public figures and the replay
beacon.

Figures are computed when asked, from what every process wrote to the store (this process's
latest batch is written first) and from the activity every process folds from the log.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass

from aiohttp import web

from server.archive.routes import RECORDING_ID, visible_recording
from server.attendance.viewers import hand_out, viewer_key
from server.http.errors import AppError
from server.http.rendering import render
from server.http.responses import json_of
from server.keys import ACTIVITY, ATTENDANCE, CLOCK, QA, STORE
from server.programme.lookup import current_programme
from server.registrations.access import organiser
from sessions.attendance import (
    ConferenceFigures,
    SessionFigures,
    Viewing,
    conference_figures,
    remote_keys,
    session_figures,
)
from sessions.programme import Programme
from web import i18n
from web.attendance_views import (
    ReportView,
    bar_chart,
    conference_view,
    country_name,
    public_figures,
    report_csv,
    sentence,
    session_row,
)
from web.i18n import marked as _

log = logging.getLogger("plenaria.attendance")

routes = web.RouteTableDef()

CHART_COUNTRIES = 20
"""Countries a chart shows by name; the rest are one bar."""


@dataclass(frozen=True, slots=True)
class Figures:
    conference: ConferenceFigures
    sessions: list[SessionFigures]
    programme: Programme | None


async def figures(request: web.Request) -> Figures:
    app = request.app
    if ATTENDANCE in app:
        try:
            await app[ATTENDANCE].flush()
        except Exception:  # the figures others wrote are still worth showing
            log.exception("writing this process's attendance before a report failed")
    await app[QA].sync()
    programme = await current_programme(request)
    store = app[STORE]
    viewings = await store.list_viewings()
    by_session: defaultdict[str, list[Viewing]] = defaultdict(list)
    for viewing in viewings:
        by_session[viewing.session].append(viewing)
    recordings = app[QA].archive.recordings
    replays: Counter[str] = Counter()
    for recording_id, count in (await store.count_replays()).items():
        if recording := recordings.get(recording_id):
            replays[recording.session_code] += count
    participations = await store.list_participations()
    ledger = app[ACTIVITY]
    titles = {s.code: s.title for s in programme.sessions} if programme else {}
    codes = list(titles)
    seated = {p.session for p in participations}
    codes += sorted((set(by_session) | set(ledger.sessions) | set(replays) | seated) - set(titles))
    sessions = [
        session_figures(
            code,
            titles.get(code, code),
            by_session[code],
            ledger.sessions.get(code),
            replays[code],
            participations,
        )
        for code in codes
    ]
    followed = remote_keys(viewings, participations)
    registrations = await store.list_registrations()
    return Figures(conference_figures(registrations, followed), sessions, programme)


def _charts(result: Figures, countries: dict[str, int]) -> list[object]:
    language = i18n.current()
    active = [s for s in result.sessions if s.unique_remote or s.peak_concurrent]
    charts: list[object] = []
    if active:
        charts.append(
            bar_chart(
                language.gettext("Remote audience by session"),
                [language.gettext("Unique remote participants"),
                 language.gettext("Peak concurrent viewers")],
                [(s.title, (s.unique_remote, s.peak_concurrent)) for s in active],
            )
        )  # fmt: skip
    if countries:
        shown = list(countries.items())
        if len(shown) > CHART_COUNTRIES:
            rest = sum(n for _, n in shown[CHART_COUNTRIES - 1 :])
            shown = [*shown[: CHART_COUNTRIES - 1], ("other", rest)]
        charts.append(
            bar_chart(
                language.gettext("People by country"),
                [language.gettext("People")],
                [(country_name(code, language), (n,)) for code, n in shown],
            )
        )
    return charts


def report_view(result: Figures, now: dt.datetime) -> ReportView:
    return ReportView(
        sentence=sentence(result.conference, i18n.current()),
        conference=conference_view(result.conference),
        sessions=[session_row(s) for s in result.sessions],
        generated_at=now.astimezone(dt.UTC).isoformat(timespec="seconds"),
    )


def no_store(response: web.Response) -> web.Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.get("/organise/report")
async def report_page(request: web.Request) -> web.StreamResponse:
    organiser(request)
    result = await figures(request)
    view = report_view(result, request.app[CLOCK]())
    context = {
        "report": view,
        "charts": _charts(result, dict(result.conference.countries)),
        "country_names": {c: country_name(c, i18n.current()) for c in view.conference.countries},
        "nav": "organise",
    }
    return no_store(render(request, "organiser_report.html", context, programme=result.programme))


@routes.get("/organise/report.{format:csv|json}")
async def report_export(request: web.Request) -> web.StreamResponse:
    organiser(request)
    view = report_view(await figures(request), request.app[CLOCK]())
    filename = f"attendance.{request.match_info['format']}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if request.match_info["format"] == "json":
        response = json_of(view)
    else:
        response = web.Response(text=report_csv(view.sessions), content_type="text/csv")
    response.headers.update(headers)
    return no_store(response)


@routes.get("/figures")
async def public_page(request: web.Request) -> web.StreamResponse:
    result = await figures(request)
    language = i18n.current()
    view = public_figures(result.conference, result.sessions, language)
    context = {
        "figures": view,
        "charts": _charts(
            Figures(result.conference, [], result.programme), view.countries
        ),  # per-session bars would show small counts: the table withholds those
        "country_names": {c: country_name(c, language) for c in view.countries},
        "nav": "figures",
    }
    return render(request, "figures.html", context, programme=result.programme)


@routes.get("/figures.json")
async def public_json(request: web.Request) -> web.StreamResponse:
    result = await figures(request)
    return json_of(public_figures(result.conference, result.sessions, i18n.current()))


@routes.post(f"/api/recordings/{RECORDING_ID}/plays")
async def replay_played(request: web.Request) -> web.StreamResponse:
    """The replay page's beacon on first play: counted once per viewer, recording and day."""
    recording = await visible_recording(request)
    if ATTENDANCE not in request.app:
        raise AppError(503, "plays.unavailable", _("Plays are not counted right now."))
    tracker = request.app[ATTENDANCE]
    key, token = viewer_key(request)
    if not tracker.may_play(key, request.remote or ""):
        raise AppError(
            429, "plays.rate_limited", _("Too many plays at once; try again in a minute."),
            {"Retry-After": "60"},
        )  # fmt: skip
    response = json_of({"counted": tracker.replay(recording.id, key)}, status=202)
    hand_out(request, response, token)
    return response

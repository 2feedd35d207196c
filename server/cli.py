"""The ``plenaria`` command."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from aiohttp import web

from server.app import create_app
from server.backends import BackendURLError, open_store
from server.clock import utc_now
from server.http.auth import LoginLinks, bearer_codec, new_participant_id
from server.keys import MEDIA, STORE
from server.logs import AccessLogger, configure_logging
from server.media.stream_key import StreamKey
from server.media.synthetic import start_synthetic_panel
from server.media.workers import MediaWorkers
from server.programme.source import ScheduleSourceError, read_schedule_source
from server.registrations import commands as registration_commands
from server.running import announce_running, forget_running, running_server
from server.settings import Settings, SettingsError, build_settings
from sessions.captions import CaptionError, language_code
from sessions.demo import LIVE_PANEL_CODE, demo_programme
from sessions.programme import Programme
from sessions.programme_changes import ProgrammeChanges
from sessions.roles import (
    CONFERENCE_ROLES,
    CONFERENCE_SCOPE,
    LANGUAGE_ROLES,
    Identity,
    Role,
    language_scope,
    scope_session,
)
from sessions.schedule_formats import ScheduleFormatError, parse_schedule

log = logging.getLogger("plenaria")


class CommandError(Exception):
    """Ends the command with a one-line message and exit status 2."""


class UnknownSessionError(CommandError):
    pass


DEMO_DATA = Path("var/demo")
"""Where ``plenaria demo`` keeps its data unless told otherwise."""
DEMO_LOG = "plenaria.log"
"""The demo's log in its data directory: its terminal shows only warnings and errors."""


def add_common(parser: argparse.ArgumentParser, *, data_default: str | None = None) -> None:
    parser.add_argument(
        "--data",
        default=data_default,
        help="data directory (default ./var, or $PLENARIA_DATA)",
    )
    parser.add_argument("--store", help="store URL, e.g. sqlite:///var/plenaria.db")
    parser.add_argument(
        "--public-url", help="the address people use, e.g. https://live.example.org"
    )
    parser.add_argument("--log-format", choices=["json", "text"], help="log format (default text)")
    parser.add_argument("--log-level", help="log level (default INFO)")


def add_listen(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8080)")
    parser.add_argument(
        "--ice-servers", help="comma-separated STUN/TURN URLs offered to WHIP/WHEP clients"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="plenaria", description="Hybrid conferences: live panels, Q&A, break-outs, replays."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve a conference")
    add_common(serve)
    add_listen(serve)
    serve.add_argument("--redis", help="share state with other processes through this Redis URL")
    serve.add_argument(
        "--node-url",
        help="where the other processes on the Redis reach this one for media "
        "(default: http://HOST:PORT)",
    )
    serve.add_argument(
        "--node-id", help="this process's name among the media nodes (default: random)"
    )
    serve.add_argument(
        "--media-workers",
        help="start N media processes (ports PORT+1..PORT+N) and place all publications, "
        "viewers, relays and break-out calls on them; restart any that dies (default auto: "
        "one per core; 0: this process carries media itself)",
    )
    serve.add_argument("--media-node", action="store_true", help=argparse.SUPPRESS)
    serve.add_argument(
        "--publish-grace",
        type=int,
        help="minutes before a session's start and after its end within which a stream's "
        "recording is published by itself; others wait for a moderator (default 15)",
    )
    serve.add_argument(
        "--retention-days",
        type=int,
        help="days after which viewing records lose their tie to people (their keys are "
        "replaced; the figures stay); 0 keeps them (default 90)",
    )
    serve.add_argument(
        "--max-viewers",
        type=int,
        help="viewers this process serves before new ones go to other processes (default: "
        "until its CPU share)",
    )

    demo = commands.add_parser("demo", help="serve the built-in demo conference")
    add_common(demo, data_default=str(DEMO_DATA))
    add_listen(demo)

    programme = commands.add_parser("programme", help="manage the programme")
    programme_commands = programme.add_subparsers(dest="programme_command", required=True)
    importer = programme_commands.add_parser(
        "import", help="import a frab schedule.xml or pretalx schedule.json (file or URL)"
    )
    add_common(importer)
    importer.add_argument("source", help="path or http(s) URL of the schedule export")
    importer.add_argument(
        "--time-zone", help="zone for schedules that do not name one (default UTC)"
    )
    importer.add_argument("--timeout", type=float, default=30.0, help="URL timeout in seconds")
    importer.add_argument(
        "--dry-run", action="store_true", help="report what would change, store nothing"
    )

    link = commands.add_parser("link", help="make a one-time sign-in link")
    add_common(link)
    link.add_argument("role", choices=[role.value for role in Role])
    link.add_argument(
        "session",
        nargs="?",
        help="the session's code, as in /sessions/<code> (none for an organiser or the door)",
    )
    link.add_argument(
        "language",
        nargs="?",
        help="for a captioner or interpreter: the language they work in (fr, de, …)",
    )
    link.add_argument("--hours", type=float, default=24.0, help="hours the link stays valid")
    link.add_argument(
        "--bearer",
        action="store_true",
        help="print an API token (Authorization: Bearer) instead of a sign-in link",
    )
    registration_commands.add_parser(commands, add_common)
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    flags = {
        "data": args.data,
        "store": args.store,
        "public_url": args.public_url,
        "log_format": args.log_format,
        "log_level": args.log_level,
        "host": getattr(args, "host", None),
        "port": getattr(args, "port", None),
        "redis": getattr(args, "redis", None),
        "time_zone": getattr(args, "time_zone", None),
        "ice_servers": getattr(args, "ice_servers", None),
        "node_url": getattr(args, "node_url", None),
        "max_viewers": getattr(args, "max_viewers", None),
        "node_id": getattr(args, "node_id", None),
        "media_workers": getattr(args, "media_workers", None),
        "media_node": getattr(args, "media_node", None) or None,
        "publish_grace": getattr(args, "publish_grace", None),
        "retention_days": getattr(args, "retention_days", None),
    }
    return build_settings(flags, media_workers="auto" if args.command == "serve" else "0")


def describe(programme: Programme) -> str:
    return (
        f"{len(programme.days)} days, {len(programme.rooms)} rooms, "
        f"{len(programme.sessions)} sessions, {len(programme.speakers)} speakers"
    )


def report(changes: ProgrammeChanges) -> list[str]:
    lines = [changes.summary()]
    lines += [f"  + {a.session.code}  {a.session.title}" for a in changes.added[:20]]
    if len(changes.added) > 20:
        lines.append(f"  + … and {len(changes.added) - 20} more")
    lines += [
        f"  ~ {c.after.code}  {c.after.title} ({', '.join(c.fields)})" for c in changes.changed
    ]
    lines += [f"  - {r.session.code}  {r.session.title}" for r in changes.removed]
    return lines


async def import_programme(settings: Settings, args: argparse.Namespace) -> list[str]:
    try:
        data = await read_schedule_source(args.source, time_limit=args.timeout)
        programme = parse_schedule(data, default_time_zone=settings.default_time_zone)
    except (ScheduleSourceError, ScheduleFormatError) as error:
        raise CommandError(f"{args.source}: {error}") from None
    store = await open_store(settings.store)
    try:
        if args.dry_run:
            from sessions.programme_changes import compare

            changes = compare(await store.load_programme(), programme)
        else:
            changes = await store.replace_programme(programme, utc_now())
    finally:
        await store.close()
    title = programme.conference.title
    verb = "would change" if args.dry_run else "imported"
    return [f"{title}: {verb} — {describe(programme)}", *report(changes)]


async def make_link(
    settings: Settings,
    role: Role,
    code: str | None,
    hours: float,
    bearer: bool = False,
    language: str | None = None,
) -> list[str]:
    if not 0 < hours <= 24 * 30:
        raise CommandError("--hours must be more than 0 and at most 720 (30 days)")
    if role in CONFERENCE_ROLES:
        if code or language:
            raise CommandError(
                f"an {role.value}'s link is for the whole conference: give no session"
            )
        return await _make_conference_link(settings, role, hours, bearer)
    if not code:
        raise CommandError(f"a {role.value}'s link is for one session: link {role} CODE")
    scope = code
    if role in LANGUAGE_ROLES:
        if not language:
            raise CommandError(f"a {role.value}'s link needs the language: link {role} CODE LANG")
        try:
            scope = language_scope(code, language_code(language))
        except CaptionError as error:
            raise CommandError(error.message) from None
    elif language:
        raise CommandError(f"a {role.value}'s link is for the whole session: give no language")
    store = await open_store(settings.store)
    try:
        programme = await store.load_programme()
        session = programme.session_by_code(code) if programme else None
        if session is None:
            raise UnknownSessionError(
                f"there is no session with code {code!r} in {settings.store.split('?')[0]}; "
                "see /api/programme, or give --data"
            )
        now = utc_now()
        expires_at = now + dt.timedelta(hours=hours)
        identity = Identity(new_participant_id(), f"{role.value.capitalize()} (API)")
        api_token = bearer_codec(settings.secret_key).dumps(
            identity.with_role(scope, role), expires_at
        )
        if bearer:
            return [
                f"{role.value.capitalize()} API token for “{session.title}” (valid until "
                f"{expires_at:%Y-%m-%d %H:%M} UTC); send it as a header:",
                f"  Authorization: Bearer {api_token}",
            ]
        token, grant = await LoginLinks(settings.secret_key).issue(
            store, role, scope, now, dt.timedelta(hours=hours)
        )
    finally:
        await store.close()
    base = link_base(settings)
    lines = [
        f"{role.value.capitalize()} link for “{session.title}”"
        f"{f' in {scope_session(scope)[1]}' if scope != code else ''} (one use, valid until "
        f"{grant.expires_at:%Y-%m-%d %H:%M} UTC):",
        f"  {base}/login/{token}",
    ]
    if role == Role.SPEAKER:
        lines += [
            "To publish from OBS, GStreamer or FFmpeg over WHIP (valid until the same time):",
            f"  URL:          {base}/whip/{code}",
            f"  Bearer token: {api_token}",
        ]
    return lines + _no_server_note(settings, base)


async def _make_conference_link(
    settings: Settings, role: Role, hours: float, bearer: bool
) -> list[str]:
    now = utc_now()
    expires_at = now + dt.timedelta(hours=hours)
    who = role.value.capitalize()
    if bearer:
        identity = Identity(new_participant_id(), f"{who} (API)")
        api_token = bearer_codec(settings.secret_key).dumps(
            identity.with_role(CONFERENCE_SCOPE, role), expires_at
        )
        return [
            f"{who} API token for the conference (valid until "
            f"{expires_at:%Y-%m-%d %H:%M} UTC); send it as a header:",
            f"  Authorization: Bearer {api_token}",
        ]
    store = await open_store(settings.store)
    try:
        token, grant = await LoginLinks(settings.secret_key).issue(
            store, role, CONFERENCE_SCOPE, now, dt.timedelta(hours=hours)
        )
    finally:
        await store.close()
    base = link_base(settings)
    return [
        f"{who} link for the conference (one use, valid until "
        f"{grant.expires_at:%Y-%m-%d %H:%M} UTC):",
        f"  {base}/login/{token}",
        *_no_server_note(settings, base),
    ]


def _no_server_note(settings: Settings, base: str) -> list[str]:
    if not settings.public_url and running_server(settings.data_dir) is None:
        return [
            f"(No server is running on {settings.data_dir}: the links assume {base}; "
            "give --public-url for another address.)"
        ]
    return []


async def registrations_command(args: argparse.Namespace, settings: Settings) -> list[str]:
    if args.registrations_command == "import":
        return await registration_commands.import_command(settings, args)
    return await registration_commands.links_command(settings, args, link_base(settings))


def link_base(settings: Settings) -> str:
    """The address links are for: the public URL when given, else the address the server
    running on this data answers at, else the default one."""
    if settings.public_url:
        return settings.base_url
    running = running_server(settings.data_dir)
    return running.url if running else settings.base_url


async def link_command(args: argparse.Namespace, settings: Settings) -> list[str]:
    """``plenaria link``, on the data given, else on ./var, else on the demo's."""
    role, code = Role(args.role), args.session
    chosen = args.data or args.store or os.environ.get("PLENARIA_DATA")
    demo_only = (
        not chosen and not os.environ.get("PLENARIA_STORE") and (DEMO_DATA / "plenaria.db").exists()
    )
    try:
        no_conference_here = (
            settings.store.startswith("sqlite:")
            and not (settings.data_dir / "plenaria.db").exists()
        )
        if role in CONFERENCE_ROLES and demo_only and no_conference_here:
            raise UnknownSessionError("no conference here")
        return await make_link(settings, role, code, args.hours, args.bearer, args.language)
    except UnknownSessionError:
        if not demo_only:
            raise
    demo = settings_from(argparse.Namespace(**{**vars(args), "data": str(DEMO_DATA)}))
    lines = await make_link(demo, role, code, args.hours, args.bearer, args.language)
    return [f"(The demo's session, from {DEMO_DATA}.)", *lines]


DEMO_TASKS: web.AppKey[set[asyncio.Task[None]]] = web.AppKey("demo_tasks")


def end_demo_panel(app: web.Application) -> None:
    """The demo's live panel ends on time, so its recording lands in the archive."""
    publication = app[MEDIA].live(StreamKey.panel(LIVE_PANEL_CODE))
    if publication is not None:
        task = asyncio.get_running_loop().create_task(app[MEDIA].unpublish(publication))
        app[DEMO_TASKS].add(task)
        task.add_done_callback(app[DEMO_TASKS].discard)


def demo_app(settings: Settings) -> tuple[web.Application, list[str]]:
    """The app serving the demo, and the banner it fills in once the programme is stored."""
    app = create_app(settings)
    app[DEMO_TASKS] = set()
    banner: list[str] = []

    async def demo_context(app: web.Application) -> AsyncIterator[None]:
        now = utc_now()
        programme = demo_programme(now)
        await app[STORE].replace_programme(programme, now)
        start_synthetic_panel(app[MEDIA], LIVE_PANEL_CODE, now)
        live_panel = programme.session_by_code(LIVE_PANEL_CODE)
        assert live_panel is not None
        ending = asyncio.get_running_loop().call_later(
            (live_panel.end - now).total_seconds(), end_demo_panel, app
        )
        token, _ = await LoginLinks(settings.secret_key).issue(
            app[STORE], Role.MODERATOR, LIVE_PANEL_CODE, now, dt.timedelta(hours=24)
        )
        base = settings.base_url
        upcoming = min(
            (s for s in programme.sessions if s.start > now), key=lambda s: s.start, default=None
        )
        speaker_link = []
        if upcoming is not None:
            speaker_token, _ = await LoginLinks(settings.secret_key).issue(
                app[STORE], Role.SPEAKER, upcoming.code, now, dt.timedelta(hours=24)
            )
            speaker_link = [
                f"  Speaker link:     {base}/login/{speaker_token} (the studio, for "
                f"“{upcoming.title}”)"
            ]
        data = settings.data_dir
        banner[:] = [
            f"Plenaria demo: {programme.conference.title}",
            f"  Programme:        {base}/",
            f"  Live now:         {base}/sessions/{LIVE_PANEL_CODE}",
            f"  Moderator link:   {base}/login/{token}",
            *speaker_link,
            f"  WHEP playback:    {base}/whep/{LIVE_PANEL_CODE}",
            f"  Programme (JSON): {base}/api/programme",
            f"  Calendar:         {base}/programme.ics",
            f"  Replay archive:   {base}/archive (the live panel's recording, once it ends)",
            f"  Data directory:   {data} (more links: plenaria link speaker CODE --data {data})",
            f"  Log:              {data / DEMO_LOG} (requests and details; warnings show here)",
            "Press Ctrl+C to stop.",
        ]
        yield
        ending.cancel()

    app.cleanup_ctx.append(demo_context)
    return app, banner


async def serve(app: web.Application, settings: Settings, banner: Sequence[str] = ()) -> None:
    """Listen until SIGINT or SIGTERM, then finish open requests and close every resource."""
    runner = web.AppRunner(
        app,
        handle_signals=False,
        shutdown_timeout=10,
        access_log_class=AccessLogger,
        access_log=logging.getLogger("plenaria.access"),
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.host, settings.port).start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        log.info("listening", extra={"url": settings.base_url, "host": settings.host})
        if not settings.media_node:
            announce_running(settings.data_dir, settings.base_url)
        if banner:
            print("\n".join(banner), flush=True)
        await stop.wait()
        log.info("stopping")
    finally:
        forget_running(settings.data_dir)
        await runner.cleanup()


async def serve_with_media_workers(settings: Settings, args: argparse.Namespace) -> None:
    """This process serves the conference; its media workers carry the media."""
    workers = MediaWorkers(settings, worker_arguments(args))
    await workers.start()
    try:
        await serve(create_app(settings), settings)
    finally:
        await workers.stop()


def worker_arguments(args: argparse.Namespace) -> list[str]:
    """What a media worker is started with besides its port and node id: this process's
    store and logging."""
    passed = []
    for flag, value in (
        ("--data", args.data),
        ("--store", args.store),
        ("--redis", args.redis),
        ("--public-url", args.public_url),
        ("--log-format", args.log_format),
        ("--log-level", args.log_level),
        ("--ice-servers", args.ice_servers),
        ("--max-viewers", args.max_viewers),
    ):
        if value is not None:
            passed += [flag, str(value)]
    return passed


def run(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = settings_from(args)
        if args.command == "demo":
            configure_logging(
                settings, console_level="WARNING", log_file=settings.data_dir / DEMO_LOG
            )
        else:
            configure_logging(settings)
        if args.command == "serve" and settings.media_workers:
            asyncio.run(serve_with_media_workers(settings, args))
        elif args.command == "serve":
            asyncio.run(serve(create_app(settings), settings))
        elif args.command == "demo":
            app, banner = demo_app(settings)
            asyncio.run(serve(app, settings, banner))
        elif args.command == "programme":
            print("\n".join(asyncio.run(import_programme(settings, args))))
        elif args.command == "link":
            print("\n".join(asyncio.run(link_command(args, settings))))
        elif args.command == "registrations":
            print("\n".join(asyncio.run(registrations_command(args, settings))))
    except (CommandError, SettingsError, BackendURLError) as error:
        print(f"plenaria: error: {error}", file=sys.stderr)
        return 2
    except registration_commands.RegistrationCommandError as error:
        print("\n".join(f"plenaria: error: {line}" for line in error.lines[:1]), file=sys.stderr)
        print("\n".join(error.lines[1:]), file=sys.stderr)
        return 2
    except OSError as error:
        print(f"plenaria: error: {error}", file=sys.stderr)
        return 2
    return 0


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()

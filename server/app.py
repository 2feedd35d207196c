"""The application factory: every resource starts and stops in ``cleanup_ctx``."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from importlib import resources

from aiohttp import web

from recordings.storage import LocalStorage
from server.archive import routes as archive_routes
from server.archive.recorder import RecordingController
from server.attendance import report as attendance_report
from server.attendance.activity import ActivityLedger
from server.attendance.context import attendance_context
from server.backends import open_store, sqlite_path
from server.breakouts import pages as breakout_pages
from server.breakouts import routes as breakout_routes
from server.breakouts.events import BreakoutPublisher
from server.breakouts.presence import BreakoutPresence
from server.captions import pages as caption_pages
from server.captions import routes as caption_routes
from server.clock import utc_now
from server.conference_log import QARateLimits, QAService
from server.http import ops, sign_in
from server.http.auth import IdentityCodec, LoginLinks, bearer_codec
from server.http.errors import OutageLog
from server.http.language import language_middleware
from server.http.middleware import (
    add_security_headers,
    csrf_middleware,
    error_middleware,
    identity_middleware,
    metrics_middleware,
)
from server.keys import (
    ACTIVITY,
    BEARER_CODEC,
    BOOTHS,
    CLOCK,
    CLUSTER,
    HLS,
    HUB,
    IDENTITY_CODEC,
    LOGIN_LINKS,
    MEDIA,
    METRICS,
    PRESENCE,
    QA,
    QA_RATE_LIMITS,
    RECORDER,
    RECORDINGS,
    ROOM_CALLS,
    SETTINGS,
    STORE,
    STORE_OUTAGES,
)
from server.live import booths as booth_routes
from server.live import consent as consent_routes
from server.live import control as stream_control
from server.live import routes as live_routes
from server.live import studio
from server.live.consent import StreamGate
from server.live.control import StreamCuts
from server.media import http as media_http
from server.media.booths import Booths
from server.media.cluster import MediaCluster
from server.media.engine import MediaEngine
from server.media.hls import routes as hls_routes
from server.media.hls.service import HlsPackaging
from server.media.metrics import ClusterCollector, MediaCollector
from server.media.registry import NodeRegistry, RedisNodeRegistry, SqliteNodeRegistry
from server.media.rooms import RoomCalls
from server.metrics import Metrics
from server.programme import api as programme_api
from server.programme import pages as programme_pages
from server.qa import pages as qa_pages
from server.qa import routes as qa_routes
from server.realtime import socket as realtime_socket
from server.realtime.hub import Hub
from server.realtime.topics import StreamStatePublisher, publish_qa_events
from server.registrations import pages as registration_pages
from server.registrations import routes as registration_routes
from server.settings import Settings
from sessions.registration_import import MAX_BYTES as MAX_EXPORT_BYTES
from web.templating import setup_templates

log = logging.getLogger("plenaria")

MAX_REQUEST_BYTES = MAX_EXPORT_BYTES + 64 * 1024
"""The largest body aiohttp reads for a handler (forms): a registrations export in its
multipart envelope. JSON and SDP bodies have their own, far smaller limits."""


async def store_context(app: web.Application) -> AsyncIterator[None]:
    store = await open_store(app[SETTINGS].store)
    app[STORE] = store
    programme = await store.load_programme()
    app[METRICS].programme_sessions.set(len(programme.sessions) if programme else 0)
    log.info("store open", extra={"store": app[SETTINGS].store.split("?")[0]})
    yield
    await store.close()
    log.info("store closed")


async def qa_context(app: web.Application) -> AsyncIterator[None]:
    service = QAService(app[STORE])
    hub = app[HUB]
    service.subscribe(lambda seq, code, events: publish_qa_events(hub, seq, code, events))
    app[ACTIVITY] = ActivityLedger(service)  # before the start, to fold the whole log
    await service.start()
    app[QA] = service
    yield
    await service.stop()
    hub.close()


async def media_context(app: web.Application) -> AsyncIterator[None]:
    engine = MediaEngine()
    app[BOOTHS] = Booths(engine)
    stream_states = StreamStatePublisher(app[HUB], engine, app[QA].delivery, app[BOOTHS])
    engine.listeners.append(stream_states)
    stream_states.start()
    app[QA].subscribe(stream_states.on_events)
    app[HLS] = HlsPackaging(engine)
    collector = MediaCollector(engine, app[HLS])
    app[METRICS].registry.register(collector)
    app[MEDIA] = engine
    app[ROOM_CALLS] = RoomCalls(engine)
    cuts = StreamCuts(engine, app[QA])
    gate = StreamGate(engine, app[HLS], app[QA], app[STORE], cuts)
    await gate.start()
    settings = app[SETTINGS]
    cluster = None
    if settings.shares_media:
        registry: NodeRegistry = (
            SqliteNodeRegistry(sqlite_path(settings.store))
            if settings.store.startswith("sqlite:")
            else RedisNodeRegistry(settings.store)
        )
        cluster = MediaCluster(
            engine,
            app[ROOM_CALLS],
            registry,
            settings.media_node_url,
            node_id=settings.node_id or None,
            max_viewers=settings.max_viewers,
            places_only=settings.media_workers > 0,
            secret=settings.secret_key,
            booths=app[BOOTHS],
        )
        await cluster.start()
        app[CLUSTER] = cluster
        cluster_collector = ClusterCollector(cluster)
        app[METRICS].registry.register(cluster_collector)
    yield
    if cluster is not None:
        app[METRICS].registry.unregister(cluster_collector)
        await cluster.close()
        await cluster.registry.close()
    await gate.close()
    await cuts.close()
    await stream_states.close()
    await app[ROOM_CALLS].close()
    await app[HLS].close()
    await engine.close()
    app[METRICS].registry.unregister(collector)


async def recordings_context(app: web.Application) -> AsyncIterator[None]:
    storage = LocalStorage(app[SETTINGS].data_dir / "recordings")
    app[RECORDINGS] = storage
    controller = RecordingController(
        app[MEDIA],
        app[QA],
        storage,
        app[STORE],
        app[CLOCK],
        dt.timedelta(minutes=app[SETTINGS].publish_grace_minutes),
    )
    app[RECORDER] = controller
    yield
    await controller.close()


async def breakouts_context(app: web.Application) -> AsyncIterator[None]:
    publisher = BreakoutPublisher(app[HUB], app[QA], app[ROOM_CALLS], app[CLOCK])
    publisher.start()
    presence = app[PRESENCE] = BreakoutPresence(app[QA], app[CLOCK])
    presence.start()
    yield
    await presence.close()
    await publisher.close()


def create_app(
    settings: Settings, *, clock: Callable[[], dt.datetime] = utc_now
) -> web.Application:
    app = web.Application(
        middlewares=[
            metrics_middleware,
            language_middleware,
            error_middleware,
            identity_middleware,
            csrf_middleware,
        ],
        client_max_size=MAX_REQUEST_BYTES,
    )
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[STORE_OUTAGES] = OutageLog()
    app[METRICS] = Metrics()
    app[IDENTITY_CODEC] = IdentityCodec(settings.secret_key)
    app[BEARER_CODEC] = bearer_codec(settings.secret_key)
    app[LOGIN_LINKS] = LoginLinks(settings.secret_key)
    setup_templates(app)
    app.cleanup_ctx.append(store_context)
    app.cleanup_ctx.append(qa_context)
    app.cleanup_ctx.append(media_context)
    app.cleanup_ctx.append(breakouts_context)
    app.cleanup_ctx.append(recordings_context)
    app.cleanup_ctx.append(attendance_context)
    app[QA_RATE_LIMITS] = QARateLimits()
    app[HUB] = Hub()
    app[METRICS].realtime_connections.set_function(lambda: len(app[HUB].connections))
    app.on_response_prepare.append(add_security_headers)
    app.add_routes(programme_pages.routes)
    app.add_routes(sign_in.routes)
    app.add_routes(programme_api.routes)
    app.add_routes(live_routes.routes)
    app.add_routes(booth_routes.routes)
    app.add_routes(ops.routes)
    app.add_routes(qa_routes.routes)
    app.add_routes(qa_pages.routes)
    app.add_routes(realtime_socket.routes)
    app.add_routes(media_http.routes)
    app.add_routes(hls_routes.routes)
    app.add_routes(studio.routes)
    app.add_routes(breakout_routes.routes)
    app.add_routes(breakout_pages.routes)
    app.add_routes(archive_routes.routes)
    app.add_routes(caption_routes.routes)
    app.add_routes(caption_pages.routes)
    app.add_routes(stream_control.routes)
    app.add_routes(consent_routes.routes)
    app.add_routes(registration_routes.routes)
    app.add_routes(registration_pages.routes)
    app.add_routes(attendance_report.routes)
    static_dir = resources.files("web") / "static"
    app.router.add_static("/static", str(static_dir), name="static", append_version=False)
    return app

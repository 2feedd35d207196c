"""The application factory: every resource starts and stops in ``cleanup_ctx``."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from importlib import resources

from aiohttp import web

from recordings.storage import LocalStorage
from server import (
    api,
    archive_api,
    breakout_pages,
    breakouts_api,
    pages,
    qa_api,
    qa_pages,
    realtime,
    stream_control,
    studio,
)
from server.auth import IdentityCodec, LoginLinks, bearer_codec
from server.backends import open_store, sqlite_path
from server.breakout_events import BreakoutPublisher
from server.breakout_presence import BreakoutPresence
from server.clock import utc_now
from server.hub import Hub
from server.keys import (
    BEARER_CODEC,
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
)
from server.media import http as media_http
from server.media.cluster import MediaCluster
from server.media.engine import MediaEngine
from server.media.hls import routes as hls_routes
from server.media.hls.service import HlsPackaging
from server.media.metrics import ClusterCollector, MediaCollector
from server.media.registry import NodeRegistry, RedisNodeRegistry, SqliteNodeRegistry
from server.media.rooms import RoomCalls
from server.metrics import Metrics
from server.middleware import (
    add_security_headers,
    csrf_middleware,
    error_middleware,
    identity_middleware,
    metrics_middleware,
)
from server.qa_service import QARateLimits, QAService
from server.recording_service import RecordingController
from server.settings import Settings
from server.stream_control import StreamCuts
from server.topics import StreamStatePublisher, publish_qa_events
from web.templating import setup_templates

log = logging.getLogger("plenaria")

MAX_REQUEST_BYTES = 1024 * 1024


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
    await service.start()
    app[QA] = service
    yield
    await service.stop()
    hub.close()


async def media_context(app: web.Application) -> AsyncIterator[None]:
    engine = MediaEngine()
    stream_states = StreamStatePublisher(app[HUB], engine, app[QA].delivery)
    engine.listeners.append(stream_states)
    stream_states.start()
    app[QA].subscribe(stream_states.on_events)
    app[HLS] = HlsPackaging(engine)
    collector = MediaCollector(engine, app[HLS])
    app[METRICS].registry.register(collector)
    app[MEDIA] = engine
    app[ROOM_CALLS] = RoomCalls(engine)
    cuts = StreamCuts(engine, app[QA])
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
        middlewares=[metrics_middleware, error_middleware, identity_middleware, csrf_middleware],
        client_max_size=MAX_REQUEST_BYTES,
    )
    app[SETTINGS] = settings
    app[CLOCK] = clock
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
    app[QA_RATE_LIMITS] = QARateLimits()
    app[HUB] = Hub()
    app[METRICS].realtime_connections.set_function(lambda: len(app[HUB].connections))
    app.on_response_prepare.append(add_security_headers)
    app.add_routes(pages.routes)
    app.add_routes(api.routes)
    app.add_routes(qa_api.routes)
    app.add_routes(qa_pages.routes)
    app.add_routes(realtime.routes)
    app.add_routes(media_http.routes)
    app.add_routes(hls_routes.routes)
    app.add_routes(studio.routes)
    app.add_routes(breakouts_api.routes)
    app.add_routes(breakout_pages.routes)
    app.add_routes(archive_api.routes)
    app.add_routes(stream_control.routes)
    static_dir = resources.files("web") / "static"
    app.router.add_static("/static", str(static_dir), name="static", append_version=False)
    return app

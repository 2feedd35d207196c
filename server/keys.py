"""Typed keys for everything the application and its requests carry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from aiohttp import web

from recordings.storage import RecordingStorage
from server.archive.recorder import RecordingController
from server.attendance.activity import ActivityLedger
from server.attendance.tracker import AttendanceTracker
from server.backends.store import Store
from server.breakouts.presence import BreakoutPresence
from server.conference_log import QARateLimits, QAService
from server.http.auth import IdentityCodec, LoginLinks
from server.http.errors import OutageLog
from server.media.booths import Booths
from server.media.cluster import MediaCluster
from server.media.engine import MediaEngine
from server.media.hls.service import HlsPackaging
from server.media.rooms import RoomCalls
from server.metrics import Metrics
from server.realtime.hub import Hub
from server.settings import Settings
from sessions.roles import Identity

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", Store)
QA = web.AppKey("qa", QAService)
STORE_OUTAGES = web.AppKey("store_outages", OutageLog)
QA_RATE_LIMITS = web.AppKey("qa_rate_limits", QARateLimits)
HUB = web.AppKey("hub", Hub)
MEDIA = web.AppKey("media", MediaEngine)
HLS = web.AppKey("hls", HlsPackaging)
CLUSTER = web.AppKey("cluster", MediaCluster)
"""Present when media nodes share a registry: on Redis, or on the SQLite file when this
process starts media workers or is one."""
ROOM_CALLS = web.AppKey("room_calls", RoomCalls)
BOOTHS = web.AppKey("booths", Booths)
PRESENCE = web.AppKey("presence", BreakoutPresence)
RECORDINGS: web.AppKey[RecordingStorage] = web.AppKey("recordings")
RECORDER = web.AppKey("recorder", RecordingController)
METRICS = web.AppKey("metrics", Metrics)
IDENTITY_CODEC = web.AppKey("identity_codec", IdentityCodec)
BEARER_CODEC = web.AppKey("bearer_codec", IdentityCodec)
LOGIN_LINKS = web.AppKey("login_links", LoginLinks)
ATTENDANCE = web.AppKey("attendance", AttendanceTracker)
"""Who watches in this process, written to the store in batches (``server.attendance``)."""
ACTIVITY = web.AppKey("activity", ActivityLedger)
"""Each session's Q&A and break-out activity, folded from the log."""
Clock = Callable[[], dt.datetime]
CLOCK: web.AppKey[Clock] = web.AppKey("clock")

IDENTITY = web.RequestKey("identity", Identity)
CSRF_SECRET = web.RequestKey("csrf_secret", str)
NEW_CSRF_SECRET = web.RequestKey("new_csrf_secret", bool)
LOCALE = web.RequestKey("locale", str)
"""The interface language this request is answered in (one of web.i18n.LOCALES)."""

"""The attendance tracker's life in the app, and the retention job."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from server.attendance.tracker import AttendanceTracker
from server.backends.store import Store
from server.keys import ATTENDANCE, CLOCK, MEDIA, QA, SETTINGS, STORE

log = logging.getLogger("plenaria.attendance")

RETENTION_EVERY = dt.timedelta(days=1)


async def untie_expired(store: Store, now: dt.datetime, days: int) -> int:
    """Cut the tie to people for records older than ``days`` (none when ``days`` is 0)."""
    if days <= 0:
        return 0
    untied = await store.untie_attendance(now - dt.timedelta(days=days))
    if untied:
        log.info("attendance records untied from people", extra={"keys": untied, "days": days})
    return untied


async def _retention(store: Store, clock: Callable[[], dt.datetime], days: int) -> None:
    while True:
        try:
            await untie_expired(store, clock(), days)
        except Exception:
            log.exception("the retention job failed; trying again tomorrow")
        await asyncio.sleep(RETENTION_EVERY.total_seconds())


async def attendance_context(app: web.Application) -> AsyncIterator[None]:
    tracker = AttendanceTracker(app[STORE], app[MEDIA], app[QA], app[CLOCK])
    tracker.start()
    app[ATTENDANCE] = tracker
    settings = app[SETTINGS]
    retention = None
    if settings.retention_days > 0 and not settings.media_node:
        retention = asyncio.create_task(
            _retention(app[STORE], app[CLOCK], settings.retention_days), name="retention"
        )
    yield
    if retention is not None:
        retention.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await retention
    await tracker.close()

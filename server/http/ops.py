"""Health and metrics for operators."""

from __future__ import annotations

import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from server.keys import (
    METRICS,
    STORE,
)

log = logging.getLogger("plenaria")

routes = web.RouteTableDef()


@routes.get("/healthz")
async def health(request: web.Request) -> web.StreamResponse:
    try:
        await request.app[STORE].ping()
    except Exception:  # any failure of the backend means "not healthy"; the why is logged
        log.exception("health check: the store does not answer")
        return web.json_response({"status": "unavailable", "store": "unreachable"}, status=503)
    return web.json_response({"status": "ok"})


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.StreamResponse:
    response = web.Response(body=generate_latest(request.app[METRICS].registry))
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response

"""Health and metrics for operators."""

from __future__ import annotations

import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from server.backends import is_unavailable
from server.keys import METRICS, QA, STORE

log = logging.getLogger("plenaria")

routes = web.RouteTableDef()


@routes.get("/healthz")
async def health(request: web.Request) -> web.StreamResponse:
    if request.app[QA].diverged:
        return web.json_response({"status": "unavailable", "log": "went backwards"}, status=503)
    try:
        await request.app[STORE].ping()
    except Exception as error:  # any failure of the backend means "not healthy"; the why is logged
        if is_unavailable(error):
            log.warning("health check: the store does not answer: %r", error)
        else:
            log.exception("health check: the store does not answer")
        return web.json_response({"status": "unavailable", "store": "unreachable"}, status=503)
    return web.json_response({"status": "ok"})


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.StreamResponse:
    response = web.Response(body=generate_latest(request.app[METRICS].registry))
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response

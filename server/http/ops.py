"""Health and metrics for operators."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from server.keys import (
    METRICS,
    STORE,
)

routes = web.RouteTableDef()


@routes.get("/healthz")
async def health(request: web.Request) -> web.StreamResponse:
    try:
        await request.app[STORE].ping()
    except Exception as error:  # any failure of the backend means "not healthy"
        return web.json_response({"status": "unavailable", "store": str(error)}, status=503)
    return web.json_response({"status": "ok"})


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.StreamResponse:
    response = web.Response(body=generate_latest(request.app[METRICS].registry))
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response

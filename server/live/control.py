"""A moderator's hand on a session's stream: cut it (the publication ends at once, wherever
it is, and no speaker can go live until a moderator lets them back on) or let speakers back.

The cut goes through the command log like the broadcast switch; every process folds it, and
the one holding the publication (its origin) ends it there, its relays ending with it.
"""

from __future__ import annotations

import asyncio
import logging

import msgspec
from aiohttp import web

from server.conference_log import DomainEvent, QAService
from server.http.commands import submit
from server.http.identity import moderator
from server.http.request_body import read_json
from server.media.engine import MediaEngine
from server.media.stream_key import StreamKey
from server.programme.lookup import CODE_PATTERN, find_session
from sessions.delivery import CutChanged, SetCut

log = logging.getLogger("plenaria.stream")

routes = web.RouteTableDef()


class CutBody(msgspec.Struct, forbid_unknown_fields=True):
    cut: bool


class StreamCuts:
    """Ends a cut session's publication on this process."""

    def __init__(self, media: MediaEngine, service: QAService) -> None:
        self._media = media
        self._tasks: set[asyncio.Task[None]] = set()
        service.subscribe(self.on_events)

    def on_events(self, sequence: int, code: str, events: list[DomainEvent]) -> None:
        for event in events:
            if isinstance(event, CutChanged) and event.cut:
                task = asyncio.get_running_loop().create_task(self.end(event.session_code))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def end(self, code: str) -> None:
        key = StreamKey.panel(code)
        publication = self._media.live(key)
        if publication is not None and publication.relay_of is None:
            log.warning("stream cut by a moderator", extra={"session": code})
            await self._media.unpublish(publication)
        if (pause := self._media.paused(key)) is not None:
            await self._media.end_pause(key, pause.resource)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@routes.post(f"/api/sessions/{{code:{CODE_PATTERN}}}/stream/cut")
async def set_cut(request: web.Request) -> web.StreamResponse:
    """A moderator cuts the stream (``{"cut": true}``) or lets speakers back on."""
    _, session = await find_session(request)
    me = moderator(request, session.code)
    body = await read_json(request, CutBody)
    command = SetCut(session.code, me.participant_id, body.cut)
    await submit(request, session.code, command)
    return web.json_response({"cut": body.cut})

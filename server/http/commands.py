"""How an HTTP request changes the conference: one command, appended to the command log and
folded before the answer. A refusal propagates as the domain's error, which the error
middleware answers by its kind (422, 404, 409 or 429), the same way for every domain."""

from __future__ import annotations

from aiohttp import web

from server.backends.log_codec import Command
from server.keys import CLOCK, QA


async def submit(request: web.Request, session_code: str, command: Command) -> None:
    await request.app[QA].submit_command(session_code, command, request.app[CLOCK]())

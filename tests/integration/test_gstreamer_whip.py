"""A third-party WHIP encoder: GStreamer's webrtcbin publishes to /whip/<code>."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from server.keys import MEDIA
from tests.integration.test_whip_whep import speaker

Client = TestClient[web.Request, web.Application]
SYSTEM_PYTHON = "/usr/bin/python3"
SCRIPT = Path(__file__).resolve().parents[1] / "gst_whip_publisher.py"


async def test_gstreamer_publishes_with_the_url_and_token(client: Client) -> None:
    if shutil.which(SYSTEM_PYTHON) is None:
        pytest.fail("the system python3 with GStreamer's gi bindings is missing")
    token = speaker()["Authorization"].removeprefix("Bearer ")
    process = await asyncio.create_subprocess_exec(
        SYSTEM_PYTHON, str(SCRIPT), str(client.make_url("/whip/panel")), token, "4",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    engine = client.app[MEDIA]
    deadline = time.monotonic() + 15
    forwarded = 0
    while time.monotonic() < deadline:
        publication = engine.live("panel")
        if publication is not None and "video" in publication.broadcasts:
            broadcast = publication.broadcasts["video"]
            if not broadcast.subscribers:
                broadcast.subscribe()  # a subscriber starts the forwarding pump
            forwarded = broadcast.packets
            if forwarded >= 30:
                break
        await asyncio.sleep(0.1)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert b"connected" in stdout, stderr.decode()[-2000:]
    assert process.returncode == 0
    assert forwarded >= 30

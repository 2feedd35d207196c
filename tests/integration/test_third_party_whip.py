"""Third-party WHIP encoders publish to /whip/<code> with the URL and the speaker's token:
GStreamer's webrtcbin (aiortc answers as DTLS server) and FFmpeg's whip muxer (which insists
on being the DTLS server, so aiortc is the client)."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import sys
import time
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from server.keys import MEDIA
from server.media.engine import MediaEngine
from server.media.stream_key import StreamKey
from tests.integration.test_whip_whep import speaker

Client = TestClient[web.Request, web.Application]
SYSTEM_PYTHON = "/usr/bin/python3"
TESTS = Path(__file__).resolve().parents[1]


async def forwarded_packets(engine: MediaEngine, kinds: set[str], minimum: int) -> dict[str, int]:
    """RTP packets that reached the forwarders of ``panel``'s publication, per kind, once each
    of ``kinds`` reached ``minimum`` or 15 s passed."""
    deadline = time.monotonic() + 15
    counts: dict[str, int] = {}
    while time.monotonic() < deadline:
        publication = engine.live(StreamKey.panel("panel"))
        if publication is not None:
            for kind, forwarder in publication.streams.items():
                counts[kind] = forwarder.packets_in
            if all(counts.get(kind, 0) >= minimum for kind in kinds):
                break
        await asyncio.sleep(0.1)
    return counts


async def publish(client: Client, program: str, *arguments: str) -> tuple[int, str, str]:
    token = speaker()["Authorization"].removeprefix("Bearer ")
    process = await asyncio.create_subprocess_exec(
        program, *arguments[:1], str(client.make_url("/whip/panel")), token, *arguments[1:],
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), 40)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()[-3000:]


async def test_gstreamer_publishes_with_the_url_and_token(client: Client) -> None:
    if shutil.which(SYSTEM_PYTHON) is None:
        pytest.fail("the system python3 with GStreamer's gi bindings is missing")
    publishing = asyncio.create_task(
        publish(client, SYSTEM_PYTHON, str(TESTS / "gst_whip_publisher.py"), "4")
    )
    counts = await forwarded_packets(client.app[MEDIA], {"video"}, 30)
    returncode, stdout, stderr = await publishing
    assert "connected" in stdout, stderr
    assert returncode == 0
    assert counts["video"] >= 30


def p256_certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "whip-publisher")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "whip.crt", directory / "whip.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_ffmpeg_publishes_video_and_audio_then_deletes(
    client: Client, tmp_path: Path
) -> None:
    cert, key = p256_certificate(tmp_path)
    script = str(TESTS / "ffmpeg_whip_publisher.py")
    publishing = asyncio.create_task(
        publish(client, sys.executable, script, "4", str(cert), str(key))
    )
    counts = await forwarded_packets(client.app[MEDIA], {"video", "audio"}, 30)
    returncode, stdout, stderr = await publishing
    assert returncode == 0, stderr
    assert "streamed" in stdout
    assert counts["video"] >= 30 and counts["audio"] >= 30, counts
    # closing the muxer sent DELETE on the Location it was given: the publication is over
    assert client.app[MEDIA].live(StreamKey.panel("panel")) is None

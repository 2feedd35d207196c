"""`plenaria demo` as a user runs it: a real process, its printed URLs, a clean stop."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import aiohttp

from tests.processes import free_port


async def read_urls(stdout: asyncio.StreamReader) -> dict[str, str]:
    urls: dict[str, str] = {}
    while "Press Ctrl+C" not in (line := (await stdout.readline()).decode()):
        assert line, "the demo exited before printing its URLs"
        label, _, value = line.partition(": ")
        if value.strip().startswith("http"):
            urls[label.strip()] = value.strip()
    return urls


async def test_demo_serves_a_live_panel_and_stops_gracefully(tmp_path: Path) -> None:
    port = free_port()
    script = Path(sys.executable).with_name("plenaria")
    process = await asyncio.create_subprocess_exec(
        str(script), "demo", "--data", str(tmp_path), "--port", str(port),
        "--log-format", "json",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        urls = await asyncio.wait_for(read_urls(process.stdout), timeout=30)
        assert urls["Programme"] == f"http://localhost:{port}/"
        async with aiohttp.ClientSession() as client:
            async with client.get(urls["Programme"]) as response:
                page = await response.text()
            assert page.count('class="now-item"') == 1
            assert "Cities after the heat" in page
            async with client.get(urls["Live now"]) as response:
                assert "Live now" in await response.text()
            async with client.get(urls["Moderator link"]) as response:
                assert response.status == 200
                assert "Sign in as moderator" in await response.text()
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=20) == 0
    assert process.stderr is not None
    logs = (await process.stderr.read()).decode()
    assert '"message": "store closed"' in logs
    assert '"logger": "plenaria.access"' in logs
    assert '"status": 200' in logs

"""`plenaria demo` as a user runs it: a real process, its printed URLs, sign-in links made
beside it, a quiet terminal, a clean stop."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp

from tests.processes import free_port

PLENARIA = str(Path(sys.executable).with_name("plenaria"))
ENVIRONMENT = {k: v for k, v in os.environ.items() if not k.startswith("PLENARIA_")}


async def read_urls(stdout: asyncio.StreamReader) -> dict[str, str]:
    urls: dict[str, str] = {}
    while "Press Ctrl+C" not in (line := (await stdout.readline()).decode()):
        assert line, "the demo exited before printing its URLs"
        label, _, value = line.partition(": ")
        urls[label.strip()] = value.strip()
    return urls


async def link(cwd: Path, *arguments: str) -> list[str]:
    """``plenaria link`` run in ``cwd`` as a user would, beside the demo: its lines."""
    process = await asyncio.create_subprocess_exec(
        PLENARIA, "link", *arguments, cwd=cwd, env=ENVIRONMENT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    return out.decode().splitlines()


def login_url(lines: list[str]) -> str:
    return next(line.strip() for line in lines if "/login/" in line)


async def test_demo_serves_a_live_panel_and_stops_gracefully(tmp_path: Path) -> None:
    port = free_port()
    # run from a folder of its own with no --data, as ./scripts/demo does: data in var/demo
    process = await asyncio.create_subprocess_exec(
        PLENARIA, "demo", "--port", str(port), "--log-format", "json",
        cwd=tmp_path, env=ENVIRONMENT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    data = tmp_path / "var" / "demo"
    try:
        assert process.stdout is not None
        urls = await asyncio.wait_for(read_urls(process.stdout), timeout=30)
        base = f"http://localhost:{port}"
        assert urls["Programme"] == f"{base}/"
        assert urls["Data directory"].startswith("var/demo ")
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
            speaker = urls["Speaker link"].split(" ", 1)[0]
            async with client.get(speaker) as response:
                assert response.status == 200
                assert "Sign in as speaker" in await response.text()

            # links made beside the running demo find its data and carry its address
            for where, arguments in (
                (tmp_path, ["speaker", "panel-heat"]),
                (tmp_path.parent, ["moderator", "panel-heat", "--data", str(data)]),
            ):
                url = login_url(await link(where, *arguments))
                assert url.startswith(f"{base}/login/"), url
                async with client.get(url) as response:
                    assert response.status == 200, url
                    assert "Sign in as" in await response.text()
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=20) == 0
    assert not (data / "server.json").exists(), "a stopped demo is no longer announced"
    stopped = await link(tmp_path, "speaker", "panel-heat")
    assert any("No server is running" in line for line in stopped)

    # the terminal showed the banner and no request lines; the log file has them all
    assert process.stderr is not None
    terminal = (await process.stderr.read()).decode()
    assert "plenaria.access" not in terminal
    logs = (data / "plenaria.log").read_text()
    assert '"message": "store closed"' in logs
    assert '"logger": "plenaria.access"' in logs
    assert '"status": 200' in logs

"""The organiser's commands: programme import (files and URLs) and sign-in links."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from server.backends.sqlite import SQLiteStore
from server.cli import run
from server.programme.source import ScheduleSourceError, read_schedule_source
from sessions.programme import Programme

FIXTURES = {
    "divoc-r2r-2021.frab.xml": "4 days, 1 rooms, 45 sessions, 48 speakers",
    "divoc-ptt-2021.frab.xml": "3 days, 1 rooms, 23 sessions, 18 speakers",
    "froscon-2013.frab.xml": "2 days, 17 rooms, 123 sessions, 109 speakers",
    "pretalx-democon.json": "3 days, 2 rooms, 36 sessions, 27 speakers",
}


def stored(data: Path) -> Programme | None:
    async def load() -> Programme | None:
        store = await SQLiteStore.open(data / "plenaria.db")
        try:
            return await store.load_programme()
        finally:
            await store.close()

    return asyncio.run(load())


@pytest.mark.parametrize(("name", "counts"), FIXTURES.items())
def test_each_fixture_imports_with_exact_counts_and_reimports_unchanged(
    schedules_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, counts: str
) -> None:
    source = str(schedules_dir / name)
    assert run(["programme", "import", source, "--data", str(tmp_path)]) == 0
    first = capsys.readouterr().out
    assert counts in first
    sessions = int(counts.split(", ")[2].split()[0])
    assert f"{sessions} added, 0 changed, 0 removed, 0 unchanged" in first

    assert run(["programme", "import", source, "--data", str(tmp_path)]) == 0
    again = capsys.readouterr().out
    assert f"0 added, 0 changed, 0 removed, {sessions} unchanged" in again
    programme = stored(tmp_path)
    assert programme is not None
    assert len(programme.sessions) == sessions


def test_reimport_of_an_edited_schedule_reports_each_change(
    schedules_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = (schedules_dir / "divoc-ptt-2021.frab.xml").read_text()
    assert run(["programme", "import", str(schedules_dir / "divoc-ptt-2021.frab.xml"),
                "--data", str(tmp_path)]) == 0  # fmt: skip
    before = stored(tmp_path)
    assert before is not None
    renamed = before.sessions[0]
    dropped = before.sessions[-1]
    edited = original.replace(f"<title>{renamed.title}</title>", "<title>Renamed talk</title>", 1)
    start = edited.index(f"guid='{dropped.guid}'")
    edited = (
        edited[: edited.rindex("<event", 0, start)]
        + edited[edited.index("</event>", start) + len("</event>") :]
    )
    path = tmp_path / "edited.xml"
    path.write_text(edited)
    capsys.readouterr()
    assert run(["programme", "import", str(path), "--data", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "0 added, 1 changed, 1 removed, 21 unchanged" in out
    assert f"~ {renamed.code}  Renamed talk (title)" in out
    assert f"- {dropped.code}" in out


BAD_INPUTS = {
    "malformed.xml": (b"<schedule><conference>", "XML"),
    "bomb.xml": (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><schedule>&b;</schedule>',
        "entit",
    ),
    "missing.json": (b'{"schedule": {"conference": {}}}', "schedule"),
    "typed.json": (b'{"schedule": "yes"}', "schedule"),
}


@pytest.mark.parametrize("name", BAD_INPUTS)
def test_bad_input_is_one_clear_line_and_leaves_the_programme(
    schedules_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    assert run(["programme", "import", str(schedules_dir / "pretalx-democon.json"),
                "--data", str(tmp_path)]) == 0  # fmt: skip
    before = stored(tmp_path)
    data, expected = BAD_INPUTS[name]
    path = tmp_path / name
    path.write_bytes(data)
    capsys.readouterr()
    assert run(["programme", "import", str(path), "--data", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("plenaria: error: ")
    assert error.count("\n") == 1
    assert expected.casefold() in error.casefold()
    assert stored(tmp_path) == before


def test_a_50_mb_file_is_refused_without_reading_it_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "huge.xml"
    with path.open("wb") as file:
        file.truncate(50 * 1024 * 1024)
    assert run(["programme", "import", str(path), "--data", str(tmp_path)]) == 2
    assert "the limit is 16,777,216" in capsys.readouterr().err
    assert stored(tmp_path) is None


def test_a_missing_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["programme", "import", str(tmp_path / "nope.xml"), "--data", str(tmp_path)]) == 2
    assert "is not a file" in capsys.readouterr().err


def test_old_frab_uses_the_zone_given_on_the_command_line(
    schedules_dir: Path, tmp_path: Path
) -> None:
    source = str(schedules_dir / "froscon-2013.frab.xml")
    assert run(["programme", "import", source, "--data", str(tmp_path),
                "--time-zone", "Europe/Berlin"]) == 0  # fmt: skip
    programme = stored(tmp_path)
    assert programme is not None
    talk = next(s for s in programme.sessions if s.code == "1212")
    assert talk.start.isoformat() == "2013-08-24T10:00:00+02:00"


async def test_schedule_from_a_url(schedules_dir: Path) -> None:
    body = (schedules_dir / "pretalx-democon.json").read_bytes()
    release = asyncio.Event()

    async def schedule(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    async def stalls(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="late")

    async def missing(request: web.Request) -> web.Response:
        raise web.HTTPNotFound()

    app = web.Application()
    app.router.add_get("/schedule.json", schedule)
    app.router.add_get("/slow", stalls)
    app.router.add_get("/missing", missing)
    async with TestServer(app) as server:
        assert await read_schedule_source(str(server.make_url("/schedule.json"))) == body
        with pytest.raises(ScheduleSourceError, match=r"did not answer within 0.3 s"):
            await read_schedule_source(str(server.make_url("/slow")), time_limit=0.3)
        with pytest.raises(ScheduleSourceError, match="HTTP 404"):
            await read_schedule_source(str(server.make_url("/missing")))
        with pytest.raises(ScheduleSourceError, match="the limit is 1,000"):
            await read_schedule_source(str(server.make_url("/schedule.json")), max_bytes=1000)
        release.set()


async def test_a_large_schedule_from_a_url_is_read_whole(schedules_dir: Path) -> None:
    """Found by the fuzz suite: only what had arrived at the first read was imported (about
    128 KB), so a real schedule from a URL was refused as malformed XML or JSON."""
    froscon = (schedules_dir / "froscon-2013.frab.xml").read_bytes()
    padded = froscon.replace(b"</schedule>", b"<!--" + b" " * 3_000_000 + b"--></schedule>")

    async def schedule(request: web.Request) -> web.StreamResponse:
        body = padded if request.query.get("padded") else froscon
        if not request.query.get("chunked"):
            return web.Response(body=body, content_type="application/xml")
        response = web.StreamResponse()  # no Content-Length: only the reading can stop it
        response.enable_chunked_encoding()
        await response.prepare(request)
        for at in range(0, len(body), 100_000):
            await response.write(body[at : at + 100_000])
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/schedule.xml", schedule)
    async with TestServer(app) as server:
        for query in ("", "?chunked=1", "?padded=1", "?padded=1&chunked=1"):
            url = str(server.make_url("/schedule.xml")) + query
            assert await read_schedule_source(url) == (padded if "padded" in query else froscon)
        url = str(server.make_url("/schedule.xml")) + "?padded=1&chunked=1"
        with pytest.raises(ScheduleSourceError, match="the limit is 1,000,000"):
            await read_schedule_source(url, max_bytes=1_000_000)


def test_link_command_prints_a_one_time_link(
    schedules_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path)
    assert run(["programme", "import", str(schedules_dir / "pretalx-democon.json"),
                "--data", data]) == 0  # fmt: skip
    assert run(["link", "moderator", "G9JGWY", "--data", data,
                "--public-url", "https://live.example.org"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert re.search(r"https://live\.example\.org/login/[\w.-]+\n", out)
    assert "Focused 5thgeneration hardware" in out
    assert run(["link", "speaker", "G9JGWY", "--data", data]) == 0
    speaker = capsys.readouterr().out
    assert "/whip/G9JGWY" in speaker
    assert "Bearer token: " in speaker
    assert run(["link", "speaker", "NOPE", "--data", data]) == 2
    assert "no session with code 'NOPE'" in capsys.readouterr().err
    assert run(["link", "moderator", "G9JGWY", "--data", data, "--hours", "0"]) == 2
    capsys.readouterr()
    assert run(["link", "captioner", "G9JGWY", "FR", "--data", data]) == 0
    assert "Captioner link for “Focused 5thgeneration hardware” in fr" in capsys.readouterr().out
    assert run(["link", "captioner", "G9JGWY", "--data", data]) == 2
    assert "needs the language" in capsys.readouterr().err
    assert run(["link", "interpreter", "G9JGWY", "french", "--data", data]) == 2
    assert "two- or three-letter code" in capsys.readouterr().err
    assert run(["link", "moderator", "G9JGWY", "fr", "--data", data]) == 2
    assert "whole session" in capsys.readouterr().err


def test_console_script_and_flags_from_the_environment(schedules_dir: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PLENARIA_DATA": str(tmp_path)}
    script = Path(sys.executable).with_name("plenaria")
    result = subprocess.run(
        [str(script), "programme", "import", str(schedules_dir / "divoc-r2r-2021.frab.xml")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "45 added" in result.stdout
    assert (tmp_path / "plenaria.db").is_file()
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600

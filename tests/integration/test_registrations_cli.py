"""``plenaria registrations import`` and ``plenaria registrations links`` on a real data
directory: a dry run, an import, the same import again (unchanged), a malformed file (every
line, nothing stored) and the mail-merge CSV of personal links."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest

from server.backends import open_store
from server.cli import run
from server.registrations.tokens import RegistrationCodes
from server.settings import load_secret_key
from sessions.registrations import Registration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "registrations"


def stored(data: Path) -> list[Registration]:
    async def read() -> list[Registration]:
        store = await open_store(f"sqlite:///{data / 'plenaria.db'}")
        try:
            return await store.list_registrations()
        finally:
            await store.close()

    return asyncio.run(read())


def test_import_dry_run_reimport_and_a_malformed_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = str(FIXTURES / "indico-registrants.csv")
    data = ["--data", str(tmp_path)]
    assert run(["registrations", "import", export, "--dry-run", *data]) == 0
    out = capsys.readouterr().out
    assert "would change — 3 registrations" in out and "3 added" in out
    assert "left out as cancelled or withdrawn: lines (4,)" in out
    assert stored(tmp_path) == []
    assert run(["registrations", "import", export, *data]) == 0
    assert "3 added" in capsys.readouterr().out
    before = stored(tmp_path)
    assert run(["registrations", "import", export, *data]) == 0
    assert "0 added, 0 updated, 3 unchanged, 0 removed" in capsys.readouterr().out
    assert stored(tmp_path) == before

    assert run(["registrations", "import", str(FIXTURES / "malformed.csv"), *data]) == 2
    err = capsys.readouterr().err
    assert "nothing imported, the file has 6 problem(s)" in err
    assert "  line 6: 'by carrier pigeon' does not say in person or remote" in err
    assert stored(tmp_path) == before
    assert run(["registrations", "import", str(tmp_path / "missing.csv"), *data]) == 2


def test_links_for_a_mail_merge(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hostile = tmp_path / "hostile.csv"
    hostile.write_text(
        'Name,Email,Attendance\n=HYPERLINK("x"),a@example.org,remote\nBo,b@example.org,on-site\n'
    )
    data = ["--data", str(tmp_path), "--public-url", "https://conf.example.org"]
    assert run(["registrations", "import", str(hostile), *data]) == 0
    capsys.readouterr()
    assert run(["registrations", "links", *data]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["name"], r["attends"]) for r in rows] == [
        ('\'=HYPERLINK("x")', "remote"),
        ("Bo", "in_person"),
    ]
    codes = RegistrationCodes(load_secret_key(tmp_path))
    people = {r.email: r for r in stored(tmp_path)}
    for row in rows:
        assert row["link"].startswith("https://conf.example.org/r/")
        token = row["link"].rsplit("/", 1)[1]
        assert codes.read_link(token) == people[row["email"]].participant_id
    out_file = tmp_path / "links.csv"
    assert run(["registrations", "links", *data, "--output", str(out_file)]) == 0
    assert "2 links written" in capsys.readouterr().out
    assert out_file.read_text().startswith("name,email,attends,language,organisation,link")

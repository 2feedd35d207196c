"""Every acknowledged question and vote survives `kill -9` of the server, on every backend."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import aiohttp
import pytest

from tests.processes import bearer, free_port, plenaria, serving


@pytest.fixture(params=["sqlite", "redis"])
def backend_flags(request: pytest.FixtureRequest, tmp_path: Path) -> list[str]:
    if request.param == "sqlite":
        return []
    url: str = request.getfixturevalue("redis_server_url")
    return ["--redis", f"{url}/0?prefix=durability-{uuid.uuid4().hex}:"]


async def test_acknowledged_questions_and_votes_survive_kill_9(
    schedules_dir: Path, tmp_path: Path, backend_flags: list[str]
) -> None:
    store = ["--store", backend_flags[1]] if backend_flags else []
    source = str(schedules_dir / "pretalx-democon.json")
    assert await plenaria("programme", "import", source, "--data", str(tmp_path), *store) == 0
    code, port = "G9JGWY", free_port()
    moderator = bearer("Mo", moderates=code)
    acknowledged: dict[str, int] = {}
    async with (
        serving(tmp_path, port, *backend_flags) as url,
        aiohttp.ClientSession(url) as http,
    ):
        await http.post(f"/api/sessions/{code}/qa", json={"moderation": "post"}, headers=moderator)
        for n in range(5):
            response = await http.post(
                f"/api/sessions/{code}/questions", json={"text": f"Q{n}"}, headers=bearer(f"a{n}")
            )
            assert response.status == 201
            acknowledged[(await response.json())["question"]["id"]] = 0

        async def vote(question_id: str, voter: int) -> None:
            async with http.post(
                f"/api/questions/{question_id}/vote", headers=bearer(f"v{voter}")
            ) as response:
                if response.status == 200:
                    acknowledged[question_id] += 1

        await asyncio.gather(*(vote(q, v) for q in acknowledged for v in range(40)))
    # Leaving `serving` sent SIGKILL right after the last acknowledgement.
    async with (
        serving(tmp_path, port, *backend_flags) as url,
        aiohttp.ClientSession(url) as http,
    ):
        response = await http.get(f"/api/sessions/{code}/questions", headers=bearer("x"))
        stored = {q["id"]: q["votes"] for q in (await response.json())["questions"]}
    assert stored == acknowledged
    assert sum(stored.values()) == 200

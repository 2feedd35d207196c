"""Two `plenaria serve` processes on one Redis serve one conference."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import aiohttp

from tests.processes import bearer, free_port, plenaria, serving


async def test_a_question_asked_on_one_reaches_the_other_moderator_console(
    schedules_dir: Path, tmp_path: Path, redis_server_url: str
) -> None:
    redis = f"{redis_server_url}/0?prefix=two-{uuid.uuid4().hex}:"
    source = str(schedules_dir / "pretalx-democon.json")
    assert await plenaria("programme", "import", source, "--store", redis,
                          "--data", str(tmp_path)) == 0  # fmt: skip
    code = "G9JGWY"
    moderator = bearer("Mo", moderates=code)
    async with (
        serving(tmp_path / "a", free_port(), "--redis", redis) as first,
        serving(tmp_path / "b", free_port(), "--redis", redis) as second,
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{second}/ws", headers=moderator) as console,
    ):
        await console.send_json(["subscribe", 1, {"topic": f"session:{code}:moderation"}])
        assert (await console.receive_json(timeout=5))[0] == "ok"
        asked = time.monotonic()
        async with http.post(
            f"{first}/api/sessions/{code}/questions",
            json={"text": "Across processes?"},
            headers=bearer("Ann"),
        ) as response:
            assert response.status == 201
            question_id = (await response.json())["question"]["id"]
        event = await console.receive_json(timeout=1)
        arrived = time.monotonic() - asked
        assert event[0] == "event"
        assert event[2]["changes"][0]["question"]["id"] == question_id
        assert arrived < 1

        async with http.post(
            f"{second}/api/questions/{question_id}/moderation",
            json={"action": "approve"},
            headers=moderator,
        ) as response:
            assert response.status == 200
        async with http.get(
            f"{first}/api/sessions/{code}/questions", headers=bearer("Bob")
        ) as response:
            assert [q["id"] for q in (await response.json())["questions"]] == [question_id]

"""Two `plenaria serve` processes on one Redis serve one conference."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import aiohttp

from tests.processes import bearer, free_port, plenaria, serving

CODE = "G9JGWY"


async def democon_on_redis(schedules_dir: Path, tmp_path: Path, redis_server_url: str) -> str:
    """A Redis URL (with a prefix of its own) holding the democon programme."""
    redis = f"{redis_server_url}/0?prefix=two-{uuid.uuid4().hex}:"
    source = str(schedules_dir / "pretalx-democon.json")
    assert await plenaria("programme", "import", source, "--store", redis,
                          "--data", str(tmp_path)) == 0  # fmt: skip
    return redis


async def test_a_question_asked_on_one_reaches_the_other_moderator_console(
    schedules_dir: Path, tmp_path: Path, redis_server_url: str
) -> None:
    redis = await democon_on_redis(schedules_dir, tmp_path, redis_server_url)
    moderator = bearer("Mo", moderates=CODE)
    async with (
        serving(tmp_path / "a", free_port(), "--redis", redis) as first,
        serving(tmp_path / "b", free_port(), "--redis", redis) as second,
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{second}/ws", headers=moderator) as console,
    ):
        await console.send_json(["subscribe", 1, {"topic": f"session:{CODE}:moderation"}])
        assert (await console.receive_json(timeout=5))[0] == "ok"
        asked = time.monotonic()
        async with http.post(
            f"{first}/api/sessions/{CODE}/questions",
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
            f"{first}/api/sessions/{CODE}/questions", headers=bearer("Bob")
        ) as response:
            assert [q["id"] for q in (await response.json())["questions"]] == [question_id]


async def test_break_out_rooms_timers_and_assignments_are_shared(
    schedules_dir: Path, tmp_path: Path, redis_server_url: str
) -> None:
    redis = await democon_on_redis(schedules_dir, tmp_path, redis_server_url)
    moderator = bearer("Mo", moderates=CODE)
    rooms = f"/api/sessions/{CODE}/breakouts"
    async with (
        serving(tmp_path / "a", free_port(), "--redis", redis) as first,
        serving(tmp_path / "b", free_port(), "--redis", redis) as second,
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{second}/ws", headers=bearer("Ann")) as ann_socket,
    ):
        await ann_socket.send_json(["subscribe", 1, {"topic": f"session:{CODE}:breakouts"}])
        assert (await ann_socket.receive_json(timeout=5))[0] == "ok"

        async def post(base: str, action: str, who: dict[str, str], **body: object) -> None:
            async with http.post(f"{base}{rooms}/{action}", json=body, headers=who) as response:
                assert response.status == 200, await response.text()

        plan = [{"name": "North"}, {"name": "South", "capacity": 2}]
        await post(first, "plan", moderator, rooms=plan)
        await post(second, "join", bearer("Ann"))
        await post(first, "join", bearer("Bob"))
        await post(second, "join", bearer("Cyd"))
        await post(first, "assign", moderator, seed=3)
        await post(second, "open", moderator, minutes=15)

        async def state(base: str) -> dict[str, object]:
            async with http.get(f"{base}{rooms}", headers=bearer("Ann")) as response:
                assert response.status == 200
                body: dict[str, object] = await response.json()
                return body

        seen_first, seen_second = await state(first), await state(second)
        for seen in (seen_first, seen_second):
            seen.pop("you")
        assert seen_first == seen_second
        assert seen_first["phase"] == "open"
        assert seen_first["ends_at"] is not None
        assigned = [m for room in seen_first["rooms"] for m in room["members"]]  # type: ignore[attr-defined]
        assert sorted(m["name"] for m in assigned) == ["Ann", "Bob", "Cyd"]

        # the socket on the second process hears what the first one changed
        await post(first, "extend", moderator, minutes=5)
        deadline = time.monotonic() + 5
        while True:
            frame = await ann_socket.receive_json(timeout=5)
            changes = frame[2]["changes"] if frame[0] == "event" else []
            latest = [c["breakouts"] for c in changes if c["type"] == "breakouts"]
            if latest and latest[-1]["ends_at"] != seen_first["ends_at"]:
                break
            assert time.monotonic() < deadline

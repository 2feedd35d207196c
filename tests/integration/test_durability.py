"""Every acknowledged question and vote survives ``kill -9`` in the middle of a storm: of
the server (on SQLite and on Redis), and of redis-server itself (AOF, ``appendfsync
always``).

A storm is 200 questions, each asked by a participant of its own, and 10 votes for each of
them, each cast by a voter of its own (up to 2,000 votes, so no rate limit refuses any),
all in flight together. 150 questions go out at once, and each question's votes go out the moment
it is acknowledged; the other 50 questions arrive while the votes pour in. The kill lands
as the 1,000th vote is acknowledged, with hundreds of votes and some questions in flight.

An acknowledgement (201 for a question, with its id; 200 for a vote) is a promise: after a
restart on the same data every acknowledged question is there and every acknowledged vote
counted. A request the kill cut off is not acknowledged: it may or may not be stored. And
nothing is stored that was never sent.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from tests.processes import PLENARIA, SECRET, bearer, free_port, plenaria
from tests.redis_server import RedisServer

CODE = "G9JGWY"
QUESTIONS = 200
VOTERS_PER_QUESTION = 10
VOTES = QUESTIONS * VOTERS_PER_QUESTION
KILL_AFTER_VOTES = VOTES // 2
"""The kill lands as this many votes have been acknowledged."""
FIRST_WAVE = QUESTIONS * 3 // 4
"""Questions asked at once; the others are asked while the votes pour in, one every
``LATE_QUESTION_EVERY`` acknowledged votes, the last a little before the kill (so that most
votes are out by then, and questions still arriving)."""
LATE_QUESTION_EVERY = KILL_AFTER_VOTES * 4 // 5 // (QUESTIONS - FIRST_WAVE)
START_TIMEOUT = 30.0
STORM_TIMEOUT = 60.0
"""No request of a storm may take longer than this, whatever was killed under it."""
ANSWER_WITHIN = 5.0
"""While Redis is down the server answers (with an error) within this, rather than hang."""
RECOVERY_WITHIN = 15.0
SERVER_ERRORS = {503}
"""What a request the server could not store is answered with (``store.unavailable``, with
``Retry-After``)."""
FAILED_ANSWERS = (aiohttp.ClientError, TimeoutError)
"""What a request cut off by a kill raises on the client's side."""

Stored = dict[str, tuple[str, int]]
"""The session's questions as a server holds them: id → (text, votes)."""


def question_text(n: int) -> str:
    return f"Question {n}: does it survive kill -9?"


# -- a `plenaria serve` whose log the test reads ------------------------------------------


@dataclass
class Server:
    url: str
    process: asyncio.subprocess.Process
    log: list[dict[str, Any]] = field(default_factory=list)
    """Every line it wrote to stderr, as logged (JSON); a line that is not JSON is kept
    with the level ``raw``."""

    def kill(self) -> None:
        """``kill -9``, at once: the caller's next step runs with the server gone."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)

    def records(self, message: str) -> list[dict[str, Any]]:
        return [record for record in self.log if record.get("message") == message]

    def troubles(self) -> Counter[str]:
        """Warnings, errors and anything not logged as JSON (a stray traceback), by level
        and message."""
        return Counter(
            f"{record.get('level')}: {record.get('message')}"
            for record in self.log
            if record.get("level") not in ("debug", "info")
        )


@asynccontextmanager
async def plenaria_serve(data: Path, port: int, *extra: str) -> AsyncIterator[Server]:
    """A server (carrying its media itself, logging JSON) until the block ends, then
    ``kill -9``: as ``tests.processes.server_process``, with its log."""
    process = await asyncio.create_subprocess_exec(
        PLENARIA, "serve", "--data", str(data), "--port", str(port), "--media-workers", "0",
        "--log-format", "json", *extra,
        env={**os.environ, "PLENARIA_SECRET_KEY": SECRET},
        stderr=asyncio.subprocess.PIPE, limit=1 << 20,
    )  # fmt: skip
    server = Server(f"http://127.0.0.1:{port}", process)
    listening = asyncio.Event()

    async def read_log() -> None:  # to the end, or a full pipe would stall the server
        assert process.stderr is not None
        async for line in process.stderr:
            try:
                record = json.loads(line)
            except ValueError:
                record = {"level": "raw", "message": line.decode(errors="replace")}
            server.log.append(record)
            if record.get("message") == "listening":
                listening.set()

    reader = asyncio.create_task(read_log())
    started = asyncio.create_task(listening.wait())
    try:
        await asyncio.wait({started, reader}, timeout=START_TIMEOUT, return_when="FIRST_COMPLETED")
        assert listening.is_set(), f"the server did not start; its log: {server.log}"
        yield server
    finally:
        started.cancel()
        server.kill()
        await process.wait()
        await reader


def folded_on_start(server: Server) -> int:
    """The sequence the server folded the log up to as it started."""
    (loaded,) = server.records("q&a state loaded")
    sequence: int = loaded["sequence"]
    return sequence


# -- the storm ------------------------------------------------------------------------------


@dataclass
class Storm:
    """200 questions and their 2,000 votes, concurrent, as the module says; ``kill`` is
    called (once, on the event loop, nothing awaited in between) as vote
    ``KILL_AFTER_VOTES`` is acknowledged, and nothing new is sent after it. Records what
    was sent and what was acknowledged."""

    kill: Callable[[], None]
    askers: list[dict[str, str]] = field(
        default_factory=lambda: [bearer(f"asker{n}") for n in range(QUESTIONS)]
    )
    voters: list[list[dict[str, str]]] = field(
        default_factory=lambda: [
            [bearer(f"voter{n}-{k}") for k in range(VOTERS_PER_QUESTION)] for n in range(QUESTIONS)
        ]
    )
    asked: set[int] = field(default_factory=set)
    """Questions (by number) whose request went out."""
    questions: dict[int, str] = field(default_factory=dict)
    """Acknowledged questions: number → id."""
    votes_sent: Counter[str] = field(default_factory=Counter)
    votes: Counter[str] = field(default_factory=Counter)
    """Acknowledged votes per question id."""
    unanswered: Counter[str] = field(default_factory=Counter)
    """Requests that got no answer at all, by kind (``ask``, ``vote``)."""
    errors: Counter[int] = field(default_factory=Counter)
    """Requests answered with an error, by status."""
    in_flight: Counter[str] = field(default_factory=Counter)
    killed: asyncio.Event = field(default_factory=asyncio.Event)
    at_kill: dict[str, Any] = field(default_factory=dict)
    """What the client had seen when the kill landed."""

    async def run(self, http: aiohttp.ClientSession) -> None:
        started = time.monotonic()
        tasks: set[asyncio.Task[None]] = set()

        def spawn(request: Coroutine[Any, Any, None]) -> None:
            task = asyncio.create_task(request)
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        async def send(kind: str, path: str, headers: dict[str, str], **body: Any) -> Any:
            """The answer's JSON if it acknowledged the write, else None."""
            self.in_flight[kind] += 1
            try:
                async with http.post(path, headers=headers, **body) as response:
                    if response.status not in (200, 201):
                        self.errors[response.status] += 1
                        return None
                    return await response.json()
            except FAILED_ANSWERS:
                self.unanswered[kind] += 1
                return None
            finally:
                self.in_flight[kind] -= 1

        async def vote(question_id: str, headers: dict[str, str]) -> None:
            self.votes_sent[question_id] += 1
            if await send("vote", f"/api/questions/{question_id}/vote", headers) is None:
                return
            self.votes[question_id] += 1
            acknowledged = self.votes.total()
            if acknowledged % LATE_QUESTION_EVERY == LATE_QUESTION_EVERY // 2:
                late = FIRST_WAVE + acknowledged // LATE_QUESTION_EVERY
                if late < QUESTIONS and not self.killed.is_set():
                    spawn(ask(late))
            if acknowledged == KILL_AFTER_VOTES:
                self.kill()
                self.killed.set()
                self.at_kill = {
                    "seconds": round(time.monotonic() - started, 2),
                    "questions acknowledged": len(self.questions),
                    "votes acknowledged": acknowledged,
                    "questions in flight": self.in_flight["ask"],
                    "votes in flight": self.in_flight["vote"],
                }

        async def ask(n: int) -> None:
            self.asked.add(n)
            path = f"/api/sessions/{CODE}/questions"
            reply = await send("ask", path, self.askers[n], json={"text": question_text(n)})
            if reply is None:
                return
            question_id = reply["question"]["id"]
            self.questions[n] = question_id
            if not self.killed.is_set():
                for headers in self.voters[n]:
                    spawn(vote(question_id, headers))

        for n in range(FIRST_WAVE):
            spawn(ask(n))
        try:
            async with asyncio.timeout(STORM_TIMEOUT):
                while tasks:
                    await asyncio.wait(set(tasks))
        finally:
            for task in set(tasks):
                task.cancel()

    def figures(self) -> dict[str, Any]:
        return {
            "at the kill": self.at_kill,
            "questions sent": len(self.asked),
            "questions acknowledged": len(self.questions),
            "votes sent": self.votes_sent.total(),
            "votes acknowledged": self.votes.total(),
            "unanswered": dict(self.unanswered),
            "error answers": dict(self.errors),
        }


def http_client(url: str) -> aiohttp.ClientSession:
    """Room for every request of a storm on a connection of its own."""
    connector = aiohttp.TCPConnector(limit=QUESTIONS + VOTES + 100)
    return aiohttp.ClientSession(
        url, connector=connector, timeout=aiohttp.ClientTimeout(total=STORM_TIMEOUT)
    )


async def stored_questions(http: aiohttp.ClientSession) -> Stored:
    moderator = bearer("Mo", moderates=CODE)
    async with http.get(
        f"/api/sessions/{CODE}/questions?view=moderation", headers=moderator
    ) as response:
        assert response.status == 200
        snapshot = await response.json()
    return {q["id"]: (q["text"], q["votes"]) for q in snapshot["questions"]}


def assert_kept(storm: Storm, stored: Stored) -> None:
    """Every acknowledged write is stored, and nothing that was never sent."""
    texts = {n: question_text(n) for n in storm.asked}
    lost = {
        n: question_id
        for n, question_id in storm.questions.items()
        if stored.get(question_id, ("", 0))[0] != texts[n]
    }
    assert lost == {}, "acknowledged questions lost"
    stored_texts = [text for text, _votes in stored.values()]
    assert len(set(stored_texts)) == len(stored_texts), "a question stored twice"
    assert set(stored_texts) - set(texts.values()) == set(), "questions never sent"
    lost_votes = {
        question_id: (votes, storm.votes[question_id])
        for question_id, (_text, votes) in stored.items()
        if votes < storm.votes[question_id]
    }
    assert lost_votes == {}, "acknowledged votes lost (stored, acknowledged)"
    assert set(storm.votes) <= set(stored)
    phantom_votes = {
        question_id: (votes, storm.votes_sent[question_id])
        for question_id, (_text, votes) in stored.items()
        if votes > storm.votes_sent[question_id]
    }
    assert phantom_votes == {}, "votes counted that were never sent (stored, sent)"


def log_length(stored: Stored) -> int:
    """The entries the log must hold: the moderator's ``configure``, then one per stored
    question and one per stored vote (no command sent here is refused, so each entry
    became one of these)."""
    return 1 + len(stored) + sum(votes for _text, votes in stored.values())


def summary(stored: Stored) -> dict[str, int]:
    return {"questions": len(stored), "votes": sum(votes for _text, votes in stored.values())}


async def import_democon(schedules_dir: Path, data: Path, *store: str) -> None:
    source = str(schedules_dir / "pretalx-democon.json")
    assert await plenaria("programme", "import", source, "--data", str(data), *store) == 0


async def post_moderation(http: aiohttp.ClientSession) -> None:
    """Questions go straight to the open queue, where they take votes."""
    async with http.post(
        f"/api/sessions/{CODE}/qa",
        json={"moderation": "post"},
        headers=bearer("Mo", moderates=CODE),
    ) as response:
        assert response.status == 200


async def answer(
    http: aiohttp.ClientSession, method: str, path: str, headers: dict[str, str], **body: Any
) -> tuple[int, Any]:
    """Status and JSON body; the status is 0 if no answer came within ``ANSWER_WITHIN``."""
    try:
        async with (
            asyncio.timeout(ANSWER_WITHIN),
            http.request(method, path, headers=headers, **body) as response,
        ):
            return response.status, await response.json()
    except FAILED_ANSWERS:
        return 0, None


async def probe_ask(http: aiohttp.ClientSession, storm: Storm, n: int) -> tuple[int, Any]:
    """Ask question ``n`` (beyond the storm's), as part of the storm's record."""
    storm.asked.add(n)
    status, body = await answer(
        http,
        "POST",
        f"/api/sessions/{CODE}/questions",
        bearer(f"prober{n}"),
        json={"text": question_text(n)},
    )
    if status == 201:
        storm.questions[n] = body["question"]["id"]
    return status, body


async def probe_vote(http: aiohttp.ClientSession, storm: Storm, voter: str) -> tuple[int, Any]:
    """Vote for the storm's first acknowledged question, as part of the storm's record."""
    question_id = next(iter(storm.questions.values()))
    storm.votes_sent[question_id] += 1
    path = f"/api/questions/{question_id}/vote"
    status, body = await answer(http, "POST", path, bearer(voter))
    if status == 200:
        storm.votes[question_id] += 1
    return status, body


# -- the tests ------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "redis"])
def redis_url(request: pytest.FixtureRequest) -> str | None:
    """None for SQLite under the test's data directory, else a Redis URL with a prefix of
    its own on the run's redis-server."""
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("redis_server_url")
    return f"{url}/0?prefix=durability-{uuid.uuid4().hex}:"


async def test_acknowledged_writes_survive_kill_9_of_the_server_mid_storm(
    schedules_dir: Path, tmp_path: Path, redis_url: str | None
) -> None:
    await import_democon(schedules_dir, tmp_path, *(["--store", redis_url] if redis_url else []))
    backend = ["--redis", redis_url] if redis_url else []
    port = free_port()
    async with plenaria_serve(tmp_path, port, *backend) as server:
        storm = Storm(kill=server.kill)
        async with http_client(server.url) as http:
            await post_moderation(http)
            await storm.run(http)
    print("storm:", storm.figures())
    # The kill landed mid-flight: half the votes acknowledged, some requests cut off.
    assert storm.killed.is_set()
    assert storm.votes.total() >= KILL_AFTER_VOTES
    assert storm.unanswered.total() > 0
    assert storm.errors == Counter(), "a request was refused (none should be)"

    async with (
        plenaria_serve(tmp_path, port, *backend) as server,
        http_client(server.url) as http,
    ):
        stored = await stored_questions(http)
    print("stored after the restart:", summary(stored))
    assert_kept(storm, stored)
    assert server.troubles() == Counter()
    assert folded_on_start(server) == log_length(stored)


async def test_acknowledged_writes_survive_kill_9_of_redis_server_mid_storm(
    schedules_dir: Path, tmp_path: Path
) -> None:
    redis = RedisServer(tmp_path / "redis")  # its own directory and port, AOF fsynced always
    await asyncio.to_thread(redis.start)
    try:
        async with Redis.from_url(redis.url, decode_responses=True) as client:
            persistence = await client.config_get("append*")
        assert (persistence["appendonly"], persistence["appendfsync"]) == ("yes", "always")
        url = f"{redis.url}/0?prefix=durability:"
        await import_democon(schedules_dir, tmp_path, "--store", url)
        port = free_port()
        async with (
            plenaria_serve(tmp_path, port, "--redis", url) as server,
            http_client(server.url) as http,
        ):
            await post_moderation(http)
            storm = Storm(kill=redis.kill)
            running = asyncio.create_task(storm.run(http))
            killed = asyncio.create_task(storm.killed.wait())
            await asyncio.wait({running, killed}, return_when="FIRST_COMPLETED")
            killed.cancel()
            assert storm.killed.is_set(), storm.figures()

            # Redis is gone: the server says so at once (it does not hang). Requests whose
            # entry Redis stored but this process has not folded yet wait (``waiting``).
            down = time.monotonic()
            assert (await answer(http, "GET", "/healthz", {}))[0] == 503
            status, body = await probe_ask(http, storm, QUESTIONS)
            assert (status, body["error"]["code"]) == (503, "store.unavailable"), body
            status, body = await probe_vote(http, storm, "prober-down")
            assert (status, body["error"]["code"]) == (503, "store.unavailable"), body
            waiting = dict(storm.in_flight)
            await asyncio.to_thread(redis.start)
            outage = time.monotonic() - down

            # Redis is back: the same server recovers by itself.
            deadline = time.monotonic() + RECOVERY_WITHIN
            while (health := await answer(http, "GET", "/healthz", {}))[0] != 200:
                assert time.monotonic() < deadline, f"still unhealthy: {health}"
            status, body = await probe_ask(http, storm, QUESTIONS + 1)
            assert status == 201, body
            status, body = await probe_vote(http, storm, "prober-up")
            assert status == 200, body
            await running  # what was waiting on Redis got its answer too
            live = await stored_questions(http)
            troubles = server.troubles()
        print(
            "storm:",
            storm.figures(),
            f"outage {outage:.2f} s, in flight as Redis came back: {waiting}",
            "stored:",
            summary(live),
            "server log:",
            dict(troubles),
        )
        assert storm.unanswered == Counter(), "the server dropped a request"
        assert storm.errors.total() > 0
        assert set(storm.errors) <= SERVER_ERRORS
        said = [t for t in troubles if "the store cannot be reached" in t]
        assert said and sum(troubles[t] for t in said) <= 1 + outage / 5, troubles
        assert not [t for t in troubles if t.startswith(("error", "critical"))], troubles
        assert storm.votes.total() > KILL_AFTER_VOTES
        assert_kept(storm, live)

        # ... and a server started afresh on the same Redis finds the same.
        async with plenaria_serve(tmp_path, port, "--redis", url) as server:
            async with http_client(server.url) as http:
                assert await stored_questions(http) == live
            assert server.troubles() == Counter()
            assert folded_on_start(server) == log_length(live)
    finally:
        redis.stop()

"""The real app on a real socket, fed one hostile input at a time, and what it answered.

Hypothesis's engine is synchronous, so :class:`FuzzServer` owns its event loop and runs
the app only while an input is being answered (``server.run(coroutine)``). The same
harness serves the bounded suite (``tests/fuzz/``) and the long run (``bench/fuzz.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from aiohttp import web
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from server.app import create_app
from server.http.auth import bearer_codec
from server.keys import QA, RECORDER, STORE
from server.settings import Settings
from sessions.programme import Programme
from sessions.roles import Identity, Role
from tests.helpers import SECRET, settings_for
from tests.integration.conftest import NOW, conference

T = TypeVar("T")

HANG_AFTER = 5.0
"""An answer slower than this counts as a hang."""


@dataclass
class Tally:
    """What one entry answered over a run: the figures ``bench/fuzz.py`` prints."""

    entry: str
    inputs: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    """By status and error code, e.g. ``"422 media.unusable"``."""
    server_errors: list[str] = field(default_factory=list)
    hangs: list[str] = field(default_factory=list)
    store_changes: list[str] = field(default_factory=list)
    """Refused inputs after which the stored conference was not what it was before."""
    refused_in_fold: int = 0
    """Refusals decided by a domain, which keeps the refused command in the log."""
    slowest: float = 0.0

    def note(self, status: int, code: str, elapsed: float, *, follow_up: bool = False) -> None:
        """One answer; a ``follow_up`` (the DELETE that ends an accepted offer, say) is
        counted apart from the inputs."""
        self.inputs += not follow_up
        self.answers[("then " if follow_up else "") + f"{status} {code}".strip()] += 1
        self.slowest = max(self.slowest, elapsed)

    @property
    def failures(self) -> list[str]:
        return [*self.server_errors, *self.hangs, *self.store_changes]

    def merge(self, other: Tally) -> None:
        self.inputs += other.inputs
        self.answers.update(other.answers)
        self.server_errors += other.server_errors
        self.hangs += other.hangs
        self.store_changes += other.store_changes
        self.refused_in_fold += other.refused_in_fold
        self.slowest = max(self.slowest, other.slowest)


@dataclass(frozen=True)
class Answer:
    status: int
    code: str
    """The ``error.code`` of a JSON refusal, else empty."""
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


def identity_headers(name: str, *roles: tuple[str, Role]) -> dict[str, str]:
    identity = Identity(f"id-{name}", name.title())
    for scope, role in roles:
        identity = identity.with_role(scope, role)
    token = bearer_codec(SECRET).dumps(identity, NOW + dt.timedelta(days=2))
    return {"Authorization": f"Bearer {token}"}


def error_code(body: bytes) -> str:
    try:
        document = json.loads(body)
    except ValueError:
        return ""
    if isinstance(document, dict) and isinstance(document.get("error"), dict):
        return str(document["error"].get("code", ""))
    return ""


class ErrorRecords(logging.Handler):
    """What the server logged at ERROR or above: an exception anywhere in it (a request, a
    background task, aiortc's callbacks) is a failure even when the answer was fine."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self) -> list[str]:
        taken, self.records = self.records, []
        return [
            f"{r.name}: {r.getMessage()} {r.exc_info[1]!r}"
            if r.exc_info
            else f"{r.name}: {r.getMessage()}"
            for r in taken
        ]


class FuzzServer:
    """``create_app`` on SQLite under ``data_dir`` (or the store ``store_url`` names), the
    test conference loaded, its clock running from the panel's tenth minute."""

    def __init__(
        self,
        data_dir: Path,
        *,
        programme: Programme | None = None,
        store_url: str | None = None,
        **overrides: object,
    ) -> None:
        if store_url is not None:
            overrides["store_url"] = store_url
        self.settings: Settings = settings_for(data_dir, **overrides)
        self.programme = programme or conference()
        self.loop = asyncio.new_event_loop()
        self.started = time.monotonic()
        self.app = create_app(self.settings, clock=self.now)
        self.app.on_startup.append(self._load)
        self._runner: web.AppRunner | None = None
        self.errors = ErrorRecords()
        self._http: aiohttp.ClientSession | None = None
        self.url = ""

    def now(self) -> dt.datetime:
        return NOW + dt.timedelta(seconds=time.monotonic() - self.started)

    async def _load(self, app: web.Application) -> None:
        await app[STORE].replace_programme(self.programme, NOW)

    def __enter__(self) -> FuzzServer:
        logging.getLogger().addHandler(self.errors)
        self.run(self._start())
        return self

    def __exit__(self, *_: object) -> None:
        try:
            self.run(self._stop())
        finally:
            self.loop.close()
            logging.getLogger().removeHandler(self.errors)

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self._http = aiohttp.ClientSession(
            self.url, timeout=aiohttp.ClientTimeout(total=None), cookie_jar=aiohttp.DummyCookieJar()
        )

    async def _stop(self) -> None:
        with contextlib.suppress(TimeoutError):  # a recording still being filed, say
            await self.settle()
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()
        left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in left:  # aiortc's connection attempts of peers closed meanwhile
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    @property
    def http(self) -> aiohttp.ClientSession:
        assert self._http is not None, "the server is not started"
        return self._http

    async def settle(self) -> None:
        """Let what earlier inputs set going finish (a recording stopping and filed), so
        that what changes the store next is the next input."""
        await asyncio.wait_for(self.app[RECORDER].idle(), HANG_AFTER)
        await asyncio.wait_for(self.app[QA].sync(), HANG_AFTER)

    async def fingerprint(self) -> str:
        """A digest of what the store holds for the conference: the programme, the commands
        the domains accepted, and the registrations."""
        store = self.app[STORE]
        programme = await store.load_programme()
        accepted = await store.last_sequence() - self.app[QA].refused_count
        registrations = await store.list_registrations()
        digest = hashlib.sha256(repr((programme, accepted, registrations)).encode())
        return digest.hexdigest()

    async def request(
        self,
        tally: Tally,
        method: str,
        path: str,
        *,
        data: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        sample: object = None,
        follow_up: bool = False,
    ) -> Answer | None:
        """Send one input and note its answer; ``None`` when it hung."""
        await self.settle()
        before = await self.fingerprint()
        refused_before = self.app[QA].refused_count
        started = time.monotonic()
        try:
            answer = await asyncio.wait_for(
                self._exchange(method, path, data, headers or {}), HANG_AFTER
            )
        except TimeoutError:
            tally.hangs.append(f"{method} {path}: no answer in {HANG_AFTER} s: {sample!r:.300}")
            tally.note(0, "hang", HANG_AFTER, follow_up=follow_up)
            return None
        tally.note(answer.status, answer.code, time.monotonic() - started, follow_up=follow_up)
        for error in self.errors.take():
            tally.server_errors.append(f"{method} {path} logged {error}: {sample!r:.300}")
        if answer.status >= 500:
            tally.server_errors.append(
                f"{method} {path} → {answer.status} {answer.body[:200]!r}: {sample!r:.300}"
            )
        elif answer.status >= 400:
            tally.refused_in_fold += self.app[QA].refused_count - refused_before
            if await self.fingerprint() != before:
                tally.store_changes.append(f"{method} {path} → {answer.status}: {sample!r:.300}")
        return answer

    async def _exchange(
        self, method: str, path: str, data: bytes | str | None, headers: Mapping[str, str]
    ) -> Answer:
        async with self.http.request(
            method, path, data=data, headers=dict(headers), allow_redirects=False
        ) as response:
            body = await response.read()
            return Answer(response.status, error_code(body), body, dict(response.headers))


def run_examples(
    strategy: st.SearchStrategy[T],
    check: Callable[[T], None],
    *,
    examples: int,
    seed_value: int,
    shrink: bool = True,
) -> None:
    """Feed ``examples`` values drawn from ``strategy`` to ``check``, reproducibly from
    ``seed_value``; a failing value is shrunk and raised as hypothesis does."""
    phases = [Phase.generate, Phase.shrink] if shrink else [Phase.generate]

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=phases,
        suppress_health_check=list(HealthCheck),
        derandomize=False,
    )
    @seed(seed_value)
    @given(strategy)
    def fuzz(value: T) -> None:
        check(value)

    fuzz()


def each_answer(
    server: FuzzServer, send: Callable[[T], Coroutine[Any, Any, None]]
) -> Callable[[T], None]:
    """A synchronous ``check`` for :func:`run_examples` that runs ``send`` on the server's
    loop."""

    def check(value: T) -> None:
        server.run(send(value))

    return check


@dataclass(frozen=True)
class FuzzEntry:
    """One entry of the server, fuzzed: ``fuzz(server, examples, seed)`` feeds it that many
    inputs and says what it answered. ``weight`` is its share of the long run."""

    name: str
    fuzz: Callable[[FuzzServer, int, int], Tally]
    weight: float = 1.0

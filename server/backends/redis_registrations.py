"""The Redis store's registrations (a mixin of :class:`~server.backends.redis_store.RedisStore`).

Keys, under the store's prefix:

==================================  ====  ===============================================
``registrations``                   hash  key → the registration (msgspec JSON)
``registrations:participants``      hash  participant id → key
``registrations:checked_in``        hash  key → ISO time of the first check-in
==================================  ====  ===============================================

An import rewrites the hashes in one ``MULTI`` under ``WATCH`` of all three (a check-in or
another import in between makes it start again); a check-in is one script (``HSETNX``), so
the first arrival wins whichever process scans the code.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import msgspec
from redis.exceptions import WatchError

from sessions.registrations import CheckIn, Registration, RegistrationChanges, plan_import

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from server.backends.redis_store import RedisLocation

MAX_WATCH_ATTEMPTS = 50

_CHECK_IN = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return false end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 1 then return {1, ARGV[2]} end
return {0, redis.call('HGET', KEYS[2], ARGV[1])}
"""

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Registration).decode


class RedisRegistrations:
    location: RedisLocation
    _redis: Redis

    @property
    def _registration_keys(self) -> tuple[str, str, str]:
        prefix = self.location.prefix
        return (
            f"{prefix}registrations",
            f"{prefix}registrations:participants",
            f"{prefix}registrations:checked_in",
        )

    async def import_registrations(
        self, registrations: Sequence[Registration], *, dry_run: bool = False
    ) -> RegistrationChanges:
        people, participants, checked_in = self._registration_keys
        async with self._redis.pipeline(transaction=True) as pipe:
            for _ in range(MAX_WATCH_ATTEMPTS):
                try:
                    await pipe.watch(people, participants, checked_in)
                    current = _assemble(await pipe.hgetall(people), await pipe.hgetall(checked_in))
                    plan = plan_import(current, registrations, _new_participant_id)
                    changes = plan.changes
                    if dry_run:
                        await pipe.reset()  # type: ignore[no-untyped-call]
                        return changes
                    pipe.multi()  # type: ignore[no-untyped-call]
                    for gone in changes.removed:
                        pipe.hdel(people, gone.key)
                        pipe.hdel(participants, gone.participant_id)
                        pipe.hdel(checked_in, gone.key)
                    written = [*changes.added, *(u.after for u in changes.updated)]
                    if written:
                        pipe.hset(people, mapping={r.key: _stored(r) for r in written})
                        pipe.hset(participants, mapping={r.participant_id: r.key for r in written})
                    await pipe.execute()
                except WatchError:
                    continue
                return changes
        raise RuntimeError(
            f"the registrations kept changing under this import ({MAX_WATCH_ATTEMPTS} attempts)"
        )

    async def list_registrations(self) -> list[Registration]:
        people, _, checked_in = self._registration_keys
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(people)
            pipe.hgetall(checked_in)
            stored, arrivals = await pipe.execute()
        return sorted(_assemble(stored, arrivals), key=lambda r: (r.name.casefold(), r.key))

    async def registration(self, key: str) -> Registration | None:
        people, _, checked_in = self._registration_keys
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hget(people, key)
            pipe.hget(checked_in, key)
            stored, arrived = await pipe.execute()
        return None if stored is None else _with_arrival(_decode(stored), arrived)

    async def registration_of(self, participant_id: str) -> Registration | None:
        key = await self._redis.hget(self._registration_keys[1], participant_id)
        if key is None:
            return None
        found = await self.registration(_text(key))
        return found if found is not None and found.participant_id == participant_id else None

    async def check_in(self, key: str, now: dt.datetime) -> CheckIn | None:
        people, _, checked_in = self._registration_keys
        answer: Any = await self._redis.eval(_CHECK_IN, 2, people, checked_in, key, now.isoformat())
        if not answer:
            return None
        found = await self.registration(key)
        if found is None:  # erased at this very moment
            return None
        stamped, at = answer
        return CheckIn(_with_arrival(found, at), already=not int(stamped))

    async def erase_registration(self, key: str) -> Registration | None:
        people, participants, checked_in = self._registration_keys
        async with self._redis.pipeline(transaction=True) as pipe:
            for _ in range(MAX_WATCH_ATTEMPTS):
                try:
                    await pipe.watch(people, checked_in)
                    stored = await pipe.hget(people, key)
                    if stored is None:
                        await pipe.reset()  # type: ignore[no-untyped-call]
                        return None
                    found = _with_arrival(_decode(stored), await pipe.hget(checked_in, key))
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.hdel(people, key)
                    pipe.hdel(participants, found.participant_id)
                    pipe.hdel(checked_in, key)
                    await pipe.execute()
                except WatchError:
                    continue
                return found
        raise RuntimeError(f"registration {key!r} kept changing ({MAX_WATCH_ATTEMPTS} attempts)")


def _new_participant_id() -> str:
    return secrets.token_urlsafe(12)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _stored(registration: Registration) -> bytes:
    """What the hash keeps: everything but the check-in, which has a hash of its own."""
    return _encode(dataclasses.replace(registration, checked_in_at=None))


def _with_arrival(registration: Registration, arrived: bytes | str | None) -> Registration:
    if arrived is None:
        return registration
    return dataclasses.replace(
        registration, checked_in_at=dt.datetime.fromisoformat(_text(arrived))
    )


def _assemble(
    stored: Mapping[bytes | str, bytes | str], arrivals: Mapping[bytes | str, bytes | str]
) -> list[Registration]:
    by_key = {_text(key): value for key, value in arrivals.items()}
    return [_with_arrival(_decode(data), by_key.get(_text(key))) for key, data in stored.items()]

"""The registrations every store keeps (``RegistrationStore``), on SQLite and on real Redis:
imports are atomic and idempotent, identity is by key, check-in happens once, and erasure
deletes the personal data."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import uuid
from pathlib import Path

import pytest
from redis.asyncio import Redis

from server.backends import open_store
from server.backends.redis_store import RedisStore
from server.backends.sqlite import SQLiteStore
from server.backends.store import Store
from sessions.registrations import Registration, RegistrationChanges

NOW = dt.datetime(2026, 5, 11, 8, 30, tzinfo=dt.UTC)


def person(key: str, name: str = "", **fields: object) -> Registration:
    values: dict[str, object] = {
        "key": key,
        "participant_id": "",
        "name": name or f"Person {key}",
        "email": f"{key}@example.org",
        "attends": "in_person",
        "organisation": "Permanent Mission",
        "delegation_type": "Participating State",
        "country": "AT",
        "language": "de",
    }
    values.update(fields)
    return Registration(**values)  # type: ignore[arg-type]


EXPORT = [person("a", "Anna Gruber"), person("b", "Bruno Keller", attends="remote"), person("c")]


async def test_an_import_stores_everyone_with_their_own_participant_id(store: Store) -> None:
    changes = await store.import_registrations(EXPORT)
    assert [r.key for r in changes.added] == ["a", "b", "c"]
    stored = await store.list_registrations()
    assert [r.name for r in stored] == ["Anna Gruber", "Bruno Keller", "Person c"]
    ids = {r.participant_id for r in stored}
    assert len(ids) == 3 and "" not in ids
    anna = await store.registration("a")
    assert anna is not None and anna.email == "a@example.org" and anna.checked_in_at is None
    assert await store.registration_of(anna.participant_id) == anna
    assert await store.registration("nobody") is None
    assert await store.registration_of("nobody") is None


async def test_reimporting_the_same_export_changes_nothing(store: Store) -> None:
    await store.import_registrations(EXPORT)
    before = await store.list_registrations()
    changes = await store.import_registrations(EXPORT)
    assert not changes.changed_anything
    assert len(changes.unchanged) == 3
    assert await store.list_registrations() == before


async def test_a_reimport_updates_in_place_and_keeps_ids_and_check_ins(store: Store) -> None:
    await store.import_registrations(EXPORT)
    before = {r.key: r for r in await store.list_registrations()}
    arrived = await store.check_in("a", NOW)
    assert arrived is not None
    changed = [
        person("a", "Anna Gruber-Huber", country="DE"),
        person("b", "Bruno Keller", attends="remote"),
        person("d", "Dora New"),
    ]
    changes = await store.import_registrations(changed)
    assert [(u.after.key, u.fields) for u in changes.updated] == [("a", ("name", "country"))]
    assert [r.key for r in changes.unchanged] == ["b"]
    assert [r.key for r in changes.added] == ["d"]
    assert [r.key for r in changes.removed] == ["c"]
    after = {r.key: r for r in await store.list_registrations()}
    assert set(after) == {"a", "b", "d"}
    assert after["a"].participant_id == before["a"].participant_id
    assert after["a"].name == "Anna Gruber-Huber" and after["a"].checked_in_at == NOW
    assert after["b"] == before["b"]
    assert await store.registration_of(before["c"].participant_id) is None


async def test_someone_checked_in_is_kept_when_a_new_export_leaves_them_out(
    store: Store,
) -> None:
    await store.import_registrations(EXPORT)
    await store.check_in("c", NOW)
    changes = await store.import_registrations(EXPORT[:1])
    assert [r.key for r in changes.removed] == ["b"]
    assert [r.key for r in changes.kept] == ["c"]
    assert {r.key for r in await store.list_registrations()} == {"a", "c"}
    # Listed again later, they are who they were.
    again = await store.import_registrations(EXPORT)
    assert [r.key for r in again.added] == ["b"]
    assert {r.key for r in again.unchanged} == {"a", "c"}


async def test_a_dry_run_stores_nothing(store: Store) -> None:
    await store.import_registrations(EXPORT[:1])
    before = await store.list_registrations()
    changes = await store.import_registrations(EXPORT[1:], dry_run=True)
    assert [r.key for r in changes.added] == ["b", "c"]
    assert [r.key for r in changes.removed] == ["a"]
    assert await store.list_registrations() == before


async def test_an_import_that_fails_leaves_the_registrations_as_they_were(store: Store) -> None:
    await store.import_registrations(EXPORT)
    before = await store.list_registrations()
    with pytest.raises(ValueError, match="each key once"):
        await store.import_registrations([person("x"), person("y"), person("x")])
    assert await store.list_registrations() == before


async def test_check_in_happens_once(store: Store) -> None:
    await store.import_registrations(EXPORT)
    first = await store.check_in("a", NOW)
    assert first is not None and not first.already
    assert first.registration.checked_in_at == NOW
    later = NOW + dt.timedelta(minutes=5)
    second = await store.check_in("a", later)
    assert second is not None and second.already
    assert second.registration.checked_in_at == NOW
    assert await store.check_in("nobody", NOW) is None
    stored = await store.registration("a")
    assert stored is not None and stored.checked_in_at == NOW


async def test_racing_check_ins_stamp_the_first_arrival_only(store: Store) -> None:
    await store.import_registrations(EXPORT)
    answers = await asyncio.gather(
        *(store.check_in("b", NOW + dt.timedelta(seconds=i)) for i in range(8))
    )
    assert sum(1 for a in answers if a is not None and not a.already) == 1
    stamps = {a.registration.checked_in_at for a in answers if a is not None}
    assert len(stamps) == 1


async def test_erasure_deletes_the_registration(store: Store) -> None:
    await store.import_registrations(EXPORT)
    anna = await store.registration("a")
    assert anna is not None
    await store.check_in("a", NOW)
    erased = await store.erase_registration("a")
    assert erased is not None and erased.name == "Anna Gruber" and erased.checked_in_at == NOW
    assert await store.registration("a") is None
    assert await store.registration_of(anna.participant_id) is None
    assert await store.check_in("a", NOW) is None
    assert await store.erase_registration("a") is None
    assert [r.key for r in await store.list_registrations()] == ["b", "c"]
    # A later import that lists them again makes a new registration, with a new identity.
    again = await store.import_registrations(EXPORT)
    assert [r.key for r in again.added] == ["a"]
    assert again.added[0].participant_id != anna.participant_id


async def test_erased_personal_data_is_gone_from_the_storage(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    secret = f"erase-me-{uuid.uuid4().hex}"
    export = [person("a", secret, email=f"{secret}@example.org"), person("b")]
    path = tmp_path / "plenaria.db"
    sqlite_store = await open_store(f"sqlite:///{path}")
    try:
        assert isinstance(sqlite_store, SQLiteStore)
        await sqlite_store.import_registrations(export)
        await sqlite_store.erase_registration("a")
        files = [path, path.with_name(path.name + "-wal")]
        assert not any(secret.encode() in f.read_bytes() for f in files if f.exists())
        # Removal by a re-import deletes as thoroughly.
        await sqlite_store.import_registrations(export)
        await sqlite_store.import_registrations(export[1:])
        assert not any(secret.encode() in f.read_bytes() for f in files if f.exists())
    finally:
        await sqlite_store.close()

    url: str = request.getfixturevalue("redis_server_url")
    prefix = f"test-{uuid.uuid4().hex}:"
    redis_store = await open_store(f"{url}/0?prefix={prefix}")
    raw = Redis.from_url(f"{url}/0")
    try:
        assert isinstance(redis_store, RedisStore)
        await redis_store.import_registrations(export)
        await redis_store.check_in("a", NOW)
        await redis_store.erase_registration("a")
        keys = [key async for key in raw.scan_iter(match=f"{prefix}*")]
        assert keys
        for key in keys:
            kind = str(await raw.type(key))
            if "hash" in kind:
                fields = await raw.hgetall(key)
                contents = "".join(f"{k!r}{v!r}" for k, v in fields.items())
            else:
                contents = repr(await raw.get(key)) if "string" in kind else ""
            assert secret not in contents, key
        anna_left = await raw.hgetall(f"{prefix}registrations")
        assert set(anna_left) == {b"b"}
    finally:
        keys = [key async for key in raw.scan_iter(match=f"{prefix}*")]
        if keys:
            await raw.delete(*keys)
        await raw.aclose()
        await redis_store.close()


async def test_an_import_racing_another_process_is_all_or_nothing(
    store: Store, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Two stores on the same storage (two processes): imports racing check-ins end as if
    they ran one after the other, and nobody checked in is ever removed."""
    if isinstance(store, SQLiteStore):
        other = await open_store(f"sqlite:///{tmp_path / 'plenaria.db'}")
    else:
        assert isinstance(store, RedisStore)
        other = await open_store(
            f"{request.getfixturevalue('redis_server_url')}/0?prefix={store.location.prefix}"
        )
    try:
        everyone = [person(f"p{i}") for i in range(40)]
        await store.import_registrations(everyone)
        few = everyone[:5]
        changes, *_ = await asyncio.gather(
            store.import_registrations(few),
            *(other.check_in(f"p{i}", NOW) for i in range(30, 40)),
        )
        assert isinstance(changes, RegistrationChanges)
        stored = {r.key for r in await store.list_registrations()}
        checked = {r.key for r in await other.list_registrations() if r.checked_in_at}
        assert checked <= stored
        assert stored == {r.key for r in few} | {r.key for r in changes.kept} | checked
        assert stored == {r.key for r in await other.list_registrations()}
    finally:
        await other.close()


def test_a_registration_is_a_plain_value() -> None:
    a = person("a")
    assert dataclasses.replace(a, name="x").differences(a) == ("name",)

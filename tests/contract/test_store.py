"""The Store protocol's guarantees, checked on every backend."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import replace

import pytest

from server.backends.store import Store
from server.http.auth import hash_secret
from sessions.programme import Programme
from sessions.roles import LoginGrant, Role
from tests.helpers import at, programme, session

NOW = at(11, 8)


def sample() -> Programme:
    return programme(session("a", at(11, 10)), session("b", at(11, 11)), session("c", at(12, 9)))


async def test_empty_store_has_no_programme(store: Store) -> None:
    assert await store.load_programme() is None


async def test_programme_round_trips_in_the_conference_zone(store: Store) -> None:
    plan = sample()
    changes = await store.replace_programme(plan, NOW)
    assert len(changes.added) == 3
    loaded = await store.load_programme()
    assert loaded == plan
    assert loaded is not None
    assert all(s.start.utcoffset() == dt.timedelta(hours=2) for s in loaded.sessions)
    assert str(loaded.sessions[0].start.tzinfo) == "Europe/Vienna"


async def test_reimporting_the_same_programme_changes_nothing(store: Store) -> None:
    await store.replace_programme(sample(), NOW)
    changes = await store.replace_programme(sample(), NOW)
    assert changes.is_empty
    assert changes.unchanged == 3


async def test_reimport_updates_in_place_and_keeps_removed_sessions(store: Store) -> None:
    await store.replace_programme(sample(), NOW)
    updated = programme(
        session("a", at(11, 10), title="New title"),
        session("b", at(11, 11)),
        session("d", at(12, 10)),
    )
    changes = await store.replace_programme(updated, NOW)
    assert [c.after.code for c in changes.changed] == ["a"]
    assert [a.session.code for a in changes.added] == ["d"]
    assert [r.session.code for r in changes.removed] == ["c"]
    loaded = await store.load_programme()
    assert loaded is not None
    assert [s.code for s in loaded.sessions] == ["a", "b", "d"]
    assert loaded.sessions[0].title == "New title"

    restored = await store.replace_programme(sample(), NOW)
    assert [a.session.code for a in restored.added] == ["c"]
    assert [r.session.code for r in restored.removed] == ["d"]


async def test_a_code_can_move_to_another_guid(store: Store) -> None:
    await store.replace_programme(programme(session("a", at(11, 10))), NOW)
    moved = programme(session("a", at(11, 10), guid="guid-new"))
    changes = await store.replace_programme(moved, NOW)
    assert len(changes.added) == 1 and len(changes.removed) == 1
    loaded = await store.load_programme()
    assert loaded is not None
    assert [s.guid for s in loaded.sessions] == ["guid-new"]


async def test_a_failed_import_leaves_the_previous_programme(store: Store) -> None:
    await store.replace_programme(sample(), NOW)
    clash = programme(session("x", at(11, 10)), session("x", at(11, 11), guid="guid-y"))
    with pytest.raises(Exception):  # noqa: B017, PT011 - each backend raises its own error
        await store.replace_programme(clash, NOW)
    assert await store.load_programme() == sample()


def grant(secret: str, hours: int = 1) -> LoginGrant:
    return LoginGrant(
        secret_hash=hash_secret(secret),
        role=Role.MODERATOR,
        session_code="a",
        created_at=NOW,
        expires_at=NOW + dt.timedelta(hours=hours),
    )


async def test_login_grant_is_redeemed_once(store: Store) -> None:
    await store.add_login_grant(grant("s1"))
    redeemed = await store.redeem_login_grant(hash_secret("s1"), NOW)
    assert redeemed == grant("s1")
    assert await store.redeem_login_grant(hash_secret("s1"), NOW) is None
    assert await store.redeem_login_grant(hash_secret("unknown"), NOW) is None


async def test_racing_redeemers_get_one_grant(store: Store) -> None:
    await store.add_login_grant(grant("race"))
    results = await asyncio.gather(
        *(store.redeem_login_grant(hash_secret("race"), NOW) for _ in range(20))
    )
    assert sum(r is not None for r in results) == 1


async def test_expired_grant_is_refused(store: Store) -> None:
    await store.add_login_grant(grant("old"))
    later = NOW + dt.timedelta(hours=2)
    assert await store.redeem_login_grant(hash_secret("old"), later) is None


async def test_ping_answers(store: Store) -> None:
    await store.ping()


async def test_removed_session_speakers_leave_the_programme(store: Store) -> None:
    await store.replace_programme(sample(), NOW)
    only_a = programme(replace(session("a", at(11, 10)), speakers=()))
    await store.replace_programme(only_a, NOW)
    loaded = await store.load_programme()
    assert loaded is not None and loaded.speakers == ()


async def test_two_sessions_can_swap_codes(store: Store) -> None:
    await store.replace_programme(
        programme(session("a", at(11, 10)), session("b", at(11, 11))), NOW
    )
    swapped = programme(
        session("b", at(11, 10), guid="guid-a"), session("a", at(11, 11), guid="guid-b")
    )
    changes = await store.replace_programme(swapped, NOW)
    assert len(changes.changed) == 2
    loaded = await store.load_programme()
    assert loaded is not None
    assert [(s.guid, s.code) for s in loaded.sessions] == [("guid-a", "b"), ("guid-b", "a")]


async def test_the_programme_is_decoded_once_per_import(store: Store) -> None:
    """Pages ask for the programme on every request: the same import comes back as the same
    object, and any import (even at the same moment, with the same stamp) as a new one."""
    await store.replace_programme(sample(), NOW)
    first = await store.load_programme()
    assert first is not None
    assert await store.load_programme() is first
    changed = programme(session("opening", at(11, 9), title="Renamed opening"))
    await store.replace_programme(changed, NOW)
    second = await store.load_programme()
    assert second is not None and second is not first
    assert [s.title for s in second.sessions] == ["Renamed opening"]

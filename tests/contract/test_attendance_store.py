"""The AttendanceStore's guarantees, checked on every backend."""

from __future__ import annotations

import datetime as dt

from server.backends.store import Store
from sessions.attendance import (
    Participation,
    Replay,
    Viewing,
    participant_key,
    remote_keys,
    session_figures,
)

T0 = dt.datetime(2026, 5, 11, 8, 0, tzinfo=dt.UTC)


def minutes(n: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=n)


def viewing(id_: str, viewer: str, start: float, end: float, **fields: object) -> Viewing:
    values: dict[str, object] = {
        "id": id_,
        "session": "panel",
        "viewer": viewer,
        "channel": "webrtc",
        "started_at": minutes(start),
        "last_seen_at": minutes(end),
    }
    values.update(fields)
    return Viewing(**values)  # type: ignore[arg-type]


async def test_viewings_round_trip_and_only_move_forward(store: Store) -> None:
    assert await store.list_viewings() == []
    first = viewing("a", participant_key("p1"), 0, 5)
    other = viewing("b", "v:browser", 2, 3, channel="hls", session="side")
    await store.record_viewings([first, other])
    await store.record_viewings([viewing("a", participant_key("p1"), 0, 10, ended=True)])
    # a late, older write (another flush) changes nothing back
    await store.record_viewings([viewing("a", "p:someone-else", 1, 7, ended=False)])
    stored = {v.id: v for v in await store.list_viewings()}
    assert stored["a"] == viewing("a", participant_key("p1"), 0, 10, ended=True)
    assert stored["b"] == other
    assert stored["a"].started_at.utcoffset() == dt.timedelta(0)


async def test_a_replay_counts_once_per_viewer_recording_and_day(store: Store) -> None:
    day = T0.date()
    plays = [
        Replay("rec1", "v:a", day, minutes(1)),
        Replay("rec1", "v:a", day, minutes(2)),
        Replay("rec1", "v:b", day, minutes(3)),
        Replay("rec2", "v:a", day, minutes(4)),
    ]
    assert await store.record_replays(plays) == [True, False, True, True]
    tomorrow = Replay("rec1", "v:a", day + dt.timedelta(days=1), minutes(60 * 24))
    assert await store.record_replays([tomorrow, plays[0]]) == [True, False]
    assert await store.count_replays() == {"rec1": 3, "rec2": 1}
    assert await store.record_replays([]) == []


async def test_a_participation_counts_once_per_round(store: Store) -> None:
    seat = Participation("panel", "r1", participant_key("p1"), minutes(1))
    await store.record_participations([seat, seat])
    await store.record_participations([Participation("panel", "r1", participant_key("p1"), T0)])
    await store.record_participations([Participation("panel", "r2", participant_key("p1"), T0)])
    await store.record_participations([])
    found = sorted(await store.list_participations(), key=lambda p: p.round)
    assert found == [seat, Participation("panel", "r2", participant_key("p1"), T0)]


async def test_forgetting_a_participant_keeps_every_count(store: Store) -> None:
    person, other = participant_key("p1"), participant_key("p2")
    await store.record_viewings(
        [
            viewing("a", person, 0, 10),
            viewing("b", person, 5, 20, channel="hls"),
            viewing("c", other, 1, 4),
            viewing("d", person, 0, 3, session="side"),
        ]
    )
    await store.record_replays([Replay("rec1", person, T0.date(), minutes(1))])
    await store.record_participations([Participation("panel", "r1", person, minutes(2))])
    before = session_figures(
        "panel", "", await store.list_viewings(), participations=await store.list_participations()
    )

    await store.forget_attendance("p1")
    await store.forget_attendance("nobody")  # erasing someone never seen is fine
    after = await store.list_viewings()
    seated = await store.list_participations()
    assert person not in {v.viewer for v in after} | {p.viewer for p in seated}
    assert session_figures("panel", "", after, participations=seated) == before
    assert len(remote_keys(after, seated)) == 2  # the same person, under one new key
    assert len({v.viewer for v in after if v.id in ("a", "b", "d")} | {seated[0].viewer}) == 1
    assert await store.count_replays() == {"rec1": 1}
    # a process still writing the viewing cannot put the old key back
    await store.record_viewings([viewing("a", person, 0, 12)])
    assert person not in {v.viewer for v in await store.list_viewings()}
    # and a replay by the new key is a new replay (the person is no longer known)
    assert await store.record_replays([Replay("rec1", person, T0.date(), minutes(2))]) == [True]


async def test_retention_unties_old_records_and_keeps_the_counts(store: Store) -> None:
    old, recent, browser = participant_key("old"), participant_key("new"), "v:cookie"
    await store.record_viewings(
        [
            viewing("a", old, 0, 10),
            viewing("b", old, 60 * 24 * 40, 60 * 24 * 40 + 5),  # also untied: same person
            viewing("c", recent, 60 * 24 * 40, 60 * 24 * 40 + 5),
            viewing("d", browser, 1, 2, channel="hls"),
        ]
    )
    await store.record_participations([Participation("panel", "r1", old, minutes(3))])
    before = session_figures("panel", "", await store.list_viewings())
    cut_off = minutes(60 * 24 * 30)
    assert await store.untie_attendance(cut_off) == 2
    after = {v.id: v for v in await store.list_viewings()}
    assert after["c"].viewer == recent
    assert after["a"].viewer == after["b"].viewer and after["a"].viewer.startswith("x:")
    assert after["d"].viewer.startswith("x:") and after["d"].viewer != after["a"].viewer
    assert session_figures("panel", "", list(after.values())) == before
    assert [p.viewer for p in await store.list_participations()] == [after["a"].viewer]
    assert await store.untie_attendance(cut_off) == 0  # untied keys stay as they are

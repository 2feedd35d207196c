"""The CommandLog guarantees, checked on every backend."""

from __future__ import annotations

import asyncio
import datetime as dt

from server.backends.command_log import CommandLog
from server.backends.log_codec import LogEntry
from sessions.qa import Ask, Moderate, Vote

T0 = dt.datetime(2026, 5, 11, 10, tzinfo=dt.UTC)


def entry(n: int) -> LogEntry:
    return LogEntry("panel", T0 + dt.timedelta(seconds=n), Vote(f"q{n}", f"p{n}"))


async def test_empty_log(command_log: CommandLog) -> None:
    assert await command_log.last_sequence() == 0
    assert await command_log.read(0) == []


async def test_appends_come_back_in_order_with_increasing_sequences(
    command_log: CommandLog,
) -> None:
    commands = [
        LogEntry("panel", T0, Ask("q1", "ann", "Ann", "Why <script>?", anonymous=True)),
        LogEntry("panel", T0, Moderate("q1", "mod", "merge", into="q2", position=2.5)),
        entry(3),
    ]
    sequences = [await command_log.append(c) for c in commands]
    assert sequences == sorted(sequences)
    assert len(set(sequences)) == 3
    assert sequences[0] > 0
    assert await command_log.read(0) == list(zip(sequences, commands, strict=True))
    assert await command_log.read(sequences[0]) == list(
        zip(sequences[1:], commands[1:], strict=True)
    )
    assert await command_log.read(sequences[0], limit=1) == [(sequences[1], commands[1])]
    assert await command_log.last_sequence() == sequences[-1]


async def test_concurrent_appends_all_land_once_in_one_order(command_log: CommandLog) -> None:
    sequences = await asyncio.gather(*(command_log.append(entry(n)) for n in range(300)))
    assert len(set(sequences)) == 300
    read = await command_log.read(0, limit=1000)
    assert [s for s, _ in read] == sorted(sequences)
    by_sequence = dict(read)
    assert all(by_sequence[s] == entry(n) for n, s in enumerate(sequences))


async def test_wait_wakes_up_on_append(command_log: CommandLog) -> None:
    last = await command_log.last_sequence()
    waiter = asyncio.create_task(command_log.wait(last, max_wait=10))
    await asyncio.sleep(0)
    await command_log.append(entry(1))
    await asyncio.wait_for(waiter, timeout=2)


async def test_wait_returns_at_once_when_entries_exist(command_log: CommandLog) -> None:
    await command_log.append(entry(1))
    await asyncio.wait_for(command_log.wait(0, max_wait=10), timeout=1)


async def test_wait_gives_up_after_max_wait(command_log: CommandLog) -> None:
    await asyncio.wait_for(
        command_log.wait(await command_log.last_sequence(), max_wait=0.05), timeout=2
    )

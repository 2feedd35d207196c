"""The command log as the bus, without sockets or storage: two services folding one
in-memory log reach the same state; the hub encodes a frame once and writes it to every
subscriber's transport, dropping one that falls behind (in-memory fakes of the CommandLog
and Transport protocols, as httpx ships MockTransport)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from server.backends.memory_log import MemoryCommandLog
from server.backends.store import StoreUnavailable
from server.conference_log import QAService
from server.realtime.hub import BUFFER_LIMIT, SLOW_CLOSE_CODE, Connection, Hub
from server.realtime.topics import publish_qa_events, qa_topic
from sessions.qa import Ask, Moderate, QAError, QuestionShown

NOW = dt.datetime(2026, 12, 4, 9, tzinfo=dt.UTC)


@dataclass
class MemoryTransport:
    """A socket's transport that keeps what is written and reports a buffer size."""

    written: list[bytes] = field(default_factory=list)
    backlog: int = 0
    closing: bool = False

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def get_write_buffer_size(self) -> int:
        return self.backlog

    def is_closing(self) -> bool:
        return self.closing


def events_of(frames: list[bytes]) -> list[Any]:
    """The JSON of each frame (the 2-byte header of a short text frame stripped)."""
    return [json.loads(data[4:] if data[1] == 126 else data[2:]) for data in frames]


async def test_two_processes_folding_one_log_agree_and_refusals_come_back_typed() -> None:
    log = MemoryCommandLog()
    first, second = QAService(log), QAService(log)
    await first.start()
    await second.start()
    try:
        asked = await first.submit("panel", Ask("q1", "ann", "Ann", "Who pays?"), NOW)
        assert not any(isinstance(event, QuestionShown) for event in asked), "held for moderation"
        shown = await first.submit("panel", Moderate("q1", "mod", "approve"), NOW)
        assert any(isinstance(event, QuestionShown) for event in shown)
        await second.sync()
        assert second.session("panel").question("q1").state == "visible"
        with pytest.raises(QAError) as refused:
            await second.submit("panel", Moderate("q9", "mod", "approve"), NOW)
        assert (refused.value.code, refused.value.kind) == ("qa.question_unknown", "not_found")
        assert await log.last_sequence() == 3, "a refused command is logged, and folds to nothing"
    finally:
        await first.stop()
        await second.stop()


async def test_a_folded_event_is_one_frame_written_to_every_subscriber() -> None:
    hub = Hub()
    closed: list[int] = []
    fast, slow = MemoryTransport(), MemoryTransport(backlog=BUFFER_LIMIT + 1)
    readers = [Connection(fast, closed.append), Connection(slow, closed.append)]
    for reader in readers:
        hub.connect(reader)
        hub.subscribe(reader, qa_topic("panel"), 0)
    service = QAService(MemoryCommandLog())
    service.subscribe(lambda sequence, code, events: publish_qa_events(hub, sequence, code, events))
    await service.start()
    try:
        await service.submit("panel", Ask("q1", "ann", "Ann", "Who pays?"), NOW)
        await service.submit("panel", Moderate("q1", "mod", "approve"), NOW)
    finally:
        await service.stop()
    [event] = events_of(fast.written)
    assert event[0:2] == ["event", "session:panel:qa"]
    assert event[2]["changes"][0]["question"]["text"] == "Who pays?"
    assert slow.written == [] and closed == [SLOW_CLOSE_CODE], "the slow one is dropped"
    assert readers[1].dropped and not readers[0].dropped


async def test_a_log_that_went_backwards_is_refused_not_answered_from_another_entry() -> None:
    """The store came back with less than this process folded (Redis restored or failed
    over behind): a new append gets a sequence already folded for another entry. Answering
    that entry's outcome would be wrong; the process refuses writes until restarted."""
    log = MemoryCommandLog()
    service = QAService(log)
    await service.start()
    try:
        for n in range(3):
            await service.submit("panel", Ask(f"q{n}", f"p{n}", "P", "Why?"), NOW)
        log._entries = log._entries[:1]  # what a restored snapshot would hold
        with pytest.raises(StoreUnavailable):
            await service.submit("panel", Ask("q9", "p9", "P", "And now?"), NOW)
        assert service.diverged
        with pytest.raises(StoreUnavailable):
            await service.submit("panel", Ask("q10", "p10", "P", "Still?"), NOW)
        assert "q9" not in service.session("panel").questions
    finally:
        await service.stop()

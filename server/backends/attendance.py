"""What the store keeps of attendance: viewing intervals, break-out participation and
replays, keyed by viewer keys
(:mod:`sessions.attendance`), never by names."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from sessions.attendance import Participation, Replay, Viewing


class AttendanceStore(Protocol):
    """Viewing records and replays, written by every process serving the conference and read
    back whole to compute the figures.

    Guarantees every implementation keeps (``tests/contract/test_attendance_store.py``):

    - **Upsert by id.** :meth:`record_viewings` stores each viewing under its ``id``; writing
      an id again moves ``last_seen_at`` forward (never back) and sets ``ended`` once (never
      unsets it). Its session, channel, start and viewer key stay as first written, so a
      process still writing a viewing cannot undo an erasure.
    - **Once per day.** :meth:`record_replays` counts a replay at most once per recording,
      viewer and day, whichever processes report it, and says which were new.
    - **Once per round.** :meth:`record_participations` keeps one participation per session,
      round and viewer, whichever processes report it (every process folds the same rounds).
    - **Erasure keeps the counts.** After :meth:`forget_attendance`, nothing stored names the
      participant; each of their records carries one fresh random key instead, the same for
      all of them, so unique counts, peaks and watch time are unchanged.
    - **Retention.** :meth:`untie_attendance` does the same for every person key (``p:`` and
      ``v:``) with a record started before the cut-off, across all their records.
    - **Read-your-writes**, and durability as the rest of the store.
    """

    async def record_viewings(self, viewings: Sequence[Viewing]) -> None: ...

    async def record_replays(self, replays: Sequence[Replay]) -> list[bool]:
        """Store the replays not stored yet; for each, whether it was new."""
        ...

    async def record_participations(self, participations: Sequence[Participation]) -> None: ...

    async def list_participations(self) -> list[Participation]: ...

    async def list_viewings(self) -> list[Viewing]:
        """Every viewing, in no particular order."""
        ...

    async def count_replays(self) -> dict[str, int]:
        """Replays by recording id."""
        ...

    async def forget_attendance(self, participant_id: str) -> None:
        """Cut the tie between ``participant_id`` and everything recorded of them."""
        ...

    async def untie_attendance(self, before: dt.datetime) -> int:
        """Cut the tie to people for records older than ``before``; how many keys were cut."""
        ...

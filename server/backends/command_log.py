"""The conference's command log: the one ordered, durable record of every change to its
Q&A, break-outs, archive and stream delivery."""

from __future__ import annotations

from typing import Protocol

from server.backends.log_codec import LogEntry


class CommandLog(Protocol):
    """A totally ordered, durable, append-only log of commands shared by every process.

    Every process folds the same entries in the same order through the domain, so all
    processes reach the same state and emit the same events; the log is also the bus that
    tells each process there is something new.

    Guarantees every implementation keeps (the contract suite checks them):

    - **Durability.** :meth:`append` returns only once the entry survives a crash or
      ``kill -9`` of the process (and, per backend, of the machine: see its docstring).
    - **Total order.** Sequence numbers are positive integers, strictly increasing in
      append order across all processes; :meth:`read` returns entries in that order and
      never skips one that a later read could return.
    - **Wake-up.** :meth:`wait` returns soon (well under a second) after any process
      appends an entry with a sequence above ``after``; it may also return early.
    """

    async def append(self, entry: LogEntry) -> int:
        """Store ``entry`` durably and return its sequence number."""
        ...

    async def read(self, after: int, limit: int = 1000) -> list[tuple[int, LogEntry]]:
        """Entries with a sequence above ``after``, oldest first, at most ``limit``."""
        ...

    async def wait(self, after: int, max_wait: float) -> None:
        """Return when an entry above ``after`` may exist, or after ``max_wait`` seconds."""
        ...

    async def last_sequence(self) -> int:
        """The highest sequence appended so far, 0 for an empty log."""
        ...

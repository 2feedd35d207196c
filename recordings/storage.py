"""Where recordings live: a small storage interface and its local-disk implementation.

A recording is one file under an opaque *key* (``panel-20260511-1003.webm``). The recorder
asks for a local path to write and append to, then calls :meth:`RecordingStorage.finish`;
the HTTP layer asks for what to serve. An object store (S3 and the like) fits the same
interface: its writable path is a local spool file that ``finish`` uploads.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import Protocol, runtime_checkable

KEY_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,200}")
"""What a key may be made of. Nothing else gets near the file system."""


def check_key(key: str) -> str:
    """Return ``key`` if it is a valid storage key, else raise :class:`ValueError`.

    Keys are ``[A-Za-z0-9_.-]``, 1 to 200 characters, and may not start with a dot: that
    rules out ``.``, ``..``, hidden files, separators, NUL and anything non-ASCII, so a key
    names one entry directly inside the storage root and never escapes it."""
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key) or key.startswith("."):
        raise ValueError(f"not a valid recording key: {key!r}")
    return key


@runtime_checkable
class RecordingStorage(Protocol):
    """Storage for recording files, addressed by opaque keys.

    Keys are made by the caller from ``[A-Za-z0-9_.-]`` only (see :func:`check_key`); every
    method raises :class:`ValueError` for any other key, before touching anything. That
    check is the path-traversal guard: a key can never name something outside the
    storage's root (no separators, no ``..``, no NUL, no unicode look-alikes).

    Guarantees every implementation keeps:

    - **Write once.** :meth:`path_for_writing` refuses (:class:`FileExistsError`) a key that
      already exists, so a finished recording is never truncated or rewritten in place.
    - **Finish is the commit point.** After :meth:`finish` returns, the complete file is
      durable (a local store has fsynced the file and its directory; an object store has
      uploaded it, and the object appears all at once or not at all). ``finish`` is
      idempotent and may be called again on a file left behind by a crash to seal it.
    - **Crash.** If the process dies while recording, the partial file stays where it was
      being written (for a local store: under its key; for an object store: in the local
      spool). Recording formats are chosen so a partial file plays up to its last flushed
      fragment / cluster (a second or so before the crash); nothing after it is promised.
    - **Concurrent readers.** Readers of a finished key are safe: finished files are never
      modified; :meth:`delete` unlinks, so a reader that already opened the file (a
      ``sendfile`` in progress) reads it to the end. Readers of a key still being written
      see a growing file whose content is valid only up to its last flushed fragment.
    """

    def path_for_writing(self, key: str) -> Path:
        """A local file the recorder creates, writes and appends to. For an object store,
        a spool file that :meth:`finish` uploads. Raises :class:`FileExistsError` if the
        key exists already."""
        ...

    def finish(self, key: str) -> None:
        """The file under ``key`` is complete: make it durable (fsync / upload)."""
        ...

    def size(self, key: str) -> int:
        """Size in bytes; :class:`FileNotFoundError` if the key does not exist."""
        ...

    def exists(self, key: str) -> bool: ...

    def local_path(self, key: str) -> Path:
        """The local file the HTTP layer serves (with ``sendfile``). A local store returns
        the file itself; an object store has no such file once uploaded and would instead
        hand out a URL (e.g. a pre-signed GET) for the HTTP layer to redirect to.
        Raises :class:`FileNotFoundError` if the key does not exist."""
        ...

    def delete(self, key: str) -> None:
        """Remove the key; nothing happens if it does not exist."""
        ...

    def free_bytes(self) -> int:
        """Bytes still available for new recordings (the file system's free space for an
        unprivileged writer, for a local store)."""
        ...


class LocalStorage:
    """Recordings as plain files in one directory, ``root / key``.

    The recorder writes straight to the final path, so a recording in progress is visible
    (and growing) under its key; ``finish`` fsyncs the file and the directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = self.root / check_key(key)
        # Belt and braces: the key check already makes this impossible.
        if path.parent != self.root:
            raise ValueError(f"not a valid recording key: {key!r}")
        return path

    def path_for_writing(self, key: str) -> Path:
        path = self._path(key)
        if path.exists() or path.is_symlink():
            raise FileExistsError(f"the recording {key!r} exists already")
        self.root.mkdir(parents=True, exist_ok=True)
        return path

    def finish(self, key: str) -> None:
        path = self._path(key)
        with path.open("rb") as file:
            os.fsync(file.fileno())
        self._sync_directory()

    def _sync_directory(self) -> None:
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def size(self, key: str) -> int:
        return self._path(key).stat().st_size

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def local_path(self, key: str) -> Path:
        path = self._path(key)
        if not path.is_file():
            raise FileNotFoundError(f"no recording {key!r}")
        return path

    def delete(self, key: str) -> None:
        path = self._path(key)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            self._sync_directory()

    def free_bytes(self) -> int:
        stats = os.statvfs(self.root)
        return stats.f_bavail * stats.f_frsize

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

"""Local recording storage: keys that could leave the root are refused by every method."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from recordings.storage import LocalStorage, RecordingStorage, check_key

HOSTILE_KEYS = [
    "../x",
    "..",
    ".",
    "",
    "/etc/passwd",
    "a/b",
    "a\\b",
    "x\x00y",
    "\x00",
    "rec\u00e9.webm",  # é
    "rec\u2024webm",  # one dot leader, looks like "."
    "\uff0e\uff0e",  # fullwidth dots
    "a b",
    "a\nb",
    ".hidden",
    "x" * 201,
    "~root",
    "$HOME",
    "*",
]

METHODS: list[Callable[[LocalStorage, str], Any]] = [
    LocalStorage.path_for_writing,
    LocalStorage.finish,
    LocalStorage.size,
    LocalStorage.exists,
    LocalStorage.local_path,
    LocalStorage.delete,
]


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "recordings")


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_every_method_refuses_keys_that_could_escape(
    storage: LocalStorage, tmp_path: Path, key: str
) -> None:
    (tmp_path / "x").write_text("outside the root")
    for method in METHODS:
        with pytest.raises(ValueError, match="not a valid recording key"):
            method(storage, key)
    with pytest.raises(ValueError, match="not a valid recording key"):
        check_key(key)
    assert (tmp_path / "x").read_text() == "outside the root"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["recordings", "x"]


def test_a_key_that_is_not_a_string_is_refused(storage: LocalStorage) -> None:
    bad: Any = b"bytes.webm"
    with pytest.raises(ValueError, match="not a valid recording key"):
        storage.size(bad)


def test_good_keys_stay_inside_the_root(storage: LocalStorage) -> None:
    for key in ["panel-20260511-1003.webm", "a", "A_b.c-d.mp4", "x" * 200, "a..b"]:
        assert check_key(key) == key
        assert storage.path_for_writing(key).parent == storage.root


def test_write_finish_size_delete(storage: LocalStorage) -> None:
    assert isinstance(storage, RecordingStorage)
    key = "panel-1.webm"
    assert not storage.exists(key)
    with pytest.raises(FileNotFoundError):
        storage.size(key)
    with pytest.raises(FileNotFoundError):
        storage.local_path(key)
    path = storage.path_for_writing(key)
    with path.open("wb") as file:
        file.write(b"x" * 1000)
    with path.open("ab") as file:  # the recorder appends as it goes
        file.write(b"y" * 24)
    assert storage.exists(key)
    assert storage.size(key) == 1024
    storage.finish(key)
    storage.finish(key)  # idempotent: sealing a crash's leftover twice is fine
    assert storage.local_path(key) == path
    assert path.read_bytes() == b"x" * 1000 + b"y" * 24
    with pytest.raises(FileExistsError):
        storage.path_for_writing(key)  # written once, never truncated
    storage.delete(key)
    assert not storage.exists(key)
    storage.delete(key)  # nothing to delete: no error
    with pytest.raises(FileNotFoundError):
        storage.finish(key)


def test_a_reader_of_a_finished_key_survives_its_deletion(storage: LocalStorage) -> None:
    key = "served.mp4"
    storage.path_for_writing(key).write_bytes(b"m" * 65536)
    storage.finish(key)
    with storage.local_path(key).open("rb") as reader:
        first = reader.read(100)
        storage.delete(key)
        rest = reader.read()
    assert first + rest == b"m" * 65536


def test_concurrent_readers_of_a_finished_key(storage: LocalStorage) -> None:
    key = "popular.webm"
    content = os.urandom(256 * 1024)
    storage.path_for_writing(key).write_bytes(content)
    storage.finish(key)
    results: list[bytes] = []

    def read() -> None:
        results.append(storage.local_path(key).read_bytes())

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert results == [content] * 8


def test_a_symlink_under_a_key_is_not_overwritten(storage: LocalStorage, tmp_path: Path) -> None:
    target = tmp_path / "precious"
    target.write_text("keep")
    (storage.root / "linked.webm").symlink_to(target)
    with pytest.raises(FileExistsError):
        storage.path_for_writing("linked.webm")
    assert target.read_text() == "keep"


def test_free_bytes(storage: LocalStorage) -> None:
    stats = os.statvfs(storage.root)
    free = storage.free_bytes()
    assert free > 0
    assert abs(free - stats.f_bavail * stats.f_frsize) < 64 * 1024 * 1024
    assert "recordings" in repr(storage)


def test_the_root_is_made(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "a" / "b")
    assert storage.root.is_dir()
    assert storage.root == (tmp_path / "a" / "b").resolve()

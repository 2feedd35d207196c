"""A real ``redis-server`` for the tests: a free port, a temporary directory, AOF always on."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import pytest

from tests.processes import free_port

START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


def answers_ping(port: int) -> bool:
    """True once the server accepts commands (not while it is still loading its AOF)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """``with RedisServer(tmp_dir) as server: server.url`` — or :meth:`start` / :meth:`stop`.

    The data directory and port stay the same across :meth:`kill` and :meth:`start`, so a
    restarted server reloads the append-only file the previous one wrote.
    """

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._process is not None, "the server is not running"
        return self._process.pid

    def start(self) -> RedisServer:
        executable = shutil.which("redis-server")
        if executable is None:
            pytest.fail(
                "redis-server is not installed (or not on PATH); the Redis backend tests need "
                "a real one: apt-get install redis-server, or brew install redis"
            )
        self.directory.mkdir(parents=True, exist_ok=True)
        log_path = self.directory / "redis.log"
        with log_path.open("ab") as log_file:
            self._process = subprocess.Popen(
                [
                    executable,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "yes",
                    "--appendfsync",
                    "always",
                    "--dir",
                    str(self.directory),
                ],
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not answers_ping(self.port):
            try:
                # Paces the polling, and notices at once when the server gives up.
                code = self._process.wait(timeout=0.02)
            except subprocess.TimeoutExpired:
                if time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(
                        f"redis-server on port {self.port} did not answer PING within "
                        f"{START_TIMEOUT} s; its log:\n{log_path.read_text(errors='replace')}"
                    )
                continue
            self._process = None
            pytest.fail(
                f"redis-server on port {self.port} exited with status {code}; its log:\n"
                f"{log_path.read_text(errors='replace')}"
            )
        return self

    def stop(self) -> None:
        """Terminate politely (SIGTERM) and wait for the process to exit."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def kill(self) -> None:
        """``kill -9``: no shutdown, no final save; only what is already on disk survives."""
        process, self._process = self._process, None
        if process is None:
            return
        process.kill()
        process.wait()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

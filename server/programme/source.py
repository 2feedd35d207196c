"""Fetching a schedule export from a file or a URL, with limits on size and time."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from sessions.schedule_formats import MAX_SCHEDULE_BYTES


class ScheduleSourceError(Exception):
    """The schedule could not be read; the message is one line for the organiser."""


def _too_large(size: int, limit: int) -> ScheduleSourceError:
    return ScheduleSourceError(f"the schedule is {size:,} bytes or more; the limit is {limit:,}")


async def read_schedule_source(
    source: str, *, time_limit: float = 30.0, max_bytes: int = MAX_SCHEDULE_BYTES
) -> bytes:
    if urlsplit(source).scheme in ("http", "https"):
        return await _fetch(source, time_limit=time_limit, max_bytes=max_bytes)
    return await asyncio.to_thread(_read_file, Path(source), max_bytes)


def _read_file(path: Path, max_bytes: int) -> bytes:
    try:
        if not path.is_file():
            raise ScheduleSourceError(f"{path} is not a file")
        with path.open("rb") as file:
            data = file.read(max_bytes + 1)
    except OSError as error:
        raise ScheduleSourceError(f"cannot read {path}: {error.strerror}") from None
    if len(data) > max_bytes:
        raise _too_large(len(data), max_bytes)
    return data


async def _fetch(url: str, *, time_limit: float, max_bytes: int) -> bytes:
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=time_limit)) as client,
            client.get(url, headers={"Accept": "application/xml, application/json"}) as response,
        ):
            if response.status != 200:
                raise ScheduleSourceError(f"{url} answered HTTP {response.status}")
            if response.content_length is not None and response.content_length > max_bytes:
                raise _too_large(response.content_length, max_bytes)
            # ``read(n)`` answers with what has arrived so far: read until the end or the limit.
            data = bytearray()
            while len(data) <= max_bytes and (
                chunk := await response.content.read(max_bytes + 1 - len(data))
            ):
                data += chunk
    except TimeoutError:
        raise ScheduleSourceError(f"{url} did not answer within {time_limit:g} s") from None
    except aiohttp.ClientError as error:
        raise ScheduleSourceError(f"cannot fetch {url}: {error}") from None
    if len(data) > max_bytes:
        raise _too_large(len(data), max_bytes)
    return bytes(data)

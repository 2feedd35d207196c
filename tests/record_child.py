"""Records a synthetic panel in a process of its own, for the kill -9 test.

Usage: python -m tests.record_child ROOT KEY_STEM [SECONDS]

Prints one line ``recorded <seconds> <bytes>`` a few times a second while recording; with
SECONDS, stops cleanly once that much is recorded and prints ``finished <seconds>``;
without, records until it is killed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from pathlib import Path

from recordings.recorder import Recorder
from recordings.storage import LocalStorage
from server.media.engine import MediaEngine
from server.media.stream_key import StreamKey
from server.media.synthetic import start_synthetic_panel

REPORT_EVERY = 0.1


async def record(root: Path, key_stem: str, seconds: float | None) -> None:
    engine = MediaEngine()
    start_synthetic_panel(engine, "panel", dt.datetime.now(dt.UTC))
    publication = engine.live(StreamKey.panel("panel"))
    assert publication is not None
    recorder = Recorder(publication.broadcasts, publication.codecs, LocalStorage(root), key_stem)
    recorder.start()
    try:
        while recorder.state.status in ("waiting", "recording"):
            state = recorder.state
            print(f"recorded {state.duration_seconds:.3f} {state.bytes_written}", flush=True)
            if seconds is not None and state.duration_seconds >= seconds:
                break
            await asyncio.sleep(REPORT_EVERY)
        final = await recorder.stop()
        print(f"{final.status} {final.duration_seconds:.3f} {final.error}", flush=True)
    finally:
        await engine.close()


def main() -> None:
    root, key_stem = Path(sys.argv[1]), sys.argv[2]
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else None
    asyncio.run(record(root, key_stem, seconds))


if __name__ == "__main__":
    main()

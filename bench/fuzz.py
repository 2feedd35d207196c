"""The long fuzz run (issue 16): 100,000 hostile inputs over every entry, seeded.

Each entry gets a fresh server (the real app on SQLite, on a real socket, in this
process) and its share of the inputs (``FuzzEntry.weight``). The same strategies as the
bounded suite in ``tests/fuzz/`` (structure-aware: valid documents, then mutated). For
each entry it prints the inputs, the answers by status and error code, 5xx (must be 0),
hangs over 5 s (0), log errors (0), refused inputs that changed the store (0), refusals a
domain decided (their commands stay in the log and fold into nothing), and the time per
input against ``GET /healthz`` on the same server (the baseline). A failure is shrunk by
hypothesis and printed; the run goes on with the other entries and exits 1.

    .venv/bin/python bench/fuzz.py [--inputs 100000] [--seed 16] [--only NAME]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fuzz import http_api, imports, media_packets, sdp, websocket
from tests.fuzz.harness import FuzzEntry, FuzzServer, Tally

ENTRIES: tuple[FuzzEntry, ...] = (
    *http_api.ENTRIES,
    *websocket.ENTRIES,
    *sdp.ENTRIES,
    *media_packets.ENTRIES,
    *imports.ENTRIES,
)


def baseline(server: FuzzServer, requests: int = 500) -> float:
    """Seconds per ``GET /healthz`` through the same harness."""
    tally = Tally("baseline")

    async def run() -> None:
        for _ in range(requests):
            await server.request(tally, "GET", "/healthz")

    started = time.monotonic()
    server.run(run())
    return (time.monotonic() - started) / requests


def run_entry(entry: FuzzEntry, examples: int, seed: int) -> tuple[Tally, float, float]:
    with tempfile.TemporaryDirectory(prefix="fuzz-") as data, FuzzServer(Path(data)) as server:
        health = baseline(server)
        started = time.monotonic()
        try:
            tally = entry.fuzz(server, examples, seed)
        except Exception as failure:  # hypothesis' shrunk counterexample
            tally = Tally(entry.name)
            tally.server_errors.append(f"{type(failure).__name__}: {failure}")
        return tally, time.monotonic() - started, health


def is_refusal(answer: str) -> bool:
    """A 4xx (``"422 media.sdp_mid"``), a socket's error reply (``"101 error …"``), or for
    datagrams, which have no status, what the server declined (dropped, refused)."""
    return (
        answer[:1] == "4"
        or " error " in answer
        or answer.startswith(("dropped", "refused", "not authentic"))
    )


def report(tally: Tally, seconds: float, health: float) -> str:
    answers = [(n, a) for a, n in tally.answers.items() if not a.startswith("then ")]
    refusals = sorted(((n, a) for n, a in answers if is_refusal(a)), reverse=True)
    accepted = sum(n for n, a in answers if not is_refusal(a) and a[:1] not in "05")
    per_input = seconds / max(tally.inputs, 1)
    codes = ", ".join(f"{answer} × {n:,}" for n, answer in refusals[:8])
    if len(refusals) > 8:
        codes += f", {len(refusals) - 8} more × {sum(n for n, _ in refusals[8:]):,}"
    server_errors = sum(n for a, n in tally.answers.items() if a[:1] == "5")
    return (
        f"| {tally.entry} | {tally.inputs:,} | {accepted:,} | {codes} | {server_errors} | "
        f"{len(tally.hangs)} | {len(tally.server_errors)} | {len(tally.store_changes)} | "
        f"{tally.refused_in_fold:,} | {per_input * 1000:.1f} ms | {per_input / health:.1f} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--only", default="", help="run the entries whose name contains this")
    args = parser.parse_args()
    chosen = [e for e in ENTRIES if args.only.lower() in e.name.lower()]
    weights = sum(e.weight for e in chosen)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"Machine: {machine}; {dt.date.today()}; seed {args.seed}; {args.inputs:,} inputs")
    print(
        "| entry | inputs | accepted | refused, by status and code | 5xx | hangs > 5 s "
        "| log errors | store changed by a refusal | refused in the fold | per input "
        "| ÷ /healthz |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    failed = False
    total = Tally("all")
    started = time.monotonic()
    for entry in chosen:
        examples = max(1, round(args.inputs * entry.weight / weights))
        tally, seconds, health = run_entry(entry, examples, args.seed)
        print(report(tally, seconds, health), flush=True)
        for failure in tally.failures[:10]:
            print(f"    FAILURE: {failure[:2000]}", file=sys.stderr)
        failed = failed or bool(tally.failures)
        total.merge(tally)
    server_errors = sum(n for a, n in total.answers.items() if a[:1] == "5")
    print(
        f"total: {total.inputs:,} inputs in {time.monotonic() - started:.0f} s; "
        f"5xx {server_errors}, hangs {len(total.hangs)}, log errors {len(total.server_errors)}, "
        f"store changed by refusals {len(total.store_changes)}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Hostile RTP and RTCP from a connected publisher and viewer never hurt the server (issue
16): each entry of ``tests/fuzz/media_packets.py`` on a small budget, from a fixed seed.
``bench/fuzz.py`` runs the same entries long."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.fuzz.harness import FuzzServer
from tests.fuzz.media_packets import (
    MediaTally,
    fuzz_publisher_rtcp,
    fuzz_publisher_rtp,
    fuzz_viewer_rtcp,
)

Fuzz = Callable[[FuzzServer, int, int], MediaTally]


def assert_unhurt(tally: MediaTally, examples: int) -> None:
    assert tally.server_errors == []
    assert tally.hangs == []
    assert tally.store_changes == []
    assert tally.examples == examples
    assert tally.inputs >= examples, "every example sends at least one datagram"
    assert tally.checks["healthz 200"] == examples
    assert tally.checks["connections up"] == examples
    assert tally.checks["valid frames reach the viewer"] == tally.checks["metrics 200"] == 1
    assert tally.checks["DELETE whip 200"] == tally.checks["DELETE whep 200"] == 1


def test_rtp_from_the_publisher(fuzz_server: FuzzServer) -> None:
    tally = fuzz_publisher_rtp(fuzz_server, 160, 1601)
    assert_unhurt(tally, 160)
    for answer in ("forwarded", "dropped: authentic, not forwarded", "not authentic (raw)"):
        assert tally.answers[answer] > 0, (answer, tally.answers)
    for effect in ("datagrams dropped as malformed", "numbering restarts"):
        assert tally.effects[effect] > 0, (effect, tally.effects)


@pytest.mark.parametrize(
    ("fuzz", "effect"),
    [
        (fuzz_publisher_rtcp, None),
        (fuzz_viewer_rtcp, "packets retransmitted"),
    ],
    ids=["publisher", "viewer"],
)
def test_rtcp_from_a_connected_peer(
    fuzz_server: FuzzServer, fuzz: Fuzz, effect: str | None
) -> None:
    tally = fuzz(fuzz_server, 120, 1602)
    assert_unhurt(tally, 120)
    for answer in ("parsed", "refused by the parser", "not authentic"):
        assert tally.answers[answer] > 0, (answer, tally.answers)
    if effect is not None:
        assert tally.effects[effect] > 0, tally.effects

"""The bounded fuzz run of the test command: every HTTP route, the socket, and the SDP
entries, a few hundred inputs each against the real app (``bench/fuzz.py`` runs them
long). None may answer 5xx, hang, log an error, or change the store when refusing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.fuzz import http_api, sdp, websocket
from tests.fuzz.harness import FuzzServer, Tally

SEED = 20261204


def accepted(tally: Tally) -> int:
    return sum(
        n for answer, n in tally.answers.items() if answer[:1] in "12" and "error" not in answer
    )


def refused(tally: Tally) -> int:
    return sum(n for answer, n in tally.answers.items() if answer[:1] == "4" or " error " in answer)


@pytest.mark.parametrize(
    ("fuzz", "examples"),
    [
        (http_api.fuzz_http, 600),
        (websocket.fuzz_websocket, 200),
        (sdp.fuzz_whip_offers, 120),
        (sdp.fuzz_whep_offers, 120),
        (sdp.fuzz_trickle, 120),
    ],
    ids=["http", "websocket", "whip", "whep", "trickle"],
)
def test_no_input_gets_a_server_error(
    fuzz_server: FuzzServer, fuzz: Callable[[FuzzServer, int, int], Tally], examples: int
) -> None:
    tally = fuzz(fuzz_server, examples, SEED)
    assert tally.failures == [], tally.failures[:5]
    assert tally.inputs >= examples
    assert accepted(tally) > examples // 20, f"too few valid inputs: {tally.answers}"
    assert refused(tally) > examples // 50, f"too few hostile inputs: {tally.answers}"

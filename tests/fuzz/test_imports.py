"""The import entries fuzzed with a small budget: programme imports (frab XML, pretalx JSON,
as ``plenaria programme import`` runs them) and registration CSV (the API and the
organisers' form). Nothing hostile may become a 500 or a hang, a refusal (or a dry run) may
not change the store, and each strategy must still make both valid and refused inputs."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from server.keys import STORE
from tests.fuzz.harness import FuzzServer, Tally
from tests.fuzz.imports import (
    ENTRIES,
    fuzz_frab_import,
    fuzz_pretalx_import,
    fuzz_registrations_api,
    fuzz_registrations_form,
)

EXAMPLES = 80
SEED = 20260511

# aiohttp 3.14's request.post() raises on a file part cut short without closing the part's
# SpooledTemporaryFile; CPython closes it as the exception is dropped, with this warning.
unclosed_upload = pytest.mark.filterwarnings("ignore:Unclosed file:ResourceWarning")
# Some exports are over 1 MiB, which aiohttp's client would rather stream than send whole.
large_bodies = pytest.mark.filterwarnings("ignore:Sending a large body directly:ResourceWarning")
# A body cut inside a part's Content-Disposition: aiohttp warns and reads the part as it can
# (a warning the test command alone makes an error).
cut_header = pytest.mark.filterwarnings("ignore::aiohttp.multipart.BadContentDispositionHeader")
cut_param = pytest.mark.filterwarnings("ignore::aiohttp.multipart.BadContentDispositionParam")


def share(tally: Tally, status: str) -> float:
    """The share of the inputs answered with a status starting ``status`` (follow-up
    requests, noted ``then …``, are not inputs)."""
    answered = sum(n for answer, n in tally.answers.items() if answer.startswith(status))
    return answered / max(tally.inputs, 1)


def assert_sound(tally: Tally, examples: int) -> None:
    assert not tally.failures, "\n".join(tally.failures[:5])
    assert tally.inputs >= examples
    assert 0.2 <= share(tally, "2") <= 0.8, f"valid inputs: {tally.answers}"
    assert share(tally, "4") >= 0.2, f"hostile inputs: {tally.answers}"


@pytest.mark.parametrize("fuzz", [fuzz_frab_import, fuzz_pretalx_import], ids=["frab", "pretalx"])
def test_programme_imports(
    fuzz_server: FuzzServer, fuzz: Callable[[FuzzServer, int, int], Tally]
) -> None:
    before = fuzz_server.run(fuzz_server.fingerprint())

    tally = fuzz(fuzz_server, EXAMPLES, SEED)

    assert_sound(tally, EXAMPLES)
    assert tally.answers["422 schedule.malformed"] > 0
    assert tally.answers["then 200"] > 0  # pages shown for what was imported
    # The conference's own programme is back for whatever runs next on the server.
    assert fuzz_server.run(fuzz_server.fingerprint()) == before


@large_bodies
def test_registrations_api(fuzz_server: FuzzServer) -> None:
    tally = fuzz_registrations_api(fuzz_server, EXAMPLES, SEED)

    assert_sound(tally, EXAMPLES)
    assert tally.answers["422 registrations.invalid_csv"] > 0
    assert tally.answers["403 auth.forbidden"] > 0
    # The registrations as they were, for whatever runs next on the server.
    assert fuzz_server.run(fuzz_server.app[STORE].list_registrations()) == []


@unclosed_upload
@large_bodies
@cut_header
@cut_param
def test_registrations_form(fuzz_server: FuzzServer) -> None:
    tally = fuzz_registrations_form(fuzz_server, EXAMPLES, SEED)

    assert_sound(tally, EXAMPLES)
    assert tally.answers["422"] > 0 and tally.answers["403"] > 0  # pages: no error codes


def test_every_entry_is_listed() -> None:
    assert {entry.fuzz for entry in ENTRIES} == {
        fuzz_frab_import,
        fuzz_pretalx_import,
        fuzz_registrations_api,
        fuzz_registrations_form,
    }

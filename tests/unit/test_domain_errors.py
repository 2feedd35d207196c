"""Refusals carry why they refuse (their kind), and the HTTP edge answers every domain's
by that kind alone: a new ``*_empty`` code of any domain is a 422, not a 409 by default."""

from __future__ import annotations

import datetime as dt
from typing import get_args

import pytest

from recordings.archive import ArchiveError
from server.http.middleware import REFUSAL_STATUS
from sessions.breakouts import BreakoutError
from sessions.domain_errors import DomainError, ErrorKind, clean_text, within_rate
from sessions.qa import QAError
from sessions.ratelimit import SlidingWindow

NOW = dt.datetime(2026, 12, 4, 9, tzinfo=dt.UTC)


def test_every_kind_has_one_status() -> None:
    assert set(REFUSAL_STATUS) == set(get_args(ErrorKind))
    assert REFUSAL_STATUS == {
        "invalid": 422,
        "not_found": 404,
        "conflict": 409,
        "rate_limited": 429,
    }


@pytest.mark.parametrize("error", [QAError, BreakoutError, ArchiveError])
@pytest.mark.parametrize(
    ("raw", "code", "kind"),
    [("   ", "label_empty", "invalid"), ("x" * 11, "label_too_long", "invalid"),
     ("a\x07b", "label_invalid", "invalid")],
)  # fmt: skip
def test_text_checks_refuse_as_invalid_in_every_domain(
    error: type[DomainError], raw: str, code: str, kind: str
) -> None:
    with pytest.raises(error) as refused:
        clean_text(raw, 10, "label", error)
    assert (refused.value.code, refused.value.kind) == (f"{error.scope}.{code}", kind)


def test_too_often_is_rate_limited_and_a_plain_refusal_is_a_conflict() -> None:
    window = SlidingWindow(1, dt.timedelta(minutes=1))
    within_rate(window, "ann", NOW, "questions", QAError)
    with pytest.raises(QAError) as refused:
        within_rate(window, "ann", NOW, "questions", QAError)
    assert (refused.value.code, refused.value.kind) == ("qa.rate_limited", "rate_limited")
    assert BreakoutError("breakouts.wrong_phase", "Not now.").kind == "conflict"

"""What the domains share: refusals with stable codes, and the checks that make them."""

from __future__ import annotations

import datetime as dt
import re
from typing import ClassVar, Literal

from sessions.ratelimit import SlidingWindow

ErrorKind = Literal["invalid", "not_found", "conflict", "rate_limited"]
"""Why a command is refused, which is all the HTTP edge needs to answer it: the command is
malformed (422), names something that does not exist (404), does not fit the state as it is
(409), or comes too often (429)."""


class DomainError(Exception):
    """A command that cannot be applied; ``code`` (``<scope>.<reason>``) is stable for
    clients, ``kind`` says why."""

    scope: ClassVar[str] = "domain"

    def __init__(self, code: str, message: str, kind: ErrorKind = "conflict") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.kind: ErrorKind = kind


def within_rate(
    window: SlidingWindow, who: str, now: dt.datetime, what: str, error: type[DomainError]
) -> None:
    if not window.allow(who, now):
        raise error(
            f"{error.scope}.rate_limited",
            f"At most {window.limit} {what} a minute; wait a moment.",
            "rate_limited",
        )


def clean_text(
    raw: str, limit: int, what: str, error: type[DomainError], *, multiline: bool = True
) -> str:
    """``raw`` with runs of spaces collapsed (and of blank lines, when ``multiline``);
    refused when empty, longer than ``limit`` or holding control characters."""
    if multiline:
        text = "\n".join(" ".join(line.split()) for line in raw.strip().splitlines()).strip()
        while "\n\n\n" in text:
            text = text.replace("\n\n\n", "\n\n")
    else:
        text = " ".join(raw.split())
    label, code = what.replace("_", " "), f"{error.scope}.{what}"
    if not text:
        raise error(f"{code}_empty", f"The {label} is empty.", "invalid")
    if len(text) > limit:
        raise error(f"{code}_too_long", f"A {label} has at most {limit} characters.", "invalid")
    if any(not (ch.isprintable() or ch == "\n") for ch in text):
        raise error(f"{code}_invalid", f"The {label} contains control characters.", "invalid")
    return text


LANGUAGE = re.compile(r"[a-z]{2,3}")


def clean_language(raw: str, error: type[DomainError]) -> str:
    """A language as a lower-case ISO 639 code ("fr", "ase"); refused otherwise."""
    code = raw.strip().lower()
    if not LANGUAGE.fullmatch(code):
        raise error(
            f"{error.scope}.language_invalid",
            f"{raw[:20]!r} is not a language: give a two- or three-letter code.",
            "invalid",
        )
    return code

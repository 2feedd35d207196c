"""Which language a reader gets, and dates, times and numbers as each locale writes them."""

from __future__ import annotations

import datetime as dt

import pytest

from web import i18n


@pytest.mark.parametrize(
    ("chosen", "accept", "expected"),
    [
        ("fr", "de", "fr"),  # the reader's own choice first
        (None, "de-AT,de;q=0.9,en;q=0.5", "de"),
        (None, "pt-BR, es;q=0.4, ru;q=0.6", "ru"),  # by quality, skipping what we lack
        (None, "zh, ja;q=0.8", "en"),
        (None, None, "en"),
        ("klingon", "it", "it"),  # a choice we do not have does not count
        ("ES", None, "es"),
        ("fr_CH", None, "fr"),
        (None, "fr;q=0, de;q=0.1", "de"),  # q=0 means not this one
        (None, "fr;q=abc, es", "es"),  # a malformed quality counts as 0
    ],
)
def test_the_reader_gets_their_choice_else_their_browsers_else_english(
    chosen: str | None, accept: str | None, expected: str
) -> None:
    assert i18n.negotiate(chosen, accept) == expected


def test_hostile_language_headers_fall_back_to_english() -> None:
    assert i18n.from_accept_language(",;;q=,=;" * 1000) is None
    assert i18n.supported("../../etc/passwd") is None
    assert i18n.supported("x" * 10_000) is None


def test_every_language_is_named_in_itself() -> None:
    names = {language.code: language.name for language in i18n.languages()}
    assert names == {
        "en": "English",
        "fr": "Français",
        "de": "Deutsch",
        "it": "Italiano",
        "ru": "Русский",
        "es": "Español",
    }


MOMENT = dt.datetime(2026, 5, 11, 14, 5, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("code", "clock", "long_date"),
    [
        ("en", "2:05\u202fPM", "Monday, May 11, 2026"),
        ("fr", "14:05", "lundi 11 mai 2026"),
        ("de", "14:05", "Montag, 11. Mai 2026"),
        ("ru", "14:05", "понедельник, 11 мая 2026\u202fг."),
    ],
)
def test_moments_are_written_as_the_locale_writes_them(
    code: str, clock: str, long_date: str
) -> None:
    localizer = i18n.localizer(code)
    assert localizer.clock(MOMENT) == clock
    assert localizer.long_date(MOMENT.date()) == long_date
    assert i18n.localizer(code).number(1234.5) in {
        "1,234.5",
        "1\u202f234,5",
        "1.234,5",
        "1\xa0234,5",
    }


def test_plural_categories_follow_the_po_files_order() -> None:
    assert i18n.plural_categories("en") == ["one", "other"]
    assert i18n.plural_categories("ru") == ["one", "few", "many", "other"]
    assert i18n.plural_categories("fr") == ["one", "many", "other"]

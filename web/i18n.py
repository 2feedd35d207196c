"""The interface's languages: which one a reader gets, the gettext catalogs, and dates, times
and numbers written the way that locale writes them.

Catalogs are gettext ``.po`` files under ``web/locale/<lang>/LC_MESSAGES/``: ``messages.po``
for the templates and the Python code, ``js.po`` for the ES modules (served to them as JSON).
English is the source language: its strings are the msgids, so it needs no catalog. The
``.po`` files are read as they are at start-up (no compile step); ``scripts/i18n.py`` extracts
new strings and merges them into every catalog, and a test fails on any string missing from
one.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import gettext
import io
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from babel import Locale, UnknownLocaleError, dates, numbers
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

SOURCE_LOCALE = "en"
LOCALES: tuple[str, ...] = ("en", "fr", "de", "it", "ru", "es")
"""The interface's languages, the source first; the switcher lists them in this order."""
DOMAINS = ("messages", "js")


@dataclass(frozen=True, slots=True)
class Language:
    code: str
    name: str
    """The language's name in itself ("Français"), as a switcher shows it."""


def languages() -> tuple[Language, ...]:
    return tuple(Language(code, _own_name(code)) for code in LOCALES)


def _own_name(code: str) -> str:
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


def language_name(code: str, in_locale: str) -> str:
    """A language's name as ``in_locale`` writes it ("French", "français")."""
    try:
        return Locale.parse(code).get_display_name(in_locale) or code
    except (ValueError, UnknownLocaleError):
        return code


def supported(code: str | None) -> str | None:
    """``code`` ("fr", "fr-CA", "FR_ch") as one of :data:`LOCALES`, or None."""
    if not code:
        return None
    try:
        language = Locale.parse(code.strip().replace("-", "_")).language
    except (ValueError, UnknownLocaleError):
        return None
    return language if language in LOCALES else None


def from_accept_language(header: str | None) -> str | None:
    """The reader's most preferred language we have, by RFC 9110 quality values."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:32]):
        tag, _, parameters = part.strip().partition(";")
        quality = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0 and (code := supported(tag)):
            ranked.append((-quality, position, code))
    return min(ranked)[2] if ranked else None


def negotiate(chosen: str | None, accept_language: str | None) -> str:
    """The reader's own choice when we have it, else their browser's, else English."""
    return supported(chosen) or from_accept_language(accept_language) or SOURCE_LOCALE


def _locale_dir() -> resources.abc.Traversable:
    return resources.files("web") / "locale"


@cache
def catalog(code: str, domain: str) -> Catalog | None:
    """The ``.po`` catalog of ``domain`` in ``code`` as it is on disk (None for English or
    one not written yet)."""
    if code == SOURCE_LOCALE:
        return None
    path = _locale_dir() / code / "LC_MESSAGES" / f"{domain}.po"
    if not path.is_file():
        return None
    with path.open("rb") as po:
        return read_po(po, locale=code, domain=domain)


@cache
def translations(code: str) -> gettext.NullTranslations:
    """The templates' and Python code's translations into ``code``."""
    messages = catalog(code, "messages")
    if messages is None:
        return gettext.NullTranslations()
    compiled = io.BytesIO()
    write_mo(compiled, messages, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


PLURAL_KEY = ""
"""The key under which :func:`js_messages` lists the locale's plural categories."""
_CLDR_ORDER = ("zero", "one", "two", "few", "many", "other")


def plural_categories(code: str) -> list[str]:
    """The CLDR plural categories (Intl.PluralRules' names) in the order a ``.po`` file's
    plural forms take them (Babel writes Plural-Forms in this order, "other" last)."""
    tags = Locale.parse(code).plural_form.tags
    return [tag for tag in _CLDR_ORDER if tag in tags or tag == "other"]


@cache
def js_messages(code: str) -> dict[str, str | list[str]]:
    """What the ES modules' ``t()`` and ``nt()`` look up, for ``code``: msgid → text, or for
    plural forms the singular msgid → the forms in the locale's order; under
    :data:`PLURAL_KEY` the plural categories in that order."""
    messages = catalog(code, "js")
    if messages is None:
        return {}
    found: dict[str, str | list[str]] = {PLURAL_KEY: plural_categories(code)}
    for message in messages:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, tuple):
            forms = [str(form) for form in message.string or ()]
            if all(forms):
                found[str(message.id[0])] = forms
        elif message.string:
            found[str(message.id)] = str(message.string)
    return found


@dataclass(frozen=True, slots=True)
class Localizer:
    """One reader's language: their translations and how their locale writes moments."""

    code: str
    zone: dt.tzinfo = field(default=dt.UTC)

    @property
    def _translations(self) -> gettext.NullTranslations:
        return translations(self.code)

    def gettext(self, message: str, **values: object) -> str:
        """``message`` in this language, its ``%(name)s`` filled from ``values`` (the style
        the templates' ``_()`` and ``{% trans %}`` use too)."""
        text = self._translations.gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, count: int, **values: object) -> str:
        text = self._translations.ngettext(singular, plural, count)
        return text % {"num": count, **values}

    def clock(self, moment: dt.datetime | dt.time) -> str:
        """A time of day ("14:05", "2:05 PM")."""
        return dates.format_time(moment, "short", locale=self.code)

    def long_date(self, day: dt.date) -> str:
        """A day in full ("Monday, 11 May 2026", "lundi 11 mai 2026")."""
        return dates.format_date(day, "full", locale=self.code)

    def short_day(self, day: dt.date) -> str:
        """A day in few letters ("Mon 11 May", "lun. 11 mai")."""
        return dates.format_skeleton("MMMEd", day, locale=self.code)

    def date_time(self, moment: dt.datetime) -> str:
        return dates.format_datetime(moment, "medium", locale=self.code)

    def number(self, value: float) -> str:
        return numbers.format_decimal(value, locale=self.code)


def marked(message: str) -> str:
    """``message`` as it is, marked for extraction: imported as ``_`` where a constant or an
    error's message is written, it is translated where it is shown (``current().gettext``)."""
    return message


@cache
def localizer(code: str) -> Localizer:
    return Localizer(supported(code) or SOURCE_LOCALE)


_current: contextvars.ContextVar[Localizer | None] = contextvars.ContextVar(
    "plenaria_localizer", default=None
)


def current() -> Localizer:
    """The language of the request being answered (set by the server's language middleware
    for the request's task; English outside a request)."""
    return _current.get() or localizer(SOURCE_LOCALE)


def use(code: str) -> contextvars.Token[Localizer | None]:
    return _current.set(localizer(code))


def stop_using(token: contextvars.Token[Localizer | None]) -> None:
    _current.reset(token)

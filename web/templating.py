"""The jinja2 environment: templates from this package, autoescaped, translated into the
request's language (``_()``, ``ngettext()`` and ``{% trans %}``, newstyle: ``%(name)s``
placeholders, values escaped) with time filters written as that language writes them."""

from __future__ import annotations

import datetime as dt

import aiohttp_jinja2
import jinja2
from aiohttp import web
from babel import numbers
from markupsafe import Markup, escape

from web import i18n


def clock(value: dt.datetime) -> str:
    return i18n.current().clock(value)


def long_date(value: dt.date) -> str:
    return i18n.current().long_date(value)


def short_day(value: dt.date) -> str:
    return i18n.current().short_day(value)


def _gettext(message: str) -> str:
    return i18n.current().gettext(message)


def _ngettext(singular: str, plural: str, count: int) -> str:
    return i18n.translations(i18n.current().code).ngettext(singular, plural, count)


def in_utc(value: str | dt.datetime) -> dt.datetime:
    """A moment (or its ISO 8601 text, as the views carry it) in UTC, for the time filters."""
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(dt.UTC)


def megabytes(size_bytes: int) -> str:
    """A file's size in MB, one decimal, as the reader's locale writes numbers."""
    return numbers.format_decimal(
        size_bytes / 1_000_000, format="#,##0.0", locale=i18n.current().code
    )


def minutes(value: dt.timedelta) -> int:
    return int(value.total_seconds() // 60)


def paragraphs(text: str) -> Markup:
    """Plain text from a schedule as escaped paragraphs; single newlines become line breaks."""
    blocks = [block.strip() for block in text.replace("\r\n", "\n").split("\n\n")]
    return Markup("\n").join(
        Markup("<p>{}</p>").format(Markup("<br>").join(escape(line) for line in block.split("\n")))
        for block in blocks
        if block
    )


def setup_templates(app: web.Application) -> jinja2.Environment:
    environment = aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("web", "templates"),
        autoescape=jinja2.select_autoescape(["html", "xml"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True
    )
    environment.filters.update(
        clock=clock,
        long_date=long_date,
        short_day=short_day,
        in_utc=in_utc,
        megabytes=megabytes,
        minutes=minutes,
        paragraphs=paragraphs,
    )
    return environment

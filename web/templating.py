"""The jinja2 environment: templates from this package, autoescaped, with time filters."""

from __future__ import annotations

import datetime as dt

import aiohttp_jinja2
import jinja2
from aiohttp import web
from markupsafe import Markup, escape


def clock(value: dt.datetime) -> str:
    return value.strftime("%H:%M")


def long_date(value: dt.date) -> str:
    return f"{value:%A}, {value.day} {value:%B %Y}"


def short_day(value: dt.date) -> str:
    return f"{value:%a} {value.day} {value:%b}"


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
    )
    environment.filters.update(
        clock=clock,
        long_date=long_date,
        short_day=short_day,
        minutes=minutes,
        paragraphs=paragraphs,
    )
    return environment

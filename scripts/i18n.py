"""The interface's catalogs: extract the strings to translate and merge them into each language.

    .venv/bin/python scripts/i18n.py update [DOMAIN]  # extract, merge into web/locale/*/…po
    .venv/bin/python scripts/i18n.py check    # what is missing or stale (exit 1 if anything)
    .venv/bin/python scripts/i18n.py fill DOMAIN FILE.json
        # write translations: {"English msgid": {"fr": "…", "de": "…", …}, …}; a plural
        # msgid's value per language is the list of its forms

Two domains: ``messages`` (templates: ``_()``, ``ngettext()``, ``{% trans %}``; Python:
``gettext()``/``ngettext()`` of ``web.i18n``) and ``js`` (the ES modules: ``t()``, ``nt()``).
New strings arrive in each ``.po`` untranslated; a translator fills them in. ``check`` (and the
test suite, through ``missing()``) fails on any string a catalog lacks, leaves empty or marks
fuzzy, and on a translation whose placeholders differ from its English.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = ROOT / "web" / "locale"

sys.path.insert(0, str(ROOT))
from web.i18n import LOCALES, SOURCE_LOCALE  # noqa: E402

TEMPLATE_KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}
JS_KEYWORDS = {"t": None, "nt": (1, 2)}


@dataclass(frozen=True)
class Source:
    directory: Path
    method_map: list[tuple[str, str]]
    keywords: dict[str, tuple[int, ...] | None]


SOURCES: dict[str, list[Source]] = {
    "messages": [
        Source(
            ROOT / "web" / "templates",
            [("**.html", "jinja2.ext:babel_extract")],
            TEMPLATE_KEYWORDS,
        ),
        Source(ROOT / "web", [("*.py", "python")], TEMPLATE_KEYWORDS),
        Source(ROOT / "server", [("**.py", "python")], TEMPLATE_KEYWORDS),
    ],
    "js": [
        Source(ROOT / "web" / "static" / "js", [("**.js", "javascript")], JS_KEYWORDS),
        Source(ROOT / "web" / "static" / "lib", [("**.js", "javascript")], JS_KEYWORDS),
    ],
}
OPTIONS = {
    "**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "false", "newstyle_gettext": "true"},
    # t() inside a Preact template's ${…} is inside a template string: read those too.
    "**.js": {"parse_template_string": "true"},
}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")


def extract(domain: str) -> Catalog:
    """Every string ``domain``'s sources mark for translation, as a template catalog."""
    template = Catalog(domain=domain, project="Plenaria", charset="utf-8")
    for source in SOURCES[domain]:
        for filename, line, message, comments, context in extract_from_dir(
            str(source.directory),
            method_map=source.method_map,
            options_map=OPTIONS,
            keywords=source.keywords,
            strip_comment_tags=True,
        ):
            place = (str((source.directory / filename).relative_to(ROOT)), line)
            template.add(message, None, [place], auto_comments=comments, context=context)
    return template


def po_path(code: str, domain: str) -> Path:
    return LOCALE_DIR / code / "LC_MESSAGES" / f"{domain}.po"


def read(code: str, domain: str) -> Catalog:
    path = po_path(code, domain)
    if not path.is_file():
        return Catalog(locale=code, domain=domain, project="Plenaria", charset="utf-8")
    with path.open("rb") as po:
        return read_po(po, locale=code, domain=domain)


def update(domains: list[str]) -> None:
    for domain in domains:
        template = extract(domain)
        for code in LOCALES:
            if code == SOURCE_LOCALE:
                continue
            catalog = read(code, domain)
            catalog.update(template, no_fuzzy_matching=True)
            path = po_path(code, domain)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as po:
                write_po(po, catalog, width=100, omit_header=False, ignore_obsolete=True)


def _placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


def _texts(message: Message) -> list[str]:
    string = message.string
    if isinstance(string, tuple | list):
        return [str(form) for form in string]
    return [str(string or "")]


def missing() -> Iterator[str]:
    """One line for each string some catalog lacks, leaves empty, marks fuzzy or translates
    with other placeholders than its English has."""
    for domain in SOURCES:
        template = extract(domain)
        for code in LOCALES:
            if code == SOURCE_LOCALE:
                continue
            catalog = read(code, domain)
            for wanted in template:
                if not wanted.id:
                    continue
                found = catalog.get(wanted.id, wanted.context)
                english = wanted.id if isinstance(wanted.id, tuple) else (wanted.id,)
                where = f"{code}/{domain}.po: {english[0]!r}"
                if found is None:
                    yield f"{where} is missing"
                elif found.fuzzy or not all(_texts(found)):
                    yield f"{where} is not translated"
                elif any(_placeholders(t) != _placeholders(english[0]) for t in _texts(found)):
                    yield f"{where} has other placeholders than the English"


def fill(domain: str, translations: dict[str, dict[str, str | list[str]]]) -> list[str]:
    """Write ``translations`` into ``domain``'s catalogs; the msgids none of them has."""
    unknown: set[str] = set()
    for code in LOCALES:
        if code == SOURCE_LOCALE:
            continue
        catalog = read(code, domain)
        for msgid, by_language in translations.items():
            message = catalog.get(msgid)
            if message is None:
                unknown.add(msgid)
                continue
            if code in by_language:
                text = by_language[code]
                message.string = tuple(text) if isinstance(text, list) else text
                message.flags.discard("fuzzy")
        with po_path(code, domain).open("wb") as po:
            write_po(po, catalog, width=100, omit_header=False, ignore_obsolete=True)
    return sorted(unknown)


def main(argv: list[str]) -> int:
    if argv[:1] == ["update"] and all(domain in SOURCES for domain in argv[1:]):
        update(argv[1:] or list(SOURCES))
        return 0
    if argv[:1] == ["fill"] and len(argv) == 3:
        unknown = fill(argv[1], json.loads(Path(argv[2]).read_text()))
        for msgid in unknown:
            print(f"not in the {argv[1]} catalogs (run update first?): {msgid!r}")
        return 1 if unknown else 0
    if argv[:1] == ["check"]:
        problems = list(missing())
        print("\n".join(problems) or "every catalog is complete")
        return 1 if problems else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

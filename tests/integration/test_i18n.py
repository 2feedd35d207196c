"""The interface's languages over HTTP: chosen, remembered, negotiated; and every catalog
complete."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

from aiohttp import web
from aiohttp.test_utils import TestClient

from server.http.language import LANGUAGE_COOKIE

Client = TestClient[web.Request, web.Application]
ROOT = Path(__file__).resolve().parents[2]


def catalog_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("i18n_tool", ROOT / "scripts" / "i18n.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_every_string_marked_for_translation_is_translated_in_every_catalog() -> None:
    problems = list(catalog_tool().missing())
    assert problems == [], "\n".join(problems[:40])


def messages_of(page: str) -> dict[str, object]:
    found = re.search(
        r'<script type="application/json" id="plenaria-messages">(.*?)</script>', page
    )
    assert found, "the page carries no catalog for its modules"
    decoded: dict[str, object] = json.loads(found[1])
    return decoded


async def test_a_page_in_the_readers_choice_remembered_by_a_cookie(client: Client) -> None:
    response = await client.get("/?lang=fr")
    page = await response.text()
    assert response.status == 200
    assert '<html lang="fr">' in page
    assert response.headers["Content-Language"] == "fr"
    assert "Accept-Language" in response.headers.getall("Vary", [""])[0]
    assert ">Aller au contenu<" in page and ">Archives<" in page
    assert '<option value="fr" lang="fr" selected>Français</option>' in page
    assert response.cookies[LANGUAGE_COOKIE].value == "fr"
    assert messages_of(page)[""] == ["one", "many", "other"]
    # The cookie is remembered by the client: the next page is French without asking.
    again = await client.get("/archive", headers={"Accept-Language": "de"})
    assert '<html lang="fr">' in await again.text()


async def test_without_a_choice_the_browsers_language_else_english(client: Client) -> None:
    german = await client.get("/", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.8"})
    page = await german.text()
    assert '<html lang="de">' in page and ">Zum Inhalt springen<" in page
    assert LANGUAGE_COOKIE not in german.cookies  # not chosen, so not remembered
    other = await client.get("/", headers={"Accept-Language": "ja"})
    assert '<html lang="en">' in await other.text()
    assert messages_of(await other.text()) == {}


async def test_an_unknown_language_is_ignored_and_errors_come_in_the_readers_language(
    client: Client,
) -> None:
    response = await client.get("/?lang=<script>")
    page = await response.text()
    assert response.status == 200
    assert '<html lang="en">' in page
    assert LANGUAGE_COOKIE not in response.cookies
    missing = await client.get("/nope?lang=ru", headers={"Accept": "text/html"})
    assert missing.status == 404
    assert '<html lang="ru">' in await missing.text()


async def test_the_switcher_keeps_the_rest_of_the_address(client: Client) -> None:
    page = await (await client.get("/archive?q=heat&lang=es")).text()
    switcher = page.split("data-language-switcher")[1].split("</form>")[0]
    assert '<input type="hidden" name="q" value="heat">' in switcher
    assert 'name="lang"' in switcher and 'value="es" lang="es" selected' in switcher

"""Every page in every language: no English interface string left.

Each page is rendered in English and in each other language. Every piece of text a reader
sees or hears (text nodes, and the aria-label, title, placeholder and alt attributes) is
compared: one that reads the same in both is English left over, unless it is

- content, not interface: inside an element that says its own language (``lang``, as the
  programme's titles and abstracts do) or that must not be translated (``translate="no"``:
  names, questions, chat, the conference's title);
- the same word in that language: its catalog translates it to itself ("Programme" in French);
- no words at all (times, numbers, punctuation) or a name everyone writes alike ("Plenaria").
"""

from __future__ import annotations

import html.parser
import re
from collections.abc import Iterable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from recordings.archive import RecordingProcessed, RecordingStarted, RecordingStopped
from server.keys import CLOCK, QA
from sessions import breakouts as br
from tests.integration.test_booths_http import interpreter
from tests.integration.test_captions import captioner
from tests.integration.test_qa_api import ANN, MOD, ask
from tests.integration.test_whip_whep import speaker
from web import i18n

Client = TestClient[web.Request, web.Application]

OTHER_LOCALES = [code for code in i18n.LOCALES if code != i18n.SOURCE_LOCALE]
SPOKEN_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt", "aria-description")
WORDS = re.compile(r"[^\W\d_]{2,}")
WRITTEN_ALIKE = {"Plenaria", "iCalendar", "CSV", "JSON", "WebVTT", "HLS", "WHIP", "WHEP", "OBS"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip


class ReaderText(html.parser.HTMLParser):
    """The interface text of a page: what is not marked as content of its own."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: set[str] = set()
        self._stack: list[bool] = []  # per open element: is it (inside) content?

    def _content(self) -> bool:
        return bool(self._stack) and self._stack[-1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        content = self._content() or tag in ("script", "style")
        if tag != "html" and ("lang" in found or found.get("translate") == "no"):
            content = True
        if not content:
            for name in SPOKEN_ATTRIBUTES:
                if value := found.get(name):
                    self._add(value)
        if tag not in VOID:
            self._stack.append(content)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if not self._content():
            self._add(data)

    def _add(self, text: str) -> None:
        text = " ".join(text.split())
        if text and WORDS.search(text) and text not in WRITTEN_ALIKE:
            self.texts.add(text)


def reader_text(page: str) -> set[str]:
    parser = ReaderText()
    parser.feed(page)
    return parser.texts


def same_in(code: str) -> set[str]:
    """The strings ``code``'s catalogs translate to themselves."""
    alike: set[str] = set()
    for domain in i18n.DOMAINS:
        catalog = i18n.catalog(code, domain)
        for message in catalog or ():
            if isinstance(message.id, str) and message.string == message.id:
                alike.add(message.id)
    return alike


ERROR_PAGES = {"/no-such-page": 404, "/login/not-a-token": 400}
"""The pages that are errors, and their statuses."""


async def pages(client: Client) -> Iterable[tuple[str, dict[str, str]]]:
    await ask(client, "Does shade beat paint?")
    qa = client.app[QA]
    now = client.app[CLOCK]()
    for command in (
        RecordingStarted("r1", "panel", "guid", "webm", "r1.webm"),
        RecordingStopped("r1"),
        RecordingProcessed("r1", 120.0, 1000),
    ):
        await qa.submit_command("panel", command, now)
    rooms = (br.RoomSpec("room-1", "Shade"), br.RoomSpec("room-2", "Roofs"))
    await qa.submit_command("panel", br.PlanRooms("id-mo", rooms, "manual"), now)
    await qa.submit_command("panel", br.Join("id-ann", "Ann"), now)
    await qa.submit_command("panel", br.Move("id-mo", "id-ann", "room-1"), now)
    await qa.submit_command("panel", br.Open("id-mo", 15), now)
    return [
        ("/archive/r1", {}),
        ("/sessions/panel/breakouts/room-1", ANN),
        ("/", {}),
        ("/sessions/panel", {}),
        ("/sessions/panel", ANN),
        ("/sessions/side", {}),  # upcoming
        ("/sessions/opening", {}),  # ended
        ("/sessions/panel/moderate", MOD),
        ("/sessions/panel/stage", MOD),
        ("/sessions/panel/studio", speaker()),
        ("/archive", {}),
        ("/no-such-page", {"Accept": "text/html"}),
        ("/login/not-a-token", {"Accept": "text/html"}),  # a sign-in link that is not valid
        ("/sessions/panel/captions/fr", captioner("fr")),
        ("/sessions/panel/booth/fr", interpreter("anne")),
    ]


@pytest.mark.parametrize("code", OTHER_LOCALES)
async def test_no_english_interface_string_is_left_in_any_page(client: Client, code: str) -> None:
    left: dict[str, set[str]] = {}
    for path, headers in await pages(client):
        english = await (await client.get(path, params={"lang": "en"}, headers=headers)).text()
        response = await client.get(path, params={"lang": code}, headers=headers)
        assert response.status == ERROR_PAGES.get(path, 200), path
        page = await response.text()
        untranslated = (reader_text(page) & reader_text(english)) - same_in(code)
        if f'<html lang="{code}">' not in page:
            untranslated.add(f'(no <html lang="{code}">)')
        if untranslated:
            left[path] = untranslated
    assert left == {}, "\n".join(f"{path}: {sorted(texts)}" for path, texts in left.items())

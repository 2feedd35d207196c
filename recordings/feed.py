"""The archive as an Atom feed (RFC 4287) with enclosures, for feed readers and podcast apps."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from xml.etree import ElementTree

ATOM = "http://www.w3.org/2005/Atom"
DUBLIN_CORE = "http://purl.org/dc/elements/1.1/"
ElementTree.register_namespace("dc", DUBLIN_CORE)


@dataclass(frozen=True, slots=True)
class FeedEntry:
    id: str
    title: str
    summary: str
    authors: tuple[str, ...]
    published: dt.datetime
    updated: dt.datetime
    page_url: str
    media_url: str
    media_type: str
    media_bytes: int
    languages: tuple[str, ...] = ()
    """The languages its audio tracks carry (the floor's, then each interpretation's)."""


def atom_feed(title: str, base_url: str, entries: list[FeedEntry], now: dt.datetime) -> str:
    feed = ElementTree.Element("feed", xmlns=ATOM)
    ElementTree.SubElement(feed, "title").text = title
    ElementTree.SubElement(feed, "id").text = f"{base_url}/feeds/recordings.atom"
    ElementTree.SubElement(feed, "link", rel="self", href=f"{base_url}/feeds/recordings.atom")
    ElementTree.SubElement(feed, "link", rel="alternate", href=f"{base_url}/archive")
    updated = max((entry.updated for entry in entries), default=now)
    ElementTree.SubElement(feed, "updated").text = updated.isoformat()
    for item in entries:
        entry = ElementTree.SubElement(feed, "entry")
        ElementTree.SubElement(entry, "title").text = item.title
        ElementTree.SubElement(entry, "id").text = f"urn:plenaria:recording:{item.id}"
        ElementTree.SubElement(entry, "updated").text = item.updated.isoformat()
        ElementTree.SubElement(entry, "published").text = item.published.isoformat()
        ElementTree.SubElement(entry, "link", rel="alternate", href=item.page_url)
        ElementTree.SubElement(
            entry,
            "link",
            rel="enclosure",
            href=item.media_url,
            type=item.media_type,
            length=str(item.media_bytes),
        )
        for name in item.authors:
            ElementTree.SubElement(ElementTree.SubElement(entry, "author"), "name").text = name
        for language in item.languages:
            ElementTree.SubElement(entry, f"{{{DUBLIN_CORE}}}language").text = language
        ElementTree.SubElement(entry, "summary").text = item.summary or item.title
    return ElementTree.tostring(feed, encoding="unicode", xml_declaration=True)

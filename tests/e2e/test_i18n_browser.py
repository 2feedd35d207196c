"""Real Chromium: the ES modules speak the page's language. A participant reads the session
page in French and a moderator the console in German: what the modules draw (the Q&A
connection, the character count, vote counts, the break-outs card and panel, the queue's
empty tab) comes from the js catalogs, and times are written as the locale writes them."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from sessions.demo import LIVE_PANEL_CODE
from sessions.qa import Ask, Moderate, Vote
from tests.e2e.conftest import Pages, Server
from tests.e2e.test_qa_browser import join, moderated, sign_in_moderator

pytestmark = pytest.mark.e2e

CODE = LIVE_PANEL_CODE
# "14:05" in French and German; English would write "02:05 PM".
TWENTY_FOUR_HOURS = re.compile(r"^\d{2}:\d{2}$")


async def test_the_session_page_in_french_and_the_console_in_german(
    server: Server, pages: Pages
) -> None:
    moderator = await pages.open()
    await sign_in_moderator(moderator, server)
    panel = moderator.locator("[data-bo-console]")
    await panel.get_by_role("button", name="Create the rooms").click()
    await expect(panel.locator("[data-bo-status]")).to_have_text(
        "2 rooms created. Participants can now take part."
    )
    await moderated(
        server,
        Ask("i18n-shade", "bob-id", "Bob", "Who pays for the shade?"),
        Moderate("i18n-shade", "mod", "approve"),
        Vote("i18n-shade", "v1"),
    )

    ann = await pages.open()
    await join(ann, server.url, "Ann Lefèvre")  # in English, as the other tests do
    await ann.goto(f"{server.url}/sessions/{CODE}?lang=fr")
    await expect(ann.locator("html")).to_have_attribute("lang", "fr")
    await expect(ann.locator("[data-qa-connection]")).to_have_text("En direct")
    await expect(ann.locator("[data-qa-count]")).to_have_text("500 caractères restants")
    question = ann.locator("[data-qa-list] li", has_text="Who pays for the shade?")
    await expect(question.locator(".vote-count")).to_have_text("1 vote")
    await expect(question.get_by_role("button", name="Soutenir")).to_be_visible()
    await expect(question.locator("time")).to_have_text(TWENTY_FOUR_HOURS)
    await ann.locator("[data-qa-text]").fill("Trop court ?")
    await expect(ann.locator("[data-qa-count]")).to_have_text("488 caractères restants")
    card = ann.locator("[data-breakouts-card]")
    await expect(card.locator("[data-breakouts-phase]")).to_have_text("À venir")
    await expect(card.locator("[data-breakouts-body]")).to_contain_text(
        "Les modérateurs ont prévu 2 salles pour des échanges en petits groupes."
    )
    await expect(card.get_by_role("button", name="Participer")).to_be_visible()
    await expect(card.locator(".bo-room-places").first).to_have_text("12 places libres")

    await moderator.goto(f"{server.url}/sessions/{CODE}/moderate?lang=de")
    await expect(moderator.locator("html")).to_have_attribute("lang", "de")
    await expect(moderator.locator("[data-qa-queue-empty]")).to_have_text(
        "Keine ausstehenden Fragen."
    )
    await moderator.locator('[role=tab][data-filter="visible"]').click()
    live = moderator.locator("article.mod-question", has_text="Who pays for the shade?")
    await expect(live.locator(".vote-count")).to_have_text("1 Stimme")
    await expect(live.get_by_role("button", name="Auf dem Bildschirm zeigen")).to_be_visible()
    await expect(live.locator("time")).to_have_text(TWENTY_FOUR_HOURS)
    await expect(moderator.locator('[data-count="visible"]')).to_have_text("1")
    panel = moderator.locator("[data-bo-console]")
    await expect(panel.locator("[data-bo-phase]")).to_have_text("Planung")
    await expect(panel.locator("[data-bo-plan-heading]")).to_have_text("Räume ändern")
    await expect(panel.get_by_label("Name von Raum 1")).to_have_value("Room 1")
    await panel.get_by_role("button", name="Raum hinzufügen").click()
    await expect(panel.get_by_label("Name von Raum 3")).to_have_value("Raum 3")

    await ann.get_by_role("button", name="Participer").click()
    await expect(panel.locator("[data-bo-pool]")).to_have_text("1 Person nimmt teil · 1 ohne Raum")
    assert pages.errors == []

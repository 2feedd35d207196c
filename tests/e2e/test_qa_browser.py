"""Real Chromium: a question travels from a participant through the moderator console to the
stage, and the pages resume after the server drops their sockets."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.async_api import (
    Page,
    expect,
)

from server.keys import HUB, LOGIN_LINKS, QA, STORE
from sessions.demo import LIVE_PANEL_CODE
from sessions.qa import Ask, Configure, Moderate, Vote
from sessions.roles import Role
from tests.e2e.conftest import Pages, Server

pytestmark = pytest.mark.e2e

CODE = LIVE_PANEL_CODE
HOSTILE = 'Safe? <script>window.pwned=1</script> <img src=x onerror="window.pwned=1">'


async def join(page: Page, base: str, name: str) -> None:
    await page.goto(f"{base}/sessions/{CODE}")
    await page.get_by_label("Display name").fill(name)
    await page.get_by_role("button", name="Join").click()
    await expect(page.locator(".identity")).to_contain_text(name)
    await expect(page.locator("[data-qa-connection]")).to_have_text("Live")


async def ask(page: Page, text: str) -> None:
    await page.get_by_role("textbox", name="Your question").fill(text)
    await page.get_by_role("button", name="Send question").click()
    await expect(page.locator("[data-qa-status]")).to_contain_text("once a moderator approves it")


async def sign_in_moderator(page: Page, server: Server) -> None:
    app = server.app
    token, _ = await app[LOGIN_LINKS].issue(
        app[STORE], Role.MODERATOR, CODE, dt.datetime.now(dt.UTC), dt.timedelta(hours=1)
    )
    await page.goto(f"{server.url}/login/{token}")
    await expect(page.get_by_role("heading", name="Sign in as moderator")).to_be_visible()
    await page.get_by_label("Display name").fill("Mo Moderator")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{server.url}/sessions/{CODE}/moderate")  # the console
    await expect(page.get_by_role("heading", name="Moderator console")).to_be_visible()
    await expect(page.locator(".identity")).to_contain_text("Mo Moderator")
    await expect(page.locator("[data-qa-connection]")).to_have_text("Live")


async def not_pwned(*pages: Page) -> None:
    for page in pages:
        assert await page.evaluate("typeof window.pwned") == "undefined"


async def test_a_question_from_the_audience_to_the_stage(server: Server, pages: Pages) -> None:
    ann = await pages.open()
    await join(ann, server.url, "Ann Asker")
    await ann.get_by_role("textbox", name="Your question").fill(HOSTILE)
    await expect(ann.locator("[data-qa-count]")).to_have_text(
        f"{500 - len(HOSTILE)} characters left"
    )
    await ask(ann, HOSTILE)
    own = ann.locator("[data-qa-own] li")
    await expect(own.locator(".question-text")).to_have_text(HOSTILE)
    await expect(own).to_contain_text("Waiting for a moderator")

    moderator = await pages.open()
    await sign_in_moderator(moderator, server)
    pending = moderator.locator("article.mod-question", has_text="Safe?")
    await expect(pending.locator(".question-text")).to_have_text(HOSTILE)
    await moderator.get_by_label("New note").press_sequentially("adx?")
    await expect(moderator.get_by_role("dialog")).to_be_hidden()
    await expect(moderator.locator('[data-count="pending"]')).to_have_text("1")
    await pending.focus()
    await moderator.keyboard.press("a")
    await expect(moderator.locator('[data-count="pending"]')).to_have_text("0")
    await expect(moderator.get_by_role("tab", name=re.compile("Live"))).to_contain_text("1")

    public = ann.locator("[data-qa-list] li", has_text="Safe?")
    await expect(public.locator(".question-text")).to_have_text(HOSTILE)
    await expect(own).to_have_count(0)
    await expect(public.locator(".vote-own")).to_have_text("Yours")

    bob = await pages.open()
    await join(bob, server.url, "Bob Voter")
    upvote = bob.locator("[data-qa-list] li", has_text="Safe?").get_by_role("button", name="Upvote")
    await expect(upvote).to_have_attribute("aria-pressed", "false")
    await upvote.click()
    await expect(upvote).to_have_attribute("aria-pressed", "true")
    await expect(public.locator(".vote-count")).to_have_text("1 vote")

    await moderator.get_by_role("tab", name=re.compile("Live")).click()
    live = moderator.locator("article.mod-question", has_text="Safe?")
    await expect(live.locator(".vote-count")).to_have_text("1 vote")

    stage = await pages.open()
    await stage.goto(f"{server.url}/sessions/{CODE}/stage")
    await expect(stage.get_by_role("heading", name="Ask your questions at")).to_be_visible()
    await expect(stage.locator("svg.qr-code")).to_be_visible()
    await live.focus()
    await moderator.keyboard.press("h")
    on_stage = stage.locator("[data-qa-text]")
    await expect(on_stage).to_have_text(HOSTILE)
    await expect(stage.locator("[data-qa-author]")).to_have_text("Ann Asker")
    await expect(stage.locator("[data-qa-votes]")).to_have_text("1 vote")
    assert float(await on_stage.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 32
    await expect(ann.locator("[data-qa-onscreen-text]")).to_have_text(HOSTILE)
    await expect(public.locator(".badge-onscreen")).to_have_text("On screen now")

    await not_pwned(ann, bob, moderator, stage)
    assert pages.errors == []


async def test_pages_resume_after_the_server_drops_their_sockets(
    server: Server, pages: Pages
) -> None:
    ann = await pages.open()
    await join(ann, server.url, "Ann Again")
    await ask(ann, "First, approved while the socket is down?")
    await ask(ann, "Second, approved after the page is back?")
    own = ann.locator("[data-qa-own] li")
    await expect(own).to_have_count(2)
    first_id = await own.nth(0).get_attribute("data-question-id")
    second_id = await own.nth(1).get_attribute("data-question-id")
    assert first_id and second_id
    await ann.evaluate("window.sameDocument = true")
    subscribes_before = len([frame for frame in pages.sent if '"since"' in frame])

    hub = server.app[HUB]
    dropped = list(hub.connections)
    assert dropped
    for connection in dropped:
        connection.drop()
    qa = server.app[QA]
    await qa.submit(CODE, Moderate(first_id, "mod", "approve"), dt.datetime.now(dt.UTC))

    public = ann.locator("[data-qa-list] .question-text")
    await expect(public).to_have_text(["First, approved while the socket is down?"])
    await expect(ann.locator("[data-qa-connection]")).to_have_text("Live")
    await qa.submit(CODE, Moderate(second_id, "mod", "approve"), dt.datetime.now(dt.UTC))
    await expect(public).to_have_count(2)
    await expect(own).to_have_count(0)

    assert await ann.evaluate("window.sameDocument") is True
    assert all(connection not in hub.connections for connection in dropped)
    resumed = [frame for frame in pages.sent if '"since"' in frame]
    assert len(resumed) > subscribes_before
    assert pages.errors == []


async def moderated(server: Server, *commands: Ask | Moderate | Vote | Configure) -> None:
    for command in commands:
        await server.app[QA].submit(CODE, command, dt.datetime.now(dt.UTC))


async def author_of(server: Server, pages: Pages, question: str) -> tuple[Page, str]:
    """Ann's page, where she just asked ``question``, and its id."""
    ann = await pages.open()
    await join(ann, server.url, "Ann Author")
    await ask(ann, question)
    question_id = await ann.locator("[data-qa-own] li").get_attribute("data-question-id")
    assert question_id
    return ann, question_id


MERGED_INTO_TREES = re.compile(r"^Merged into “Who pays for the trees, the .*…”$")
TREES = "Who pays for the trees, the shade and the fountains in the dense streets of the old town?"


async def test_an_author_sees_which_question_theirs_was_merged_into(
    server: Server, pages: Pages
) -> None:
    ann, duplicate = await author_of(server, pages, "Who pays for the trees?")

    await moderated(
        server,
        Ask("trees", "bob-id", "Bob", TREES),
        Moderate("trees", "mod", "approve"),
        Moderate(duplicate, "mod", "merge", into="trees"),
    )
    merged = ann.locator(f'[data-qa-own] li[data-question-id="{duplicate}"] .own-state')
    await expect(merged).to_have_text(MERGED_INTO_TREES)
    await expect(ann.locator("[data-qa-announce]")).to_contain_text("merged")
    await ann.reload()
    await expect(ann.locator("[data-qa-connection]")).to_have_text("Live")
    await expect(merged).to_have_text(MERGED_INTO_TREES)
    assert pages.errors == []


async def test_an_author_sees_that_a_moderator_edited_their_question(
    server: Server, pages: Pages
) -> None:
    ann, typo = await author_of(server, pages, "Waht about heat?")

    await moderated(
        server,
        Ask("trees", "bob-id", "Bob", TREES),
        Moderate("trees", "mod", "approve"),
        Moderate(typo, "mod", "approve"),
        Moderate(typo, "mod", "edit", text="What about heat?"),
    )
    public = ann.locator(f'[data-qa-list] li[data-question-id="{typo}"]')
    await expect(public.locator(".question-text")).to_have_text("What about heat?")
    await expect(public.locator(".badge-edited")).to_have_text("Edited by a moderator")
    await expect(ann.locator("[data-qa-announce]")).to_contain_text("A moderator edited")
    untouched = ann.locator('[data-qa-list] li[data-question-id="trees"]')
    await expect(untouched.locator(".question-text")).to_have_text(TREES)
    await expect(untouched.locator(".badge-edited")).to_have_count(0)
    await ann.reload()
    await expect(ann.locator("[data-qa-connection]")).to_have_text("Live")
    await expect(public.locator(".badge-edited")).to_have_text("Edited by a moderator")
    assert pages.errors == []


async def test_answered_questions_sink_below_unanswered_ones_in_most_votes(
    server: Server, pages: Pages
) -> None:
    await moderated(
        server,
        Configure("mod", moderation="post"),
        Ask("popular", "p-1", "Pia", "The popular one?"),
        Ask("second", "p-2", "Sam", "The second one?"),
        Ask("quiet", "p-3", "Quin", "The quiet one?"),
        *(Vote("popular", voter) for voter in ("v1", "v2", "v3")),
        Vote("second", "v1"),
    )
    viewer = await pages.open()
    await viewer.goto(f"{server.url}/sessions/{CODE}")
    texts = viewer.locator("[data-qa-list] .question-text")
    await expect(texts).to_have_text(["The popular one?", "The second one?", "The quiet one?"])

    await moderated(server, Moderate("popular", "mod", "answer"))
    answered = viewer.locator('[data-qa-list] li[data-question-id="popular"]')
    await expect(answered.locator(".badge-answered")).to_have_text("Answered")
    await expect(texts).to_have_text(["The second one?", "The quiet one?", "The popular one?"])
    await viewer.reload()
    await expect(viewer.locator("[data-qa-connection]")).to_have_text("Live")
    await expect(texts).to_have_text(["The second one?", "The quiet one?", "The popular one?"])
    assert pages.errors == []


async def test_the_connection_label_stops_saying_live_when_questions_close(
    server: Server, pages: Pages
) -> None:
    ann = await pages.open()
    await join(ann, server.url, "Ann Open")
    label = ann.locator("[data-qa-connection]")
    await expect(label).to_have_attribute("data-state", "live")

    await moderated(server, Configure("mod", open=False))
    await expect(ann.locator("[data-qa-closed]")).to_be_visible()
    await expect(label).to_have_text("Questions closed")
    await expect(label).not_to_have_attribute("data-state", "live")
    await ann.reload()
    await expect(label).to_have_text("Questions closed")
    await expect(label).not_to_have_attribute("data-state", "live")

    await moderated(server, Configure("mod", open=True))
    await expect(label).to_have_text("Live")
    await expect(label).to_have_attribute("data-state", "live")
    assert pages.errors == []

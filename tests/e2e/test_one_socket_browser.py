"""Real Chromium (issue 13, point 5): one WebSocket per tab, shared by every panel of a page.

The session page (player with its captions, Q&A, break-outs card) and the moderator console
(Q&A queue, break-outs, recordings, stream) each open exactly one socket and every panel
works through it. After the server drops the socket the page comes back on one socket again,
with one request per topic (however many panels follow it) that resumes from where they
were."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections import Counter

import pytest
from playwright.async_api import Page, WebSocket, expect

from server.keys import CLOCK, HUB, MEDIA, QA
from server.media.synthetic import start_synthetic_panel
from sessions import breakouts as br
from sessions.demo import LIVE_PANEL_CODE
from sessions.qa import Ask, Moderate
from tests.e2e.conftest import Pages, Server, page_until
from tests.e2e.test_qa_browser import ask, join, sign_in_moderator

pytestmark = pytest.mark.e2e

CODE = LIVE_PANEL_CODE
SETTLE_SECONDS = 1.5
"""How long a loaded page is given to open any further socket."""


class Sockets:
    """The WebSockets one page opens, with the subscriptions each sent.

    Each socket's frames go to its own list, captured when it opens: a frame the socket of
    the page before a reload sends after ``clear()`` lands in a list no longer counted."""

    def __init__(self, page: Page) -> None:
        self.opened: list[WebSocket] = []
        self.subscribed: list[list[dict[str, object]]] = []
        page.on("websocket", self.open)

    def open(self, socket: WebSocket) -> None:
        frames: list[dict[str, object]] = []
        self.opened.append(socket)
        self.subscribed.append(frames)
        socket.on("framesent", lambda frame: self.sent(frames, frame))

    @staticmethod
    def sent(frames: list[dict[str, object]], frame: str | bytes) -> None:
        verb, _, body = json.loads(frame if isinstance(frame, str) else frame.decode())
        if verb == "subscribe":
            frames.append(body)

    def clear(self) -> None:
        self.opened = []
        self.subscribed = []

    def topics(self, index: int) -> Counter[str]:
        return Counter(str(body["topic"]) for body in self.subscribed[index])

    def open_now(self) -> list[WebSocket]:
        return [socket for socket in self.opened if not socket.is_closed()]


async def one_socket(sockets: Sockets, topics: set[str]) -> None:
    """The page has settled on exactly one socket to /ws, carrying all of ``topics``.

    Panels that subscribe to a topic before the socket has its snapshot share one request;
    one that comes later asks for its own snapshot, so the count per topic is not checked
    here (the reconnect below checks it: one request per topic)."""
    await asyncio.sleep(SETTLE_SECONDS)
    urls = [socket.url for socket in sockets.opened]
    assert len(urls) == 1, f"expected one WebSocket, the page opened {len(urls)}: {urls}"
    assert urls[0].endswith("/ws")
    assert set(sockets.topics(0)) == topics


async def test_each_page_shares_one_socket_between_its_panels(server: Server, pages: Pages) -> None:
    app = server.app
    qa = app[QA]
    rooms = (br.RoomSpec("room-1", "Shade and water"), br.RoomSpec("room-2", "Cool roofs"))
    await qa.submit_command(CODE, br.PlanRooms("mod", rooms, "manual"), app[CLOCK]())

    ann = await pages.open()
    ann_sockets = Sockets(ann)
    await join(ann, server.url, "Ann Asker")
    ann_sockets.clear()
    await ann.reload()
    card = ann.locator("[data-breakouts-card]")
    await expect(ann.locator("[data-qa-connection]")).to_have_text("Live")
    await expect(card.locator("[data-breakouts-connection]")).to_have_attribute(
        "data-state", "live"
    )
    await expect(card).to_contain_text("Shade and water")
    await expect(ann.locator("[data-player-badge]")).to_have_text("Offline")
    me = await card.get_attribute("data-participant-id")
    assert me
    await one_socket(
        ann_sockets,
        {
            f"session:{CODE}:qa",
            f"participant:{me}",
            f"session:{CODE}:live",
            f"session:{CODE}:breakouts",
            f"session:{CODE}:captions",  # the player's captions
        },
    )

    moderator = await pages.open()
    mod_sockets = Sockets(moderator)
    await sign_in_moderator(moderator, server)
    mod_sockets.clear()
    await moderator.reload()
    await expect(moderator.locator("[data-qa-connection]")).to_have_text("Live")
    stream_state = moderator.locator("#stream-console [data-stream-console-state]")
    await expect(stream_state).to_have_text("Offline")
    bo_console = moderator.locator("[data-bo-console]")
    await expect(bo_console.get_by_label("Name of room 2")).to_have_value("Cool roofs")
    # The Q&A queue, the break-outs panel and the recordings share the moderation topic.
    await one_socket(
        mod_sockets,
        {f"session:{CODE}:moderation", f"session:{CODE}:breakouts", f"session:{CODE}:studio"},
    )

    # Q&A through both sockets: asked by Ann, approved in the console, public on her page.
    await ask(ann, "Does shade beat paint?")
    pending = moderator.locator("article.mod-question", has_text="Does shade beat paint?")
    await expect(pending).to_be_visible()
    await expect(moderator.locator('[data-count="pending"]')).to_have_text("1")
    await pending.focus()
    await moderator.keyboard.press("a")
    await expect(moderator.locator('[data-count="pending"]')).to_have_text("0")
    public = ann.locator("[data-qa-list] li", has_text="Does shade beat paint?")
    await expect(public.locator(".vote-own")).to_have_text("Yours")

    # Break-outs: Ann takes part (the console counts her), then a re-plan reaches her card.
    await card.get_by_role("button", name="Take part").click()
    await expect(card.locator("[data-breakouts-body]")).to_contain_text("You are taking part.")
    await expect(bo_console.locator("[data-bo-pool]")).to_contain_text("1 not in a room")
    renamed = (br.RoomSpec("room-1", "Trees first"), br.RoomSpec("room-2", "Cool roofs"))
    await qa.submit_command(CODE, br.PlanRooms("mod", renamed, "manual"), app[CLOCK]())
    await expect(card).to_contain_text("Trees first")

    # The stream: the player and the console's stream panel follow it on the same sockets.
    start_synthetic_panel(app[MEDIA], CODE, dt.datetime.now(dt.UTC))
    await expect(stream_state).to_have_text("Live")
    await expect(ann.locator("[data-player-badge]")).to_have_text("Live", timeout=15_000)

    # The server drops every socket: each page comes back on one socket, resuming its topics.
    await ask(ann, "Approved while the socket is down?")
    waiting = ann.locator("[data-qa-own] li", has_text="Approved while the socket is down?")
    question_id = await waiting.get_attribute("data-question-id")
    assert question_id
    await expect(moderator.locator('[data-count="pending"]')).to_have_text("1")
    dropped = list(app[HUB].connections)
    assert len(dropped) == 2  # one per page
    for connection in dropped:
        connection.drop()
    await qa.submit(CODE, Moderate(question_id, "mod", "approve"), dt.datetime.now(dt.UTC))
    await expect(
        ann.locator("[data-qa-list] li", has_text="Approved while the socket is down?")
    ).to_be_visible()
    await expect(moderator.locator('[data-count="pending"]')).to_have_text("0")
    await expect(ann.locator("[data-qa-connection]")).to_have_text("Live")
    await expect(moderator.locator("[data-qa-connection]")).to_have_text("Live")
    await asyncio.sleep(SETTLE_SECONDS)
    for sockets in (ann_sockets, mod_sockets):
        assert len(sockets.opened) == 2, [socket.url for socket in sockets.opened]
        assert len(sockets.open_now()) == 1
        again = sockets.subscribed[1]
        assert sockets.topics(1) == Counter(set(sockets.topics(0))), again  # once each
        assert all("since" in body for body in again), again
    assert len(app[HUB].connections) == 2
    assert pages.errors == []


LATE = """async ([topic, throws]) => {
  const { pageRealtime } = await import("/static/lib/realtime.js");
  window.late = { snapshots: 0, resumed: 0, events: [] };
  pageRealtime().subscribe(topic, {
    snapshot: () => { window.late.snapshots += 1; },
    resumed: () => { window.late.resumed += 1; },
    event: (changes) => {
      window.late.events.push(...changes.map((change) => change.type));
      if (throws) throw new Error("a panel that throws");
    },
  });
}"""


async def test_a_panel_joining_a_live_topic_later_gets_its_own_snapshot_and_resumes(
    server: Server, pages: Pages
) -> None:
    """A subscription made once the socket is open goes out at once on the same socket; a
    topic another panel already follows fans out to both; a panel that throws keeps the
    others from nothing; after a drop one request per topic resumes them all."""
    qa = server.app[QA]
    ann = await pages.open()
    sockets = Sockets(ann)
    await join(ann, server.url, "Ann Late")
    sockets.clear()
    await ann.reload()
    await expect(ann.locator("[data-qa-connection]")).to_have_text("Live")
    me = await ann.locator("[data-breakouts-card]").get_attribute("data-participant-id")
    topic = f"session:{CODE}:qa"
    await one_socket(
        sockets,
        {
            topic,
            f"participant:{me}",
            f"session:{CODE}:live",
            f"session:{CODE}:breakouts",
            f"session:{CODE}:captions",
        },
    )
    await ann.evaluate(LATE, [topic, True])
    await page_until(ann, "window.late.snapshots === 1", seconds=5)
    assert sockets.topics(0)[topic] == 2  # its own snapshot, asked for at once
    assert "since" not in sockets.subscribed[0][-1]

    now = dt.datetime.now(dt.UTC)
    await qa.submit(CODE, Ask("late-1", "bob-id", "Bob", "Shade or water first?"), now)
    await qa.submit(CODE, Moderate("late-1", "mod", "approve"), now)
    public = ann.locator("[data-qa-list] .question-text")
    await expect(public).to_have_text(["Shade or water first?"])
    await page_until(ann, "window.late.events.includes('question')", seconds=5)
    assert any("a panel that throws" in error for error in pages.errors), pages.errors
    pages.errors.clear()
    seen = await ann.evaluate("window.late.events.length")

    for connection in list(server.app[HUB].connections):
        connection.drop()
    await qa.submit(CODE, Ask("late-2", "bob-id", "Bob", "Who waters the trees?"), now)
    await qa.submit(CODE, Moderate("late-2", "mod", "approve"), now)
    await expect(public).to_have_count(2)
    await page_until(ann, f"window.late.events.length > {seen}", seconds=5)
    await expect(ann.locator("[data-qa-connection]")).to_have_text("Live")
    assert len(sockets.opened) == 2
    assert len(sockets.open_now()) == 1
    again = [body for body in sockets.subscribed[1] if body["topic"] == topic]
    assert len(again) == 1 and "since" in again[0], again  # one request resumes both panels
    assert await ann.evaluate("window.late.snapshots") == 1
    assert await ann.evaluate("window.late.resumed") == 1
    assert all("a panel that throws" in error for error in pages.errors), pages.errors

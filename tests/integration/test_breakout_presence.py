"""Break-out rounds deal only the people who are there (issue 12, point 2): a participant
whose page closed is marked offline after a grace, frees their seat, is not dealt into the
next rooms, and is back (in their seat) when their page reconnects."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from server.keys import CLOCK, PRESENCE, QA
from tests.integration.test_breakout_calls import PEOPLE, command
from tests.integration.test_qa_api import MOD, ask
from tests.integration.test_realtime import call, next_event
from web.breakout_views import breakouts_view

Client = TestClient[web.Request, web.Application]
TOPIC = {"topic": "session:panel:breakouts"}


async def until(client: Client, holds: Callable[[Any], bool], what: str) -> Any:
    """The break-out state once ``holds`` is true of it; fail after 5 s."""
    deadline = time.monotonic() + 5
    while not holds(rooms := client.app[QA].breakouts("panel")):
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.02)
        await client.app[QA].sync()
    return rooms


async def test_rounds_deal_only_people_whose_page_is_open(client: Client) -> None:
    client.app[PRESENCE].away_after = 0.2
    await command(client, "plan", MOD, rooms=[{"name": "Shade"}, {"name": "Water"}])
    ann = await client.ws_connect("/ws", headers=PEOPLE["ann"])
    assert (await call(ann, "subscribe", TOPIC))[0] == "ok"
    bob = await client.ws_connect("/ws", headers=PEOPLE["bob"])
    assert (await call(bob, "subscribe", TOPIC))[0] == "ok"
    for name in ("ann", "bob", "cyd"):  # cyd joins through the API alone: not known away
        await command(client, "join", PEOPLE[name])

    await bob.close()  # Bob closes the tab
    rooms = await until(client, lambda r: "id-bob" in r.away, "Bob is never marked away")
    snapshot = breakouts_view(rooms, client.app[CLOCK]())
    unassigned = {person.id: person.online for person in snapshot.unassigned}
    assert unassigned == {"id-ann": True, "id-bob": False, "id-cyd": True}

    await command(client, "assign", MOD, seed=5)
    await command(client, "open", MOD, minutes=10)
    rooms = await until(client, lambda r: r.phase == "open", "the rooms never opened")
    assert sorted(rooms.room_of) == ["id-ann", "id-cyd"], "Bob was not dealt a seat"

    # Ann's page reloads: a new socket within the grace keeps her seat
    seat = rooms.room_of["id-ann"]
    await ann.close()
    ann = await client.ws_connect("/ws", headers=PEOPLE["ann"])
    assert (await call(ann, "subscribe", TOPIC))[0] == "ok"
    client.app[PRESENCE].away_after = 30
    assert client.app[QA].breakouts("panel").room_of["id-ann"] == seat

    # Bob comes back: online again, and in the emptier room since the round is automatic
    bob = await client.ws_connect("/ws", headers=PEOPLE["bob"])
    assert (await call(bob, "subscribe", TOPIC))[0] == "ok"
    rooms = await until(client, lambda r: "id-bob" not in r.away, "Bob never came back")
    assert "id-bob" in rooms.room_of
    await ann.close()
    await bob.close()


async def test_a_help_request_on_the_moderators_topic_is_numbered_by_the_log(
    client: Client,
) -> None:
    """The moderators' topic is resumable and its frames carry the command log's sequence; a
    help frame numbered otherwise made the console drop every later question."""
    await command(client, "plan", MOD, rooms=[{"name": "Shade"}])
    await command(client, "join", PEOPLE["ann"])
    await command(client, "assign", MOD, seed=1)
    await command(client, "open", MOD, minutes=10)
    moderator = await client.ws_connect("/ws", headers=MOD)
    assert (await call(moderator, "subscribe", {"topic": "session:panel:moderation"}))[0] == "ok"
    await command(client, "help", PEOPLE["ann"])
    help_frame = await next_event(moderator, "session:panel:moderation")
    assert help_frame["changes"][0]["type"] == "help"
    assert help_frame["seq"] == client.app[QA].applied
    await ask(client)
    question = await next_event(moderator, "session:panel:moderation")
    assert question["seq"] > help_frame["seq"], "later frames keep coming in order"
    await moderator.close()

"""Q&A over HTTP: the flow, the authorisation matrix, validation and limits."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from server.app import create_app
from server.http.auth import bearer_codec
from server.keys import STORE
from sessions.roles import Identity, Role
from tests.helpers import SECRET, settings_for
from tests.integration.conftest import NOW, ClientFactory, conference, csrf_token

Client = TestClient[web.Request, web.Application]


def token(name: str, *moderates: str) -> dict[str, str]:
    identity = Identity(f"id-{name}", name.title())
    for code in moderates:
        identity = identity.with_role(code, Role.MODERATOR)
    value = bearer_codec(SECRET).dumps(identity, NOW + dt.timedelta(hours=1))
    return {"Authorization": f"Bearer {value}"}


ANN, BOB, MOD, OTHER_MOD = token("ann"), token("bob"), token("mo", "panel"), token("ol", "side")
NOBODY: dict[str, str] = {}


async def ask(client: Client, text: str = "What about heat?", who: dict[str, str] = ANN) -> str:
    response = await client.post("/api/sessions/panel/questions", json={"text": text}, headers=who)
    assert response.status == 201, await response.text()
    question_id: str = (await response.json())["question"]["id"]
    return question_id


async def moderate(client: Client, qid: str, action: str, **extra: Any) -> Any:
    response = await client.post(
        f"/api/questions/{qid}/moderation", json={"action": action, **extra}, headers=MOD
    )
    assert response.status == 200, await response.text()
    return await response.json()


async def listing(client: Client, who: dict[str, str], **query: str) -> Any:
    response = await client.get("/api/sessions/panel/questions", params=query, headers=who)
    assert response.status == 200, await response.text()
    return await response.json()


async def test_ask_approve_vote_highlight_answer(client: Client) -> None:
    qid = await ask(client)
    mine = await listing(client, ANN)
    assert mine["questions"] == []
    assert [q["id"] for q in mine["own"]] == [qid]
    assert mine["own"][0]["state"] == "pending"
    assert (await listing(client, BOB))["own"] == []

    await moderate(client, qid, "approve")
    public = await listing(client, BOB)
    assert [(q["id"], q["author"], q["votes"]) for q in public["questions"]] == [(qid, "Ann", 0)]

    vote = await client.post(f"/api/questions/{qid}/vote", headers=BOB)
    assert await vote.json() == {"question_id": qid, "votes": 1, "voted": True}
    assert (await listing(client, BOB))["questions"][0]["voted"] is True
    own_vote = await client.post(f"/api/questions/{qid}/vote", headers=ANN)
    assert own_vote.status == 409
    assert (await own_vote.json())["error"]["code"] == "qa.own_question"
    withdrawn = await client.delete(f"/api/questions/{qid}/vote", headers=BOB)
    assert (await withdrawn.json())["votes"] == 0

    highlighted = await moderate(client, qid, "highlight")
    assert highlighted["question"]["highlighted"] is True
    assert (await listing(client, BOB))["highlighted"] == qid
    answered = await moderate(client, qid, "answer")
    assert answered["question"]["state"] == "answered"
    assert (await listing(client, BOB))["highlighted"] is None


async def test_participant_by_cookie_with_csrf(client: Client) -> None:
    csrf = {"X-CSRF-Token": await csrf_token(client)}
    await client.post("/api/participants", json={"display_name": "Cookie Carl"}, headers=csrf)
    response = await client.post(
        "/api/sessions/panel/questions",
        json={"text": "<img src=x onerror=alert(1)>", "anonymous": True},
        headers=csrf,
    )
    assert response.status == 201
    question = (await response.json())["question"]
    assert question["author"] == "Anonymous"
    assert question["text"] == "<img src=x onerror=alert(1)>"
    no_csrf = await client.post("/api/sessions/panel/questions", json={"text": "again"})
    assert no_csrf.status == 403


async def moderator_requests(client: Client) -> list[tuple[str, str, dict[str, Any] | None]]:
    qid = await ask(client)
    other = await ask(client, "Duplicate?", who=BOB)
    actions: list[tuple[str, dict[str, Any]]] = [
        ("approve", {}),
        ("dismiss", {}),
        ("answer", {}),
        ("highlight", {}),
        ("unhighlight", {}),
        ("archive", {}),
        ("restore", {}),
        ("edit", {"text": "Edited"}),
        ("merge", {"into": other}),
        ("star", {}),
        ("unstar", {}),
        ("move", {"position": 1.5}),
    ]
    return [
        *[
            ("POST", f"/api/questions/{qid}/moderation", {"action": action, **extra})
            for action, extra in actions
        ],
        ("POST", "/api/sessions/panel/qa", {"open": False}),
        ("POST", "/api/sessions/panel/notes", {"text": "Take the next one"}),
        ("POST", "/api/sessions/panel/stream/broadcast", {"broadcast": True}),
        ("GET", "/api/sessions/panel/questions?view=moderation", None),
        ("GET", "/api/sessions/panel/questions/export.csv", None),
        ("GET", "/api/sessions/panel/questions/export.json", None),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        (NOBODY, 401, "auth.required"),
        (BOB, 403, "auth.forbidden"),
        (OTHER_MOD, 403, "auth.forbidden"),
    ],
)
async def test_every_moderator_route_refuses_others(
    client: Client, who: dict[str, str], status: int, code: str
) -> None:
    csrf = {"X-CSRF-Token": await csrf_token(client)}
    for method, path, body in await moderator_requests(client):
        response = await client.request(method, path, json=body, headers={**csrf, **who})
        assert response.status == status, (method, path, await response.text())
        assert (await response.json())["error"]["code"] == code


async def test_every_moderator_route_serves_the_moderator(client: Client) -> None:
    for method, path, body in await moderator_requests(client):
        response = await client.request(method, path, json=body, headers=MOD)
        assert response.status in (200, 201, 409), (method, path, await response.text())


async def test_invalid_bearer_token_is_a_401(client: Client) -> None:
    for header in ("Bearer nope", "Basic abc", "Bearer " + "x" * 5000):
        response = await client.get(
            "/api/sessions/panel/questions", headers={"Authorization": header}
        )
        assert response.status == 401
        assert (await response.json())["error"]["code"] == "auth.invalid_token"
    expired = bearer_codec(SECRET).dumps(Identity("x", "X"), NOW - dt.timedelta(seconds=1))
    response = await client.get(
        "/api/sessions/panel/questions", headers={"Authorization": f"Bearer {expired}"}
    )
    assert response.status == 401


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"text": ""}, 422, "qa.question_empty"),
        ({"text": "x" * 501}, 422, "qa.question_too_long"),
        ({"text": "ok", "addressed_to": "nobody"}, 422, "qa.speaker_unknown"),
        ({"text": "ok", "author_id": "spoof"}, 422, "request.invalid_field"),
        ({"text": 5}, 422, "request.invalid_field"),
        ([], 422, "request.invalid_field"),
    ],
)
async def test_questions_are_validated(
    client: Client, body: object, status: int, code: str
) -> None:
    response = await client.post("/api/sessions/panel/questions", json=body, headers=ANN)
    assert response.status == status
    assert (await response.json())["error"]["code"] == code


async def test_addressed_to_a_speaker_of_the_session(client: Client) -> None:
    response = await client.post(
        "/api/sessions/panel/questions", json={"text": "For Ada", "addressed_to": "s1"}, headers=ANN
    )
    assert (await response.json())["question"]["addressed_to"] == "s1"


async def test_unknown_things_are_404(client: Client) -> None:
    assert (await client.post("/api/questions/nope/vote", headers=BOB)).status == 404
    missing = await client.post("/api/sessions/nope/questions", json={"text": "x"}, headers=ANN)
    assert missing.status == 404
    bad_action = await client.post(
        f"/api/questions/{await ask(client)}/moderation", json={"action": "delete"}, headers=MOD
    )
    assert bad_action.status == 422


async def test_three_questions_a_minute(client: Client) -> None:
    for n in range(3):
        await ask(client, f"Question {n}")
    response = await client.post(
        "/api/sessions/panel/questions", json={"text": "One more"}, headers=ANN
    )
    assert response.status == 429
    assert (await response.json())["error"]["code"] == "qa.rate_limited"


async def test_closed_qa_and_post_moderation(client: Client) -> None:
    closed = await client.post("/api/sessions/panel/qa", json={"open": False}, headers=MOD)
    assert await closed.json() == {"open": False, "moderation": "pre"}
    refused = await client.post("/api/sessions/panel/questions", json={"text": "x"}, headers=ANN)
    assert (await refused.json())["error"]["code"] == "qa.closed"
    await client.post(
        "/api/sessions/panel/qa", json={"open": True, "moderation": "post"}, headers=MOD
    )
    qid = await ask(client)
    assert [q["id"] for q in (await listing(client, BOB))["questions"]] == [qid]


async def test_moderation_view_edit_history_notes_and_exports(client: Client) -> None:
    qid = await ask(client, '=HYPERLINK("http://evil")')
    await moderate(client, qid, "edit", text="What about heat?")
    added = await client.post("/api/sessions/panel/notes", json={"text": "Ask Lena"}, headers=MOD)
    assert (await added.json())["note"]["text"] == "Ask Lena"
    view = await listing(client, MOD, view="moderation")
    assert view["questions"][0]["history"][0]["text"] == '=HYPERLINK("http://evil")'
    assert [n["text"] for n in view["notes"]] == ["Ask Lena"]
    exported = await client.get("/api/sessions/panel/questions/export.json", headers=MOD)
    assert json.loads(await exported.text())["questions"][0]["text"] == "What about heat?"
    qid2 = await ask(client, "=cmd|' /C calc'!A0")
    csv_text = await (
        await client.get("/api/sessions/panel/questions/export.csv", headers=MOD)
    ).text()
    assert "'=cmd" in csv_text
    assert qid2 in csv_text


async def test_questions_survive_a_restart(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    async def load(app: web.Application) -> None:
        await app[STORE].replace_programme(conference(), NOW)

    first = create_app(settings_for(tmp_path), clock=lambda: NOW)
    first.on_startup.append(load)
    client = await aiohttp_client(first)
    qid = await ask(client)
    await moderate(client, qid, "approve")
    await client.post(f"/api/questions/{qid}/vote", headers=BOB)
    await client.close()

    second = create_app(settings_for(tmp_path), clock=lambda: NOW)
    client = await aiohttp_client(second)
    questions = (await listing(client, BOB))["questions"]
    assert [(q["id"], q["votes"], q["voted"]) for q in questions] == [(qid, 1, True)]


async def test_session_page_renders_the_queue_without_javascript(client: Client) -> None:
    qid = await ask(client, "Is <b>shade</b> a right?")
    await moderate(client, qid, "approve")
    page = await (await client.get("/sessions/panel", headers=BOB)).text()
    assert "Is &lt;b&gt;shade&lt;/b&gt; a right?" in page
    await moderate(client, qid, "highlight")
    page = await (await client.get("/sessions/panel", headers=BOB)).text()
    on_screen = page.split("data-qa-onscreen-text>")[1].split("</p>")[0]
    assert on_screen == "Is &lt;b&gt;shade&lt;/b&gt; a right?"


async def test_the_csv_export_writes_yes_or_no_for_every_boolean(client: Client) -> None:
    starred, plain = await ask(client, "Starred?"), await ask(client, "Plain?")
    await moderate(client, starred, "star")
    response = await client.get("/api/sessions/panel/questions/export.csv", headers=MOD)
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert {row["id"]: row["starred"] for row in rows} == {starred: "yes", plain: "no"}
    cells = {cell for row in rows for cell in row.values()}
    assert not cells & {"True", "False"}


TARGET = "Who pays for the trees, the shade and the fountains in the dense streets of the old town?"


async def test_authors_learn_what_moderators_did_to_their_questions(client: Client) -> None:
    target = await ask(client, TARGET, who=BOB)
    duplicate = await ask(client, "Who pays for the trees?")
    await moderate(client, target, "approve")
    await moderate(client, duplicate, "merge", into=target)
    [own] = (await listing(client, ANN))["own"]
    assert own["state"] == "archived"
    merged_into = own["merged_into_text"]
    assert merged_into.startswith("Who pays for the trees, the shade")
    assert merged_into.endswith("…")
    assert len(merged_into) <= 60
    page = await (await client.get("/sessions/panel", headers=ANN)).text()
    assert f'Merged into “<span translate="no">{merged_into}</span>”' in page

    assert (await listing(client, BOB))["questions"][0]["edited"] is False
    await moderate(client, target, "edit", text="Who pays for shade in the old town?")
    [edited] = (await listing(client, BOB))["questions"]
    assert edited["edited"] is True
    page = await (await client.get("/sessions/panel", headers=BOB)).text()
    assert "Edited by a moderator" in page

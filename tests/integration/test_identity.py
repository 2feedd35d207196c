"""Participants, one-time links, CSRF, and hostile input on every state-changing entry."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from server.http.auth import IDENTITY_COOKIE, LoginLinks
from server.keys import SETTINGS, STORE
from sessions.roles import Role
from tests.integration.conftest import NOW, csrf_token

Client = TestClient[web.Request, web.Application]


async def moderator_link(client: Client, code: str = "panel", hours: float = 1) -> str:
    app = client.app
    assert app is not None
    token, _ = await LoginLinks(app[SETTINGS].secret_key).issue(
        app[STORE], Role.MODERATOR, code, NOW, dt.timedelta(hours=hours)
    )
    return f"/login/{token}"


async def test_joining_sets_a_signed_identity_and_redirects_back(client: Client) -> None:
    token = await csrf_token(client, "/sessions/panel")
    response = await client.post(
        "/participants",
        data={"display_name": "  Ada  Lovelace ", "next": "/sessions/panel", "csrf_token": token},
        allow_redirects=False,
    )
    assert response.status == 303
    assert response.headers["Location"] == "/sessions/panel"
    cookie = response.cookies[IDENTITY_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    page = await (await client.get("/sessions/panel")).text()
    assert 'Signed in as <strong translate="no">Ada Lovelace</strong>' in page


async def test_join_refuses_open_redirects(client: Client) -> None:
    token = await csrf_token(client)
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = await client.post(
            "/participants",
            data={"display_name": "Ada", "next": target, "csrf_token": token},
            allow_redirects=False,
        )
        assert response.headers["Location"] == "/"


async def test_state_changes_without_a_csrf_token_are_refused(client: Client) -> None:
    await client.get("/")
    response = await client.post("/participants", data={"display_name": "Ada"})
    assert response.status == 403
    assert "did not come from this site" in await response.text()
    api = await client.post("/api/participants", json={"display_name": "Ada"})
    assert api.status == 403
    assert (await api.json())["error"]["code"] == "csrf.invalid"
    wrong = await client.post(
        "/api/participants", json={"display_name": "Ada"}, headers={"X-CSRF-Token": "0" * 64}
    )
    assert (await wrong.json())["error"]["code"] == "csrf.invalid"


async def test_cross_site_origin_is_refused_even_with_a_token(client: Client) -> None:
    token = await csrf_token(client)
    response = await client.post(
        "/api/participants",
        json={"display_name": "Ada"},
        headers={"X-CSRF-Token": token, "Origin": "https://evil.example"},
    )
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "csrf.origin"


async def test_json_join_and_its_validation(client: Client) -> None:
    token = await csrf_token(client)
    headers = {"X-CSRF-Token": token}
    ok = await client.post("/api/participants", json={"display_name": "Grace"}, headers=headers)
    assert ok.status == 201
    participant = (await ok.json())["participant"]
    assert participant["display_name"] == "Grace" and len(participant["id"]) >= 16

    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"data": "{nope"}, 400, "malformed_json"),
        ({"json": {"display_name": 5}}, 422, "invalid_field"),
        ({"json": {"display_name": "x", "admin": True}}, 422, "invalid_field"),
        ({"json": {}}, 422, "invalid_field"),
        ({"json": {"display_name": ""}}, 422, "participant.display_name"),
        ({"json": {"display_name": "x" * 100}}, 422, "participant.display_name"),
        ({"data": {"display_name": "x"}}, 415, "content_type"),
        ({"json": {"display_name": "x" * 20_000}}, 413, "too_large"),
    ]
    for kwargs, status, code in cases:
        sent = (
            {**headers, "Content-Type": "application/json"}
            if kwargs.get("data") == "{nope"
            else headers
        )
        response = await client.post("/api/participants", headers=sent, **kwargs)
        assert response.status == status, kwargs
        assert code in (await response.json())["error"]["code"]


async def test_oversized_form_is_a_413_not_a_500(client: Client) -> None:
    token = await csrf_token(client)
    response = await client.post(
        "/participants",
        data=io.BytesIO(b"display_name=" + b"x" * 3_000_000),
        headers={"X-CSRF-Token": token, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 413


async def test_moderator_link_works_once(client: Client) -> None:
    link = await moderator_link(client)
    form = await client.get(link)
    assert form.status == 200
    assert form.headers["Cache-Control"] == "no-store"
    assert form.headers["Referrer-Policy"] == "same-origin"
    assert "Sign in as moderator" in await form.text()
    token = await csrf_token(client, link)
    response = await client.post(
        link, data={"display_name": "Mo", "csrf_token": token}, allow_redirects=False
    )
    # a moderator lands on the console (a speaker on the studio)
    assert response.status == 303 and response.headers["Location"] == "/sessions/panel/moderate"
    page = await (await client.get("/sessions/panel")).text()
    assert "You are a <strong>moderator</strong> of this session." in page
    other = await (await client.get("/sessions/side")).text()
    assert "You are a <strong>moderator" not in other

    again = await client.post(link, data={"display_name": "Eve", "csrf_token": token})
    assert again.status == 410
    assert "already used" in await again.text()


async def test_tampered_and_expired_links_are_refused(client: Client) -> None:
    link = await moderator_link(client)
    tampered = link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb")
    assert (await client.get(tampered)).status == 400
    assert (await client.get("/login/" + "x" * 5000)).status == 400
    expired = await moderator_link(client, hours=-1)
    response = await client.get(expired)
    assert response.status == 410
    assert "expired" in await response.text()


async def test_forged_identity_cookie_is_anonymous(client: Client) -> None:
    client.session.cookie_jar.update_cookies({IDENTITY_COOKIE: "forged.value.sig"})
    page = await (await client.get("/")).text()
    assert "Watching anonymously" in page


async def test_logout_forgets_the_identity(client: Client) -> None:
    token = await csrf_token(client)
    await client.post("/participants", data={"display_name": "Ada", "csrf_token": token})
    assert "Signed in as" in await (await client.get("/")).text()
    await client.post("/logout", data={"csrf_token": token})
    assert "Watching anonymously" in await (await client.get("/")).text()


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_unknown_methods_answer_405_with_a_code(client: Client, method: str) -> None:
    token = await csrf_token(client)
    response = await client.request(method, "/api/programme", headers={"X-CSRF-Token": token})
    assert response.status == 405
    assert (await response.json())["error"]["code"] == "method.not_allowed"


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("application/x-www-form-urlencoded", b"display_name=\xff\xfe", 400),
        ("multipart/form-data; boundary=x", b"garbage", 400),
        ("application/x-www-form-urlencoded", b"display_name=%ZZ%ff", 303),
        (
            "multipart/form-data; boundary=x",
            b'--x\r\nContent-Disposition: form-data; name="display_name"; filename="a"\r\n\r\n'
            b"hello\r\n--x--\r\n",
            422,
        ),
    ],
)
async def test_malformed_forms_get_a_4xx_not_a_500(
    client: Client, content_type: str, body: bytes, status: int
) -> None:
    token = await csrf_token(client)
    response = await client.post(
        "/participants",
        data=body,
        headers={"Content-Type": content_type, "X-CSRF-Token": token},
        allow_redirects=False,
    )
    assert response.status == status


async def test_invalid_utf8_json_is_a_400(client: Client) -> None:
    token = await csrf_token(client)
    response = await client.post(
        "/api/participants",
        data=b'{"display_name": "\xff"}',
        headers={"Content-Type": "application/json", "X-CSRF-Token": token},
    )
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "request.malformed_json"

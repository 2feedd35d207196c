"""The Q&A pages over HTTP: who may open the console, the stage and its QR code, the panel on
the session page, and escaping of question text in what the server renders."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import aiohttp_jinja2
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from server.app import create_app
from server.keys import SETTINGS, STORE
from sessions.qa import Ask, Moderate, QASession, Vote
from sessions.roles import Identity
from tests.helpers import settings_for
from tests.integration.conftest import NOW, ClientFactory, conference
from tests.integration.test_qa_api import ANN, BOB, MOD, NOBODY, OTHER_MOD, ask, moderate
from web import i18n
from web.pages import session_page
from web.qa_views import participant_snapshot

Client = TestClient[web.Request, web.Application]

HOSTILE = '<script>window.pwned=1</script> <img src=x onerror="window.pwned=1">'
ESCAPED = (
    "&lt;script&gt;window.pwned=1&lt;/script&gt; &lt;img src=x onerror=&#34;window.pwned=1&#34;&gt;"
)
INLINE_SCRIPT = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*\btype=\"application/json\")", re.IGNORECASE
)
"""An inline script, which the CSP would refuse: not a module loaded by src, and not a JSON
data block (the modules' catalog), which browsers never run."""


@pytest.fixture
async def client(aiohttp_client: ClientFactory, tmp_path: Path) -> Client:
    app = create_app(settings_for(tmp_path), clock=lambda: NOW)

    async def load(app: web.Application) -> None:
        await app[STORE].replace_programme(conference(), NOW)

    app.on_startup.append(load)
    return await aiohttp_client(app)


def assert_csp_clean(page: str) -> None:
    """Nothing the Content-Security-Policy would block: no inline scripts or styles."""
    assert not INLINE_SCRIPT.search(page)
    assert "style=" not in page
    assert "<style" not in page


@pytest.mark.parametrize(
    ("who", "status", "message"),
    [
        (NOBODY, 401, "Sign in with your moderator link"),
        (BOB, 403, "Only this session&#39;s moderators"),
        (OTHER_MOD, 403, "Only this session&#39;s moderators"),
    ],
)
async def test_console_refuses_all_but_the_sessions_moderators(
    client: Client, who: dict[str, str], status: int, message: str
) -> None:
    response = await client.get("/sessions/panel/moderate", headers=who)
    assert response.status == status
    assert response.content_type == "text/html"
    assert message in await response.text()


async def test_console_for_a_moderator(client: Client) -> None:
    await ask(client, "Pending <b>one</b>")
    response = await client.get("/sessions/panel/moderate", headers=MOD)
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = await response.text()
    assert "<h1>Moderator console</h1>" in page
    assert 'data-qa-console data-session-code="panel"' in page
    assert '<script type="module" src="/static/js/qa-moderator.js"></script>' in page
    assert 'href="/static/css/qa.css"' in page
    assert 'href="/api/sessions/panel/questions/export.csv"' in page
    assert 'href="/api/sessions/panel/questions/export.json"' in page
    assert 'role="tab" id="tab-pending"' in page
    assert re.search(r'data-count="pending">1<', page)
    assert 'role="switch" data-qa-open checked' in page
    assert_csp_clean(page)
    unknown = await client.get("/sessions/nope/moderate", headers=MOD)
    assert unknown.status == 404


async def test_console_renders_notes_escaped(client: Client) -> None:
    response = await client.post("/api/sessions/panel/notes", json={"text": HOSTILE}, headers=MOD)
    assert response.status == 201
    page = await (await client.get("/sessions/panel/moderate", headers=MOD)).text()
    assert f'<p class="note-text">{ESCAPED}</p>' in page
    assert "<script>window" not in page


async def test_stage_is_public_with_a_qr_code_to_the_session(client: Client) -> None:
    response = await client.get("/sessions/panel/stage")
    assert response.status == 200
    page = await response.text()
    url = f"{client.app[SETTINGS].base_url}/sessions/panel#questions"
    shown = url.split("://")[1].split("#")[0]
    assert re.search(r'<svg viewBox="0 0 \d+ \d+" class="qr-code">', page)
    assert f"<title>QR code for {shown}</title>" in page
    assert f'<a href="{url}">' in page
    assert shown.replace("/", "/<wbr>") in page
    assert "Ask your questions at" in page
    assert "data-qa-question hidden" in page
    assert '<script type="module" src="/static/js/qa-stage.js"></script>' in page
    assert_csp_clean(page)
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert (await client.get("/sessions/nope/stage")).status == 404


async def test_stage_shows_the_highlighted_question_escaped(client: Client) -> None:
    question = await ask(client, HOSTILE)
    await moderate(client, question, "approve")
    await client.post(f"/api/questions/{question}/vote", headers=BOB)
    await moderate(client, question, "highlight")
    page = await (await client.get("/sessions/panel/stage")).text()
    assert f'data-length="short" data-qa-text>{ESCAPED}</blockquote>' in page
    assert "<script>window" not in page and "<img src=x" not in page
    assert '<span class="stage-author" translate="no" data-qa-author>Ann</span>' in page
    assert "1 vote<" in page
    assert "data-qa-idle hidden" in page
    assert "stage has-question" in page


async def test_session_page_shows_the_panel(client: Client) -> None:
    anonymous = await (await client.get("/sessions/panel")).text()
    assert 'id="questions"' in anonymous
    assert 'data-qa-panel data-session-code="panel" data-participant-id=""' in anonymous
    assert '<label for="display-name">Display name</label>' in anonymous
    assert '<input type="hidden" name="next" value="/sessions/panel#questions">' in anonymous
    assert '<script type="module" src="/static/js/qa-participant.js"></script>' in anonymous
    assert 'href="/static/css/qa.css"' in anonymous
    assert "Moderator console" not in anonymous
    assert_csp_clean(anonymous)

    participant = await (await client.get("/sessions/panel", headers=ANN)).text()
    assert 'data-participant-id="id-ann"' in participant
    assert '<form class="qa-ask" data-qa-ask hidden novalidate>' in participant
    assert '<option value="s1" translate="no">Ada Example</option>' in participant
    assert "Moderator console" not in participant

    moderator = await (await client.get("/sessions/panel", headers=MOD)).text()
    assert '<a href="/sessions/panel/moderate">Moderator console</a>' in moderator
    other = await (await client.get("/sessions/panel", headers=OTHER_MOD)).text()
    assert "Moderator console" not in other


def rendered_session_page(client: Client, qa: QASession, viewer: Identity) -> str:
    """session.html as the session page renders it once it passes the Q&A snapshot."""
    programme = conference()
    session = programme.session_by_code("panel")
    assert session is not None
    template = aiohttp_jinja2.get_env(client.app).get_template("session.html")
    return template.render(
        identity=viewer,
        csrf_token="token",
        conference_title="Test Conference",
        time_zone="Europe/Vienna",
        nav="",
        base_url="http://localhost:8080",
        locale="en",
        languages=i18n.languages(),
        js_messages={},
        query_kept=[],
        broadcast=False,
        off_record=False,
        page=session_page(programme, session, NOW),
        roles=[],
        starts_in="",
        qa=participant_snapshot(qa, viewer.participant_id, "votes"),
    )


def asked(qa: QASession, question_id: str, author: str, text: str, minutes: int) -> None:
    qa.apply(Ask(question_id, author, author.title(), text), NOW + dt.timedelta(minutes=minutes))


async def test_panel_renders_the_snapshot_escaped(client: Client) -> None:
    qa = QASession("panel")
    asked(qa, "q1", "bob", HOSTILE, 0)
    asked(qa, "q2", "cy", "Second, with more votes", 1)
    asked(qa, "q3", "ann", "Mine, still <i>pending</i>", 2)
    asked(qa, "q4", "ann", "Mine, not taken", 3)
    for question_id in ("q1", "q2"):
        qa.apply(Moderate(question_id, "mod", "approve"), NOW)
    qa.apply(Moderate("q4", "mod", "dismiss"), NOW)
    qa.apply(Moderate("q1", "mod", "highlight"), NOW)
    qa.apply(Vote("q2", "dee"), NOW)
    page = rendered_session_page(client, qa, Identity("ann", "Ann"))

    listed = page.split("data-qa-list>")[1].split("</ol>")[0]
    assert listed.index("Second, with more votes") < listed.index(ESCAPED)
    assert f'<p class="question-text" id="q-q1-text" translate="no">{ESCAPED}</p>' in listed
    assert "<script>window" not in page and "<img src=x" not in page
    assert '<li class="question state-visible is-highlighted" data-question-id="q1">' in listed
    assert "<strong>1</strong> vote<" in listed
    assert f"data-qa-onscreen-text>{ESCAPED}</p>" in page
    own = page.split("data-qa-own>")[1].split("</ul>")[0]
    assert "Mine, still &lt;i&gt;pending&lt;/i&gt;" in own
    assert "Waiting for a moderator" in own and "Not taken" in own
    assert "data-qa-own-section hidden" not in page
    assert "data-qa-empty hidden" in page
    assert_csp_clean(page)

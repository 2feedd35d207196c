"""Every HTTP route: bodies (valid by their ``msgspec`` schema, then mutated), query
strings, path parameters and identities.

The routes are read from the app's router, so a route added tomorrow is fuzzed without a
line here; a JSON route's valid bodies come from the request ``Struct`` it decodes
(:data:`BODIES`), walked with :func:`msgspec.inspect.type_info`.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

import msgspec
import msgspec.inspect as mi
from aiohttp import web
from hypothesis import strategies as st

from server.archive.routes import MarkerBody, VisibilityBody, WantBody
from server.breakouts.requests import MODERATOR_REQUESTS, PARTICIPANT_REQUESTS
from server.breakouts.routes import CallStateBody, TextBody
from server.captions.routes import LineBody
from server.http.sign_in import JoinRequest
from server.live.consent import ConsentBody, OffRecordBody
from server.live.control import CutBody
from server.live.routes import BroadcastBody, InterpretationBody
from server.qa.routes import AskBody, ModerationBody, NoteBody, QASettingsBody
from server.registrations.routes import CheckInBody
from sessions.roles import CONFERENCE_SCOPE, Role
from tests.fuzz.harness import (
    FuzzEntry,
    FuzzServer,
    Tally,
    each_answer,
    identity_headers,
    run_examples,
)
from tests.fuzz.mutations import JSON, ODD_TOKENS, mutated_json, serialised

BODIES: dict[tuple[str, str], type[msgspec.Struct]] = {
    ("POST", "/api/participants"): JoinRequest,
    ("POST", "/api/check-ins"): CheckInBody,
    ("POST", "/api/sessions/{code}/questions"): AskBody,
    ("POST", "/api/questions/{question_id}/moderation"): ModerationBody,
    ("POST", "/api/sessions/{code}/qa"): QASettingsBody,
    ("POST", "/api/sessions/{code}/notes"): NoteBody,
    ("POST", "/api/sessions/{code}/breakouts/rooms/{room}/chat"): TextBody,
    ("POST", "/api/sessions/{code}/breakouts/rooms/{room}/call-state"): CallStateBody,
    ("POST", "/api/sessions/{code}/captions/{language}"): LineBody,
    ("PUT", "/api/sessions/{code}/captions/{language}/{cue_id}"): LineBody,
    ("POST", "/api/sessions/{code}/stream/broadcast"): BroadcastBody,
    ("PUT", "/api/sessions/{code}/interpretation"): InterpretationBody,
    ("POST", "/api/sessions/{code}/stream/cut"): CutBody,
    ("PUT", "/api/sessions/{code}/consent"): ConsentBody,
    ("POST", "/api/sessions/{code}/off-record"): OffRecordBody,
    ("POST", "/api/sessions/{code}/recording"): WantBody,
    ("POST", "/api/sessions/{code}/markers"): MarkerBody,
    ("POST", "/api/recordings/{recording_id}/visibility"): VisibilityBody,
}
"""The request body each JSON route decodes (the break-out actions are looked up by
action, below)."""

BREAKOUT_ACTIONS = {**MODERATOR_REQUESTS, **PARTICIPANT_REQUESTS}

PATH_VALUES: dict[str, tuple[str, ...]] = {
    "code": ("panel", "panel", "side", "opening", "nope", "PANEL"),
    "question_id": ("QUESTION", "QUESTION", "nope"),
    "room": ("room-1", "room-2", "nope"),
    "language": ("fr", "de", "en", "xx", "fr-CA"),
    "action": tuple(BREAKOUT_ACTIONS),
    "format": ("csv", "json", "xml", "ics"),
    "kind": ("webm", "mp4", "m4a"),
    "msn": ("0", "1", "999999999"),
    "part": ("0", "3"),
    "run": ("0", "1"),
    "init": ("0", "video"),
}
"""Values that reach the handler (``QUESTION`` is a question asked at the start); any
other parameter (resources, tokens, keys) is random."""

IDENTITIES: tuple[dict[str, str], ...] = (
    {},
    identity_headers("participant"),
    identity_headers("moderator", ("panel", Role.MODERATOR)),
    identity_headers("moderator", ("panel", Role.MODERATOR)),
    identity_headers("other-moderator", ("side", Role.MODERATOR)),
    identity_headers("speaker", ("panel", Role.SPEAKER)),
    identity_headers("organiser", (CONFERENCE_SCOPE, Role.ORGANISER)),
    identity_headers("door", (CONFERENCE_SCOPE, Role.DOOR)),
    identity_headers("captioner", ("panel/fr", Role.CAPTIONER)),
    identity_headers("interpreter", ("panel/fr", Role.INTERPRETER)),
    {"Authorization": "Bearer not-a-token"},
    {"Authorization": "Basic YTpi"},
    {"Cookie": "plenaria_identity=forged; plenaria_viewer=x"},
)
CONTENT_TYPES = (
    "application/json", "application/json", "application/json; charset=utf-8",
    "application/x-www-form-urlencoded", "multipart/form-data; boundary=zz", "text/plain",
    "application/sdp", "text/csv", "", "application/json; charset=latin-1",
)  # fmt: skip
FORM_FIELDS = (
    "display_name", "csrf_token", "text", "action", "stream", "record", "media", "q",
    "label", "published", "key", "next", "order", "file",
)  # fmt: skip
SKIPPED = {("GET", "/ws"), ("GET", "/static")}
"""The socket has an entry of its own; static files are aiohttp's."""


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    """As the router formats it: ``/api/sessions/{code}/questions``."""

    @property
    def parameters(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.template)


def routes_of(app: web.Application) -> list[Route]:
    found: dict[tuple[str, str], Route] = {}
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        template = str(info.get("path") or info.get("formatter") or info.get("prefix") or "")
        if route.method in ("HEAD", "*") or (route.method, template) in SKIPPED or not template:
            continue
        found[(route.method, template)] = Route(route.method, template)
    return sorted(found.values(), key=lambda r: (r.template, r.method))


def from_type(info: mi.Type, depth: int = 0) -> st.SearchStrategy[JSON]:
    """Valid JSON for a ``msgspec`` type, as the decoder will accept it."""
    if isinstance(info, mi.StructType):
        required = {f.encode_name: from_type(f.type, depth + 1) for f in info.fields if f.required}
        optional = {
            f.encode_name: from_type(f.type, depth + 1) for f in info.fields if not f.required
        }
        tag = {} if info.tag_field is None else {info.tag_field: st.just(info.tag)}
        return st.fixed_dictionaries({**tag, **required}, optional=optional)
    if isinstance(info, mi.StrType):
        size = st.text(min_size=info.min_length or 0, max_size=min(info.max_length or 80, 80))
        if info.pattern:
            size = st.from_regex(info.pattern, fullmatch=True)
        return size
    if isinstance(info, mi.IntType):
        low = info.ge if info.ge is not None else (info.gt + 1 if info.gt is not None else -5)
        high = info.le if info.le is not None else (info.lt - 1 if info.lt is not None else 500)
        return st.integers(low, high)
    if isinstance(info, mi.FloatType):
        return st.floats(info.ge, info.le, allow_nan=False, allow_infinity=False)
    if isinstance(info, mi.BoolType):
        return st.booleans()
    if isinstance(info, mi.NoneType):
        return st.none()
    if isinstance(info, mi.LiteralType):
        return st.sampled_from(info.values)
    if isinstance(info, mi.EnumType):
        return st.sampled_from([member.value for member in info.cls])
    if isinstance(info, mi.UnionType):
        return st.one_of(*(from_type(t, depth + 1) for t in info.types))
    if isinstance(info, mi.TupleType):
        return st.tuples(*(from_type(t, depth + 1) for t in info.item_types)).map(list)
    if isinstance(info, mi.ListType | mi.VarTupleType | mi.SetType | mi.FrozenSetType):
        most = min(info.max_length or 6, 6) if depth < 4 else 0
        least = min(info.min_length or 0, most)
        return st.lists(from_type(info.item_type, depth + 1), min_size=least, max_size=most)
    if isinstance(info, mi.DictType):
        return st.dictionaries(
            st.text(max_size=10), from_type(info.value_type, depth + 1), max_size=3
        )
    return st.none()


def body_schema(route: Route, action: str) -> type[msgspec.Struct] | None:
    if route.template.endswith("/breakouts/{action}"):
        return BREAKOUT_ACTIONS.get(action)
    return BODIES.get((route.method, route.template))


@dataclass(frozen=True)
class HttpInput:
    route: Route
    path: str
    query: str
    headers: dict[str, str]
    body: bytes | None

    def __repr__(self) -> str:
        return f"{self.route.method} {self.path}?{self.query} {self.headers} {self.body!r:.400}"


def path_value(draw: st.DrawFn, name: str) -> str:
    known = PATH_VALUES.get(name)
    if known and draw(st.integers(0, 5)):
        return draw(st.sampled_from(known))
    value = draw(
        st.one_of(
            st.sampled_from(ODD_TOKENS),
            st.text(max_size=30),
            st.from_regex(r"[A-Za-z0-9_-]{1,40}", fullmatch=True),
        )
    )
    return urllib.parse.quote(value, safe="") or "x"


@st.composite
def http_input(draw: st.DrawFn, routes: list[Route]) -> HttpInput:
    route = draw(st.sampled_from(routes))
    values = {name: path_value(draw, name) for name in route.parameters}
    path = route.template.format(**values)
    query = ""
    if draw(st.integers(0, 2)) == 0:
        pairs = draw(
            st.lists(
                st.tuples(
                    st.sampled_from(
                        (
                            "order",
                            "q",
                            "since",
                            "lang",
                            "rehearsal",
                            "format",
                            "x",
                            "page",
                            "_HLS_msn",
                            "_HLS_part",
                            "",
                        )
                    ),
                    st.one_of(st.sampled_from(ODD_TOKENS), st.text(max_size=20)),
                ),
                max_size=4,
            )
        )
        query = urllib.parse.urlencode(pairs)
    headers = dict(draw(st.sampled_from(IDENTITIES)))
    body: bytes | None = None
    if route.method in ("POST", "PUT", "PATCH", "DELETE"):
        schema = body_schema(route, values.get("action", ""))
        choice = draw(st.integers(0, 5))
        headers["Content-Type"] = "application/json"
        if schema is not None and choice <= 3:
            valid = from_type(mi.type_info(schema))
            document = valid if choice <= 1 else mutated_json(valid)
            body = draw(serialised(document))
        elif choice == 4:
            fields = draw(
                st.lists(
                    st.tuples(
                        st.sampled_from(FORM_FIELDS),
                        st.one_of(st.sampled_from(ODD_TOKENS), st.text(max_size=40)),
                    ),
                    max_size=5,
                )
            )
            body = urllib.parse.urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            body = draw(st.one_of(st.binary(max_size=300), serialised(mutated_json(st.just({})))))
            headers["Content-Type"] = draw(st.sampled_from(CONTENT_TYPES))
        if not headers["Content-Type"]:
            del headers["Content-Type"]
    return HttpInput(route, path.replace("QUESTION", "{question}"), query, headers, body)


def fuzz_http(server: FuzzServer, examples: int, seed: int) -> Tally:
    """Any route, with what its handler expects and what it does not."""
    tally = Tally("HTTP routes")
    question = server.run(asked(server))

    async def send(item: HttpInput) -> None:
        path = item.path.replace("{question}", question)
        target = f"{path}?{item.query}" if item.query else path
        await server.request(
            tally, item.route.method, target, data=item.body, headers=item.headers, sample=item
        )

    strategy = http_input(routes_of(server.app))
    run_examples(strategy, each_answer(server, send), examples=examples, seed_value=seed)
    return tally


async def asked(server: FuzzServer) -> str:
    """A question in the panel's queue, for the routes that name one."""
    async with server.http.post(
        "/api/sessions/panel/questions",
        json={"text": "Who decides?"},
        headers=identity_headers("asker"),
    ) as response:
        assert response.status == 201, await response.text()
        question_id: str = (await response.json())["question"]["id"]
    return question_id


ENTRIES = (FuzzEntry("HTTP routes", fuzz_http, weight=4.0),)

"""Structure-aware mutations shared by the entries: a valid document, then a few edits.

Line documents (SDP offers, trickle fragments) are mutated by line and by token; JSON
documents by path (keys dropped, added, values of the wrong type or size); any serialised
body may then be cut or salted with bytes.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

JSON = Any
"""A JSON value as ``json.loads`` gives it."""

ODD_TOKENS = (
    "", " ", "-1", "0", "1", "65536", "4294967296", "99999999999999999999999", "NaN", "1e309",
    "0x7f", "1.5", "abc", "é", "😀", "\x00", "\u2028", "\ufeff", "%s%n", "../../etc/passwd",
    "<script>", "' OR 1=1 --", "A" * 300, "9" * 60, "*", "/", ":", "=", "\t",
)  # fmt: skip
"""Values a parser is likely to trip on: bounds, other types, separators, encodings."""

ODD_LINES = (
    "", "=", "x", "a=", "a=mid:", "a=group:BUNDLE", "a=group:BUNDLE 7 8 9", "a=setup:holdconn",
    "m=video 9 UDP/TLS/RTP/SAVPF 96", "m=audio 0 RTP/AVP 0", "m=application 9 UDP/DTLS/SCTP x",
    "a=rtpmap:96 VP8/0", "a=rtpmap:96", "a=fmtp:96", "a=fmtp:200 x=1", "a=rtcp-fb:* nack",
    "a=candidate:", "a=candidate:1 1 udp 1 127.0.0.1 9 typ host raddr", "a=ssrc:1",
    "a=ssrc:4294967296 cname:x", "a=ssrc-group:FID 1", "a=extmap:0 urn:x", "a=extmap:1/x y z",
    "a=ice-ufrag:\u00e9\u00e9\u00e9\u00e9", "a=ice-pwd:short", "a=fingerprint:sha-256 zz",
    "a=sendrecv", "a=inactive", "a=rtcp:x", "a=sctp-port:-1", "a=max-message-size:abc",
    "c=IN IP4", "c=IN IP4 999.1.1.1", "v=0", "o=", "b=AS:-1", "a=end-of-candidates",
    "a=msid:" + "x " * 200, "a=" + "a" * 5000,
)  # fmt: skip


@st.composite
def mutated_lines(
    draw: st.DrawFn, document: st.SearchStrategy[str], most: int = 4, extra: tuple[str, ...] = ()
) -> str:
    """``document`` (lines joined by CRLF) with 1 to ``most`` line or token edits, then
    perhaps other line ends or a cut."""
    lines = draw(document).split("\r\n")
    junk = ODD_LINES + extra
    for _ in range(draw(st.integers(1, most))):
        if not lines:
            lines.append(draw(st.sampled_from(junk)))
            continue
        at = draw(st.integers(0, len(lines) - 1))
        edit = draw(
            st.sampled_from(
                ("delete", "duplicate", "swap", "move", "cut", "token", "token", "insert", "case")
            )
        )
        if edit == "delete":
            del lines[at]
        elif edit == "duplicate":
            lines.insert(at, lines[at])
        elif edit in ("swap", "move"):
            other = draw(st.integers(0, len(lines) - 1))
            if edit == "swap":
                lines[at], lines[other] = lines[other], lines[at]
            else:
                lines.insert(other, lines.pop(at))
        elif edit == "cut":
            lines[at] = lines[at][: draw(st.integers(0, max(0, len(lines[at]) - 1)))]
        elif edit == "token":
            lines[at] = replace_token(draw, lines[at])
        elif edit == "insert":
            lines.insert(at, draw(st.sampled_from(junk)))
        else:
            lines[at] = lines[at].upper() if draw(st.booleans()) else lines[at].lower()
    ending = draw(st.sampled_from(("\r\n", "\r\n", "\r\n", "\n", "\r", "\r\r\n")))
    text = ending.join(lines) + draw(st.sampled_from((ending, "", "\r\n\r\n")))
    if draw(st.integers(0, 9)) == 0:
        text = text[: draw(st.integers(0, len(text)))]
    return text


def replace_token(draw: st.DrawFn, line: str) -> str:
    """One of the line's words (split at spaces, colons, slashes, equals) replaced."""
    pieces: list[str] = []
    word = ""
    for char in line:
        if char in " :/=;":
            pieces += [word, char]
            word = ""
        else:
            word += char
    pieces.append(word)
    words = list(range(0, len(pieces), 2))
    at = draw(st.sampled_from(words))
    pieces[at] = draw(st.one_of(st.sampled_from(ODD_TOKENS), st.text(max_size=12)))
    return "".join(pieces)


ODD_VALUES: st.SearchStrategy[JSON] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(ODD_TOKENS),
    st.text(max_size=40),
    st.text(min_size=1, max_size=3).map(lambda s: s * 3000),
    st.lists(st.integers(), max_size=4),
    st.dictionaries(st.text(max_size=8), st.integers(), max_size=3),
    st.integers(10, 900).map(lambda depth: nested(depth)),
)


def nested(depth: int) -> JSON:
    value: JSON = []
    for _ in range(depth):
        value = [value]
    return value


@st.composite
def mutated_json(draw: st.DrawFn, document: st.SearchStrategy[JSON], most: int = 3) -> JSON:
    """``document`` with 1 to ``most`` edits at random places: a key dropped or added, a
    value replaced by one of another type or size, a list emptied or grown."""
    value = draw(document)
    for _ in range(draw(st.integers(1, most))):
        value = edit_json(draw, value)
    return value


def edit_json(draw: st.DrawFn, value: JSON) -> JSON:
    if isinstance(value, dict) and value and draw(st.integers(0, 2)):
        key = draw(st.sampled_from(sorted(value)))
        choice = draw(st.integers(0, 3))
        changed = dict(value)
        if choice == 0:
            del changed[key]
        elif choice == 1:
            changed[draw(st.sampled_from(("x", "", "__proto__", key + "_", "id")))] = draw(
                ODD_VALUES
            )
        else:
            changed[key] = edit_json(draw, value[key])
        return changed
    if isinstance(value, list) and value and draw(st.integers(0, 2)):
        at = draw(st.integers(0, len(value) - 1))
        choice = draw(st.integers(0, 3))
        changed_list = list(value)
        if choice == 0:
            del changed_list[at]
        elif choice == 1:
            changed_list += [changed_list[at]] * draw(st.integers(1, 200))
        else:
            changed_list[at] = edit_json(draw, value[at])
        return changed_list
    return draw(ODD_VALUES)


@st.composite
def serialised(draw: st.DrawFn, document: st.SearchStrategy[JSON]) -> bytes:
    """A JSON document as bytes, now and then cut or salted: the body's own syntax fuzzed."""
    body = json.dumps(draw(document), ensure_ascii=draw(st.booleans())).encode()
    choice = draw(st.integers(0, 11))
    if choice == 0 and body:
        body = body[: draw(st.integers(0, len(body) - 1))]
    elif choice == 1:
        at = draw(st.integers(0, len(body)))
        body = body[:at] + draw(st.binary(min_size=1, max_size=8)) + body[at:]
    elif choice == 2:
        body = draw(st.sampled_from((b"\xef\xbb\xbf", b"\xff\xfe", b" \n\t"))) + body
    elif choice == 3:
        depth = draw(st.integers(1000, 100_000))
        body = b"[" * depth + b"]" * depth
    return body

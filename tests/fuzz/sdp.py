"""SDP entries: WHIP and WHEP offers, and trickle-ice-sdpfrag PATCHes to their resources.

Valid offers are built the way browsers, OBS (libdatachannel) and GStreamer write them
(sections in any order, codecs with RTX and fmtp, extmaps, SSRC groups, host candidates),
then mutated by line and token (:mod:`tests.fuzz.mutations`). An accepted offer is ended
with its DELETE, so the next one finds the session free.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiortc.mediastreams import MediaStreamTrack
from hypothesis import strategies as st

from server.keys import MEDIA, QA
from server.media.relay import KeyframeRequest
from server.media.stream_key import StreamKey
from sessions.roles import Role
from tests.fuzz.harness import (
    FuzzEntry,
    FuzzServer,
    Tally,
    each_answer,
    identity_headers,
    run_examples,
)
from tests.fuzz.mutations import mutated_lines
from tests.integration.conftest import NOW

SPEAKER = identity_headers("fuzz-speaker", ("panel", Role.SPEAKER))
SDP = {"Content-Type": "application/sdp"}
TRICKLE = {"Content-Type": "application/trickle-ice-sdpfrag"}

HEX = "0123456789ABCDEF"
ICE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"

VIDEO_CODECS = {
    "VP8": ("VP8/90000", ""),
    "H264": (
        "H264/90000",
        "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
    ),
}
AUDIO_CODECS = {
    "opus": ("opus/48000/2", "minptime=10;useinbandfec=1"),
    "PCMU": ("PCMU/8000", ""),
    "G722": ("G722/8000", ""),
}
EXTENSIONS = {
    "audio": ("urn:ietf:params:rtp-hdrext:ssrc-audio-level", "urn:ietf:params:rtp-hdrext:sdes:mid"),
    "video": (
        "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
        "urn:ietf:params:rtp-hdrext:sdes:mid",
        "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
        "urn:ietf:params:rtp-hdrext:toffset",
    ),
}


def tokens(alphabet: str, size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=size, max_size=size)


@st.composite
def candidate(draw: st.DrawFn, component: int = 1) -> str:
    address = draw(st.sampled_from(("127.0.0.1", "192.0.2.10", "::1", "2001:db8::5")))
    port = draw(st.integers(1024, 65535))
    kind = draw(st.sampled_from(("host", "host", "srflx")))
    words = [str(draw(st.integers(1, 9999))), str(component), draw(st.sampled_from(("udp", "UDP")))]
    words += [str(draw(st.integers(1, 2**31))), address, str(port), "typ", kind]
    if kind == "srflx":
        words += ["raddr", "0.0.0.0", "rport", "0"]
    if draw(st.booleans()):
        words += ["generation", "0", "network-id", str(draw(st.integers(1, 5)))]
    return "a=candidate:" + " ".join(words)


@st.composite
def media_section(
    draw: st.DrawFn, kind: str, mid: str, direction: str, ice: list[str]
) -> list[str]:
    names = AUDIO_CODECS if kind == "audio" else VIDEO_CODECS
    chosen = draw(
        st.lists(st.sampled_from(sorted(names)), min_size=1, max_size=len(names), unique=True)
    )
    payload_types: list[int] = []
    lines: list[str] = []
    next_type = draw(st.sampled_from((96, 100, 102, 111, 120)))
    for name in chosen:
        if name == "PCMU":
            payload = 0
        else:
            payload, next_type = next_type, next_type + 2
        payload_types.append(payload)
        mapping, parameters = names[name]
        lines.append(f"a=rtpmap:{payload} {mapping}")
        if parameters:
            lines.append(f"a=fmtp:{payload} {parameters}")
        if kind == "video":
            lines += [
                f"a=rtcp-fb:{payload} nack",
                f"a=rtcp-fb:{payload} nack pli",
                f"a=rtcp-fb:{payload} goog-remb",
            ]
            if draw(st.booleans()):
                rtx, next_type = next_type - 1, next_type
                payload_types.append(rtx)
                lines += [f"a=rtpmap:{rtx} rtx/90000", f"a=fmtp:{rtx} apt={payload}"]
    header = [
        f"m={kind} 9 UDP/TLS/RTP/SAVPF {' '.join(map(str, payload_types))}",
        "c=IN IP4 0.0.0.0",
    ]
    attributes = [*ice, f"a=mid:{mid}", f"a={direction}", "a=rtcp-mux"]
    if draw(st.booleans()):
        attributes.append("a=rtcp:9 IN IP4 0.0.0.0")
    uris = draw(
        st.lists(st.sampled_from(EXTENSIONS[kind]), max_size=len(EXTENSIONS[kind]), unique=True)
    )
    attributes += [f"a=extmap:{n} {uri}" for n, uri in enumerate(uris, start=1)]
    if direction != "recvonly":
        ssrc = draw(st.integers(1, 2**32 - 1))
        cname = draw(tokens(ICE[:62], 16))
        attributes += [f"a=msid:stream track-{mid}", f"a=ssrc:{ssrc} cname:{cname}"]
    attributes += draw(st.lists(candidate(), max_size=3))
    if draw(st.booleans()):
        attributes.append("a=end-of-candidates")
    attributes = draw(st.permutations(attributes))
    return header + attributes + lines


@st.composite
def valid_offer(draw: st.DrawFn, *, sending: bool) -> str:
    """An offer a browser, OBS or GStreamer could send: to publish (``sending``) or to
    watch."""
    kinds = draw(st.sampled_from((["audio", "video"], ["video", "audio"], ["video"], ["audio"])))
    ufrag, password = draw(tokens(ICE, 8)), draw(tokens(ICE, 24))
    fingerprint = ":".join(draw(tokens(HEX, 2)) for _ in range(32))
    ice = [f"a=ice-ufrag:{ufrag}", f"a=ice-pwd:{password}", "a=ice-options:trickle"]
    dtls = [f"a=fingerprint:sha-256 {fingerprint}", "a=setup:actpass"]
    at_session_level = draw(st.booleans())
    mids = [str(n) for n in range(len(kinds))] if draw(st.booleans()) else kinds
    session = ["v=0", f"o=- {draw(st.integers(1, 2**62))} 2 IN IP4 127.0.0.1", "s=-", "t=0 0"]
    session.append(f"a=group:BUNDLE {' '.join(mids)}")
    session += draw(
        st.lists(st.sampled_from(("a=extmap-allow-mixed", "a=msid-semantic: WMS *")), unique=True)
    )
    if at_session_level:
        session += ice + dtls
    direction = "sendonly" if sending else "recvonly"
    sections: list[str] = []
    for kind, mid in zip(kinds, mids, strict=True):
        own = [] if at_session_level else ice + dtls
        chosen = draw(st.sampled_from((direction, direction, "sendrecv")))
        sections += draw(media_section(kind, mid, chosen, own))
    return "\r\n".join(session + sections) + "\r\n"


def offers(*, sending: bool) -> st.SearchStrategy[str]:
    valid = valid_offer(sending=sending)
    return st.one_of(
        valid, mutated_lines(valid), mutated_lines(valid, most=12), st.text(max_size=300)
    )


async def send_offer(
    server: FuzzServer, tally: Tally, path: str, offer: str, headers: dict[str, str]
) -> None:
    answer = await server.request(
        tally,
        "POST",
        path,
        data=offer.encode(errors="surrogatepass"),
        headers={**SDP, **headers},
        sample=offer,
    )
    if answer is not None and answer.status == 201:
        location = answer.headers.get("Location", "")
        ended = await server.request(
            tally,
            "DELETE",
            location,
            headers=headers,
            sample="the DELETE of an accepted offer",
            follow_up=True,
        )
        assert ended is None or ended.status == 200, (location, ended)


def fuzz_whip_offers(server: FuzzServer, examples: int, seed: int) -> Tally:
    tally = Tally("WHIP offers")

    async def send(offer: str) -> None:
        await send_offer(server, tally, "/whip/panel", offer, SPEAKER)

    run_examples(
        offers(sending=True), each_answer(server, send), examples=examples, seed_value=seed
    )
    check_media_left(server, tally)
    return tally


class Quiet(MediaStreamTrack):
    """A track that never produces a frame: a panel to watch without encoding anything."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    async def recv(self) -> Any:
        await asyncio.Event().wait()


def quiet_panel(server: FuzzServer) -> None:
    """Publish the panel in-process (VP8 and Opus, no media), for viewers to ask for."""
    server.run(publish_quiet_panel(server))


async def publish_quiet_panel(server: FuzzServer) -> None:
    engine = server.app[MEDIA]
    if engine.live(StreamKey.panel("panel")) is None:
        sources: list[tuple[MediaStreamTrack, KeyframeRequest | None, str]] = [
            (Quiet("video"), None, "video/VP8"),
            (Quiet("audio"), None, "audio/opus"),
        ]
        engine.publish_local(StreamKey.panel("panel"), sources, NOW, stop=lambda: None)


def fuzz_whep_offers(server: FuzzServer, examples: int, seed: int) -> Tally:
    tally = Tally("WHEP offers")
    quiet_panel(server)

    async def send(offer: str) -> None:
        await send_offer(server, tally, "/whep/panel", offer, {})

    run_examples(
        offers(sending=False), each_answer(server, send), examples=examples, seed_value=seed
    )
    check_media_left(server, tally)
    return tally


@st.composite
def valid_fragment(draw: st.DrawFn, ufrag: str, password: str) -> str:
    lines = []
    if draw(st.booleans()):
        lines += [f"a=ice-ufrag:{ufrag}", f"a=ice-pwd:{password}"]
    lines += ["m=audio 9 RTP/AVP 0", f"a=mid:{draw(st.sampled_from(('0', '1', 'audio')))}"]
    lines += draw(st.lists(candidate(), min_size=1, max_size=3))
    if draw(st.booleans()):
        lines.append("a=end-of-candidates")
    return "\r\n".join(lines) + "\r\n"


def fuzz_trickle(server: FuzzServer, examples: int, seed: int) -> Tally:
    """PATCHes to a WHEP viewer's resource; a new viewer every 40 of them, since each
    takes a bounded number of candidates."""
    tally = Tally("WHIP/WHEP trickle fragments")
    quiet_panel(server)
    state: dict[str, str] = {}
    ufrag, password = "fuzzfrag", "fuzzpasswordfuzzpassword"

    async def viewer() -> str:
        offer = viewer_offer(ufrag, password)
        answer = await server.request(
            tally, "POST", "/whep/panel", data=offer, headers=SDP, sample="viewer", follow_up=True
        )
        assert answer is not None and answer.status == 201, answer
        return answer.headers["Location"]

    async def send(fragment: str) -> None:
        if state.get("count", "0") == "40" or "location" not in state:
            if "location" in state:
                await server.request(
                    tally, "DELETE", state["location"], sample="viewer", follow_up=True
                )
            state["location"], state["count"] = await viewer(), "0"
        state["count"] = str(int(state["count"]) + 1)
        await server.request(
            tally,
            "PATCH",
            state["location"],
            data=fragment.encode(errors="surrogatepass"),
            headers=TRICKLE,
            sample=fragment,
        )

    fragments = valid_fragment(ufrag, password)
    strategy = st.one_of(fragments, mutated_lines(fragments), st.text(max_size=200))
    run_examples(strategy, each_answer(server, send), examples=examples, seed_value=seed)
    if "location" in state:
        server.run(ended(server, tally, state["location"]))
    check_media_left(server, tally)
    return tally


def viewer_offer(ufrag: str, password: str) -> str:
    fingerprint = ":".join(["AB"] * 32)
    return "\r\n".join([
        "v=0", "o=- 1 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0 1",
        "m=video 9 UDP/TLS/RTP/SAVPF 96", "c=IN IP4 0.0.0.0", f"a=ice-ufrag:{ufrag}",
        f"a=ice-pwd:{password}", f"a=fingerprint:sha-256 {fingerprint}", "a=setup:actpass",
        "a=mid:0", "a=recvonly", "a=rtcp-mux", "a=rtpmap:96 VP8/90000",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111", "c=IN IP4 0.0.0.0", f"a=ice-ufrag:{ufrag}",
        f"a=ice-pwd:{password}", f"a=fingerprint:sha-256 {fingerprint}", "a=setup:actpass",
        "a=mid:1", "a=recvonly", "a=rtcp-mux", "a=rtpmap:111 opus/48000/2",
    ]) + "\r\n"  # fmt: skip


async def ended(server: FuzzServer, tally: Tally, location: str) -> None:
    await server.request(tally, "DELETE", location, sample="viewer", follow_up=True)


def check_media_left(server: FuzzServer, tally: Tally) -> None:
    """After a run: no publication but the quiet panel, no viewer, no failed recording."""
    engine = server.app[MEDIA]
    left = [str(key) for key, p in engine.publications.items() if p.peer is not None]
    if left or engine.viewers:
        tally.store_changes.append(
            f"left behind: publications {left}, viewers {list(engine.viewers)}"
        )
    failed = [
        r
        for r in server.app[QA].archive.recordings.values()
        if r.error and "cannot be recorded: it sends" not in r.error  # PCMU alone, say
    ]
    if failed:
        tally.server_errors.append(f"failed recordings: {failed}")


ENTRIES = (
    FuzzEntry("WHIP offers", fuzz_whip_offers, weight=1.0),
    FuzzEntry("WHEP offers", fuzz_whep_offers, weight=1.0),
    FuzzEntry("WHIP/WHEP trickle fragments", fuzz_trickle, weight=1.0),
)

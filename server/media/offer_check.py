"""An SDP offer read and checked before aiortc sees it (no I/O).

aiortc trusts its offers: a BUNDLE group naming a missing ``a=mid`` leaves a transceiver
without a transport and fails in ``createAnswer`` (and again in ``close``), a stray
``int()`` in its parser raises ``ValueError``. Every WHIP, WHEP, booth and break-out offer
passes :func:`check_offer` first, which refuses what cannot work with a
:class:`~server.media.errors.MediaError` (422) that says which line is wrong and why.
The checks follow RFC 8866 (SDP), RFC 8843 (BUNDLE), RFC 8839 (ICE) and RFC 8122
(fingerprints), bounded to what a browser, OBS or GStreamer sends.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Literal

from server.media.errors import MediaError

Direction = Literal["sendrecv", "sendonly", "recvonly", "inactive"]
DIRECTIONS: frozenset[str] = frozenset(("sendrecv", "sendonly", "recvonly", "inactive"))

MAX_LINES = 2000
MAX_LINE_LENGTH = 4096
MAX_SECTIONS = 16
MAX_FORMATS = 64
MAX_CANDIDATES = 64
MAX_SSRC_LINES = 64
MEDIA_PROFILES = frozenset(("UDP/TLS/RTP/SAVPF", "UDP/TLS/RTP/SAVP", "RTP/SAVPF", "RTP/SAVP"))
DATA_PROFILES = frozenset(("UDP/DTLS/SCTP", "DTLS/SCTP"))
KNOWN_CODECS: dict[str, frozenset[str]] = {
    "audio": frozenset(("opus", "pcmu", "pcma", "g722")),
    "video": frozenset(("vp8", "h264")),
}
"""What aiortc can negotiate, by media kind (lower case)."""
STATIC_CODECS = {0: "pcmu", 8: "pcma", 9: "g722"}
FINGERPRINT_ALGORITHMS = frozenset(("sha-1", "sha-224", "sha-256", "sha-384", "sha-512"))
SETUP_ROLES = frozenset(("actpass", "active", "passive"))
VALUED = frozenset((
    "group", "msid-semantic", "fingerprint", "setup", "extmap", "rtpmap", "fmtp", "rtcp-fb",
    "candidate", "ssrc", "ssrc-group", "rtcp", "sctpmap", "sctp-port", "max-message-size",
    "ice-ufrag", "ice-pwd", "ice-options", "mid", "msid",
))  # fmt: skip
"""Attributes aiortc reads a value of: written without a colon, its reader fails on them."""

TOKEN = re.compile(r"[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]{1,64}")
ICE_CHARS = re.compile(r"[A-Za-z0-9+/]+")
HEX_PAIRS = re.compile(r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){15,63}")
MEDIA_LINE = re.compile(r"(\S+) (\d{1,5}) ([A-Z/]+)((?: \S+)+)")
CONNECTION = re.compile(r"IN IP[46] [^ ]{1,255}")
MDNS_NAME = re.compile(r"[a-zA-Z0-9-]{1,63}\.local")
CANDIDATE_TYPES = frozenset(("host", "srflx", "prflx", "relay"))
RTPMAP = re.compile(r"(\d{1,3}) ([A-Za-z0-9_.\-]{1,32})/(\d{1,7})(?:/(\d{1,2}))?")
EXTMAP = re.compile(r"(\d{1,3})(?:/(sendrecv|sendonly|recvonly|inactive))? (\S{1,256})")
SSRC = re.compile(r"(\d{1,10}) ([A-Za-z0-9_\-]{1,32}):(.*)")
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")
"""Control characters, and what ``str.splitlines`` (aiortc's reader) takes for a line end."""
RESERVED_PAYLOAD_TYPES = range(72, 77)
"""Payload types RTCP packet types collide with (RFC 5761 section 4)."""


@dataclass
class OfferSection:
    """One ``m=`` section as the checks need it."""

    kind: str
    line: int
    formats: list[int] = field(default_factory=list)
    mids: list[str] = field(default_factory=list)
    directions: list[str] = field(default_factory=list)
    codecs: dict[int, str] = field(default_factory=dict)
    """Payload type → codec name (lower case), from ``a=rtpmap`` or the static table."""
    ice_ufrag: str | None = None
    ice_pwd: str | None = None
    fingerprints: int = 0
    setup: str | None = None
    candidates: int = 0
    ssrc_lines: int = 0
    extension_ids: set[int] = field(default_factory=set)
    rtcp_mux: bool = False
    parameter_targets: list[tuple[int, int]] = field(default_factory=list)
    """(line, payload type) of each ``a=fmtp``: its codec must be mapped somewhere."""

    @property
    def mid(self) -> str:
        return self.mids[0]

    @property
    def direction(self) -> str:
        return self.directions[0] if self.directions else "sendrecv"

    @property
    def sends(self) -> bool:
        return self.kind in KNOWN_CODECS and self.direction in ("sendrecv", "sendonly")

    @property
    def receives(self) -> bool:
        return self.kind in KNOWN_CODECS and self.direction in ("sendrecv", "recvonly")


@dataclass
class Offer:
    sections: list[OfferSection]
    bundle: list[str]
    """The mids of the first BUNDLE group, in order (the first one carries the others)."""


def refuse(code: str, message: str) -> MediaError:
    return MediaError(code, message, "invalid")


def malformed(number: int, message: str) -> MediaError:
    return refuse("media.sdp_malformed", f"Line {number} of the offer: {message}")


def check_offer(sdp: str, *, sending: bool) -> Offer:
    """The offer, read; or a :class:`MediaError` naming what is wrong. ``sending``: the
    peer must send audio or video (a publisher), else receive it (a viewer)."""
    offer = read_offer(sdp)
    check_bundle(offer)
    for section in offer.sections:
        check_section(section)
    if sending and not any(section.sends for section in offer.sections):
        raise refuse("media.sdp_direction", "The offer sends neither audio nor video.")
    if not sending and not any(section.receives for section in offer.sections):
        raise refuse("media.sdp_direction", "The offer receives neither audio nor video.")
    return offer


def read_offer(sdp: str) -> Offer:
    lines = sdp.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or lines[0].rstrip("\r") != "v=0":
        raise refuse("media.sdp_malformed", "An offer starts with the line v=0.")
    if len(lines) > MAX_LINES:
        raise refuse("media.sdp_too_long", f"An offer has at most {MAX_LINES} lines.")
    sections: list[OfferSection] = []
    session = OfferSection("session", 0)
    bundle: list[str] | None = None
    for number, raw in enumerate(lines, start=1):
        line = raw[:-1] if raw.endswith("\r") else raw
        if len(line) > MAX_LINE_LENGTH:
            raise malformed(number, f"longer than {MAX_LINE_LENGTH} characters.")
        if len(line) < 2 or line[1] != "=" or not "a" <= line[0] <= "z":
            raise malformed(number, "every line is a lower-case letter, '=' and a value.")
        if CONTROL.search(line):
            raise malformed(number, "control characters are not allowed.")
        kind, value = line[0], line[2:]
        if kind == "c" and not CONNECTION.fullmatch(value):
            raise malformed(number, "a c= line is 'IN IP4 address' or 'IN IP6 address'.")
        if kind == "m":
            if len(sections) == MAX_SECTIONS:
                raise refuse("media.sdp_too_long", f"An offer has at most {MAX_SECTIONS} m= lines.")
            sections.append(media_section(number, value))
        elif kind == "a":
            target = sections[-1] if sections else session
            group = read_attribute(target, number, value)
            if group is not None and bundle is None:
                bundle = group
    if not sections:
        raise refuse("media.sdp_malformed", "The offer has no m= section.")
    for section in sections:
        section.ice_ufrag = section.ice_ufrag or session.ice_ufrag
        section.ice_pwd = section.ice_pwd or session.ice_pwd
        section.fingerprints += session.fingerprints
        section.setup = section.setup or session.setup
    return Offer(sections, bundle or [])


def media_section(number: int, value: str) -> OfferSection:
    match = MEDIA_LINE.fullmatch(value)
    if match is None:
        raise malformed(number, "an m= line is 'media port protocol formats'.")
    kind, port, profile, formats = match.groups()
    if int(port) > 65535:
        raise malformed(number, f"port {port} is out of range.")
    section = OfferSection(kind, number)
    if kind in KNOWN_CODECS:
        if profile not in MEDIA_PROFILES:
            raise malformed(number, f"{kind} goes over UDP/TLS/RTP/SAVPF, not {profile}.")
        numbers = formats.split()
        if len(numbers) > MAX_FORMATS:
            raise malformed(number, f"at most {MAX_FORMATS} payload types.")
        for text in numbers:
            if not text.isdigit() or int(text) > 127:
                raise malformed(number, f"payload type {text!r} is not a number up to 127.")
            payload_type = int(text)
            if payload_type in RESERVED_PAYLOAD_TYPES:
                raise malformed(number, f"payload type {payload_type} is reserved for RTCP.")
            if payload_type in section.formats:
                raise malformed(number, f"payload type {payload_type} is listed twice.")
            section.formats.append(payload_type)
            if payload_type in STATIC_CODECS:
                section.codecs[payload_type] = STATIC_CODECS[payload_type]
    elif kind == "application":
        if profile not in DATA_PROFILES:
            raise malformed(number, f"a data channel goes over UDP/DTLS/SCTP, not {profile}.")
    else:
        raise refuse(
            "media.sdp_media",
            f"Line {number} of the offer: only audio, video and a data channel are carried, "
            f"not {kind!r}.",
        )
    return section


def read_attribute(section: OfferSection, number: int, value: str) -> list[str] | None:
    """Note one ``a=`` line; a BUNDLE group's mids are returned."""
    name, colon, argument = value.partition(":")
    if name in VALUED and not colon:
        raise malformed(number, f"a={name} takes a value after a colon.")
    if name == "group":
        semantics, *mids = argument.split(" ")
        if semantics == "BUNDLE":
            if len(set(mids)) != len(mids) or not all(TOKEN.fullmatch(mid) for mid in mids):
                raise malformed(number, "a BUNDLE group names each mid once, as a token.")
            return mids
    elif name == "mid":
        if not TOKEN.fullmatch(argument):
            raise malformed(number, "a mid is a token of up to 64 characters.")
        section.mids.append(argument)
    elif name in DIRECTIONS:
        section.directions.append(name)
    elif name == "rtcp-mux":
        section.rtcp_mux = True
    elif name == "rtpmap":
        read_rtpmap(section, number, argument)
    elif name in ("fmtp", "rtcp-fb"):
        target, space, _ = argument.partition(" ")
        if not (target == "*" and name == "rtcp-fb") and not (
            target.isdigit() and int(target) in section.formats
        ):
            raise malformed(number, f"a={name} names payload type {target!r}, not on the m= line.")
        if name == "fmtp":
            if not space:
                raise malformed(number, "a=fmtp is a payload type and its parameters.")
            section.parameter_targets.append((number, int(target)))
    elif name == "ice-ufrag":
        if not 4 <= len(argument) <= 256 or not ICE_CHARS.fullmatch(argument):
            raise malformed(number, "an ICE username fragment is 4 to 256 letters and digits.")
        section.ice_ufrag = argument
    elif name == "ice-pwd":
        if not 22 <= len(argument) <= 256 or not ICE_CHARS.fullmatch(argument):
            raise malformed(number, "an ICE password is 22 to 256 letters and digits.")
        section.ice_pwd = argument
    elif name == "fingerprint":
        algorithm, _, digest = argument.partition(" ")
        if algorithm.lower() not in FINGERPRINT_ALGORITHMS or not HEX_PAIRS.fullmatch(digest):
            raise malformed(number, "a fingerprint is a hash name (sha-256) and hex pairs.")
        section.fingerprints += 1
    elif name == "setup":
        if argument not in SETUP_ROLES:
            raise malformed(number, "a=setup is actpass, active or passive.")
        section.setup = argument
    elif name == "candidate":
        section.candidates += 1
        if section.candidates > MAX_CANDIDATES:
            raise malformed(number, f"at most {MAX_CANDIDATES} candidates per section.")
        check_candidate(number, argument)
    elif name == "extmap":
        read_extmap(section, number, argument)
    elif name in ("ssrc", "ssrc-group"):
        read_ssrc(section, number, name, argument)
    elif name in ("rtcp", "sctp-port", "max-message-size"):
        first = argument.split(" ", 1)[0]
        if not first.isdigit() or len(first) > 10:
            raise malformed(number, f"a={name} takes a number.")
    elif name == "sctpmap":
        first = argument.split(" ", 1)[0]
        if not first.isdigit() or " " not in argument:
            raise malformed(number, "a=sctpmap is a number and a description.")
    return None


def read_rtpmap(section: OfferSection, number: int, argument: str) -> None:
    match = RTPMAP.fullmatch(argument)
    if match is None:
        raise malformed(number, "a=rtpmap is 'payload-type name/clock-rate[/channels]'.")
    payload_type, codec, clock_rate, channels = match.groups()
    if int(payload_type) not in section.formats:
        raise malformed(number, f"payload type {payload_type} is not on the m= line.")
    if int(clock_rate) == 0 or (channels is not None and not 1 <= int(channels) <= 8):
        raise malformed(number, "the clock rate or channel count is out of range.")
    section.codecs[int(payload_type)] = codec.lower()


def read_extmap(section: OfferSection, number: int, argument: str) -> None:
    match = EXTMAP.fullmatch(argument)
    if match is None or not 1 <= int(match.group(1)) <= 255:
        raise malformed(number, "a=extmap is an id from 1 to 255 and a URI.")
    if int(match.group(1)) in section.extension_ids:
        raise malformed(number, f"extension id {match.group(1)} is mapped twice.")
    section.extension_ids.add(int(match.group(1)))


def read_ssrc(section: OfferSection, number: int, name: str, argument: str) -> None:
    section.ssrc_lines += 1
    if section.ssrc_lines > MAX_SSRC_LINES:
        raise malformed(number, f"at most {MAX_SSRC_LINES} ssrc lines per section.")
    if name == "ssrc":
        match = SSRC.fullmatch(argument)
        if match is None or int(match.group(1)) > 0xFFFFFFFF:
            raise malformed(number, "a=ssrc is a 32-bit number and an attribute.")
        return
    semantics, *ssrcs = argument.split(" ")
    if not TOKEN.fullmatch(semantics) or not ssrcs:
        raise malformed(number, "a=ssrc-group is a semantics and SSRC numbers.")
    if not all(s.isdigit() and len(s) <= 10 and int(s) <= 0xFFFFFFFF for s in ssrcs):
        raise malformed(number, "a=ssrc-group lists 32-bit numbers.")


def check_candidate(number: int, argument: str) -> None:
    problem = candidate_problem(argument)
    if problem is not None:
        raise malformed(number, problem)


def candidate_problem(argument: str) -> str | None:
    """What is wrong with an ``a=candidate:`` value, as aiortc reads it (eight words or
    more, then name-value pairs); ``None`` when it can be used."""
    words = argument.split()
    if (
        len(words) < 8
        or len(words[0]) > 32
        or not (words[1].isdigit() and 1 <= int(words[1]) <= 256)
        or words[2].lower() not in ("udp", "tcp")
        or not (words[3].isdigit() and int(words[3]) <= 0xFFFFFFFF)
        or not (words[5].isdigit() and int(words[5]) <= 65535)
        or words[6] != "typ"
        or words[7] not in CANDIDATE_TYPES
    ):
        return "the candidate cannot be read (RFC 8839 section 5.1)."
    if not usable_address(words[4]):
        return "a candidate's address is an IP address or an mDNS name."
    extensions = words[8:]
    for name, value in zip(extensions[::2], extensions[1::2], strict=False):
        if name == "rport" and not (value.isdigit() and int(value) <= 65535):
            return "a candidate's rport is a port number."
    return None


def usable_address(address: str) -> bool:
    """An IP address, or the mDNS name a browser hides its own behind."""
    if address.endswith(".local"):
        return MDNS_NAME.fullmatch(address) is not None
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def check_bundle(offer: Offer) -> None:
    mids: set[str] = set()
    for section in offer.sections:
        if len(section.mids) != 1:
            raise refuse(
                "media.sdp_mid",
                f"The m= section on line {section.line} needs exactly one a=mid line, not "
                f"{len(section.mids)}.",
            )
        if section.mid in mids:
            raise refuse("media.sdp_mid", f"Two m= sections have the mid {section.mid!r}.")
        mids.add(section.mid)
    missing = [mid for mid in offer.bundle if mid not in mids]
    if missing:
        raise refuse(
            "media.sdp_bundle",
            f"The BUNDLE group names {', '.join(map(repr, missing))}, which no m= section has.",
        )


def check_section(section: OfferSection) -> None:
    where = f"the m= section on line {section.line}"
    if len(section.directions) > 1:
        raise refuse("media.sdp_direction", f"{where.capitalize()} has two directions.")
    if section.kind in KNOWN_CODECS and not section.directions:
        raise refuse(
            "media.sdp_direction",
            f"{where.capitalize()} says no direction (a=sendonly, a=recvonly or a=sendrecv).",
        )
    if section.kind in KNOWN_CODECS and not section.rtcp_mux:
        raise refuse(
            "media.sdp_rtcp_mux",
            f"{where.capitalize()} needs a=rtcp-mux: RTP and RTCP share one port here.",
        )
    if not section.ice_ufrag or not section.ice_pwd:
        raise refuse("media.sdp_ice", f"{where.capitalize()} has no ICE username or password.")
    if not section.fingerprints or section.setup is None:
        raise refuse(
            "media.sdp_dtls", f"{where.capitalize()} needs a DTLS fingerprint and a=setup."
        )
    for number, payload_type in section.parameter_targets:
        if payload_type not in section.codecs:
            raise malformed(
                number, f"a=fmtp names payload type {payload_type}, which has no a=rtpmap."
            )
    known = KNOWN_CODECS.get(section.kind)
    if known is not None and section.direction != "inactive":
        offered = {section.codecs.get(payload_type) for payload_type in section.formats}
        if not offered & known:
            names = ", ".join(sorted(name.upper() for name in known))
            raise refuse(
                "media.sdp_codecs",
                f"{where.capitalize()} offers no {section.kind} codec this server takes ({names}).",
            )

"""Everything that touches aiortc's internals, in one place. aiortc is pinned to 1.16.0.

Stock aiortc decodes what it receives and encodes what it sends, per peer. A forwarding
server needs neither, so :func:`install` changes two things, process-wide:

- a receiver's decoder becomes :class:`EncodedPassthrough`, which turns each depacketised
  frame into an ``av.Packet`` (``pts`` = RTP timestamp, ``time_base`` = the codec's clock,
  ``is_keyframe`` from the VP8 / H.264 bitstream) instead of decoding it; aiortc's sender
  already packs an ``av.Packet`` returned by a track without encoding it;
- a keyframe request (PLI / FIR) that reaches a sender is passed to its track's
  ``request_keyframe()``, so a forwarding track can relay it to the publisher;
- a receiver remembers the last audio level (RFC 6464 header extension) its publisher sent,
  for active-speaker detection without decoding: :func:`audio_level`.
"""

from __future__ import annotations

import fractions
import logging
import time
from collections.abc import Callable
from typing import Any

import aiortc
import av
from aiortc import RTCRtpReceiver, RTCRtpSender
from aiortc import rtcrtpreceiver as _receiver_module

log = logging.getLogger("plenaria.media")

PINNED_AIORTC = "1.16.0"
VIDEO_CLOCK = fractions.Fraction(1, 90_000)
AUDIO_CLOCK = fractions.Fraction(1, 48_000)
H264_KEY_NAL_TYPES = frozenset({5, 7})
"""IDR slice and sequence parameter set."""


def vp8_is_keyframe(frame: bytes) -> bool:
    """RFC 6386 9.1: bit 0 of the frame tag is 0 on a key frame."""
    return bool(frame) and frame[0] & 0x01 == 0


def h264_is_keyframe(annex_b: bytes) -> bool:
    """True when the access unit holds an IDR slice or an SPS (Annex B start codes)."""
    index = annex_b.find(b"\x00\x00\x01")
    while index >= 0 and index + 3 < len(annex_b):
        if annex_b[index + 3] & 0x1F in H264_KEY_NAL_TYPES:
            return True
        index = annex_b.find(b"\x00\x00\x01", index + 3)
    return False


class EncodedPassthrough:
    """Stands in for aiortc's decoder: hands on encoded frames as ``av.Packet``."""

    def __init__(self, mime_type: str) -> None:
        self.mime_type = mime_type.lower()
        self.is_video = self.mime_type.startswith("video/")
        self.time_base = VIDEO_CLOCK if self.is_video else AUDIO_CLOCK

    def decode(self, encoded_frame: Any) -> list[av.Packet[Any]]:
        data: bytes = encoded_frame.data
        packet: av.Packet[Any] = av.Packet(data)
        packet.pts = encoded_frame.timestamp
        packet.dts = encoded_frame.timestamp
        packet.time_base = self.time_base
        if self.mime_type == "video/vp8":
            packet.is_keyframe = vp8_is_keyframe(data)
        elif self.mime_type == "video/h264":
            packet.is_keyframe = h264_is_keyframe(data)
        else:
            packet.is_keyframe = True
        return [packet]


_installed = False
decoders_made: list[str] = []
"""MIME types of the passthrough decoders made so far (tests assert nothing else was)."""


def _passthrough_decoder(codec: Any) -> EncodedPassthrough:
    decoders_made.append(codec.mimeType)
    return EncodedPassthrough(codec.mimeType)


def install() -> None:
    """Make every aiortc peer in this process forward encoded media. Idempotent."""
    global _installed
    if _installed:
        return
    if aiortc.__version__ != PINNED_AIORTC:
        raise RuntimeError(
            f"Plenaria's media engine is built for aiortc {PINNED_AIORTC}, "
            f"found {aiortc.__version__}"
        )
    _receiver_module.get_decoder = _passthrough_decoder  # type: ignore[attr-defined, assignment]
    original: Callable[[RTCRtpSender], None] = RTCRtpSender._send_keyframe

    def send_keyframe(sender: RTCRtpSender) -> None:
        original(sender)
        request = getattr(sender.track, "request_keyframe", None)
        if request is not None:
            request()

    RTCRtpSender._send_keyframe = send_keyframe  # type: ignore[method-assign, assignment]
    handle_rtp: Callable[..., Any] = RTCRtpReceiver._handle_rtp_packet

    async def remember_audio_level(receiver: RTCRtpReceiver, packet: Any, **kwargs: Any) -> None:
        level = packet.extensions.audio_level
        if level is not None:
            receiver._plenaria_audio_level = (time.monotonic(), level[1])  # type: ignore[attr-defined]
        await handle_rtp(receiver, packet, **kwargs)

    RTCRtpReceiver._handle_rtp_packet = remember_audio_level  # type: ignore[method-assign, assignment]
    _installed = True


AUDIO_LEVEL_FRESH = 1.0
"""Seconds after which a receiver's last audio level counts as silence (it stopped sending)."""
SILENCE_DBOV = 127


def audio_level(receiver: RTCRtpReceiver) -> int:
    """The publisher's latest audio level in -dBov (0 loudest, 127 silent), per RFC 6464."""
    seen: tuple[float, int] | None = getattr(receiver, "_plenaria_audio_level", None)
    if seen is None or time.monotonic() - seen[0] > AUDIO_LEVEL_FRESH:
        return SILENCE_DBOV
    return seen[1]


async def request_keyframe_from(receiver: RTCRtpReceiver) -> None:
    """Send a PLI to the publisher behind ``receiver`` for each of its video sources."""
    for source in receiver.getSynchronizationSources():
        await receiver._send_rtcp_pli(source.source)


def negotiated_mime_type(transceiver: Any) -> str:
    """The codec a transceiver settled on in the last negotiation (aiortc keeps it in
    ``_codecs``, best first)."""
    codecs = transceiver._codecs
    return str(codecs[0].mimeType) if codecs else ""


def answer_as_dtls_server(offer_sdp: str, answer_sdp: str) -> str:
    """Make aiortc the DTLS server when the offerer leaves the choice to us.

    aiortc answers ``a=setup:active`` (DTLS client) to an ``actpass`` offer; some WHIP
    encoders' certificates (GStreamer's RSA one) then fail the handshake. Answering
    ``passive`` is equally valid (RFC 8842) and aiortc takes its role from the local
    description."""
    if "a=setup:actpass" not in offer_sdp:
        return answer_sdp
    return answer_sdp.replace("a=setup:active", "a=setup:passive")


class IceRestartError(Exception):
    pass


async def add_trickled_candidates(peer: Any, fragment: str) -> None:
    """Apply a trickle-ice-sdpfrag (RFC 8840) to ``peer``: its candidates, by m-line.

    Raises :class:`IceRestartError` when the fragment carries new ICE credentials."""
    from aiortc.sdp import candidate_from_sdp

    remote = peer.remoteDescription.sdp if peer.remoteDescription else ""
    mid: str | None = None
    for line in fragment.splitlines():
        line = line.strip()
        if line.startswith("a=ice-ufrag:") and f"a=ice-ufrag:{line[12:]}" not in remote:
            raise IceRestartError
        if line.startswith("a=mid:"):
            mid = line[6:]
        elif line.startswith("a=candidate:"):
            fields = line[12:].split()
            if len(fields) < 8 or not fields[5].isdigit():
                raise ValueError(f"not an ICE candidate: {line[:80]!r}")
            candidate = candidate_from_sdp(line[12:])
            candidate.sdpMid = mid
            if mid is None:
                candidate.sdpMLineIndex = 0
            await peer.addIceCandidate(candidate)


def pin_codec(transceiver: Any, mime_type: str) -> bool:
    """Keep only ``mime_type`` (and its RTX) among a transceiver's negotiated codecs.

    A forwarding server cannot transcode, so a viewer must receive the publisher's codec.
    aiortc applies codec preferences to an answer only when they are set before the
    transceiver exists; a WHEP viewer's transceivers are made by the offer, so the
    negotiated list is filtered here, between ``setRemoteDescription`` and ``createAnswer``.
    Returns False when the viewer does not offer that codec at all."""
    wanted = mime_type.lower()
    kept = [c for c in transceiver._codecs if c.mimeType.lower() == wanted]
    payload_types = {c.payloadType for c in kept}
    rtx = [
        c
        for c in transceiver._codecs
        if c.mimeType.lower().endswith("/rtx") and c.parameters.get("apt") in payload_types
    ]
    if not kept:
        return False
    transceiver._codecs = kept + rtx
    return True

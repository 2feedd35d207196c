"""The glue's SRTP fast path protects exactly as pylibsrtp's ``Session.protect`` does."""

from __future__ import annotations

import os
import struct

from pylibsrtp import Policy, Session

from server.media.aiortc_glue import srtp_protector, srtp_unprotector

PROFILES = [
    (Policy.SRTP_PROFILE_AES128_CM_SHA1_80, 30),
    (Policy.SRTP_PROFILE_AEAD_AES_128_GCM, 28),
]


def packet(sequence: int, size: int) -> bytes:
    return struct.pack("!BBHII", 0x80, 96, sequence, sequence * 3000, 1234) + os.urandom(size)


def test_protected_packets_are_the_same_and_unprotect() -> None:
    for profile, key_length in PROFILES:
        key = os.urandom(key_length)
        stock = Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND, srtp_profile=profile))
        fast = Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND, srtp_profile=profile))
        viewer = Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_INBOUND, srtp_profile=profile))
        protect = srtp_protector(fast)
        for sequence, size in enumerate((0, 1, 160, 1200, 1300)):
            plain = packet(sequence, size)
            protected = protect(plain)
            assert protected is not None
            assert bytes(protected) == stock.protect(plain)
            assert viewer.unprotect(bytes(protected)) == plain


def test_a_packet_too_long_for_srtp_is_refused_not_raised() -> None:
    session = Session(Policy(key=os.urandom(30), ssrc_type=Policy.SSRC_ANY_OUTBOUND))
    protect = srtp_protector(session)
    assert protect(packet(1, 1500)) is None
    assert protect(packet(2, 100)) is not None


def test_the_unprotector_verifies_and_refuses_tampering() -> None:
    key = os.urandom(30)
    sender = Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND))
    unprotect = srtp_unprotector(Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_INBOUND)))
    plain = packet(5, 300)
    protected = sender.protect(plain)
    assert unprotect(protected) == plain
    assert unprotect(protected) is None, "a replay is refused"
    tampered = bytearray(sender.protect(packet(6, 300)))
    tampered[20] ^= 0xFF
    assert unprotect(bytes(tampered)) is None

"""A publisher's receiver sends REMB at most every 200 ms, or at once when it falls 3 %."""

from __future__ import annotations

from typing import Any

from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket, RtcpRtpfbPacket, pack_remb_fci

from server.media.aiortc_glue import RembThrottle


def remb(bitrate: int) -> RtcpPsfbPacket:
    return RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=1, media_ssrc=0, fci=pack_remb_fci(bitrate, [5]))


class Clock:
    def __init__(self) -> None:
        self.ms = 1_000

    def __call__(self) -> int:
        return self.ms


async def test_remb_is_throttled_but_drops_and_other_feedback_pass() -> None:
    sent: list[Any] = []

    async def send(packet: Any) -> None:
        sent.append(packet)

    clock = Clock()
    throttle = RembThrottle(send, clock)
    await throttle(remb(1_000_000))
    for _ in range(50):  # one per packet while the estimator sees overuse
        clock.ms += 2
        await throttle(remb(1_000_000))
    assert len(sent) == 1
    await throttle(remb(980_000))
    assert len(sent) == 1, "a fall of 2 % waits for the interval"
    await throttle(remb(960_000))
    assert len(sent) == 2, "a fall of 4 % goes at once"
    clock.ms += 200
    await throttle(remb(1_200_000))
    assert len(sent) == 3, "after 200 ms the next one goes"
    nack = RtcpRtpfbPacket(fmt=1, ssrc=1, media_ssrc=5)
    nack.lost.append(7)
    await throttle(nack)
    await throttle(nack)
    assert sent[-2:] == [nack, nack]
    assert throttle.held == 51

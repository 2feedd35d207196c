"""Types of the compiled forwarding loop (server/media/_fanout.c)."""

from collections.abc import Callable
from typing import TypeVar

MAX_PACKET: int
"""The longest RTP packet a sink protects and sends (header included)."""

class UdpSink:
    """One viewer's socket (its own duplicate of the descriptor), address and SRTP context:
    callable as ``rtp_forwarding.Sink``; False when the socket's buffer is full."""

    sent: int
    refused: int
    def __init__(
        self,
        context: int,
        protect: int,
        keepalive: object,
        fd: int,
        family: int,
        address: tuple[str, int] | tuple[str, int, int, int],
        protect_rtcp: int = 0,
    ) -> None: ...
    def __call__(
        self, first_bits: int, sequence: int, timestamp: int, ssrc: int, body: bytes, /
    ) -> bool: ...
    def send_rtcp(self, packet: bytes, /) -> bool:
        """SRTCP-protect a compound RTCP packet (8 to 1352 bytes) and send it."""
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...

class Route:
    """The rewriting state of one viewer of one track."""

    sink: Callable[[int, int, int, int, bytes], bool] | None
    first_bits: int
    sequence_offset: int
    last_sequence: int
    ssrc: int
    timestamp_offset: int
    last_timestamp: int | None
    profile_index: int
    packets: int
    octets: int
    def transmit(
        self, body: bytes, marker_bit: int, sequence: int, timestamp: int, payload_length: int, /
    ) -> bool: ...

_R = TypeVar("_R", bound=Route)

def forward(
    routes: list[_R], packets: list[tuple[list[bytes], int, int, int, int]], /
) -> list[_R] | None:
    """Send ``packets`` (each: bodies by extension profile, marker bit, sequence number,
    timestamp, payload length) on every route; the routes that backed up come back."""

def gso_sends() -> int:
    """Segmented sends (several datagrams in one ``sendmsg``) so far in this process."""

def gso_enabled(enabled: bool | None = None, /) -> bool:
    """Whether segmented sends are used (off for good once the kernel refuses one);
    ``False`` turns them off."""

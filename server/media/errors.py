"""The media engine's refusals, as media errors: the HTTP edge (the error middleware) answers
them by kind, so the engine knows nothing of statuses or headers."""

from __future__ import annotations

from typing import Literal

RETRY_AFTER_SECONDS = 5
"""What a client is told to wait before asking again for a stream that is not there yet."""

MediaErrorKind = Literal["invalid", "conflict", "unavailable"]
"""The offer cannot be used (422); the stream is not in a state for it (409); a media
process cannot be reached (503)."""


class MediaError(Exception):
    def __init__(
        self,
        code: str,
        message: str,
        kind: MediaErrorKind = "conflict",
        *,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.kind: MediaErrorKind = kind
        self.retry_after = retry_after
        """Seconds after which asking again may succeed."""


def unusable(message: str) -> MediaError:
    return MediaError("media.sdp_unusable", message, "invalid")


def already_live() -> MediaError:
    return MediaError("media.already_live", "Someone is already publishing here.")


def offline() -> MediaError:
    return MediaError(
        "media.offline",
        "Nothing is being published here right now.",
        retry_after=RETRY_AFTER_SECONDS,
    )


def unreachable(code: str, message: str) -> MediaError:
    return MediaError(code, message, "unavailable", retry_after=RETRY_AFTER_SECONDS)

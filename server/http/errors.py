"""Errors with a stable code, answered as JSON by the API and as a page elsewhere."""

from __future__ import annotations


class AppError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}


class OutageLog:
    """Says once a while, not once per request, that the store cannot be reached: an
    outage of a second answers hundreds of requests with 503."""

    def __init__(self, every: float = 5.0) -> None:
        self.every = every
        self.last_said = float("-inf")
        self.unsaid = 0

    def should_say(self, now: float) -> int | None:
        """The number of outage answers since it was last said, when it is time to say."""
        self.unsaid += 1
        if now - self.last_said < self.every:
            return None
        count, self.unsaid, self.last_said = self.unsaid, 0, now
        return count

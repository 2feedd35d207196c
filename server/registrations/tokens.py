"""The signed codes a registrant carries: the personal link that signs them in, and the check-in
code their ticket's QR code holds.

Both name the registration's ``participant_id`` (random, kept across re-imports; never the
key, which may be an e-mail address), signed with the conference's secret key, each kind with
a salt of its own so neither can stand in for the other. Neither expires: a personal link
works on every device until the registration is erased, and so does a ticket.
"""

from __future__ import annotations

import re

from itsdangerous import BadSignature, Signer

MAX_CODE = 200
PARTICIPANT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class RegistrationCodes:
    def __init__(self, secret_key: bytes) -> None:
        self._links = Signer(secret_key, salt="plenaria.registration-link")
        self._tickets = Signer(secret_key, salt="plenaria.check-in")

    def link_token(self, participant_id: str) -> str:
        return self._links.sign(participant_id).decode()

    def ticket_code(self, participant_id: str) -> str:
        return self._tickets.sign(participant_id).decode()

    def read_link(self, token: str) -> str | None:
        """The participant id a personal link names; ``None`` if it is not one of ours."""
        return _unsign(self._links, token)

    def read_ticket(self, code: str) -> str | None:
        """The participant id a ticket names. A scanned code may be the bare code or an
        address ending in it, with white space around."""
        text = code.strip()
        return _unsign(self._tickets, text.rsplit("/", 1)[-1])


def _unsign(signer: Signer, value: str) -> str | None:
    if not value or len(value) > MAX_CODE or not value.isascii():
        return None
    try:
        participant_id = signer.unsign(value).decode()
    except (BadSignature, UnicodeDecodeError):
        return None
    return participant_id if PARTICIPANT.match(participant_id) else None

"""Identity cookies, CSRF tokens and one-time login links.

Everything a browser holds is signed with the process's secret key (itsdangerous); the
store keeps only a SHA-256 hash of a login link's secret, so a leaked database grants
nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer

from server.backends.store import Store
from sessions.roles import Identity, LoginGrant, Role

IDENTITY_COOKIE = "plenaria_identity"
CSRF_COOKIE = "plenaria_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
IDENTITY_MAX_AGE = 60 * 60 * 24 * 30
MAX_TOKEN_LENGTH = 1024


class IdentityCodec:
    """Signs an identity into a string: the cookie of a browser, or an API bearer token.

    A bearer token carries its own expiry, since it cannot be refreshed like a cookie."""

    def __init__(self, secret_key: bytes, *, salt: str = "plenaria.identity") -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt=salt)

    def dumps(self, identity: Identity, expires_at: dt.datetime | None = None) -> str:
        roles = sorted([code, role.value] for code, role in identity.roles)
        payload: dict[str, object] = {
            "p": identity.participant_id,
            "n": identity.display_name,
            "r": roles,
        }
        if expires_at is not None:
            payload["e"] = int(expires_at.timestamp())
        return self._serializer.dumps(payload)

    def loads(self, value: str, now: dt.datetime | None = None) -> Identity:
        """The identity in a cookie or token; anonymous when missing, forged or expired."""
        if not value or len(value) > 4096:
            return Identity()
        try:
            payload = self._serializer.loads(value, max_age=IDENTITY_MAX_AGE)
            expires = payload.get("e")
            if expires is not None and (now is None or now.timestamp() >= int(expires)):
                return Identity()
            roles = frozenset((str(code), Role(role)) for code, role in payload["r"])
            return Identity(
                participant_id=str(payload["p"]), display_name=str(payload["n"]), roles=roles
            )
        except (BadSignature, KeyError, TypeError, ValueError, AttributeError):
            return Identity()


def bearer_codec(secret_key: bytes) -> IdentityCodec:
    return IdentityCodec(secret_key, salt="plenaria.bearer")


def new_participant_id() -> str:
    return secrets.token_urlsafe(12)


def new_csrf_secret() -> str:
    return secrets.token_urlsafe(24)


def csrf_token(secret_key: bytes, csrf_secret: str) -> str:
    """The token a page embeds for its forms: a MAC of the browser's CSRF cookie."""
    return hmac.new(secret_key, b"csrf:" + csrf_secret.encode(), hashlib.sha256).hexdigest()


def csrf_token_valid(secret_key: bytes, csrf_secret: str, token: str) -> bool:
    if not csrf_secret or not token:
        return False
    return hmac.compare_digest(csrf_token(secret_key, csrf_secret), token)


@dataclass(frozen=True, slots=True)
class LoginClaims:
    """What a login link says about itself; trusted only because it is signed."""

    secret: str
    role: Role
    session_code: str
    expires_at: dt.datetime


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class LoginLinks:
    def __init__(self, secret_key: bytes) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt="plenaria.login-link")

    async def issue(
        self, store: Store, role: Role, session_code: str, now: dt.datetime, ttl: dt.timedelta
    ) -> tuple[str, LoginGrant]:
        """Store a new single-use grant; return the token for the link and the grant."""
        secret = secrets.token_urlsafe(24)
        grant = LoginGrant(
            secret_hash=hash_secret(secret),
            role=role,
            session_code=session_code,
            created_at=now,
            expires_at=now + ttl,
        )
        await store.add_login_grant(grant)
        token = self._serializer.dumps(
            {
                "s": secret,
                "r": role.value,
                "c": session_code,
                "e": int(grant.expires_at.timestamp()),
            }
        )
        return token, grant

    def read(self, token: str) -> LoginClaims | None:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        try:
            payload = self._serializer.loads(token)
            return LoginClaims(
                secret=str(payload["s"]),
                role=Role(payload["r"]),
                session_code=str(payload["c"]),
                expires_at=dt.datetime.fromtimestamp(int(payload["e"]), dt.UTC),
            )
        except (BadSignature, KeyError, TypeError, ValueError, OverflowError, OSError):
            return None

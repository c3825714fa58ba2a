"""JWTs: HS256 only (pinned on decode), always with ``exp``, ``iat``, ``jti``, ``sub`` and an audience.

Audiences keep token kinds apart even where they share a secret: a registration (email-verification) token is
signed with ``JWT_KEY_CUSTOMER`` like a customer access token, but its audience differs, so it can never pass as one.
"""
from __future__ import annotations

import secrets
import time

import jwt

from omcore import config
from omcore.errors import Unauthorized

ALGORITHM = "HS256"

AUD_CUSTOMER = "openmerce:customer"
AUD_STAFF = "openmerce:staff"
AUD_EMAIL = "openmerce:email-verification"
AUD_EMAIL_CHANGE = "openmerce:email-change"

_KEY_FOR_AUDIENCE = {
    AUD_CUSTOMER: "JWT_KEY_CUSTOMER",
    AUD_EMAIL: "JWT_KEY_CUSTOMER",
    AUD_EMAIL_CHANGE: "JWT_KEY_CUSTOMER",
    AUD_STAFF: "JWT_KEY_STAFF",
}


def access_ttl_seconds() -> int:
    return config.get_int("ACCESS_TOKEN_TTL_SECONDS", 900)


def new_jti() -> str:
    return secrets.token_urlsafe(16)


def _key(audience: str) -> str:
    return config.get(_KEY_FOR_AUDIENCE[audience])


def issue(audience: str, subject: str, ttl_seconds: int, claims: dict | None = None, *, jti: str | None = None) -> str:
    now = int(time.time())
    payload = dict(claims or {})
    payload.update({"sub": str(subject), "aud": audience, "iat": now, "exp": now + int(ttl_seconds),
                    "jti": jti or new_jti()})
    return jwt.encode(payload, _key(audience), algorithm=ALGORITHM)


def decode(audience: str, token: str | None, *, message: str = "invalid or expired token") -> dict:
    """Verify signature (HS256 only), ``exp``, ``iat``, audience and required claims, or raise 401."""
    if not token or len(token) > 4096:
        raise Unauthorized(message)
    try:
        return jwt.decode(token, _key(audience), algorithms=[ALGORITHM], audience=audience,
                          options={"require": ["exp", "iat", "sub", "jti", "aud"]}, leeway=5)
    except jwt.PyJWTError:
        raise Unauthorized(message) from None

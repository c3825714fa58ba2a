"""JWTs: HS256 only (pinned on decode), always with ``exp``, ``iat``, ``jti``, ``sub`` and an audience.

Signed and checked here with ``hmac``/``hashlib`` (RFC 7519 compact JWS, the exact bytes PyJWT writes, which the
tests use to forge tokens): PyJWT imports ``cryptography`` whenever it is installed and its JWKS client's
``urllib.request`` either way — 40–110 ms of every authenticated function's cold start for RSA and HTTP code an
HS256 token never runs (docs/benchmarks.md). Decoding is strict: three base64url parts of the URL-safe alphabet
only, a JSON object header whose ``alg`` is exactly ``HS256`` and that names no ``crit`` extension, a constant-time
signature check before the payload is read, then ``exp``/``iat``/``nbf`` (5 s leeway), the audience and the
required claims.

Audiences keep token kinds apart even where they share a secret: a registration (email-verification) token is
signed with ``JWT_KEY_CUSTOMER`` like a customer access token, but its audience differs, so it can never pass as one.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time

from omcore import config
from omcore.errors import Unauthorized

ALGORITHM = "HS256"
LEEWAY_SECONDS = 5
REQUIRED_CLAIMS = ("exp", "iat", "sub", "jti", "aud")
_HEADER = b'{"alg":"HS256","typ":"JWT"}'
_B64URL = re.compile(r"[A-Za-z0-9_-]*")

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
    return config.get_int("ACCESS_TOKEN_TTL_SECONDS")


def new_jti() -> str:
    return secrets.token_urlsafe(16)


def _key(audience: str) -> str:
    return config.get(_KEY_FOR_AUDIENCE[audience])


def _b64encode(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _b64decode(part: str) -> bytes:
    if not _B64URL.fullmatch(part) or len(part) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _sign(key: str, signing_input: bytes) -> bytes:
    return hmac.new(key.encode("utf-8"), signing_input, hashlib.sha256).digest()


def issue(audience: str, subject: str, ttl_seconds: int, claims: dict | None = None, *, jti: str | None = None) -> str:
    now = int(time.time())
    payload = dict(claims or {})
    payload.update({"sub": str(subject), "aud": audience, "iat": now, "exp": now + int(ttl_seconds),
                    "jti": jti or new_jti()})
    signing_input = _b64encode(_HEADER) + b"." + _b64encode(json.dumps(payload, separators=(",", ":")).encode())
    return (signing_input + b"." + _b64encode(_sign(_key(audience), signing_input))).decode("ascii")


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _verify(audience: str, token: str) -> dict | None:
    """The claims of a valid token, else None."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header = json.loads(_b64decode(parts[0]))
        signature = _b64decode(parts[2])
    except (ValueError, RecursionError):  # bad base64, bad JSON, bad UTF-8, absurd nesting
        return None
    if not isinstance(header, dict) or header.get("alg") != ALGORITHM or "crit" in header:
        return None
    expected = _sign(_key(audience), (parts[0] + "." + parts[1]).encode("ascii"))
    if not hmac.compare_digest(expected, signature):
        return None
    try:
        claims = json.loads(_b64decode(parts[1]))
    except (ValueError, RecursionError):
        return None
    if not isinstance(claims, dict) or any(name not in claims for name in REQUIRED_CLAIMS):
        return None
    now = time.time()
    exp, iat, nbf = claims["exp"], claims["iat"], claims.get("nbf", 0)
    if not (_number(exp) and _number(iat) and _number(nbf)):
        return None
    if exp <= now - LEEWAY_SECONDS or iat > now + LEEWAY_SECONDS or nbf > now + LEEWAY_SECONDS:
        return None
    aud = claims["aud"]
    if not (aud == audience or (isinstance(aud, list) and audience in aud)):
        return None
    if not isinstance(claims["sub"], str) or not isinstance(claims["jti"], str):
        return None
    return claims


def decode(audience: str, token: str | None, *, message: str = "invalid or expired token") -> dict:
    """Verify signature (HS256 only), ``exp``, ``iat``, audience and required claims, or raise 401."""
    if not token or len(token) > 4096 or not token.isascii():
        raise Unauthorized(message)
    claims = _verify(audience, token)
    if claims is None:
        raise Unauthorized(message)
    return claims

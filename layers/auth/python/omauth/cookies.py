"""Set-Cookie values: host-only, ``Path=/``, HttpOnly, SameSite=Strict, and Secure unless ``COOKIE_SECURE=false``
(plain-http local runs on 127.0.0.1)."""
from __future__ import annotations

from omcore import config

ACCESS_CUSTOMER = "ac_cus"
REFRESH_CUSTOMER = "ref_cus"
ACCESS_STAFF = "ac_stf"
REFRESH_STAFF = "ref_stf"
EMAIL = "email"


def _secure() -> bool:
    return config.get_bool("COOKIE_SECURE")


def make(name: str, value: str, max_age: int | None = None) -> str:
    parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Strict"]
    if max_age is not None:
        parts.append(f"Max-Age={int(max_age)}")
    if _secure():
        parts.append("Secure")
    return "; ".join(parts)


def expire(name: str) -> str:
    parts = [f"{name}=", "Path=/", "HttpOnly", "SameSite=Strict", "Max-Age=0",
             "Expires=Thu, 01 Jan 1970 00:00:00 GMT"]
    if _secure():
        parts.append("Secure")
    return "; ".join(parts)


def session_pair(access_name: str, refresh_name: str, access_token: str, refresh_token: str | None,
                 remember_me: bool, refresh_ttl: int, access_ttl: int) -> list[str]:
    """The access and refresh cookies of a login or refresh: persistent with ``remember_me`` (access for its token
    lifetime, refresh for the session's remaining lifetime), session cookies otherwise. No refresh cookie when the
    refresh token did not change (a refresh inside the rotation grace window)."""
    out = [make(access_name, access_token, access_ttl if remember_me else None)]
    if refresh_token is not None:
        out.append(make(refresh_name, refresh_token, refresh_ttl if remember_me else None))
    return out

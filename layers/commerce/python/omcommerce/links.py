"""Where a banner may send the shopper: one rule for the back office and for banners imported from v1.

A same-site path (one leading ``/``, not ``//`` or ``/\\``, which browsers read as another host) or an ``https``
URL whose host is on ``BANNER_HREF_HOSTS``. No whitespace, control characters or backslashes anywhere (browsers
drop or rewrite them, so ``/\\evil.example`` or ``/<tab>/evil.example`` become another site), no user info or port.
"""
from __future__ import annotations

from urllib.parse import urlsplit

MAX_LENGTH = 255
RULE = ("href must be a site path starting with a single / or an https:// URL on an allowed host"
        f" (at most {MAX_LENGTH} characters)")


def allowed_hosts() -> frozenset[str]:
    from omcore import config

    return frozenset(h.strip().lower() for h in (config.get("BANNER_HREF_HOSTS", "") or "").split(",") if h.strip())


def safe_href(value, hosts: frozenset[str] | None = None) -> str | None:
    """The href, stripped, when it follows the rule; else None."""
    href = value.strip() if isinstance(value, str) else ""
    if not href or len(href) > MAX_LENGTH or "\\" in href or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in href):
        return None
    if href.startswith("/"):
        return href if not href.startswith("//") else None
    if not href.lower().startswith("https://"):
        return None
    try:
        parts = urlsplit(href)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if "@" in parts.netloc or port is not None or not host:
        return None
    return href if host in (allowed_hosts() if hosts is None else hosts) else None

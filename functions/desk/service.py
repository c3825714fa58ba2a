"""The pages of the order desk (staff) and the customer's password reset: plain files under ``static/``, read once
per process and served as they are. No template engine, no build step: the pages' scripts call the existing
``/api/v1`` endpoints on the same origin, so roles, the order state machine and the reset limits stay enforced in
one place, the API. See docs/desk.md."""
from __future__ import annotations

import os

_STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")

_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}

# what each page prefix may serve: a fixed list, so no request names a file by itself
DESK_PAGE = "desk.html"
RESET_PAGE = "reset.html"
DESK_ASSETS = frozenset({"desk.js", "pages.js", "pages.css", "icon.svg"})
RESET_ASSETS = frozenset({"reset.js", "pages.js", "pages.css", "icon.svg"})

# Every page and asset: nothing from another origin, no inline script or style, no framing, no plugins. The pages
# only talk to their own origin (connect-src 'self'), and forms post nowhere (the scripts send JSON with fetch).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
                               "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    # revalidate every time (a weak ETag makes that a 304): a deployment reaches every open desk at its next load
    "Cache-Control": "no-cache",
}

_files: dict[str, tuple[bytes, str]] = {}


class UnknownAsset(Exception):
    pass


def read(name: str) -> tuple[bytes, str]:
    """(content, content type) of a shipped page file (the routes name them; ``UnknownAsset`` otherwise)."""
    cached = _files.get(name)
    if cached is None:
        extension = os.path.splitext(name)[1]
        if extension not in _TYPES or os.path.basename(name) != name:
            raise UnknownAsset(name)
        try:
            with open(os.path.join(_STATIC, name), "rb") as fh:
                cached = (fh.read(), _TYPES[extension])
        except FileNotFoundError:
            raise UnknownAsset(name) from None
        _files[name] = cached
    return cached

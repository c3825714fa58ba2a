"""Errors that business code raises and the HTTP layer turns into ``{"error": ..., "code": ...}`` responses.

Business functions know nothing of HTTP, but they do know *what kind* of failure happened; each kind maps to
one status code here, once. ``error`` is the human message (the v1 UIs show it); ``code`` is the machine-readable
kind a client branches on: by default the status's (``CODES``: ``not_found``, ``conflict``, ``rate_limited``...),
and an explicit ``code=`` where one status has several meanings (checkout's 409: ``out_of_stock``,
``cart_changed``, ``too_many_unpaid``...). Codes are ``lower_snake_case`` and, once published, never change.
"""
from __future__ import annotations

# the default code of each status (an answer's code when the raiser gave none)
CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         408: "timeout", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
         422: "unprocessable", 429: "rate_limited", 500: "internal_error", 502: "bad_gateway",
         503: "unavailable", 504: "timeout"}


def code_for(status: int) -> str:
    """The default ``code`` of an error answer with this status."""
    return CODES.get(int(status), "client_error" if 400 <= int(status) < 500 else "server_error")


class ApiError(Exception):
    status = 400
    code: str | None = None  # a subclass may fix its own; else the status's default

    def __init__(self, message: str, /, *, status: int | None = None, headers: dict | None = None,
                 code: str | None = None, **extra):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.code = code or type(self).code or code_for(self.status)
        self.headers = headers or {}
        self.extra = extra


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class PayloadTooLarge(ApiError):
    status = 413


class UnsupportedMediaType(ApiError):
    status = 415


class TooManyRequests(ApiError):
    status = 429

    def __init__(self, message: str, /, retry_after: int, **extra):
        retry_after = max(1, int(retry_after))
        super().__init__(message, headers={"Retry-After": str(retry_after)}, **extra)
        self.retry_after = retry_after


class BadGateway(ApiError):
    status = 502


class ServiceUnavailable(ApiError):
    status = 503

    def __init__(self, message: str = "service temporarily unavailable, please retry", **extra):
        super().__init__(message, headers={"Retry-After": "2"}, **extra)


# Exceptions raised by lower layers (database, Redis) that the HTTP layer maps without importing those layers.
_REGISTERED: dict[type, tuple[int, str]] = {}


def register(exc_type: type, status: int, message: str) -> None:
    """Tell the HTTP layer how to answer an exception type raised below it (e.g. ``DatabaseUnavailable`` → 503)."""
    _REGISTERED[exc_type] = (status, message)


def classify(exc: BaseException) -> tuple[int, str] | None:
    for cls in type(exc).__mro__:
        hit = _REGISTERED.get(cls)
        if hit:
            return hit
    return None

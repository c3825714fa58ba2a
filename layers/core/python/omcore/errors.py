"""Errors that business code raises and the HTTP layer turns into ``{"error": ...}`` responses.

Business functions know nothing of HTTP, but they do know *what kind* of failure happened; each kind maps to
one status code here, once.
"""
from __future__ import annotations


class ApiError(Exception):
    status = 400

    def __init__(self, message: str, /, *, status: int | None = None, headers: dict | None = None, **extra):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
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

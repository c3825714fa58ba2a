"""bcrypt password hashing. Hashes written by the Go backend (``$2a$10$...``) verify unchanged."""
from __future__ import annotations

import bcrypt

from omcore import config
from omcore.errors import BadRequest

PASSWORD_RULE = ("Password must be 8 to 72 bytes long and contain at least one lowercase letter, one uppercase "
                 "letter, one number and one special character (any character that is not a letter or a number, "
                 "for example ! @ # $ or a space)")

_dummy: dict[int, bytes] = {}


def _dummy_hash() -> bytes:
    """A real hash of a random password at the configured cost: verifying against it costs the same as a real
    check, so a login for an unknown account takes as long as one with a wrong password."""
    cost = _cost()
    if cost not in _dummy:
        import secrets

        _dummy[cost] = bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(rounds=cost))
    return _dummy[cost]


def password_problem(password) -> str | None:
    """The rule's message when ``password`` breaks it, else None. One rule for customers and staff."""
    if not isinstance(password, str):
        return PASSWORD_RULE
    encoded = password.encode("utf-8")
    if len(password) < 8 or len(encoded) > 72 or "\x00" in password:
        return PASSWORD_RULE
    has_lower = any(c.islower() for c in password)
    has_upper = any(c.isupper() for c in password)
    has_digit = any(c.isdigit() for c in password)
    has_special = any(not c.isalnum() for c in password)
    if not (has_lower and has_upper and has_digit and has_special):
        return PASSWORD_RULE
    return None


def check_password_rule(password) -> str:
    problem = password_problem(password)
    if problem:
        raise BadRequest(problem)
    return password


def _cost() -> int:
    return config.get_int("BCRYPT_COST")


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=_cost())).decode("ascii")


def verify_password(password, hashed) -> bool:
    """Constant-time bcrypt check. ``hashed=None`` (unknown account) still spends one bcrypt round."""
    if not isinstance(password, str):
        password = ""
    pw = password.encode("utf-8")[:72]
    if hashed is None:
        bcrypt.checkpw(pw, _dummy_hash())
        return False
    if isinstance(hashed, str):
        hashed = hashed.encode("ascii")
    hashed = bytes(hashed).rstrip(b"\x00 ")
    if hashed.startswith(b"$2y$"):
        hashed = b"$2b$" + hashed[4:]
    try:
        return bcrypt.checkpw(pw, hashed)
    except ValueError:
        bcrypt.checkpw(pw, _dummy_hash())
        return False

"""Staff authentication and staff management.

Role flags are live: the staff guard reads them from Redis (``omauth.staffroles``, filled from the database), and
every change made here publishes the new state at once, so a demotion, promotion or deletion takes effect on the
very next request. Demotion, deletion and password changes also end the member's sessions (and with them their
access tokens). The super admin (ADMIN_USERNAME/ADMIN_PASSWORD) is created when absent, never overwritten, cannot be
demoted or deleted through the API, and only the super admin may set its password.

Usernames match exactly: the ``staffs.username`` column's collation ignores case and accents, so the lookup finds
``admin`` for ``Ádmin`` — such a login is refused like a wrong password (and counts against ``admin``'s limits).
"""
from __future__ import annotations

from typing import NamedTuple

from omauth import codes, passwords, ratelimit, sessions, staffroles, tokens
from omcommerce import notify
from omcore import config
from omcore.errors import BadRequest, Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized
from omcore.log import get_logger
from omdb import db
from omdb.errors import DuplicateKey

log = get_logger("staff_auth")

KIND = "stf"
ROLES = ("fin_user", "inv_user", "sys_admin")
_UPDATABLE = frozenset({"name", "hashed_password", "email", *ROLES})  # the staffs columns update_staff may write
_COLUMNS = ("id, username, name, email, fin_user, inv_user, sys_admin, hashed_password, created_at, updated_at,"
            " deleted_at")
RESET = "staff-reset"  # the purpose of staff reset codes (subject: the staff id)


def admin_username() -> str:
    return config.get("ADMIN_USERNAME") or "admin"


def ensure_super_admin() -> bool:
    """Create the super admin when no staff row has ADMIN_USERNAME. Never touches an existing row.
    Returns True when it was created now."""
    username = admin_username()
    if db.query_one("SELECT id FROM staffs WHERE username = %s", (username,)):
        return False
    password = config.get("ADMIN_PASSWORD")
    problem = passwords.password_problem(password)
    if problem:
        raise config.ConfigError(f"ADMIN_PASSWORD does not meet the password rule: {problem}")
    try:
        db.execute("INSERT INTO staffs (username, hashed_password, name, fin_user, inv_user, sys_admin)"
                   " VALUES (%s, %s, 'superadmin', TRUE, TRUE, TRUE)", (username, passwords.hash_password(password)))
    except DuplicateKey:
        return False  # another process created it first
    log.info("super admin %r created", username)
    return True


def _row(staff_id: int) -> dict | None:
    return db.query_one(f"SELECT {_COLUMNS} FROM staffs WHERE id = %s", (staff_id,))


def public(row: dict) -> dict:
    return {"id": int(row["id"]), "username": row["username"], "name": row["name"], "email": row.get("email"),
            "fin_user": bool(row["fin_user"]), "inv_user": bool(row["inv_user"]), "sys_admin": bool(row["sys_admin"]),
            "deleted": row["deleted_at"] is not None,
            "created_at": row["created_at"].strftime("%Y-%m-%dT%H:%M:%SZ") if row.get("created_at") else None}


class Login(NamedTuple):  # not a dataclass: `dataclasses` + `inspect` stay out of the cold start
    access_token: str
    refresh_token: str | None
    remember_me: bool
    refresh_ttl: int
    profile: dict


def access_token(row: dict, family: str) -> str:
    return tokens.issue(tokens.AUD_STAFF, str(row["id"]), tokens.access_ttl_seconds(),
                        {"sid": family, "username": row["username"], "fin_user": bool(row["fin_user"]),
                         "inv_user": bool(row["inv_user"]), "sys_admin": bool(row["sys_admin"])})


def login(username: str, password: str, remember_me: bool, ip: str, user_agent: str) -> Login:
    ensure_super_admin()  # one indexed SELECT per staff login; creates the account on a fresh database
    row = db.query_one(f"SELECT {_COLUMNS} FROM staffs WHERE username = %s", (username,))
    # limits count per account whatever variant of the name was typed: the found row's name (the collation matched
    # it), else the typed one, both case- and accent-folded
    subject = ratelimit.canonical_name(row["username"] if row is not None else username)
    ratelimit.check_login("staff-login", subject, ip)
    usable = row is not None and row["deleted_at"] is None and row["username"] == username
    if not passwords.verify_password(password, row["hashed_password"] if usable else None):
        ratelimit.login_failed("staff-login", subject, ip)
        raise Unauthorized("invalid username or password")
    ratelimit.login_succeeded("staff-login", subject, ip)
    staffroles.publish(int(row["id"]), row)
    session = sessions.create(KIND, str(row["id"]), remember_me=remember_me, user_agent=user_agent)
    return Login(access_token(row, session.family), session.refresh_token, remember_me, session.ttl_seconds,
                 {"username": row["username"], "fin_user": bool(row["fin_user"]), "inv_user": bool(row["inv_user"]),
                  "sys_admin": bool(row["sys_admin"])})


def refresh(token: str | None) -> Login:
    session = sessions.rotate(KIND, token)
    row = _row(int(session.user_id))
    staffroles.publish(int(session.user_id), row)
    if row is None or row["deleted_at"] is not None:
        sessions.revoke_family(KIND, session.user_id, session.family)
        raise Unauthorized("no valid session, please log in")
    return Login(access_token(row, session.family), session.refresh_token, session.remember_me, session.ttl_seconds,
                 {})


def logout(refresh_token: str | None, access_token_value: str | None) -> None:
    """End the session of the refresh cookie and the one the access cookie belongs to."""
    sessions.logout(KIND, tokens.AUD_STAFF, refresh_token, access_token_value)


def me(staff_id: int) -> dict:
    """The signed-in member as the staff screens show it (roles as stored now), and whether it is the super admin."""
    row = _row(staff_id)
    if row is None or row["deleted_at"] is not None:
        raise Unauthorized("not logged in or session expired")
    return {**public(row), "super_admin": row["username"] == admin_username()}


# ---------------------------------------------------------------- staff management (sys_admin)

def list_staff() -> list[dict]:
    rows = db.query(f"SELECT {_COLUMNS} FROM staffs ORDER BY id")
    return [public(r) for r in rows]


def get_staff(staff_id: int) -> dict:
    row = _row(staff_id)
    if row is None:
        raise NotFound("staff not found")
    return public(row)


_USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def create_staff(username: str, password: str, name: str, fin_user: bool = False, inv_user: bool = False,
                 sys_admin: bool = False, email: str | None = None) -> dict:
    # ASCII only: no look-alike names (an accented or Cyrillic "admin") and exact matching stays unambiguous
    if not username or len(username) > 32 or not set(username) <= _USERNAME_CHARS:
        raise BadRequest("username must be 1 to 32 ASCII letters, digits, '.', '_' or '-'")
    passwords.check_password_rule(password)
    try:
        staff_id = db.execute("INSERT INTO staffs (username, hashed_password, name, email, fin_user, inv_user,"
                              " sys_admin) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                              (username, passwords.hash_password(password), name, email, fin_user, inv_user,
                               sys_admin)).lastrowid
    except DuplicateKey:
        raise Conflict("Username already exists") from None
    return get_staff(staff_id)


def update_staff(staff_id: int, *, name=None, password=None, roles: dict | None = None,
                 actor_id: int | None = None, email: str | None = None) -> dict:
    """``actor_id`` is the staff member making the change (the route passes the caller's id). ``email`` is where
    reset codes go: like the password, only the super admin may set the super admin's."""
    row = _row(staff_id)
    if row is None or row["deleted_at"] is not None:
        raise NotFound("staff not found")
    roles = {k: v for k, v in (roles or {}).items() if v is not None}
    is_super_admin = row["username"] == admin_username()
    if is_super_admin and any(v is False for v in roles.values()):
        raise Forbidden("the super admin cannot be demoted")
    if is_super_admin and password is not None and actor_id != int(row["id"]):
        raise Forbidden("only the super admin can set the super admin's password")
    if is_super_admin and email is not None and actor_id != int(row["id"]):
        raise Forbidden("only the super admin can set the super admin's email")
    if password is not None:
        passwords.check_password_rule(password)
    values = {}
    if name is not None:
        values["name"] = name
    if password is not None:
        values["hashed_password"] = passwords.hash_password(password)
    if email is not None:
        values["email"] = email
    for role, value in roles.items():
        values[role] = bool(value)
    db.update("staffs", values, "id = %s", (staff_id,), allowed=_UPDATABLE)
    if password is not None or (email is not None and email != row.get("email")):
        codes.discard_account(str(staff_id), purposes=(RESET,))  # a pending reset code dies with either
    demoted = any(bool(row[r]) and roles.get(r) is False for r in ROLES)
    if demoted or password is not None:
        sessions.revoke_user(KIND, str(staff_id))
    if password is not None:  # a new password: every client's failed logins at the old one are moot
        ratelimit.account_recovered("staff-login", ratelimit.canonical_name(row["username"]))
    if values:
        staffroles.publish(staff_id)  # live roles: the next request of this member sees the change
    return get_staff(staff_id)


def delete_staff(staff_id: int) -> None:
    row = _row(staff_id)
    if row is None or row["deleted_at"] is not None:
        raise NotFound("staff not found")
    if row["username"] == admin_username():
        raise Forbidden("the super admin cannot be deleted")
    db.execute("UPDATE staffs SET deleted_at = UTC_TIMESTAMP(3), updated_at = UTC_TIMESTAMP(3) WHERE id = %s",
               (staff_id,))
    staffroles.publish(staff_id)  # inactive at once, whatever a concurrent guard cached
    sessions.revoke_user(KIND, str(staff_id))


# ---------------------------------------------------------------- password recovery

def _int(name: str) -> int:
    """An integer setting; its default is the registry's (``omcore.settings``)."""
    return config.get_int(name)


def _active_by_username(username: str) -> dict | None:
    row = db.query_one(f"SELECT {_COLUMNS} FROM staffs WHERE username = %s", (username,))
    if row is None or row["deleted_at"] is not None or row["username"] != username:
        return None
    return row


def _set_password(row: dict, password: str) -> None:
    """A new password by a recovery path: every session ends, pending codes die, and the account's failed-login
    counters are cleared, every client's and the ceiling's (its owner proved control another way)."""
    staff_id = int(row["id"])
    db.execute("UPDATE staffs SET hashed_password = %s, updated_at = UTC_TIMESTAMP(3) WHERE id = %s",
               (passwords.hash_password(password), staff_id))
    codes.discard_account(str(staff_id), purposes=(RESET,))
    sessions.revoke_user(KIND, str(staff_id))
    ratelimit.account_recovered("staff-login", ratelimit.canonical_name(row["username"]))
    staffroles.publish(staff_id)


def reset_start(username: str, ip: str) -> None:
    """Mail a reset code to the member's address, when the member exists and has one; silent otherwise (the answer
    never tells). The super admin included: the code only reaches its own mailbox."""
    ratelimit.hit("mail-ip", ip, limit=_int("MAIL_PER_IP_LIMIT"), window=_int("MAIL_PER_IP_WINDOW_SECONDS"),
                  message="too many emails requested from your network, please try again later")
    row = _active_by_username(username)
    if row is None or not row.get("email"):
        return notify.no_mail("staff.reset_code")  # the same work as a mail sent: the answer's time tells nothing
    subject = str(row["id"])
    if codes.locked(RESET, subject, _int("CODE_FAIL_PER_ACCOUNT_DAY")):
        return notify.no_mail("staff.reset_code")
    if codes.throttle("staff-reset-mail", subject, _int("RESET_MAIL_THROTTLE_SECONDS")):
        return notify.no_mail("staff.reset_code")
    ttl = _int("RESET_CODE_TTL_SECONDS")
    code = codes.issue(RESET, subject, ttl, address=row["email"])
    notify.account_mail("staff.reset_code", row["email"], username=row["username"], code=code,
                        minutes=notify.minutes(ttl))


def reset_finish(username: str, code, password: str, ip: str) -> None:
    ratelimit.hit("code-ip", ip, limit=_int("CODE_CHECK_PER_IP"), window=_int("CODE_CHECK_WINDOW_SECONDS"),
                  message="too many verification attempts from your network, please try again later")
    passwords.check_password_rule(password)
    row = _active_by_username(username)
    daily = _int("CODE_FAIL_PER_ACCOUNT_DAY")
    subject = str(row["id"]) if row is not None and row.get("email") else f"name:{username}"
    outcome, _ = codes.check(RESET, subject, code, max_attempts=_int("CODE_MAX_ATTEMPTS"), daily_limit=daily,
                             address=row.get("email") if row is not None else "")
    if outcome == codes.LOCKED:
        raise TooManyRequests("too many wrong codes for this account today, please try again later",
                              retry_after=codes.locked(RESET, subject, daily) or codes.DAY)
    if outcome == codes.EXHAUSTED:
        raise TooManyRequests("too many wrong codes: this code is no longer valid, request a new one", retry_after=60)
    if outcome != codes.OK or row is None:
        raise Unauthorized("Invalid verification code")
    _set_password(row, password)
    notify.account_mail("staff.password_reset", row["email"], username=row["username"])


def operator_reset_password(username: str, password: str) -> None:
    """The operator's recovery path (``python -m tools.admin reset-password USER``): needs the database, so no
    attacker on the web can trigger it. Works for the super admin too."""
    row = _active_by_username(username)
    if row is None:
        raise NotFound(f"no active staff member named {username!r}")
    passwords.check_password_rule(password)
    _set_password(row, password)

"""Staff authentication and staff management.

Role flags are read from the database at login and on every refresh, so a demotion, deletion or password change
takes effect within one access-token lifetime; demotion, deletion and password changes also end the member's
sessions at once. The super admin (ADMIN_USERNAME/ADMIN_PASSWORD) is created when absent, never overwritten, and
cannot be demoted or deleted through the API.
"""
from __future__ import annotations

from dataclasses import dataclass

from omauth import passwords, ratelimit, sessions, tokens
from omcore import config
from omcore.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from omcore.log import get_logger
from omdb import db
from omdb.errors import DuplicateKey

log = get_logger("staff_auth")

KIND = "stf"
ROLES = ("fin_user", "inv_user", "sys_admin")
_COLUMNS = "id, username, name, fin_user, inv_user, sys_admin, hashed_password, created_at, updated_at, deleted_at"


def admin_username() -> str:
    return config.get("ADMIN_USERNAME", "admin") or "admin"


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
    return {"id": int(row["id"]), "username": row["username"], "name": row["name"],
            "fin_user": bool(row["fin_user"]), "inv_user": bool(row["inv_user"]), "sys_admin": bool(row["sys_admin"]),
            "deleted": row["deleted_at"] is not None,
            "created_at": row["created_at"].strftime("%Y-%m-%dT%H:%M:%SZ") if row.get("created_at") else None}


@dataclass
class Login:
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
    ratelimit.check_login("staff-login", username, ip)
    row = db.query_one(f"SELECT {_COLUMNS} FROM staffs WHERE username = %s", (username,))
    usable = row is not None and row["deleted_at"] is None
    if not passwords.verify_password(password, row["hashed_password"] if usable else None):
        ratelimit.login_failed("staff-login", username, ip)
        raise Unauthorized("invalid username or password")
    ratelimit.login_succeeded("staff-login", username)
    session = sessions.create(KIND, str(row["id"]), remember_me=remember_me, user_agent=user_agent)
    return Login(access_token(row, session.family), session.refresh_token, remember_me, session.ttl_seconds,
                 {"username": row["username"], "fin_user": bool(row["fin_user"]), "inv_user": bool(row["inv_user"]),
                  "sys_admin": bool(row["sys_admin"])})


def refresh(token: str | None) -> Login:
    session = sessions.rotate(KIND, token)
    row = _row(int(session.user_id))
    if row is None or row["deleted_at"] is not None:
        sessions.revoke_family(KIND, session.user_id, session.family)
        raise Unauthorized("no valid session, please log in")
    return Login(access_token(row, session.family), session.refresh_token, session.remember_me, session.ttl_seconds,
                 {})


def logout(token: str | None) -> None:
    sessions.revoke(KIND, token)


# ---------------------------------------------------------------- staff management (sys_admin)

def list_staff() -> list[dict]:
    rows = db.query(f"SELECT {_COLUMNS} FROM staffs ORDER BY id")
    return [public(r) for r in rows]


def get_staff(staff_id: int) -> dict:
    row = _row(staff_id)
    if row is None:
        raise NotFound("staff not found")
    return public(row)


def create_staff(username: str, password: str, name: str, fin_user: bool = False, inv_user: bool = False,
                 sys_admin: bool = False) -> dict:
    if not username or len(username) > 32 or not all(c.isalnum() or c in "._-" for c in username):
        raise BadRequest("username must be 1 to 32 letters, digits, '.', '_' or '-'")
    passwords.check_password_rule(password)
    try:
        staff_id = db.execute("INSERT INTO staffs (username, hashed_password, name, fin_user, inv_user, sys_admin)"
                              " VALUES (%s, %s, %s, %s, %s, %s)",
                              (username, passwords.hash_password(password), name, fin_user, inv_user,
                               sys_admin)).lastrowid
    except DuplicateKey:
        raise Conflict("Username already exists") from None
    return get_staff(staff_id)


def update_staff(staff_id: int, *, name=None, password=None, roles: dict | None = None) -> dict:
    row = _row(staff_id)
    if row is None or row["deleted_at"] is not None:
        raise NotFound("staff not found")
    roles = {k: v for k, v in (roles or {}).items() if v is not None}
    if row["username"] == admin_username() and any(v is False for v in roles.values()):
        raise Forbidden("the super admin cannot be demoted")
    if password is not None:
        passwords.check_password_rule(password)
    sets, args = [], []
    if name is not None:
        sets.append("name = %s")
        args.append(name)
    if password is not None:
        sets.append("hashed_password = %s")
        args.append(passwords.hash_password(password))
    for role, value in roles.items():
        sets.append(f"{role} = %s")  # role names come from ROLES, never from input keys
        args.append(bool(value))
    if sets:
        sets.append("updated_at = UTC_TIMESTAMP(3)")
        db.execute(f"UPDATE staffs SET {', '.join(sets)} WHERE id = %s", (*args, staff_id))
    demoted = any(bool(row[r]) and roles.get(r) is False for r in ROLES)
    if demoted or password is not None:
        sessions.revoke_user(KIND, str(staff_id))
    return get_staff(staff_id)


def delete_staff(staff_id: int) -> None:
    row = _row(staff_id)
    if row is None or row["deleted_at"] is not None:
        raise NotFound("staff not found")
    if row["username"] == admin_username():
        raise Forbidden("the super admin cannot be deleted")
    db.execute("UPDATE staffs SET deleted_at = UTC_TIMESTAMP(3), updated_at = UTC_TIMESTAMP(3) WHERE id = %s",
               (staff_id,))
    sessions.revoke_user(KIND, str(staff_id))

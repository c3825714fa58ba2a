"""Staff auth (/api/v1/staff/auth/*) and staff management (/api/v1/staff/console/staff, sys_admin)."""
from omauth import cookies, guards, tokens
from omcore.http import Reply, Routes
from omcore.spec import (
    BOOLEAN,
    INTEGER,
    STRING,
    Spec,
    any_of,
    anything,
    arr,
    boolean,
    email,
    integer,
    nullable,
    obj,
    query_id,
    text,
)

from . import service

routes = Routes(__name__)
ROLES = {"fin_user": BOOLEAN, "inv_user": BOOLEAN, "sys_admin": BOOLEAN}
STAFF = obj("id", "username", "name", "email", "fin_user", "inv_user", "sys_admin", "deleted", "created_at",
            id=INTEGER, username=STRING, name=STRING, email=nullable(STRING), deleted=BOOLEAN,
            created_at=nullable(STRING), **ROLES)
ME = {**STAFF, "required": STAFF["required"] + ["super_admin"],
      "properties": {**STAFF["properties"], "super_admin": BOOLEAN}}
LOGGED_IN = obj("username", "fin_user", "inv_user", "sys_admin", username=STRING, **ROLES)
EMPTY = obj()

sys_admin = guards.staff("sys_admin")
PASSWORD = {"strip": False, "max_len": 200}  # a password is taken as typed
STAFF_ID_MAX = 2**32 - 1
ONE_TIME_CODE = {"description": "the 6-digit code from the mail (a JSON number or a string of digits)",
                 "oneOf": [{"type": "integer", "minimum": 100000, "maximum": 999999},
                           {"type": "string", "pattern": "^[0-9]{6}$"}]}


def _session_cookies(login: service.Login) -> list[str]:
    return cookies.session_pair(cookies.ACCESS_STAFF, cookies.REFRESH_STAFF, login.access_token, login.refresh_token,
                                login.remember_me, login.refresh_ttl, tokens.access_ttl_seconds())


@routes.route("/api/v1/staff/auth/login", methods=["POST"], query=Spec(),
              body=Spec(text("username", max_len=32), text("password", **PASSWORD),
                        boolean("remember_me", required=False)),
              responses={200: LOGGED_IN})
def login(req):
    """Staff login; answers {username, fin_user, inv_user, sys_admin}.

    200: sets ac_stf and ref_stf
    401: invalid username or password
    429: too many failed logins
    """
    body = req.body
    result = service.login(body["username"], body["password"], bool(body["remember_me"]), req.client_ip,
                           req.user_agent)
    return Reply(result.profile, cookies=_session_cookies(result), headers={"Cache-Control": "no-store"})


@routes.route("/api/v1/staff/auth/refresh", methods=["GET"], body=Spec(), query=Spec(), responses={200: EMPTY})
def refresh(req):
    """Rotate the staff refresh token; role flags are re-read from the database.

    200: rotated; roles re-read from the database
    401: no valid session
    """
    result = service.refresh(req.cookies.get(cookies.REFRESH_STAFF))
    return Reply({}, cookies=_session_cookies(result), headers={"Cache-Control": "no-store"})


@routes.route("/api/v1/staff/auth/logout", methods=["POST"], body=Spec(), query=Spec(), responses={200: EMPTY})
def logout(req):
    """End the staff session (idempotent).

    200: idempotent; the session of the refresh and of the access cookie ended
    """
    service.logout(req.cookies.get(cookies.REFRESH_STAFF), req.cookies.get(cookies.ACCESS_STAFF))
    return Reply({}, cookies=[cookies.expire(cookies.ACCESS_STAFF), cookies.expire(cookies.REFRESH_STAFF)])


@routes.route("/api/v1/staff/auth/reset-password-1", methods=["POST"], query=Spec(),
              body=Spec(text("username", max_len=32)), responses={200: EMPTY})
def reset_password_1(req):
    """Mail a password-reset code to the staff member's address (always 200: whether or not the member exists or
    has an address).

    200: always; a code is mailed if the member exists and has an email address
    429: too many mails requested from this client
    """
    service.reset_start(req.body["username"], req.client_ip)
    return Reply({})


@routes.route("/api/v1/staff/auth/reset-password-2", methods=["POST"], query=Spec(),
              body=Spec(text("username", max_len=32), anything("code", ONE_TIME_CODE), text("password", **PASSWORD)),
              responses={200: EMPTY})
def reset_password_2(req):
    """Set a new staff password with the mailed code; ends every session of the member and clears its failed-login
    ceiling.

    200: password set; every session ended
    400: the password breaks the rule
    401: wrong code
    429: too many wrong codes, or too many code checks from this client
    """
    body = req.body
    service.reset_finish(body["username"], body["code"], body["password"], req.client_ip)
    return Reply({}, cookies=[cookies.expire(cookies.ACCESS_STAFF), cookies.expire(cookies.REFRESH_STAFF)])


@routes.route("/api/v1/staff/auth/me", methods=["GET"], guard=guards.staff(), body=Spec(), query=Spec(),
              responses={200: ME})
def me(req):
    """The signed-in staff member: {id, username, name, fin_user, inv_user, sys_admin, super_admin} (roles as they
    are now, not as they were at login).

    200: the member
    401: not logged in or session expired
    """
    return Reply(service.me(req.principal.id), headers={"Cache-Control": "no-store"})


@routes.route("/api/v1/staff/console/staff", methods=["GET"], guard=sys_admin, body=Spec(),
              query=query_id(integer, required=False, min=1, max=STAFF_ID_MAX),
              responses={200: any_of(STAFF, arr(STAFF))})
def get_staff(req):
    """List every staff member (soft-deleted ones marked), or one with ?id=.

    200: one staff member with ?id=, else all (soft-deleted marked)
    403: needs sys_admin
    404: unknown id
    """
    if req.params["id"] is not None:
        return Reply(service.get_staff(req.params["id"]), headers={"Cache-Control": "no-store"})
    return Reply(service.list_staff(), headers={"Cache-Control": "no-store"})


@routes.route("/api/v1/staff/console/staff", methods=["POST"], guard=sys_admin, query=Spec(),
              body=Spec(text("username", max_len=32), text("password", **PASSWORD), text("name", max_len=100),
                        email("email", required=False),
                        *(boolean(role, required=False) for role in service.ROLES)),
              responses={201: STAFF})
def create_staff(req):
    """Create a staff member (the password rule applies).

    201: created
    409: Username already exists
    400: invalid input (username: 1-32 ASCII letters, digits, '.', '_', '-'; password rule)
    """
    body = req.body
    staff = service.create_staff(username=body["username"], password=body["password"], name=body["name"],
                                 email=body["email"], **{role: bool(body[role]) for role in service.ROLES})
    return Reply(staff, status=201)


@routes.route("/api/v1/staff/console/staff", methods=["PATCH"], guard=sys_admin, query=Spec(),
              body=Spec(integer("id", min=1, max=STAFF_ID_MAX), text("password", required=False, **PASSWORD),
                        text("name", required=False, max_len=100), email("email", required=False),
                        *(boolean(role, required=False) for role in service.ROLES)),
              responses={200: STAFF})
def update_staff(req):
    """Update name, password, email (where reset codes go) or roles (absent or null = unchanged); demotion or a new
    password ends sessions. Only the super admin may set the super admin's password or email (403 for anyone else).

    200: updated
    403: the super admin cannot be demoted, and only the super admin may set its password or email
    404: unknown id
    """
    body = req.body
    staff = service.update_staff(body["id"], name=body["name"], password=body["password"],
                                 roles={role: body[role] for role in service.ROLES}, actor_id=req.principal.id,
                                 email=body["email"])
    return Reply(staff)


@routes.route("/api/v1/staff/console/staff", methods=["DELETE"], guard=sys_admin, body=Spec(),
              query=query_id(integer, min=1, max=STAFF_ID_MAX), responses={200: EMPTY})
def delete_staff(req):
    """Soft-delete a staff member and end their sessions (not the super admin).

    200: soft-deleted; sessions ended
    403: the super admin cannot be deleted
    404: unknown id
    """
    service.delete_staff(req.params["id"])
    return Reply({})

"""Staff auth (/api/v1/staff/auth/*) and staff management (/api/v1/staff/console/staff, sys_admin)."""
from omauth import cookies, guards, tokens
from omcore.http import Reply, Routes
from omcore.spec import Spec, boolean, integer, query_id, text

from . import service

routes = Routes(__name__)

sys_admin = guards.staff("sys_admin")
PASSWORD = {"strip": False, "max_len": 200}  # a password is taken as typed
STAFF_ID_MAX = 2**32 - 1


def _session_cookies(login: service.Login) -> list[str]:
    return cookies.session_pair(cookies.ACCESS_STAFF, cookies.REFRESH_STAFF, login.access_token, login.refresh_token,
                                login.remember_me, login.refresh_ttl, tokens.access_ttl_seconds())


@routes.route("/api/v1/staff/auth/login", methods=["POST"], query=Spec(),
              body=Spec(text("username", max_len=32), text("password", **PASSWORD),
                        boolean("remember_me", required=False)))
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


@routes.route("/api/v1/staff/auth/refresh", methods=["GET"], body=Spec(), query=Spec())
def refresh(req):
    """Rotate the staff refresh token; role flags are re-read from the database.

    200: rotated; roles re-read from the database
    401: no valid session
    """
    result = service.refresh(req.cookies.get(cookies.REFRESH_STAFF))
    return Reply({}, cookies=_session_cookies(result), headers={"Cache-Control": "no-store"})


@routes.route("/api/v1/staff/auth/logout", methods=["POST"], body=Spec(), query=Spec())
def logout(req):
    """End the staff session (idempotent).

    200: idempotent; the session of the refresh and of the access cookie ended
    """
    service.logout(req.cookies.get(cookies.REFRESH_STAFF), req.cookies.get(cookies.ACCESS_STAFF))
    return Reply({}, cookies=[cookies.expire(cookies.ACCESS_STAFF), cookies.expire(cookies.REFRESH_STAFF)])


@routes.route("/api/v1/staff/auth/me", methods=["GET"], guard=guards.staff(), body=Spec(), query=Spec())
def me(req):
    """The signed-in staff member: {id, username, name, fin_user, inv_user, sys_admin, super_admin} (roles as they
    are now, not as they were at login).

    200: the member
    401: not logged in or session expired
    """
    return Reply(service.me(req.principal.id), headers={"Cache-Control": "no-store"})


@routes.route("/api/v1/staff/console/staff", methods=["GET"], guard=sys_admin, body=Spec(),
              query=query_id(integer, required=False, min=1, max=STAFF_ID_MAX))
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
                        *(boolean(role, required=False) for role in service.ROLES)))
def create_staff(req):
    """Create a staff member (the password rule applies).

    201: created
    409: Username already exists
    400: invalid input (username: 1-32 ASCII letters, digits, '.', '_', '-'; password rule)
    """
    body = req.body
    staff = service.create_staff(username=body["username"], password=body["password"], name=body["name"],
                                 **{role: bool(body[role]) for role in service.ROLES})
    return Reply(staff, status=201)


@routes.route("/api/v1/staff/console/staff", methods=["PATCH"], guard=sys_admin, query=Spec(),
              body=Spec(integer("id", min=1, max=STAFF_ID_MAX), text("password", required=False, **PASSWORD),
                        text("name", required=False, max_len=100),
                        *(boolean(role, required=False) for role in service.ROLES)))
def update_staff(req):
    """Update name, password or roles (absent or null = unchanged); demotion or a new password ends sessions.
    Only the super admin may set the super admin's password (403 for anyone else).

    200: updated
    403: the super admin cannot be demoted, and only the super admin may set its password
    404: unknown id
    """
    body = req.body
    staff = service.update_staff(body["id"], name=body["name"], password=body["password"],
                                 roles={role: body[role] for role in service.ROLES}, actor_id=req.principal.id)
    return Reply(staff)


@routes.route("/api/v1/staff/console/staff", methods=["DELETE"], guard=sys_admin, body=Spec(),
              query=query_id(integer, min=1, max=STAFF_ID_MAX))
def delete_staff(req):
    """Soft-delete a staff member and end their sessions (not the super admin).

    200: soft-deleted; sessions ended
    403: the super admin cannot be deleted
    404: unknown id
    """
    service.delete_staff(req.params["id"])
    return Reply({})

"""Staff auth (/api/v1/staff/auth/*) and staff management (/api/v1/staff/console/staff, sys_admin)."""
from omauth import cookies, guards, tokens
from omcore.errors import BadRequest
from omcore.http import Reply, Routes

from . import service

routes = Routes(__name__)

sys_admin = guards.staff("sys_admin")


def _session_cookies(login: service.Login) -> list[str]:
    return cookies.session_pair(cookies.ACCESS_STAFF, cookies.REFRESH_STAFF, login.access_token, login.refresh_token,
                                login.remember_me, login.refresh_ttl, tokens.access_ttl_seconds())


@routes.route("/api/v1/staff/auth/login", methods=["POST"])
def login(req):
    """Staff login; answers {username, fin_user, inv_user, sys_admin}."""
    body = req.fields()
    username = body.str("username", max_len=32)
    password = body.str("password", strip=False, max_len=200)
    remember_me = bool(body.bool("remember_me", required=False))
    result = service.login(username, password, remember_me, req.client_ip, req.user_agent)
    return Reply(result.profile, cookies=_session_cookies(result), headers={"Cache-Control": "no-store"})


@routes.route("/api/v1/staff/auth/refresh", methods=["GET"])
def refresh(req):
    """Rotate the staff refresh token; role flags are re-read from the database."""
    result = service.refresh(req.cookies.get(cookies.REFRESH_STAFF))
    return Reply({}, cookies=_session_cookies(result), headers={"Cache-Control": "no-store"})


@routes.route("/api/v1/staff/auth/logout", methods=["POST"])
def logout(req):
    """End the staff session (idempotent)."""
    service.logout(req.cookies.get(cookies.REFRESH_STAFF), req.cookies.get(cookies.ACCESS_STAFF))
    return Reply({}, cookies=[cookies.expire(cookies.ACCESS_STAFF), cookies.expire(cookies.REFRESH_STAFF)])


def _id_from_query(req):
    return req.query_fields().int("id", min_value=1, max_value=2**32 - 1)


@routes.route("/api/v1/staff/console/staff", methods=["GET"], guard=sys_admin)
def get_staff(req):
    """List every staff member (soft-deleted ones marked), or one with ?id=."""
    if req.query.get("id") not in (None, ""):
        return Reply(service.get_staff(_id_from_query(req)), headers={"Cache-Control": "no-store"})
    return Reply(service.list_staff(), headers={"Cache-Control": "no-store"})


@routes.route("/api/v1/staff/console/staff", methods=["POST"], guard=sys_admin)
def create_staff(req):
    """Create a staff member (the password rule applies)."""
    body = req.fields()
    staff = service.create_staff(
        username=body.str("username", max_len=32), password=body.str("password", strip=False, max_len=200),
        name=body.str("name", max_len=100), fin_user=bool(body.bool("fin_user", required=False)),
        inv_user=bool(body.bool("inv_user", required=False)), sys_admin=bool(body.bool("sys_admin", required=False)))
    return Reply(staff, status=201)


@routes.route("/api/v1/staff/console/staff", methods=["PATCH"], guard=sys_admin)
def update_staff(req):
    """Update name, password or roles (absent or null = unchanged); demotion or a new password ends sessions.
    Only the super admin may set the super admin's password (403 for anyone else)."""
    body = req.fields()
    staff_id = body.int("id", min_value=1, max_value=2**32 - 1)
    password = body.str("password", required=False, strip=False, max_len=200)
    staff = service.update_staff(staff_id, name=body.str("name", required=False, max_len=100), password=password,
                                 roles={r: body.bool(r, required=False) for r in service.ROLES},
                                 actor_id=req.principal.id)
    return Reply(staff)


@routes.route("/api/v1/staff/console/staff", methods=["DELETE"], guard=sys_admin)
def delete_staff(req):
    """Soft-delete a staff member and end their sessions (not the super admin)."""
    if req.query.get("id") in (None, ""):
        raise BadRequest("id is required")
    service.delete_staff(_id_from_query(req))
    return Reply({})

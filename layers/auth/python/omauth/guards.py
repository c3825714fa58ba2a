"""Route guards: read the access cookie, verify the JWT, check that its session still lives, return the principal
or raise 401/403.

    @routes.route("/api/v1/customer/cart", guard=customer)
    def cart(req): req.principal.id  # customer uuid string

    @routes.route("/api/v1/staff/dashboard/inventory/category", guard=staff("inv_user"))

A valid signature is not enough: the token's session (its ``sid`` claim, the refresh family) must still exist in
Redis, so logout, a password change or reset, a demotion or a deletion ends the access token on the very next
request instead of when it expires. Staff roles come from ``omauth.staffroles`` (live, cached in Redis), never
from the token's claims. Customer guard: one GET; staff guard: one MGET (session + roles), plus one database read
and one SET only when the roles are not cached. Redis down → 503 (fail closed).
"""
from __future__ import annotations

from typing import NamedTuple

from omcore import kv, log
from omcore.errors import Forbidden, Unauthorized

from . import cookies, sessions, staffroles, tokens

SESSION_ENDED = "your session has ended, please log in again"

ROLES = ("fin_user", "inv_user", "sys_admin")


# NamedTuples, not dataclasses: immutable all the same, and `dataclasses` (with `inspect`, ~8 ms) stays out of the
# cold start of every function with a guard (docs/benchmarks.md)
class CustomerPrincipal(NamedTuple):
    id: str  # customer uuid (canonical string)
    jti: str
    sid: str | None


class StaffPrincipal(NamedTuple):
    id: int
    username: str
    fin_user: bool
    inv_user: bool
    sys_admin: bool
    jti: str
    sid: str | None

    def has(self, role: str) -> bool:
        if role not in ROLES:
            raise AttributeError(role)
        return bool(getattr(self, role))


def _sid(claims: dict) -> str:
    sid = claims.get("sid")
    if not isinstance(sid, str) or not sid or len(sid) > 64:
        raise Unauthorized(SESSION_ENDED)
    return sid


# Methods that change something: a cookie-authenticated one must come from a page of the API's own origin.
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def same_origin(req) -> None:
    """CSRF: refuse (403) a state change that a browser says another site started. SameSite=Strict already keeps
    the cookies off cross-site requests; ``Sec-Fetch-Site`` (set by the browser, not writable by page scripts) also
    refuses ``same-site`` ones — a page on a sibling host of the shop (which SameSite counts as the same site)
    cannot post with the staff or customer cookies. Clients that send no such header (curl, the test client,
    browsers from before 2023) are judged by the cookies alone."""
    if req.method in _UNSAFE and (req.headers.get("sec-fetch-site") or "same-origin") not in ("same-origin", "none"):
        raise Forbidden("refused: this change was not sent from a page of this site")


def customer(req) -> CustomerPrincipal:
    """Guard: a valid ``ac_cus`` access token whose session still exists (401 otherwise)."""
    same_origin(req)
    claims = tokens.decode(tokens.AUD_CUSTOMER, req.cookies.get(cookies.ACCESS_CUSTOMER),
                           message="not logged in or session expired")
    sid = _sid(claims)
    raw = kv.required_get(sessions.key(sessions.CUSTOMER, sid))
    if sessions.record_user(raw) != str(claims["sub"]):
        raise Unauthorized(SESSION_ENDED)
    log.bind(customer_id=claims["sub"])  # every further log line of this request names the customer
    return CustomerPrincipal(id=claims["sub"], jti=claims["jti"], sid=sid)


customer.cookie_scheme = "customerCookie"


def staff_principal(req) -> StaffPrincipal:
    same_origin(req)
    claims = tokens.decode(tokens.AUD_STAFF, req.cookies.get(cookies.ACCESS_STAFF),
                           message="not logged in or session expired")
    try:
        staff_id = int(claims["sub"])
    except (TypeError, ValueError):
        raise Unauthorized("not logged in or session expired") from None
    if not 0 < staff_id < 2**32:
        raise Unauthorized("not logged in or session expired")
    sid = _sid(claims)
    raw_session, raw_roles = kv.required_get(sessions.key(sessions.STAFF, sid), staffroles.key(staff_id))
    if sessions.record_user(raw_session) != str(staff_id):
        raise Unauthorized(SESSION_ENDED)
    live = staffroles.decode(raw_roles)
    if live is None:
        live = staffroles.load(staff_id)
    if not live.get("active"):
        raise Unauthorized(SESSION_ENDED)
    log.bind(staff_id=staff_id)  # every further log line of this request names the staff member
    return StaffPrincipal(id=staff_id, username=str(live.get("username", "")),
                          fin_user=live.get("fin_user") is True, inv_user=live.get("inv_user") is True,
                          sys_admin=live.get("sys_admin") is True, jti=claims["jti"], sid=sid)


def staff(*any_of_roles: str):
    """A guard for staff routes; with roles, the staff member needs at least one of them (403 otherwise)."""
    for role in any_of_roles:
        if role not in ROLES:
            raise ValueError(f"unknown staff role {role!r}")

    def guard(req) -> StaffPrincipal:
        principal = staff_principal(req)
        if any_of_roles and not any(principal.has(r) for r in any_of_roles):
            raise Forbidden(f"this action needs the {' or '.join(any_of_roles)} role")
        return principal

    guard.roles = any_of_roles
    guard.cookie_scheme = "staffCookie"
    return guard

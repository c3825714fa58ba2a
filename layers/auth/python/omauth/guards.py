"""Route guards: read the access cookie, verify the JWT, return the principal or raise 401/403.

    @routes.route("/api/v1/customer/cart", guard=customer)
    def cart(req): req.principal.id  # customer uuid string

    @routes.route("/api/v1/staff/dashboard/inventory/category", guard=staff("inv_user"))
"""
from __future__ import annotations

from dataclasses import dataclass

from omcore.errors import Forbidden, Unauthorized

from . import cookies, tokens

ROLES = ("fin_user", "inv_user", "sys_admin")


@dataclass(frozen=True)
class CustomerPrincipal:
    id: str  # customer uuid (canonical string)
    jti: str
    sid: str | None


@dataclass(frozen=True)
class StaffPrincipal:
    id: int
    username: str
    fin_user: bool
    inv_user: bool
    sys_admin: bool
    jti: str
    sid: str | None

    def has(self, role: str) -> bool:
        return bool(getattr(self, role))


def customer(req) -> CustomerPrincipal:
    """Guard: a valid ``ac_cus`` access token (401 otherwise)."""
    claims = tokens.decode(tokens.AUD_CUSTOMER, req.cookies.get(cookies.ACCESS_CUSTOMER),
                           message="not logged in or session expired")
    return CustomerPrincipal(id=claims["sub"], jti=claims["jti"], sid=claims.get("sid"))


customer.cookie_scheme = "customerCookie"


def staff_principal(req) -> StaffPrincipal:
    claims = tokens.decode(tokens.AUD_STAFF, req.cookies.get(cookies.ACCESS_STAFF),
                           message="not logged in or session expired")
    try:
        staff_id = int(claims["sub"])
    except (TypeError, ValueError):
        raise Unauthorized("not logged in or session expired") from None
    return StaffPrincipal(id=staff_id, username=str(claims.get("username", "")),
                          fin_user=claims.get("fin_user") is True, inv_user=claims.get("inv_user") is True,
                          sys_admin=claims.get("sys_admin") is True, jti=claims["jti"], sid=claims.get("sid"))


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

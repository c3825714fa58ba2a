"""Staff login, refresh with role flags from the database, and staff management for sys_admin."""
import os

import pytest

from support import DEFAULT_PASSWORD, create_staff, login_staff

CONSOLE = "/api/v1/staff/console/staff"


@pytest.fixture
def admin(api):
    """The super admin, created on first login from ADMIN_USERNAME/ADMIN_PASSWORD."""
    resp = api.post("/api/v1/staff/auth/login", json={"username": "admin", "password": os.environ["ADMIN_PASSWORD"]})
    assert resp.status == 200, resp
    return api


def test_staff_login_without_remember_me_answers_roles(api):
    create_staff("clerk", inv=True)
    resp = login_staff(api, "clerk")
    assert resp.json == {"username": "clerk", "fin_user": False, "inv_user": True, "sys_admin": False}
    assert "Max-Age" not in resp.cookie("ac_stf")


def test_wrong_password_deleted_staff_and_unknown_user_get_401_json(api):
    create_staff("gone", deleted=True)
    for username, password in (("gone", DEFAULT_PASSWORD), ("nobody", DEFAULT_PASSWORD), ("admin", "Wrong#Pass1")):
        resp = api.post("/api/v1/staff/auth/login", json={"username": username, "password": password})
        assert resp.status == 401 and "error" in resp.json


def test_console_needs_sys_admin(api, make_api):
    create_staff("clerk", inv=True)
    login_staff(api, "clerk")
    assert api.get(CONSOLE).status == 403
    assert make_api().get(CONSOLE).status == 401


def test_customer_token_is_refused_on_staff_routes(api):
    from support import create_customer, login_customer

    create_customer()
    login_customer(api)
    api.cookies["ac_stf"] = api.cookies["ac_cus"]
    assert api.get(CONSOLE).status == 401


def test_super_admin_created_once_and_never_overwritten(admin, monkeypatch):
    from functions.staff_auth import service

    monkeypatch.setenv("ADMIN_PASSWORD", "Changed#Passw0rd")
    assert service.ensure_super_admin() is False
    resp = admin.post("/api/v1/staff/auth/login", json={"username": "admin", "password": "Changed#Passw0rd"})
    assert resp.status == 401  # the stored password did not change


def test_staff_crud(admin):
    resp = admin.post(CONSOLE, json={"username": "budi", "password": "Budi#Pass123", "name": "Budi", "inv_user": True})
    assert resp.status == 201
    budi = resp.json
    assert budi["inv_user"] is True and budi["sys_admin"] is False and budi["deleted"] is False
    assert admin.post(CONSOLE, json={"username": "budi", "password": "Budi#Pass123", "name": "B"}).status == 409
    weak = admin.post(CONSOLE, json={"username": "weak", "password": "weak", "name": "W"})
    assert weak.status == 400 and "special" in weak.json["error"]
    assert admin.get(f"{CONSOLE}?id={budi['id']}").json["username"] == "budi"
    resp = admin.patch(CONSOLE, json={"id": budi["id"], "name": "Budi S", "fin_user": True})
    assert resp.status == 200 and resp.json["name"] == "Budi S" and resp.json["fin_user"] is True
    assert resp.json["inv_user"] is True  # absent = unchanged
    assert admin.delete(f"{CONSOLE}?id={budi['id']}").status == 200
    listed = {s["username"]: s for s in admin.get(CONSOLE).json}
    assert listed["budi"]["deleted"] is True
    assert admin.get(f"{CONSOLE}?id=999999").status == 404
    assert admin.get(f"{CONSOLE}?id=abc").status == 400
    assert admin.delete(CONSOLE).status == 400


def test_super_admin_cannot_be_demoted_or_deleted(admin):
    me = next(s for s in admin.get(CONSOLE).json if s["username"] == "admin")
    assert admin.patch(CONSOLE, json={"id": me["id"], "sys_admin": False}).status == 403
    assert admin.delete(f"{CONSOLE}?id={me['id']}").status == 403


def test_demotion_takes_effect_at_refresh_and_revokes_sessions(admin, make_api):
    staff_id = create_staff("clerk", inv=True, sys=True)
    clerk = make_api()
    login_staff(clerk, "clerk")
    assert clerk.get(CONSOLE).status == 200
    assert admin.patch(CONSOLE, json={"id": staff_id, "sys_admin": False}).status == 200
    assert clerk.get("/api/v1/staff/auth/refresh").status == 401  # sessions revoked at once
    login_staff(clerk, "clerk")  # a new login carries the new roles
    assert clerk.get(CONSOLE).status == 403


def test_refresh_reads_roles_from_the_database(admin, make_api):
    from omdb import db

    staff_id = create_staff("clerk", inv=True)
    clerk = make_api()
    login_staff(clerk, "clerk")
    assert clerk.get(CONSOLE).status == 403
    db.execute("UPDATE staffs SET sys_admin = TRUE WHERE id = %s", (staff_id,))
    assert clerk.get("/api/v1/staff/auth/refresh").status == 200
    assert clerk.get(CONSOLE).status == 200


def test_deleting_staff_revokes_sessions(admin, make_api):
    staff_id = create_staff("clerk", inv=True)
    clerk = make_api()
    login_staff(clerk, "clerk")
    admin.delete(f"{CONSOLE}?id={staff_id}")
    assert clerk.get("/api/v1/staff/auth/refresh").status == 401
    assert clerk.post("/api/v1/staff/auth/login", json={"username": "clerk", "password": DEFAULT_PASSWORD}).status == 401


def test_password_change_revokes_sessions(admin, make_api):
    staff_id = create_staff("clerk", inv=True)
    clerk = make_api()
    login_staff(clerk, "clerk")
    assert admin.patch(CONSOLE, json={"id": staff_id, "password": "Other#Pass123"}).status == 200
    assert clerk.get("/api/v1/staff/auth/refresh").status == 401


def test_staff_logout_is_idempotent(api):
    create_staff("clerk")
    login_staff(api, "clerk")
    assert api.post("/api/v1/staff/auth/logout").status == 200
    assert api.post("/api/v1/staff/auth/logout").status == 200
    assert api.get("/api/v1/staff/auth/refresh").status == 401


def test_staff_failed_logins_are_rate_limited(api):
    create_staff("clerk")
    for _ in range(5):
        api.post("/api/v1/staff/auth/login", json={"username": "clerk", "password": "Wrong#Pass1"})
    resp = api.post("/api/v1/staff/auth/login", json={"username": "clerk", "password": DEFAULT_PASSWORD})
    assert resp.status == 429 and resp.headers["retry-after"]

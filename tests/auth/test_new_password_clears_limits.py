"""Issue 18 leftover: a new password clears the account's failed-login counters. The owner who mistyped their
password five times on their own device (429 there for up to LOGIN_FAIL_WINDOW_SECONDS) and then reset or changed
it elsewhere gets in from that device at once with the new one — customers (reset, change) and staff (reset by mail,
the operator's `reset-password`, a password set in the console). The per-account ceiling's delay is cleared too."""
import io
import os

from support import DEFAULT_PASSWORD, at_ip, create_customer, create_staff, login_customer, login_staff

WRONG = "Wrong#Pass1"
NEW = "Fresh#Start123"
HOME = "198.51.100.9"  # the owner's own device, the one that mistyped
ADMIN_PASSWORD = os.environ["ADMIN_PASSWORD"]


def _customer_login(client, password):
    return client.post("/api/v1/auth/login", json={"email": "buyer@example.com", "password": password})


def _staff_login(client, username, password):
    return client.post("/api/v1/staff/auth/login", json={"username": username, "password": password})


def _customer_mistypes(make_api):
    device = at_ip(make_api(), HOME)
    for _ in range(5):
        assert _customer_login(device, WRONG).status == 401
    assert _customer_login(device, DEFAULT_PASSWORD).status == 429
    return device


def _staff_mistypes(make_api, username):
    device = at_ip(make_api(), HOME)
    for _ in range(5):
        assert _staff_login(device, username, WRONG).status == 401
    assert _staff_login(device, username, DEFAULT_PASSWORD).status == 429
    return device


def test_customer_reset_clears_the_owners_own_client(make_api, outbox):
    create_customer()
    device = _customer_mistypes(make_api)
    phone = at_ip(make_api(), "192.0.2.44")
    assert phone.post("/api/v1/auth/reset-password-1", json={"email": "buyer@example.com"}).status == 200
    code = int(outbox.last_code("buyer@example.com"))
    resp = phone.post("/api/v1/auth/reset-password-2", json={"email": "buyer@example.com", "code": code,
                                                             "password": NEW})
    assert resp.status == 200, resp
    assert _customer_login(device, NEW).status == 200


def test_customer_reset_clears_the_accounts_ceiling(make_api, outbox):
    create_customer()
    for i in range(4):  # strangers spread 20 failures: the account's ceiling
        stranger = at_ip(make_api(), f"203.0.113.{70 + i}")
        for _ in range(5):
            assert _customer_login(stranger, WRONG).status == 401
    device = at_ip(make_api(), HOME)
    assert _customer_login(device, WRONG).status == 401  # past the ceiling: this client now waits a delay
    assert _customer_login(device, DEFAULT_PASSWORD).status == 429
    assert make_api().post("/api/v1/auth/reset-password-1", json={"email": "buyer@example.com"}).status == 200
    code = int(outbox.last_code("buyer@example.com"))
    assert make_api().post("/api/v1/auth/reset-password-2", json={"email": "buyer@example.com", "code": code,
                                                                  "password": NEW}).status == 200
    assert _customer_login(device, NEW).status == 200


def test_customer_password_change_clears_the_owners_other_client(api, make_api):
    create_customer()
    login_customer(api)  # the owner's laptop, still logged in
    device = _customer_mistypes(make_api)
    resp = api.patch("/api/v1/customer/creds", json={"old_password": DEFAULT_PASSWORD, "new_password": NEW})
    assert resp.status == 200, resp
    assert _customer_login(device, NEW).status == 200


def test_staff_reset_by_mail_clears_the_members_own_client(api, make_api, outbox):
    assert _staff_login(api, "admin", ADMIN_PASSWORD).status == 200
    clerk_id = create_staff("clerk", inv=True)
    assert api.patch("/api/v1/staff/console/staff", json={"id": clerk_id, "email": "clerk@example.com"}).status == 200
    device = _staff_mistypes(make_api, "clerk")
    phone = at_ip(make_api(), "192.0.2.44")
    assert phone.post("/api/v1/staff/auth/reset-password-1", json={"username": "clerk"}).status == 200
    code = int(outbox.last_code("clerk@example.com"))
    resp = phone.post("/api/v1/staff/auth/reset-password-2", json={"username": "clerk", "code": code,
                                                                   "password": NEW})
    assert resp.status == 200, resp
    assert _staff_login(device, "clerk", NEW).status == 200


def test_operator_reset_clears_the_members_own_client(make_api, monkeypatch):
    from tools.admin.__main__ import main

    create_staff("clerk", inv=True)
    device = _staff_mistypes(make_api, "clerk")
    monkeypatch.setattr("sys.stdin", io.StringIO(NEW + "\n"))
    assert main(["reset-password", "clerk"]) == 0
    assert _staff_login(device, "clerk", NEW).status == 200


def test_a_password_set_in_the_console_clears_the_members_own_client(api, make_api):
    clerk_id = create_staff("clerk", inv=True)
    device = _staff_mistypes(make_api, "clerk")
    login_staff(api, "admin", ADMIN_PASSWORD)
    assert api.patch("/api/v1/staff/console/staff", json={"id": clerk_id, "password": NEW}).status == 200
    assert _staff_login(device, "clerk", NEW).status == 200

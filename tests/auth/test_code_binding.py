"""Issue 18 medium #1: codes die with the address they were mailed to. A reset code mailed to the old address used
to survive an email change *and* a password change (codes were keyed by account id alone): whoever read the old
mailbox set a new password, logged in and logged the owner out. Every pending code is now discarded when the email
or password changes or a reset completes, and each code is bound to the address it went to."""
from omcore import kv

from support import DEFAULT_PASSWORD, create_customer, login_customer

NEW = "N3w#Password"
ATTACKER = "Att4cker#Pass"


def _change_email(api, outbox, new_address):
    assert api.patch("/api/v1/customer/profile", json={"email": new_address}).status == 202
    code = int(outbox.last_code(new_address))
    assert api.post("/api/v1/customer/email-change", json={"code": code}).status == 200


def _reset_code(client, outbox, address):
    kv.client().delete(*(kv.client().keys("throttle:reset-mail:*") or ["none"]))
    assert client.post("/api/v1/auth/reset-password-1", json={"email": address}).status == 200
    return int(outbox.last_code(address))


def test_a_reset_code_mailed_to_the_old_address_dies_with_the_email_change(api, make_api, outbox):
    create_customer()
    attacker = make_api()
    stale = _reset_code(attacker, outbox, "buyer@example.com")  # read in the mailbox the owner is leaving
    login_customer(api)
    _change_email(api, outbox, "moved@example.com")
    for address in ("moved@example.com", "buyer@example.com"):
        resp = attacker.post("/api/v1/auth/reset-password-2",
                             json={"email": address, "code": stale, "password": ATTACKER})
        assert resp.status == 401, (address, resp)
    assert api.get("/api/v1/customer/profile").status == 200  # the owner is still logged in
    assert make_api().post("/api/v1/auth/login", json={"email": "moved@example.com",
                                                       "password": DEFAULT_PASSWORD}).status == 200


def test_a_reset_code_is_bound_to_the_address_it_was_mailed_to(make_api, outbox):
    """Even a code that somehow outlived the change (issued, then the address changed behind it) is refused:
    the code names the address it went to."""
    from omdb import db

    create_customer()
    stale = _reset_code(make_api(), outbox, "buyer@example.com")
    db.execute("UPDATE customers SET email = %s WHERE email = %s", ("moved@example.com", "buyer@example.com"))
    resp = make_api().post("/api/v1/auth/reset-password-2",
                           json={"email": "moved@example.com", "code": stale, "password": ATTACKER})
    assert resp.status == 401


def test_a_password_change_discards_pending_reset_codes(api, make_api, outbox):
    create_customer()
    stale = _reset_code(make_api(), outbox, "buyer@example.com")
    login_customer(api)
    resp = api.patch("/api/v1/customer/creds", json={"old_password": DEFAULT_PASSWORD, "new_password": NEW})
    assert resp.status == 200, resp
    resp = make_api().post("/api/v1/auth/reset-password-2",
                           json={"email": "buyer@example.com", "code": stale, "password": ATTACKER})
    assert resp.status == 401


def test_a_completed_reset_discards_a_pending_email_change(api, make_api, outbox):
    create_customer()
    login_customer(api)
    assert api.patch("/api/v1/customer/profile", json={"email": "thief@example.com"}).status == 202
    pending = int(outbox.last_code("thief@example.com"))
    code = _reset_code(make_api(), outbox, "buyer@example.com")
    assert make_api().post("/api/v1/auth/reset-password-2",
                           json={"email": "buyer@example.com", "code": code, "password": NEW}).status == 200
    login_customer(api, password=NEW)
    assert api.post("/api/v1/customer/email-change", json={"code": pending}).status == 401
    assert api.get("/api/v1/customer/profile").json["email"] == "buyer@example.com"


def test_the_old_address_is_not_told_the_new_one(api, outbox):
    create_customer()
    login_customer(api)
    _change_email(api, outbox, "secret.person@hidden-domain.example")
    notice = outbox.last_text("buyer@example.com")
    assert "changed from buyer@example.com" in notice
    for hint in ("secret", "se***", "hidden-domain", "@hidden"):
        assert hint not in notice, hint

"""Password reset (new in this backend) and password change."""
from support import DEFAULT_PASSWORD, create_customer, login_customer

NEW = "N3w#Password"


def test_reset_flow_sets_the_password_and_revokes_every_session(api, make_api, outbox):
    create_customer()
    login_customer(api)
    other_device = make_api()
    login_customer(other_device)
    resp = make_api().post("/api/v1/auth/reset-password-1", json={"email": "buyer@example.com"})
    assert resp.status == 200 and resp.json == {}
    code = outbox.last_code("buyer@example.com")
    resp = make_api().post("/api/v1/auth/reset-password-2",
                           json={"email": "buyer@example.com", "code": int(code), "password": NEW})
    assert resp.status == 200, resp
    assert api.get("/api/v1/auth/refresh").status == 401
    assert other_device.get("/api/v1/auth/refresh").status == 401
    assert api.post("/api/v1/auth/login", json={"email": "buyer@example.com", "password": DEFAULT_PASSWORD}).status == 401
    assert api.post("/api/v1/auth/login", json={"email": "buyer@example.com", "password": NEW}).status == 200


def test_reset_request_is_200_for_unknown_email_and_sends_nothing(api, outbox):
    resp = api.post("/api/v1/auth/reset-password-1", json={"email": "ghost@example.com"})
    assert resp.status == 200
    assert outbox.messages("ghost@example.com") == []


def test_reset_code_is_single_use_and_attempt_limited(api, outbox):
    create_customer()
    api.post("/api/v1/auth/reset-password-1", json={"email": "buyer@example.com"})
    code = int(outbox.last_code("buyer@example.com"))
    body = {"email": "buyer@example.com", "password": NEW}
    assert api.post("/api/v1/auth/reset-password-2", json={**body, "code": code}).status == 200
    assert api.post("/api/v1/auth/reset-password-2", json={**body, "code": code}).status == 401

    outbox.clear()
    from omcore import kv

    kv.client().delete(*kv.client().keys("throttle:*"))
    api.post("/api/v1/auth/reset-password-1", json={"email": "buyer@example.com"})
    code = int(outbox.last_code("buyer@example.com"))
    wrong = 999999 if code != 999999 else 999998
    for _ in range(5):
        assert api.post("/api/v1/auth/reset-password-2", json={**body, "code": wrong}).status == 401
    assert api.post("/api/v1/auth/reset-password-2", json={**body, "code": code}).status == 429


def test_reset_applies_the_password_rule(api, outbox):
    create_customer()
    api.post("/api/v1/auth/reset-password-1", json={"email": "buyer@example.com"})
    code = int(outbox.last_code("buyer@example.com"))
    resp = api.post("/api/v1/auth/reset-password-2",
                    json={"email": "buyer@example.com", "code": code, "password": "short"})
    assert resp.status == 400 and "special" in resp.json["error"]


def test_change_password_revokes_other_sessions_but_keeps_this_one(api, make_api):
    create_customer()
    login_customer(api)
    other = make_api()
    login_customer(other)
    resp = api.patch("/api/v1/customer/creds", json={"old_password": DEFAULT_PASSWORD, "new_password": NEW})
    assert resp.status == 200, resp
    assert other.get("/api/v1/auth/refresh").status == 401
    assert api.get("/api/v1/auth/refresh").status == 200


def test_change_password_checks_the_old_one_and_the_rule(api):
    create_customer()
    login_customer(api)
    assert api.patch("/api/v1/customer/creds", json={"old_password": "Wrong#Pass1", "new_password": NEW}).status == 401
    resp = api.patch("/api/v1/customer/creds", json={"old_password": DEFAULT_PASSWORD, "new_password": "weakpass"})
    assert resp.status == 409 and "uppercase" in resp.json["error"]


def test_existing_go_backend_bcrypt_hash_still_verifies(api):
    """A $2a$10$ hash as the Go backend wrote it (golang.org/x/crypto/bcrypt) logs in unchanged."""
    import bcrypt

    from omdb import db

    create_customer()
    legacy = bcrypt.hashpw(DEFAULT_PASSWORD.encode(), bcrypt.gensalt(10, prefix=b"2a"))
    assert legacy.startswith(b"$2a$10$")
    db.execute("UPDATE customers SET hashed_password = %s WHERE email = 'buyer@example.com'", (legacy.decode(),))
    login_customer(api)

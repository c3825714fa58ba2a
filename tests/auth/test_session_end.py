"""Issue 12 #4: an access token dies with its session. A copied access cookie (what an attacker who stole it holds)
is refused on the very next request after logout, a password change or a reset, not when the token expires."""
import os
import time

import jwt

from support import DEFAULT_PASSWORD, create_customer, login_customer

GUARDED = "/api/v1/customer/profile"
NEW = "N3w#Password"


def stolen_access(make_api, victim):
    """A second client holding only a copy of the victim's access cookie."""
    thief = make_api()
    thief.cookies["ac_cus"] = victim.cookies["ac_cus"]
    assert thief.get(GUARDED).status == 200  # the copy works while the session lives
    return thief


def test_logout_ends_the_access_token_at_once(api, make_api):
    create_customer()
    login_customer(api)
    thief = stolen_access(make_api, api)
    assert api.post("/api/v1/auth/logout").status == 200
    resp = thief.get(GUARDED)
    assert resp.status == 401 and "error" in resp.json


def test_logout_with_only_the_access_cookie_still_ends_that_session(api, make_api):
    create_customer()
    login_customer(api)
    thief = stolen_access(make_api, api)
    refresh = api.cookies.pop("ref_cus")  # a client that lost its refresh cookie
    assert api.post("/api/v1/auth/logout").status == 200
    assert thief.get(GUARDED).status == 401
    other = make_api()
    other.cookies["ref_cus"] = refresh
    assert other.get("/api/v1/auth/refresh").status == 401  # the whole family ended


def test_a_token_cannot_use_or_end_another_customers_session(api, make_api):
    create_customer()
    create_customer("other@example.com")
    login_customer(api)
    other = make_api()
    login_customer(other, "other@example.com")
    # a forged logout pairing its own (valid) access token with a foreign sid ends nothing that is not its own
    now = int(time.time())
    victim_sid = jwt.decode(api.cookies["ac_cus"], options={"verify_signature": False})["sid"]
    forged = jwt.encode({"sub": jwt.decode(other.cookies["ac_cus"], options={"verify_signature": False})["sub"],
                         "aud": "openmerce:customer", "iat": now, "exp": now + 600, "jti": "x", "sid": victim_sid},
                        os.environ["JWT_KEY_CUSTOMER"], algorithm="HS256")
    attacker = make_api()
    attacker.cookies["ac_cus"] = forged
    assert attacker.get(GUARDED).status == 401  # a sid that is not the subject's own session is refused
    assert attacker.post("/api/v1/auth/logout").status == 200
    assert api.get(GUARDED).status == 200  # the victim's session is untouched


def test_password_change_ends_the_access_tokens_of_the_other_sessions(api, make_api):
    create_customer()
    login_customer(api)
    laptop = make_api()
    login_customer(laptop)
    thief = stolen_access(make_api, laptop)
    resp = api.patch("/api/v1/customer/creds", json={"old_password": DEFAULT_PASSWORD, "new_password": NEW})
    assert resp.status == 200
    assert thief.get(GUARDED).status == 401
    assert laptop.get(GUARDED).status == 401
    assert api.get(GUARDED).status == 200  # the session that changed the password goes on


def test_password_reset_ends_every_access_token(api, make_api, outbox):
    create_customer()
    login_customer(api)
    thief = stolen_access(make_api, api)
    make_api().post("/api/v1/auth/reset-password-1", json={"email": "buyer@example.com"})
    code = int(outbox.last_code("buyer@example.com"))
    resp = make_api().post("/api/v1/auth/reset-password-2",
                           json={"email": "buyer@example.com", "code": code, "password": NEW})
    assert resp.status == 200
    assert thief.get(GUARDED).status == 401
    assert api.get(GUARDED).status == 401


def test_token_without_a_session_is_refused(api):
    cid = create_customer()
    now = int(time.time())
    key = os.environ["JWT_KEY_CUSTOMER"]
    base = {"sub": cid, "aud": "openmerce:customer", "iat": now, "exp": now + 600, "jti": "j"}
    for claims in (base, {**base, "sid": "no-such-session"}, {**base, "sid": ["a"]}, {**base, "sid": "x" * 500}):
        api.cookies["ac_cus"] = jwt.encode(claims, key, algorithm="HS256")
        resp = api.get(GUARDED)
        assert resp.status == 401 and "error" in resp.json


def test_guard_fails_closed_with_503_when_redis_is_down(api, monkeypatch):
    from omcore import kv

    from tools.devstack import free_port

    create_customer()
    login_customer(api)
    monkeypatch.setenv("REDIS_PORT", str(free_port()))  # nothing listens there
    kv.reset_client()
    try:
        resp = api.get(GUARDED)
        assert resp.status == 503 and "error" in resp.json
    finally:
        monkeypatch.undo()
        kv.reset_client()
    assert api.get(GUARDED).status == 200

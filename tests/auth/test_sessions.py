"""Login, refresh rotation, logout, and the access-token rules (checked on a customer route)."""
import time

import jwt
import pytest

from support import DEFAULT_PASSWORD, create_customer, login_customer

CUSTOMER_ROUTE = "/api/v1/customer/creds"  # any guarded customer route; PATCH with a bad body


def guarded_status(api):
    """401 when the access token is refused; 400 (bad body) once the guard let the request through."""
    return api.patch(CUSTOMER_ROUTE, json={}).status


def test_login_sets_cookies_with_the_expected_flags(api):
    create_customer()
    resp = login_customer(api, remember_me=True)
    ac, ref = resp.cookie("ac_cus"), resp.cookie("ref_cus")
    for cookie in (ac, ref):
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
        assert "Domain" not in cookie
        assert "Secure" not in cookie  # COOKIE_SECURE=false in tests (plain http on 127.0.0.1)
    assert "Max-Age=900" in ac
    assert "Max-Age=1209" in ref  # 14 days


def test_without_remember_me_cookies_are_session_cookies(api):
    create_customer()
    resp = login_customer(api)
    assert "Max-Age" not in resp.cookie("ac_cus") and "Max-Age" not in resp.cookie("ref_cus")


def test_secure_flag_by_default(api, monkeypatch):
    monkeypatch.setenv("COOKIE_SECURE", "true")
    create_customer()
    resp = login_customer(api)
    assert "Secure" in resp.cookie("ac_cus")


def test_access_token_claims_are_pinned_hs256_with_exp(api):
    create_customer()
    login_customer(api)
    token = api.cookies["ac_cus"]
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert {"sub", "iat", "exp", "jti", "aud", "sid"} <= set(claims)
    assert claims["exp"] - claims["iat"] == 900


def test_wrong_password_and_unknown_email_are_the_same_401_json(api):
    create_customer()
    a = api.post("/api/v1/auth/login", json={"email": "buyer@example.com", "password": "Wrong#Pass1"})
    b = api.post("/api/v1/auth/login", json={"email": "nobody@example.com", "password": "Wrong#Pass1"})
    assert a.status == b.status == 401
    assert a.json == b.json == {"error": "invalid email or password", "code": "unauthorized"}


def test_soft_deleted_customer_cannot_log_in(api):
    create_customer("gone@example.com", deleted=True)
    resp = api.post("/api/v1/auth/login", json={"email": "gone@example.com", "password": DEFAULT_PASSWORD})
    assert resp.status == 401


def test_failed_logins_per_account_answer_429_with_retry_after(api):
    create_customer()
    for _ in range(5):
        api.post("/api/v1/auth/login", json={"email": "buyer@example.com", "password": "Wrong#Pass1"})
    resp = api.post("/api/v1/auth/login", json={"email": "buyer@example.com", "password": DEFAULT_PASSWORD})
    assert resp.status == 429
    assert 0 < int(resp.headers["retry-after"]) <= 900
    assert "error" in resp.json


def test_failed_logins_per_ip(api, monkeypatch):
    monkeypatch.setenv("LOGIN_FAIL_PER_IP", "4")
    for i in range(4):
        api.post("/api/v1/auth/login", json={"email": f"x{i}@example.com", "password": "Wrong#Pass1"})
    create_customer()
    resp = api.post("/api/v1/auth/login", json={"email": "buyer@example.com", "password": DEFAULT_PASSWORD})
    assert resp.status == 429


def test_a_valid_token_passes_the_guard(api):
    create_customer()
    login_customer(api)
    assert guarded_status(api) == 400


def _forge(claims, key, alg="HS256"):
    return jwt.encode(claims, key, algorithm=alg)


@pytest.mark.parametrize("case", ["none-alg", "other-secret", "expired", "no-exp", "email-token", "staff-token",
                                  "garbage", "missing"])
def test_bad_access_tokens_get_401(api, case):
    import os

    cid = create_customer()
    now = int(time.time())
    base = {"sub": cid, "aud": "openmerce:customer", "iat": now, "exp": now + 600, "jti": "j1", "sid": "s"}
    key = os.environ["JWT_KEY_CUSTOMER"]
    tokens = {
        "none-alg": jwt.encode(base, None, algorithm="none"),
        "other-secret": _forge(base, "another-secret-another-secret-another"),
        "expired": _forge({**base, "iat": now - 2000, "exp": now - 1000}, key),
        "no-exp": _forge({k: v for k, v in base.items() if k != "exp"}, key),
        "email-token": _forge({**base, "aud": "openmerce:email-verification", "sub": "buyer@example.com"}, key),
        "staff-token": _forge({**base, "aud": "openmerce:staff"}, os.environ["JWT_KEY_STAFF"]),
        "garbage": "not.a.jwt",
        "missing": None,
    }
    if tokens[case] is not None:
        api.cookies["ac_cus"] = tokens[case]
    resp = api.patch(CUSTOMER_ROUTE, json={})
    assert resp.status == 401
    assert "error" in resp.json


def test_refresh_rotates_and_answers_json(api):
    create_customer()
    login_customer(api, remember_me=True)
    first = api.cookies["ref_cus"]
    resp = api.get("/api/v1/auth/refresh")
    assert resp.status == 200 and resp.json == {}
    assert api.cookies["ref_cus"] != first
    assert guarded_status(api) == 400


def test_reused_rotated_refresh_token_revokes_the_whole_family(api, make_api, monkeypatch):
    monkeypatch.setenv("REFRESH_GRACE_SECONDS", "0")
    create_customer()
    login_customer(api)
    stolen = api.cookies["ref_cus"]
    assert api.get("/api/v1/auth/refresh").status == 200  # legitimate rotation
    time.sleep(0.01)
    attacker = make_api()
    attacker.cookies["ref_cus"] = stolen
    assert attacker.get("/api/v1/auth/refresh").status == 401  # reuse detected ...
    assert api.get("/api/v1/auth/refresh").status == 401  # ... and the legitimate family is gone too


def test_two_refreshes_racing_with_the_same_token_both_succeed(api, make_api):
    create_customer()
    login_customer(api)
    tab2 = make_api()
    tab2.cookies.update(api.cookies)
    assert api.get("/api/v1/auth/refresh").status == 200
    resp = tab2.get("/api/v1/auth/refresh")  # same (just rotated) token, inside the grace window
    assert resp.status == 200
    assert resp.cookie("ref_cus") is None  # no second rotation: the browser keeps the winner's token
    assert api.get("/api/v1/auth/refresh").status == 200  # and the user is still logged in


def test_refresh_without_cookie_is_401_json(api):
    resp = api.get("/api/v1/auth/refresh")
    assert resp.status == 401 and "error" in resp.json


def test_refresh_of_a_soft_deleted_customer_fails(api):
    from omdb import db

    create_customer()
    login_customer(api)
    db.execute("UPDATE customers SET deleted_at = UTC_TIMESTAMP() WHERE email = 'buyer@example.com'")
    assert api.get("/api/v1/auth/refresh").status == 401


def test_logout_is_idempotent_and_ends_the_session(api, make_api):
    create_customer()
    login_customer(api)
    refresh_token = api.cookies["ref_cus"]
    resp = api.post("/api/v1/auth/logout")
    assert resp.status == 200 and resp.json == {}
    assert "Max-Age=0" in resp.cookie("ac_cus") and "Max-Age=0" in resp.cookie("ref_cus")
    assert api.post("/api/v1/auth/logout").status == 200  # no cookies any more: still 200
    other = make_api()
    other.cookies["ref_cus"] = refresh_token
    assert other.get("/api/v1/auth/refresh").status == 401


def test_session_survives_a_user_agent_with_quotes(api):
    create_customer()
    api.user_agent = 'Mozilla/5.0 "quoted" \\ backslash'
    login_customer(api)
    assert api.get("/api/v1/auth/refresh").status == 200

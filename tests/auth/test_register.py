"""Three-step registration through the real mail path (log transport → outbox)."""
import re

from support import create_customer

EMAIL = "new.buyer@example.com"
PASSWORD = "Str0ng#Pass"
PROFILE = {"first_name": "Siti", "last_name": "Rahma", "birth_date": "1995-05-17T00:00:00.000Z", "gender": "female"}


def register(api, outbox, email=EMAIL):
    assert api.post("/api/v1/auth/register-1", json={"email": email}).status == 200
    code = outbox.last_code(email)
    resp = api.post("/api/v1/auth/register-2", json={"email": email, "code": int(code)})
    assert resp.status == 200, resp
    resp = api.post("/api/v1/auth/register-3", json={"email": email, "password": PASSWORD, **PROFILE})
    assert resp.status == 200, resp
    return resp


def test_full_registration_then_login(api, outbox):
    resp = register(api, outbox)
    assert "email" not in api.cookies  # the registration cookie is cleared
    assert "Max-Age=0" in resp.cookie("email")
    login = api.post("/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD, "remember_me": False})
    assert login.status == 200
    assert login.json == {"first_name": "Siti", "last_name": "Rahma"}


def test_mail_has_plain_and_html_bodies_and_a_six_digit_code(api, outbox):
    api.post("/api/v1/auth/register-1", json={"email": EMAIL})
    msg = outbox.messages(EMAIL)[-1]
    assert msg.get_body(preferencelist=("html",)) is not None
    assert re.search(r"\b[1-9]\d{5}\b", outbox.last_text(EMAIL))


def test_email_cookie_lifetimes_and_flags(api, outbox):
    resp = api.post("/api/v1/auth/register-1", json={"email": EMAIL})
    cookie = resp.cookie("email")
    assert "Max-Age=300" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie
    resp = api.post("/api/v1/auth/register-2", json={"email": EMAIL, "code": int(outbox.last_code(EMAIL))})
    assert "Max-Age=600" in resp.cookie("email")


def test_code_as_string_is_accepted_too(api, outbox):
    api.post("/api/v1/auth/register-1", json={"email": EMAIL})
    resp = api.post("/api/v1/auth/register-2", json={"email": EMAIL, "code": outbox.last_code(EMAIL)})
    assert resp.status == 200


def test_wrong_code_is_401_json(api, outbox):
    api.post("/api/v1/auth/register-1", json={"email": EMAIL})
    code = int(outbox.last_code(EMAIL))
    resp = api.post("/api/v1/auth/register-2", json={"email": EMAIL, "code": 100000 if code != 100000 else 100001})
    assert resp.status == 401
    assert resp.json == {"error": "Invalid verification code", "code": "unauthorized"}


def test_sixth_attempt_is_refused_even_with_the_right_code(api, outbox):
    api.post("/api/v1/auth/register-1", json={"email": EMAIL})
    code = int(outbox.last_code(EMAIL))
    wrong = 999999 if code != 999999 else 999998
    for _ in range(5):
        assert api.post("/api/v1/auth/register-2", json={"email": EMAIL, "code": wrong}).status == 401
    resp = api.post("/api/v1/auth/register-2", json={"email": EMAIL, "code": code})
    assert resp.status == 429
    assert "error" in resp.json
    # and the code is gone for good
    assert api.post("/api/v1/auth/register-2", json={"email": EMAIL, "code": code}).status == 401


def test_code_is_single_use(api, outbox, make_api):
    api.post("/api/v1/auth/register-1", json={"email": EMAIL})
    code = int(outbox.last_code(EMAIL))
    assert api.post("/api/v1/auth/register-2", json={"email": EMAIL, "code": code}).status == 200
    # the step-2 cookie is now "verified": replaying step 2 with the old step-1 cookie fails on the code
    other = make_api()
    other.cookies["email"] = api.cookies["email"]
    assert other.post("/api/v1/auth/register-2", json={"email": EMAIL, "code": code}).status in (401, 403)


def test_one_mail_per_address_per_five_minutes(api, outbox):
    assert api.post("/api/v1/auth/register-1", json={"email": EMAIL}).status == 200
    resp = api.post("/api/v1/auth/register-1", json={"email": EMAIL})
    assert resp.status == 409
    assert "5 minutes" in resp.json["error"]
    assert len(outbox.messages(EMAIL)) == 1


def test_per_ip_mail_limit(api, outbox, monkeypatch):
    monkeypatch.setenv("MAIL_PER_IP_LIMIT", "3")
    for i in range(3):
        assert api.post("/api/v1/auth/register-1", json={"email": f"a{i}@example.com"}).status == 200
    resp = api.post("/api/v1/auth/register-1", json={"email": "a9@example.com"})
    assert resp.status == 429
    assert int(resp.headers["retry-after"]) > 0


def test_existing_email_is_not_revealed_at_step_one(api, outbox):
    create_customer("known@example.com")
    resp = api.post("/api/v1/auth/register-1", json={"email": "known@example.com"})
    assert resp.status == 200
    assert "already exists" in outbox.last_text("known@example.com")
    assert not re.search(r"\b\d{6}\b", outbox.last_text("known@example.com"))


def test_step_three_needs_a_verified_cookie_for_the_same_email(api, outbox):
    api.post("/api/v1/auth/register-1", json={"email": EMAIL})
    resp = api.post("/api/v1/auth/register-3", json={"email": EMAIL, "password": PASSWORD, **PROFILE})
    assert resp.status == 403 and "error" in resp.json
    api.post("/api/v1/auth/register-2", json={"email": EMAIL, "code": int(outbox.last_code(EMAIL))})
    resp = api.post("/api/v1/auth/register-3", json={"email": "other@example.com", "password": PASSWORD, **PROFILE})
    assert resp.status == 403


def test_no_cookie_at_step_two_is_403_json(api):
    resp = api.post("/api/v1/auth/register-2", json={"email": EMAIL, "code": 123456})
    assert resp.status == 403 and "error" in resp.json


def test_password_rule_message_states_every_requirement(api, outbox):
    api.post("/api/v1/auth/register-1", json={"email": EMAIL})
    api.post("/api/v1/auth/register-2", json={"email": EMAIL, "code": int(outbox.last_code(EMAIL))})
    resp = api.post("/api/v1/auth/register-3", json={"email": EMAIL, "password": "Password1", **PROFILE})
    assert resp.status == 400
    message = resp.json["error"]
    for word in ("8", "lowercase", "uppercase", "number", "special"):
        assert word in message


def test_bad_input_is_a_json_400(api):
    for body in (b"not json", b"[]", b'{"email": 5}', b'{"email": "nope"}', b"{}"):
        resp = api.request("POST", "/api/v1/auth/register-1", body=body, headers={"content-type": "application/json"})
        assert resp.status == 400, body
        assert "error" in resp.json


def test_codes_never_have_a_leading_zero():
    from omauth.codes import new_code

    drawn = {new_code() for _ in range(20000)}
    assert all(len(c) == 6 and c[0] != "0" for c in drawn)
    assert min(int(c) for c in drawn) >= 100000


def test_birth_dates_must_be_plausible(api, outbox):
    """Issue 18 (low): birth dates 2999-01-01 and 0001-01-01 were stored as given. 1900-01-01 up to ten years ago."""
    api.post("/api/v1/auth/register-1", json={"email": EMAIL})
    api.post("/api/v1/auth/register-2", json={"email": EMAIL, "code": int(outbox.last_code(EMAIL))})
    for bad in ("2999-01-01", "0001-01-01", "1899-12-31T00:00:00Z", "2025-06-01"):
        resp = api.post("/api/v1/auth/register-3",
                        json={"email": EMAIL, "password": PASSWORD, **PROFILE, "birth_date": bad})
        assert resp.status == 400 and "birth_date must be between 1900-01-01" in resp.json["error"], bad
    resp = api.post("/api/v1/auth/register-3",
                    json={"email": EMAIL, "password": PASSWORD, **PROFILE, "birth_date": "1900-01-01"})
    assert resp.status == 200, resp

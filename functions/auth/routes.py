"""Customer auth: /api/v1/auth/* and PATCH /api/v1/customer/creds. Translation only; rules live in service.py."""
from omauth import cookies, guards, tokens
from omcore.errors import BadRequest
from omcore.http import Reply, Routes

from . import service

routes = Routes(__name__)

GENDERS = ("male", "female")


def _session_cookies(login: service.Login) -> list[str]:
    return cookies.session_pair(cookies.ACCESS_CUSTOMER, cookies.REFRESH_CUSTOMER, login.access_token, login.refresh_token,
                                login.remember_me, login.refresh_ttl, tokens.access_ttl_seconds())


@routes.route("/api/v1/auth/register-1", methods=["POST"])
def register_1(req):
    """Registration step 1: mail a 6-digit code to the address."""
    email = req.fields().email("email")
    token = service.register_start(email, req.client_ip)
    return Reply({}, cookies=[cookies.make(cookies.EMAIL, token, service.email_cookie_step1())])


@routes.route("/api/v1/auth/register-2", methods=["POST"])
def register_2(req):
    """Registration step 2: check the code (a JSON number or a string of digits)."""
    body = req.fields()
    email = body.email("email")
    code = body.data.get("code")
    if code is None:
        raise BadRequest("code is required")
    token = service.register_verify(req.cookies.get(cookies.EMAIL), email, code, req.client_ip)
    return Reply({}, cookies=[cookies.make(cookies.EMAIL, token, service.email_cookie_step2())])


@routes.route("/api/v1/auth/register-3", methods=["POST"])
def register_3(req):
    """Registration step 3: create the account (password rule applies)."""
    body = req.fields()
    email = body.email("email")
    password = body.str("password", strip=False, max_len=200)
    first_name = body.str("first_name", max_len=50)
    last_name = body.str("last_name", max_len=50)
    birth_date = body.date("birth_date", required=False)
    gender = body.choice("gender", GENDERS)
    service.register_complete(req.cookies.get(cookies.EMAIL), email, password, first_name, last_name, birth_date,
                              gender)
    return Reply({}, cookies=[cookies.expire(cookies.EMAIL)])


@routes.route("/api/v1/auth/login", methods=["POST"])
def login(req):
    """Log in; sets ac_cus and ref_cus. Answers {first_name, last_name}."""
    body = req.fields()
    email = body.email("email")
    password = body.str("password", strip=False, max_len=200)
    remember_me = bool(body.bool("remember_me", required=False))
    result = service.login(email, password, remember_me, req.client_ip, req.user_agent)
    return Reply({"first_name": result.first_name, "last_name": result.last_name},
                 cookies=_session_cookies(result), headers={"Cache-Control": "no-store"})


@routes.route("/api/v1/auth/refresh", methods=["GET"])
def refresh(req):
    """Rotate the refresh token and issue a new access token."""
    result = service.refresh(req.cookies.get(cookies.REFRESH_CUSTOMER))
    return Reply({}, cookies=_session_cookies(result), headers={"Cache-Control": "no-store"})


@routes.route("/api/v1/auth/logout", methods=["POST"])
def logout(req):
    """End the session, its access token included (idempotent: 200 even without cookies)."""
    service.logout(req.cookies.get(cookies.REFRESH_CUSTOMER), req.cookies.get(cookies.ACCESS_CUSTOMER))
    return Reply({}, cookies=[cookies.expire(cookies.ACCESS_CUSTOMER), cookies.expire(cookies.REFRESH_CUSTOMER)])


@routes.route("/api/v1/auth/reset-password-1", methods=["POST"])
def reset_password_1(req):
    """Mail a password-reset code (always 200, whether or not the email exists)."""
    service.reset_start(req.fields().email("email"), req.client_ip)
    return Reply({})


@routes.route("/api/v1/auth/reset-password-2", methods=["POST"])
def reset_password_2(req):
    """Set a new password with the mailed code; ends every session of the account."""
    body = req.fields()
    email = body.email("email")
    code = body.data.get("code")
    if code is None:
        raise BadRequest("code is required")
    password = body.str("password", strip=False, max_len=200)
    service.reset_finish(email, code, password, req.client_ip)
    return Reply({}, cookies=[cookies.expire(cookies.ACCESS_CUSTOMER), cookies.expire(cookies.REFRESH_CUSTOMER)])


@routes.route("/api/v1/customer/creds", methods=["PATCH"], guard=guards.customer)
def change_password(req):
    """Change the password; every other session of the customer ends."""
    body = req.fields()
    old = body.str("old_password", strip=False, max_len=200)
    new = body.str("new_password", strip=False, max_len=200)
    service.change_password(req.principal.id, req.principal.sid, old, new)
    return Reply({})

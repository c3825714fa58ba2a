"""Customer auth: /api/v1/auth/* and PATCH /api/v1/customer/creds. Translation only; rules live in service.py."""
from omauth import cookies, guards, tokens
from omcore.http import Reply, Routes
from omcore.spec import STRING, Spec, anything, boolean, choice, date, email, obj, text
from omcore.validate import plausible_birth_date

from . import service

routes = Routes(__name__)

GENDERS = ("male", "female")
EMPTY = obj()  # the answer carries its news in cookies, or none
PASSWORD = {"strip": False, "max_len": 200}  # a password is taken as typed
ONE_TIME_CODE = {"description": "the 6-digit code from the mail (a JSON number or a string of digits)",
                 "oneOf": [{"type": "integer", "minimum": 100000, "maximum": 999999},
                           {"type": "string", "pattern": "^[0-9]{6}$"}]}


def _session_cookies(login: service.Login) -> list[str]:
    return cookies.session_pair(cookies.ACCESS_CUSTOMER, cookies.REFRESH_CUSTOMER, login.access_token, login.refresh_token,
                                login.remember_me, login.refresh_ttl, tokens.access_ttl_seconds())


@routes.route("/api/v1/auth/register-1", methods=["POST"], body=Spec(email("email")), query=Spec(),
              responses={200: EMPTY})
def register_1(req):
    """Registration step 1: mail a 6-digit code to the address.

    200: code mailed; sets the `email` cookie (300 s)
    409: a code was requested less than 5 minutes ago
    429: too many mails from this network
    """
    token = service.register_start(req.body["email"], req.client_ip)
    return Reply({}, cookies=[cookies.make(cookies.EMAIL, token, service.email_cookie_step1())])


@routes.route("/api/v1/auth/register-2", methods=["POST"], body=Spec(email("email"), anything("code", ONE_TIME_CODE)),
              query=Spec(),
              responses={200: EMPTY})
def register_2(req):
    """Registration step 2: check the code (a JSON number or a string of digits).

    200: verified; `email` cookie renewed (600 s)
    401: wrong code
    403: no or mismatching registration cookie
    429: too many wrong codes (this code, or this address today), or too many code checks from this client
    """
    token = service.register_verify(req.cookies.get(cookies.EMAIL), req.body["email"], req.body["code"], req.client_ip)
    return Reply({}, cookies=[cookies.make(cookies.EMAIL, token, service.email_cookie_step2())])


@routes.route("/api/v1/auth/register-3", methods=["POST"], query=Spec(),
              body=Spec(email("email"), text("password", **PASSWORD), text("first_name", max_len=50),
                        text("last_name", max_len=50), date("birth_date", required=False, blank=True, then=plausible_birth_date), choice("gender", GENDERS)),
              responses={200: EMPTY})
def register_3(req):
    """Registration step 3: create the account (password rule applies).

    200: account created
    400: invalid input or password rule
    409: Email already registered
    """
    body = req.body
    service.register_complete(req.cookies.get(cookies.EMAIL), body["email"], body["password"], body["first_name"],
                              body["last_name"], body["birth_date"], body["gender"])
    return Reply({}, cookies=[cookies.expire(cookies.EMAIL)])


@routes.route("/api/v1/auth/login", methods=["POST"], query=Spec(),
              body=Spec(email("email"), text("password", **PASSWORD), boolean("remember_me", required=False)),
              responses={200: obj("first_name", "last_name", first_name=STRING, last_name=STRING)})
def login(req):
    """Log in; sets ac_cus and ref_cus. Answers {first_name, last_name}.

    200: sets ac_cus and ref_cus
    401: invalid email or password
    429: too many failed logins for this account from this client, for this account overall, or from this client
        (Retry-After)
    """
    body = req.body
    result = service.login(body["email"], body["password"], bool(body["remember_me"]), req.client_ip,
                           req.user_agent)
    return Reply({"first_name": result.first_name, "last_name": result.last_name},
                 cookies=_session_cookies(result), headers={"Cache-Control": "no-store"})


@routes.route("/api/v1/auth/refresh", methods=["GET"], body=Spec(), query=Spec(),
              responses={200: EMPTY})
def refresh(req):
    """Rotate the refresh token and issue a new access token.

    200: rotated; new ac_cus (and ref_cus)
    401: no valid session
    """
    result = service.refresh(req.cookies.get(cookies.REFRESH_CUSTOMER))
    return Reply({}, cookies=_session_cookies(result), headers={"Cache-Control": "no-store"})


@routes.route("/api/v1/auth/logout", methods=["POST"], body=Spec(), query=Spec(),
              responses={200: EMPTY})
def logout(req):
    """End the session, its access token included (idempotent: 200 even without cookies).

    200: cookies expired; the session of the refresh and of the access cookie ended (idempotent)
    """
    service.logout(req.cookies.get(cookies.REFRESH_CUSTOMER), req.cookies.get(cookies.ACCESS_CUSTOMER))
    return Reply({}, cookies=[cookies.expire(cookies.ACCESS_CUSTOMER), cookies.expire(cookies.REFRESH_CUSTOMER)])


@routes.route("/api/v1/auth/reset-password-1", methods=["POST"], body=Spec(email("email")), query=Spec(),
              responses={200: EMPTY})
def reset_password_1(req):
    """Mail a password-reset code (always 200, whether or not the email exists).

    200: always; a code is mailed if the account exists
    """
    service.reset_start(req.body["email"], req.client_ip)
    return Reply({})


@routes.route("/api/v1/auth/reset-password-2", methods=["POST"], query=Spec(),
              body=Spec(email("email"), anything("code", ONE_TIME_CODE), text("password", **PASSWORD)),
              responses={200: EMPTY})
def reset_password_2(req):
    """Set a new password with the mailed code; ends every session of the account.

    200: password set; every session (and its access tokens) ended
    401: wrong code
    429: too many wrong codes (this code, or this account today: then even the right code), or too many code checks
        from this client
    """
    body = req.body
    service.reset_finish(body["email"], body["code"], body["password"], req.client_ip)
    return Reply({}, cookies=[cookies.expire(cookies.ACCESS_CUSTOMER), cookies.expire(cookies.REFRESH_CUSTOMER)])


@routes.route("/api/v1/customer/creds", methods=["PATCH"], guard=guards.customer, query=Spec(),
              body=Spec(text("old_password", **PASSWORD), text("new_password", **PASSWORD)),
              responses={200: EMPTY})
def change_password(req):
    """Change the password; every other session of the customer ends.

    200: changed; other sessions (and their access tokens) ended
    401: wrong current password or not logged in
    409: new password breaks the rule
    """
    service.change_password(req.principal.id, req.principal.sid, req.body["old_password"], req.body["new_password"])
    return Reply({})

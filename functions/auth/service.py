"""Customer authentication: three-step registration, login, refresh rotation, logout, password reset and change.

Plain functions: they take validated values and return data (or raise ``omcore.errors``); routes.py turns them into
HTTP answers and cookies.
"""
from __future__ import annotations

from typing import NamedTuple

from omauth import codes, passwords, ratelimit, sessions, tokens
from omcommerce import notify
from omcore import config
from omcore.errors import Conflict, Forbidden, TooManyRequests, Unauthorized
from omcore.log import get_logger
from omdb import db
from omdb.errors import DuplicateKey
from omdb.ids import from_bin, new_id, to_bin

log = get_logger("auth")

KIND = "cus"


def _int(name: str) -> int:
    """An integer setting; its default is the registry's (``omcore.settings``)."""
    return config.get_int(name)


def code_ttl() -> int:
    return _int("VERIFICATION_CODE_TTL_SECONDS")


def email_cookie_step1() -> int:
    return _int("EMAIL_COOKIE_STEP1_SECONDS")


def email_cookie_step2() -> int:
    return _int("EMAIL_COOKIE_STEP2_SECONDS")


def max_code_attempts() -> int:
    return _int("CODE_MAX_ATTEMPTS")


def code_daily_limit() -> int:
    """Wrong codes per account (per purpose) per day, across every reissued code."""
    return _int("CODE_FAIL_PER_ACCOUNT_DAY")


def limit_code_checks(ip: str) -> None:
    """Every code-checking endpoint (register-2, reset-password-2, email-change) counts each try per client."""
    ratelimit.hit("code-ip", ip, limit=_int("CODE_CHECK_PER_IP"),
                  window=_int("CODE_CHECK_WINDOW_SECONDS"),
                  message="too many verification attempts from your network, please try again later")


def _limit_mail_per_ip(ip: str) -> None:
    ratelimit.hit("mail-ip", ip, limit=_int("MAIL_PER_IP_LIMIT"), window=_int("MAIL_PER_IP_WINDOW_SECONDS"),
                  message="too many emails requested from your network, please try again later")


def _customer_by_email(email: str) -> dict | None:
    """The customer whose address is exactly ``email`` (already lower-cased). The column's collation also matches
    accent variants (``ádmin@…`` = ``admin@…``); such a row is a different mailbox and never matches here."""
    row = db.query_one("SELECT id, email, hashed_password, first_name, last_name, deleted_at FROM customers"
                       " WHERE email = %s", (email,))
    if row is None or str(row["email"]).strip().lower() != email:
        return None
    return row


# ---------------------------------------------------------------- registration

def register_start(email: str, ip: str) -> str:
    """Step 1: mail a code (or, for a known address, an "account exists" note — the answer is the same either
    way, so the endpoint reveals nothing). Returns the step-1 ``email`` cookie token."""
    # the per-client limit comes first: it writes one key per client, and refuses before the per-address
    # throttle writes a key for every address a client makes up (18,316 keys from one client in a minute)
    _limit_mail_per_ip(ip)
    wait = codes.throttle("register-mail", email, _int("MAIL_THROTTLE_SECONDS"))
    if wait:
        raise Conflict("You have already requested a verification code. Please wait "
                       f"{notify.minutes(_int('MAIL_THROTTLE_SECONDS'))} minutes before requesting another one.",
                       headers={"Retry-After": str(wait)})
    if _customer_by_email(email) is not None:
        codes.discard("register", email)
        notify.account_mail("auth.already_registered", email)
    elif codes.locked("register", email, code_daily_limit()):
        pass  # past today's wrong-code cap for this address: a code could not be used (register-2 answers 429)
    else:
        code = codes.issue("register", email, code_ttl())
        notify.account_mail("auth.verification_code", email, code=code, minutes=notify.minutes(code_ttl()))
    return tokens.issue(tokens.AUD_EMAIL, email, email_cookie_step1(), {"verified": False})


def _email_claims(cookie: str | None, email: str, *, verified: bool) -> dict:
    if not cookie:
        raise Forbidden("start the registration again: the verification session is missing")
    claims = tokens.decode(tokens.AUD_EMAIL, cookie, message="the verification session expired, start again")
    if claims.get("verified") is not verified:
        raise Forbidden("this step does not match the registration state, start again" if verified
                        else "this email is already verified, continue with the next step")
    if claims["sub"] != email:
        raise Forbidden("the email does not match the one being verified")
    return claims


def check_code(purpose: str, subject: str, code, address: str | None = None) -> dict:
    """Check a mailed code (attempts per code, wrong codes per subject per day; with ``address``, only a code
    mailed to that address); returns its extra fields."""
    outcome, extra = codes.check(purpose, subject, code, max_attempts=max_code_attempts(),
                                 daily_limit=code_daily_limit(), address=address)
    if outcome == codes.OK:
        return extra
    if outcome == codes.LOCKED:
        raise TooManyRequests("too many wrong codes for this account today, please try again later",
                              retry_after=codes.locked(purpose, subject, code_daily_limit()) or codes.DAY)
    if outcome == codes.EXHAUSTED:
        raise TooManyRequests("too many wrong codes: this code is no longer valid, request a new one",
                              retry_after=60)
    raise Unauthorized("Invalid verification code")


def register_verify(cookie: str | None, email: str, code, ip: str) -> str:
    """Step 2: check the code; returns the step-2 ``email`` cookie token (verified)."""
    limit_code_checks(ip)
    _email_claims(cookie, email, verified=False)
    check_code("register", email, code)
    return tokens.issue(tokens.AUD_EMAIL, email, email_cookie_step2(), {"verified": True})


def register_complete(cookie: str | None, email: str, password: str, first_name: str, last_name: str,
                      birth_date, gender: str) -> None:
    """Step 3: create the account."""
    _email_claims(cookie, email, verified=True)
    passwords.check_password_rule(password)
    try:
        db.execute("INSERT INTO customers (id, email, hashed_password, first_name, last_name, birth_date, gender)"
                   " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                   (new_id().bytes, email, passwords.hash_password(password), first_name, last_name, birth_date,
                    gender))
    except DuplicateKey:
        raise Conflict("Email already registered") from None


# ---------------------------------------------------------------- login and sessions

class Login(NamedTuple):  # not a dataclass: `dataclasses` + `inspect` stay out of the cold start
    access_token: str
    refresh_token: str | None
    remember_me: bool
    refresh_ttl: int
    first_name: str = ""
    last_name: str = ""


def access_token(customer_id: str, family: str) -> str:
    return tokens.issue(tokens.AUD_CUSTOMER, customer_id, tokens.access_ttl_seconds(), {"sid": family})


def _limit_subject(row: dict | None, email: str) -> str:
    """Failed-login limits count per account: the account's own address when it exists, else the address as typed,
    both case- and accent-folded, so every spelling of one account shares its counters."""
    return ratelimit.canonical_name(row["email"] if row is not None else email)


def login(email: str, password: str, remember_me: bool, ip: str, user_agent: str) -> Login:
    row = _customer_by_email(email)
    subject = _limit_subject(row, email)
    ratelimit.check_login("login", subject, ip)
    usable = row is not None and row["deleted_at"] is None
    # verify_password(…, None) spends the same bcrypt time, so unknown emails are not faster than wrong passwords
    if not passwords.verify_password(password, row["hashed_password"] if usable else None):
        ratelimit.login_failed("login", subject, ip)
        raise Unauthorized("invalid email or password")
    ratelimit.login_succeeded("login", subject, ip)
    customer_id = from_bin(row["id"])
    session = sessions.create(KIND, customer_id, remember_me=remember_me, user_agent=user_agent)
    return Login(access_token(customer_id, session.family), session.refresh_token, remember_me, session.ttl_seconds,
                 row["first_name"], row["last_name"])


def refresh(token: str | None) -> Login:
    session = sessions.rotate(KIND, token)
    row = db.query_one("SELECT deleted_at FROM customers WHERE id = %s", (to_bin(session.user_id),))
    if row is None or row["deleted_at"] is not None:
        sessions.revoke_family(KIND, session.user_id, session.family)
        raise Unauthorized("no valid session, please log in")
    return Login(access_token(session.user_id, session.family), session.refresh_token, session.remember_me,
                 session.ttl_seconds)


def logout(refresh_token: str | None, access_token_value: str | None) -> None:
    """End the session of the refresh cookie and the one the access cookie belongs to."""
    sessions.logout(KIND, tokens.AUD_CUSTOMER, refresh_token, access_token_value)


# ---------------------------------------------------------------- password reset and change

def reset_start(email: str, ip: str) -> None:
    """Mail a reset code when the account exists; silent otherwise (the answer never tells). Codes are keyed on the
    account id; while the account is past its daily cap of wrong codes no new code is mailed (it could not be
    used: reset-password-2 answers 429 until the cap resets)."""
    _limit_mail_per_ip(ip)
    row = _customer_by_email(email)
    if row is None or row["deleted_at"] is not None:
        notify.no_mail("auth.reset_code")  # the same work on the request path as a mailed code: no timing oracle
        return
    subject = from_bin(row["id"])
    if codes.locked("reset", subject, code_daily_limit()):
        return notify.no_mail("auth.reset_code")
    if codes.throttle("reset-mail", subject, _int("RESET_MAIL_THROTTLE_SECONDS")):
        return notify.no_mail("auth.reset_code")
    code = codes.issue("reset", subject, _int("RESET_CODE_TTL_SECONDS"), address=row["email"])
    notify.account_mail("auth.reset_code", row["email"], code=code, page=notify.reset_page(),
                        minutes=notify.minutes(_int("RESET_CODE_TTL_SECONDS")))


def reset_finish(email: str, code, password: str, ip: str) -> None:
    limit_code_checks(ip)
    passwords.check_password_rule(password)
    row = _customer_by_email(email)
    if row is None or row["deleted_at"] is not None:
        # the same answers as for an account without a valid code (401, then 429 past the daily cap)
        check_code("reset", f"email:{email}", code)
        raise Unauthorized("Invalid verification code")
    customer_id = from_bin(row["id"])
    check_code("reset", customer_id, code, address=row["email"])  # a code mailed to an address it has left: none
    db.execute("UPDATE customers SET hashed_password = %s, updated_at = UTC_TIMESTAMP(3) WHERE id = %s",
               (passwords.hash_password(password), row["id"]))
    codes.discard_account(customer_id, row["email"])  # a pending email change too: the reset is a fresh start
    sessions.revoke_user(KIND, customer_id)  # every session, and with it every access token, ends now
    ratelimit.account_recovered("login", _limit_subject(row, email))  # every client's failures, the ceiling's too
    notify.account_mail("auth.password_changed", row["email"])


def change_password(customer_id: str, family: str | None, old_password: str, new_password: str) -> None:
    row = db.query_one("SELECT email, hashed_password, deleted_at FROM customers WHERE id = %s",
                       (to_bin(customer_id),))
    if row is None or row["deleted_at"] is not None:
        raise Unauthorized("not logged in or session expired")
    ratelimit.hit("creds", customer_id, limit=_int("LOGIN_FAIL_PER_ACCOUNT") * 2,
                  window=_int("LOGIN_FAIL_WINDOW_SECONDS"))
    if not passwords.verify_password(old_password, row["hashed_password"]):
        raise Unauthorized("the current password is wrong")
    problem = passwords.password_problem(new_password)
    if problem:
        raise Conflict(problem)
    db.execute("UPDATE customers SET hashed_password = %s, updated_at = UTC_TIMESTAMP(3) WHERE id = %s",
               (passwords.hash_password(new_password), to_bin(customer_id)))
    codes.discard_account(customer_id, row["email"])  # codes asked for with the old password die with it
    sessions.revoke_user(KIND, customer_id, except_family=family)
    ratelimit.account_recovered("login", _limit_subject(row, row["email"]))  # guesses at the old one are moot
    notify.account_mail("auth.password_changed", row["email"])

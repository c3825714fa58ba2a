"""omauth.tokens signs and checks HS256 itself (no PyJWT, so no cryptography import at cold start): its tokens must
be PyJWT's, byte for byte, PyJWT's tokens must pass, and every forgery must fail."""
import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest

KEY = "k" * 40


@pytest.fixture(autouse=True)
def keys(monkeypatch):
    monkeypatch.setenv("JWT_KEY_CUSTOMER", KEY)
    monkeypatch.setenv("JWT_KEY_STAFF", "s" * 40)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _token(header: dict, claims: dict, key: str = KEY, alg=hashlib.sha256) -> str:
    signing = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
    return signing + "." + _b64(hmac.new(key.encode(), signing.encode(), alg).digest())


def _claims(**extra):
    now = int(time.time())
    claims = {"sub": "c1", "aud": "openmerce:customer", "iat": now, "exp": now + 60, "jti": "j"}
    claims.update(extra)
    return {k: v for k, v in claims.items() if v is not None}


def test_tokens_are_pyjwts_byte_for_byte_and_read_both_ways():
    from omauth import tokens

    token = tokens.issue(tokens.AUD_CUSTOMER, "c1", 60, {"sid": "fam"})
    claims = jwt.decode(token, KEY, algorithms=["HS256"], audience=tokens.AUD_CUSTOMER)
    assert claims["sid"] == "fam" and claims["sub"] == "c1"
    assert jwt.encode(claims, KEY, algorithm="HS256") == token
    theirs = jwt.encode(_claims(sid="x"), KEY, algorithm="HS256")
    assert tokens.decode(tokens.AUD_CUSTOMER, theirs)["sid"] == "x"


@pytest.mark.parametrize("forge", [
    "alg-none", "alg-hs512", "alg-missing", "crit", "tampered-payload", "other-key", "staff-key", "wrong-aud",
    "expired", "future-iat", "future-nbf", "no-jti", "no-exp", "exp-string", "exp-bool", "sub-number",
    "payload-list", "two-parts", "four-parts", "padding", "non-alphabet", "non-ascii", "deep-header", "empty",
])
def test_forged_or_broken_tokens_are_refused(forge):
    from omauth import tokens
    from omcore.errors import Unauthorized

    header = {"alg": "HS256", "typ": "JWT"}
    good = _token(header, _claims())
    token = {
        "alg-none": _b64(b'{"alg":"none","typ":"JWT"}') + "." + good.split(".")[1] + ".",
        "alg-hs512": _token({"alg": "HS512"}, _claims(), alg=hashlib.sha512),
        "alg-missing": _token({"typ": "JWT"}, _claims()),
        "crit": _token({"alg": "HS256", "crit": ["exp"]}, _claims()),
        "tampered-payload": good.split(".")[0] + "." + _b64(json.dumps(_claims(sub="admin")).encode()) + "."
        + good.split(".")[2],
        "other-key": _token(header, _claims(), key="x" * 40),
        "staff-key": _token(header, _claims(), key="s" * 40),
        "wrong-aud": _token(header, _claims(aud="openmerce:staff")),
        "expired": _token(header, _claims(exp=int(time.time()) - 10)),
        "future-iat": _token(header, _claims(iat=int(time.time()) + 60)),
        "future-nbf": _token(header, _claims(nbf=int(time.time()) + 60)),
        "no-jti": _token(header, _claims(jti=None)),
        "no-exp": _token(header, _claims(exp=None)),
        "exp-string": _token(header, _claims(exp=str(int(time.time()) + 60))),
        "exp-bool": _token(header, _claims(exp=True)),
        "sub-number": _token(header, _claims(sub=5)),
        "payload-list": _token(header, [1, 2]),
        "two-parts": ".".join(good.split(".")[:2]),
        "four-parts": good + ".x",
        "padding": good + "==",
        "non-alphabet": good[:20] + "+/" + good[22:],
        "non-ascii": good + "é",
        "deep-header": _b64(b"[" * 3000) + "." + good.split(".", 1)[1],
        "empty": "",
    }[forge]
    with pytest.raises(Unauthorized):
        tokens.decode(tokens.AUD_CUSTOMER, token)
    assert tokens.decode(tokens.AUD_CUSTOMER, good)["sub"] == "c1"  # the same claims, signed right, pass


def test_the_leeway_is_five_seconds():
    from omauth import tokens
    from omcore.errors import Unauthorized

    now = int(time.time())
    assert tokens.decode(tokens.AUD_CUSTOMER, _token({"alg": "HS256"}, _claims(exp=now - 2)))
    with pytest.raises(Unauthorized):
        tokens.decode(tokens.AUD_CUSTOMER, _token({"alg": "HS256"}, _claims(exp=now - 6)))

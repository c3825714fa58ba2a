"""Configuration from environment variables.

Every setting keeps the original Openmerce name (``DB_HOST``, ``JWT_KEY_CUSTOMER``...). A value is looked up as

1. ``<NAME>`` itself,
2. ``<NAME>_FILE`` naming a file that holds it (Docker secrets on the Swarm fallback),
3. ``<NAME>_SSM`` naming an SSM Parameter Store parameter (SecureString, decrypted) — how the AWS template hands
   secrets to Lambda without putting them in template parameters or plain environment variables. Fetched once per
   container and cached; boto3 is imported only when such a variable is used.

Defaults are written once, in the settings registry (``omcore.settings``): ``get("MAIL_DELIVERY")`` without a
``default`` answers the registry's default when the variable is unset. Missing required settings (and unregistered
ones read without a default) raise ``ConfigError`` naming the variable, so a function fails at start rather than at
its first request.
"""
from __future__ import annotations

import os


class ConfigError(RuntimeError):
    """A required setting is missing or malformed."""


_MISSING = object()
_defaults: dict | None = None
_ssm_cache: dict[str, str | None] = {}


def _from_ssm(name: str, parameter: str) -> str | None:
    """The SSM parameter's value. The first call fetches every ``*_SSM`` parameter of this function in one
    GetParameters round trip per ten names (one client, created once), so a cold start pays for SSM once."""
    if parameter not in _ssm_cache:
        import boto3  # only functions configured through SSM pay for this import
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError

        wanted = {v for k, v in os.environ.items() if k.endswith("_SSM") and v} | {parameter}
        wanted = sorted(w for w in wanted if w not in _ssm_cache)
        client = boto3.client("ssm", config=Config(connect_timeout=3, read_timeout=5, retries={"max_attempts": 3}))
        try:
            for i in range(0, len(wanted), 10):
                answer = client.get_parameters(Names=wanted[i:i + 10], WithDecryption=True)
                for item in answer.get("Parameters", []):
                    _ssm_cache[item["Name"]] = item["Value"]
                # a parameter the operator did not create for an optional secret (REDIS_PASS without AUTH...) is
                # unset, so its default applies; a required one is still refused by require(), naming the variable
                for missing in answer.get("InvalidParameters", []):
                    _ssm_cache[missing] = None
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            raise ConfigError(f"{name}_SSM names {parameter!r}, which cannot be read: {code}") from None
        except BotoCoreError as exc:
            raise ConfigError(f"{name}_SSM names {parameter!r}, which cannot be read: {type(exc).__name__}") from None
    return _ssm_cache.get(parameter)


def registry_default(name: str):
    """The registry's default of ``name`` (``omcore.settings``), or ``_MISSING`` when it is required, empty, derived
    (a default described in words) or not registered."""
    global _defaults
    if _defaults is None:
        from .settings import SETTINGS

        # an empty default means "unset": a reader that needs the value still gets the ConfigError naming it (a
        # reader that can do without passes default="" itself)
        _defaults = {s.name: s.default for s in SETTINGS
                     if not s.required and s.default != "" and not (isinstance(s.default, str)
                                                                    and s.default.startswith("("))}
    return _defaults.get(name, _MISSING)


def get(name: str, default=_MISSING) -> str:
    """Return the setting ``name`` (or the contents of ``<name>_FILE``), or ``default``, or the registry's default.

    A missing setting with neither raises ``ConfigError`` naming both spellings.
    """
    value = os.environ.get(name)
    if value is None:
        path = os.environ.get(name + "_FILE")
        if path:
            try:
                with open(path, encoding="utf-8") as fh:
                    value = fh.read().rstrip("\r\n")
            except OSError as exc:
                raise ConfigError(f"{name}_FILE points at {path!r}, which cannot be read: {exc.strerror}") from None
    if value is None:
        parameter = os.environ.get(name + "_SSM")
        if parameter:
            value = _from_ssm(name, parameter)
    if value is None:
        if default is _MISSING:
            default = registry_default(name)
            if default is not _MISSING and not isinstance(default, str):
                default = ("true" if default else "false") if isinstance(default, bool) else str(default)
        if default is _MISSING:
            raise ConfigError(f"missing required configuration: set {name} (or {name}_FILE / {name}_SSM)")
        return default
    return value


def get_int(name: str, default: int | object = _MISSING) -> int:
    raw = get(name, None)
    if raw is None or raw == "":
        if default is _MISSING:
            default = registry_default(name)
        if default is _MISSING:
            raise ConfigError(f"missing required configuration: set {name} (or {name}_FILE)")
        return default  # type: ignore[return-value]
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def get_bool(name: str, default: bool | object = _MISSING) -> bool:
    raw = get(name, None)
    if raw is None or raw == "":
        if default is _MISSING:
            default = registry_default(name)
        return False if default is _MISSING else bool(default)
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


MIDTRANS_URLS = ("MIDTRANS_BASE_URL_SNAP", "MIDTRANS_BASE_URL_CORE_API")


def refuse_midtrans_sandbox() -> None:
    """Refuse to start a shop that would take its payments in the Midtrans sandbox (no real payment would ever
    arrive) unless ``MIDTRANS_SANDBOX`` says it is a staging shop: the URLs are Midtrans's sandbox hosts, or they are
    Midtrans's hosts and the server key is a sandbox key (``SB-``). URLs of a local stand-in (tests, the local run)
    talk to no Midtrans and are not checked. Called by ``make_app`` for the units that pay and by the container's
    gunicorn before it starts its workers. The key itself is never named."""
    if get_bool("MIDTRANS_SANDBOX"):
        return
    from urllib.parse import urlsplit

    hosts = {name: (urlsplit(get(name)).hostname or "").lower() for name in MIDTRANS_URLS}
    midtrans = {name: host for name, host in hosts.items() if host == "midtrans.com" or host.endswith(".midtrans.com")}
    if not midtrans:
        return
    found = [f"{name} points at the sandbox ({host})" for name, host in midtrans.items()
             if "sandbox" in host.split(".")]
    if get("MIDTRANS_SERVER_KEY", "").startswith("SB-"):
        found.append("MIDTRANS_SERVER_KEY is a sandbox key (SB-...)")
    if found:
        raise ConfigError("refusing to start against the Midtrans sandbox: " + "; ".join(found) + ". No real payment"
                          " would ever arrive: set the production URLs and server key, or MIDTRANS_SANDBOX=true for"
                          " a staging shop")


def require(*names: str) -> None:
    """Fail now, naming every missing variable, if any of ``names`` is unset. There is no switch to skip this: the
    packager gives the apps it reads placeholder values instead."""
    missing = [n for n in names if get(n, None) in (None, "")]
    if missing:
        spelled = ", ".join(f"{n} (or {n}_FILE / {n}_SSM)" for n in missing)
        raise ConfigError(f"missing required configuration: set {spelled}")

"""The customer-auth emails (plain text and HTML)."""
from __future__ import annotations

from omcore import config
from omcore.mail import Message

_SHOP = "Openmerce"


def _html(paragraphs: list[str], code: str | None = None) -> str:
    import html  # here, not at import: a login's cold start never renders a mail

    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    if code:
        body = body.replace(html.escape(code), f"<strong style=\"font-size:24px;letter-spacing:4px\">{code}</strong>")
    return (f"<!doctype html><html><body style=\"font-family:sans-serif;max-width:560px;margin:auto\">"
            f"<h2>{_SHOP}</h2>{body}</body></html>")


def verification_code(to: str, code: str, minutes: int) -> Message:
    lines = [f"Your verification code is: {code}",
             f"It is valid for {minutes} minutes. If you did not try to create an account, ignore this email."]
    return Message(to, f"{_SHOP} Email Verification", "\n\n".join(lines), _html(lines, code))


def already_registered(to: str) -> Message:
    lines = ["Someone (hopefully you) tried to create an account with this email address, but an account already "
             "exists.",
             "Log in with your password, or use \"Forgot password\" to set a new one. If this was not you, you can "
             "ignore this email."]
    return Message(to, f"{_SHOP} account already exists", "\n\n".join(lines), _html(lines))


def _reset_page() -> str:
    """Where the code is entered: the storefront's reset page (functions/desk), absolute when STOREFRONT_URL is set."""
    base = config.get("STOREFRONT_URL", "").rstrip("/")
    return f"{base}/account/reset" if base else "the shop's /account/reset page"


def reset_code(to: str, code: str, minutes: int) -> Message:
    lines = [f"Your password reset code is: {code}",
             f"Enter it with your new password on {_reset_page()}",
             f"It is valid for {minutes} minutes and can be used once. If you did not ask to reset your password, "
             "ignore this email: your password stays unchanged."]
    return Message(to, f"{_SHOP} password reset", "\n\n".join(lines), _html(lines, code))


def password_changed(to: str) -> Message:
    lines = ["The password of your account was just changed and every other session was signed out.",
             "If this was not you, reset your password now and contact us."]
    return Message(to, f"{_SHOP} password changed", "\n\n".join(lines), _html(lines))

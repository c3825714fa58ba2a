"""Every mail the shop sends, and the one way to send it: its text lives here (``TEMPLATES``), it is written to the
outbox (``omcommerce.outbox``) and handed to the deliverer after the commit. A mail never fails the request that
caused it: a transport error is retried by the outbox sweep, whatever the capability.

* Order mails (``order_event``) are recorded inside the transaction that changed the order (``orders.move`` does it);
  the caller runs ``outbox.after_commit`` once that transaction committed.
* Account and auth mails (``account_mail``: codes, "already registered", password changed, email change notices)
  are recorded in their own small transaction and handed on at once as *prompt* mail (a person waits for the code).
  ``no_mail`` does the same work for a mail that must not go out (a reset for an unknown address), so the answer's
  timing tells nothing.

Texts render the real settings (a code's validity comes from its TTL setting, never a number written here).
"""
from __future__ import annotations

import uuid

from omcore import mail

from . import outbox

SHOP = "Openmerce"

# name -> (subject, body); ``{...}`` fields are filled by ``render``; paragraphs are separated by a blank line
TEMPLATES: dict[str, tuple[str, str]] = {
    # order mails (order_event)
    "order.created": ("Order #{id} received — please complete the payment",
                      "Thank you for your order #{id} of Rp {total:,}. Complete the payment here: {url}"),
    "order.paid": ("Order #{id} is paid",
                   "We received the payment of Rp {total:,} for order #{id}. We will pack it soon."),
    "order.shipped": ("Order #{id} is on its way",
                      "Order #{id} was handed to the courier. Tracking code: {tracking}."),
    "order.cancelled": ("Order #{id} was cancelled",
                        "Order #{id} was cancelled{reason}. Nothing was charged; if you paid, we will refund you."),
    "order.refunded": ("Order #{id} was refunded", "Order #{id} was refunded."),
    # customer auth (functions/auth)
    "auth.verification_code": (
        SHOP + " Email Verification",
        "Your verification code is: {code}\n\n"
        "It is valid for {minutes} minutes. If you did not try to create an account, ignore this email."),
    "auth.already_registered": (
        SHOP + " account already exists",
        "Someone (hopefully you) tried to create an account with this email address, but an account already "
        "exists.\n\nLog in with your password, or use \"Forgot password\" to set a new one. If this was not you, you "
        "can ignore this email."),
    "auth.reset_code": (
        SHOP + " password reset",
        "Your password reset code is: {code}\n\n"
        "Enter it with your new password on {page}\n\n"
        "It is valid for {minutes} minutes and can be used once. If you did not ask to reset your password, ignore "
        "this email: your password stays unchanged."),
    "auth.password_changed": (
        SHOP + " password changed",
        "The password of your account was just changed and every other session was signed out.\n\n"
        "If this was not you, reset your password now and contact us."),
    # staff (functions/staff_auth)
    "staff.reset_code": (
        SHOP + " staff password reset",
        "Your staff password reset code for {username} is: {code}\n\n"
        "It is valid for {minutes} minutes and can be used once. If you did not ask for it, ignore this email: your "
        "password stays unchanged."),
    "staff.password_reset": (
        SHOP + " staff password changed",
        "The password of the staff account {username} was just reset and every session was signed out. If this was "
        "not you, tell your administrator now."),
    # the customer's account (functions/account)
    "account.email_change_code": (
        SHOP + " email change",
        "Your code to confirm this email address is: {code}\n\n"
        "It is valid for {minutes} minutes. If you did not ask to change your email, ignore this message."),
    "account.email_taken": (
        SHOP + " email change",
        "Someone asked to move another " + SHOP + " account to this email address, but this address already "
        "belongs to an account, so nothing was changed.\n\nIf this was you, log in to the account that uses this "
        "address instead. Otherwise you can ignore this message."),
    "account.email_changed": (
        SHOP + ": the email address of your account was changed",
        "On {when} the sign-in email address of your " + SHOP + " account was changed from {old_email} to "
        "another address. Every other signed-in device was signed out.\n\n"
        "If you made this change, there is nothing to do.\n\n"
        "If you did not, someone else can use your account: reply to this message or contact our support at once "
        "from this address (we can restore it to the account, and we will ask you about your recent orders to "
        "confirm it is yours). Until then, password-reset codes go to the new address, not to this one."),
}


def minutes(seconds: int) -> int:
    """A TTL setting as the whole minutes a mail names (at least 1)."""
    return max(1, int(seconds) // 60)


def reset_page() -> str:
    """Where a reset code is entered: the storefront's reset page (``functions/desk``), absolute when
    ``STOREFRONT_URL`` is set."""
    from omcore import config

    base = config.get("STOREFRONT_URL", "").rstrip("/")
    return f"{base}/account/reset" if base else "the shop's /account/reset page"


def render(template: str, to: str, **values) -> mail.Message:
    subject, body = TEMPLATES[template]
    return mail.Message(to, subject.format(**values), body.format(**values))


# ---------------------------------------------------------------- order mails

def order_event(tx, order_id: int, event: str, *, reason: str = "", order: dict | None = None) -> int | None:
    """Record the mail telling the order's customer about ``event``, in the caller's transaction ``tx``. ``order``:
    the order row as that transaction wrote it (``orders.transition`` returns it) — then only the customer's address
    is looked up, the order is not read again. Returns the outbox row id (None: no customer, or this event of this
    order already has its mail)."""
    if order is not None:
        customer = tx.query_one("SELECT email FROM customers WHERE id = %s", (order["customer_refer"],))
        row = None if customer is None else {**order, "email": customer["email"]}
    else:
        row = tx.query_one("SELECT o.id, o.gross_amount, o.payment_redirect_url, o.courier_tracking_code,"
                           " c.email FROM orders o JOIN customers c ON c.id = o.customer_refer"
                           " WHERE o.id = %s", (order_id,))
    if row is None:
        return None
    values = {"id": row["id"], "total": int(row["gross_amount"]), "url": row["payment_redirect_url"] or "",
              "tracking": row["courier_tracking_code"] or "-", "reason": f" ({reason})" if reason else ""}
    return outbox.record(tx, f"order:{int(order_id)}:{event}", render("order." + event, row["email"], **values))


# ---------------------------------------------------------------- account and auth mails

def account_mail(template: str, to: str, **values) -> None:
    """Send an account/auth mail (``TEMPLATES["auth.*"/"account.*"]``) through the outbox, promptly. Never raises
    for the mail's sake: a transport error is retried by the sweep."""
    _record_and_hand_on(template, render(template, to, **values), suppressed=False)


def no_mail(template: str) -> None:
    """The same database and hand-over work as ``account_mail`` for a mail that must not go out: the row is written
    suppressed (no address, no body) and never sent."""
    _record_and_hand_on(template, mail.Message("", TEMPLATES[template][0], ""), suppressed=True)


def _record_and_hand_on(template: str, message: mail.Message, *, suppressed: bool) -> None:
    from omdb import db

    key = f"{outbox.PRIVATE_PREFIX}{template}:{uuid.uuid4().hex}"
    outbox_id = db.run_in_transaction(lambda tx: outbox.record(tx, key, message, suppressed=suppressed))
    outbox.after_commit([outbox_id], prompt=True)

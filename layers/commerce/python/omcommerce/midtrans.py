"""Midtrans through the official ``midtransclient`` (Snap for payment pages, the Core API for expire), with what
it lacks: HTTP timeouts, base URLs from configuration, and a constant-time signature check. The Get Status call
that confirms every notification (``confirmed_status``) uses plain ``urllib`` with a timeout.

Configuration: ``MIDTRANS_SERVER_KEY``, ``MIDTRANS_BASE_URL_SNAP`` (e.g. https://app.sandbox.midtrans.com/snap/v1),
``MIDTRANS_BASE_URL_CORE_API`` (https://api.sandbox.midtrans.com), ``MIDTRANS_BASE_ORDER_ID`` (order id prefix),
``MIDTRANS_TIMEOUT_SECONDS`` (10).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timezone

from omcore import config


class MidtransError(Exception):
    """Midtrans could not be reached, timed out, or refused the request."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class _TimeoutRequests:
    """Stands in for the ``requests`` module inside midtransclient, adding a timeout to every call."""

    def __init__(self, timeout: float):
        import requests

        self._session = requests.Session()
        self._timeout = timeout

    def request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", self._timeout)
        return self._session.request(method, url, **kwargs)


def base_order_id() -> str:
    return config.get("MIDTRANS_BASE_ORDER_ID")


def midtrans_order_id(order_id: int) -> str:
    return f"{base_order_id()}-{order_id}"


def parse_order_id(value: str) -> int | None:
    """Our order id from a Midtrans order_id, or None unless it carries our prefix and a positive integer."""
    prefix = base_order_id() + "-"
    if not isinstance(value, str) or not value.startswith(prefix):
        return None
    rest = value[len(prefix):]
    if not rest.isdigit() or len(rest) > 19:
        return None
    number = int(rest)
    return number if number > 0 else None


# Snap refuses item ids and names longer than 50 characters (docs.midtrans.com/reference/item-details-object)
ITEM_TEXT_MAX = 50


def snap_params(order_id: int, lines: list[dict], freight_cost: int, courier_code: str, customer: dict, *,
                window_hours: int, now: datetime) -> dict:
    """The Snap ``create_transaction`` body of an order (pure: no I/O). ``lines``: the order's lines (``id`` as
    BINARY(16) or text, ``name``, ``price``, ``quantity``); the freight is one more item; ``gross_amount`` is the
    sum of the items, as Midtrans checks it. ``customer``: first_name, last_name, email, phone_number (optional)."""
    from omdb.ids import from_bin

    def text_id(value) -> str:
        return from_bin(value) if isinstance(value, (bytes, bytearray)) else str(value)

    items = [{"id": text_id(line["id"])[:ITEM_TEXT_MAX], "price": int(line["price"]),
              "quantity": int(line["quantity"]), "name": line["name"][:ITEM_TEXT_MAX]} for line in lines]
    items.append({"id": f"freight-{order_id}", "price": int(freight_cost), "quantity": 1,
                  "name": courier_code[:ITEM_TEXT_MAX]})
    return {
        "transaction_details": {"order_id": midtrans_order_id(order_id),
                                "gross_amount": sum(i["price"] * i["quantity"] for i in items)},
        "item_details": items,
        "customer_details": {"first_name": customer["first_name"], "last_name": customer["last_name"],
                             "email": customer["email"],
                             **({"phone": customer["phone_number"]} if customer.get("phone_number") else {})},
        "expiry": {"start_time": now.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S +0000"),
                   "unit": "hour", "duration": int(window_hours)},
    }


def signature(order_id: str, status_code: str, gross_amount: str, server_key: str | None = None) -> str:
    key = server_key if server_key is not None else config.get("MIDTRANS_SERVER_KEY")
    return hashlib.sha512((order_id + status_code + gross_amount + key).encode("utf-8")).hexdigest()


def signature_valid(payload: dict) -> bool:
    try:
        expected = signature(str(payload["order_id"]), str(payload["status_code"]), str(payload["gross_amount"]))
    except KeyError:
        return False
    given = payload.get("signature_key")
    return isinstance(given, str) and hmac.compare_digest(expected.encode(), given.lower().encode())


def _configure(client):
    timeout = float(config.get_int("MIDTRANS_TIMEOUT_SECONDS"))
    client.http_client.http_client = _TimeoutRequests(timeout)
    snap = config.get("MIDTRANS_BASE_URL_SNAP").rstrip("/")
    core = config.get("MIDTRANS_BASE_URL_CORE_API").rstrip("/")
    client.api_config.SNAP_SANDBOX_BASE_URL = client.api_config.SNAP_PRODUCTION_BASE_URL = snap
    client.api_config.CORE_SANDBOX_BASE_URL = client.api_config.CORE_PRODUCTION_BASE_URL = core
    return client


def _snap():
    import midtransclient

    return _configure(midtransclient.Snap(is_production=False, server_key=config.get("MIDTRANS_SERVER_KEY")))


def _core():
    import midtransclient

    return _configure(midtransclient.CoreApi(is_production=False, server_key=config.get("MIDTRANS_SERVER_KEY")))


def _call(fn, *args):
    import midtransclient
    import requests

    try:
        return fn(*args)
    except midtransclient.error_midtrans.MidtransAPIError as exc:
        status = getattr(exc, "http_status_code", None)
        raise MidtransError(f"Midtrans refused the request ({status})", status) from None
    except requests.RequestException as exc:
        raise MidtransError(f"Midtrans unreachable ({type(exc).__name__})") from None


def create_snap_transaction(params: dict) -> dict:
    """POST {snap}/transactions → {token, redirect_url}; raises MidtransError."""
    result = _call(_snap().create_transaction, params)
    if not isinstance(result, dict) or not result.get("token") or not result.get("redirect_url"):
        raise MidtransError("Midtrans answered without a token")
    return result


def expire(order_id: int) -> bool:
    """Expire the Midtrans transaction of an order. False when Midtrans has none (the customer never picked a
    payment method); raises MidtransError on other failures."""
    try:
        _call(_core().transactions.expire, midtrans_order_id(order_id))
        return True
    except MidtransError as exc:
        if exc.status == 404:
            return False
        raise


def status(order_id: int) -> dict | None:
    try:
        return _call(_core().transactions.status, midtrans_order_id(order_id))
    except MidtransError as exc:
        if exc.status == 404:
            return None
        raise


_STATUS_BODY_LIMIT = 256 * 1024


def confirmed_status(order_id: int) -> dict | None:
    """Ask Midtrans for the transaction of an order: ``GET {core}/v2/{order id}/status`` with the server key
    (HTTP basic auth, empty password) and ``MIDTRANS_TIMEOUT_SECONDS``. Returns the status object (its
    ``transaction_status``, ``gross_amount``, ``fraud_status``, ``payment_type``, ``transaction_id`` as Midtrans
    reports them), or None when Midtrans has no transaction for the order. Raises ``MidtransError`` when Midtrans
    cannot be reached, times out, answers 401/5xx, or answers anything that is not a status of this order."""
    import http.client
    import urllib.error
    import urllib.parse
    import urllib.request

    mid = midtrans_order_id(order_id)
    core = config.get("MIDTRANS_BASE_URL_CORE_API").rstrip("/")
    url = f"{core}/v2/{urllib.parse.quote(mid, safe='')}/status"
    token = base64.b64encode((config.get("MIDTRANS_SERVER_KEY") + ":").encode()).decode()
    request = urllib.request.Request(url, method="GET", headers={
        "Authorization": "Basic " + token, "Accept": "application/json"})
    timeout = float(config.get_int("MIDTRANS_TIMEOUT_SECONDS"))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            code, body = resp.status, resp.read(_STATUS_BODY_LIMIT)
    except urllib.error.HTTPError as exc:
        code = exc.code
        try:
            body = exc.read(_STATUS_BODY_LIMIT)
        except (OSError, http.client.HTTPException):
            body = b""
    except (OSError, http.client.HTTPException, ValueError) as exc:  # URLError, timeouts, resets, bad URLs
        raise MidtransError(f"Midtrans unreachable ({type(exc).__name__})") from None
    if code == 404:
        return None
    if code != 200:
        raise MidtransError(f"Midtrans answered HTTP {code} to the status request", code)
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise MidtransError("Midtrans answered the status request with something that is not JSON") from None
    if not isinstance(data, dict):
        raise MidtransError("Midtrans answered the status request with something that is not a status")
    if str(data.get("status_code")) == "404" and not data.get("transaction_status"):
        return None  # Midtrans answers HTTP 200 with a body status_code 404 for an unknown transaction
    if data.get("order_id") != mid or not isinstance(data.get("transaction_status"), str) \
            or not isinstance(data.get("gross_amount"), (str, int, float)) or isinstance(data.get("gross_amount"), bool):
        raise MidtransError(f"Midtrans answered the status request without a usable status "
                            f"(status_code {str(data.get('status_code'))[:8]})")
    return data

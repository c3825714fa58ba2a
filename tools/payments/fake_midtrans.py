"""A local fake of Midtrans speaking its real HTTP protocol — Snap (create transaction, a hosted payment page) and
the Core API (status, cancel, expire) — and sending correctly signed HTTP notifications. Used by the tests and by
the local run (so checkout works end to end offline). Never shipped to Lambda.

    fake = FakeMidtrans(server_key="SB-Mid-server-test", notification_url="http://127.0.0.1:8000/api/v1/webhook/midtrans")
    fake.start(); ...; fake.notify("OPENMERCE-7", "settlement"); fake.stop()

``fake.mode`` = None | "timeout" | "error" makes Snap hang (longer than any client timeout) or answer 500;
"hold" keeps each Snap call waiting until ``fake.release`` (a ``threading.Event``) is set, then answers normally.
``fake.snap_delay`` (seconds) delays every Snap answer, like a provider far away.
``fake.status_mode`` = None | "timeout" | "error" | "garbage" does the same to the Get Status endpoint (or
makes it answer 200 with a body that is not JSON), as when Midtrans is down.

The fake keeps its own record of each transaction (``transactions[order_id]``: status, fraud status, payment type,
transaction id, gross amount). ``GET /v2/{order_id}/status`` answers from that record, so a webhook that confirms
notifications sees what "Midtrans" really holds, whatever a (forged) notification claims. The record changes when
the fake pays (the hosted page, ``notify``), when the Core API cancels/expires, or with ``set_status`` (a change
on Midtrans' side without a notification).
"""
from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Midtrans' status_code per transaction_status (docs "Status Code": 200 success, 201 pending, 202 denied, 407 expired)
STATUS_CODES = {"capture": "200", "settlement": "200", "refund": "200", "partial_refund": "200", "pending": "201",
                "deny": "202", "cancel": "200", "expire": "407", "failure": "202"}


class _Server(ThreadingHTTPServer):
    request_queue_size = 1024  # a checkout rush opens hundreds of connections at once (the default backlog is 5)


class FakeMidtrans:
    def __init__(self, server_key: str, notification_url: str | None = None, host: str = "127.0.0.1", port: int = 0):
        self.server_key = server_key
        self.notification_url = notification_url
        self.mode: str | None = None
        self.status_mode: str | None = None
        self.hang_seconds = 5.0
        self.snap_delay = 0.0
        self.release = threading.Event()
        self.transactions: dict[str, dict] = {}  # midtrans order_id → state
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body, content_type="application/json"):
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self):
                expected = "Basic " + base64.b64encode((fake.server_key + ":").encode()).decode()
                return self.headers.get("Authorization") == expected

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?")[0]
                if path.startswith("/pay/"):
                    return self._pay(path[5:])
                if not self._authorised():
                    return self._send(401, {"error_messages": ["Access denied due to unauthorized transaction"]})
                if path == "/snap/v1/transactions":
                    return self._snap(body)
                parts = path.strip("/").split("/")
                if len(parts) == 3 and parts[0] == "v2" and parts[2] in ("cancel", "expire"):
                    return self._end(parts[1], parts[2])
                return self._send(404, {"status_code": "404", "status_message": "not found"})

            def do_GET(self):
                path = self.path.split("?")[0]
                if path.startswith("/snap/v4/redirection/"):
                    token = path.rsplit("/", 1)[-1]
                    page = (f"<!doctype html><html><body><h1>Fake Midtrans</h1><form method='post' "
                            f"action='/pay/{token}'><button>Pay now</button></form></body></html>").encode()
                    return self._send(200, page, "text/html; charset=utf-8")
                parts = path.strip("/").split("/")
                if len(parts) == 3 and parts[0] == "v2" and parts[2] == "status":
                    return self._status(parts[1])
                return self._send(404, {"status_code": "404"})

            def _status(self, order_id):
                if fake.status_mode == "timeout":
                    time.sleep(fake.hang_seconds)
                if fake.status_mode == "error":
                    return self._send(500, {"status_code": "500", "status_message": "internal server error"})
                if fake.status_mode == "garbage":
                    return self._send(200, b"<html>Bad gateway</html>", "text/html")
                if not self._authorised():
                    return self._send(401, {"status_code": "401", "status_message": "unauthorized"})
                with fake._lock:
                    tx = dict(fake.transactions.get(order_id) or {})
                if not tx or tx["status"] is None:
                    # like Midtrans: HTTP 200 with a body status_code 404
                    return self._send(200, {"status_code": "404", "status_message": "Transaction doesn't exist."})
                body = {"status_code": STATUS_CODES.get(tx["status"], "200"), "status_message": "Success",
                        "transaction_id": tx["transaction_id"], "order_id": order_id,
                        "gross_amount": f"{tx['gross_amount']}.00", "currency": "IDR",
                        "payment_type": tx.get("payment_type") or "bank_transfer",
                        "transaction_time": tx.get("time") or time.strftime("%Y-%m-%d %H:%M:%S"),
                        "transaction_status": tx["status"]}
                if tx.get("fraud_status"):
                    body["fraud_status"] = tx["fraud_status"]
                return self._send(200, body)

            def _snap(self, body):
                try:
                    params = json.loads(body)
                except ValueError:
                    return self._send(400, {"error_messages": ["invalid JSON"]})
                fake.requests.append(params)
                if fake.mode == "hold":
                    fake.release.wait()
                if fake.snap_delay:
                    time.sleep(fake.snap_delay)
                if fake.mode == "timeout":
                    time.sleep(fake.hang_seconds)
                    return self._send(201, {"token": "late", "redirect_url": "http://late"})
                if fake.mode == "error":
                    return self._send(500, {"error_messages": ["Sorry, we encountered internal server error."]})
                details = params.get("transaction_details") or {}
                order_id, gross = details.get("order_id"), details.get("gross_amount")
                items = params.get("item_details") or []
                if sum(int(i["price"]) * int(i["quantity"]) for i in items) != gross:
                    return self._send(400, {"error_messages": [
                        "transaction_details.gross_amount is not equal to the sum of item_details"]})
                with fake._lock:
                    if order_id in fake.transactions:
                        return self._send(400, {"error_messages": [
                            "transaction_details.order_id has already been taken"]})
                    token = str(uuid.uuid4())
                    fake.transactions[order_id] = {"token": token, "gross_amount": gross, "status": None,
                                                   "fraud_status": None, "payment_type": None,
                                                   "transaction_id": str(uuid.uuid4()), "time": None}
                base = f"http://{self.server.server_address[0]}:{self.server.server_address[1]}"
                return self._send(201, {"token": token, "redirect_url": f"{base}/snap/v4/redirection/{token}"})

            def _end(self, order_id, action):
                tx = fake.transactions.get(order_id)
                if tx is None or tx["status"] is None:
                    return self._send(404, {"status_code": "404", "status_message": "Transaction doesn't exist."})
                if tx["status"] in ("settlement", "capture") and action == "expire":
                    return self._send(412, {"status_code": "412", "status_message": "cannot be expired"})
                tx["status"] = "expire" if action == "expire" else "cancel"
                return self._send(200, {"status_code": "200", "transaction_status": tx["status"],
                                        "order_id": order_id})

            def _pay(self, token):
                match = [oid for oid, tx in fake.transactions.items() if tx["token"] == token]
                if not match:
                    return self._send(404, b"unknown payment", "text/plain")
                fake.notify(match[0], "settlement", payment_type="bank_transfer")
                return self._send(200, b"<!doctype html><p>Paid. You can close this page.</p>",
                                  "text/html; charset=utf-8")

        self._server = _Server((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeMidtrans":
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def env(self) -> dict:
        return {"MIDTRANS_BASE_URL_SNAP": self.base_url + "/snap/v1", "MIDTRANS_BASE_URL_CORE_API": self.base_url,
                "MIDTRANS_SERVER_KEY": self.server_key}

    def set_status(self, order_id: str, status: str, *, fraud_status: str | None = None,
                   payment_type: str = "bank_transfer") -> None:
        """Change Midtrans' own record of a transaction (what the status endpoint answers from then on)."""
        with self._lock:
            tx = self.transactions.get(order_id)
            if tx is None:
                raise KeyError(f"the fake has no transaction {order_id}")
            tx.update({"status": status, "fraud_status": fraud_status, "payment_type": payment_type,
                       "time": time.strftime("%Y-%m-%d %H:%M:%S")})

    def notification(self, order_id: str, status: str, *, fraud_status: str | None = None,
                     status_code: str | None = None, gross_amount: str | None = None,
                     payment_type: str = "bank_transfer", sign: bool = True) -> dict:
        """A notification body as Midtrans would sign and send it (does not change the fake's record)."""
        tx = self.transactions.get(order_id, {})
        amount = gross_amount if gross_amount is not None else f"{tx.get('gross_amount', 0)}.00"
        if status_code is None:
            status_code = STATUS_CODES.get(status, "200")
        body = {"transaction_time": time.strftime("%Y-%m-%d %H:%M:%S"), "transaction_status": status,
                "transaction_id": tx.get("transaction_id") or str(uuid.uuid4()),
                "status_message": "midtrans payment notification",
                "status_code": status_code, "payment_type": payment_type, "order_id": order_id,
                "gross_amount": amount, "currency": "IDR"}
        if fraud_status:
            body["fraud_status"] = fraud_status
        digest = hashlib.sha512((order_id + status_code + amount + self.server_key).encode()).hexdigest()
        body["signature_key"] = digest if sign else "0" * 128
        return body

    def notify(self, order_id: str, status: str, **kw) -> int:
        """Move the fake's record to ``status`` (as Midtrans does when the customer pays, a card is denied...) and
        POST the signed notification to the notification URL; returns the HTTP status it got."""
        body = self.notification(order_id, status, **kw)
        if order_id in self.transactions and status in STATUS_CODES:
            self.set_status(order_id, status, fraud_status=kw.get("fraud_status"),
                            payment_type=kw.get("payment_type", "bank_transfer"))
        request = urllib.request.Request(self.notification_url, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=15) as resp:
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code

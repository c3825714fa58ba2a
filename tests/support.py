"""Test helpers: a browser-like client over Chalice's test client, the mail outbox, and data factories."""
from __future__ import annotations

import email
import email.policy
import glob
import json
import os
import re
import uuid

from chalice.test import Client

from contracts import checker


class Resp:
    def __init__(self, raw):
        self.status = raw.status_code
        self.headers = {k.lower(): v for k, v in raw.headers.items()}
        self.body = raw.body
        self._json = None

    @property
    def json(self):
        if self._json is None:
            self._json = json.loads(self.body) if self.body else None
        return self._json

    @property
    def set_cookies(self) -> list[str]:
        value = self.headers.get("set-cookie", [])
        return value if isinstance(value, list) else [value]

    def cookie(self, name: str) -> str | None:
        """The raw Set-Cookie line for ``name`` in this response, if any."""
        for line in self.set_cookies:
            if line.split("=", 1)[0] == name:
                return line
        return None

    def __repr__(self):
        return f"<Resp {self.status} {self.body[:200]!r}>"


class _HttpResponse:
    """The parts of Chalice's test response that Resp reads, from a real HTTP response."""

    def __init__(self, raw):
        self.status_code = raw.status
        headers: dict = {}
        for name, value in raw.headers.items():
            if name.lower() == "set-cookie":
                headers.setdefault("Set-Cookie", []).append(value)
            else:
                headers[name] = value
        self.headers = headers
        self.body = raw.data


class _HttpTransport:
    """Sends the same requests over real HTTP to a running server (the parity run: OM_TEST_BASE_URL)."""

    def __init__(self, base_url: str):
        import urllib3

        self.base_url = base_url.rstrip("/")
        self.pool = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=5, read=60))

    def __getattr__(self, method):
        def call(path, headers=None, body=b""):
            raw = self.pool.request(method.upper(), self.base_url + path, headers=headers or {}, body=body or None,
                                    redirect=False)
            return _HttpResponse(raw)

        return call


class ApiClient:
    """Keeps cookies like a browser on one origin: Set-Cookie stores, Max-Age=0 deletes.

    In-process it drives the Chalice app through Chalice's test client; with ``OM_TEST_BASE_URL`` set (the parity
    run) the very same calls go over real HTTP to the container entrypoint."""

    def __init__(self, app):
        base = os.environ.get("OM_TEST_BASE_URL")
        self._client = None if base else Client(app, project_dir=os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))
        self._http = _HttpTransport(base) if base else None
        self.cookies: dict[str, str] = {}
        self.user_agent = "pytest-browser/1.0"
        self.contracts = checker()

    def __enter__(self):
        if self._client is not None:
            self._client.__enter__()
        return self

    def __exit__(self, *exc):
        if self._client is not None:
            self._client.__exit__(*exc)

    def request(self, method: str, path: str, *, json_body=None, body: bytes | None = None,
                headers: dict | None = None, cookies: bool = True) -> Resp:
        hdrs = {"user-agent": self.user_agent}
        if json_body is not None:
            body = json.dumps(json_body).encode()
            hdrs["content-type"] = "application/json"
        if cookies and self.cookies:
            hdrs["cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        hdrs.update({k.lower(): v for k, v in (headers or {}).items()})
        transport = self._http if self._http is not None else self._client.http
        raw = getattr(transport, method.lower())(path, headers=hdrs, body=body or b"")
        resp = Resp(raw)
        if self.contracts is not None:
            self.contracts.check(method, path, resp)
        for line in resp.set_cookies:
            self._store(line)
        return resp

    def _store(self, line: str) -> None:
        first, *attrs = [p.strip() for p in line.split(";")]
        name, _, value = first.partition("=")
        max_age = None
        for attr in attrs:
            key, _, val = attr.partition("=")
            if key.lower() == "max-age":
                max_age = int(val)
        if max_age is not None and max_age <= 0 or value == "":
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.request("POST", path, json_body=json, **kw)

    def patch(self, path, json=None, **kw):
        return self.request("PATCH", path, json_body=json, **kw)

    def put(self, path, json=None, **kw):
        return self.request("PUT", path, json_body=json, **kw)

    def delete(self, path, json=None, **kw):
        return self.request("DELETE", path, json_body=json, **kw)

    def multipart(self, method: str, path: str, fields: dict, files: dict, **kw) -> Resp:
        """files: {field: (filename, bytes, content_type)}"""
        body, ctype = encode_multipart(fields, files)
        return self.request(method, path, body=body, headers={"content-type": ctype, **kw.pop("headers", {})}, **kw)


def encode_multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    boundary = "----pytest" + uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data, ctype) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f'Content-Type: {ctype}\r\n\r\n'.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Outbox:
    """The log transport's outbox folder: every mail the app sent, parsed."""

    def __init__(self, path: str):
        self.path = path

    def messages(self, to: str | None = None) -> list[email.message.EmailMessage]:
        found = []
        for name in sorted(glob.glob(os.path.join(self.path, "*.eml")), key=os.path.getmtime):
            with open(name, "rb") as fh:
                msg = email.message_from_binary_file(fh, policy=email.policy.default)
            if to is None or msg["To"] == to:
                found.append(msg)
        return found

    def last_text(self, to: str) -> str:
        msgs = self.messages(to)
        assert msgs, f"no mail to {to}"
        return msgs[-1].get_body(preferencelist=("plain",)).get_content()

    def last_code(self, to: str) -> str:
        match = re.search(r"\b(\d{6})\b", self.last_text(to))
        assert match, "no 6-digit code in the last mail"
        return match.group(1)

    def clear(self) -> None:
        for name in glob.glob(os.path.join(self.path, "*.eml")):
            os.remove(name)


# ---- data factories (write straight to the database; the API under test is not involved) ----

DEFAULT_PASSWORD = "Secret#123"


def create_customer(email: str = "buyer@example.com", password: str = DEFAULT_PASSWORD, *, first_name="Budi",
                    last_name="Santoso", phone=None, deleted=False) -> str:
    from omauth.passwords import hash_password
    from omdb import db
    from omdb.ids import new_id

    cid = new_id()
    db.execute("INSERT INTO customers (id, email, hashed_password, phone_number, first_name, last_name, birth_date,"
               " gender, deleted_at) VALUES (%s, %s, %s, %s, %s, %s, '1995-05-17', 'male', %s)",
               (cid.bytes, email, hash_password(password), phone, first_name, last_name,
                "2026-01-01 00:00:00" if deleted else None))
    return str(cid)


def create_staff(username: str = "clerk", password: str = DEFAULT_PASSWORD, *, name="Clerk", fin=False, inv=False,
                 sys=False, deleted=False) -> int:
    from omauth.passwords import hash_password
    from omdb import db

    return db.execute("INSERT INTO staffs (username, hashed_password, name, fin_user, inv_user, sys_admin, deleted_at)"
                      " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                      (username, hash_password(password), name, fin, inv, sys,
                       "2026-01-01 00:00:00" if deleted else None)).lastrowid


def login_customer(api: ApiClient, email: str = "buyer@example.com", password: str = DEFAULT_PASSWORD,
                   remember_me: bool = False) -> Resp:
    resp = api.post("/api/v1/auth/login", json={"email": email, "password": password, "remember_me": remember_me})
    assert resp.status == 200, resp
    return resp


def login_staff(api: ApiClient, username: str = "clerk", password: str = DEFAULT_PASSWORD) -> Resp:
    resp = api.post("/api/v1/staff/auth/login", json={"username": username, "password": password})
    assert resp.status == 200, resp
    return resp


def create_category(name: str = "Kopi", *, visible: bool = True, description: str = "Kopi Nusantara") -> int:
    from omdb import db

    return db.execute("INSERT INTO categories (name, description, homepage_visibility) VALUES (%s, %s, %s)",
                      (name, description, visible)).lastrowid


def create_product(name: str = "Kopi Gayo", category_id: int | None = None, *, price: int = 50000, stock: int = 10,
                   weight: float = 0.5, dims=(10, 10, 10), images: int = 0, deleted: bool = False) -> str:
    """A product with its inventory row (and ``images`` product_images rows); returns its uuid."""
    from omcommerce import stock as stock_mod
    from omdb import db
    from omdb.ids import new_id

    if category_id is None:
        row = db.query_one("SELECT id FROM categories ORDER BY id LIMIT 1")
        category_id = row["id"] if row else create_category()
    pid = new_id()
    with db.transaction() as tx:
        tx.execute("INSERT INTO products (id, name, description, price, weight, category_refer, length, width, height,"
                   " deleted_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                   (pid.bytes, name, f"{name} description", price, weight, category_id, *dims,
                    "2026-01-01 00:00:00" if deleted else None))
        stock_mod.create(tx, pid, stock)
        for i in range(images):
            tx.execute("INSERT INTO product_images (id, product_refer, created_at) VALUES (%s, %s,"
                       " DATE_ADD('2026-01-01', INTERVAL %s SECOND))", (new_id().bytes, pid.bytes, i))
    return str(pid)


def create_order(customer_id: str, items: list[tuple[str, int]], *, status: str = "paid", price: int | None = None,
                 freight: int = 10000, area_id: int = 25410) -> int:
    """An order (with an address snapshot) in the given status, straight in the database; returns its id."""
    from omdb import db
    from omdb.ids import to_bin

    total_items = 0
    rows = []
    for product_id, qty in items:
        product = db.query_one("SELECT name, description, price, weight FROM products WHERE id = %s",
                               (to_bin(product_id),))
        unit = price if price is not None else int(product["price"])
        total_items += unit * qty
        rows.append((to_bin(product_id), product["name"], product["description"], unit, product["weight"], qty))
    order_id = db.execute(
        "INSERT INTO orders (customer_refer, ship_recipient_name, ship_phone_number, ship_full_address, ship_area_id,"
        " ship_area_name, ship_postal_code, courier_code, freight_cost, item_cost, gross_amount, status, is_paid,"
        " is_cancelled, stock_released) VALUES (%s, 'Budi', '0812345678', 'Jl. Merdeka 1', %s,"
        " 'Gambir, Kota Adm. Jakarta Pusat, Daerah Khusus Ibukota Jakarta', '10110', 'anteraja-REG', %s, %s, %s, %s,"
        " %s, %s, %s)",
        (to_bin(customer_id), area_id, freight, total_items, total_items + freight, status,
         status not in ("awaiting_payment", "payment_review", "cancelled"), status == "cancelled",
         status == "cancelled")).lastrowid
    for row in rows:
        db.execute("INSERT INTO order_items (order_refer, product_refer, on_buy_name, on_buy_description, on_buy_price,"
                   " on_buy_weight, quantity) VALUES (%s, %s, %s, %s, %s, %s, %s)", (order_id, *row))
    return order_id


def make_image(fmt: str = "JPEG", size=(64, 48), color=(200, 80, 40), **save) -> bytes:
    """A real image file generated with Pillow."""
    import io

    from PIL import Image

    mode = "RGBA" if fmt in ("PNG", "WEBP") and len(color) == 4 else "RGB"
    img = Image.new(mode, size, color)
    out = io.BytesIO()
    img.save(out, fmt, **save)
    return out.getvalue()


def _summary_path() -> str:
    import tempfile

    from settings import NAMESPACE

    return os.path.join(tempfile.gettempdir(), f"om-test-summary-{NAMESPACE or 'default'}.txt")


def report_summary(text: str) -> None:
    """A line for the end of the run (printed by conftest's terminal summary, also under xdist)."""
    with open(_summary_path(), "a", encoding="utf-8") as fh:
        fh.write(text.rstrip() + "\n")


def at_ip(client: ApiClient, ip: str) -> ApiClient:
    """Make every request of ``client`` come from ``ip``: in-process through the event's sourceIp, in the parity
    run through X-Forwarded-For, which the container trusts from 127.0.0.1 (tests/conftest.py sets
    TRUSTED_PROXY_HOPS=1; FORWARDED_ALLOW_IPS defaults to the loopback addresses)."""
    if client._client is not None:
        client._client.http._local_gateway.event_converter.LOCAL_SOURCE_IP = ip
    else:
        send = client.request

        def request(method, path, **kw):
            kw["headers"] = {"X-Forwarded-For": ip, **(kw.get("headers") or {})}
            return send(method, path, **kw)

        client.request = request
    return client

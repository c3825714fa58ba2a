"""Demo freight rates from a DKI Jakarta origin: AnterAja and SiCepat services priced by distance zone, plus a
free same-city service in Jakarta. Needs the shipping areas (the catalogue demo loads them first)."""
from __future__ import annotations

from omdb import db

SERVICES = [("anteraja", "REG", "Reguler"), ("anteraja", "ND", "Next Day"),
            ("sicepat", "REG", "Reguler"), ("sicepat", "BEST", "Besok Sampai Tujuan"),
            ("sicepat", "GOKIL", "Cargo (min. 10 kg)")]
# zone → (first kg, next kg, etd min, etd max) of REG; other services scale from it
ZONES = {1: (9000, 6000, 1, 2), 2: (15000, 9000, 2, 3), 3: (25000, 15000, 3, 5), 4: (35000, 22000, 4, 6),
         5: (60000, 40000, 5, 9)}


def _zone(province: str) -> int:
    p = province.lower()
    if "jakarta" in p or p in ("banten", "jawa barat"):
        return 1
    if "jawa" in p or "yogyakarta" in p:
        return 2
    if any(k in p for k in ("sumatra", "sumatera", "aceh", "riau", "jambi", "bengkulu", "lampung", "bangka", "bali",
                            "kalimantan")):
        return 3
    if any(k in p for k in ("sulawesi", "gorontalo", "nusa tenggara")):
        return 4
    return 5


def load() -> str:
    provinces = [r["province"] for r in db.query("SELECT DISTINCT province FROM shipping_areas ORDER BY province")]
    if not provinces:
        return "no shipping areas loaded: no rates"
    with db.transaction() as tx:
        for courier, code, name in SERVICES:
            tx.execute("INSERT INTO freight_services (courier_code, service_code, service_name) VALUES (%s, %s, %s)"
                       " ON DUPLICATE KEY UPDATE service_name = VALUES(service_name)", (courier, code, name))
        tx.execute("DELETE FROM freight_rates")
        rows = []
        for province in provinces:
            first, nxt, lo, hi = ZONES[_zone(province)]
            rows += [("anteraja", "REG", province, None, first, nxt, lo, hi),
                     ("sicepat", "REG", province, None, first + 1000, nxt, lo, hi),
                     ("sicepat", "GOKIL", province, None, first * 4, nxt // 2, lo + 2, hi + 3)]
            if _zone(province) <= 2:
                rows += [("anteraja", "ND", province, None, first * 2, nxt * 2, 1, 1),
                         ("sicepat", "BEST", province, None, first * 2 + 2000, nxt * 2, 1, 1)]
        # same-city courier promotion: free regular shipping inside Kota Adm. Jakarta Pusat
        rows.append(("anteraja", "REG", None, "Kota Adm. Jakarta Pusat", 0, 0, 1, 1))
        tx.executemany("INSERT INTO freight_rates (courier_code, service_code, province, city, first_kg_price,"
                       " next_kg_price, etd_min_days, etd_max_days) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", rows)
    return f"{len(rows)} freight rates for {len(provinces)} provinces"

"""Freight quotes, shared by the freight function (product page) and checkout (pre-freight, re-pricing).

Engines (``FREIGHT_ENGINE``): ``table`` (default) — the rate table in MySQL; ``biteship`` — Biteship's rates API
(``FREIGHT_BASE_URL``, key in ``FREIGHT_AUTHORIZATION``, origin ``FREIGHT_ORIGIN_POSTAL_CODE``), called with timeouts;
any provider failure is a 502, never decoded as a quote.

Chargeable weight: per item the larger of its weight and its volumetric weight L×W×H/6000 (kg, cm), times the
quantity, summed and rounded up to whole kg (at least 1). The answer is the v1 shape
``{courier: [{product_code, product_name, etd, rates}]}``; ``choices`` flattens it with composite codes
(``anteraja-REG``) as the storefront and ``orders.courier_code`` use them. A price of 0 is a valid (free) quote.
"""
from __future__ import annotations

import hashlib
import json
import math
from decimal import Decimal

from omcore import config, kv
from omcore.errors import BadGateway, NotFound
from omcore.log import get_logger

log = get_logger("freight")

NO_RATES = "there are no rates available for this route"
PROVIDER_CACHE_TTL = 600


def chargeable_kg(parcels: list[dict]) -> int:
    total = Decimal(0)
    for p in parcels:
        actual = Decimal(str(p["weight_kg"]))
        volumetric = Decimal(int(p["length"]) * int(p["width"]) * int(p["height"])) / Decimal(6000)
        total += max(actual, volumetric) * int(p.get("quantity", 1))
    return max(1, math.ceil(total))


def _area(runner, area_id: int) -> dict:
    row = runner.query_one("SELECT id, province, city, postal_code FROM shipping_areas WHERE id = %s", (area_id,))
    if row is None:
        raise NotFound("shipping area not found")
    return row


def _table_quote(area: dict, kg: int) -> dict[str, list[dict]]:
    from omdb import db

    rows = db.query(
        "SELECT r.courier_code, r.service_code, s.service_name, r.first_kg_price, r.next_kg_price, r.etd_min_days,"
        " r.etd_max_days, (r.city IS NOT NULL) * 2 + (r.province IS NOT NULL) AS specificity"
        " FROM freight_rates r JOIN freight_services s ON s.courier_code = r.courier_code"
        " AND s.service_code = r.service_code AND s.active = TRUE"
        " WHERE (r.city = %s AND (r.province = %s OR r.province IS NULL))"
        "    OR (r.city IS NULL AND r.province = %s) OR (r.city IS NULL AND r.province IS NULL)"
        " ORDER BY r.courier_code, r.service_code, specificity DESC",
        (area["city"], area["province"], area["province"]))
    best: dict[tuple, dict] = {}
    for r in rows:
        best.setdefault((r["courier_code"], r["service_code"]), r)  # most specific zone wins
    out: dict[str, list[dict]] = {}
    for (courier, service), r in sorted(best.items()):
        price = int(r["first_kg_price"]) + (kg - 1) * int(r["next_kg_price"])
        etd = (f"{r['etd_min_days']}" if r["etd_min_days"] == r["etd_max_days"]
               else f"{r['etd_min_days']}-{r['etd_max_days']}")
        out.setdefault(courier, []).append({"product_code": service, "product_name": r["service_name"],
                                            "etd": etd, "rates": price})
    return out


def _biteship_quote(area: dict, parcels: list[dict]) -> dict[str, list[dict]]:
    import urllib.error
    import urllib.request

    if not area.get("postal_code"):
        raise NotFound(NO_RATES)
    body = {
        "origin_postal_code": int(config.get("FREIGHT_ORIGIN_POSTAL_CODE")),
        "destination_postal_code": int(area["postal_code"]),
        "couriers": config.get("FREIGHT_COURIERS"),
        "items": [{"name": "parcel", "value": int(p.get("value", 0)), "quantity": int(p.get("quantity", 1)),
                   "weight": max(1, int(Decimal(str(p["weight_kg"])) * 1000)), "length": int(p["length"]),
                   "width": int(p["width"]), "height": int(p["height"])} for p in parcels],
    }
    key = "cache:freight-provider:" + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:40]
    cached = kv.cache_get(key)
    if cached is not None:
        return json.loads(cached)
    request = urllib.request.Request(config.get("FREIGHT_BASE_URL").rstrip("/") + "/v1/rates/couriers",
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Authorization": config.get("FREIGHT_AUTHORIZATION")})
    try:
        with urllib.request.urlopen(request, timeout=config.get_int("FREIGHT_TIMEOUT_SECONDS")) as resp:
            payload = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        log.warning("freight provider answered %s", exc.code)
        if exc.code in (400, 404):
            raise NotFound(NO_RATES) from None
        raise BadGateway("the freight provider is unavailable, please try again") from None
    except (OSError, ValueError) as exc:
        log.warning("freight provider failed: %s", type(exc).__name__)
        raise BadGateway("the freight provider is unavailable, please try again") from None
    if not isinstance(payload, dict) or payload.get("success") is not True:
        raise BadGateway("the freight provider answered an error")
    out: dict[str, list[dict]] = {}
    for p in payload.get("pricing") or []:
        try:
            etd = str(p.get("shipment_duration_range") or p.get("duration") or "").replace(" ", "")
            out.setdefault(str(p["courier_code"]).lower(), []).append({
                "product_code": str(p["courier_service_code"]).upper(), "product_name": str(p["courier_service_name"]),
                "etd": etd, "rates": int(p["price"])})
        except (KeyError, TypeError, ValueError):
            continue
    kv.cache_set(key, json.dumps(out), PROVIDER_CACHE_TTL)
    return out


def quote(area_id: int, parcels: list[dict]) -> dict[str, list[dict]]:
    from omdb import db

    area = _area(db, area_id)
    engine = config.get("FREIGHT_ENGINE").lower()
    if engine == "biteship":
        result = _biteship_quote(area, parcels)
    elif engine == "table":
        result = _table_quote(area, chargeable_kg(parcels))
    else:
        raise config.ConfigError(f"FREIGHT_ENGINE must be table or biteship, got {engine!r}")
    if not any(result.values()):
        raise NotFound(NO_RATES)
    return result


def choices(area_id: int, parcels: list[dict]) -> list[dict]:
    out = []
    for courier, services in quote(area_id, parcels).items():
        for s in services:
            out.append({"product_code": f"{courier}-{s['product_code']}", "courier_name": courier,
                        "product_name": s["product_name"], "etd": s["etd"], "rates": s["rates"]})
    return out


def price_for(area_id: int, parcels: list[dict], courier_code: str) -> dict | None:
    for choice in choices(area_id, parcels):
        if choice["product_code"] == courier_code:
            return choice
    return None

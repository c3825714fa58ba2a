"""Freight quotes: the built-in rate table, volumetric weight, zone precedence, free shipping, caching, and the
Biteship adapter against a local fake of its API."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from support import create_product

BANDUNG = None


def _area(city_like):
    from omdb import db

    return db.query_one("SELECT id FROM shipping_areas WHERE city LIKE %s ORDER BY id LIMIT 1", (city_like,))["id"]


def test_chargeable_weight_is_volumetric_aware_and_rounded_up():
    from omcommerce.freight import chargeable_kg

    assert chargeable_kg([{"weight_kg": 0.2, "length": 10, "width": 10, "height": 10, "quantity": 1}]) == 1
    assert chargeable_kg([{"weight_kg": 0.5, "length": 60, "width": 50, "height": 40, "quantity": 1}]) == 20
    assert chargeable_kg([{"weight_kg": 1.2, "length": 10, "width": 10, "height": 10, "quantity": 2}]) == 3
    assert chargeable_kg([{"weight_kg": 0, "length": 0, "width": 0, "height": 0, "quantity": 3}]) == 1


def test_freight_rates_endpoint_shape_zone_precedence_and_free_shipping(api, freight_rates):
    pid = create_product(weight=1.5, dims=(10, 10, 10))
    jakpus = api.get(f"/api/v1/freight-rates?product_id={pid}&area_id=25410")
    assert jakpus.status == 200
    body = jakpus.json
    assert set(body) == {"anteraja", "sicepat"}
    reg = next(s for s in body["anteraja"] if s["product_code"] == "REG")
    assert reg == {"product_code": "REG", "product_name": "Reguler", "etd": "1", "rates": 0}  # city rule: free
    sicepat_reg = next(s for s in body["sicepat"] if s["product_code"] == "REG")
    assert sicepat_reg["rates"] == 10000 + 6000  # DKI province zone, 2 kg chargeable
    papua = api.get(f"/api/v1/freight-rates?product_id={pid}&area_id={_area('%Jayapura%')}").json
    assert next(s for s in papua["anteraja"] if s["product_code"] == "REG")["rates"] == 60000 + 40000
    assert "ND" not in [s["product_code"] for s in papua["anteraja"]]
    assert jakpus.headers["cache-control"] == "public, max-age=86400"


def test_freight_rates_errors(api, freight_rates):
    pid = create_product()
    assert api.get(f"/api/v1/freight-rates?product_id={pid}").status == 400
    assert api.get("/api/v1/freight-rates?product_id=x&area_id=25410").status == 400
    assert api.get(f"/api/v1/freight-rates?product_id={pid}&area_id=abc").status == 400
    assert api.get(f"/api/v1/freight-rates?product_id={pid}&area_id=99").status == 404
    gone = create_product("Gone", deleted=True)
    assert api.get(f"/api/v1/freight-rates?product_id={gone}&area_id=25410").status == 404


def test_no_rates_is_404(api, areas):
    pid = create_product()
    resp = api.get(f"/api/v1/freight-rates?product_id={pid}&area_id=25410")
    assert resp.status == 404 and resp.json == {"error": "there are no rates available for this route", "code": "not_found"}


def test_quotes_are_cached_and_dropped_when_the_size_changes(api, freight_rates, make_api):
    from support import create_staff, login_staff

    pid = create_product(weight=1, dims=(10, 10, 10))
    url = f"/api/v1/freight-rates?product_id={pid}&area_id=25411"
    first = api.get(url).json["sicepat"][0]["rates"]
    from omdb import db

    db.execute("UPDATE freight_rates SET first_kg_price = first_kg_price + 777")
    assert api.get(url).json["sicepat"][0]["rates"] == first  # cached
    create_staff("clerk", inv=True)
    clerk = make_api()
    login_staff(clerk, "clerk")
    assert clerk.patch("/api/v1/staff/dashboard/inventory/product-1", json={"id": pid, "weight": 3}).status == 200
    assert api.get(url).json["sicepat"][0]["rates"] != first


class _FakeBiteship:
    """Biteship's POST /v1/rates/couriers, enough of it: auth header, items in grams, pricing[] answer."""

    def __init__(self):
        self.mode = "ok"
        self.seen = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.seen.append((self.headers.get("Authorization"), body))
                if fake.mode == "error":
                    self.send_response(500)
                    self.end_headers()
                    return
                if fake.mode == "slow":
                    import time

                    time.sleep(2)
                answer = {"success": True, "object": "courier_pricing", "message": "Success", "code": 20001003,
                          "pricing": [{"courier_name": "SiCepat", "courier_code": "sicepat",
                                       "courier_service_name": "Reguler", "courier_service_code": "reg",
                                       "shipment_duration_range": "2 - 3", "shipment_duration_unit": "days",
                                       "price": 18000 * max(1, sum(i["weight"] for i in body["items"]) // 1000)},
                                      {"courier_name": "JNE", "courier_code": "jne", "courier_service_name": "YES",
                                       "courier_service_code": "yes", "shipment_duration_range": "1 - 1",
                                       "price": 30000}]}
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]


@pytest.fixture
def biteship(monkeypatch, areas):
    fake = _FakeBiteship()
    monkeypatch.setenv("FREIGHT_ENGINE", "biteship")
    monkeypatch.setenv("FREIGHT_BASE_URL", fake.url)
    monkeypatch.setenv("FREIGHT_AUTHORIZATION", "biteship_test_key")
    monkeypatch.setenv("FREIGHT_ORIGIN_POSTAL_CODE", "10110")
    monkeypatch.setenv("FREIGHT_TIMEOUT_SECONDS", "1")
    yield fake
    fake.server.shutdown()


def test_biteship_adapter_normalises_the_answer(api, biteship):
    pid = create_product(weight=2.4)
    body = api.get(f"/api/v1/freight-rates?product_id={pid}&area_id=25410").json
    assert body == {"sicepat": [{"product_code": "REG", "product_name": "Reguler", "etd": "2-3", "rates": 36000}],
                    "jne": [{"product_code": "YES", "product_name": "YES", "etd": "1-1", "rates": 30000}]}
    auth, request = biteship.seen[0]
    assert auth == "biteship_test_key"
    assert request["destination_postal_code"] == 10110 and request["items"][0]["weight"] == 2400


@pytest.mark.parametrize("mode", ["error", "slow"])
def test_biteship_failures_are_502(api, biteship, mode):
    biteship.mode = mode
    pid = create_product()
    resp = api.get(f"/api/v1/freight-rates?product_id={pid}&area_id=25410")
    assert resp.status == 502 and "error" in resp.json

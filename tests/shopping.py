"""A logged-in shopper with an address, for checkout and payment tests."""
from support import create_customer, login_customer


class Shop:
    """A logged-in shopper with an address in Jakarta Pusat and helpers to fill the cart."""

    def __init__(self, api, customer_id, address_id):
        self.api = api
        self.customer_id = customer_id
        self.address_id = address_id

    def add(self, product_id, quantity, checked=True):
        assert self.api.post("/api/v1/customer/cart", json={"id": product_id, "quantity": quantity}).status == 200
        if checked:
            assert self.api.post("/api/v1/customer/cart-checked", json={"id": product_id, "state": True}).status == 200

    def checkout(self, courier="sicepat-REG", **kw):
        return self.api.post("/api/v1/customer/checkout", json={"courier_code": courier,
                                                                "address_code": self.address_id}, **kw)


def make_shop(api, email="buyer@example.com"):
    cid = create_customer(email)
    login_customer(api, email)
    resp = api.post("/api/v1/customer/address", json={
        "label": "Rumah", "full_address": "Jl. Medan Merdeka 1", "note": "", "recipient_name": "Budi",
        "phone_number": "081234567890", "shipping_area": 25410, "postal_code": "10110"})
    assert resp.status == 200, resp
    return Shop(api, cid, resp.json["id"])


def stock_of(pid):
    from omdb import db
    from omdb.ids import to_bin

    return int(db.query_one("SELECT quantity FROM inventories WHERE product_refer = %s", (to_bin(pid),))["quantity"])

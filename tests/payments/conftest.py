import pytest

from shopping import make_shop
from support import create_product


@pytest.fixture
def placed(api, freight_rates, midtrans):
    """A shopper with one order awaiting payment (2 units reserved of a stock of 10)."""
    shop = make_shop(api)
    pid = create_product("Kopi Gayo", price=50000, stock=10, weight=0.5)
    shop.add(pid, 2)
    resp = shop.checkout()
    assert resp.status == 200, resp
    return shop, resp.json["order_id"], pid

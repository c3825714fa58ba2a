import pytest

from shopping import make_shop
from support import create_product


@pytest.fixture
def shop(api, freight_rates, midtrans):
    return make_shop(api)


@pytest.fixture
def product():
    return create_product("Kopi Gayo", price=50000, stock=10, weight=0.5)

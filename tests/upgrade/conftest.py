"""Fixtures of the upgrade tests: a running v1 shop in its own database, and the admin CLI as a process."""
import pytest

import v1shop


@pytest.fixture
def v1_shop(database):
    """The v1 shop in its own database (``v1_<namespace><worker>``), dropped afterwards."""
    shop = v1shop.build(v1shop.V1_DB)
    try:
        yield shop
    finally:
        v1shop.drop(v1shop.V1_DB)


@pytest.fixture
def admin_cli():
    return v1shop.run_admin

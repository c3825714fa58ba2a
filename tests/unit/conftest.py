"""The fast tier: pure logic, no MariaDB, no Redis, no network. ``pytest tests/unit`` runs in seconds on a machine
without services (``make test`` runs it first).

The root conftest's autouse ``clean_state`` empties the database and Redis before every test; here it is replaced
by a no-op, and ``database`` by a fixture that fails loudly, so a unit test that reaches for a service is an error
instead of a slow test."""
import pytest


@pytest.fixture
def database():
    raise RuntimeError("tests/unit must not use MariaDB/Redis: put a service-backed test under its capability")


@pytest.fixture(autouse=True)
def clean_state():
    yield

"""Reliability suite fixtures: a private server process (the container entrypoint) wired to a fake Midtrans that
notifies it over real HTTP, so orders are paid through the real webhook path."""
import os

import pytest

from loadgen import Server, free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def shop_server(areas, freight_rates):
    """The API served by gunicorn with a fake Midtrans that posts signed notifications to its webhook."""
    from tools.payments.fake_midtrans import FakeMidtrans

    port = free_port()
    fake = FakeMidtrans(server_key="SB-Mid-server-LOAD", notification_url=f"http://127.0.0.1:{port}/api/v1/webhook/midtrans")
    fake.start()
    env = {**fake.env(), "MIDTRANS_BASE_ORDER_ID": "LOAD", "MIDTRANS_TIMEOUT_SECONDS": "5"}
    server = Server(env)
    fake.notification_url = f"{server.base}/api/v1/webhook/midtrans"
    yield server, fake
    server.stop()
    fake.stop()


@pytest.fixture
def report():
    """Figures a test wants in the reliability summary (docs/reliability.md)."""
    figures = {}
    yield figures
    path = os.environ.get("OM_RELIABILITY_REPORT")
    if path and figures:
        import json

        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"test": os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0],
                                 "figures": figures}) + "\n")

"""Local run hook: a fake Midtrans on a free loopback port, notifying the local server's webhook."""
import os


def start() -> dict:
    from .fake_midtrans import FakeMidtrans

    port = os.environ.get("PORT", "8000")
    fake = FakeMidtrans(server_key=os.environ.get("MIDTRANS_SERVER_KEY") or "SB-Mid-server-LOCALDEV",
                        notification_url=f"http://127.0.0.1:{port}/api/v1/webhook/midtrans").start()
    print(f"dev: fake Midtrans on {fake.base_url} (open a checkout's redirect_url and press Pay now)")
    return {**fake.env(), "MIDTRANS_BASE_ORDER_ID": os.environ.get("MIDTRANS_BASE_ORDER_ID", "OPENMERCE-DEV")}

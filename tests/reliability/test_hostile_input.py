"""Hostile input: schemathesis generates requests from the served OpenAPI document (anonymous, as a customer and
as a staff member with every role) against the container server; no request may produce a 5xx."""
import os
import subprocess
import sys

from support import DEFAULT_PASSWORD, create_customer, create_product, create_staff, login_customer, login_staff


def _cookie_header(client):
    return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def test_schemathesis_finds_no_server_error(container_server, make_api, areas, report):
    create_product()
    create_customer()
    customer = make_api()
    login_customer(customer)
    create_staff("fuzzer", inv=True, fin=True, sys=True)
    staff = make_api()
    login_staff(staff, "fuzzer", DEFAULT_PASSWORD)
    cookie = _cookie_header(customer) + "; " + _cookie_header(staff)
    examples = os.environ.get("FUZZ_MAX_EXAMPLES", "8")
    done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "schemathesis"), "run",
                           f"{container_server}/api/v1/openapi.json", "--checks", "not_a_server_error",
                           "--max-examples", examples, "--workers", "2", "--no-color", "--seed", "20261125",
                           "-H", f"Cookie: {cookie}", "--request-timeout", "20"],
                          capture_output=True, text=True, timeout=600)
    tail = done.stdout[-12000:]
    assert done.returncode == 0, tail
    import re

    generated = re.search(r"(\d+) generated", done.stdout)
    report.update({"generated_requests": int(generated.group(1)) if generated else None, "5xx": 0})

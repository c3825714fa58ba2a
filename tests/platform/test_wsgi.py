"""The container target: the entrypoint's gunicorn + swarm-fallback/chalice_wsgi.py over real HTTP behaves like API Gateway + Lambda."""
import json

import pytest
import urllib3

from support import create_customer

http = urllib3.PoolManager(retries=False)


def _req(base, method, path, body=None, headers=None):
    hdrs = {"content-type": "application/json", **(headers or {})}
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    return http.request(method, base + path, body=data, headers=hdrs, redirect=False)


def test_each_cookie_is_its_own_set_cookie_header(container_server):
    create_customer()
    resp = _req(container_server, "POST", "/api/v1/auth/login", {"email": "buyer@example.com",
                                                                 "password": "Secret#123"})
    assert resp.status == 200
    cookies = resp.headers.getlist("Set-Cookie")
    assert sorted(c.split("=", 1)[0] for c in cookies) == ["ac_cus", "ref_cus"]
    assert json.loads(resp.data) == {"first_name": "Budi", "last_name": "Santoso"}


def test_unknown_path_is_api_gateway_403_and_wrong_method_405(container_server):
    resp = _req(container_server, "GET", "/api/v1/nowhere")
    assert resp.status == 403 and json.loads(resp.data) == {"message": "Missing Authentication Token"}
    assert _req(container_server, "DELETE", "/api/v1/health").status == 405


def test_oversized_body_is_413_json(container_server):
    resp = _req(container_server, "POST", "/api/v1/auth/login", b"x" * (1024 * 1024 + 1))
    assert resp.status == 413 and "error" in json.loads(resp.data)


def test_client_ip_comes_from_the_trusted_proxy_hop(container_server, monkeypatch):
    """Failed logins are limited per client IP: two clients behind the same proxy are told apart by X-Forwarded-For."""
    create_customer()
    bad = {"email": "buyer@example.com", "password": "Wrong#Pass1"}
    for i in range(5):
        _req(container_server, "POST", "/api/v1/auth/login", {**bad, "email": f"u{i}@example.com"},
             headers={"X-Forwarded-For": "203.0.113.7"})
    # the per-IP limit in this server is the default (50); prove the IP reached the app by the per-account limit
    # instead: the account limit is shared, the IP one is not
    from omcore import kv

    keys = kv.client().keys("rl:login-ip:*")
    assert len(keys) == 1  # one client IP counted, the proxy's own address was not used
    _req(container_server, "POST", "/api/v1/auth/login", bad, headers={"X-Forwarded-For": "198.51.100.9"})
    assert len(kv.client().keys("rl:login-ip:*")) == 2


def test_query_strings_and_json_bodies_reach_the_handler(container_server):
    resp = _req(container_server, "GET", "/api/v1/staff/console/staff?id=abc")
    assert resp.status == 401  # guard runs before the query is read; the route matched with a query string
    resp = _req(container_server, "POST", "/api/v1/auth/register-1", b"{bad json")
    assert resp.status == 400 and "error" in json.loads(resp.data)


def test_usercontent_names_are_validated(container_server):
    assert _req(container_server, "GET", "/usercontent/%2e%2e%2f%2e%2e%2fetc%2fpasswd").status == 404
    assert _req(container_server, "GET", "/usercontent/not-a-uuid.webp").status == 404
    assert _req(container_server, "GET", "/usercontent/handler?file=x").status == 404


def test_forwarded_for_from_a_peer_that_is_not_a_proxy_is_ignored(container_server):
    """Issue 12 #9: a container on the overlay reached gunicorn directly and rotated X-Forwarded-For per request, so
    every failed login counted against a new "client". The server trusts the header only from FORWARDED_ALLOW_IPS
    (default: the loopback addresses 127.0.0.1 and ::1); this client connects from 127.0.0.2."""
    from omcore import kv

    direct = urllib3.PoolManager(retries=False, source_address=("127.0.0.2", 0))
    for i in range(5):
        resp = direct.request("POST", container_server + "/api/v1/auth/login",
                              body=json.dumps({"email": f"u{i}@example.com", "password": "Wrong#Pass1"}).encode(),
                              headers={"content-type": "application/json", "X-Forwarded-For": f"198.51.100.{i + 1}"})
        assert resp.status == 401
    assert len(kv.client().keys("rl:login-ip:*")) == 1  # one client: its own address, not five forged ones


def test_request_ids_are_taken_only_from_a_trusted_proxy(container_server):
    """Issue 18 (low): any client's X-Request-Id was logged and echoed, so a client could plant ids in the logs
    or make its requests pass for someone else's. Kept from the trusted proxy (127.0.0.1 here), replaced from a
    peer that is not one (127.0.0.2)."""
    planted = "planted-id-0001"
    trusted = http.request("GET", container_server + "/api/v1/health", headers={"X-Request-Id": planted})
    assert trusted.headers["X-Request-Id"] == planted
    direct = urllib3.PoolManager(retries=False, source_address=("127.0.0.2", 0))
    resp = direct.request("GET", container_server + "/api/v1/health", headers={"X-Request-Id": planted})
    assert resp.status == 200 and resp.headers["X-Request-Id"] != planted and len(resp.headers["X-Request-Id"]) >= 8


def _source_ip(app, remote, xff=None, *, hops=1, allow="127.0.0.1,::1"):
    from chalice_wsgi import ChaliceWSGI

    adapter = ChaliceWSGI(app, trusted_hops=hops, forwarded_allow_ips=allow)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/api/v1/health", "QUERY_STRING": "", "REMOTE_ADDR": remote}
    if xff is not None:
        environ["HTTP_X_FORWARDED_FOR"] = xff
    return adapter.build_event(environ, b"")["requestContext"]["identity"]["sourceIp"]


@pytest.mark.parametrize("remote, xff, hops, allow, expected", [
    # a direct client is itself, whatever it claims
    ("172.18.0.5", "203.0.113.7", 1, "127.0.0.1,::1", "172.18.0.5"),
    ("172.18.0.5", "203.0.113.7", 1, "", "172.18.0.5"),
    ("172.18.0.5", "203.0.113.7", 1, "10.0.0.0/8", "172.18.0.5"),
    # a configured proxy (address or CIDR): the entry it appended
    ("127.0.0.1", "203.0.113.7", 1, "127.0.0.1,::1", "203.0.113.7"),
    ("10.0.9.2", "203.0.113.7", 1, "10.0.0.0/8", "203.0.113.7"),
    ("10.0.9.2", "1.1.1.1, 203.0.113.7", 1, "10.0.0.0/8", "203.0.113.7"),  # forged left part ignored
    ("::ffff:10.0.9.2", "203.0.113.7", 1, "10.0.0.0/8", "203.0.113.7"),
    ("fd00::5", "2001:db8::7", 1, "fd00::/8", "2001:db8::7"),
    # no header, or a forged non-address: the proxy's own address
    ("10.0.9.2", None, 1, "10.0.0.0/8", "10.0.9.2"),
    ("10.0.9.2", "not-an-ip", 1, "10.0.0.0/8", "10.0.9.2"),
    # TRUSTED_PROXY_HOPS=0 ignores the header even from a proxy
    ("127.0.0.1", "203.0.113.7", 0, "127.0.0.1", "127.0.0.1"),
    # two hops: only through proxies that are themselves configured
    ("10.0.9.2", "203.0.113.7, 10.0.9.3", 2, "10.0.0.0/8", "203.0.113.7"),
    ("10.0.9.2", "1.1.1.1, 203.0.113.7", 2, "10.0.0.0/8", "203.0.113.7"),  # 203.0.113.7 is no proxy: stop there
    ("10.0.9.2", "203.0.113.7:5123", 1, "10.0.0.0/8", "203.0.113.7"),
    # "*" trusts every peer (only for a network nothing else can reach)
    ("172.18.0.5", "203.0.113.7", 1, "*", "203.0.113.7"),
])
def test_client_address_rules(app, remote, xff, hops, allow, expected):
    assert _source_ip(app, remote, xff, hops=hops, allow=allow) == expected


def test_a_malformed_forwarded_allow_ips_is_a_configuration_error(app):
    from omcore.config import ConfigError

    from chalice_wsgi import ChaliceWSGI

    with pytest.raises(ConfigError, match="FORWARDED_ALLOW_IPS"):
        ChaliceWSGI(app, trusted_hops=1, forwarded_allow_ips="10.0.0.0/8, traefik")

"""Waits for Redis are bounded on the container path: the main Redis's lean connections are a small pool per
process with a bounded wait, so against a Redis that accepts connections but never answers (packets dropped), the
requests that find every connection lent get a 503 with ``Retry-After`` after the pool's wait — they do not queue
behind one connection, each paying the holder's read timeout in turn — and requests that do not need that Redis are
served meanwhile. The cache connection (one per process: it holds the near cache) has the same bounded wait, then
the read falls through to MySQL.

No timing is asserted: the stand-in holds every connection until the test releases it, so "answered before the
release" is a fact of ordering; the guards only keep a regression from hanging the suite."""
import io
import os
import socket
import threading

import pytest

from support import create_customer

GUARD = 60


class SilentRedis:
    """Accepts connections and reads what is sent, never answers; ``release()`` closes every connection and any
    later one at once."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.released = threading.Event()
        self._conns = []
        self._lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self._lock:
                if self.released.is_set():
                    conn.close()
                    continue
                self.accepted += 1
                self._conns.append(conn)

    def release(self):
        with self._lock:
            self.released.set()
            for conn in self._conns:
                conn.close()

    def stop(self):
        self.release()
        self.sock.close()


def _environ(method, path, body=b""):
    return {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80", "REMOTE_ADDR": "127.0.0.1", "wsgi.input": io.BytesIO(body),
            "CONTENT_LENGTH": str(len(body)) if body else "", "CONTENT_TYPE": "application/json",
            "wsgi.url_scheme": "http"}


def _call(wsgi, env) -> tuple[int, dict]:
    out = {}

    def start_response(line, headers):
        out["status"], out["headers"] = int(line.split()[0]), {k.lower(): v for k, v in headers}

    b"".join(wsgi(env, start_response))
    return out["status"], out["headers"]


@pytest.fixture
def silent_main_redis(monkeypatch):
    """The main Redis replaced by the silent stand-in (pool of 2, 1 s pool wait, a read timeout longer than the
    test); the caches stay on the real Redis."""
    from omcore import kv

    standin = SilentRedis()
    monkeypatch.setenv("REDIS_CACHE_HOST", os.environ["REDIS_HOST"])
    monkeypatch.setenv("REDIS_CACHE_PORT", os.environ["REDIS_PORT"])
    monkeypatch.setenv("REDIS_CACHE_PASS", os.environ.get("REDIS_PASS", ""))
    monkeypatch.setenv("REDIS_CACHE_DB", os.environ["REDIS_DB"])
    monkeypatch.setenv("REDIS_PORT", str(standin.port))
    monkeypatch.setenv("REDIS_TIMEOUT_MS", str(GUARD * 1000))
    monkeypatch.setenv("REDIS_POOL_SIZE", "2")
    monkeypatch.setenv("REDIS_POOL_TIMEOUT_SECONDS", "1")
    kv.reset_client()
    try:
        yield standin
    finally:
        standin.stop()
        monkeypatch.undo()
        kv.reset_client()


def test_requests_needing_a_silent_redis_get_503_after_a_bounded_wait_and_others_are_served(app, api,
                                                                                           silent_main_redis):
    from chalice_wsgi import make_wsgi_app

    create_customer()
    wsgi = make_wsgi_app(app)
    body = b'{"email": "buyer@example.com", "password": "Secret#123"}'
    n = 6
    results, lock = [], threading.Lock()

    def login():
        answer = _call(wsgi, _environ("POST", "/api/v1/auth/login", body))
        with lock:
            results.append((silent_main_redis.released.is_set(), answer))

    threads = [threading.Thread(target=login, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    # all but the pool's two connections are refused after the pool's wait, while those two still hang
    for _ in range(GUARD * 20):
        with lock:
            if len(results) >= n - 2:
                break
        threading.Event().wait(0.05)
    # requests that do not need the main Redis are served meanwhile
    assert _call(wsgi, _environ("GET", "/api/v1/health"))[0] == 200
    assert _call(wsgi, _environ("GET", "/api/v1/category"))[0] == 200
    with lock:
        early = list(results)
    assert len(early) == n - 2, early
    assert silent_main_redis.accepted <= 2  # the pool's size: nobody else opened a connection or waited on one
    silent_main_redis.release()
    for t in threads:
        t.join(GUARD)
    assert len(results) == n
    for released, (status, headers) in results:
        assert status == 503 and headers.get("retry-after"), (released, status)
    assert [released for released, _ in results].count(False) == n - 2


def test_the_cache_connection_wait_is_bounded_and_reads_fall_through(app, monkeypatch):
    """The one cache connection held by a request stuck on a silent cache Redis: another cached read waits at most
    the pool wait, then is served from MySQL."""
    from omcore import kv

    from chalice_wsgi import make_wsgi_app

    standin = SilentRedis()
    monkeypatch.setenv("REDIS_CACHE_HOST", "127.0.0.1")
    monkeypatch.setenv("REDIS_CACHE_PORT", str(standin.port))
    monkeypatch.setenv("REDIS_TIMEOUT_MS", str(GUARD * 1000))
    monkeypatch.setenv("REDIS_POOL_TIMEOUT_SECONDS", "1")
    kv.reset_client()
    wsgi = make_wsgi_app(app)
    try:
        stuck = threading.Thread(target=lambda: kv.cache_get("cache:held"), daemon=True)
        stuck.start()
        for _ in range(GUARD * 20):
            if standin.accepted:
                break
            threading.Event().wait(0.05)
        assert _call(wsgi, _environ("GET", "/api/v1/category"))[0] == 200
        assert stuck.is_alive() and not standin.released.is_set()
    finally:
        standin.stop()
        stuck.join(GUARD)
        monkeypatch.undo()
        kv.reset_client()

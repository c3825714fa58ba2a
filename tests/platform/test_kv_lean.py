"""omcore's lean Redis client (omcore.redismain over omcore.resp, parsed by hiredis) answers as redis-py does for
every command the layers use, turns failures into 503s, and the cache connection refuses a server that would
refuse writes when full."""
import os
import secrets
import shutil
import socket
import subprocess
import time

import pytest


def _both():
    from omcore import kv

    return kv._lean_main(), kv.client()


def test_the_lean_client_answers_like_redis_py():
    lean, full = _both()
    key = "t:lean:" + secrets.token_hex(4)

    def run(c, k):
        out = [c.set(k, "v", ex=60, nx=True), c.set(k, "w", ex=60, nx=True), c.get(k), c.mget([k, k + ":none"]),
               c.exists(k), 0 < c.ttl(k) <= 60, c.incr(k + ":n"), c.decr(k + ":n"), c.expire(k + ":n", 60, nx=True),
               c.expire(k + ":n", 60, nx=True), c.sadd(k + ":s", "a", "b"), c.smembers(k + ":s"), c.srem(k + ":s", "a"),
               c.hset(k + ":h", mapping={"code": "123", "attempts": 0}), c.hincrby(k + ":h", "attempts", 1),
               c.hgetall(k + ":h"), c.rpush(k + ":l", "x"), c.delete(k, k + ":n", k + ":s", k + ":h", k + ":l"),
               c.get(k), c.ping()]
        pipe = c.pipeline(transaction=True)
        pipe.incr(k + ":p")
        pipe.expire(k + ":p", 30, nx=True)
        pipe.set(k + ":q", "1", ex=30)
        pipe.sadd(k + ":ps", "f")
        pipe.smembers(k + ":ps")
        out.append(pipe.execute())
        c.delete(k + ":p", k + ":q", k + ":ps")
        return out

    assert run(lean, key) == run(full, key + ":py")


def test_scripts_run_by_sha_and_are_sent_whole_once_unknown():
    lean, full = _both()
    script = lean.register_script(f"-- {secrets.token_hex(8)}\nreturn {{KEYS[1], ARGV[1], tonumber(ARGV[2]) + 1}}")
    assert script(keys=["k1"], args=["a", 41], client=lean) == ["k1", "a", 42]  # unknown: EVAL
    assert script(keys=["k2"], args=["b", 1.5], client=lean) == ["k2", "b", 2]  # now by EVALSHA
    assert full.script_exists(script.sha) == [True]


def test_a_failing_command_is_a_503_and_the_connection_stays_in_step(api):
    from omcore import kv

    key = "t:lean:wrongtype:" + secrets.token_hex(4)
    kv.required(lambda c: c.sadd(key, "x"))

    def bad(c):
        pipe = c.pipeline(transaction=True)
        pipe.incr(key)  # WRONGTYPE inside MULTI/EXEC
        pipe.set(key + ":after", "1", ex=30)
        return pipe.execute()

    with pytest.raises(kv.RedisUnavailable):
        kv.required(bad)
    with pytest.raises(kv.RedisUnavailable):
        kv.required(lambda c: c.get(key))  # WRONGTYPE on a plain command
    assert kv.required(lambda c: c.ping()) is True  # the replies after the errors were all read
    assert kv.required_get(key + ":after") == "1"
    kv.required(lambda c: c.delete(key, key + ":after"))


def test_main_redis_down_is_a_503_on_login(api, monkeypatch):
    from omcore import kv

    from support import create_customer

    create_customer()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("REDIS_PORT", str(port))
    monkeypatch.setenv("REDIS_CACHE_HOST", os.environ["REDIS_HOST"])
    monkeypatch.setenv("REDIS_CACHE_PORT", os.environ.get("REDIS_PORT", "6379"))
    kv.reset_client()
    try:
        resp = api.post("/api/v1/auth/login", json={"email": "buyer@example.com", "password": "Secret#123"})
        assert resp.status == 503 and resp.json["error"]
    finally:
        monkeypatch.undo()
        kv.reset_client()


@pytest.fixture
def noeviction_redis(tmp_path):
    """A private Redis with a memory limit and noeviction: what the sessions Redis is, and a cache must not share."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(port), "--bind",
                             "127.0.0.1", "--maxmemory", "64mb", "--maxmemory-policy", "noeviction", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    yield port
    proc.terminate()
    proc.wait(timeout=10)


def test_caches_refuse_a_noeviction_server_unless_told_so(api, monkeypatch, noeviction_redis):
    from omcommerce import cachekeys
    from omcore import kv

    from support import create_category

    create_category("Kopi")
    monkeypatch.setenv("REDIS_CACHE_HOST", "127.0.0.1")
    monkeypatch.setenv("REDIS_CACHE_PORT", str(noeviction_redis))
    kv.reset_client()
    try:
        assert [c["name"] for c in api.get("/api/v1/category").json] == ["Kopi"]  # served from MySQL
        kv.cache_set(cachekeys.CATEGORIES, "[]", 60)
        assert kv.cache_get(cachekeys.CATEGORIES) is None  # nothing was written there
        ready = api.get("/api/v1/health/ready")
        assert ready.status == 503 and ready.json["checks"]["cache"].startswith("refused")
        assert ready.json["checks"]["redis"] == "ok" and ready.json["checks"]["mysql"] == "ok"

        monkeypatch.setenv("CACHE_ALLOW_NOEVICTION", "true")
        kv.reset_client()
        assert [c["name"] for c in api.get("/api/v1/category").json] == ["Kopi"]
        assert kv.cache_get(cachekeys.CATEGORIES) is not None  # the cache is in use
        assert api.get("/api/v1/health/ready").status == 200
    finally:
        monkeypatch.undo()
        kv.reset_client()


def test_the_api_container_refuses_to_start_with_caches_on_a_noeviction_server(monkeypatch, noeviction_redis):
    import importlib.util

    from omcore import kv

    path = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "swarm-fallback", "gunicorn.conf.py")
    spec = importlib.util.spec_from_file_location("om_gunicorn_conf", path)
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    conf.on_starting(None)  # the test Redis has no memory limit: starts
    monkeypatch.setenv("REDIS_CACHE_HOST", "127.0.0.1")
    monkeypatch.setenv("REDIS_CACHE_PORT", str(noeviction_redis))
    kv.reset_client()
    with pytest.raises(SystemExit, match="noeviction"):
        conf.on_starting(None)
    monkeypatch.setenv("CACHE_ALLOW_NOEVICTION", "1")
    conf.on_starting(None)  # told so explicitly
    monkeypatch.undo()
    kv.reset_client()

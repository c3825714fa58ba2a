"""The cache Redis apart from the session Redis (REDIS_CACHE_*), the bounded area-suggest cache, and the near
cache: a per-process copy of hot reads that Redis invalidates (RESP3 client tracking) the moment another
connection changes the entry."""
import os

import pytest

from support import create_category, create_customer, create_product, login_customer

OTHER_DB = 15  # not a pytest worker's DB (TEST_REDIS_DB + worker) nor the benchmark's (14)


def _raw(db):
    import redis

    return redis.Redis(host=os.environ["REDIS_HOST"], port=int(os.environ["REDIS_PORT"]),
                       password=os.environ.get("REDIS_PASS") or None, db=db, decode_responses=True)


@pytest.fixture
def cache_db(monkeypatch):
    """Caches in logical DB 15 of the same server; every key this test makes there is removed afterwards."""
    from omcore import kv

    monkeypatch.setenv("REDIS_CACHE_DB", str(OTHER_DB))
    kv.reset_client()
    other = _raw(OTHER_DB)
    before = set(other.keys("cache:*"))
    yield other
    made = set(other.keys("cache:*")) - before
    if made:
        other.delete(*made)
    monkeypatch.undo()
    kv.reset_client()


def test_cache_keys_land_in_the_cache_db_and_sessions_stay_on_the_main_redis(api, areas, cache_db):
    from omcommerce import cachekeys
    from omcore import kv

    main = _raw(int(os.environ["REDIS_DB"]))
    pid = create_product("Kopi Gayo", create_category("Kopi"))
    create_customer()
    login_customer(api)
    assert api.get("/api/v1/product").status == 200
    assert api.get("/api/v1/category").status == 200
    assert api.get(f"/api/v1/product?id={pid}").status == 200
    assert api.get("/api/v1/area/suggest?search=gambir").status == 200
    for key in (cachekeys.HOME, cachekeys.CATEGORIES, cachekeys.product(pid), cachekeys.area_suggest("gambir")):
        assert cache_db.exists(key), key
        assert not main.exists(key), key
    assert main.keys("sess:*") and not cache_db.keys("sess:*")
    assert kv.cache_settings()["db"] == OTHER_DB
    # a staff write's invalidation reaches the cache DB
    cachekeys.invalidate_product(pid)
    assert not cache_db.exists(cachekeys.HOME) and not cache_db.exists(cachekeys.product(pid))


def test_cache_host_setting_gives_the_cache_its_own_connection(monkeypatch):
    from omcore import kv

    monkeypatch.setenv("REDIS_CACHE_HOST", "cache.internal")
    monkeypatch.setenv("REDIS_CACHE_PORT", "6380")
    monkeypatch.setenv("REDIS_PASS", "main-secret")
    assert kv.cache_settings() == {"host": "cache.internal", "port": 6380, "password": None, "db": 0, "ssl": False}
    monkeypatch.delenv("REDIS_CACHE_HOST")
    settings = kv.cache_settings()
    assert settings["host"] == os.environ["REDIS_HOST"] and settings["password"] == "main-secret"
    assert settings["db"] == int(os.environ["REDIS_DB"])


def test_area_suggest_caches_only_searches_that_found_areas_and_briefly(api, areas):
    from omcommerce import cachekeys
    from omcore import kv

    assert api.get("/api/v1/area/suggest?search=qxzvwq").json == []
    assert not kv.cache_client().exists(cachekeys.area_suggest("qxzvwq"))
    assert api.get("/api/v1/area/suggest?search=gambir").json
    assert 0 < kv.cache_client().ttl(cachekeys.area_suggest("gambir")) <= 3600


def test_near_cache_serves_hot_reads_and_drops_what_another_connection_changes():
    from omcommerce import cachekeys
    from omcore import kv

    other = _raw(int(os.environ["REDIS_DB"]))
    other.set(cachekeys.CATEGORIES, '[{"id":1,"name":"Kopi"}]', ex=600)
    assert kv.cache_get(cachekeys.CATEGORIES, near=True) == '[{"id":1,"name":"Kopi"}]'
    hits = kv.near_stats()["near_hits"]
    assert kv.cache_get(cachekeys.CATEGORIES, near=True) == '[{"id":1,"name":"Kopi"}]'
    assert kv.near_stats()["near_hits"] == hits + 1  # served from the process, no round trip
    # another process (here: another connection) changes the entry: the very next read sees it. Each write is
    # followed by a PING round trip, as kv.cache_delete does: Redis has then written the invalidation pushes.
    other.set(cachekeys.CATEGORIES, '[{"id":1,"name":"Teh"}]', ex=600)
    other.ping()
    assert kv.cache_get(cachekeys.CATEGORIES, near=True) == '[{"id":1,"name":"Teh"}]'
    other.delete(cachekeys.CATEGORIES)
    other.ping()
    assert kv.cache_get(cachekeys.CATEGORIES, near=True) is None
    other.set(cachekeys.BANNERS, "[]", ex=600)
    assert kv.cache_get(cachekeys.BANNERS, near=True) == "[]"
    other.flushdb()
    other.ping()
    assert kv.cache_get(cachekeys.BANNERS, near=True) is None


def test_cache_delete_returns_only_after_every_near_copy_is_invalidated():
    """The writer's side: once kv.cache_delete has returned, another process's near copy is already gone."""
    import select

    from omcommerce import cachekeys
    from omcore import kv

    other = _raw(int(os.environ["REDIS_DB"]))
    reader = kv._CacheConnection(**kv.cache_settings(), connect_timeout=1, timeout=1, tracking=True)
    try:
        for i in range(20):
            other.set(cachekeys.HOME, f'["v{i}"]', ex=600)
            assert reader.get(cachekeys.HOME, near=True) == f'["v{i}"]'
            assert reader.get(cachekeys.HOME, near=True) == f'["v{i}"]'  # held in the reader's process
            kv.cache_delete(cachekeys.HOME)  # the writer, e.g. a staff change in another worker
            assert select.select([reader._sock], [], [], 0)[0], "the invalidation must be waiting already"
            assert reader.get(cachekeys.HOME, near=True) is None
        assert reader.stats["invalidations"] == 20
        # the second read of each round is a near hit unless more than NEAR_TRUST_SECONDS passed since the
        # connection last heard from Redis (a loaded CI machine): then it re-asks Redis, which is also correct
        assert reader.stats["near_hits"] >= 10
    finally:
        reader.close()


def test_near_cache_forgets_everything_when_its_connection_is_lost():
    from omcommerce import cachekeys
    from omcore import kv

    other = _raw(int(os.environ["REDIS_DB"]))
    other.set(cachekeys.BANNERS, '["old"]', ex=600)
    assert kv.cache_get(cachekeys.BANNERS, near=True) == '["old"]'
    assert kv.cache_get(cachekeys.BANNERS, near=True) == '["old"]'
    my_id = kv.cache_client().execute("CLIENT", "ID")
    other.client_kill_filter(_id=my_id)
    other.set(cachekeys.BANNERS, '["new"]', ex=600)  # no invalidation can reach the killed connection
    assert kv.cache_get(cachekeys.BANNERS, near=True) == '["new"]'


def test_staff_change_is_visible_at_once_through_the_near_cache(api):
    from omcommerce import cachekeys
    from omdb import db

    create_category("Kopi")
    assert [c["name"] for c in api.get("/api/v1/category").json] == ["Kopi"]
    assert [c["name"] for c in api.get("/api/v1/category").json] == ["Kopi"]
    db.execute("UPDATE categories SET name = 'Teh'")
    cachekeys.invalidate_categories()
    assert [c["name"] for c in api.get("/api/v1/category").json] == ["Teh"]


def test_near_cache_asks_redis_again_when_its_connection_has_been_silent(monkeypatch):
    """A connection that died without notice loses the invalidation pushes: after NEAR_TRUST_SECONDS without
    hearing from Redis, a read goes to Redis instead of trusting the near copy."""
    from omcommerce import cachekeys
    from omcore import kv, nearcache

    other = _raw(int(os.environ["REDIS_DB"]))
    other.set(cachekeys.BANNERS, '["old"]', ex=600)
    assert kv.cache_get(cachekeys.BANNERS, near=True) == '["old"]'
    conn = kv.cache_client()
    conn.execute("CLIENT", "TRACKING", "OFF")  # from now on Redis pushes nothing: as if the pushes were lost
    other.set(cachekeys.BANNERS, '["new"]', ex=600)
    monkeypatch.setattr(nearcache, "NEAR_TRUST_SECONDS", 3600.0)  # a slow machine must not end the window early
    assert kv.cache_get(cachekeys.BANNERS, near=True) == '["old"]'  # within the trust window: the near copy
    monkeypatch.setattr(nearcache, "NEAR_TRUST_SECONDS", 1.0)
    conn._heard -= 1.5  # the connection has been silent longer than the window
    assert kv.cache_get(cachekeys.BANNERS, near=True) == '["new"]'

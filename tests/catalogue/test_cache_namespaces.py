"""Issue 18 (low): every review create/edit/delete SCANned the whole cache keyspace to drop the search entries
(4 ms → 250 ms at 300 k keys; six loops by one customer pushed `/health` to 246 ms), and anonymous `freight-rates`
added a 24 h key per product and area. Search entries now live under a generation token (one DEL invalidates them)
and freight quotes are keyed by what they depend on, for known combinations only."""
import threading

from omcore import kv

from support import create_customer, create_order, create_product, login_customer


def _scans_during(action) -> list:
    """The SCAN commands the server saw on this run's Redis DB while ``action`` ran (MONITOR, filtered by DB:
    other runs on the same server use other DBs)."""
    db_index = int(kv.client().connection_pool.connection_kwargs.get("db", 0))
    seen, ready, stop = [], threading.Event(), threading.Event()

    def watch():
        with kv.client().monitor() as monitor:
            ready.set()
            for entry in monitor.listen():
                if entry.get("db") == db_index and entry["command"].upper().startswith("SCAN"):
                    seen.append(entry["command"])
                if stop.is_set() or entry["command"].startswith("ECHO om-monitor-stop"):
                    return

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    ready.wait(5)
    try:
        action()
    finally:
        stop.set()
        kv.client().echo("om-monitor-stop")
        thread.join(5)
    return seen


def _item(order_id):
    from omdb import db

    return db.query_one("SELECT id FROM order_items WHERE order_refer = %s", (order_id,))["id"]


def test_review_writes_never_scan_the_cache_and_search_still_sees_them(api):
    cid = create_customer()
    login_customer(api)
    pid = create_product("Kopi Toraja")
    item = _item(create_order(cid, [(pid, 1)], status="delivered"))
    for _ in range(50):  # a cache with other keys in it
        kv.cache_set(f"cache:product:filler-{_}", "x", 60)

    def search():
        [card] = api.get("/api/v1/product?search=Toraja").json
        return card["rating"]

    assert search() == 0  # cached now
    ids = []

    def review_lifecycle():
        resp = api.post("/api/v1/customer/order-review", json={"order_id": item, "rating": 4})
        assert resp.status == 201, resp
        ids.append(resp.json["id"])
        assert search() == 4  # the cached search answer was invalidated by the write
        assert api.patch("/api/v1/customer/order-review", json={"id": ids[0], "rating": 2}).status == 200
        assert search() == 2
        assert api.delete(f"/api/v1/customer/order-review?id={ids[0]}").status == 200
        assert search() == 0

    assert _scans_during(review_lifecycle) == []


def test_freight_rates_cache_only_known_combinations_per_shape(api, areas, freight_rates):
    from omdb import db

    twins = [create_product(f"Kopi {i}", weight=1.0, dims=(10, 10, 10)) for i in range(3)]
    before = set(kv.cache_client().scan_iter(match="cache:freight:*"))
    for pid in twins:
        assert api.get(f"/api/v1/freight-rates?product_id={pid}&area_id=25410").status == 200
    added = set(kv.cache_client().scan_iter(match="cache:freight:*")) - before
    assert len(added) == 1  # one shape, one area: one key, whatever the number of products
    for bogus in (999999, 1, 2, 3):  # made-up areas add nothing
        assert api.get(f"/api/v1/freight-rates?product_id={twins[0]}&area_id={bogus}").status in (400, 404)
    assert set(kv.cache_client().scan_iter(match="cache:freight:*")) - before == added
    # a resized product reads its new shape's quote at once (nothing to invalidate)
    db.execute("UPDATE products SET weight = 7.0 WHERE name = 'Kopi 0'")
    heavy = api.get(f"/api/v1/freight-rates?product_id={twins[0]}&area_id=25410").json
    light = api.get(f"/api/v1/freight-rates?product_id={twins[1]}&area_id=25410").json
    assert heavy != light


def test_searches_that_find_nothing_add_no_cache_key(api):
    create_product("Kopi Toraja")
    before = set(kv.cache_client().scan_iter(match="cache:search:*"))
    for i in range(30):  # an anonymous client making words up
        assert api.get(f"/api/v1/product?search=zzqx{i}").json == []
    assert set(kv.cache_client().scan_iter(match="cache:search:*")) == before
    assert len(api.get("/api/v1/product?search=Toraja").json) == 1
    assert len(set(kv.cache_client().scan_iter(match="cache:search:*")) - before) == 1

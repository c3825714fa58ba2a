"""The public catalogue through HTTP: shapes the storefront needs, safe search, caching and its invalidation."""
import random
import string
import uuid

from support import create_category, create_customer, create_order, create_product


def test_homepage_is_an_array_even_when_empty(api):
    resp = api.get("/api/v1/product")
    assert resp.status == 200 and resp.json == []


def test_homepage_groups_visible_categories_in_a_stable_order(api):
    hidden = create_category("Hidden", visible=False)
    kopi = create_category("Kopi")
    teh = create_category("Teh")
    create_product("Kopi Gayo", kopi, images=2)
    create_product("Teh Tambi", teh)
    create_product("Secret", hidden)
    create_product("Old Kopi", kopi, deleted=True)
    groups = api.get("/api/v1/product").json
    assert [g["category_name"] for g in groups] == ["Kopi", "Teh"]
    card = groups[0]["products"][0]
    assert set(card) == {"id", "name", "price", "image", "rating", "sold"}
    assert card["name"] == "Kopi Gayo" and card["image"].endswith(".webp") and "/" not in card["image"]
    assert groups[1]["products"][0]["image"] == ""
    assert api.get("/api/v1/product").json == groups


def test_homepage_caps_five_categories_and_twelve_products(api):
    for c in range(7):
        cid = create_category(f"Cat {c}")
        if c == 0:
            for p in range(15):
                create_product(f"Item {p:02d}", cid)
    groups = api.get("/api/v1/product").json
    assert len(groups) == 5 and len(groups[0]["products"]) == 12


def test_product_detail_shape(api):
    pid = create_product("Kopi Gayo", create_category("Kopi"), price=85000, stock=7, weight=0.3, dims=(18, 10, 6),
                         images=2)
    detail = api.get(f"/api/v1/product?id={pid}").json
    assert detail["id"] == pid and detail["price"] == 85000 and detail["stock"] == 7
    assert detail["dimension"] == "18 x 10 x 6" and detail["weight"] == 0.3 and detail["category_name"] == "Kopi"
    assert len(detail["image_urls"]) == 2 and all(u.endswith(".webp") for u in detail["image_urls"])
    assert detail["cumulative_review"] == 0


def test_product_detail_without_images_has_null_image_urls(api):
    pid = create_product()
    assert api.get(f"/api/v1/product?id={pid}").json["image_urls"] is None


def test_product_detail_errors(api):
    assert api.get("/api/v1/product?id=not-a-uuid").status == 400
    assert api.get(f"/api/v1/product?id={uuid.uuid4()}").status == 404
    pid = create_product(deleted=True)
    resp = api.get(f"/api/v1/product?id={pid}")
    assert resp.status == 404 and "error" in resp.json


def test_stock_in_detail_is_always_live(api):
    from omcommerce import stock
    from omdb import db

    pid = create_product(stock=5)
    assert api.get(f"/api/v1/product?id={pid}").json["stock"] == 5
    with db.transaction() as tx:
        stock.adjust(tx, pid, -2)
    assert api.get(f"/api/v1/product?id={pid}").json["stock"] == 3


def test_search_filters_paging_and_no_match(api):
    kopi = create_category("Kopi")
    teh = create_category("Teh")
    for i in range(5):
        create_product(f"Kopi Arabika {i}", kopi, price=10000 * (i + 1))
    create_product("Teh Hijau", teh, price=20000)
    names = [p["name"] for p in api.get("/api/v1/product?search=kopi").json]
    assert names == [f"Kopi Arabika {i}" for i in range(5)]
    assert len(api.get("/api/v1/product?search=kopi&limit=2").json) == 2
    page2 = api.get("/api/v1/product?search=kopi&page=2&page_size=2").json
    assert [p["name"] for p in page2] == ["Kopi Arabika 2", "Kopi Arabika 3"]
    assert [p["name"] for p in api.get(f"/api/v1/product?search=&category={teh}").json] == ["Teh Hijau"]
    priced = api.get("/api/v1/product?search=kopi&price_from=20000&price_to=30000").json
    assert [p["price"] for p in priced] == [20000, 30000]
    none = api.get("/api/v1/product?search=zzzz")
    assert none.status == 200 and none.json == []
    assert api.get("/api/v1/product?search=kopi&limit=abc").status == 400
    assert api.get("/api/v1/product?search=kopi&category=x").status == 400


def test_search_fuzz_with_operator_characters_never_fails(api):
    create_product("Kopi Gayo")
    rng = random.Random(1234)
    alphabet = '+-<>()~*"@%_\\\'`;,.!?#&|=[]{}' + string.ascii_letters + "éß漢字 \t"
    queries = ['"', "+", "-kopi", "kopi*", "(kopi", "@3", "%", "_", "\\", "'; DROP TABLE products; --", "~kopi",
               '">kopi<"', "a" * 500]
    queries += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30))) for _ in range(150)]
    for q in queries:
        from urllib.parse import quote

        resp = api.get("/api/v1/product?search=" + quote(q))
        assert resp.status == 200, (q, resp)
        assert isinstance(resp.json, list)
    assert [p["name"] for p in api.get("/api/v1/product?search=%2Bkopi%2A").json] == ["Kopi Gayo"]


def test_like_wildcards_in_search_are_literal(api):
    create_product("Kopi Gayo")
    assert api.get("/api/v1/product?search=%25").json == []
    assert api.get("/api/v1/product?search=_").json == []


def test_sold_counts_only_paid_orders_and_quantities(api):
    pid = create_product(stock=100)
    cid = create_customer()
    create_order(cid, [(pid, 3)], status="paid")
    create_order(cid, [(pid, 2)], status="delivered")
    create_order(cid, [(pid, 50)], status="cancelled")
    create_order(cid, [(pid, 40)], status="awaiting_payment")
    assert api.get(f"/api/v1/product-sold?id={pid}").json == {"count": 5}
    other = create_product("Other")
    assert api.get(f"/api/v1/product-sold?id={other}").json == {"count": 0}
    card = api.get("/api/v1/product?search=kopi").json[0]
    assert card["sold"] == 5


def test_reviews_list(api):
    from omdb import db
    from omdb.ids import new_id, to_bin

    pid = create_product()
    cid = create_customer()
    order = create_order(cid, [(pid, 1)], status="delivered")
    item = db.query_one("SELECT id FROM order_items WHERE order_refer = %s", (order,))["id"]
    assert api.get(f"/api/v1/product-review?id={pid}").json == []
    db.execute("INSERT INTO reviews (id, order_item_refer, product_refer, customer_refer, rating, review, created_at)"
               " VALUES (%s, %s, %s, %s, 5, 'Mantap', '2026-11-25 10:00:00')",
               (new_id().bytes, item, to_bin(pid), to_bin(cid)))
    from omcommerce import cachekeys

    cachekeys.invalidate_product(pid)
    reviews = api.get(f"/api/v1/product-review?id={pid}").json
    assert reviews == [{"id": reviews[0]["id"], "rating": 5, "review": "Mantap", "created_at": "25 November 2026",
                        "customer": "Budi Santoso"}]


def test_categories_and_banners_are_arrays(api):
    assert api.get("/api/v1/category").json == []
    assert api.get("/api/v1/home-banner").json == []
    create_category("Teh")
    create_category("Kopi")
    assert api.get("/api/v1/category").json == []  # cached until a staff write invalidates it
    from omcommerce import cachekeys

    cachekeys.invalidate_categories()
    assert [c["name"] for c in api.get("/api/v1/category").json] == ["Kopi", "Teh"]


def test_area_suggest(api, areas):
    resp = api.get("/api/v1/area/suggest?search=gambir")
    assert resp.status == 200
    assert resp.json[0] == {"id": 25410, "name": "Gambir, Kota Adm. Jakarta Pusat, Daerah Khusus Ibukota Jakarta"}
    assert resp.headers["cache-control"] == "public, max-age=86400"
    many = api.get("/api/v1/area/suggest?search=jakarta%20pusat").json
    assert 1 <= len(many) <= 5 and all("Jakarta Pusat" in a["name"] for a in many)
    assert api.get("/api/v1/area/suggest?search=%2B%22%28").json == []
    assert api.get("/api/v1/area/suggest").status == 400


def test_default_storefront_area_exists(areas):
    from omdb import db

    row = db.query_one("SELECT city, postal_code FROM shipping_areas WHERE id = 25410")
    assert row["city"] == "Kota Adm. Jakarta Pusat" and row["postal_code"] == "10110"
    assert db.query_one("SELECT COUNT(*) AS n FROM shipping_areas")["n"] > 7000


def test_etag_answers_304(api):
    create_category("Kopi")
    first = api.get("/api/v1/category")
    tag = first.headers["etag"]
    again = api.get("/api/v1/category", headers={"If-None-Match": tag})
    assert again.status == 304 and again.body in (b"", "")
    create_category("Teh")
    from omcommerce import cachekeys

    cachekeys.invalidate_categories()
    assert api.get("/api/v1/category", headers={"If-None-Match": tag}).status == 200


def test_cached_reads_are_served_from_redis_and_invalidated(api):
    from omcommerce import cachekeys
    from omcore import kv
    from omdb import db

    cid = create_category("Kopi")
    pid = create_product("Kopi Gayo", cid)
    assert api.get("/api/v1/product").json[0]["products"][0]["name"] == "Kopi Gayo"
    assert kv.client().exists(cachekeys.HOME)
    db.execute("UPDATE products SET name = 'Kopi Renamed' WHERE id = UNHEX(REPLACE(%s, '-', ''))", (pid,))
    assert api.get("/api/v1/product").json[0]["products"][0]["name"] == "Kopi Gayo"  # served from the cache
    cachekeys.invalidate_product(pid)
    assert api.get("/api/v1/product").json[0]["products"][0]["name"] == "Kopi Renamed"


def test_reads_fall_back_to_mysql_when_redis_is_down(api, monkeypatch):
    from omcore import kv

    from tools.devstack import free_port

    create_product("Kopi Gayo", create_category("Kopi"))
    monkeypatch.setenv("REDIS_PORT", str(free_port()))
    kv.reset_client()
    resp = api.get("/api/v1/product")
    assert resp.status == 200 and resp.json[0]["products"][0]["name"] == "Kopi Gayo"
    assert api.get("/api/v1/category").status == 200
    monkeypatch.undo()
    kv.reset_client()

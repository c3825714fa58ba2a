"""upgrade-v1 and shipping areas, on a v1 shop whose shipping_areas are villages numbered in file order with place
names that repeat across provinces (tests/upgrade/v1shop.py says which villages and why): every address whose v1
area names one of our districts without doubt lands there on the first run, without an area map, and never in the
district an id, a first word or a postal code would suggest; the others are held back and listed, and their orders
never point at the colliding raw v1 id. The documented second run (exit 3 -> area map -> run again) imports them and
attaches their orders, also after an interrupted run; --verify compares the area text of every address and order and
fails on a mismatch."""
import os
import uuid

from v1shop import AREA_MAP, EXPECTED_AREA, HELD, PASSWORDS, V1_DB, WRONG_AREA

ORDER_DETAIL = "/api/v1/customer/order"


def _upgrade(cli, *extra):
    return cli("upgrade-v1", "--from", V1_DB, "--into", os.environ["DB_NAME"], *extra)


def _area_map(tmp_path):
    path = tmp_path / "areas.csv"
    path.write_text("v1_id,our_id\n" + "".join(f"{v1},{ours}\n" for v1, ours in AREA_MAP.items()))
    return str(path)


def _addresses():
    from omdb import db

    return {bytes(r["id"]): int(r["shipping_area_refer"])
            for r in db.query("SELECT id, shipping_area_refer FROM customer_addresses")}


def _orders():
    from omdb import db

    return {int(r["id"]): r for r in db.query(
        "SELECT id, customer_address_refer, ship_area_id, ship_area_name FROM orders")}


def _v1_area_name(shop, key):
    return shop.query("SELECT s.full_name FROM customer_addresses a JOIN shipping_areas s"
                      " ON s.id = a.shipping_area_refer WHERE a.id = %s", (shop.ids[key].bytes,))[0]["full_name"]


def _assert_every_area_is_real(shop, *, held_back):
    """Every imported address is in its real district, every order shows v1's text and points at its address and
    that address's area; the held-back addresses are absent and their orders point at no area at all."""
    ids = shop.ids
    addresses, orders = _addresses(), _orders()
    for key, area in EXPECTED_AREA.items():
        assert addresses[ids[key].bytes] == area, key
    for key, wrong in WRONG_AREA.items():
        assert addresses[ids[key].bytes] != wrong, key
    for key, (v1_id, *_names) in HELD.items():
        if key in held_back:
            assert ids[key].bytes not in addresses
        else:
            assert addresses[ids[key].bytes] == AREA_MAP[v1_id]
    for order_id, key in shop.order_address.items():
        order = orders[order_id]
        assert order["ship_area_name"] == _v1_area_name(shop, key), (order_id, key)  # what the customer was shown
        if key in held_back:
            assert order["customer_address_refer"] is None and order["ship_area_id"] == 0, (order_id, key)
        else:
            assert bytes(order["customer_address_refer"]) == ids[key].bytes, (order_id, key)
            assert order["ship_area_id"] == addresses[ids[key].bytes], (order_id, key)
        assert order["ship_area_id"] not in {v1_id for v1_id, *_ in HELD.values()}  # never the raw colliding id


def _areas_of(api):
    return {a["label"]: api.get(f"/api/v1/customer/address?id={a['id']}").json["area_id"]
            for a in api.get("/api/v1/customer/address").json}


def _login(api, email):
    assert api.post("/api/v1/auth/login", json={"email": email, "password": PASSWORDS[email],
                                                "remember_me": False}).status == 200


def test_first_run_maps_every_unambiguous_address_and_holds_back_the_rest(api, areas, freight_rates, v1_shop,
                                                                          admin_cli, tmp_path):
    ids = v1_shop.ids
    # the v1 shop as v1 had it: village rows named by v1's CAP_FIRST, ids that are also ids of unrelated districts
    assert _v1_area_name(v1_shop, "bob_home") == "Rawa Terate, Cakung, Kota Adm. Jakarta Timur, Dki Jakarta"
    assert v1_shop.query("SELECT shipping_area_refer AS a FROM customer_addresses WHERE id = %s",
                         (ids["bob_home"].bytes,))[0]["a"] == 25410  # our 25410 is Gambir, Jakarta Pusat
    assert _v1_area_name(v1_shop, "citra_home") == "Sukabumi, Sukabumi, Kota Bandar Lampung, Lampung"
    assert _v1_area_name(v1_shop, "eko_home") == "Simpang Kanan, Sumberejo, Kab. Tanggamus, Lampung"
    assert uuid.UUID(bytes=ids["alice_home"].bytes).version == 1  # the UUID() default, as in v1
    assert v1_shop.query("SELECT TABLE_COLLATION AS c FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
                         " AND TABLE_NAME = 'customers'")[0]["c"] in ("utf8mb4_0900_ai_ci", "utf8mb4_uca1400_nopad_ai_ci")

    # 1. first run, no area map: every address whose hierarchy is unambiguous is mapped, the other two listed
    first = _upgrade(admin_cli)
    assert first.returncode == 3, first.stdout + first.stderr
    _assert_every_area_is_real(v1_shop, held_back=set(HELD))
    attention = [line for line in first.stdout.splitlines() if line.startswith("ATTENTION")]
    assert len(attention) == 1 and "2 addresses held back" in attention[0], first.stdout
    for key, (v1_id, *_names) in HELD.items():
        assert f"v1 area {v1_id} (" in attention[0] and str(ids[key]) in attention[0]
    assert "no district 'Merauke' in 'Kab. Merauke', 'Papua Selatan' here (the district, city or province" \
           " disagrees); districts of that name here: 30105 'Merauke, Kabupaten Merauke, Papua'" in attention[0]
    assert ("'Soasio Baru, Tidore, Kota Tidore Kepulauan, Maluku Utara' fits 2 areas here: 29864 'Tidore, Kota"
            " Tidore Kepulauan, Maluku Utara', 29865 'Tidore (Pulau Tidore)") in attention[0]
    waiting = sorted(o for o, key in v1_shop.order_address.items() if key in HELD)
    assert f"{len(waiting)} orders of held-back addresses were imported with their v1 area name and no area" \
        in first.stdout and ", ".join(map(str, waiting)) in first.stdout

    # the customer sees the area v1 showed, for an order of a mapped and of a held-back address
    _login(api, "bob@example.com")
    detail = api.get(f"{ORDER_DETAIL}?id={ids['pending']}").json
    assert detail["address_detail"]["shipping_area"] == "Rawa Terate, Cakung, Kota Adm. Jakarta Timur, Dki Jakarta"
    detail = api.get(f"{ORDER_DETAIL}?id={ids['boat_again']}").json
    assert detail["address_detail"]["shipping_area"] == "Kelapa Lima, Merauke, Kab. Merauke, Papua Selatan"
    assert "Bojongmangu" not in detail["address_detail"]["shipping_area"]  # our area 25491, the raw v1 id
    assert _areas_of(api) == {"Rumah": 25427}

    # --verify: the held-back addresses and their orders are differences, shown with v1's text
    verify = _upgrade(admin_cli, "--verify")
    assert verify.returncode == 1, verify.stdout
    different = [line for line in verify.stdout.splitlines() if line.endswith("DIFFERENT")]
    assert f"  address {ids['bob_boat']}: v1 'Kelapa Lima, Merauke, Kab. Merauke, Papua Selatan' -> ours: not" \
           " imported" in "\n".join(different)
    assert any(line.startswith(f"  order {ids['boat_again']}: v1 'Kelapa Lima, Merauke, Kab. Merauke, Papua"
                               " Selatan' -> ours not attached to its address") for line in different), different
    assert "  ok address     1x  v1 'Sukabumi, Sukabumi, Kota Bandar Lampung, Lampung' -> ours 'Sukabumi, Kota" \
           " Bandar Lampung, Lampung'" in verify.stdout

    # 2. the documented second run with the area map: the held-back addresses come in, their orders are attached
    area_map = _area_map(tmp_path)
    second = _upgrade(admin_cli, "--area-map", area_map)
    assert second.returncode == 0, second.stdout + second.stderr
    assert f"{len(waiting)} orders imported earlier without their address are now attached" in second.stdout
    _assert_every_area_is_real(v1_shop, held_back=set())
    detail = api.get(f"{ORDER_DETAIL}?id={ids['boat_again']}").json
    assert detail["address_detail"]["shipping_area"] == "Kelapa Lima, Merauke, Kab. Merauke, Papua Selatan"
    assert _areas_of(api) == {"Rumah": 25427, "Kapal": 30105}
    verify = _upgrade(admin_cli, "--verify", "--area-map", area_map)
    assert verify.returncode == 0, verify.stdout
    assert "v1 and ours agree" in verify.stdout
    # without the area map the operator's choices are not v1's text: --verify says so
    unconfirmed = _upgrade(admin_cli, "--verify")
    assert unconfirmed.returncode == 1
    assert sum(1 for line in unconfirmed.stdout.splitlines()
               if line.startswith("  address ") and line.endswith("DIFFERENT")) == len(HELD)

    # 3. a third run changes nothing
    before = (_addresses(), _orders())
    again = _upgrade(admin_cli)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "attached" not in again.stdout and "held back" not in again.stdout
    assert (_addresses(), _orders()) == before


def test_verify_fails_on_an_area_mismatch(areas, freight_rates, v1_shop, admin_cli, tmp_path):
    from omdb import db

    area_map = _area_map(tmp_path)
    assert _upgrade(admin_cli, "--area-map", area_map).returncode == 0
    assert _upgrade(admin_cli, "--verify", "--area-map", area_map).returncode == 0
    address = v1_shop.ids["citra_home"]
    # an address in the district an id or a first word would give (Sukabumi in Jawa Barat, not in Bandar Lampung)
    db.execute("UPDATE customer_addresses SET shipping_area_refer = 25909 WHERE id = %s", (address.bytes,))
    wrong = _upgrade(admin_cli, "--verify", "--area-map", area_map)
    assert wrong.returncode == 1
    lines = [line for line in wrong.stdout.splitlines() if line.endswith("DIFFERENT")
             and line.startswith(("  address ", "  order "))]
    assert lines == [f"  address {address}: v1 'Sukabumi, Sukabumi, Kota Bandar Lampung, Lampung' -> ours 'Sukabumi,"
                     " Kabupaten Sukabumi, Jawa Barat', which is not the area v1 names (that is 'Sukabumi, Kota"
                     " Bandar Lampung, Lampung')  DIFFERENT"], wrong.stdout  # its order still shows the real area
    db.execute("UPDATE customer_addresses SET shipping_area_refer = 25270 WHERE id = %s", (address.bytes,))
    # an order that shows another text than v1 did
    db.execute("UPDATE orders SET ship_area_name = 'Gambir, Kota Adm. Jakarta Pusat' WHERE id = %s",
               (v1_shop.ids["order_citra_kos"],))
    shown = _upgrade(admin_cli, "--verify", "--area-map", area_map)
    assert shown.returncode == 1
    assert f"  order {v1_shop.ids['order_citra_kos']}: v1 'Labuhan Ratu, Labuhan Ratu, Kota Bandar Lampung," \
           " Lampung' -> ours shows 'Gambir, Kota Adm. Jakarta Pusat'  DIFFERENT" in shown.stdout


def test_an_interrupted_run_and_the_area_map_run_leave_every_area_real(areas, freight_rates, v1_shop, admin_cli,
                                                                         tmp_path):
    from omdb import db

    # the run stops while writing reviews (after addresses and orders are in): a database error, as when the
    # connection drops or the disk fills
    db.execute("CREATE TRIGGER stop_the_upgrade BEFORE INSERT ON reviews FOR EACH ROW"
               " SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'disk full'")
    stopped = _upgrade(admin_cli)
    assert stopped.returncode == 2 and "run again (it continues where it stopped)" in stopped.stderr, stopped.stderr
    assert db.query_one("SELECT COUNT(*) AS n FROM reviews")["n"] == 0
    _assert_every_area_is_real(v1_shop, held_back=set(HELD))
    db.execute("DROP TRIGGER stop_the_upgrade")

    # the operator adds the area map the report of the rehearsal asked for and runs again
    area_map = _area_map(tmp_path)
    resumed = _upgrade(admin_cli, "--area-map", area_map)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert db.query_one("SELECT COUNT(*) AS n FROM reviews")["n"] == 2
    _assert_every_area_is_real(v1_shop, held_back=set())
    verify = _upgrade(admin_cli, "--verify", "--area-map", area_map)
    assert verify.returncode == 0, verify.stdout

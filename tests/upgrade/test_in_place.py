"""upgrade-v1 --in-place: the v1 database itself becomes ours; its tables stay beside ours as v1_* (the archive
a rollback renames back), --verify compares the archive with ours, and a second run changes nothing."""
from v1shop import AREA_MAP, V1_DB


def _tables(shop):
    return {r["n"] for r in shop.query("SELECT TABLE_NAME AS n FROM information_schema.TABLES"
                                       " WHERE TABLE_SCHEMA = DATABASE()")}


def test_in_place_upgrade_archives_v1_and_verifies(v1_shop, admin_cli, tmp_path):

    v1_tables = _tables(v1_shop)
    dry = admin_cli("upgrade-v1", "--from", V1_DB, "--in-place", "--dry-run")
    assert dry.returncode == 3, dry.stdout + dry.stderr
    assert "would rename" in dry.stdout and "DRY RUN" in dry.stdout
    assert _tables(v1_shop) == v1_tables  # nothing changed
    assert admin_cli("upgrade-v1", "--from", V1_DB, "--in-place", "--verify").returncode == 2  # not upgraded yet

    area_map = tmp_path / "areas.csv"
    area_map.write_text("".join(f"{v1},{ours}\n" for v1, ours in AREA_MAP.items()))
    done = admin_cli("upgrade-v1", "--from", V1_DB, "--in-place", "--area-map", str(area_map))
    assert done.returncode == 0, done.stdout + done.stderr
    tables = _tables(v1_shop)
    assert {f"v1_{t}" for t in v1_tables} <= tables  # every v1 table kept, renamed
    assert {"schema_migrations", "customers", "orders", "order_status_history", "stock_movements"} <= tables
    assert "archived (renamed): v1_auth_logs, v1_logs, v1_blacklist_domains, v1_areas" in done.stdout
    assert v1_shop.query("SELECT COUNT(*) AS n FROM v1_orders")[0]["n"] == 19
    assert v1_shop.query("SELECT status FROM orders WHERE id = %s", (v1_shop.ids["stock_failed"],))[0]["status"] \
        == "cancelled"
    history = v1_shop.query("SELECT note FROM order_status_history WHERE order_refer = %s",
                            (v1_shop.ids["stock_failed"],))
    assert len(history) == 1 and history[0]["note"].startswith("imported from v1")

    # v1 priced freight with an outside service: until rates (or a provider) are configured, checkout cannot work
    no_rates = admin_cli("upgrade-v1", "--from", V1_DB, "--in-place", "--verify", "--area-map", str(area_map))
    assert no_rates.returncode == 1, no_rates.stdout
    freight = [line for line in no_rates.stdout.splitlines() if line.startswith("freight:")]
    assert len(freight) == 1 and "0 rates  DIFFERENT (no freight rates" in freight[0], no_rates.stdout
    v1_shop.query("INSERT INTO freight_services (courier_code, service_code, service_name) VALUES"
                  " ('anteraja', 'REG', 'Reguler')")
    v1_shop.query("INSERT INTO freight_rates (courier_code, service_code, province, city, first_kg_price,"
                  " next_kg_price, etd_min_days, etd_max_days) VALUES ('anteraja', 'REG', NULL, NULL, 20000, 10000,"
                  " 2, 4)")  # one nationwide rate
    verify = admin_cli("upgrade-v1", "--from", V1_DB, "--in-place", "--verify", "--area-map", str(area_map))
    assert verify.returncode == 0, verify.stdout
    assert "freight: rate table" in verify.stdout and "1 rates" in verify.stdout
    again = admin_cli("upgrade-v1", "--from", V1_DB, "--in-place", "--area-map", str(area_map))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "resuming" in again.stdout
    rows = [line.split() for line in again.stdout.splitlines()]
    written = {r[0]: r[3] for r in rows if len(r) == 4 and all(x.isdigit() for x in r[1:])}
    assert len(written) >= 12 and set(written.values()) == {"0"}, again.stdout

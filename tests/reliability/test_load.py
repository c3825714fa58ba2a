"""Bounded load against the container server: browsing, carts, checkouts, payments through the real webhook and
cancellations, from 24 concurrent shoppers. Zero 5xx, and no stock lost or double-counted."""
import loadgen as load
from loadgen import assert_stock_invariants, setup_shop


def test_mixed_load_has_no_5xx_and_keeps_stock_exact(shop_server, report):
    from omdb import db

    server, fake = shop_server
    products, shoppers, addresses = setup_shop(server.base, 24)
    elapsed = load.run(shoppers, rounds=4, products=products, addresses=addresses)
    statuses = [s for shopper in shoppers for s in shopper.statuses]
    latencies = [x for shopper in shoppers for x in shopper.latencies]
    errors = [s for s in statuses if s >= 500 or s == 0]
    assert errors == [], errors[:10]
    assert_stock_invariants(products)
    paid = db.query_one("SELECT COUNT(*) AS n FROM orders WHERE status = 'paid'")["n"]
    total_orders = db.query_one("SELECT COUNT(*) AS n FROM orders")["n"]
    assert paid > 0 and total_orders > paid
    notifications = db.query_one("SELECT COUNT(*) AS n FROM payment_notifications")["n"]
    report.update({"requests": len(statuses), "seconds": round(elapsed, 1),
                   "requests_per_second": round(len(statuses) / elapsed, 1),
                   "p50_ms": round(load.percentile(latencies, 50) * 1000, 1),
                   "p99_ms": round(load.percentile(latencies, 99) * 1000, 1), "orders": total_orders, "paid": paid,
                   "webhooks": notifications, "5xx": len(errors)})

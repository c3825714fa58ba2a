"""The customer's cart. The cart count in Redis is written through after every change, so it always equals the
real number of lines (checkout and product deletion delete the key, and the next read recounts)."""
from __future__ import annotations

from omcommerce import cachekeys, catalog
from omcore import config, kv
from omcore.errors import Conflict, NotFound
from omdb import db
from omdb.ids import from_bin, to_bin

COUNT_TTL = 14 * 24 * 3600


def max_quantity() -> int:
    return config.get_int("CART_MAX_QUANTITY")


def max_lines() -> int:
    return config.get_int("CART_MAX_LINES")


def lines(customer_id: str) -> list[dict]:
    rows = db.query(
        "SELECT p.id, p.name, p.price, ci.quantity, ci.checked, COALESCE(i.quantity, 0) AS stock,"
        f" {catalog.first_image_sql()} AS image_id"
        " FROM cart_items ci JOIN products p ON p.id = ci.product_refer AND p.deleted_at IS NULL"
        " LEFT JOIN inventories i ON i.product_refer = p.id WHERE ci.customer_refer = %s ORDER BY ci.id",
        (to_bin(customer_id),))
    return [{"id": from_bin(r["id"]), "name": r["name"], "price": int(r["price"]),
             "image": catalog.image_file(r["image_id"]), "quantity": int(r["quantity"]),
             "curr_stock": int(r["stock"]), "checked": bool(r["checked"])}
            for r in rows]


def recount(customer_id: str) -> int:
    """Count the lines in MySQL and write the cached count."""
    n = int(db.query_one("SELECT COUNT(*) AS n FROM cart_items ci JOIN products p ON p.id = ci.product_refer"
                         " AND p.deleted_at IS NULL WHERE ci.customer_refer = %s", (to_bin(customer_id),))["n"])
    kv.cache_set(cachekeys.cart_count(customer_id), str(n), COUNT_TTL)
    return n


def count(customer_id: str) -> int:
    cached = kv.cache_get(cachekeys.cart_count(customer_id))
    if cached is not None:
        return int(cached)
    return recount(customer_id)


def set_quantity(customer_id: str, product_id, quantity: int) -> None:
    cid, pid = to_bin(customer_id), to_bin(product_id)
    product = db.query_one("SELECT COALESCE(i.quantity, 0) AS stock FROM products p LEFT JOIN inventories i"
                           " ON i.product_refer = p.id WHERE p.id = %s AND p.deleted_at IS NULL", (pid,))
    if product is None:
        raise NotFound("product not found")
    if int(product["stock"]) < quantity:
        raise Conflict("quantity is not enough", curr_stock=int(product["stock"]))

    def add_or_update_line(tx):
        existing = tx.query_one("SELECT id FROM cart_items WHERE customer_refer = %s AND product_refer = %s"
                                " FOR UPDATE", (cid, pid))
        if existing is None:
            # lock the customer's lines so two concurrent adds cannot both pass the line limit
            n = len(tx.query("SELECT id FROM cart_items WHERE customer_refer = %s FOR UPDATE", (cid,)))
            if n >= max_lines():
                raise Conflict(f"the cart is full ({max_lines()} products at most)")
            tx.execute("INSERT INTO cart_items (product_refer, customer_refer, quantity) VALUES (%s, %s, %s)",
                       (pid, cid, quantity))
        else:
            tx.execute("UPDATE cart_items SET quantity = %s, updated_at = UTC_TIMESTAMP(3) WHERE id = %s",
                       (quantity, existing["id"]))

    db.run_in_transaction(add_or_update_line)
    recount(customer_id)


def remove(customer_id: str, product_id) -> None:
    done = db.execute("DELETE FROM cart_items WHERE customer_refer = %s AND product_refer = %s",
                      (to_bin(customer_id), to_bin(product_id)))
    recount(customer_id)
    if done.rowcount == 0:
        raise NotFound("product not found in the cart")


def set_checked(customer_id: str, product_id, state: bool) -> None:
    if state:
        done = db.execute(
            "UPDATE cart_items ci JOIN products p ON p.id = ci.product_refer AND p.deleted_at IS NULL"
            " JOIN inventories i ON i.product_refer = ci.product_refer SET ci.checked = TRUE"
            " WHERE ci.customer_refer = %s AND ci.product_refer = %s AND i.quantity >= ci.quantity",
            (to_bin(customer_id), to_bin(product_id)))
    else:
        done = db.execute("UPDATE cart_items SET checked = FALSE WHERE customer_refer = %s AND product_refer = %s",
                          (to_bin(customer_id), to_bin(product_id)))
    if done.rowcount == 0:
        row = db.query_one("SELECT checked FROM cart_items WHERE customer_refer = %s AND product_refer = %s",
                           (to_bin(customer_id), to_bin(product_id)))
        if row is None:
            raise NotFound("product not found in the cart")
        if bool(row["checked"]) != state:
            raise Conflict("not enough stock to select this product")


def set_all_checked(customer_id: str, state: bool | None) -> int:
    """Check (only lines with enough stock) or uncheck every line. ``state=None`` is the storefront's
    ``{checkAll: true}``, sent for both ticking and unticking: it checks all, or unchecks all when every eligible
    line is already checked. Returns the number of checked lines afterwards."""
    cid = to_bin(customer_id)
    eligible = ("FROM cart_items ci JOIN products p ON p.id = ci.product_refer AND p.deleted_at IS NULL"
                " JOIN inventories i ON i.product_refer = ci.product_refer"
                " WHERE ci.customer_refer = %s AND i.quantity >= ci.quantity")
    if state is None:
        row = db.query_one(f"SELECT COUNT(*) AS n, COALESCE(SUM(ci.checked), 0) AS c {eligible}", (cid,))
        state = not (int(row["n"]) > 0 and int(row["c"]) == int(row["n"]))
    if state:
        db.execute("UPDATE cart_items ci JOIN products p ON p.id = ci.product_refer AND p.deleted_at IS NULL"
                   " JOIN inventories i ON i.product_refer = ci.product_refer SET ci.checked = TRUE"
                   " WHERE ci.customer_refer = %s AND i.quantity >= ci.quantity", (cid,))
    else:
        db.execute("UPDATE cart_items SET checked = FALSE WHERE customer_refer = %s", (cid,))
    return int(db.query_one("SELECT COUNT(*) AS n FROM cart_items WHERE customer_refer = %s AND checked = TRUE",
                            (cid,))["n"])

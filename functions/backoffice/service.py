"""The staff back office: categories, products, stock, images, banners and order handling.

Every write invalidates the public caches it affects (omcommerce.cachekeys); stock changes go through
omcommerce.stock (locked rows, recorded movements) and order status changes through omcommerce.orders (the state
machine with history).
"""
from __future__ import annotations

from datetime import date, timedelta

from omcommerce import cachekeys, catalog, orders, stock
from omcommerce import media as images
from omcore import kv
from omcore.errors import BadRequest, Conflict, NotFound
from omcore.log import get_logger
from omdb import db
from omdb.errors import DuplicateKey, ForeignKeyViolation
from omdb.ids import from_bin, new_id, to_bin
from omdb.sql import placeholders

log = get_logger("backoffice")

# the columns the category and product forms may write (the routes build the dicts; db.update refuses others)
CATEGORY_COLUMNS = frozenset({"name", "description", "homepage_visibility"})
PRODUCT_COLUMNS = frozenset({"category_refer", "name", "description", "price", "weight", "length", "width",
                             "height"})


def _date_text(value) -> str:
    return f"{value.day:02d} {value:%B %Y}"


# ---------------------------------------------------------------- categories

def categories() -> list[dict]:
    rows = db.query("SELECT id, name, description, homepage_visibility FROM categories WHERE deleted_at IS NULL"
                    " ORDER BY name, id")
    return [{"id": int(r["id"]), "name": r["name"], "description": r["description"],
             "homepage_visibility": bool(r["homepage_visibility"])} for r in rows]


def create_category(name: str, description: str, visible: bool) -> int:
    def create_or_revive_category(tx):
        existing = tx.query_one("SELECT id, deleted_at FROM categories WHERE name = %s FOR UPDATE", (name,))
        if existing is not None:
            if existing["deleted_at"] is None:
                raise Conflict("Category name already exists")
            tx.execute("UPDATE categories SET deleted_at = NULL, updated_at = NULL, description = %s,"
                       " homepage_visibility = %s WHERE id = %s", (description, visible, existing["id"]))
            return int(existing["id"])
        return tx.execute("INSERT INTO categories (name, description, homepage_visibility) VALUES (%s, %s, %s)",
                          (name, description, visible)).lastrowid

    try:
        category_id = db.run_in_transaction(create_or_revive_category)
    except DuplicateKey:
        raise Conflict("Category name already exists") from None
    cachekeys.invalidate_categories()
    return category_id


def update_category(category_id: int, changes: dict) -> None:
    if db.query_one("SELECT id FROM categories WHERE id = %s AND deleted_at IS NULL", (category_id,)) is None:
        raise NotFound("category not found")
    if changes:
        try:
            db.update("categories", changes, "id = %s", (category_id,), allowed=CATEGORY_COLUMNS)
        except DuplicateKey:
            raise Conflict("Category name already exists") from None
    cachekeys.invalidate_categories()


def delete_category(category_id: int) -> None:
    def soft_delete_unused_category(tx):
        row = tx.query_one("SELECT id FROM categories WHERE id = %s AND deleted_at IS NULL FOR UPDATE", (category_id,))
        if row is None:
            raise NotFound("category not found")
        in_use = tx.query_one("SELECT id FROM products WHERE category_refer = %s AND deleted_at IS NULL LIMIT 1"
                              " FOR UPDATE", (category_id,))
        if in_use:
            raise Conflict("category is in use")
        tx.execute("UPDATE categories SET deleted_at = UTC_TIMESTAMP(3), updated_at = UTC_TIMESTAMP(3)"
                   " WHERE id = %s", (category_id,))

    db.run_in_transaction(soft_delete_unused_category)
    cachekeys.invalidate_categories()


# ---------------------------------------------------------------- products

def _check_category(tx, category_id: int) -> None:
    if tx.query_one("SELECT id FROM categories WHERE id = %s AND deleted_at IS NULL", (category_id,)) is None:
        raise Conflict("category not found")


def create_product(fields: dict, initial_stock: int, staff_id: int) -> str:
    def create_or_revive_product(tx):
        _check_category(tx, fields["category_refer"])
        existing = tx.query_one("SELECT id, deleted_at FROM products WHERE name = %s FOR UPDATE", (fields["name"],))
        if existing is not None and existing["deleted_at"] is None:
            raise Conflict("Product name already exists")
        values = (fields["description"], fields["price"], fields["weight"], fields["category_refer"],
                  fields["length"], fields["width"], fields["height"])
        if existing is not None:
            # revive the soft-deleted product under its old id; its old reviews stay and keep the average true
            product_id = existing["id"]
            tx.execute("UPDATE products SET description = %s, price = %s, weight = %s, category_refer = %s,"
                       " length = %s, width = %s, height = %s, deleted_at = NULL, created_at = UTC_TIMESTAMP(3),"
                       " updated_at = UTC_TIMESTAMP(3) WHERE id = %s", (*values, product_id))
        else:
            product_id = new_id().bytes
            tx.execute("INSERT INTO products (id, name, description, price, weight, category_refer, length, width,"
                       " height) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", (product_id, fields["name"], *values))
        stock.create(tx, product_id, initial_stock, staff_id=staff_id)
        return from_bin(product_id)

    try:
        product_id = db.run_in_transaction(create_or_revive_product)
    except DuplicateKey:
        raise Conflict("Product name already exists") from None
    cachekeys.invalidate_product(product_id, freight_too=True)
    return product_id


def update_product(product_id, changes: dict, absolute_stock: int | None, staff_id: int, *,
                   expected: int | None = None) -> None:
    """Partial update; ``absolute_stock`` is v1's `stock` field: an absolute set that changes nothing when it
    equals the current value (the staff UI sends the whole form every time). With ``expected`` the set is guarded
    (409 with ``curr_stock`` when the stock changed meanwhile) and the whole update is rolled back."""
    pid = to_bin(product_id)

    def update_product_and_stock(tx):
        row = tx.query_one("SELECT id, weight, length, width, height FROM products WHERE id = %s"
                           " AND deleted_at IS NULL FOR UPDATE", (pid,))
        if row is None:
            raise NotFound("product not found")
        if "category_refer" in changes:
            _check_category(tx, changes["category_refer"])
        if "name" in changes:
            # free the name from a soft-deleted product that still holds it
            tx.execute("UPDATE products SET name = CONCAT(LEFT(name, 50), '_deleted_', LEFT(HEX(id), 16))"
                       " WHERE name = %s AND deleted_at IS NOT NULL", (changes["name"],))
        tx.update("products", changes, "id = %s", (pid,), allowed=PRODUCT_COLUMNS)
        if absolute_stock is not None:
            stock.set_quantity(tx, pid, absolute_stock, expected=expected, staff_id=staff_id, note="product form")
        return any(k in changes for k in ("weight", "length", "width", "height"))

    try:
        size_changed = db.run_in_transaction(update_product_and_stock)
    except DuplicateKey:
        raise Conflict("Product name already exist") from None
    except (stock.StaleStock, stock.StockLimit) as exc:
        message = "the stock changed since you read it" if isinstance(exc, stock.StaleStock) \
            else f"stock cannot exceed {stock.MAX_STOCK}"
        raise Conflict(message, curr_stock=exc.current) from None
    cachekeys.invalidate_product(str(product_id), freight_too=size_changed)


def delete_product(product_id) -> None:
    """Soft delete; removes cart lines (and the affected cart counts), wishlist rows and images, in one
    transaction for the rows; objects are deleted after the commit (idempotent)."""
    pid = to_bin(product_id)

    def soft_delete_product_and_links(tx):
        row = tx.query_one("SELECT id FROM products WHERE id = %s AND deleted_at IS NULL FOR UPDATE", (pid,))
        if row is None:
            raise NotFound("product not found")
        customers = [from_bin(r["customer_refer"]) for r in tx.query(
            "SELECT customer_refer FROM cart_items WHERE product_refer = %s", (pid,))]
        files = [catalog.image_file(r["id"]) for r in tx.query(
            "SELECT id FROM product_images WHERE product_refer = %s", (pid,))]
        tx.execute("DELETE FROM cart_items WHERE product_refer = %s", (pid,))
        tx.execute("DELETE FROM wishlists WHERE product_refer = %s", (pid,))
        tx.execute("DELETE FROM product_images WHERE product_refer = %s", (pid,))
        tx.execute("UPDATE products SET deleted_at = UTC_TIMESTAMP(3), updated_at = UTC_TIMESTAMP(3) WHERE id = %s",
                   (pid,))
        return customers, files

    customers, files = db.run_in_transaction(soft_delete_product_and_links)
    kv.cache_delete(*[cachekeys.cart_count(c) for c in customers])
    for file_name in files:
        try:
            images.delete_image(file_name)
        except Exception as exc:  # the rows are gone; a leftover object is logged, never a failed request
            log.warning("could not delete image objects of %s: %s", file_name, type(exc).__name__)
    cachekeys.invalidate_product(str(product_id), freight_too=True)


def product_list(*, page: int | None, page_size: int, search: str | None, category: int | None) -> list[dict]:
    where, args = ["p.deleted_at IS NULL"], []
    if search:
        for word in [w for w in search.lower().split() if w][:8]:
            where.append("p.name LIKE %s")
            args.append("%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
    if category is not None:
        where.append("p.category_refer = %s")
        args.append(category)
    limit = "LIMIT %s OFFSET %s" if page is not None else ""
    if page is not None:
        args += [page_size, (page - 1) * page_size]
    sql = catalog.card_sql("FROM products p WHERE " + " AND ".join(where), "p.name, p.id", limit)
    sql = sql.replace("SELECT ", "SELECT p.category_refer AS category_id,"
                      " (SELECT quantity FROM inventories i WHERE i.product_refer = p.id) AS stock, ", 1)
    rows = db.query(sql, (*catalog.sold_args(), *args))
    return [{**catalog.to_card(r), "stock": int(r["stock"] or 0), "category_id": int(r["category_id"])}
            for r in rows]


# ---------------------------------------------------------------- stock

def adjust_stock(product_id, delta: int, staff_id: int, note: str | None) -> int:
    def adjust_live_product_stock(tx):
        _live_product(tx, product_id)
        return stock.adjust(tx, product_id, delta, staff_id=staff_id, note=note)

    try:
        quantity = db.run_in_transaction(adjust_live_product_stock)
    except stock.InsufficientStock as exc:
        raise Conflict("stock cannot go below zero", curr_stock=exc.shortages[0]["available"]) from None
    except stock.StockLimit as exc:
        raise Conflict(f"stock cannot exceed {stock.MAX_STOCK}", curr_stock=exc.current) from None
    cachekeys.invalidate_product(str(product_id), listing=False)
    return quantity


def set_stock(product_id, quantity: int, expected: int, staff_id: int, note: str | None) -> int:
    def set_live_product_stock(tx):
        _live_product(tx, product_id)
        return stock.set_quantity(tx, product_id, quantity, expected=expected, staff_id=staff_id, note=note)

    try:
        result = db.run_in_transaction(set_live_product_stock)
    except stock.StaleStock as exc:
        raise Conflict("the stock changed since you read it", curr_stock=exc.current) from None
    except stock.StockLimit as exc:
        raise Conflict(f"stock cannot exceed {stock.MAX_STOCK}", curr_stock=exc.current) from None
    cachekeys.invalidate_product(str(product_id), listing=False)
    return result


def _live_product(tx, product_id) -> None:
    if tx.query_one("SELECT id FROM products WHERE id = %s AND deleted_at IS NULL", (to_bin(product_id),)) is None:
        raise NotFound("product not found")


def stock_movements(product_id, page: int, page_size: int) -> list[dict]:
    rows = db.query("SELECT m.id, m.delta, m.quantity_after, m.reason, m.order_refer, m.staff_refer, m.note,"
                    " m.created_at, s.username FROM stock_movements m LEFT JOIN staffs s ON s.id = m.staff_refer"
                    " WHERE m.product_refer = %s ORDER BY m.id DESC LIMIT %s OFFSET %s",
                    (to_bin(product_id), page_size, (page - 1) * page_size))
    return [{"id": int(r["id"]), "delta": int(r["delta"]), "quantity_after": int(r["quantity_after"]),
             "reason": r["reason"], "order_id": r["order_refer"], "staff_id": r["staff_refer"],
             "staff": r["username"], "note": r["note"], "created_at": f"{r['created_at']:%Y-%m-%dT%H:%M:%SZ}"}
            for r in rows]


# ---------------------------------------------------------------- images and banners

def _image_count(runner, pid: bytes) -> int:
    return int(runner.query_one("SELECT COUNT(*) AS n FROM product_images WHERE product_refer = %s", (pid,))["n"])


def add_product_image(product_id, upload) -> str:
    pid = to_bin(product_id)
    if db.query_one("SELECT id FROM products WHERE id = %s AND deleted_at IS NULL", (pid,)) is None:
        raise NotFound("product not found")
    if _image_count(db, pid) >= images.MAX_PRODUCT_IMAGES:  # fast refusal before storing anything
        raise Conflict(f"a product can have at most {images.MAX_PRODUCT_IMAGES} images")
    file_name = images.store_upload(owner_type="product", owner_id=str(product_id), data=upload.data,
                                    filename=upload.filename, content_type=upload.content_type,
                                    limit=images.form_max_bytes())
    image_id = images.parse_file_name(file_name)

    def attach_if_room(tx):
        # counted and attached under the product's row lock: 16 parallel uploads attached 12 images when the
        # count ran outside it (the conversion pipeline attaches under the same lock)
        if tx.query_one("SELECT id FROM products WHERE id = %s AND deleted_at IS NULL FOR UPDATE", (pid,)) is None:
            return "gone"
        if _image_count(tx, pid) >= images.MAX_PRODUCT_IMAGES:
            return "full"
        tx.execute("INSERT INTO product_images (id, product_refer) VALUES (%s, %s)", (image_id.bytes, pid))
        return None

    try:
        refused = db.run_in_transaction(attach_if_room)
    except ForeignKeyViolation:
        refused = "gone"
    if refused:
        images.delete_image(file_name)
        if refused == "gone":
            raise NotFound("product not found")
        raise Conflict(f"a product can have at most {images.MAX_PRODUCT_IMAGES} images")
    cachekeys.invalidate_product(str(product_id))
    return file_name


def delete_product_image(product_id, file_name: str) -> None:
    image_id = images.parse_file_name(file_name)
    done = db.execute("DELETE FROM product_images WHERE id = %s AND product_refer = %s",
                      (image_id.bytes, to_bin(product_id)))
    if done.rowcount == 0:
        raise NotFound("image not found for this product")
    images.delete_image(file_name)
    cachekeys.invalidate_product(str(product_id))


def add_banner(upload, href: str) -> dict:
    file_name = images.store_upload(owner_type="banner", owner_id=None, data=upload.data, filename=upload.filename,
                                    content_type=upload.content_type)
    banner_id = db.execute("INSERT INTO homepage_banner (file_name, href) VALUES (%s, %s)", (file_name, href)).lastrowid
    images.link_owner(file_name, "banner", str(banner_id))
    cachekeys.invalidate_banners()
    return {"id": banner_id, "image_url": file_name, "href": href}


def delete_banner(banner_id: int) -> None:
    row = db.query_one("SELECT file_name FROM homepage_banner WHERE id = %s", (banner_id,))
    if row is None:
        raise NotFound("banner not found")
    db.execute("DELETE FROM homepage_banner WHERE id = %s", (banner_id,))
    try:
        images.delete_image(row["file_name"])
    except BadRequest:
        pass  # a legacy file name that is not ours: the row is gone, nothing to delete
    cachekeys.invalidate_banners()


# ---------------------------------------------------------------- orders

def _order_where(status, date_from, date_to, customer, search=None) -> tuple[list[str], list]:
    """The WHERE terms (and their arguments) of the staff order filters, shared by the list and its totals."""
    where, args = ["1=1"], []
    if status:
        where.append("o.status = %s")
        args.append(status)
    if date_from:
        where.append("o.created_at >= %s")
        args.append(date_from)
    if date_to:
        where.append("o.created_at < DATE_ADD(%s, INTERVAL 1 DAY)")
        args.append(date_to)
    if customer:
        if "@" in customer:
            where.append("c.email = %s")
            args.append(customer.lower())
        else:
            where.append("o.customer_refer = %s")
            args.append(to_bin(customer))
    if search:
        # the order desk's one search box: an order number ("1042" or "#1042"), else part of the customer's email
        number = search.lstrip("#")
        if number.isdigit():
            where.append("o.id = %s")
            args.append(int(number) if len(number) < 19 else 0)
        else:
            escaped = search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where.append("c.email LIKE %s")
            args.append(f"%{escaped}%")
    return where, args


def order_list(*, page: int, page_size: int, status: str | None, date_from: date | None, date_to: date | None,
               customer: str | None, search: str | None = None) -> list[dict]:
    where, args = _order_where(status, date_from, date_to, customer, search)
    rows = db.query(
        "SELECT o.id, o.created_at, o.gross_amount, o.status, o.transaction_status, o.payment_type, o.is_shipped,"
        " o.need_refund,"
        " c.email, CONCAT(c.first_name, ' ', c.last_name) AS customer_name,"
        " (SELECT COUNT(*) FROM order_items x WHERE x.order_refer = o.id) AS item_count,"
        " (SELECT x.on_buy_name FROM order_items x WHERE x.order_refer = o.id ORDER BY x.id LIMIT 1) AS product_name,"
        " (SELECT pi.id FROM order_items x JOIN product_images pi ON pi.product_refer = x.product_refer"
        "   WHERE x.order_refer = o.id ORDER BY x.id, pi.created_at, pi.id LIMIT 1) AS image_id"
        " FROM orders o JOIN customers c ON c.id = o.customer_refer WHERE " + " AND ".join(where) +
        " ORDER BY o.created_at DESC, o.id DESC LIMIT %s OFFSET %s", (*args, page_size, (page - 1) * page_size))
    return [{"id": int(r["id"]), "created_at": _date_text(r["created_at"]), "gross_amount": int(r["gross_amount"]),
             "status": r["status"], "wire_status": orders.wire_status(r), "item_count": int(r["item_count"]),
             "image": catalog.image_file(r["image_id"]),
             "product_name": r["product_name"] or "", "customer": r["customer_name"], "customer_email": r["email"],
             "shipped": bool(r["is_shipped"]), "need_refund": bool(r["need_refund"]),
             "transaction_status": r["transaction_status"] or "", "payment_type": r["payment_type"] or ""}
            for r in rows]


def order_totals(*, status: str | None, date_from: date | None, date_to: date | None, customer: str | None,
                 search: str | None = None) -> dict:
    """How many orders the staff filters match and their amount together (the order desk's pager and totals)."""
    where, args = _order_where(status, date_from, date_to, customer, search)
    row = db.query_one("SELECT COUNT(*) AS n, COALESCE(SUM(o.gross_amount), 0) AS amount FROM orders o"
                       " JOIN customers c ON c.id = o.customer_refer WHERE " + " AND ".join(where), tuple(args))
    return {"count": int(row["n"]), "gross_amount": int(row["amount"])}


def sales_per_day(days: int) -> list[dict]:
    """Orders paid and their revenue per UTC day for the last ``days`` days (today included, oldest first, every
    day present). An order counts on the day it was paid while it stays paid: cancelled, refunded and unpaid
    orders are not revenue; a partially refunded one counts with its full amount (the refund is Midtrans')."""
    today = db.query_one("SELECT UTC_DATE() AS d")["d"]
    first = today - timedelta(days=days - 1)
    paid = sorted(orders.PAID_STATES)
    rows = db.query("SELECT DATE(paid_at) AS d, COUNT(*) AS n, SUM(gross_amount) AS amount FROM orders"
                    f" WHERE paid_at >= %s AND status IN ({placeholders(len(paid))}) GROUP BY DATE(paid_at)",
                    (first, *paid))
    found = {r["d"]: r for r in rows}
    out = []
    for i in range(days):
        day = first + timedelta(days=i)
        row = found.get(day)
        out.append({"day": day.isoformat(), "orders": int(row["n"]) if row else 0,
                    "revenue": int(row["amount"]) if row else 0})
    return out


def order_detail(order_id: int) -> dict:
    row = db.query_one("SELECT o.*, c.email, CONCAT(c.first_name, ' ', c.last_name) AS customer_name FROM orders o"
                       " JOIN customers c ON c.id = o.customer_refer WHERE o.id = %s", (order_id,))
    if row is None:
        raise NotFound("order not found")
    items = db.query("SELECT id, product_refer, on_buy_name, on_buy_price, on_buy_weight, quantity FROM order_items"
                     " WHERE order_refer = %s ORDER BY id", (order_id,))
    history = db.query("SELECT from_status, to_status, actor_type, actor_id, note, created_at FROM"
                       " order_status_history WHERE order_refer = %s ORDER BY id", (order_id,))
    staff_names = _staff_names(h["actor_id"] for h in history if h["actor_type"] == orders.STAFF)
    return {
        "id": int(row["id"]), "status": row["status"], "wire_status": orders.wire_status(row),
        "transaction_status": row["transaction_status"] or "", "status_description": row["status_description"] or "",
        "payment_type": row["payment_type"] or "", "need_refund": bool(row["need_refund"]),
        "created_at": f"{row['created_at']:%Y-%m-%dT%H:%M:%SZ}", "customer": row["customer_name"],
        "customer_email": row["email"], "courier": row["courier_code"], "tracking_code": row["courier_tracking_code"] or "",
        "item_list": [{"order_id": int(i["id"]), "id": from_bin(i["product_refer"]), "name": i["on_buy_name"],
                       "price": int(i["on_buy_price"]), "weight": float(i["on_buy_weight"]),
                       "quantity": int(i["quantity"])} for i in items],
        "address_detail": {"recipient_name": row["ship_recipient_name"], "phone_number": row["ship_phone_number"],
                           "full_address": row["ship_full_address"], "shipping_area": row["ship_area_name"],
                           "postal_code": row["ship_postal_code"], "note": row["ship_note"] or ""},
        "item_cost": int(row["item_cost"]), "shipping_cost": int(row["freight_cost"]),
        "total_cost": int(row["gross_amount"]),
        "next": [t for t in STAFF_TARGETS if t in orders.TRANSITIONS.get(row["status"], ())],
        "paid_at": f"{row['paid_at']:%Y-%m-%dT%H:%M:%SZ}" if row.get("paid_at") else None,
        "status_history": [{"from": h["from_status"], "to": h["to_status"], "actor": h["actor_type"],
                            "actor_id": h["actor_id"], "actor_name": staff_names.get(h["actor_id"]),
                            "note": h["note"] or "",
                            "at": f"{h['created_at']:%Y-%m-%dT%H:%M:%SZ}"} for h in history],
    }


def _staff_names(actor_ids) -> dict:
    """{history actor_id: username} for the staff members named in an order's history (the desk shows who)."""
    ids = sorted({int(a) for a in actor_ids if a and str(a).isdigit()})
    if not ids:
        return {}
    rows = db.query(f"SELECT id, username FROM staffs WHERE id IN ({placeholders(len(ids))})", tuple(ids))
    return {str(r["id"]): r["username"] for r in rows}


STAFF_TARGETS = (orders.PACKED, orders.SHIPPED, orders.DELIVERED, orders.COMPLETED, orders.CANCELLED,
                 orders.REFUNDED)


def change_order_status(order_id: int, target: str, staff_id: int, tracking_code: str | None = None,
                        note: str | None = None) -> dict:
    if target == orders.SHIPPED and not tracking_code:
        raise BadRequest("tracking_code is required to mark an order shipped")
    updates = {"courier_tracking_code": tracking_code} if tracking_code else {}

    def move_order(tx):
        return orders.move(tx, order_id, target, actor_type=orders.STAFF, actor_id=staff_id, note=note,
                           updates=updates)

    return _run_move(move_order)


def ship(order_id: int, staff_id: int, tracking_code: str) -> dict:
    """v1's `POST inventory/ship`: the shipped transition (a paid order is packed on the way, both recorded)."""

    def pack_if_paid_then_ship(tx):
        row = orders.lock_order(tx, order_id)
        before, items = orders.AfterCommit(), None
        if row["status"] == orders.PAID:
            packed = orders.move(tx, order_id, orders.PACKED, actor_type=orders.STAFF, actor_id=staff_id, locked=row)
            before, items = packed.after, packed.items
        shipped = orders.move(tx, order_id, orders.SHIPPED, actor_type=orders.STAFF, actor_id=staff_id,
                              updates={"courier_tracking_code": tracking_code}, locked=row, items=items)
        return shipped._replace(after=before + shipped.after)

    return _run_move(pack_if_paid_then_ship)


def _run_move(move) -> dict:
    """Run ``move(tx) -> orders.Moved`` in one transaction, then its after-commit work (mail, caches)."""
    try:
        moved = db.run_in_transaction(move)
    except orders.OrderNotFound:
        raise NotFound("order not found") from None
    except orders.IllegalTransition as exc:
        raise Conflict(str(exc), code="illegal_transition", current_status=exc.current) from None
    moved.after.run()
    return {"id": int(moved.order["id"]), "status": moved.order["status"]}

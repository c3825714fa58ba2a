"""The customer account: profile (with a verified email change), addresses, wishlist, reviews and order history.
Every function takes the customer id from the access token; every query is scoped by it, so a customer can
never read or change another customer's rows (they simply do not exist for them: 404)."""
from __future__ import annotations

from omauth import codes, ratelimit, sessions
from omcommerce import cachekeys, catalog, notify, orders
from omcore import config
from omcore.errors import Conflict, NotFound, TooManyRequests, Unauthorized
from omcore.log import get_logger
from omdb import db
from omdb.errors import DuplicateKey, ForeignKeyViolation
from omdb.ids import from_bin, new_id, to_bin

log = get_logger("account")

# the columns the profile and address updates may write (the routes build the dicts; db.update refuses others)
PROFILE_COLUMNS = frozenset({"first_name", "last_name", "phone_number", "birth_date", "gender"})
ADDRESS_COLUMNS = frozenset({"label", "full_address", "note", "recipient_name", "phone_number",
                             "shipping_area_refer", "postal_code"})


def _date_text(value) -> str:
    return f"{value.day:02d} {value:%B %Y}"


def _rfc3339(value) -> str | None:
    return f"{value:%Y-%m-%d}T00:00:00Z" if value else None


# ---------------------------------------------------------------- profile

def profile(customer_id: str) -> dict:
    row = db.query_one("SELECT email, phone_number, first_name, last_name, birth_date, gender FROM customers"
                       " WHERE id = %s AND deleted_at IS NULL", (to_bin(customer_id),))
    if row is None:
        raise Unauthorized("not logged in or session expired")
    return {"email": row["email"], "phone_number": row["phone_number"] or "", "first_name": row["first_name"],
            "last_name": row["last_name"], "birth_date": _rfc3339(row["birth_date"]), "gender": row["gender"] or ""}


def update_profile(customer_id: str, changes: dict, new_email: str | None) -> dict:
    """Apply name/phone/birth date/gender at once; an email change only mails a code to the new address.
    Returns {"pending_email": ...} when a change awaits confirmation — also when the new address already belongs
    to an account (that address gets a notice instead of a code), so the answer never tells who is registered."""
    current = profile(customer_id)
    if changes:
        try:
            db.update("customers", changes, "id = %s", (to_bin(customer_id),), allowed=PROFILE_COLUMNS)
        except DuplicateKey as exc:
            raise Conflict("phone number already used by another account" if exc.key == "uq_customers_phone"
                           else "conflicts with another account") from None
    if new_email and new_email != current["email"]:
        wait = codes.throttle("email-change-mail", customer_id, config.get_int("MAIL_THROTTLE_SECONDS") // 5)
        if wait:
            raise TooManyRequests("a code was sent moments ago, please wait before asking again", retry_after=wait)
        if db.query_one("SELECT id FROM customers WHERE email = %s", (new_email,)):
            # same answer as for a free address; any earlier pending change is dropped, as a new code would
            codes.discard("email-change", customer_id)
            notify.account_mail("account.email_taken", new_email)
            return {"pending_email": new_email}
        if codes.locked("email-change", customer_id, _code_daily_limit()):
            return {"pending_email": new_email}  # past today's wrong-code cap: a code could not be used anyway
        ttl = config.get_int("EMAIL_CHANGE_CODE_TTL_SECONDS")
        code = codes.issue("email-change", customer_id, ttl,
                           {"email": new_email, "from": current["email"].strip().lower()}, address=new_email)
        notify.account_mail("account.email_change_code", new_email, code=code, minutes=notify.minutes(ttl))
        return {"pending_email": new_email}
    return {}


def _code_daily_limit() -> int:
    return config.get_int("CODE_FAIL_PER_ACCOUNT_DAY")


def confirm_email_change(customer_id: str, family: str | None, code, ip: str) -> dict:
    """Apply a pending email change with its code; then the OLD address is told (what, when, how to recover) and
    every other session of the customer ends (the caller's own, ``family``, stays)."""
    ratelimit.hit("code-ip", ip, limit=config.get_int("CODE_CHECK_PER_IP"),
                  window=config.get_int("CODE_CHECK_WINDOW_SECONDS"),
                  message="too many verification attempts from your network, please try again later")
    outcome, extra = codes.check("email-change", customer_id, code,
                                 max_attempts=config.get_int("CODE_MAX_ATTEMPTS"), daily_limit=_code_daily_limit())
    if outcome == codes.LOCKED:
        raise TooManyRequests("too many wrong codes for this account today, please try again later",
                              retry_after=codes.locked("email-change", customer_id, _code_daily_limit()) or codes.DAY)
    if outcome == codes.EXHAUSTED:
        raise TooManyRequests("too many wrong codes: ask for a new one", retry_after=60)
    old_email = profile(customer_id)["email"]
    if outcome != codes.OK or not extra.get("email") or extra.get("from") != old_email.strip().lower():
        # no code, or one asked for while the account had another address
        raise Unauthorized("Invalid verification code")
    try:
        db.execute("UPDATE customers SET email = %s, updated_at = UTC_TIMESTAMP(3) WHERE id = %s",
                   (extra["email"], to_bin(customer_id)))
    except DuplicateKey:
        # the address was registered after the code was mailed to it: only its owner can have the code
        raise Conflict("email already registered") from None
    # a reset code mailed to the old address, or any other pending code, opens nothing now
    codes.discard_account(customer_id, old_email, extra["email"])
    sessions.revoke_user(sessions.CUSTOMER, customer_id, except_family=family)
    _email_changed_notice(old_email)
    return profile(customer_id)


def _email_changed_notice(old_email: str) -> None:
    """To the old address: what, when and how to recover — and nothing of the new address (even a masked one
    helps whoever reads this mailbox to guess it)."""
    from datetime import datetime, timezone

    notify.account_mail("account.email_changed", old_email, old_email=old_email,
                        when=datetime.now(timezone.utc).strftime("%d %B %Y at %H:%M UTC"))


# ---------------------------------------------------------------- addresses

_ADDRESS_COLUMNS = ("a.id, a.label, a.full_address, a.note, a.recipient_name, a.phone_number, a.postal_code,"
                    " a.shipping_area_refer, s.full_name AS area_name")


def _address_public(row, detail: bool) -> dict:
    out = {"id": from_bin(row["id"]), "label": row["label"], "full_address": row["full_address"],
           "note": row["note"] or "", "recipient_name": row["recipient_name"], "phone_number": row["phone_number"]}
    if detail:
        out.update({"shipping_area": row["area_name"], "area_id": int(row["shipping_area_refer"]),
                    "postal_code": row["postal_code"]})
    return out


def addresses(customer_id: str) -> list[dict]:
    rows = db.query(f"SELECT {_ADDRESS_COLUMNS} FROM customer_addresses a JOIN shipping_areas s"
                    " ON s.id = a.shipping_area_refer WHERE a.customer_refer = %s ORDER BY a.created_at, a.id",
                    (to_bin(customer_id),))
    return [_address_public(r, False) for r in rows]


def address(customer_id: str, address_id) -> dict:
    row = db.query_one(f"SELECT {_ADDRESS_COLUMNS} FROM customer_addresses a JOIN shipping_areas s"
                       " ON s.id = a.shipping_area_refer WHERE a.id = %s AND a.customer_refer = %s",
                       (to_bin(address_id), to_bin(customer_id)))
    if row is None:
        raise NotFound("address not found")
    return _address_public(row, True)


def _conflict(message: str) -> Conflict:
    # the storefront's address modal reads `message`, other clients read `error`
    return Conflict(message, message=message)


def _check_area(area_id: int) -> None:
    if db.query_one("SELECT id FROM shipping_areas WHERE id = %s", (area_id,)) is None:
        raise _conflict("shipping area not found")


def create_address(customer_id: str, fields: dict) -> dict:
    _check_area(fields["shipping_area_refer"])
    limit = config.get_int("ADDRESS_MAX_PER_CUSTOMER")
    if db.query_one("SELECT COUNT(*) AS n FROM customer_addresses WHERE customer_refer = %s",
                    (to_bin(customer_id),))["n"] >= limit:
        raise _conflict(f"an account can keep at most {limit} addresses")
    address_id = new_id()
    try:
        db.execute("INSERT INTO customer_addresses (id, customer_refer, label, full_address, note, recipient_name,"
                   " phone_number, shipping_area_refer, postal_code) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                   (address_id.bytes, to_bin(customer_id), fields["label"], fields["full_address"], fields["note"],
                    fields["recipient_name"], fields["phone_number"], fields["shipping_area_refer"],
                    fields["postal_code"]))
    except DuplicateKey:
        raise _conflict("address already exists") from None
    return address(customer_id, address_id)


def update_address(customer_id: str, address_id, changes: dict) -> dict:
    address(customer_id, address_id)  # 404 unless it is this customer's
    if "shipping_area_refer" in changes:
        _check_area(changes["shipping_area_refer"])
    if changes:
        try:
            db.update("customer_addresses", changes, "id = %s AND customer_refer = %s",
                      (to_bin(address_id), to_bin(customer_id)), allowed=ADDRESS_COLUMNS)
        except DuplicateKey:
            raise _conflict("label already exist") from None
    return address(customer_id, address_id)


def delete_address(customer_id: str, address_id) -> None:
    # orders keep their own snapshot of the address, so deleting one never changes a past order
    done = db.execute("DELETE FROM customer_addresses WHERE id = %s AND customer_refer = %s",
                      (to_bin(address_id), to_bin(customer_id)))
    if done.rowcount == 0:
        raise NotFound("address not found")


# ---------------------------------------------------------------- wishlist

def wishlist(customer_id: str) -> list[dict]:
    sql = catalog.card_sql("FROM wishlists w JOIN products p ON p.id = w.product_refer AND p.deleted_at IS NULL"
                           " WHERE w.customer_refer = %s", "w.id")
    return [catalog.to_card(r) for r in db.query(sql, (*catalog.sold_args(), to_bin(customer_id)))]


def wishlist_state(customer_id: str, product_id) -> bool:
    return db.query_one("SELECT 1 AS ok FROM wishlists w JOIN products p ON p.id = w.product_refer"
                        " AND p.deleted_at IS NULL WHERE w.customer_refer = %s AND w.product_refer = %s",
                        (to_bin(customer_id), to_bin(product_id))) is not None


def wishlist_add(customer_id: str, product_id) -> None:
    if db.query_one("SELECT id FROM products WHERE id = %s AND deleted_at IS NULL", (to_bin(product_id),)) is None:
        raise NotFound("product not found")
    try:
        db.execute("INSERT INTO wishlists (product_refer, customer_refer) VALUES (%s, %s)",
                   (to_bin(product_id), to_bin(customer_id)))
    except DuplicateKey:
        raise Conflict("product already in wishlist") from None
    except ForeignKeyViolation:
        raise NotFound("product not found") from None


def wishlist_remove(customer_id: str, product_id) -> None:
    done = db.execute("DELETE FROM wishlists WHERE customer_refer = %s AND product_refer = %s",
                      (to_bin(customer_id), to_bin(product_id)))
    if done.rowcount == 0:
        raise NotFound("product not found in the wishlist")


# ---------------------------------------------------------------- reviews

REVIEWABLE = (orders.DELIVERED, orders.COMPLETED)


def _refresh_rating(tx, product_bin: bytes) -> None:
    """Keep products.cumulative_review/review_count equal to the real average/count (the product row is locked
    by the caller, so concurrent reviews of one product serialise here)."""
    stats = tx.query_one("SELECT COUNT(*) AS n, COALESCE(ROUND(AVG(rating), 1), 0) AS avg FROM reviews"
                         " WHERE product_refer = %s", (product_bin,))
    tx.execute("UPDATE products SET cumulative_review = %s, review_count = %s WHERE id = %s",
               (stats["avg"], stats["n"], product_bin))


def create_review(customer_id: str, order_item_id: int, rating: int, text: str | None) -> dict:
    def insert_review_and_rerate(tx):
        item = tx.query_one("SELECT oi.id, oi.product_refer, o.status FROM order_items oi JOIN orders o"
                            " ON o.id = oi.order_refer WHERE oi.id = %s AND o.customer_refer = %s",
                            (order_item_id, to_bin(customer_id)))
        if item is None:
            raise NotFound("order item not found")
        if item["status"] not in REVIEWABLE:
            raise Conflict("this item can be reviewed once the order is delivered")
        tx.query_one("SELECT id FROM products WHERE id = %s FOR UPDATE", (item["product_refer"],))
        review_id = new_id()
        try:
            tx.execute("INSERT INTO reviews (id, order_item_refer, product_refer, customer_refer, rating, review)"
                       " VALUES (%s, %s, %s, %s, %s, %s)",
                       (review_id.bytes, order_item_id, item["product_refer"], to_bin(customer_id), rating, text))
        except DuplicateKey:
            raise Conflict("you have already reviewed this item") from None
        _refresh_rating(tx, item["product_refer"])
        return str(review_id), from_bin(item["product_refer"])

    review_id, product_id = db.run_in_transaction(insert_review_and_rerate)
    cachekeys.invalidate_product(product_id)
    return {"id": review_id}


def _own_review(tx, customer_id: str, review_id) -> dict:
    row = tx.query_one("SELECT id, product_refer FROM reviews WHERE id = %s AND customer_refer = %s",
                       (to_bin(review_id), to_bin(customer_id)))
    if row is None:
        raise NotFound("review not found")
    tx.query_one("SELECT id FROM products WHERE id = %s FOR UPDATE", (row["product_refer"],))
    return row


def update_review(customer_id: str, review_id, rating: int | None, text) -> None:
    def edit_review_and_rerate(tx):
        row = _own_review(tx, customer_id, review_id)
        values = {}
        if rating is not None:
            values["rating"] = rating
        if text is not None:
            values["review"] = text or None
        if values:
            tx.update("reviews", values, "id = %s", (row["id"],), allowed=("rating", "review"))
            _refresh_rating(tx, row["product_refer"])
        return from_bin(row["product_refer"])

    cachekeys.invalidate_product(db.run_in_transaction(edit_review_and_rerate))


def delete_review(customer_id: str, review_id) -> None:
    def delete_review_and_rerate(tx):
        row = _own_review(tx, customer_id, review_id)
        tx.execute("DELETE FROM reviews WHERE id = %s", (row["id"],))
        _refresh_rating(tx, row["product_refer"])
        return from_bin(row["product_refer"])

    cachekeys.invalidate_product(db.run_in_transaction(delete_review_and_rerate))


def my_reviews(customer_id: str) -> list[dict]:
    rows = db.query("SELECT r.id, r.product_refer, r.rating, r.review, r.created_at, p.name,"
                    f" {catalog.first_image_sql('r.product_refer')} AS image_id FROM reviews r"
                    " JOIN products p ON p.id = r.product_refer WHERE r.customer_refer = %s"
                    " ORDER BY r.created_at DESC, r.id", (to_bin(customer_id),))
    return [{"id": from_bin(r["id"]), "product_id": from_bin(r["product_refer"]), "product_name": r["name"],
             "product_image": catalog.image_file(r["image_id"]), "rating": int(r["rating"]),
             "review": r["review"] or "",
             "created_at": _date_text(r["created_at"])} for r in rows]


# ---------------------------------------------------------------- orders

def order_list(customer_id: str, *, page: int | None = None, page_size: int | None = None) -> list[dict]:
    order_by = "o.created_at, o.id"
    limit = ""
    args: list = [to_bin(customer_id)]
    if page is not None:
        order_by = "o.created_at DESC, o.id DESC"
        limit = " LIMIT %s OFFSET %s"
        args += [page_size, (page - 1) * page_size]
    rows = db.query(
        "SELECT o.id, o.created_at, o.gross_amount, o.status, o.transaction_status,"
        " (SELECT COUNT(*) FROM order_items x WHERE x.order_refer = o.id) AS item_count,"
        " (SELECT x.on_buy_name FROM order_items x WHERE x.order_refer = o.id ORDER BY x.id LIMIT 1) AS product_name,"
        f" (SELECT {catalog.first_image_sql('x.product_refer')} FROM order_items x WHERE x.order_refer = o.id"
        "   ORDER BY x.id LIMIT 1) AS image_id,"
        " (SELECT COUNT(*) FROM order_items x LEFT JOIN reviews r ON r.order_item_refer = x.id"
        "   WHERE x.order_refer = o.id AND r.id IS NULL) AS unreviewed"
        f" FROM orders o WHERE o.customer_refer = %s ORDER BY {order_by}{limit}", args)
    return [{"id": int(r["id"]), "created_at": _date_text(r["created_at"]),
             "gross_amount": int(r["gross_amount"]), "status": orders.wire_status(r),
             "item_count": int(r["item_count"]), "image": catalog.image_file(r["image_id"]),
             "product_name": r["product_name"] or "", "reviewed": int(r["unreviewed"]) == 0} for r in rows]


def payment_possible(row: dict) -> bool:
    from datetime import datetime, timezone

    if row["status"] != orders.AWAITING_PAYMENT or not row["payment_redirect_url"]:
        return False
    expires = row["payment_expires_at"]
    return expires is None or expires > datetime.now(timezone.utc).replace(tzinfo=None)


def order_detail(customer_id: str, order_id: int) -> dict:
    row = db.query_one("SELECT * FROM orders WHERE id = %s AND customer_refer = %s", (order_id, to_bin(customer_id)))
    if row is None:
        raise NotFound("order not found")
    items = db.query(
        f"SELECT oi.id, oi.product_refer, oi.on_buy_name, oi.on_buy_price, oi.quantity, r.id AS review_id,"
        f" {catalog.first_image_sql('oi.product_refer')} AS image_id FROM order_items oi"
        " LEFT JOIN reviews r ON r.order_item_refer = oi.id WHERE oi.order_refer = %s ORDER BY oi.id", (order_id,))
    history = db.query("SELECT to_status, created_at FROM order_status_history WHERE order_refer = %s ORDER BY id",
                       (order_id,))
    detail = {
        "id": int(row["id"]),
        "status": orders.wire_status(row),
        "status_description": row["status_description"] or "",
        "payment_type": row["payment_type"] or "",
        "created_at": _date_text(row["created_at"]),
        "item_list": [{"order_id": int(i["id"]), "id": from_bin(i["product_refer"]), "name": i["on_buy_name"],
                       "price": int(i["on_buy_price"]), "image": catalog.image_file(i["image_id"]),
                       "quantity": int(i["quantity"]),
                       "reviewed": i["review_id"] is not None} for i in items],
        "courier": row["courier_code"],
        "tracking_code": row["courier_tracking_code"] or "",
        "address_detail": {"recipient_name": row["ship_recipient_name"], "phone_number": row["ship_phone_number"],
                           "full_address": row["ship_full_address"], "shipping_area": row["ship_area_name"],
                           "postal_code": row["ship_postal_code"]},
        "item_cost": int(row["item_cost"]),
        "shipping_cost": int(row["freight_cost"]),
        "total_cost": int(row["gross_amount"]),
        "status_history": [{"status": h["to_status"], "at": f"{h['created_at']:%Y-%m-%dT%H:%M:%SZ}"}
                           for h in history],
    }
    if payment_possible(row):
        detail["payment_url"] = row["payment_redirect_url"]
    return detail

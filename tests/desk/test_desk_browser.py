"""The order desk and the customer's reset page driven in headless Chromium, as a shop owner and a customer use
them: the real pages, the real API behind them on the same origin (in-process WSGI or, with OM_PARITY=1, the
container entrypoint)."""
import re

from omdb import db

from support import (
    DEFAULT_PASSWORD,
    create_customer,
    create_order,
    create_product,
    create_staff,
    login_customer,
    login_staff,
)

ORDER = "/api/v1/staff/dashboard/inventory/order"


def paid_order(customer_id: str, product_id: str, quantity: int = 2) -> int:
    """An order Midtrans confirmed as paid (status, payment facts and the history row the webhook writes)."""
    order_id = create_order(customer_id, [(product_id, quantity)], status="paid")
    db.execute("UPDATE orders SET transaction_status = 'settlement', payment_type = 'bank_transfer',"
               " paid_at = UTC_TIMESTAMP(3) WHERE id = %s", (order_id,))
    db.execute("INSERT INTO order_status_history (order_refer, from_status, to_status, actor_type)"
               " VALUES (%s, 'awaiting_payment', 'paid', 'midtrans')", (order_id,))
    return order_id


def staff_login(page, username="clerk", password=DEFAULT_PASSWORD):
    page.goto("/desk")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.locator("#order-filter").wait_for()


def confirm(page):
    page.locator("#confirm-yes").click()


def test_a_clerk_finds_a_paid_order_by_email_packs_and_ships_it_and_the_customer_sees_the_tracking(
        page, shot, api):
    create_staff("clerk", inv=True)
    buyer = create_customer("siti@example.com", first_name="Siti", last_name="Rahma")
    other = create_customer("budi@example.com")
    pid = create_product("Kopi Gayo", price=50000, stock=10)
    order_id = paid_order(buyer, pid)
    paid_order(other, pid, 1)

    page.goto("/desk")
    page.get_by_label("Username").wait_for()
    shot(page, "01-login")
    staff_login(page)
    page.locator("#order-table").wait_for()
    assert not page.locator("#nav-staff").is_visible()  # staff accounts are a sys_admin's screen
    shot(page, "02-orders")

    # search by the customer's email: only her order is listed, with its payment state from Midtrans
    page.get_by_label("Order number or customer email").fill("siti@example")
    page.get_by_role("button", name="Search").click()
    page.locator("#order-totals").filter(has_text="1 order").wait_for()
    rows = page.locator("#order-table tbody tr")
    assert rows.count() == 1
    assert "settlement" in rows.first.inner_text() and "Siti Rahma" in rows.first.inner_text()
    shot(page, "03-orders-search")

    rows.first.get_by_role("link", name=f"#{order_id}").click()
    page.locator("#order-actions").wait_for()
    assert page.locator("#payment-state").inner_text() == "settlement"
    offered = page.locator("#order-actions [data-action]").evaluate_all("els => els.map(e => e.dataset.action)")
    assert offered == ["packed", "refunded"]  # what the state machine allows a paid order: no ship, no deliver
    shot(page, "04-order-paid")

    page.get_by_role("button", name="Mark packed").click()
    page.locator("#confirm").wait_for()
    shot(page, "05-confirm-pack")
    confirm(page)
    page.locator("#feedback").filter(has_text="is packed now").wait_for()

    page.get_by_label("Tracking number").fill("JNT-0042-XY")
    page.get_by_role("button", name="Ship").click()
    confirm(page)
    page.locator("#feedback").filter(has_text="is shipped now").wait_for()
    assert page.locator("#tracking").inner_text() == "JNT-0042-XY"
    history = page.locator("#history tbody tr")
    assert history.count() == 3
    assert "staff clerk" in history.nth(1).inner_text() and "staff clerk" in history.nth(2).inner_text()
    assert "Midtrans" in history.nth(0).inner_text()
    shot(page, "06-order-shipped")

    page.locator("#slip-link").click()
    page.locator("#slip").wait_for()
    assert "JNT-0042-XY" in page.locator("#slip").inner_text()
    shot(page, "07-packing-slip")
    page.emulate_media(media="print")
    assert not page.locator("header.bar").is_visible() and not page.locator("#print").is_visible()
    shot(page, "08-packing-slip-print")
    assert not page.problems, page.problems

    # the customer's own order API shows the tracking number now
    login_customer(api, "siti@example.com")
    mine = api.get(f"/api/v1/customer/order?id={order_id}")
    assert mine.status == 200, mine
    assert mine.json["tracking_code"] == "JNT-0042-XY" and mine.json["status"] == "shipped"


def test_an_illegal_move_is_not_offered_and_a_forced_one_shows_the_apis_refusal(page, shot, make_api):
    create_staff("clerk", inv=True)
    buyer = create_customer("siti@example.com")
    pid = create_product("Kopi Gayo", stock=10)
    order_id = paid_order(buyer, pid)
    delivered = create_order(buyer, [(pid, 1)], status="completed")

    staff_login(page)
    page.goto(f"/desk#/order/{delivered}")
    page.locator("#order-actions, #no-actions").first.wait_for()
    assert page.locator("[data-action=shipped], [data-action=packed], [data-action=cancelled]").count() == 0

    # a stale page: it offers "Mark packed", but another clerk packs the order meanwhile
    page.goto(f"/desk#/order/{order_id}")
    page.locator("[data-action=packed]").wait_for()
    other = make_api()
    login_staff(other)
    assert other.patch(ORDER, json={"id": order_id, "status": "packed"}).status == 200
    page.get_by_role("button", name="Mark packed").click()
    confirm(page)
    refusal = page.locator("#feedback [role=alert]")
    refusal.wait_for()
    assert "cannot move an order from packed to packed" in refusal.inner_text()
    assert "the order is packed now" in refusal.inner_text()
    # and the page shows the order as it is now, with what may be done from there
    page.locator("#order-actions [data-action=shipped]").wait_for()
    assert page.locator("h1 .badge").inner_text() == "packed"
    shot(page, "09-stale-refused")

    # forced from the page's own context (same origin, the clerk's cookies): the API refuses a skip to delivered
    answer = page.evaluate("""async (id) => {
        const r = await fetch('/api/v1/staff/dashboard/inventory/order', {method: 'PATCH',
            headers: {'Content-Type': 'application/json'}, body: JSON.stringify({id, status: 'delivered'})});
        return {status: r.status, body: await r.json()};
    }""", delivered)
    assert answer["status"] == 409 and "cannot move an order from completed to delivered" in answer["body"]["error"]
    assert db.query_one("SELECT status FROM orders WHERE id = %s", (delivered,))["status"] == "completed"
    assert not page.problems, page.problems


def test_a_member_without_an_order_role_is_told_why_in_words(page, shot):
    create_staff("banners", sys=False, inv=False, fin=False)
    staff_login_any(page, "banners")
    alert = page.locator("[role=alert]").first
    alert.wait_for()
    assert "needs the inv_user or fin_user role" in alert.inner_text()
    shot(page, "10-no-role")


def staff_login_any(page, username):
    page.goto("/desk")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_sales_chart_and_staff_accounts_for_a_sys_admin(page, shot, make_api):
    create_staff("owner", inv=True, sys=True)
    buyer = create_customer("siti@example.com")
    pid = create_product("Kopi Gayo", price=40000, stock=50)
    for days_ago, quantity in ((0, 1), (0, 2), (3, 1), (12, 4)):
        order_id = paid_order(buyer, pid, quantity)
        db.execute("UPDATE orders SET paid_at = UTC_TIMESTAMP(3) - INTERVAL %s DAY WHERE id = %s",
                   (days_ago, order_id))
    create_order(buyer, [(pid, 1)], status="cancelled")

    staff_login(page, "owner")
    page.get_by_role("link", name="Sales").click()
    page.locator("#sales-chart").wait_for()
    assert page.locator("#sales-chart rect.bar").count() == 30
    assert "4 paid orders" in page.locator("#sales-totals").inner_text()
    shot(page, "11-sales")

    page.get_by_role("link", name="Staff accounts").click()
    page.locator("#staff-table").wait_for()
    form = page.locator("#create-staff")
    form.get_by_label("Username").fill("gudang")
    form.get_by_label("Name", exact=True).fill("Gudang Satu")
    form.get_by_label("First password").fill("Gudang#2026")
    form.get_by_label("Inventory and orders").check()
    form.get_by_role("button", name="Create").click()
    page.locator("#feedback").filter(has_text="gudang can log in now").wait_for()
    shot(page, "12-staff")

    row = page.locator("tr[data-member=gudang]")
    row.get_by_label("Finance (orders)").check()
    row.get_by_role("button", name="Save roles").click()
    page.locator("#feedback").filter(has_text="Roles of gudang saved").wait_for()
    member = db.query_one("SELECT fin_user, inv_user, sys_admin FROM staffs WHERE username = 'gudang'")
    assert (member["fin_user"], member["inv_user"], member["sys_admin"]) == (1, 1, 0)

    row = page.locator("tr[data-member=gudang]")
    row.get_by_label("New password").fill("weak")
    row.get_by_role("button", name="Set password").click()
    confirm(page)
    assert "Password of gudang not set" in page.locator("#feedback [role=alert]").inner_text()
    row = page.locator("tr[data-member=gudang]")
    row.get_by_label("New password").fill("Baru#Sekali9")
    row.get_by_role("button", name="Set password").click()
    confirm(page)
    page.locator("#feedback").filter(has_text="New password set for gudang").wait_for()
    fresh = make_api()
    assert fresh.post("/api/v1/staff/auth/login", json={"username": "gudang", "password": "Baru#Sekali9"}).status == 200

    # the super admin (created at the first staff login) has a password only it may set: the 403 in words
    assert db.query_one("SELECT id FROM staffs WHERE username = 'admin'") is not None
    row = page.locator("tr[data-member=admin]")
    row.get_by_label("New password").fill("Takeover#123")
    row.get_by_role("button", name="Set password").click()
    confirm(page)
    alert = page.locator("#feedback [role=alert]")
    alert.wait_for()
    assert "Password of admin not set" in alert.inner_text() and "super admin" in alert.inner_text()
    shot(page, "13-staff-super-admin-refused")
    assert not page.problems, page.problems


def test_the_desk_fits_a_phone(browser, site, shot):
    create_staff("clerk", inv=True)
    buyer = create_customer("siti@example.com", first_name="Siti", last_name="Rahma")
    pid = create_product("Kopi Gayo Premium Grade 1 (Wine Process)", stock=10)
    order_id = paid_order(buyer, pid)
    context = browser.new_context(base_url=site, viewport={"width": 375, "height": 740}, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    try:
        staff_login(page)
        page.locator("#order-table").wait_for()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the order list is {width}px wide in a 375px window"
        shot(page, "14-phone-orders")
        page.goto(f"/desk#/order/{order_id}")
        page.locator("#order-actions").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        shot(page, "15-phone-order")
        # keyboard only: Tab reaches the first action and Enter opens the confirmation
        page.locator("[data-action=packed]").focus()
        page.keyboard.press("Enter")
        assert page.locator("#confirm").is_visible()
        page.keyboard.press("Escape")
    finally:
        context.close()


def test_a_customer_resets_the_password_through_the_pages_and_logs_in_with_it(page, shot, outbox, make_api):
    create_customer("siti@example.com", first_name="Siti")
    page.goto("/account/reset")
    shot(page, "16-reset-email")
    page.get_by_label("Email address").fill("siti@example.com")
    page.get_by_role("button", name="Send the code").click()
    page.get_by_label("Code from the email").wait_for()
    shot(page, "17-reset-code")

    text = outbox.last_text("siti@example.com")
    assert "/account/reset" in text  # the mail leads to this page
    code = outbox.last_code("siti@example.com")
    wrong = "100000" if code != "100000" else "100001"
    page.get_by_label("Code from the email").fill(wrong)
    page.get_by_label("New password", exact=True).fill("Baru#Sekali9")
    page.get_by_label("New password again").fill("Baru#Sekali9")
    page.get_by_role("button", name="Set the new password").click()
    alert = page.locator("#messages [role=alert]")
    alert.wait_for()
    assert re.search(r"code", alert.inner_text(), re.I)
    shot(page, "18-reset-wrong-code")

    page.get_by_label("Code from the email").fill(code)
    page.get_by_role("button", name="Set the new password").click()
    page.locator("#done").wait_for()
    shot(page, "19-reset-done")
    assert not page.problems, page.problems

    client = make_api()
    assert client.post("/api/v1/auth/login", json={"email": "siti@example.com", "password": DEFAULT_PASSWORD,
                                                   "remember_me": False}).status == 401
    login_customer(client, "siti@example.com", "Baru#Sekali9")


def test_a_member_logged_in_on_the_staff_host_goes_straight_to_the_pages_and_through_many_orders(page, shot):
    create_staff("clerk", inv=True)
    buyer = create_customer("siti@example.com")
    pid = create_product(stock=100)
    ids = [paid_order(buyer, pid, 1) for _ in range(21)]

    # logged in by the v1 dashboard on this host: the same cookies, no second login
    assert page.request.post("/api/v1/staff/auth/login",
                             data={"username": "clerk", "password": DEFAULT_PASSWORD}).status == 200
    page.goto("/desk#/orders?status=paid")
    page.locator("#order-table").wait_for()
    assert page.locator("#login-form").count() == 0
    assert page.locator("#order-table tbody tr").count() == 20
    assert page.locator("#order-table tbody tr").first.get_attribute("data-order") == str(ids[-1])  # newest first
    assert "21 orders" in page.locator("#order-totals").inner_text()
    assert "Page 1 of 2" in page.locator("nav.pager").inner_text()
    page.get_by_role("link", name="Older →").click()
    page.locator("nav.pager").filter(has_text="Page 2 of 2").wait_for()
    assert page.locator("#order-table tbody tr").count() == 1
    assert page.locator("#order-table tbody tr").first.get_attribute("data-order") == str(ids[0])
    shot(page, "20-orders-page-2")

    # the access cookie lost (expired): the desk refreshes once and carries on
    page.context.clear_cookies(name="ac_stf")
    page.goto("/desk#/order/" + str(ids[0]))
    page.locator("#order-actions").wait_for()
    assert any(c["name"] == "ac_stf" for c in page.context.cookies())

    # logged out: back to the login form
    page.get_by_role("button", name="Log out").click()
    page.locator("#login-form").wait_for()
    page.goto("/desk#/orders")
    page.locator("#login-form").wait_for()
    assert not page.problems, page.problems

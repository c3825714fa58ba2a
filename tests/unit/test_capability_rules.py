"""Each capability's rules that need no service, checked in milliseconds before the HTTP tier: search words
(catalogue), the password rule (auth, staff_auth), the webhook's amount comparison (payments), staff order moves
(backoffice), the masked address of the email-change notice (account), the error codes' defaults (every route)."""
import pytest

from omcore import errors
from omcore.errors import BadRequest, Conflict, TooManyRequests


def test_search_words_drop_every_operator_character_and_are_capped():
    from functions.catalogue.service import like_escape, tokens

    assert tokens('Kopi +"Gayo"* -arabika (100%) _x_') == ["kopi", "gayo", "arabika", "100", "_x_"]
    assert all(not set(word) & set('+-<>()~*"@%') for word in tokens('a+b -c "d" e* (f) ~g <h> i@j 5% k_l'))
    assert len(tokens(" ".join(f"w{i}" for i in range(20)))) == 8
    assert like_escape("50%_off\\") == "50\\%\\_off\\\\"  # what is kept ("_") is escaped for LIKE


@pytest.mark.parametrize("password,ok", [
    ("Secret#123", True), ("secret#123", False), ("SECRET#123", False), ("Secret#abc", False), ("Secret1234", False),
    ("Se#1", False), ("Sécret#123", True), ("A1#" + "a" * 70, False), (None, False), ("Secret#12\x00", False)])
def test_the_password_rule(password, ok):
    from omauth.passwords import check_password_rule, password_problem

    assert (password_problem(password) is None) == ok
    if not ok:
        with pytest.raises(BadRequest):
            check_password_rule(password)


@pytest.mark.parametrize("value,total,same", [
    ("116000.00", 116000, True), ("116000", 116000, True), (116000, 116000, True), (116000.0, 116000, True),
    ("116000.01", 116000, False), ("1.16e5", 116000, True), ("abc", 116000, False), (True, 1, False),
    (None, 116000, False), ([116000], 116000, False)])
def test_the_webhook_compares_amounts_exactly(value, total, same):
    from functions.payments.service import _same_amount

    assert _same_amount(value, total) is same


def test_the_webhook_refuses_a_notification_without_its_required_fields():
    from functions.payments import routes, service

    assert routes.NOTIFICATION["required"] == list(service.REQUIRED)  # written once, in the service


def test_staff_may_only_aim_at_fulfilment_states_and_shipping_needs_a_tracking_code():
    from omcommerce import orders

    from functions.backoffice import service

    assert orders.PAID not in service.STAFF_TARGETS and orders.AWAITING_PAYMENT not in service.STAFF_TARGETS
    with pytest.raises(BadRequest):  # refused before any database work
        service.change_order_status(1, orders.SHIPPED, staff_id=1, tracking_code=None)


def test_the_email_change_notice_names_nothing_of_the_new_address():
    from omcommerce import notify

    message = notify.render("account.email_changed", "old@example.com", old_email="old@example.com",
                            when="03 December 2026 at 10:00 UTC", new_email="sebastian@example.net")
    assert "old@example.com" in message.text and "another address" in message.text
    assert "sebastian" not in message.text and "example.net" not in message.text and "***" not in message.text


@pytest.mark.parametrize("exc,status,code", [
    (BadRequest("x"), 400, "bad_request"), (errors.Unauthorized("x"), 401, "unauthorized"),
    (errors.Forbidden("x"), 403, "forbidden"), (errors.NotFound("x"), 404, "not_found"),
    (Conflict("x"), 409, "conflict"), (errors.PayloadTooLarge("x"), 413, "payload_too_large"),
    (errors.ApiError("x", status=422), 422, "unprocessable"), (TooManyRequests("x", retry_after=5), 429, "rate_limited"),
    (errors.BadGateway("x"), 502, "bad_gateway"), (errors.ServiceUnavailable(), 503, "unavailable"),
    (Conflict("x", code="out_of_stock"), 409, "out_of_stock"),
    (TooManyRequests("x", retry_after=5, code="code_locked"), 429, "code_locked"),
])
def test_every_error_has_a_code_the_status_default_unless_given(exc, status, code):
    assert (exc.status, exc.code) == (status, code)
    assert "code" not in exc.extra


def test_a_code_is_never_part_of_the_extra_keys():
    exc = Conflict("x", code="cart_changed", products=[1])
    assert exc.extra == {"products": [1]} and exc.code == "cart_changed"

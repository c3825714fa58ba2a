"""``omdb.sql`` / ``db.update``: the one dict-to-UPDATE builder and its column allow-list, and the one ``IN (...)``
placeholder list. The statements are checked as built (no database needed)."""
import pytest

from omdb import db, sql
from omdb.sql import NOW, placeholders, update_statement


def test_an_update_sets_only_the_given_columns_in_order_and_touches_updated_at():
    statement, args = update_statement("customers", {"first_name": "Budi", "gender": "male"}, "id = %s", (b"x",),
                                       allowed={"first_name", "last_name", "gender"})
    assert statement == ("UPDATE customers SET first_name = %s, gender = %s, updated_at = UTC_TIMESTAMP(3)"
                         " WHERE id = %s")
    assert args == ("Budi", "male", b"x")


@pytest.mark.parametrize("column", ["is_admin", "hashed_password", "id = 1, name", "name`", ""])
def test_a_column_outside_the_allow_list_is_refused(column):
    with pytest.raises(ValueError, match="may not be set"):
        update_statement("customers", {"first_name": "Budi", column: "x"}, "id = %s", (1,),
                         allowed={"first_name"})


def test_an_allow_listed_name_that_is_not_an_identifier_is_still_refused():
    # a careless caller that allow-lists whatever it was given still cannot smuggle SQL into the SET list
    evil = "name = 'x', is_admin"
    with pytest.raises(ValueError):
        update_statement("staffs", {evil: 1}, "id = %s", (1,), allowed={evil})


@pytest.mark.parametrize("table", ["orders; DROP TABLE x", "", "a b", "orders`"])
def test_the_table_must_be_a_plain_name(table):
    with pytest.raises(ValueError, match="table"):
        update_statement(table, {"status": "paid"}, "id = %s", (1,), allowed={"status"})


def test_a_where_condition_is_required():
    with pytest.raises(ValueError, match="WHERE"):
        update_statement("orders", {"status": "paid"}, " ", (), allowed={"status"})


def test_nothing_to_change_builds_nothing_and_runs_nothing():
    assert update_statement("customers", {}, "id = %s", (1,), allowed={"first_name"}) is None
    # the module-level helper answers without reaching for a connection (this tier has no database)
    assert db.update("customers", {}, "id = %s", (1,), allowed={"first_name"}).rowcount == 0


def test_now_writes_the_server_clock_and_touch_can_be_changed_or_dropped():
    statement, args = update_statement("orders", {"status": "paid", "paid_at": NOW}, "id = %s", (7,),
                                       allowed={"status", "paid_at"}, touch=None)
    assert statement == "UPDATE orders SET status = %s, paid_at = UTC_TIMESTAMP(3) WHERE id = %s"
    assert args == ("paid", 7)
    statement, _ = update_statement("t", {"a": 1}, "id = %s", (1,), allowed={"a"}, touch="changed_at")
    assert statement.endswith("a = %s, changed_at = UTC_TIMESTAMP(3) WHERE id = %s")


def test_an_explicit_updated_at_is_not_written_twice():
    statement, args = update_statement("categories", {"updated_at": None}, "id = %s", (3,), allowed={"updated_at"})
    assert statement == "UPDATE categories SET updated_at = %s WHERE id = %s" and args == (None, 3)


def test_a_transaction_runs_the_built_statement():
    ran = []

    class Tx(db.Transaction):
        def execute(self, statement, args=None):
            ran.append((statement, args))
            return db.Result(1, None)

    result = Tx(conn=None).update("reviews", {"rating": 4}, "id = %s", (b"r",), allowed=("rating", "review"))
    assert result.rowcount == 1
    assert ran == [("UPDATE reviews SET rating = %s, updated_at = UTC_TIMESTAMP(3) WHERE id = %s", (4, b"r"))]
    with pytest.raises(ValueError):
        Tx(conn=None).update("reviews", {"customer_refer": b"c"}, "id = %s", (b"r",), allowed=("rating",))
    assert len(ran) == 1


def test_placeholders_for_in_lists():
    assert placeholders(1) == "%s"
    assert placeholders(3) == "%s,%s,%s"
    assert db.placeholders is sql.placeholders
    for bad in (0, -1, True, "3"):
        with pytest.raises(ValueError):
            placeholders(bad)

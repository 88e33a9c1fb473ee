"""The SQL reading of DROP statements names what each drops: a type or a domain (pglast gives a TypeName, not a
list of strings) by its own name, as a table, an index or a function is, without schema or quotes."""

from __future__ import annotations

import pytest

from analyzers.facts.model import Span
from analyzers.facts.sql import parse_statements


@pytest.mark.parametrize("sql, kind, names", [
    ('DROP TYPE IF EXISTS public."Mood", size_kind CASCADE', "OBJECT_TYPE", ["Mood", "size_kind"]),
    ("DROP DOMAIN postal_code", "OBJECT_DOMAIN", ["postal_code"]),
    ("DROP TABLE app.orders", "OBJECT_TABLE", ["orders"]),
    ("DROP INDEX IF EXISTS ix_orders_day", "OBJECT_INDEX", ["ix_orders_day"]),
    ("DROP FUNCTION touch_row(integer)", "OBJECT_FUNCTION", ["touch_row"]),
])
def test_drop_names(sql, kind, names):
    (st,), error = parse_statements(sql, Span("migrations/versions/0001_a.py", 5, 5))
    assert error is None and st.kind == "drop"
    assert st.details["type"] == kind and st.details["names"] == names

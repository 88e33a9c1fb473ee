"""MIG007 weighs the table's growth (analyzers/rules/growth.py): an index built without CONCURRENTLY on a table the
application adds rows to is a warning; on one nothing in the application adds rows to (settings, a catalog the
migrations seed), the build is as short as the rows it was given: info, saying what was seen. Our own fixtures."""

from __future__ import annotations

from analyzers.findings import Severity
from analyzers.rules.examples_common import HEADER
from analyzers.rules.s03_migration_safety import later
from tests.test_precision import found

_MODELS = HEADER + '''
class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None]
    total: Mapped[int | None]
    note: Mapped[str | None]
'''
_CHECKOUT = '''
from app.models import Order

def checkout(session, customer_id, total):
    session.add(Order(customer_id=customer_id, total=total))
'''


def _files(step: str, *, grows: bool) -> dict[str, str]:
    files = {**later(step), "app/models.py": _MODELS}
    return {**files, "app/checkout.py": _CHECKOUT} if grows else files


def test_an_index_on_a_table_the_application_adds_rows_to_is_a_warning(tmp_path):
    (f,) = found(tmp_path, _files('op.create_index("ix_orders_total", "orders", ["total"])', grows=True), "MIG007")
    assert (f.severity, f.anchor) == (Severity.WARNING, "migration:0002:index:orders:ix_orders_total")
    assert "grow" not in f.message


def test_an_index_on_a_table_nothing_adds_rows_to_is_info_that_says_what_was_seen(tmp_path):
    (f,) = found(tmp_path, _files('op.create_index("ix_orders_total", "orders", ["total"])', grows=False), "MIG007")
    assert (f.severity, f.location.path, f.anchor) == (
        Severity.INFO, "migrations/versions/0002_change.py", "migration:0002:index:orders:ix_orders_total")
    assert f.message.endswith("so writes to it wait for the whole build (SHARE lock); but dbreview found no application "
                              "code that adds rows to orders (no Order constructed, no insert into it): a table that does "
                              "not grow with use holds what it was given, and its build lasts as long as those rows take")


def test_a_unique_constraint_on_a_table_nothing_adds_rows_to_is_info(tmp_path):
    step = 'op.create_unique_constraint("uq_orders_note", "orders", ["note"])'
    (f,) = found(tmp_path, _files(step, grows=False), "MIG007")
    assert f.severity == Severity.INFO and "no Order constructed" in f.message
    (f,) = found(tmp_path, _files(step, grows=True), "MIG007")
    assert f.severity == Severity.WARNING


def test_a_table_whose_class_name_another_table_shares_is_not_said_to_stay_small(tmp_path):
    """Which of the two the code constructs dbreview cannot tell: it claims nothing of either's growth."""
    legacy = HEADER + '''
class Order(Base):
    __tablename__ = "legacy_orders"
    id: Mapped[int] = mapped_column(primary_key=True)
'''
    files = {**_files('op.create_index("ix_orders_total", "orders", ["total"])', grows=False), "legacy/models.py": legacy}
    (f,) = found(tmp_path, files, "MIG007")
    assert f.severity == Severity.WARNING and "grow" not in f.message

"""Money columns whose scale does nothing (BIL006) and financial records deleted with the account (BIL007): each
case a small repository of our own, with the exact finding (or its absence) pinned."""

from __future__ import annotations

from analyzers.findings import Severity
from analyzers.engine import scan
from tests.test_precision import HEADER, _write, found, revision

_PRICES = HEADER + """
from sqlalchemy import DECIMAL, Numeric

class Price(Base):
    __tablename__ = "prices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    amount = mapped_column(Numeric(scale=2))
    ratio = mapped_column(Numeric(None, 4))
    tax = mapped_column(DECIMAL(scale=2))
    total = mapped_column(Numeric(12, 2))
    weight = mapped_column(Numeric(10))
"""


def _billing(models: str) -> dict[str, str]:
    """A schema that bills (item 10.2 applies): an invoices table beside the models."""
    return {"app/models.py": models + """
class Invoice(Base):
    __tablename__ = "invoices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
"""}


def test_a_scale_without_precision_is_reported_at_the_model_when_no_migration_builds_it(tmp_path):
    got = {f.anchor: f for f in found(tmp_path, _billing(_PRICES), "BIL006")}
    assert set(got) == {"table:prices.amount", "table:prices.ratio", "table:prices.tax"}
    amount = got["table:prices.amount"]
    assert (amount.severity, amount.item_id, amount.location.start_line) == (Severity.WARNING, "10.2", 16)
    assert amount.message.startswith("prices.amount is declared Numeric with scale 2 and no precision: SQLAlchemy "
                                     "renders plain NUMERIC, so the scale does nothing")
    assert "fractions of a cent" in amount.message and "`Numeric(12, 2)`" in amount.message
    ratio = got["table:prices.ratio"]
    assert (ratio.severity, ratio.item_id) == (Severity.INFO, "5.6") and "fractions of a cent" not in ratio.message
    assert "renders plain DECIMAL" in got["table:prices.tax"].message


def test_the_migration_decides_where_there_is_one(tmp_path):
    models = HEADER + """
from sqlalchemy import Numeric

class Payment(Base):
    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    price_in_usd = mapped_column(Numeric(scale=2))
    fee = mapped_column(Numeric(scale=2))
"""
    upgrade = '''
op.create_table(
    "payments",
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("price_in_usd", sa.Numeric(None, 2)),
    sa.Column("fee", sa.Numeric(12, 2)),
)
'''
    (f,) = found(tmp_path, {"app/models.py": models, "migrations/versions/0001_a.py": revision(upgrade)}, "BIL006")
    assert (f.location.path, f.location.start_line, f.severity) == ("migrations/versions/0001_a.py", 10, Severity.WARNING)
    assert f.anchor == "table:payments.price_in_usd"
    assert [(r.location.path, r.location.start_line) for r in f.related] == [("app/models.py", 16)]


_ACCOUNTS = HEADER + """
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
{user_extra}

class Organization(Base):
    __tablename__ = "organizations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoices = relationship("Invoice", cascade="all, delete-orphan")
    payment_methods = relationship("PaymentMethod", cascade="all, delete-orphan")

class Invoice(Base):
    __tablename__ = "invoices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    total: Mapped[int] = mapped_column(Integer)

class InvoiceItem(Base):
    __tablename__ = "invoice_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    amount: Mapped[int] = mapped_column(Integer)

class Payment(Base):
    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    amount: Mapped[int] = mapped_column(Integer)

class PaymentMethod(Base):
    __tablename__ = "payment_methods"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    card_last4: Mapped[str] = mapped_column(String(4))
"""


def test_cascades_from_the_account_into_money_that_moved_are_warnings(tmp_path):
    got = {f.anchor: f for f in found(tmp_path, {"app/models.py": _ACCOUNTS.format(user_extra="")}, "BIL007")}
    assert set(got) == {"table:payments.user_id:cascade", "relationship:Organization.invoices"}
    fk = got["table:payments.user_id:cascade"]
    assert (fk.severity, fk.item_id, fk.location.start_line) == (Severity.WARNING, "7.6", 37)
    assert fk.message == ("payments.user_id cascades deletes from users: deleting the account deletes its rows of payments, "
                          "records accounting must keep")
    assert got["relationship:Organization.invoices"].message.startswith(
        "Organization.invoices cascades deletes (all, delete-orphan) to Invoice")


def test_a_soft_deleted_account_makes_it_an_info(tmp_path):
    models = _ACCOUNTS.format(user_extra="    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))")
    fk = next(f for f in found(tmp_path, {"app/models.py": models}, "BIL007") if f.anchor.startswith("table:payments"))
    assert fk.severity == Severity.INFO and "users is soft deleted with deleted_at" in fk.message


def test_a_cascade_written_only_in_the_migration_counts(tmp_path):
    upgrade = '''
op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True))
op.create_table(
    "refunds",
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE")),
    sa.Column("amount_cents", sa.Integer()),
)
'''
    (f,) = found(tmp_path, {"migrations/versions/0001_a.py": revision(upgrade)}, "BIL007")
    assert f.anchor == "table:refunds.user_id:cascade" and f.location.path == "migrations/versions/0001_a.py"


def test_a_model_cascade_the_migrations_do_not_build_is_left_to_the_drift_finding(tmp_path):
    models = HEADER + """
class Organization(Base):
    __tablename__ = "organizations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Invoice(Base):
    __tablename__ = "invoices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    total: Mapped[int] = mapped_column(Integer)
"""
    upgrade = '''
op.create_table("organizations", sa.Column("id", sa.Integer(), primary_key=True))
op.create_table(
    "invoices",
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("org_id", sa.Integer()),
    sa.Column("total", sa.Integer()),
)
op.create_foreign_key("fk_invoices_org", "invoices", "organizations", ["org_id"], ["id"])
'''
    files = {"app/models.py": models, "migrations/versions/0001_a.py": revision(upgrade)}
    assert found(tmp_path, files, "BIL007") == []
    (drift,) = [f for f in found(tmp_path, files, "MIG006") if f.anchor == "drift:fk-actions:invoices"]
    assert "ON DELETE CASCADE in the model but not set (NO ACTION) in the migrations" in drift.message
    # Where the migration builds the cascade too, it is reported once, at the model.
    files["migrations/versions/0001_a.py"] = revision(upgrade.replace('["id"])', '["id"], ondelete="CASCADE")'))
    (f,) = found(tmp_path, files, "BIL007")
    assert (f.anchor, f.location.path, f.location.start_line) == ("table:invoices.org_id:cascade", "app/models.py", 18)


def test_an_archive_copy_of_a_column_is_not_reported_again(tmp_path):
    upgrade = '''
op.create_table("runs", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("unit_cost", sa.Numeric(scale=2)))
op.create_table(
    "runs_archive_2026q1", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("unit_cost", sa.Numeric(scale=2)),
)
'''
    (f,) = found(tmp_path, {"migrations/versions/0001_a.py": revision(upgrade)}, "BIL006")
    assert (f.anchor, f.location.start_line, f.severity) == ("table:runs.unit_cost", 7, Severity.WARNING)


_SHARED_EXPENSES = HEADER + """
from sqlalchemy import Float

class Bill(Base):
    __tablename__ = "bill"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    amount = mapped_column(Float)
    owner_type = mapped_column(String(20))
    owner_id = mapped_column(Integer)
"""


def test_money_as_float_is_reported_where_money_is_stored_without_a_billing_subsystem(tmp_path):
    """A bill table of shared expenses bills no customer, but its float amounts drift all the same."""
    result = scan(_write(tmp_path, {"app/models.py": _SHARED_EXPENSES})).result
    (f,) = [f for f in result.findings if f.rule_id == "BIL001"]
    assert (f.anchor, f.severity, f.item_id, f.location.start_line) == ("table:bill.amount", Severity.WARNING, "10.2", 16)
    assert "bill.amount" in f.message and "holds money as Float" in f.message
    assert "10.2" not in result.not_applicable
    assert not [f for f in result.findings if f.rule_id == "BIL003"]  # a polymorphic owner is a billing subsystem's ask
    # the healthcare billing asks stay out, with evidence that names the money it saw
    for item in ("10.3", "10.4", "10.5"):
        why = result.not_applicable[item]
        assert why.startswith("no billing subsystem"), item
    assert "the columns named for money (bill, bill.amount) alone are not one" in result.not_applicable["10.4"]


def test_money_as_float_in_many_columns_of_one_table_is_one_finding(tmp_path):
    """A trading table with prices, fees and amounts all in floats: one design decision, one finding that names the
    columns and carries the decisions saved on the per-column findings."""
    models = _SHARED_EXPENSES.replace("    owner_type = mapped_column(String(20))",
                                      "    fee = mapped_column(Float)\n    price = mapped_column(Float)\n"
                                      "    owner_type = mapped_column(String(20))")
    (f,) = found(tmp_path, {"app/models.py": models}, "BIL001")
    assert f.anchor == "table:bill:money-as-float" and f.severity == Severity.WARNING
    assert f.message.startswith("bill holds money as floating point in 3 columns (amount, fee, price)")
    assert {c.split(" ", 1)[1] for c in f.covers} == {"table:bill.amount", "table:bill.fee", "table:bill.price"}


def test_a_rate_or_a_precision_of_a_price_is_no_money(tmp_path):
    """`fee_rate`, `price_precision`, `amount_step`: what qualifies a money word there is a ratio or an exchange's
    step size, not an amount (freqtrade: judged wrong as "money in floats")."""
    from analyzers.rules.s10_billing import names_money

    assert not any(names_money(n) for n in (
        "fee_rate", "price_precision", "amount_precision", "amount_step", "tax_rate", "cost_time", "price_latency"))
    assert all(names_money(n) for n in ("price", "fee_open_cost", "stake_amount", "cost_per_token"))

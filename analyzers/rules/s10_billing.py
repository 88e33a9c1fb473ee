"""Section 10: Subscription & Billing (FR-06)."""

from __future__ import annotations

import re

from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.examples_common import HEADER
from analyzers.rules.schema import column_anchor, column_sites, first_line, has_check, where_declared

_MONEY = re.compile(r"amount|price|total|fee|cost|balance|subtotal|tax|discount|refund|charge|payment|cents")


class MoneyAsFloat(Rule):
    """Money is stored as a floating-point number.

    What it checks:
        Float, REAL or DOUBLE columns whose names say money (amount, price, total, fee, balance...).
    Why it matters:
        Binary floats cannot hold 0.10 exactly: sums drift by cents, refunds do not match charges,
        and reconciliation with Stripe fails.
    Example:
        amount: Mapped[float] = mapped_column(Float)
    Instead:
        `Numeric(12, 2)` (or integer cents, as Stripe does).
    """

    ID = "BIL001"
    ITEM = "10.2"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
class BillingTransaction(Base):
    __tablename__ = "billing_transactions"
    id: Mapped[int] = mapped_column(primary_key=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
''',)
    INVALID = (HEADER + '''
class BillingTransaction(Base):
    __tablename__ = "billing_transactions"
    id: Mapped[int] = mapped_column(primary_key=True)
    amount: Mapped[float] = mapped_column(Float)
''',)

    def check(self):
        for table, col in column_sites(self.facts):
            if col.type_name in ("Float", "REAL", "DOUBLE", "DOUBLE_PRECISION", "Double") and _MONEY.search(col.name):
                yield self.finding(
                    f"{where_declared(table, col)} holds money as {col.type_name}: rounding errors in sums and refunds",
                    col.span, column_anchor(table, col),
                )


class BillingFieldsMissing(Rule):
    """An organization or patient cannot be billed on its own.

    What it checks:
        `stripe_customer_id` and `subscription_status` on both organizations and patients (the
        dual-sided model of FR-06), when something in the schema bills (billing tables, Stripe ids).
    Why it matters:
        Without them on one side, that side's subscriptions cannot be tracked, and billing falls
        back to ad-hoc lookups in Stripe.
    Example:
        class Patient(Base): ...   # no stripe_customer_id
    Instead:
        Add both columns (nullable `stripe_customer_id` unique, `subscription_status` with a CHECK).
    """

    ID = "BIL002"
    ITEM = "10.1"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    subscription_status: Mapped[str | None] = mapped_column(String(20))
''',)
    INVALID = (HEADER + '''
class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(primary_key=True)
class BillingTransaction(Base):
    __tablename__ = "billing_transactions"
    id: Mapped[int] = mapped_column(primary_key=True)
''',)

    def check(self):
        bills = any(re.search(r"billing|invoice|payment|subscription|charge", t.name) for t in self.facts.tables.values()) or any(
            "stripe" in c for t in self.facts.tables.values() for c in t.columns
        )
        if not bills:
            return  # nothing in the schema bills anyone: FR-06 is not this code base's concern
        for table in self.facts.tables.values():
            if not re.match(r"^(organizations?|patients?)$", table.name):
                continue
            missing = [c for c in ("stripe_customer_id", "subscription_status") if c not in table.columns]
            if missing:
                yield self.finding(
                    f"{table.label} has no {' or '.join(missing)}: it cannot be billed independently",
                    first_line(table.span), f"table:{table.name}:billing",
                )


class PolymorphicOwnerUnchecked(Rule):
    """A polymorphic owner (type + id) is not constrained.

    What it checks:
        Billing tables with `owner_type` and `owner_id` (or `<x>_type` beside `<x>_id`) and no CHECK
        constraint on the type column (an audit log's generic resource pointer is by design).
    Why it matters:
        No foreign key can guard a polymorphic id; without at least a CHECK on the type, rows can
        name owners of kinds that do not exist, and nothing ties the id to a real row.
    Example:
        owner_type: Mapped[str] = mapped_column(String(20)); owner_id: Mapped[uuid.UUID]
    Instead:
        `CheckConstraint("owner_type IN ('PATIENT', 'ORGANIZATION')")`, or two nullable foreign keys
        (`patient_id`, `organization_id`) with a CHECK that exactly one is set.
    """

    ID = "BIL003"
    ITEM = "10.2"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
from sqlalchemy import CheckConstraint
class BillingTransaction(Base):
    __tablename__ = "billing_transactions"
    __table_args__ = (CheckConstraint("owner_type IN ('PATIENT', 'ORGANIZATION')"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_type: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
''',)
    INVALID = (HEADER + '''
class BillingTransaction(Base):
    __tablename__ = "billing_transactions"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_type: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
''',)

    VALID = VALID + (HEADER + '''
class AuditLog(Base):  # a log points at rows of any table: no CHECK or foreign key is expected
    __tablename__ = "audit_logs"
    id: Mapped[int] = mapped_column(primary_key=True)
    resource_type: Mapped[str] = mapped_column(String(50))
    resource_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
''',)
    BILLING = re.compile(r"billing|payment|invoice|subscription|charge|transaction|refund|credit|ledger")

    def check(self):
        for table in self.facts.tables.values():
            for col in table.columns.values():
                if not col.name.endswith("_type"):
                    continue
                stem = col.name[: -len("_type")]
                if stem != "owner" and not self.BILLING.search(table.name):
                    continue  # a generic pointer elsewhere (an audit log's resource_type/resource_id) is by design
                if f"{stem}_id" not in table.columns or col.type_name == "Enum":
                    continue
                if not has_check(self.facts, table, col.name):
                    yield self.finding(
                        f"{table.name}.{col.name}/{stem}_id is a polymorphic reference with no CHECK on {col.name} and "
                        "no foreign key", col.span, f"table:{table.name}.{col.name}:polymorphic",
                    )


class ProxyPaymentUntracked(Rule):
    """Payments do not record the proxy who made them.

    What it checks:
        A billing transactions table with a `managed_by_proxy_id` column.
    Why it matters:
        FR-06: proxies (parents, caregivers) pay on a patient's behalf; without the column there is
        no record of who paid, for disputes or for revoking a proxy.
    Example:
        class BillingTransaction(Base): id, owner_id, amount   # no managed_by_proxy_id
    Instead:
        `managed_by_proxy_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("proxies.id"))`.
    """

    ID = "BIL004"
    ITEM = "10.3"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
class BillingTransaction(Base):
    __tablename__ = "billing_transactions"
    id: Mapped[int] = mapped_column(primary_key=True)
    managed_by_proxy_id: Mapped[int | None] = mapped_column(ForeignKey("proxies.id"))
''',)
    INVALID = (HEADER + '''
class BillingTransaction(Base):
    __tablename__ = "billing_transactions"
    id: Mapped[int] = mapped_column(primary_key=True)
''',)

    def check(self):
        for table in self.facts.tables.values():
            if re.search(r"billing_transactions?|payments?$", table.name) and "managed_by_proxy_id" not in table.columns:
                yield self.finding(
                    f"{table.label} has no managed_by_proxy_id: proxy-initiated payments are not tracked",
                    first_line(table.span), f"table:{table.name}:proxy",
                )


class SubscriptionOverridesMissing(Rule):
    """Billing has no way to record manual overrides.

    What it checks:
        When billing or invoice tables exist (payments alone, for an event's tickets, and alert
        "subscriptions" are not billing): a table that records overrides (subscription overrides, discounts, coupons,
        credits, trials).
    Why it matters:
        Without it, comps and trial extensions are done by editing Stripe or rows by hand, with no
        record of who granted what and until when.
    Example:
        billing_transactions exists; nothing like subscription_overrides.
    Instead:
        A `subscription_overrides` table: owner, type (CHECK in FREE/TRIAL_EXTENSION/DISCOUNT),
        value, starts_at, ends_at, granted_by.
    """

    ID = "BIL005"
    ITEM = "10.4"
    SEVERITY = Severity.INFO
    VALID = (HEADER + '''
class BillingTransaction(Base):
    __tablename__ = "billing_transactions"
    id: Mapped[int] = mapped_column(primary_key=True)
class SubscriptionOverride(Base):
    __tablename__ = "subscription_overrides"
    id: Mapped[int] = mapped_column(primary_key=True)
''',)
    INVALID = (HEADER + '''
class BillingTransaction(Base):
    __tablename__ = "billing_transactions"
    id: Mapped[int] = mapped_column(primary_key=True)
''',)

    def check(self):
        billing = [t for t in self.facts.tables.values() if re.search(r"billing|invoice", t.name)]
        overrides = re.compile(r"override|discount|coupon|promotion|credit|trial|comp(ed|s)?$|grant")
        if billing and not any(overrides.search(t.name) for t in self.facts.tables.values()):
            yield self.finding(
                "billing tables exist but nothing records subscription overrides (free, trial extension, discount)",
                first_line(billing[0].span), "billing:overrides",
            )

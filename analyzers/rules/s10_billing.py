"""Section 10: Subscription & Billing (FR-06)."""

from __future__ import annotations

import re

from analyzers.facts.model import ColumnFact, TableFact
from analyzers.findings import Severity
from analyzers.rules.applicability import bills
from analyzers.rules.base import Rule
from analyzers.rules.drift import fk_action_drift
from analyzers.rules.examples_common import HEADER
from analyzers.rules.schema import (
    ARCHIVE, MONEY_NAME, column_anchor, column_sites, delete_cascades, first_line, has_check, is_link_table, migrated_column, where_declared,
)


# What a name counts when a money word only qualifies it: `total_tokens`, `amount_of_items`, `discount_percent`,
# `nb_total_bounced` (nb, cnt: a number of); after "per", the unit a price is of: `cost_per_token` is money. A rate, a
# precision or a step of a price is no amount either (`fee_rate`, `price_precision`, `amount_step`), nor a time
# (`cost_time`: how long a request took), nor a measure (`total_area_sqkm`, `total_distance_km`).
_COUNTED = re.compile(r"^(tokens?|counts?|cnt|nb|num|number|quantity|qty|items?|units?|requests?|calls?|hits?|bytes|seconds|secs|"
                      r"ms|millis|milliseconds|minutes|hours|days|time|duration|elapsed|latency|"
                      r"percent|pct|percentage|ratio|score|weight|size|length|views|votes|users|rows|"
                      r"rates?|precision|decimals|digits|step|tick|factor|multiplier|"
                      r"area|sqkm|sqm|km2|m2|km|distance|meters?|metres?|miles?|kg|grams?|height|width|altitude|speed)$")


def names_money(name: str) -> bool:
    """A column name that says money (MONEY_NAME), not a count that a money word qualifies."""
    if not MONEY_NAME.search(name):
        return False
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower().split("_")
    counted = [w for before, w in zip(["", *words], words) if before != "per" and _COUNTED.match(w)]
    return not counted


def _usage_estimate(table, col) -> str | None:
    """Why a float `cost` may be an estimate of a language model's usage (the table counts tokens, the name says
    LLM) rather than money charged; None when nothing says so or the name says a charge (price, fee, amount)."""
    if "cost" not in col.name.lower() or re.search(r"amount|price|fee|charge|payment|refund|balance", col.name, re.I):
        return None
    tokens = [c.name for c in table.columns.values() if re.search(r"(^|_)tokens?($|_)", c.name.lower())
              and not names_money(c.name)]
    if tokens:
        return f"{table.name} also counts tokens ({table.name}.{tokens[0]})"
    return f"its name says it is a language model's ({col.name})" if re.search(r"(^|_)llm", col.name.lower()) else None


class MoneyAsFloat(Rule):
    """Money is stored as a floating-point number.

    What it checks:
        Float, REAL or DOUBLE columns whose names say money (amount, price, total, fee, balance...),
        wherever money is stored: a table of shared expenses' bills as much as a billing subsystem. Not a
        count that a money word qualifies (`total_tokens`, `discount_percent`). Info for a cost that may be an
        estimate of a language model's usage (its table counts tokens, its name says LLM) rather than a charge.
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
        by_table: dict[str, list[tuple[TableFact, ColumnFact]]] = {}
        for table, col in column_sites(self.facts):
            if col.type_name in ("Float", "REAL", "DOUBLE", "DOUBLE_PRECISION", "Double") and names_money(col.name):
                said = f"{where_declared(table, col)} holds money as {col.type_name}: rounding errors in sums and refunds"
                usage = _usage_estimate(table, col)
                if usage:
                    yield self.finding(
                        f"{said}; but {usage}: if it is an estimate of what model usage costs rather than an amount "
                        "charged, float's rounding is far below the estimate's own precision (Numeric where it is billed)",
                        col.span, column_anchor(table, col), severity=Severity.INFO)
                else:
                    by_table.setdefault(table.name, []).append((table, col))
        for name, found in by_table.items():
            table, col = found[0]
            if len(found) == 1:
                yield self.finding(f"{where_declared(table, col)} holds money as {col.type_name}: rounding errors in sums "
                                   "and refunds", col.span, column_anchor(table, col))
                continue
            # one design decision, not one defect a column: a table of prices and fees all in floats is one finding
            columns = ", ".join(c.name for _, c in found)
            yield self.grouped(
                f"{name} holds money as floating point in {len(found)} columns ({columns}): rounding errors in sums "
                "and refunds",
                [(c.span, column_anchor(t, c), f"{t.name}.{c.name} ({c.type_name})") for t, c in found],
                f"table:{name}:money-as-float",
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
        if not bills(self.facts):
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
        if not bills(self.facts):
            return  # item 10.2 applies where money is stored too; a polymorphic owner is a billing subsystem's ask
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
        "subscriptions" are not billing) and something is subscribed to (a table or column named for a
        subscription, a plan or a tier; invoices of sales have nothing to override): a table that records overrides
        (subscription overrides, discounts, coupons, credits, trials).
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
    subscription_plan: Mapped[str]
''',)

    def check(self):
        billing = [t for t in self.facts.tables.values() if re.search(r"billing|invoice", t.name)]
        overrides = re.compile(r"override|discount|coupon|promotion|credit|trial|comp(ed|s)?$|grant")
        # overrides of a subscription: none to override where no table or column names one (invoices of sales)
        subscribed = any(_SUBSCRIPTION.search(t.name) or any(_SUBSCRIPTION.search(c) for c in t.columns)
                         for t in self.facts.tables.values())
        if billing and subscribed and not any(overrides.search(t.name) for t in self.facts.tables.values()):
            yield self.finding(
                "billing tables exist but nothing records subscription overrides (free, trial extension, discount)",
                first_line(billing[0].span), "billing:overrides",
            )


_SUBSCRIPTION = re.compile(r"subscri|(^|_)(plan|tier)(_id)?$")


_CURRENCY = re.compile(r"(^|_)(usd|eur|gbp|dollars?|euros?)($|_)")  # `top_up_in_usd`: money by its unit


def scale_without_precision(col) -> str | None:
    """The scale a Numeric/DECIMAL column declares without a precision (`Numeric(scale=2)`, `Numeric(None, 2)`),
    which SQLAlchemy drops: it renders plain NUMERIC unless both are given."""
    if col.type_args.get("impl", col.type_name) not in ("Numeric", "NUMERIC", "DECIMAL"):
        return None
    scale = col.type_args.get("scale")
    return scale if scale not in (None, "None") and col.type_args.get("precision") in (None, "None") else None


class NumericScaleWithoutPrecision(Rule):
    """A Numeric column declares a scale but no precision, so the scale does nothing.

    What it checks:
        `Numeric(scale=2)`, `Numeric(None, 2)`, `DECIMAL(scale=2)` in the models and the migrations. SQLAlchemy
        writes `NUMERIC(p, s)` only when both are given: with no precision it renders plain `NUMERIC`
        (`visit_NUMERIC` of its type compiler) and the scale is dropped. Reported once per column: at the
        migration that builds it where there is one (the table is what the migration made; a model column whose
        migration has a precision is no finding), else at the model. An archive table's copy of a column
        (`runs_archive_2026Q1`) is the defect of its source and is not reported again. A warning on money (a name that says
        amount, price, total, fee, balance..., or a table with a currency column), info elsewhere.
    Why it matters:
        PostgreSQL's plain NUMERIC keeps each value with whatever scale it arrives with: 10.5, 10.499 and
        10.123456789 are all stored as given. Amounts meant to be cents carry fractions of a cent, sums drift
        from the rounded totals of invoices and of the payment provider, and equal-looking amounts compare
        unequal.
    Example:
        amount: Mapped[Decimal] = mapped_column(Numeric(scale=2))
    Instead:
        Give the precision too, `Numeric(12, 2)` (`NUMERIC(12, 2)` rounds every value to cents), or store
        integer cents.
    """

    ID = "BIL006"
    ITEM = "10.2"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
class Invoice(Base):
    __tablename__ = "invoices"
    id: Mapped[int] = mapped_column(primary_key=True)
    amount: Mapped[float] = mapped_column(Numeric(12, 2))
''',)
    INVALID = (HEADER + '''
class Invoice(Base):
    __tablename__ = "invoices"
    id: Mapped[int] = mapped_column(primary_key=True)
    amount: Mapped[float] = mapped_column(Numeric(scale=2))
''',)

    def check(self):
        for table, col in column_sites(self.facts):
            migrated = migrated_column(self.facts, table, col.name)
            if migrated is not None or not scale_without_precision(col):
                continue  # the migration builds the column: judged there
            yield self._finding(table.name, col, table, col)
        for table in self.facts.migration_tables.values():
            if ARCHIVE.search(table.name):
                continue  # a copy of old rows kept apart: the same defect as its source's column, reported there
            model = self.facts.tables.get(table.name)
            for col in table.columns.values():
                if scale_without_precision(col):
                    yield self._finding(table.name, col, model, model.column(col.name) if model else None)

    def _finding(self, name: str, col, model, model_col):
        scale = scale_without_precision(col)
        money = bool(MONEY_NAME.search(col.name) or _CURRENCY.search(col.name)) or any("currency" in c for c in (model.columns if model else ()))
        anchor = column_anchor(model, model_col) if model is not None and model_col is not None else f"table:{name}.{col.name}"
        related = [(model_col.span, "the model's column")] if model_col is not None and model_col.span != col.span else []
        return self.finding(
            f"{name}.{col.name} is declared {col.type_name} with scale {scale} and no precision: SQLAlchemy renders plain "
            f"{'DECIMAL' if col.type_name == 'DECIMAL' else 'NUMERIC'}, so the scale does nothing and "
            f"PostgreSQL keeps every value with the scale it arrives with{' (fractions of a cent in amounts)' if money else ''}: "
            f"give both, `{col.type_name}(12, {scale})`",
            col.span, anchor, related=related,
            severity=None if money else Severity.INFO, item=None if money else "5.6",
        )


# Tables of money that moved: what accounting keeps for years, whoever closed their account.
_LEDGER = re.compile(r"(^|_)(payments?|invoices?|invoice_(items?|lines?)|transactions?|ledgers?|ledger_entries|refunds?|"
                     r"payouts?|charges?|receipts?|credit_notes?)($|_)")
_AMOUNT = re.compile(r"(^|_)(amount|amounts|price|total|fee|fees|cost|balance|currency|cents|subtotal|tax)($|_)")
# Who closes an account: a user, an organization or a tenant and their like.
_ACCOUNT = re.compile(r"^(auth_)?(users?|accounts?|organi[sz]ations?|orgs?|tenants?|teams?|workspaces?|customers?|"
                      r"compan(y|ies)|members?)$")
_SOFT_DELETE = ("deleted_at", "is_deleted", "archived_at")


def ledger(table) -> bool:
    """A table of money that moved: named so (payments, invoices, ledger entries...) and with an amount or currency
    column of its own."""
    return bool(_LEDGER.search(table.name)) and any(_AMOUNT.search(c) for c in table.columns) and not is_link_table(table)


def _account(name: str) -> bool:
    return bool(_ACCOUNT.match(name.rsplit(".", 1)[-1]))


_PAYMENTS = HEADER + '''
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)

class Payment(Base):
    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    amount: Mapped[int] = mapped_column(Integer)
'''


class CascadeDeletesFinancialRecords(Rule):
    """Deleting a user or an organization deletes their payments, invoices or ledger entries.

    What it checks:
        Foreign keys with `ondelete="CASCADE"` (in the models or the migrations) from a table of money that moved
        into a user, account, organization, tenant or team table, and ORM relationships of such a parent with a
        delete cascade (`cascade="all, delete-orphan"`) to one. A table of money that moved is named so
        (payments, invoices, transactions, ledger entries, refunds, payouts, charges, receipts) and has an amount
        or currency column of its own. Info when the parent is soft deleted (its `deleted_at`), so only a hard
        delete (an erasure, a cleanup script) runs the cascade. Where the migrations build the key, the delete action
        is theirs: a model's CASCADE that the migrations do not build is no finding here (the database refuses the
        delete), MIG006 reports the drift. Clinical records are HIP002's and REL003's.
    Why it matters:
        The books must keep what was charged, refunded and paid out for years (tax and audit retention), and the
        payment provider keeps its side: one `DELETE FROM users` silently erases the company's side, and
        reconciliation, refunds and chargeback disputes for that customer have nothing to stand on.
    Example:
        user_id = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))   # on payments
    Instead:
        `ondelete="RESTRICT"` (or SET NULL on a nullable key, with the payer's name and address copied onto the
        invoice), soft delete or anonymize the account, and never delete the financial rows with it.
    """

    ID = "BIL007"
    ITEM = "7.6"
    SEVERITY = Severity.WARNING
    VALID = (_PAYMENTS.replace("CASCADE", "RESTRICT"),)
    INVALID = (_PAYMENTS, HEADER + '''
class Organization(Base):
    __tablename__ = "organizations"
    id: Mapped[int] = mapped_column(primary_key=True)
    invoices = relationship("Invoice", cascade="all, delete-orphan")

class Invoice(Base):
    __tablename__ = "invoices"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    total: Mapped[int] = mapped_column(Integer)
''')

    def check(self):
        seen: set[tuple[str, str]] = set()
        for table in [*self.facts.tables.values(), *self.facts.migration_tables.values()]:
            if not ledger(table):
                continue
            not_built = self._not_built(table)
            for col in table.columns.values():
                for fk in col.foreign_keys:
                    if (fk.ondelete or "").upper() != "CASCADE" or not _account(fk.table) or (table.name, col.name) in seen:
                        continue
                    if col.name in not_built:
                        continue  # the migrations build this key with another delete action: MIG006's drift
                    seen.add((table.name, col.name))
                    parent = fk.table.rsplit(".", 1)[-1]
                    yield self.finding(
                        f"{table.name}.{col.name} cascades deletes from {parent}: deleting the account deletes its rows of "
                        f"{table.name}, records accounting must keep{self._soft(parent)}",
                        fk.span, f"table:{table.name}.{col.name}:cascade", severity=self._severity(parent),
                    )
        for table, rel, target, _ in delete_cascades(self.facts):
            if not _account(table.name) or target is None or not ledger(target):
                continue
            yield self.finding(
                f"{table.class_name}.{rel.attr} cascades deletes ({rel.cascade}) to {target.class_name}: "
                f"session.delete() of the {table.name} row deletes its rows of {target.name}, records accounting must "
                f"keep{self._soft(table.name)}",
                rel.span, f"relationship:{table.class_name}.{rel.attr}", severity=self._severity(table.name),
            )

    def _not_built(self, table) -> set[str]:
        """The columns of a model table whose foreign key the migrations build with another ON DELETE."""
        db = self.facts.migration_tables.get(table.name)
        if db is None or self.facts.tables.get(table.name) is not table:
            return set()
        return {c for m, _, differ in fk_action_drift(table, db, self.facts) if "ondelete" in differ for c in m.columns}

    def _parent(self, name: str):
        return self.facts.tables.get(name) or self.facts.migration_tables.get(name)

    def _soft(self, name: str) -> str:
        parent = self._parent(name)
        mark = next((c for c in _SOFT_DELETE if parent is not None and c in parent.columns), None)
        return f" (info: {name} is soft deleted with {mark}, so only a hard delete runs it)" if mark else ""

    def _severity(self, name: str) -> Severity | None:
        return Severity.INFO if self._soft(name) else None

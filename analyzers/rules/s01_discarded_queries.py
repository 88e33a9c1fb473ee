"""Section 1 (sessions and queries): a generative query method called as a statement, its new query dropped."""

from __future__ import annotations

from analyzers.facts.paths import is_test_path, is_tooling_path
from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.examples_common import HEADER

# method -> (what the dropped call would have added, what the query does without it, whether that is a warning)
_LOST = {
    "filter": ("condition", "returns the rows the condition was meant to leave out", True),
    "filter_by": ("condition", "returns the rows the condition was meant to leave out", True),
    "where": ("condition", "returns the rows the condition was meant to leave out", True),
    "having": ("condition", "returns the groups the condition was meant to leave out", True),
    "with_for_update": ("row lock", "locks no row, so concurrent writers are not held off", True),
    "limit": ("limit", "reads every row", True),
    "offset": ("offset", "starts from the first row on every page", True),
    "slice": ("slice", "reads every row", True),
    "order_by": ("order", "returns its rows in no set order", False),
    "join": ("join", "runs without it", False),
    "outerjoin": ("join", "runs without it", False),
    "join_from": ("join", "runs without it", False),
    "options": ("loader option", "loads as the mapping says", False),
}

_INVOICES = {"app/models.py": HEADER + '''
class Invoice(Base):
    __tablename__ = "invoices"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int]
    paid: Mapped[bool]
'''}


class DiscardedQueryCall(Rule):
    """A query method that returns a new query is called as a statement of its own, so it changes nothing.

    What it checks:
        In one function of the application: an expression statement that calls `filter`, `filter_by`, `where`,
        `having`, `order_by`, `limit`, `offset`, `join`, `options`, `with_for_update` (and the other methods of
        Query and Select that return a new query) on a local name, where every binding of that name in the
        function is a query built there (`session.query(...)`, `Model.query` of a mapped model, SQLAlchemy's
        `select()`, `update()`, `delete()` or `insert()`, or such a query carried on by those methods). A name
        that is a parameter, a loop variable or bound to anything else is not read (its type is not known; some
        query builders of other libraries change themselves in place). Tests are left out; scripts and tooling
        are info. Warning where the dropped call is a condition, a row lock or a limit; info for an order, a join
        or a loader option.
    Why it matters:
        Query and Select are generative: `query.filter(Invoice.paid.is_(False))` returns a new query and leaves
        `query` as it was. The query the function runs afterwards has no such condition: it returns rows the
        code meant to leave out (another owner's, hidden or deleted ones), and nothing fails.
    Example:
        query = session.query(Invoice).filter(Invoice.org_id == org_id)
        if unpaid_only:
            query.filter(Invoice.paid.is_(False))
        return query.all()
    Instead:
        Keep the new query: `query = query.filter(Invoice.paid.is_(False))`.
    """

    ID = "CFG019"
    ITEM = "1.5"
    SEVERITY = Severity.WARNING
    INVALID = ({**_INVOICES, "app/invoices.py": '''
from sqlalchemy import select
from app.models import Invoice

def invoices(session, org_id, unpaid_only):
    query = session.query(Invoice).filter(Invoice.org_id == org_id)
    if unpaid_only:
        query.filter(Invoice.paid.is_(False))
    return query.all()

def unpaid(session, org_id):
    stmt = select(Invoice).where(Invoice.org_id == org_id)
    stmt.where(Invoice.paid.is_(False)).limit(50)
    return session.scalars(stmt).all()
'''},)
    VALID = ({**_INVOICES, "app/invoices.py": '''
from app.models import Invoice
from app.search import Builder

def invoices(session, org_id, unpaid_only):
    query = session.query(Invoice).filter(Invoice.org_id == org_id)
    if unpaid_only:
        query = query.filter(Invoice.paid.is_(False))
    return query.all()

def by_builder(org_id):
    builder = Builder(Invoice)
    builder.filter(org_id=org_id)
    return builder.run()

def narrowed(query, org_id):
    query.filter(Invoice.org_id == org_id)
    return query
'''},)

    def check(self):
        mapped = {t.class_name for t in self.facts.tables.values() if t.class_name}
        for m in self.facts.modules:
            if not m.discarded_queries or is_test_path(m.path):
                continue
            for d in m.discarded_queries:
                if d.model and d.model not in mapped:
                    continue  # `X.query` of a class that is not a known model: not surely SQLAlchemy's
                what, without, grave = _LOST.get(d.method, ("change", "runs without it", False))
                yield self.finding(
                    f"{d.function} calls `{d.written}` as a statement of its own (line {d.call.start}): "
                    f"`{d.method}()` returns a new query and leaves `{d.name}` as it was, so the {what} is never "
                    f"applied and the query kept in `{d.name}` {without}: assign it (`{d.name} = {d.name}.{d.method}(...)`)",
                    d.call, f"function:{d.call.path}:{d.function}:{d.name}:dropped:{d.written}",
                    severity=None if grave and not is_tooling_path(m.path) else Severity.INFO,
                    related=[(d.built, f"`{d.name}` built here")],
                )

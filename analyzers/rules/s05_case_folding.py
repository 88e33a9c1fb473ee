"""Section 5 (data integrity): a column the code treats as case-insensitive, kept unique only as written."""

from __future__ import annotations

import re

from analyzers.facts.model import TableFact
from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.code_use import app_queries
from analyzers.rules.examples_common import HEADER
from analyzers.rules.schema import _unique_keys, all_constraints, migration_gaps, migrated_column, table_sql

# Types and collations that compare without case: the plain unique key already holds what lower() assumes.
_FOLDING_TYPES = ("CITEXT", "CIText")
_ONE_ROW = ("first", "one", "one_or_none", "scalar", "scalar_one", "scalar_one_or_none", "get")


class CaseSensitiveUnique(Rule):
    """A column the code looks up case-insensitively is unique only as written.

    What it checks:
        A column with a unique constraint, unique index or `unique=True` (alone, or with other columns the
        same lookup compares with `==`), that the application looks rows up by case-folded:
        `func.lower(User.email) == ...` or `func.upper(...)`. Not when the database already compares it without
        case: a unique index over `lower(col)` or `upper(col)` (in the model or the migrations), a CHECK that
        keeps it in one case (`email = lower(email)`), a CITEXT column or one with a collation; not when a
        `@validates` hook on the column may fold it on the way in, nor when a migration step about the table
        could not be read. Tests, scripts and migrations are not read.
    Why it matters:
        The lookup says that `Bob` and `bob` are one user, the constraint says they are two: the database
        accepts both, from two sign-ups at once, an import or an admin tool that skips the application's own
        duplicate check. From then on the lookup matches two rows: `.first()` returns either one (a login or a
        password reset may reach the other account), `.one()` raises.
    Example:
        username: Mapped[str] = mapped_column(String(255), unique=True)
        ... select(User).where(func.lower(User.username) == name.lower())
    Instead:
        A unique index on the folded value, `Index("uq_users_username_lower", func.lower(username),
        unique=True)` (created CONCURRENTLY on a large table), or a CITEXT column; or store the value folded
        (a CHECK `username = lower(username)` then makes the plain unique key enough).
    """

    ID = "INT015"
    ITEM = "5.5"
    SEVERITY = Severity.WARNING
    _MODEL = HEADER + '''
class User(Base):
    __tablename__ = "users"
    {}
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(255), unique=True)
'''
    _CODE = '''
from sqlalchemy import func, select
from models import User
def find_user(session, name):
    return session.scalars(select(User).where(func.lower(User.username) == name.lower())).first()
'''
    VALID = ({"models.py": _MODEL.format('__table_args__ = (Index("uq_users_username_lower", func.lower("username"), unique=True),)'),
              "app/users.py": _CODE},)
    INVALID = ({"models.py": _MODEL.format(""), "app/users.py": _CODE},)

    def check(self):
        lookups: dict[tuple[str, str], tuple[TableFact, list]] = {}
        for q, table in app_queries(self.facts):
            for attr in q.folded:
                col = next((c for c in table.columns.values() if (c.attr or c.name) == attr), None)
                if col is not None:
                    lookups.setdefault((table.name, col.name), (table, []))[1].append(q)
        for (name, column), (table, queries) in sorted(lookups.items()):
            if table.unknown_bases or self._folded_in_database(table, column):
                continue
            key = self._plain_key(table, column, queries)
            if key is None or migration_gaps(self.facts, name):
                continue
            queries.sort(key=lambda q: (q.span.path, q.span.start))
            first = queries[0]
            col = table.columns[column]
            one_row = [q for q in queries if any(m in q.methods for m in _ONE_ROW)]
            then = ("a lookup that takes one row (`.first()`, `.one()`) then gets either one, or raises"
                    if one_row else "a lookup by the folded value then matches both")
            more = f" and {len(queries) - 1} more place(s)" if len(queries) > 1 else ""
            over = f"({', '.join(key)})" if len(key) > 1 else column
            yield self.finding(
                f"{table.class_name or name}.{col.attr or column} is looked up case-insensitively "
                f"(`lower({column})` at {first.span.path}:{first.span.start}{more}), but the unique key over {over} "
                f"compares it as written: the database accepts 'Bob' and 'bob' as two rows (two requests "
                f"at once, or any writer that skips the application's own check), and {then}",
                col.span, f"table:{name}.{column}:case-sensitive-unique",
                related=[(q.span, "looked up case-folded") for q in queries[:10]],
            )

    def _folded_in_database(self, table: TableFact, column: str) -> bool:
        """Does the database compare or keep `column` without case: an expression key over it, a CHECK that
        folds it, a CITEXT type or a collation (in the model or as the migrations leave it)?"""
        folded = re.compile(rf"\b(lower|upper)\s*\(\s*\"?{re.escape(column)}\b", re.I)
        for col in (table.columns.get(column), migrated_column(self.facts, table, column)):
            if col is not None and (col.type_name in _FOLDING_TYPES or "collation" in col.type_args):
                return True
        if any(entry != column and not entry.isidentifier() and re.search(rf"\b{re.escape(column)}\b", entry)
               for key in _unique_keys(self.facts, table) for entry in key):
            return True
        if any(con.kind == "check" and folded.search(con.expression or "") for con in all_constraints(table, self.facts)):
            return True
        if any(folded.search(st.text) or "CITEXT" in st.text.upper() for st in table_sql(self.facts, table.name)):
            return True
        col = table.columns.get(column)
        return col is not None and any(
            (col.attr or col.name) in c.validated for m in self.facts.modules for c in m.classes if c.name == col.declared_in)

    def _plain_key(self, table: TableFact, column: str, queries: list) -> tuple[str, ...] | None:
        """The smallest unique key over `column` as written whose other columns some lookup compares with `==`."""
        names = {c.attr or c.name: c.name for c in table.columns.values()}
        keys = sorted({tuple(k) for k in _unique_keys(self.facts, table) if column in k}, key=len)
        for key in keys:
            others = set(key) - {column}
            if all(e.isidentifier() for e in key) and any(
                    others <= {names.get(e.rsplit(".", 1)[-1], e) for e in q.equals} for q in queries):
                return key
        return None


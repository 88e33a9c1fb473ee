"""Section 5 (data integrity): a column the code treats as case-insensitive, kept unique only as written."""

from __future__ import annotations

import re

from analyzers.facts.model import TableFact
from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.code_use import app_queries, run_by_helper
from analyzers.rules.examples_common import HEADER
from analyzers.facts.paths import is_test_path
from analyzers.rules.schema import _unique_keys, all_constraints, is_tooling_path, migration_gaps, migrated_column, table_sql

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
        could not be read. Also a column unique as written (`email`, alone or with columns the lookups also
        compare, such as `tenant_id`) whose lower-cased copy is kept in another column (`email_lower`, written
        from its `.lower()` or `.casefold()` by a "set" listener on it, a `@validates` hook, a property setter, or
        code that gives one object or constructor both) when the lookups compare that copy, and no unique key
        holds the copy over the same columns: the finding names where the copy is written, the lookups (those
        that take one row first) and the key that belongs on the copy; a migration step about the table that
        could not be read makes it info, saying so. Tests, scripts and migrations are not read.
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
        (a CHECK `username = lower(username)` then makes the plain unique key enough). With a lower-cased copy
        column, the unique key on the copy (`UniqueConstraint("email_lower", "tenant_id")`).
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
        folded: set[tuple[str, str]] = set()  # (table, column) found looked up through lower()
        yield from self._folded_lookups(folded)
        yield from self._lower_copies(folded)

    def _folded_lookups(self, folded: set[tuple[str, str]]):
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
            folded.add((name, column))
            yield self.finding(
                f"{table.class_name or name}.{col.attr or column} is looked up case-insensitively "
                f"(`lower({column})` at {first.span.path}:{first.span.start}{more}), but the unique key over {over} "
                f"compares it as written: the database accepts 'Bob' and 'bob' as two rows (two requests "
                f"at once, or any writer that skips the application's own check), and {then}",
                col.span, f"table:{name}.{column}:case-sensitive-unique",
                related=[(q.span, "looked up case-folded") for q in queries[:10]],
            )

    def _lower_copies(self, done: set[tuple[str, str]]):
        """A column unique as written whose lower-cased copy, kept in another column, is what the lookups compare."""
        copies = [c for m in self.facts.modules if not is_test_path(m.path) and not is_tooling_path(m.path)
                  for c in m.case_copies]
        if not copies:
            return
        queries: dict[str, list] = {}
        for q, table in app_queries(self.facts):
            queries.setdefault(table.name, []).append(q)
        seen: set[tuple[str, str]] = set()
        for table in self.facts.tables.values():
            by_attr = {c.attr or c.name: c for c in table.columns.values()}
            for copy in copies:
                source, kept = by_attr.get(copy.source), by_attr.get(copy.copy)
                if source is None or kept is None or copy.model not in (None, table.class_name) or table.unknown_bases:
                    continue
                if (table.name, source.name) in done | seen or self._folded_in_database(table, source.name, hooks=False):
                    continue
                finding = self._lower_copy(table, source, kept, copy, queries.get(table.name, []))
                if finding is not None:
                    seen.add((table.name, source.name))
                    yield finding

    def _lower_copy(self, table: TableFact, source, kept, copy, queries: list):
        names = {c.attr or c.name: c.name for c in table.columns.values()}
        lookups = [(q, {names.get(e.rsplit(".", 1)[-1], e) for e in q.equals}) for q in queries
                   if q.statement == "select" and (kept.attr or kept.name) in q.equals]
        keys = sorted({tuple(k) for k in _unique_keys(self.facts, table) if source.name in k}, key=len)
        for key in keys:
            others = set(key) - {source.name}
            mine = sorted((q for q, tested in lookups if others <= tested),
                          key=lambda q: (not self._one_row(q), q.span.path, q.span.start))  # those that take one row first
            if not all(e.isidentifier() for e in key) or not mine:
                continue
            if any(kept.name in k and set(k) <= others | {kept.name} for k in _unique_keys(self.facts, table)):
                return None  # the copy is kept unique over the same scope
            # A migration step not read may make the copy unique: said, pointing at the steps that name the table.
            gaps = migration_gaps(self.facts, table.name)
            gaps = [u for u in gaps if re.search(rf"\b{re.escape(table.name)}\b", u.reason)] or gaps
            over = f"({', '.join(key)})" if len(key) > 1 else source.name
            wanted = ", ".join([kept.name, *(c for c in key if c != source.name)])
            more = f" and {len(mine) - 1} more place(s)" if len(mine) > 1 else ""
            return self.finding(
                f"{table.class_name or table.name}.{source.attr or source.name} is unique only as written (the key over "
                f"{over}), but the code looks {table.name} up by {kept.name}, its lower-cased copy (written at "
                f"{copy.span.path}:{copy.span.start}), at {mine[0].span.path}:{mine[0].span.start}{more}, and nothing "
                f"keeps {kept.name} unique: the database accepts 'Bob' and 'bob' as two rows (two requests at once, or "
                f"any writer that skips the application's own check), and from then on a lookup by {kept.name} matches "
                f"both; the unique key belongs on ({wanted})",
                source.span, f"table:{table.name}.{source.name}:case-sensitive-unique",
                related=[(copy.span, f"{kept.name} written lower-cased from {source.name}")]
                + [(q.span, f"looked up by {kept.name}") for q in mine[:10]], unsure=gaps,
            )
        return None

    def _one_row(self, q) -> bool:
        through = run_by_helper(self.facts, q) if q.escapes else None
        return any(m in _ONE_ROW for m in (through[0] if through else q.methods))

    def _folded_in_database(self, table: TableFact, column: str, hooks: bool = True) -> bool:
        """Does the database compare or keep `column` without case: an expression key over it, a CHECK that
        folds it, a CITEXT type or a collation (in the model or as the migrations leave it)? With `hooks`, a
        @validates hook on it may fold it too (not where the code keeps a folded copy of it elsewhere: the copy
        says it keeps the value as given)."""
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
        return hooks and col is not None and any(
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


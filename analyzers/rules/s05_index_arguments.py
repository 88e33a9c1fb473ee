"""Section 5: indexes and checks whose arguments say something else than they seem to: a column's name
given as the index's name, a column's name given as a string to a SQL function. Read from the models'
`Index(...)`/`CheckConstraint(...)` and the migrations' `create_index`/`create_table`, as the schema
facts hold them (analyzers/facts/columns.py)."""

from __future__ import annotations

from typing import Iterator

from analyzers.facts.model import ConstraintFact, Facts, IndexFact, TableFact
from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.examples_common import HEADER
from analyzers.rules.schema import table_sql

_ACCOUNT = HEADER + '''
class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    provider_account_id: Mapped[str] = mapped_column(String(64))
    __table_args__ = ({args},)
'''


def _tables(facts: Facts) -> Iterator[TableFact]:
    """Every table as the models define it, then as the migrations build it; not the tables of another database."""
    return (t for t in (*facts.tables.values(), *facts.migration_tables.values()) if not t.database)


def _indexes(facts: Facts) -> Iterator[tuple[TableFact, IndexFact, list[IndexFact]]]:
    """Each named index with the table it is on (the model's where a model declares it), and the same index
    where the migrations create it (same table and index name)."""
    seen: dict[tuple[str, str], tuple[TableFact, IndexFact, list[IndexFact]]] = {}
    for t in _tables(facts):
        for ix in t.indexes:
            if not ix.name:
                continue
            found = seen.get((t.name, ix.name))
            if found is None:
                seen[(t.name, ix.name)] = (t, ix, [])
            elif all(ix.span != other.span for other in (found[1], *found[2])):
                found[2].append(ix)
    return iter(seen.values())


class IndexNamedLikeColumn(Rule):
    """An index is named like a column of its table that it does not cover.

    What it checks:
        `Index("provider", "provider_account_id", unique=True)` in a model, and `op.create_index("provider",
        "accounts", ["provider_account_id"])` in a migration: an index whose name is that of another column
        of its table, while every column it lists is a plain column of the table. Warning for a unique index
        (the key is narrower than it reads), info for another.
    Why it matters:
        The first argument of `Index` is the index's name, not a column: the index covers
        provider_account_id alone. As a unique key it refuses the same provider_account_id from two
        providers, and lets nothing else through that the pair was meant to keep apart.
    Example:
        Index("provider", "provider_account_id", unique=True)
    Instead:
        Name the index first: `Index("ix_accounts_provider_account", "provider", "provider_account_id",
        unique=True)`; if the single column was meant, name the index after it (`ix_accounts_provider_account_id`).
    """

    ID = "INT018"
    ITEM = "5.5"
    SEVERITY = Severity.WARNING
    VALID = (_ACCOUNT.format(args='Index("ix_accounts_provider", "provider", "provider_account_id", unique=True)'),
             _ACCOUNT.format(args='Index("provider", "provider", unique=True)'))
    INVALID = (_ACCOUNT.format(args='Index("provider", "provider_account_id", unique=True)'),)

    def check(self):
        for t, ix, others in _indexes(self.facts):
            table, name = t.name, ix.name
            if name not in t.columns or name in ix.columns or not ix.columns or not set(ix.columns) <= set(t.columns):
                continue
            listed = ", ".join(ix.columns)
            if ix.unique:
                effect = (f"the unique key is ({listed}) alone: two rows with the same {listed} are refused "
                          f"whatever their {name}")
            else:
                effect = f"it is an index on ({listed}) alone, of no use to a query on {name}"
            yield self.finding(
                f"index {name} on {table} lists {listed} only: the first argument of an index is its name, so "
                f"\"{name}\", a column of {table}, names the index and is not one of its columns; {effect}. "
                f"If ({name}, {listed}) was meant, give the index a name of its own first",
                ix.span, f"table:{table}:index:{name}:named_like_column",
                severity=None if ix.unique else Severity.INFO, item=None if ix.unique else "3.3",
                related=[(o.span, f"index {name} where the migrations create it") for o in others],
            )


class FunctionOfLiteral(Rule):
    """An index or a CHECK applies a SQL function to a string where the column was meant.

    What it checks:
        `func.*("...")` among the elements of an `Index(...)` (in a model or a migration's `create_index`)
        or in a `CheckConstraint(...)`, given a string that is the name of a column of the table or holds a
        cast (`"value::text"`). Warning for a unique index or a CHECK, info for another index.
    Why it matters:
        SQLAlchemy binds a string given to `func.md5` as a value: the index is on `md5('value::text')`,
        the same constant for every row, not on the column. A unique index then holds only its other
        columns (the second row that shares them is refused); another index serves nothing; a CHECK tests
        the constant, always true or always false. Where a migration writes `md5(value::text)` as SQL, the
        models and the database disagree: only a schema built from the models gets the constant.
    Example:
        Index("ix_attr_value", "object_id", func.md5("value::text"), unique=True)
    Instead:
        `sa.text("md5(value::text)")`, or the column itself: `func.md5(sa.cast(Attribute.value, sa.Text))`.
    """

    ID = "INT019"
    ITEM = "5.5"
    SEVERITY = Severity.WARNING
    VALID = (_ACCOUNT.format(args='Index("ix_accounts_key", "provider", func.lower(provider_account_id), unique=True)'),
             _ACCOUNT.format(args='Index("ix_accounts_search", func.to_tsvector("simple", provider_account_id))'))
    INVALID = (_ACCOUNT.format(args='Index("ix_accounts_key", "provider", func.md5("provider_account_id::text"), unique=True)'),)

    def check(self):
        for t, ix, others in _indexes(self.facts):
            meant = self._meant(ix.literals, set(t.columns))
            if meant:
                yield self._index(t.name, ix.name, ix, others, meant)
        seen: set[tuple[str, str]] = set()
        for t in _tables(self.facts):
            for con in t.constraints:
                meant = self._meant(con.literals, set(t.columns)) if con.kind == "check" else None
                if meant and (t.name, con.name or meant) not in seen:
                    seen.add((t.name, con.name or meant))
                    yield self._check(t.name, con, meant)

    @staticmethod
    def _meant(literals: tuple[str, ...], columns: set[str]) -> str | None:
        """The first string that names a column of the table or casts (`"value::text"`), or None."""
        return next((s for s in literals if s in columns or "::" in s), None)

    def _index(self, table: str, name: str, ix: IndexFact, others: list[IndexFact], text: str):
        rest = [c for c in ix.columns if repr(text) not in c and f'"{text}"' not in c]
        if ix.unique:
            effect = (f"as a unique index it holds only ({', '.join(rest)}): the second row that shares them is refused"
                      if rest else "as a unique index it refuses every row after the first")
        else:
            effect = "the index serves no query on the column"
        sql = [st for st in table_sql(self.facts, table) if st.kind == "create_index" and st.details.get("name") == name]
        also = (f"; the migrations create {name} with SQL over ({', '.join(sql[0].details.get('columns') or ())}) (line "
                f"{sql[0].span.start} of {sql[0].span.path}), so only a schema built from the models (create_all, a test "
                "database) gets the constant, and autogenerate compares with the wrong index") if sql else ""
        return self.finding(
            f"index {name} on {table} gives the string '{text}' to a SQL function: SQLAlchemy binds a string as a value, "
            f"so the index reads the constant '{text}', the same for every row, not the column; {effect}{also}. Write "
            "the expression as sa.text(...) or pass the column itself",
            ix.span, f"table:{table}:index:{name}:literal",
            severity=None if ix.unique else Severity.INFO, item=None if ix.unique else "3.3",
            related=[*((o.span, f"index {name} where the migrations create it") for o in others),
                     *((st.span, f"{name} as the migrations' SQL creates it") for st in sql[:1]
                       if all(o.span != st.span for o in others))],
        )

    def _check(self, table: str, con: ConstraintFact, text: str):
        return self.finding(
            f"check constraint {con.name or '(unnamed)'} on {table} gives the string '{text}' to a SQL function: "
            f"SQLAlchemy binds a string as a value, so the CHECK tests the constant '{text}', not the column: it is "
            "true for every row (it checks nothing) or false for every row (every insert fails). Write the condition "
            "as a string of SQL or with the column itself",
            con.span, f"table:{table}:check:{con.name or text}:literal", item="5.6",
        )

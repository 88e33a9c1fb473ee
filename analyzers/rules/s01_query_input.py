"""Section 1 (beside the SQL built from strings): queries whose shape a caller's value decides without SQL text, a
sort column picked by name and a LIKE pattern built around a value, followed to where the value comes from
(analyzers/facts/query_input.py)."""

from __future__ import annotations

import ast

from analyzers.facts.flow import RISK
from analyzers.facts.model import Span
from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.fixed_sets import fixed_sets
from analyzers.rules.s01_sql_strings import through
from analyzers.rules.s02_secrets import secret_column
from analyzers.rules.schema import PASSWORD_COLUMN, is_test_path

_ROUTE = '''
from fastapi import APIRouter
from sqlalchemy import select
from app.models import User

router = APIRouter()
'''
_MODELS = '''
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

class Base(DeclarativeBase):
    pass

class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
'''


def _uses(facts, kind: str):
    return [q for m in facts.modules if not is_test_path(m.path) for q in m.query_inputs if q.kind == kind]


def _followed(q) -> list[tuple[Span, str]]:
    """The lines the value was followed through, for the reader to see where it comes from."""
    return [(Span(q.span.path, line, line), f"`{q.value}` followed through here") for line in q.trail]


def _picked_from_literals(facts, q) -> bool:
    """Is the sort name a literal on every way it comes, followed past the module to the calls of its function in
    the project's other modules (analyzers/rules/fixed_sets.py)?"""
    sets = fixed_sets(facts)
    func = sets.function_at(q.span.path, q.owner, q.function, q.span.start)
    if func is None:
        return False
    lookup = next((n for n in ast.walk(func) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                   and n.func.id == "getattr" and len(n.args) >= 2 and n.lineno == q.span.start
                   and ast.unparse(n.args[1])[:60] == q.value), None)
    return lookup is not None and sets.fixed(q.span.path, func, lookup.args[1])


class SortByName(Rule):
    """A query sorts by an attribute a caller names.

    What it checks:
        `order_by(getattr(Model, value))` (or the attribute looked up first and sorted by after), where the
        name is followed (within its function and module) to the request: a warning where the model has
        columns that hold secrets (a password hash, a token, a reset key), which the sort then reveals
        the order of; info otherwise. Where the name could not be followed to its source (a parameter
        whose callers are elsewhere), info that says so (for a Core table's `.c`, which holds only columns, only
        where the table has secret columns), unless every call of its function in the project's other modules
        passes a literal or an item of a literal list or dict, followed through the callers' helpers a couple of
        calls deep (`[Sort("created_at", True)]`, `Sort(field=names[i])` of a literal `names`): no finding then.
        A name checked against a list first, a constant,
        an enum member, a parameter typed with an enum or the attribute of one that its class (a GraphQL or
        pydantic input, in any module) declares an enum or a Literal (`sort.col.value` of `col: SortColumn`):
        no finding. What a name that is no attribute does is said: the query raises, or a handler of
        AttributeError around the lookup skips it (`pass`) or refuses it (raises an error of its own).
    Why it matters:
        Any attribute of the model can be named: sorting users by `password_hash` or `reset_key` and
        paging through the result is an oracle on the secrets (the order leaks their prefixes); a method or a
        relationship's name makes the query raise (a 500); and the sort may fall on a column no index serves.
    Example:
        @router.get("/users")
        def users(db, sort: str = "name"):
            return db.scalars(select(User).order_by(getattr(User, sort)))
    Instead:
        Map the allowed names to columns: `SORTS = {"name": User.name, "created": User.created_at}` and
        `order_by(SORTS[sort])` after checking `sort in SORTS`.
    """

    ID = "CFG009"
    ITEM = "1.5"
    SEVERITY = Severity.WARNING
    INVALID = ({"app/models.py": _MODELS, "app/routes.py": _ROUTE + '''
@router.get("/users")
def users(db, sort: str = "name"):
    return db.scalars(select(User).order_by(getattr(User, sort)))
'''},)
    VALID = ({"app/models.py": _MODELS, "app/routes.py": _ROUTE + '''
SORTS = ("name", "id")

@router.get("/users")
def users(db, sort: str = "name"):
    if sort not in SORTS:
        raise ValueError(sort)
    return db.scalars(select(User).order_by(getattr(User, sort)))
'''},)

    def check(self):
        by_value: dict[str, list] = {}  # one finding per function and value (`asc(...)` and `desc(...)` branches)
        for q in _uses(self.facts, "order"):
            if q.via and all(through(self.facts, q.span.path, name) for name in q.via):
                continue  # an enum's member (`sort.col.value` of `col: SortColumn`): one of a fixed set of names
            if q.source in RISK and q.source not in ("configuration", "stored"):
                by_value.setdefault(f"sort:{q.span.path}:{q.function}:{q.value}", []).append(q)
        for found in by_value.values():
            q, again = found[0], [(u.span, f"sorted by `{u.value}` again") for u in found[1:]]
            # `getattr(users.c, sort)`: a Table's columns, named by the table
            core = q.model.removesuffix(".columns").removesuffix(".c") if q.model.endswith((".c", ".columns")) else None
            model = q.owner if q.model in ("cls", "self") else (core or q.model).rsplit(".", 1)[-1]
            table = next((t for t in self.facts.tables.values()
                          if t.class_name == model or core and t.class_name is None and t.name == model), None)
            secrets = [c.name for c in table.columns.values()
                       if PASSWORD_COLUMN.search(c.name) or secret_column(table, c)] if table is not None else []
            shown = [(c.span, f"{table.name}.{c.name}") for c in table.columns.values() if c.name in secrets[:3]] if secrets else []
            where = f"{q.function} ({q.span.path}:{q.span.start})"
            said = f"{where} sorts {model} by the attribute named by `{q.value}`"
            bad = ("a name that is not an attribute is skipped (the lookup is inside a try that catches AttributeError)"
                   if q.caught else f"a name that is not an attribute is refused with the error raised at line {q.refused}"
                   if q.refused else "a name that is not a column makes the query raise")
            if q.source == "request":
                if secrets:
                    yield self.finding(
                        f"{said}, which comes from the request ({q.why}): a caller can sort by any attribute, "
                        f"{', '.join(f'{table.name}.{c}' for c in secrets[:3])} included, and page through the result "
                        f"to learn the order of those secrets; {bad}",
                        q.span, f"sort:{q.span.path}:{q.function}:{q.value}", related=_followed(q) + shown + again)
                else:
                    yield self.finding(
                        f"{said}, which comes from the request ({q.why}): a caller can sort by any attribute of "
                        f"{model}, one no index serves included, and {bad}",
                        q.span, f"sort:{q.span.path}:{q.function}:{q.value}", severity=Severity.INFO, related=_followed(q) + again)
            elif core is not None and not secrets:
                continue  # a Table's `.c` holds columns only: unfollowed, all a bad name does is raise
            elif _picked_from_literals(self.facts, q):
                continue  # every caller, in any module, passes a literal or an item of a literal list or dict
            else:
                secret_note = (f" ({model} has {', '.join(f'{table.name}.{c}' for c in secrets[:3])}: sorted by, their "
                               "order leaks)") if secrets else ""
                yield self.finding(
                    f"{said}, and where that name comes from was not followed ({q.why}): if a caller gives it, any "
                    f"attribute can be sorted by{secret_note} and {bad}; "
                    "check that it is picked from a fixed set",
                    q.span, f"sort:{q.span.path}:{q.function}:{q.value}", severity=Severity.INFO, related=_followed(q) + shown + again)


class LikeFromInput(Rule):
    """A LIKE pattern is built around a value from the request without escaping its wildcards.

    What it checks:
        `.like()` / `.ilike()` given a pattern made of wildcards and a value (`f"%{q}%"`, `"%" + q + "%"`)
        with no `escape=` and no escaping on the way, where the value is followed (within its function and
        module) to the request. Info: what it changes is which rows match.
    Why it matters:
        `%` and `_` in the value are wildcards too: a search for `a_b` also finds `axb`, and `%` alone matches
        every row (on a large table with a leading wildcard, a full scan per request).
    Example:
        @router.get("/users")
        def users(db, q: str):
            return db.scalars(select(User).where(User.name.ilike(f"%{q}%")))
    Instead:
        Escape the value (`q.replace("\\\\", "\\\\\\\\").replace("%", "\\\\%").replace("_", "\\\\_")`) and pass
        `escape="\\\\"`, or use SQLAlchemy's `User.name.icontains(q, autoescape=True)`.
    """

    ID = "CFG010"
    ITEM = "1.5"
    SEVERITY = Severity.INFO
    INVALID = ({"app/models.py": _MODELS, "app/routes.py": _ROUTE + '''
@router.get("/users")
def users(db, q: str):
    return db.scalars(select(User).where(User.name.ilike(f"%{q}%")))
'''},)
    VALID = ({"app/models.py": _MODELS, "app/routes.py": _ROUTE + '''
@router.get("/users")
def users(db, q: str):
    return db.scalars(select(User).where(User.name.icontains(q, autoescape=True)))
'''},)

    def check(self):
        by_value: dict[str, list] = {}  # one finding per function and value, however many columns it searches
        for q in _uses(self.facts, "like"):
            if q.source == "request":
                by_value.setdefault(f"like:{q.span.path}:{q.function}:{q.value}", []).append(q)
        for anchor, found in by_value.items():
            q = found[0]
            others = sorted({u.span.start for u in found} - {q.span.start})
            more = f" (and at line{'s' if len(others) > 1 else ''} {', '.join(map(str, others))})" if others else ""
            yield self.finding(
                f"{q.function} ({q.span.path}:{q.span.start}{more}) builds a LIKE pattern around `{q.value}`, which comes "
                f"from the request ({q.why}), without escaping it: a % or _ in it is a wildcard too, so % alone "
                "matches every row and a search for a_b also finds axb",
                q.span, anchor, related=_followed(q) + [(u.span, "the same value in a LIKE pattern") for u in found[1:6]])

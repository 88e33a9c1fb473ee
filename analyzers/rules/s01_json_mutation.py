"""Section 1 (session management): a change the session does not see. A JSON value of a loaded row changed in
place and committed: SQLAlchemy tracks assignments to a mapped attribute, not changes inside the value it holds."""

from __future__ import annotations

import re

from analyzers.facts.model import ColumnFact, Span, TableFact
from analyzers.facts.names import module_name
from analyzers.facts.paths import is_test_path
from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.examples_common import HEADER
from analyzers.rules.s05_integrity import _uncalled
from analyzers.rules.s05_lost_updates import _a, _classes_and_loads, _function_text, _persisted, name_of
from analyzers.rules.schema import is_tooling_path

_JSON = ("JSON", "JSONB")
# Mutation tracking set up for the type: `MutableDict.as_mutable(JSONB)`, `MutableList.associate_with(JSON)`, a
# library's tracking type (sqlalchemy-json's `NestedMutableJson`, `mutable_json_type(...)`).
_TRACKED = re.compile(r"Mutable|as_mutable|associate_with|mutable_json_type")


class InPlaceJsonChange(Rule):
    """A JSON column of a loaded row is changed in place and committed: SQLAlchemy does not write the change.

    What it checks:
        A function that loads a row (`session.get(Model, ...)`, a query of the model in the same function, or a
        parameter typed with the model) and changes the value of one of its JSON or JSONB columns (or of a
        TypeDecorator over them) in place: `obj.data["k"] = v`, `del obj.data["k"]`, `obj.data.update(...)`,
        `obj.tags.append(x)` (at any depth of items), then commits or flushes in the same function. Not when the
        column is wrapped in mutation tracking (`MutableDict.as_mutable(JSONB)`, `MutableList`, a type the code
        associates with one, sqlalchemy-json's types), the function assigns the attribute (`obj.data = {...}`) or
        marks it (`flag_modified(obj, "data")`, `setattr`), the object is one its callers have just made, or
        nothing in the application calls the function. A column typed only by its annotation (`Mapped[dict]`),
        whose type the declarative base's `type_annotation_map` decides, is judged only where that map is read
        and does not track mutations. Tests, scripts and migrations are not read.
    Why it matters:
        SQLAlchemy writes a column when its attribute is assigned; a change inside the dict or list the
        attribute holds is not an assignment. The commit then writes nothing for that column: the change is
        lost silently, and the object in memory shows it until the session expires it, so the request
        that made it reports success.
    Example:
        prefs = session.get(Preferences, user_id)
        prefs.settings["theme"] = theme
        session.commit()
    Instead:
        Mark the attribute changed (`from sqlalchemy.orm.attributes import flag_modified;
        flag_modified(prefs, "settings")`), assign a new value (`prefs.settings = {**prefs.settings, "theme":
        theme}`), or declare the column with mutation tracking (`MutableDict.as_mutable(JSONB)`; it tracks
        top-level keys only).
    """

    ID = "CFG017"
    ITEM = "1.5"
    SEVERITY = Severity.WARNING
    _MODELS = HEADER + '''
from sqlalchemy.ext.mutable import MutableDict


class Preferences(Base):
    __tablename__ = "preferences"
    user_id: Mapped[int] = mapped_column(primary_key=True)
    settings: Mapped[dict] = mapped_column({column}, default=dict)
'''
    _CODE = '''
from fastapi import APIRouter
from sqlalchemy.orm.attributes import flag_modified
from models import Preferences
router = APIRouter()

@router.put("/users/{{user_id}}/theme")
def set_theme(session, user_id: int, theme: str):
    prefs = session.get(Preferences, user_id)
    {change}
    session.commit()
'''
    INVALID = (
        {"models.py": _MODELS.format(column="JSONB"), "app/prefs.py": _CODE.format(change='prefs.settings["theme"] = theme')},
        {"models.py": _MODELS.format(column="JSONB"), "app/prefs.py": _CODE.format(change='prefs.settings.update(theme=theme)')},
    )
    VALID = (
        {"models.py": _MODELS.format(column="JSONB"), "app/prefs.py": _CODE.format(
            change='prefs.settings["theme"] = theme\n    flag_modified(prefs, "settings")')},
        {"models.py": _MODELS.format(column="JSONB"), "app/prefs.py": _CODE.format(
            change='prefs.settings = {**prefs.settings, "theme": theme}')},
        {"models.py": _MODELS.format(column="MutableDict.as_mutable(JSONB)"), "app/prefs.py": _CODE.format(
            change='prefs.settings["theme"] = theme')},
    )

    def check(self):
        facts = self.facts
        classes, queries, loads = _classes_and_loads(facts)
        found: dict[tuple[str, str, str, str], list] = {}
        for m in facts.modules:
            if not m.in_place or is_test_path(m.path) or is_tooling_path(m.path):
                continue
            for change in m.in_place:
                loaded = self._loaded(change, m, classes, loads.get((m.path, change.function), ()))
                if loaded is None:
                    continue
                table, how = loaded
                column = self._untracked_json(table, change.attr)
                if column is None or change.fresh:
                    continue
                found.setdefault((m.path, change.function, name_of(table), change.attr), []).append((change, table, column, how))
        for (path, function, cls, attr), changes in found.items():
            change, table, column, how = changes[0]
            first, text = _function_text(facts, change.span)
            saved = _persisted(text, first, change.span.end, None)
            if saved is None or _uncalled(facts, change) is not None:
                continue
            where = f"{change.owner}.{function}" if change.owner else function
            written = "; ".join(dict.fromkeys(f"`{c.written}`" for c, *_ in changes))
            yield self.finding(
                f"{where} {how} and changes its {attr} ({column.type_name} column {table.name}.{column.name}, with no "
                f"mutation tracking) in place ({written}), then {saved}: SQLAlchemy writes a column when its attribute "
                f"is assigned, not when the dict or list it holds changes, so the commit writes nothing for "
                f"{attr} and the change is lost. Call flag_modified({change.holder}, \"{attr}\") after the change, "
                f"assign a new value, or declare the column with MutableDict/MutableList.as_mutable()",
                change.span, f"function:{path}:{function}:{cls}.{attr}:in-place",
                related=[(c.span, f"{c.written}: also in place") for c, *_ in changes[1:]])

    def _loaded(self, change, m, classes, queries) -> tuple[TableFact, str] | None:
        """The table of the row `change` is made on and how the function has it; None when it is not shown to
        be a row of one model loaded from the database."""
        kind, name = change.origin
        if kind == "":
            for q, table in queries:
                if (change.attr, change.target) in q.reached:
                    return table, f"loads {_a(name_of(table))} row with the query at line {q.span.start}"
            return None
        if kind not in ("get", "param") or not name:
            return None
        tables = [t for t in classes.get(name, []) if _imported_from(m, change.model_ref or name, t)]
        if len(tables) != 1:
            return None
        if kind == "get":
            return tables[0], f"loads {_a(name)} row with session.get()"
        return tables[0], f"takes {_a(name)} row as a parameter typed with the model"

    def _untracked_json(self, table: TableFact, attr: str) -> ColumnFact | None:
        """The JSON column `attr` of the table when nothing tracks changes inside its value."""
        column = next((c for c in table.columns.values() if (c.attr or c.name) == attr), None)
        if column is None or (column.type_name not in _JSON and column.type_args.get("impl") not in _JSON):
            return None
        if any(_TRACKED.search(line) for line in self.facts.lines(column.span)):
            return None
        if column.type_args.get("annotated") and not self._mapped_untracked(table):
            return None
        if self._associated(column):
            return None
        return column

    def _mapped_untracked(self, table: TableFact) -> bool:
        """The declarative bases' `type_annotation_map` is read and tracks no mutations: a `Mapped[dict]` column
        is then plain JSON. Where no map is found the type is not known (SQLAlchemy has no default for dict)."""
        maps = [line for m in self.facts.modules if "type_annotation_map" in m.mentions
                for line in self.facts.lines(Span(m.path, 1, 10**7)) if "type_annotation_map" in line or "JSON" in line]
        return any("JSON" in line for line in maps) and not any(_TRACKED.search(line) for line in maps)

    def _associated(self, column: ColumnFact) -> bool:
        """Some module sets up tracking for the column's type (`MutableDict.associate_with(JSONB)`, or for its
        TypeDecorator) or defines the TypeDecorator with a Mutable base: dbreview does not follow which."""
        if not hasattr(self, "_tracking"):
            self._tracking = [line for m in self.facts.modules
                              if {"associate_with", "as_mutable", "MutableDict", "MutableList", "Mutable"} & set(m.mentions)
                              for line in self.facts.lines(Span(m.path, 1, 10**7)) if _TRACKED.search(line)]
        names = {column.type_name, column.type_args.get("impl")} - {None}
        return any(re.search(rf"\b{re.escape(n)}\b", line) and "associate_with" in line for n in names for line in self._tracking) \
            or (column.type_name not in _JSON and any(re.search(rf"\b{re.escape(column.type_name or '')}\b", line)
                                                      for line in self._tracking))


def _imported_from(m, ref: str, table: TableFact) -> bool:
    """Does the class `ref` (qualified through the module's imports) map `table` (not a schema of the same
    name): defined in the module itself, or imported from the table's module or a package above it."""
    package = ref.rpartition(".")[0]
    if not package:
        return table.path == m.path
    return f".{package}." in f".{module_name(table.path)[0]}."

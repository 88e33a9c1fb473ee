"""The names a MetaData's `naming_convention` gives constraints a migration creates unnamed.

Alembic builds the tables and constraints of `op.*` calls on a MetaData that carries the convention of
env.py's target_metadata, so a foreign key created without a name is called what the convention says
(`%(table_name)s_%(column_0_name)s_%(referred_table_name)s_fkey`), not PostgreSQL's default, and a later
revision drops it by that name. The replay keeps both names; a template with a token it cannot fill
(`%(constraint_name)s` of an unnamed constraint) gives none."""

from __future__ import annotations

import ast
import re

from analyzers.facts.model import CallFact, Facts

_TOKEN = re.compile(r"%\((\w+)\)s")
_KEYS = {"foreign_key": ("fk", "foreign_key"), "unique": ("uq", "unique"), "check": ("ck",), "primary_key": ("pk", "primary_key")}
_MAX = 63  # longer names SQLAlchemy shortens with a hash, which dbreview does not reproduce


def conventions_of(facts: Facts) -> tuple[dict[str, str], ...]:
    found = facts.derived.get("naming_conventions")
    if found is None:
        found = facts.derived["naming_conventions"] = naming_conventions(facts.calls)
    return found  # type: ignore[return-value]


def naming_conventions(calls: list[CallFact]) -> tuple[dict[str, str], ...]:
    """Every literal `MetaData(naming_convention={...})` of the target (a name or a call is not followed)."""
    out: list[dict[str, str]] = []
    for c in calls:
        if not (c.name.endswith("MetaData") and "naming_convention" in c.kwargs):
            continue
        try:
            value = ast.literal_eval(c.kwargs["naming_convention"])
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue
        if isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()) and value not in out:
            out.append(value)
    return tuple(out)


def convention_names(conventions: tuple[dict[str, str], ...], table: str, kind: str, columns: tuple[str, ...],
                     referred: str | None = None) -> tuple[str, ...]:
    names: list[str] = []
    for convention in conventions:
        template = next((convention[k] for k in _KEYS.get(kind, ()) if k in convention), None)
        name = _fill(template, table, columns, referred) if template else None
        if name and len(name) <= _MAX and name not in names:
            names.append(name)
    return tuple(names)


def _fill(template: str, table: str, columns: tuple[str, ...], referred: str | None) -> str | None:
    values = {
        "table_name": table, "referred_table_name": referred,
        "column_0_name": columns[0] if columns else None, "column_0_label": f"{table}_{columns[0]}" if columns else None,
        "column_0_N_name": "_".join(columns) or None, "column_0N_name": "".join(columns) or None,
    }
    tokens = _TOKEN.findall(template)
    if any(values.get(t) is None for t in tokens):
        return None
    return _TOKEN.sub(lambda m: str(values[m.group(1)]), template)

"""Enum labels the model's native enum has and no migration ever writes (MIG006's enum drift): on PostgreSQL
the database type lacks them, and an insert of one fails. Only labels dbreview reads on both sides: string
literals in the model's `Enum(...)` or the members of a Python enum it names, against every quoted string of the
migrations (a label no revision file spells cannot have been added). Nothing where the migrations build the
type's labels from code (a Python enum, a list, an f-string), nor for an enum stored as VARCHAR."""

from __future__ import annotations

import ast
import re

from analyzers.facts.model import ClassFact, ColumnFact, Facts, Span, TableFact
from analyzers.rules.drift import quoted_in_migrations

_NATIVE = ("Enum", "ENUM")


def _literal(text: str | None) -> str | None:
    try:
        value = ast.literal_eval(text or "")
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


def _labels(values: str) -> list[str] | None:
    """The labels of `Enum('a', 'b')` as written (its positional arguments' source), or None if any is not a
    string literal."""
    try:
        parsed = ast.literal_eval(f"[{values}]")
    except (ValueError, SyntaxError):
        return None
    return parsed if parsed and all(isinstance(v, str) for v in parsed) else None


def _enum_class(facts: Facts, name: str) -> ClassFact | None:
    found = [c for m in facts.modules for c in m.classes if c.name == name.rsplit(".", 1)[-1]]
    return found[0] if len(found) == 1 else None


def _members(facts: Facts, cls: ClassFact, by_value: bool) -> dict[str, str | None] | None:
    """A Python enum's member names (what SQLAlchemy stores by default), or their values (`values_callable`)
    where each is a string literal, each with its value where that is a string literal; None where the body
    holds what dbreview cannot read."""
    try:
        tree = ast.parse("\n".join(facts.lines(cls.span)).strip())
    except SyntaxError:
        return None
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    out: dict[str, str | None] = {}
    for node in body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name.startswith("_"):
                continue
            value = node.value.value if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str) else None
            if by_value and value is None:
                return None
            out[value if by_value else name] = value
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Expr, ast.Pass, ast.ClassDef)):
            return None  # members made some other way (auto() in a loop, annotations): not read
    return out or None


def model_labels(facts: Facts, model: TableFact, col: ColumnFact) -> tuple[dict[str, str | None], str] | None:
    """(the labels the model writes, each with its Python enum member's value where it writes the member's name;
    the enum type's name) for a native enum column whose labels dbreview reads."""
    args = col.type_args
    if col.type_name not in _NATIVE or args.get("native_enum") == "False" or args.get("unresolved") or col.from_library:
        return None
    if args.get("annotated") and model.unknown_bases:
        return None  # a base's type_annotation_map may store it otherwise
    if args.get("impl") and args["impl"] not in _NATIVE:
        return None  # the project's own Enum type over INT (a TypeDecorator): it stores numbers, no database enum
    values = args.get("values", "")
    literal = _labels(values)
    labels: dict[str, str | None] | None = dict.fromkeys(literal) if literal else None
    name = _literal(args.get("name"))
    if labels is None and values.replace(".", "").isidentifier():
        cls = _enum_class(facts, values)
        callable_ = args.get("values_callable")
        if cls is None or callable_ is not None and ".value" not in callable_:
            return None
        labels = _members(facts, cls, by_value=callable_ is not None)
        if labels and callable_ is not None:
            labels = dict.fromkeys(labels)  # the values themselves are written
        name = name or cls.name.lower()
    return (labels, name) if labels and name else None


_BUILDS = re.compile(r"\{|%s|%\(|\.format\(|Enum\(\s*\*|Enum\(\s*[A-Za-z_][\w.]*\s*[,)]")


def built_from_code(facts: Facts, type_name: str) -> bool:
    """A revision line naming the type that builds text or labels from code: an f-string, `%`, `.format(`, a
    list spliced into `Enum(*labels)`, a Python enum, alembic-postgresql-enum's sync."""
    synced, building = _building_lines(facts)
    word = re.compile(rf"(?<![\w]){re.escape(type_name)}(?![\w])")
    return synced or any(word.search(line) for line in building)


def _building_lines(facts: Facts) -> tuple[bool, list[str]]:
    """Whether a revision line syncs the enums, and the revision lines that build text from code: read once a
    scan, not once per enum column (fides: 398 revisions)."""
    found = facts.derived.get("enum_building_lines")
    if found is None:
        lines = [line for path in dict.fromkeys(r.path for r in facts.revisions) for line in facts.lines(Span(path, 1, 10**9))]
        found = facts.derived["enum_building_lines"] = (
            any("sync_enum_values" in line for line in lines), [line for line in lines if _BUILDS.search(line)])
    return found  # type: ignore[return-value]


def enum_drift(facts: Facts, model: TableFact, db: TableFact) -> list[tuple[ColumnFact, ColumnFact, str, list[str], str]]:
    """(model column, migrated column, the database type's name, labels no migration writes, and where those are a
    Python enum's member names whose values the migrations do spell, what that says) per column."""
    out = []
    for col in model.columns.values():
        other = db.columns.get(col.name)
        read = model_labels(facts, model, col) if other is not None else None
        if read is None or other.type_name not in _NATIVE or other.type_args.get("native_enum") == "False":
            continue
        labels, name = read
        db_name = _literal(other.type_args.get("name")) or name
        if built_from_code(facts, db_name) or _labels(other.type_args.get("values", "")) is None and other.type_args.get("values"):
            continue
        missing = [label for label in labels if not quoted_in_migrations(facts, label)]
        values = [labels[m] for m in missing]
        names = ""
        if all(v is not None and quoted_in_migrations(facts, v) for v in values):
            names = (f"SQLAlchemy writes a Python enum's member names ({', '.join(missing)}), not their values "
                     f"({', '.join(repr(v) for v in values)}, which the migrations create), unless the Enum has values_callable; "
                     "a row that holds one of the values fails to load (LookupError: not among the defined enum values)")
        if missing:
            out.append((col, other, db_name, missing, names))
    return out

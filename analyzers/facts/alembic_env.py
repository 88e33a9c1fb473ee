"""An Alembic env.py as autogenerate sees it: the MetaData it compares the database with
(`target_metadata`), and whether it filters what is compared (include_object, include_name). Read,
never run: what the names stand for is resolved when the target is linked."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from analyzers.facts.columns import span_of
from analyzers.facts.model import Span
from analyzers.facts.names import Names

_FILTERS = ("include_object", "include_name")


@dataclass(frozen=True, slots=True)
class MetadataTarget:
    """One MetaData given as target_metadata (a list gives several)."""

    name: str | None  # qualified dotted name (`app.db.Base.metadata`); None: not a name (a call, a subscript)
    text: str  # as written
    span: Span


@dataclass(slots=True)
class AlembicEnv:
    targets: list[MetadataTarget] = field(default_factory=list)
    filters: list[Span] = field(default_factory=list)  # context.configure(include_object=..., **options)


def is_env(path: str) -> bool:
    return path.rsplit("/", 1)[-1] == "env.py"


def read_env(tree: ast.Module, names: Names, path: str) -> AlembicEnv | None:
    """`target_metadata = ...` anywhere in the file, and what `context.configure(target_metadata=...)`
    is given other than that name. None when the file gives no target_metadata at all."""
    env = AlembicEnv()
    given: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "target_metadata" for t in node.targets):
            given.append(node.value)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "configure":
            for k in node.keywords:
                if k.arg == "target_metadata" and not (isinstance(k.value, ast.Name) and k.value.id == "target_metadata"):
                    given.append(k.value)
                elif k.arg in _FILTERS or k.arg is None:  # `**conf_args` may hold a filter too
                    env.filters.append(span_of(k.value, path))
    for value in given:
        for elt in value.elts if isinstance(value, (ast.List, ast.Tuple)) else [value]:
            if isinstance(elt, ast.Constant) and elt.value is None:
                continue
            env.targets.append(MetadataTarget(_qualified(elt, names), ast.unparse(elt), span_of(elt, path)))
    return env if env.targets else None


def _qualified(node: ast.AST, names: Names) -> str | None:
    """`Base.metadata` -> `app.db.Base.metadata` through the imports; a name the module binds itself is
    qualified by the module."""
    if not isinstance(node, (ast.Name, ast.Attribute)):
        return None
    dotted = names.qualname(node)
    if not dotted:
        return None  # `current_app.extensions["migrate"].db.metadata`: a subscript on the way
    root = node
    while isinstance(root, ast.Attribute):
        root = root.value
    return dotted if isinstance(root, ast.Name) and root.id in names.imports else f"{names.module}.{dotted}"

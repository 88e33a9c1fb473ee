"""What a name in a module stands for, from its imports alone (the target is never imported)."""

from __future__ import annotations

import ast
from collections import deque
from typing import Iterator


class Names:
    """Maps local names to qualified ones: `sa` -> `sqlalchemy`, `DT` -> `sqlalchemy.DateTime`."""

    def __init__(self, tree: ast.Module, module: str, is_package: bool) -> None:
        self.module = module
        self.aliases: dict[str, str] = {}
        self.stars: list[str] = []  # `from x import *`: names this module takes from x
        for node in all_statements(tree) if _has_nested_imports(tree) else tree.body:
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        self.aliases[a.asname] = a.name
                    else:
                        top = a.name.split(".")[0]
                        self.aliases[top] = top
            elif isinstance(node, ast.ImportFrom):
                base = absolute(module, is_package, node)
                for a in node.names:
                    if a.name == "*":
                        self.stars.append(base)
                    else:
                        self.aliases[a.asname or a.name] = f"{base}.{a.name}" if base else a.name
        self.imports = dict(self.aliases)  # what the imports alone bind (the aliases below are inferred)
        # The module's string constants (`USER_ID = "user.id"`): what `ForeignKey(USER_ID)` names.
        self.strings = {t.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
                        and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
                        for t in node.targets if isinstance(t, ast.Name)}
        # Flask-SQLAlchemy style `db = SQLAlchemy()`: db.Column, db.Model ... behave like sqlalchemy's.
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call)
                and self.qualname(node.value.func).endswith("SQLAlchemy")
            ):
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        self.aliases[t.id] = "sqlalchemy"

    def qualname(self, node: ast.AST) -> str:
        """Dotted name of a Name/Attribute chain with the first part resolved; '' if not a name."""
        if node.__class__ is ast.Name:  # the commonest case, without a list (ast.parse makes no subclasses)
            return self.aliases.get(node.id, node.id)
        parts: list[str] = []
        while node.__class__ is ast.Attribute:
            parts.append(node.attr)
            node = node.value
        if node.__class__ is not ast.Name:
            return ""
        parts.append(self.aliases.get(node.id, node.id))
        return ".".join(reversed(parts))

    def callee(self, call: ast.AST) -> str:
        return self.qualname(call.func) if isinstance(call, ast.Call) else ""


def absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The module a `from` import names, its relative levels resolved against the importing module."""
    base = node.module or ""
    if not node.level:
        return base
    package = module if is_package else module.rpartition(".")[0]
    parts = package.split(".") if package else []
    parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
    return ".".join(p for p in [*parts, base] if p)


def _has_nested_imports(tree: ast.Module) -> bool:
    # Imports inside `if TYPE_CHECKING:` or try/except still bind names we need.
    return any(isinstance(n, (ast.If, ast.Try)) for n in tree.body)


# The fields that hold statements (or except handlers and match cases, which hold statements).
BODIES = frozenset(("body", "orelse", "finalbody", "handlers", "cases"))


def all_statements(tree: ast.Module | ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[ast.AST]:
    """Every statement under a module or function at any depth, in the order ast.walk meets them (breadth first,
    fields in order), without entering an expression: imports are statements, and expressions are most
    of a tree's nodes. Finds the same imports as ast.walk, in the same order, in a tenth of the time."""
    todo = deque(tree.body)
    while todo:
        node = todo.popleft()
        yield node
        for name in node._fields:
            if name in BODIES:
                todo.extend(getattr(node, name))


_BLOCKS = (ast.With, ast.AsyncWith, ast.If, ast.Try, getattr(ast, "TryStar", ast.Try))


def module_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements a module runs as it is imported, in order, those inside its `with`, `if` and `try` blocks
    included (a model declared under `with warnings.catch_warnings():` is a model), but not the body of
    `if TYPE_CHECKING:`, which never runs, nor what functions and classes hold."""
    for node in body:
        yield node
        if not isinstance(node, _BLOCKS):
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from module_level(node.orelse)
            continue
        for block in (node.body, getattr(node, "orelse", []), getattr(node, "finalbody", []),
                      *(h.body for h in getattr(node, "handlers", []))):
            yield from module_level(block)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def last(qualname: str) -> str:
    return qualname.rsplit(".", 1)[-1]


def is_sqlalchemy(qualname: str) -> bool:
    return qualname.startswith(("sqlalchemy", "sqlmodel")) or "." not in qualname


def const_str(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def const_bool(node: ast.AST | None) -> bool | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return node.value
    return None


def kwargs(call: ast.Call) -> dict[str, ast.expr]:
    return {k.arg: k.value for k in call.keywords if k.arg}


def source(node: ast.AST | None) -> str | None:
    return None if node is None else ast.unparse(node)


def module_name(path: str) -> tuple[str, bool]:
    """Dotted module name for a repository-relative path, and whether it is a package's __init__."""
    parts = path[:-3].split("/") if path.endswith(".py") else path.split("/")
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(p.replace("-", "_").replace(" ", "_") for p in parts), is_package

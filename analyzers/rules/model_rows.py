"""How a revision uses a model class it imports: to load or write whole rows (the class queried or
selected, an instance added to a session), which takes every column the model has today; or only by
named columns (bulk update/delete, `Model.column`, `insert(Model).values(...)`), which takes only those."""

from __future__ import annotations

import ast

# Calls whose argument, the class itself, makes a statement over every mapped column.
_WHOLE_ROWS = {"query", "select", "get", "get_one", "with_entities"}
# A query chain ending in these changes rows by condition and never loads them whole (count() does:
# it counts a subquery of every column).
_BULK = {"update", "delete"}
# A query chain through this selects what it is given instead (`query(User).with_entities(User.id, User.email)`).
_PICKED = "with_entities"
# An instance of the class reaches the database only through a session.
_SESSION_WRITES = {"add", "add_all", "merge", "bulk_save_objects"}


def model_rows(tree: ast.Module, local: str) -> str:
    """'whole' when the revision loads or writes whole rows of the class bound to `local` (a name, or
    `module.Class` for a class reached through an imported module); 'columns' when every use names its
    columns; 'unknown' when a use goes where this cannot follow (the class passed to a function of the
    revision's own, kept in a variable...)."""
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    writes = any(isinstance(n, ast.Call) and _callee(n) in _SESSION_WRITES for n in ast.walk(tree))
    verdict = "columns"
    for node in ast.walk(tree):
        if not (_names(node, local) and isinstance(node.ctx, ast.Load)):  # type: ignore[attr-defined]
            continue
        use = _use(node, parents, writes)
        if use == "whole":
            return "whole"
        if use == "unknown":
            verdict = "unknown"
    return verdict


def _names(node: ast.AST, dotted: str) -> bool:
    """Whether `node` is the name or attribute chain `dotted` (`Order`, `orm.Order`)."""
    head, _, last = dotted.rpartition(".")
    if not head:
        return isinstance(node, ast.Name) and node.id == dotted
    return isinstance(node, ast.Attribute) and node.attr == last and _names(node.value, head)


def model_patches(tree: ast.Module, classes: list[str], roots: set[str]) -> list[tuple[int, str]]:
    """(line, what) for each place the revision changes the application's models in its process: an
    attribute assigned on one of `classes` (`orm.Token.roles = relationship(...)`), a Table built on a
    MetaData reached from one of the application's imports `roots` (`Table("t", orm.Base.metadata, ...)`)."""
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(target, ast.Attribute) and any(_names(target.value, c) for c in classes):
                    out.append((node.lineno, f"sets {ast.unparse(target)}"))
        elif isinstance(node, ast.Call) and _callee(node) == "Table" and len(node.args) >= 2:
            meta = node.args[1]
            root = meta
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(meta, ast.Attribute) and meta.attr == "metadata" and isinstance(root, ast.Name) and root.id in roots:
                name = node.args[0].value if isinstance(node.args[0], ast.Constant) else ast.unparse(node.args[0])
                out.append((node.lineno, f"adds table {name} to {ast.unparse(meta)}"))
    return sorted(set(out))


def _use(name: ast.expr, parents: dict, writes: bool) -> str:
    if _in_annotation(name, parents):
        return "columns"  # `Dict[str, Order]`: a type, never a statement
    node: ast.AST = name
    parent = parents.get(node)
    if isinstance(parent, ast.Attribute) and parent.attr == "__table__":
        node, parent = parent, parents.get(parent)  # the table stands for the class here
    elif isinstance(parent, ast.Attribute):
        return "columns"  # Model.column, Model.__tablename__
    if isinstance(parent, ast.Call) and parent.func is node:
        return "whole" if writes else "columns"  # an instance: written only if something adds it
    if isinstance(parent, ast.Call) and node in parent.args:
        callee = _callee(parent)
        if callee in _WHOLE_ROWS:
            return "columns" if _chain_takes_columns(parent, parents) else "whole"
        if callee in ("isinstance", "issubclass", "insert", "update", "delete", "bulk_insert", "inspect"):
            return "columns"
    return "unknown"


def _in_annotation(node: ast.AST, parents: dict) -> bool:
    while (parent := parents.get(node)) is not None:
        if isinstance(parent, ast.AnnAssign) and node is parent.annotation or isinstance(parent, ast.arg) and node is parent.annotation:
            return True
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)) and node is parent.returns:
            return True
        if isinstance(parent, ast.stmt):
            return False
        node = parent
    return False


def _chain_takes_columns(call: ast.Call, parents: dict) -> bool:
    """Whether the query this call starts ends in a bulk update or delete, or selects named columns instead."""
    node: ast.AST = call
    while True:
        parent = parents.get(node)
        if isinstance(parent, ast.Attribute):
            if parent.attr in _BULK or parent.attr == _PICKED and not _whole_given(parents.get(parent)):
                return True
            node = parent
        elif isinstance(parent, ast.Call) and parent.func is node:
            node = parent
        else:
            return False


def _whole_given(call: ast.AST | None) -> bool:
    """`.with_entities(Order)`: a class given whole (a bare name), not its columns (`Order.id`)."""
    return not isinstance(call, ast.Call) or any(isinstance(a, ast.Name) for a in call.args)


def _callee(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""

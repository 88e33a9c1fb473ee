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
# An instance of the class reaches the database only through a session.
_SESSION_WRITES = {"add", "add_all", "merge", "bulk_save_objects"}


def model_rows(tree: ast.Module, local: str) -> str:
    """'whole' when the revision loads or writes whole rows of the class bound to `local`; 'columns'
    when every use names its columns; 'unknown' when a use goes where this cannot follow (the class
    passed to a function of the revision's own, kept in a variable...)."""
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    writes = any(isinstance(n, ast.Call) and _callee(n) in _SESSION_WRITES for n in ast.walk(tree))
    verdict = "columns"
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Name) and node.id == local and isinstance(node.ctx, ast.Load)):
            continue
        use = _use(node, parents, writes)
        if use == "whole":
            return "whole"
        if use == "unknown":
            verdict = "unknown"
    return verdict


def _use(name: ast.Name, parents: dict, writes: bool) -> str:
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
            return "columns" if _ends_in_bulk(parent, parents) else "whole"
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


def _ends_in_bulk(call: ast.Call, parents: dict) -> bool:
    """Whether the query this call starts ends in a bulk update or delete."""
    node: ast.AST = call
    while True:
        parent = parents.get(node)
        if isinstance(parent, ast.Attribute):
            if parent.attr in _BULK:
                return True
            node = parent
        elif isinstance(parent, ast.Call) and parent.func is node:
            node = parent
        else:
            return False


def _callee(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""

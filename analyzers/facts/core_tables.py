"""SQLAlchemy Core statements on Table objects, read as the ORM's are: `sa.select(api_keys).where(api_keys.c.user_id
== x)`, `api_keys.delete().where(...)`, `Model.__table__.c.x`. analyzers/facts/usage.py follows the queries of
classes; here a function's references to a module-level Table are renamed to a class-like marker (CORE + the
variable's name, carrying the qualified name as written) that analyzers/rules/code_use.py resolves to the table the
variable holds, so that one reading serves both."""

from __future__ import annotations

import ast
import copy

from analyzers.facts.names import Names, last
from analyzers.facts.walk import walk

CORE = "Table:"  # no identifier holds a colon: the marker is never a class's name
_STATEMENTS = ("select", "update", "delete")  # `table.update()`: `update(table)`
_CHAINS = (ast.Name, ast.Attribute)  # the only nodes `dotted` spells


def core_names(tree: ast.Module, names: Names) -> set[str]:
    """The module-level names (as written: `api_keys`, `models.api_keys`) that hold a Table: assigned `Table(...)` in
    this module, or imported and read as `name.c.x`. A local name (a subquery's, an alias's) is no table's."""
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Call) \
                and last(names.callee(node.value)) == "Table":
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found |= {t.id for t in targets if isinstance(t, ast.Name)}
    for node in walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "c":
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in names.imports and (name := dotted(node.value)):
                found.add(name)
    return found


def as_core(func: ast.FunctionDef | ast.AsyncFunctionDef, core: set[str], names: Names):
    """`func` with its Core tables named as classes: `t.c.x` -> `<CORE>t.x`, `t` -> `<CORE>t`, `t.update()` ->
    `update(<CORE>t)`, `Model.__table__.c.x` -> `Model.x`, `Model.__table__` -> `Model`. A copy; `func` itself
    unchanged where it has none."""
    local = {n.id for n in walk(func) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    local |= {a.arg for a in [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]}
    return _renamed(func, {name for name in core if name.split(".")[0] not in local}, names)


def module_as_core(tree: ast.Module, names: Names) -> ast.Module:
    """A whole module with its Core tables named as classes, as as_core names them in one function (for the rules
    that read a statement again from the source: analyzers/rules/fk_reads.py)."""
    return _renamed(tree, core_names(tree, names), names)


def _renamed(node: ast.AST, mine: set[str], names: Names):
    # Most modules have no Core table of their own: then only `__table__` can be renamed, and no chain is spelled.
    if not any(n.__class__ is ast.Attribute and n.attr == "__table__" or mine and n.__class__ in _CHAINS and dotted(n) in mine
               for n in walk(node)):
        return node

    def table(node: ast.AST) -> ast.AST | None:
        """The class-like name a table reference stands for; None if it is none."""
        if isinstance(node, ast.Attribute) and node.attr == "__table__":
            return node.value
        if (name := dotted(node)) in mine:
            marker = ast.Name(CORE + last(name or ""), ast.Load())
            marker.core_ref = names.qualname(node)  # type: ignore[attr-defined]
            return ast.copy_location(marker, node)
        return None

    class _Named(ast.NodeTransformer):
        def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
            if isinstance(node.value, ast.Attribute) and node.value.attr == "c" and (t := table(node.value.value)) is not None:
                return ast.copy_location(ast.Attribute(self.visit(t), node.attr, node.ctx), node)
            if (t := table(node)) is not None and isinstance(node.ctx, ast.Load):
                return self.visit(t) if t is node.value else t
            return self.generic_visit(node)

        def visit_Name(self, node: ast.Name) -> ast.AST:
            return (table(node) or node) if isinstance(node.ctx, ast.Load) else node

        def visit_Call(self, node: ast.Call) -> ast.AST:
            f = node.func
            if isinstance(f, ast.Attribute) and f.attr in _STATEMENTS and not node.args and not node.keywords \
                    and (t := table(f.value)) is not None:
                return ast.copy_location(ast.Call(ast.Name(f.attr, ast.Load()), [self.visit(t)], []), node)
            return self.generic_visit(node)

    return _Named().visit(copy.deepcopy(node))


def dotted(node: ast.AST) -> str | None:
    """`a.b.c` of a chain of names; None for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and (base := dotted(node.value)) is not None:
        return f"{base}.{node.attr}"
    return None

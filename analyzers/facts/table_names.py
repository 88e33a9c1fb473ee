"""Table names made by a call of the project's (`Table(get_prefixed_tablename("roles_permissions"), ...)`,
`__tablename__ = prefixed("users")`): the module-level functions that build a name from their one argument and a
prefix (`return f"{TABLE_PREFIX}{name}"`, `return PREFIX + name`), and the calls that name a table so. link.py
puts them together: the prefix a constant, the name is whole; a prefix set at run time (a setting), the table
keeps its argument as its name, marked unsure (TableFact.name_unsure), and the rules that need the exact name
hold back."""

from __future__ import annotations

import ast
import re
from dataclasses import replace

from analyzers.facts.model import ColumnFact, TableFact
from analyzers.facts.names import const_str
from analyzers.facts.strings import Env
from analyzers.facts.symbols import Symbols


def name_builders(tree: ast.Module, env: Env) -> dict[str, tuple[str, str, str | None]]:
    """Module-level functions of one parameter whose one statement returns it with text around it: name ->
    (the text before, the text after, the part not known as written (`{TABLE_PREFIX}`), None when all is)."""
    out: dict[str, tuple[str, str, str | None]] = {}
    for func in tree.body:
        if not isinstance(func, ast.FunctionDef) or len(func.args.args) != 1 or func.args.vararg or func.args.kwarg:
            continue
        body = [s for s in func.body if not (isinstance(s, ast.Expr) and const_str(s.value) is not None)]  # a docstring
        if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
            continue
        parts = _parts(body[0].value)
        param = func.args.args[0].arg
        at = [i for i, p in enumerate(parts or ()) if isinstance(p, ast.Name) and p.id == param]
        if parts is None or len(at) != 1:
            continue
        before, after, unknown = "", "", []
        for i, p in enumerate(parts):
            if i == at[0]:
                continue
            known = const_str(p) if isinstance(p, ast.Constant) else (
                env[p.id][0] if isinstance(p, ast.Name) and len(env.get(p.id, ())) == 1 else None)
            if known is None:
                unknown.append("{" + ast.unparse(p) + "}")
                known = "{" + ast.unparse(p) + "}"
            before, after = (before + known, after) if i < at[0] else (before, after + known)
        out[func.name] = (before, after, "".join(unknown) or None)
    return out


def _parts(node: ast.AST) -> list[ast.AST] | None:
    """The pieces of an f-string or a `+` of strings, in order; None for anything else."""
    if isinstance(node, ast.JoinedStr):
        return [v.value if isinstance(v, ast.FormattedValue) and v.conversion == -1 and v.format_spec is None else v
                for v in node.values]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _parts(node.left), _parts(node.right)
        return None if left is None or right is None else left + right
    return [node] if isinstance(node, (ast.Name, ast.Constant)) else None


def named_by_call(node: ast.AST) -> tuple[ast.AST, str] | None:
    """`get_prefixed_tablename("roles")` as a table's name: (the function called, its argument)."""
    if (isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords and isinstance(node.func, (ast.Name, ast.Attribute))
            and (arg := const_str(node.args[0])) is not None):
        return node.func, arg
    return None


def settle_name(table: TableFact, symbols: Symbols, module: str) -> TableFact:
    """A table named by a call (TableFact.named_by), its name worked out: whole where the function is one of
    `name_builders` with a constant prefix; else the argument alone, and why in `name_unsure`."""
    func, arg = table.named_by  # type: ignore[misc]
    short = func.rpartition(".")[2]
    value = symbols.resolve(func, module)
    builder = value.module.name_builders.get(short) if value.kind == "function" and value.module is not None else None
    if builder is None:
        return replace(table, name_unsure=f"named by {short}({arg!r}), a call dbreview could not follow")
    before, after, unknown = builder
    columns = {n: _referring(c, short, before, after, unknown) for n, c in table.columns.items()}
    if unknown is not None:
        return replace(table, columns=columns, name_unsure=f"named by {short}({arg!r}), which adds {unknown}, known only at run time")
    name = before + arg + after
    columns = {n: replace(c, declared_in=name) if c.declared_in == table.name else c for n, c in columns.items()}
    return replace(table, name=name, named_by=None, columns=columns)


def _referring(column: ColumnFact, short: str, before: str, after: str, unknown: str | None) -> ColumnFact:
    """Its foreign keys to tables the same function names (`ForeignKey(f"{get_prefixed_tablename('roles')}.id")`)
    aimed at those tables as this one is named: whole, or by the argument where the prefix is not known."""
    keys = []
    for fk in column.foreign_keys:
        m = _CALLED_TARGET.match(fk.target)
        if m is not None and m.group(1) == short:
            fk = replace(fk, target=f"{m.group(2) if unknown else before + m.group(2) + after}.{m.group(3)}")
        keys.append(fk)
    return replace(column, foreign_keys=keys) if keys != column.foreign_keys else column


_CALLED_TARGET = re.compile(r"""^f["']\{(\w+)\(["'](\w+)["']\)\}\.(\w+)["']$""")  # f"{prefixed('roles')}.id"

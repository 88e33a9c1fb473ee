"""What a condition asserts of single columns, in the simple forms a partial index's predicate takes: `col IS NULL`,
`col IS NOT NULL`, `col = <constant>`, and-ed. A read whose conditions assert every term of an index's predicate
looks only for rows the index holds (PostgreSQL proves the same implication before it uses a partial index): a
test by `=`, `in_()` or a comparison (and a boolean column as a condition) also asserts `col IS NOT NULL`, since
none of them holds for NULL.

Terms are strings "<column> IS NULL", "<column> IS NOT NULL", "<column> = <constant>" (constants as SQL writes
them: 'text', 12, true). Anything else (OR, NOT of a comparison, functions, other operators) asserts nothing here;
in a predicate it makes the whole predicate unreadable (None), so that no read is taken to imply it."""

from __future__ import annotations

import ast
import functools
import re
from typing import Callable

IS_NULL, NOT_NULL = "IS NULL", "IS NOT NULL"


def not_null(column: str) -> str:
    return f"{column} {NOT_NULL}"


def asserted_terms(expr: ast.AST, ref: Callable[[ast.AST], str | None]) -> set[tuple[str, str]]:
    """(column reference, test) pairs `expr` asserts at its top, and-ed (`&`, `and_`, a bool `and`): the tests are
    IS NULL, IS NOT NULL, "= <constant>". `ref` names the column an expression stands for (None: not a column)."""
    return _terms(expr, ref, strict=False) or set()


def _terms(expr: ast.AST, ref: Callable[[ast.AST], str | None], strict: bool) -> set[tuple[str, str]] | None:
    """As asserted_terms; with `strict`, None where any part of an and-ed condition is none of the simple forms."""
    if isinstance(expr, ast.Expression):
        expr = expr.body
    if isinstance(expr, ast.Lambda):
        expr = expr.body
    parts: list[ast.AST] | None = None
    if isinstance(expr, ast.BoolOp) and isinstance(expr.op, ast.And):
        parts = list(expr.values)
    elif isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitAnd):
        parts = [expr.left, expr.right]
    elif isinstance(expr, ast.Call) and _is_and(_name(expr.func)):
        parts = list(expr.args)
    if parts is not None:
        out: set[tuple[str, str]] = set()
        for part in parts:
            found = _terms(part, ref, strict)
            if found is None:
                return None
            out |= found
        return out
    found = _simple(expr, ref)
    return None if strict and not found else found


def _simple(expr: ast.AST, ref: Callable[[ast.AST], str | None]) -> set[tuple[str, str]]:
    if isinstance(expr, ast.Compare) and len(expr.ops) == 1:
        op, left, right = expr.ops[0], expr.left, expr.comparators[0]
        if ref(left) is None:
            left, right = right, left
        column = ref(left)
        if column is None:
            return set()
        other = ref(right)
        if _is_none(right):
            return {(column, IS_NULL)} if isinstance(op, ast.Eq) else {(column, NOT_NULL)} if isinstance(op, ast.NotEq) else set()
        if not isinstance(op, (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE)):
            return set()  # `is`, `in`: Python's, evaluated before any SQL
        out = {(column, NOT_NULL)} | ({(other, NOT_NULL)} if other else set())
        constant = _constant(right)
        if isinstance(op, ast.Eq) and constant is not None:
            out.add((column, f"= {constant}"))
        return out
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and (column := ref(expr.func.value)):
        method, args = expr.func.attr, expr.args
        if method == "is_" and len(args) == 1 and _is_none(args[0]):
            return {(column, IS_NULL)}
        if method == "is_" and len(args) == 1 and isinstance(args[0], ast.Constant) and isinstance(args[0].value, bool):
            return {(column, f"= {str(args[0].value).lower()}"), (column, NOT_NULL)}  # `is_list.is_(False)`
        if method in ("is_not", "isnot") and len(args) == 1 and _is_none(args[0]):
            return {(column, NOT_NULL)}
        if method in ("in_", "between"):
            return {(column, NOT_NULL)}
        return set()
    if (column := ref(expr)) is not None:
        return {(column, "= true"), (column, NOT_NULL)}  # a boolean column as the condition
    negated = expr.operand if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, (ast.Invert, ast.Not)) else (
        expr.args[0] if isinstance(expr, ast.Call) and _name(expr.func) == "not_" and len(expr.args) == 1 else None)
    if negated is not None and (column := ref(negated)) is not None:
        return {(column, "= false"), (column, NOT_NULL)}
    return set()


def _is_and(name: str | None) -> bool:
    """`and_`, or an alias of it a project imports (`from sqlalchemy import and_ as sql_and`)."""
    return name is not None and (name == "and_" or re.fullmatch(r"[a-z]+_and_?", name) is not None)


def _name(node: ast.AST) -> str | None:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None or (
        isinstance(node, ast.Call) and _name(node.func) == "null" and not node.args)


def _constant(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call) and _name(node.func) in ("true", "false") and not node.args:
        return _name(node.func)
    if not isinstance(node, ast.Constant):
        return None
    value = node.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return None


@functools.lru_cache(maxsize=4096)
def predicate_terms(where: str) -> frozenset[str] | None:
    """The terms an index's predicate is made of, as SQL (`deleted_at IS NULL AND kind = 'x'`) or as the Python a
    model wrote (`Model.active == True`, `column("x").is_(None)`); None where any part is none of the simple forms."""
    terms = _sql_terms(where)
    if terms is None:
        try:
            tree = ast.parse(where.strip(), mode="eval")
        except (SyntaxError, ValueError, RecursionError):
            return None
        found = _terms(tree, _predicate_column, strict=True)
        terms = None if found is None else {f"{c} {t}" for c, t in found}
    return frozenset(terms) if terms else None


def _predicate_column(node: ast.AST) -> str | None:
    """`active`, `Model.active`, `cls.active`, `column("active")`, `sa.column("active")`."""
    if isinstance(node, ast.Call) and _name(node.func) in ("column", "literal_column") and node.args and isinstance(
            node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        return node.args[0].value
    if isinstance(node, ast.Name) and node.id not in ("None", "True", "False"):
        return node.id
    if isinstance(node, ast.Attribute) and not node.attr.startswith(("is_", "isnot", "in_")):
        return node.attr
    return None


def _sql_terms(where: str) -> set[str] | None:
    try:
        from pglast import parse_sql
        stmt = parse_sql(f"SELECT 1 WHERE {where}")[0].stmt
    except Exception:  # pglast's ParseError, or a predicate no SQL parser reads (Python)
        return None
    return _sql_node(stmt.whereClause)


def _sql_node(node) -> set[str] | None:
    kind = type(node).__name__
    if kind == "BoolExpr":
        op = node.boolop.name
        if op == "AND_EXPR":
            out: set[str] = set()
            for arg in node.args:
                found = _sql_node(arg)
                if found is None:
                    return None
                out |= found
            return out
        if op == "NOT_EXPR" and len(node.args) == 1 and (column := _sql_column(node.args[0])):
            return {f"{column} = false", f"{column} {NOT_NULL}"}
        return None
    if kind == "NullTest" and (column := _sql_column(node.arg)):
        return {f"{column} {IS_NULL if node.nulltesttype.name == 'IS_NULL' else NOT_NULL}"}
    if kind == "A_Expr" and node.kind.name == "AEXPR_OP" and [n.sval for n in node.name] == ["="]:
        for a, b in ((node.lexpr, node.rexpr), (node.rexpr, node.lexpr)):
            column, constant = _sql_column(a), _sql_constant(b)
            if column and constant is not None:
                return {f"{column} = {constant}", f"{column} {NOT_NULL}"}
        return None
    if (column := _sql_column(node)) is not None:
        return {f"{column} = true", f"{column} {NOT_NULL}"}
    return None


def _sql_column(node) -> str | None:
    if type(node).__name__ != "ColumnRef":
        return None
    last = node.fields[-1]
    return getattr(last, "sval", None)


def _sql_constant(node) -> str | None:
    if type(node).__name__ == "TypeCast":
        node = node.arg
    if type(node).__name__ != "A_Const" or getattr(node, "isnull", False):
        return None
    value = node.val
    kind = type(value).__name__
    if kind == "String":
        return "'" + value.sval.replace("'", "''") + "'"
    if kind == "Integer":
        return str(value.ival)
    if kind == "Boolean":
        return "true" if value.boolval else "false"
    return None

"""A failed commit or flush whose exception is caught and swallowed, on a session the function goes on using.

After a flush fails (inside `commit()` or alone), SQLAlchemy's session holds an inactive transaction: every use
of it until `rollback()` raises PendingRollbackError ("This Session's transaction has been rolled back due to a
previous exception during flush"). Read with `ast`, one function at a time: a `try` whose body commits or
flushes a session, a handler of a database error (IntegrityError, SQLAlchemyError and the like, Exception,
BaseException, a bare `except`) that neither rolls back, closes nor raises, and the same session (the same
expression, `db.session`, `self.session`) used next on the path after the handler: the statements after the
`try`, or the next turn of a loop around it. What the handler hands the session to, or a `try` whose body
opens a transaction block (`with session.begin():`, `begin_nested()`, which roll back themselves), is not read."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from analyzers.facts.columns import span_of
from analyzers.facts.model import Span
from analyzers.facts.walk import children, own_nodes, walk

HINT = re.compile(r"\.(commit|flush)\(")  # with "except": the modules that may hold one
_SESSION = re.compile(r"(^|[._])(db_?)?session$|^(self\.)?db$|_db$", re.I)
_FAILING = frozenset(("commit", "flush"))
_RESETS = frozenset(("rollback", "close", "remove", "invalidate", "reset", "expunge_all"))
_ERRORS = frozenset(("IntegrityError", "SQLAlchemyError", "DBAPIError", "DatabaseError", "OperationalError",
                     "DataError", "StatementError", "Exception", "BaseException"))
_RAISING = re.compile(r"^(abort|fail|exit|raise_\w+|throw)$")
_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)


@dataclass(frozen=True, slots=True)
class SwallowedFailure:
    """In `function`: `failing` (a commit or flush of `session`) sits in a try whose `handler` swallows the error,
    and `use` (a call of a method of `session`, or one it is handed to) runs next."""

    function: str
    session: str  # as written: `db.session`
    verb: str  # commit | flush
    failing: Span
    handler: Span
    caught: str  # the handler's type as written; "" for a bare except
    use: Span
    used: str  # what is done with it there, as written: `db.session.query`, `save_row(session)`
    where: str  # handler (the handler's own body) | after (after the try) | loop (the next turn of a loop)


def read_swallowed_failures(functions, owners: dict[int, str], path: str) -> list[SwallowedFailure]:
    out: list[SwallowedFailure] = []
    for func in functions:
        name = f"{owners[id(func)]}.{func.name}" if id(func) in owners else func.name
        nodes = own_nodes(func)
        tries = [node for node in nodes if isinstance(node, ast.Try)]
        if not tries:  # most functions: no parents to find
            continue
        parents = {id(child): node for node in nodes for child in children(node)}
        for node in tries:
            out += _in_try(node, func, parents, name, path)
    return out


def _in_try(node: ast.Try, func, parents, name: str, path: str) -> list[SwallowedFailure]:
    body = [n for s in node.body for n in walk(s)]
    if any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("begin", "begin_nested")
           for n in body):
        return []  # a transaction block rolls itself back when the error leaves it
    failing = [n for n in body if _call_on_session(n) and n.func.attr in _FAILING]  # type: ignore[union-attr]
    if not failing or _resets_any(node.finalbody):
        return []
    out = []
    for handler in node.handlers:
        caught = ast.unparse(handler.type) if handler.type is not None else ""
        if handler.type is not None and not {_last(n) for n in _types(handler.type)} & _ERRORS:
            continue
        for call in failing:
            session = ast.unparse(call.func.value)
            if not _swallows(handler, session):
                continue
            found = _next_use(node, handler, parents, session, func)
            if found is not None:
                use, where = found
                out.append(SwallowedFailure(name, session, call.func.attr, span_of(call, path), span_of(handler, path), caught,
                                            span_of(use, path), _used(use, session), where))
                break
    return out


def _used(call: ast.Call, session: str) -> str:
    if isinstance(call.func, ast.Attribute) and ast.unparse(call.func.value) == session:
        return f"{session}.{call.func.attr}()"
    return f"{ast.unparse(call.func)}({session})"


def _types(node: ast.AST) -> list[ast.AST]:
    return list(node.elts) if isinstance(node, ast.Tuple) else [node]


def _last(node: ast.AST) -> str:
    return node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""


def _call_on_session(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and bool(_SESSION.search(ast.unparse(node.func.value))))


def _resets_any(stmts: list[ast.stmt]) -> bool:
    return any(isinstance(n, ast.Call) and _last(n.func) in _RESETS for s in stmts for n in walk(s))


def _swallows(handler: ast.ExceptHandler, session: str) -> bool:
    """The handler goes on without the error: no raise (nor abort() and the like), no rollback or close of any
    session, no return (the caller's use is not followed), and it hands the session to no call (which may roll
    back)."""
    for n in (n for s in handler.body for n in walk(s)):
        if isinstance(n, (ast.Raise, ast.Return, ast.Break)):
            return False
        if isinstance(n, ast.Call) and (_last(n.func) in _RESETS or _RAISING.match(_last(n.func))):
            return False
        if isinstance(n, ast.Call) and any(ast.unparse(a) == session for a in [*n.args, *(k.value for k in n.keywords)]):
            return False
    return True


def _next_use(node: ast.Try, handler: ast.ExceptHandler, parents, session: str, func) -> tuple[ast.Call, str] | None:
    """The first use of `session` once the handler has run, and where: "handler" (in its own body), "after" (the
    statements after the `try`, block by block up to the function's body, up to a return or raise) or "loop"
    (the next turn of a loop around it: the handler falls off the end of its body, or `continue`s). None where
    the path ends first, or the first use resets the session, or its name is bound again."""
    kind, call = _scan(handler.body, session)
    if kind == "use":
        return call, "handler"  # type: ignore[return-value]
    falsy = _set_falsy(handler)
    stmt: ast.AST = node
    while kind is None and stmt is not func:
        parent = parents.get(id(stmt), func)
        block = next((b for f in ("body", "orelse", "finalbody") if stmt in (b := getattr(parent, f, None) or [])), None)
        if block is not None:
            kind, call = _scan(block[block.index(stmt) + 1:], session, falsy)
            if kind == "use":
                return call, "after"  # type: ignore[return-value]
            if kind is None and isinstance(parent, _LOOPS) and block is parent.body:
                kind = "continue"
        stmt = parent
    if kind == "continue":
        loop = stmt if isinstance(stmt, _LOOPS) else _enclosing_loop(stmt, parents, func)
        if loop is not None:
            kind, call = _scan(loop.body, session)
            if kind == "use":
                return call, "loop"  # type: ignore[return-value]
    return None


def _enclosing_loop(stmt: ast.AST, parents, func) -> ast.AST | None:
    while stmt is not func and id(stmt) in parents:
        stmt = parents[id(stmt)]
        if isinstance(stmt, _LOOPS):
            return stmt
    return None


def _set_falsy(handler: ast.ExceptHandler) -> frozenset[str]:
    """The names the handler's own body sets to None, False, 0 or "" (`folder = None`): on its path they are falsy."""
    return frozenset(t.id for st in handler.body if isinstance(st, ast.Assign) and isinstance(st.value, ast.Constant)
                     and not st.value.value for t in st.targets if isinstance(t, ast.Name))


def _taken(test: ast.expr, falsy: frozenset[str]) -> bool | None:
    """Whether an `if` on a name the handler set falsy runs its body on that path (`if folder:` does not, `if
    not folder:` does); None for any other test."""
    negated = isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
    inner = test.operand if negated else test
    if isinstance(inner, ast.Compare) and len(inner.ops) == 1 and isinstance(inner.comparators[0], ast.Constant) \
            and inner.comparators[0].value is None and isinstance(inner.ops[0], (ast.Is, ast.IsNot)):
        negated ^= isinstance(inner.ops[0], ast.Is)  # `x is None` holds where `x` is falsy (set to None)
        inner = inner.left
    return negated if isinstance(inner, ast.Name) and inner.id in falsy else None


def _scan(stmts: list[ast.stmt], session: str, falsy: frozenset[str] = frozenset()) -> tuple[str | None, ast.Call | None]:
    """Statement by statement: ("use", call) at the first that calls a method of `session` or hands it to a
    call; ("reset", None) where that first call is a rollback or close, or the session's name is bound again;
    ("stop", None) at a return, raise or break met first, ("continue", None) at a continue; (None, None) past
    the end. A use only in a later `try`'s handler (one path of several) counts where no other comes first.
    An `if` on one of the `falsy` names (set so by the handler, and not bound again since) runs only the branch
    that path takes."""
    root = session.split(".")[0]
    fallback: tuple[str | None, ast.Call | None] | None = None
    for stmt in stmts:
        taken = _taken(stmt.test, falsy) if isinstance(stmt, ast.If) else None
        if taken is not None:
            kind, call = _scan(stmt.body if taken else stmt.orelse, session, falsy)
            if kind is not None:
                return fallback if fallback is not None and kind != "use" else (kind, call)
            continue
        falsy = falsy - {n.id for n in walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        events: list[tuple[bool, tuple[int, int], ast.Call | None]] = []  # (in a handler, where, call or binding)
        todo: list[tuple[ast.AST, bool]] = [(stmt, False)]
        while todo:
            n, handled = todo.pop()
            if isinstance(n, _NESTED):
                continue
            if isinstance(n, ast.Call) and (
                    (isinstance(n.func, ast.Attribute) and ast.unparse(n.func.value) == session)
                    or any(ast.unparse(a) == session for a in [*n.args, *(k.value for k in n.keywords)])):
                events.append((handled, (n.lineno, n.col_offset), n))
            elif isinstance(n, ast.Name) and n.id == root and isinstance(n.ctx, ast.Store):
                events.append((handled, (n.lineno, n.col_offset), None))
            todo.extend((c, handled or isinstance(n, ast.ExceptHandler)) for c in ast.iter_child_nodes(n))
        if events:
            handled, _, first = min(events, key=lambda e: (e[0], e[1]))
            found = ("reset", None) if first is None or _last(first.func) in _RESETS else ("use", first)
            if not handled:
                return found if fallback is None or found[0] == "use" else fallback
            fallback = fallback or found
        if isinstance(stmt, (ast.Return, ast.Raise, ast.Break)):
            return fallback or ("stop", None)
        if isinstance(stmt, ast.Continue):
            return fallback or ("continue", None)
    return fallback or (None, None)

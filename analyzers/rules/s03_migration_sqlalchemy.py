"""Migrations that call what SQLAlchemy 2.0 removed: they ran on the SQLAlchemy of their day and fail on
the one the project installs now. Read from the revisions' and env.py's syntax trees; the version from
the project's own declaration (analyzers/facts/requirements.py), never guessed."""

from __future__ import annotations

import ast

from analyzers.facts.model import Span
from analyzers.facts.requirements import Requirement, sqlalchemy_requirement
from analyzers.findings import Severity
from analyzers.rules import start_up
from analyzers.rules.base import Rule
from analyzers.rules.s03_migration_safety import later

_BIND_CALLS = {"get_bind"}  # op.get_bind(), context.get_bind(): a Connection
_ENGINE_CALLS = {"create_engine", "engine_from_config"}
_SESSION_CALLS = {"Session"}


def _callee(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    return node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""


class _Scope:
    """What the names of one function (or the module's top level) are bound to: a Connection, an Engine,
    a Session, a string; the last binding of a name before its use wins, as far as straight-line reading
    goes."""

    def __init__(self) -> None:
        self.kinds: dict[str, str] = {}

    def kind(self, node: ast.AST | None) -> str:
        """'connection', 'engine', 'session', 'string' or ''."""
        if node is None:
            return ""
        if isinstance(node, ast.Name):
            return self.kinds.get(node.id, "")
        if isinstance(node, ast.Constant):
            return "string" if isinstance(node.value, str) else ""
        if isinstance(node, ast.JoinedStr):
            return "string"
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
            return "string" if self.kind(node.left) == "string" else ""
        if isinstance(node, ast.Call):
            name = _callee(node)
            if isinstance(node.func, ast.Attribute) and name == "format" and self.kind(node.func.value) == "string":
                return "string"
            if name in _BIND_CALLS:
                return "connection"
            if name in ("connect", "begin") and isinstance(node.func, ast.Attribute) and self.kind(node.func.value) == "engine":
                return "connection"
            if name in _ENGINE_CALLS:
                return "engine"
            if name in _SESSION_CALLS:
                return "session"
            return ""
        if isinstance(node, ast.Attribute):
            if node.attr == "bind" and isinstance(node.value, ast.Call) and _callee(node.value) == "get_context":
                return "connection"
            if node.attr == "engine" and self.kind(node.value) == "connection":
                return "engine"
        return ""

    def bind(self, target: ast.AST, value: ast.AST | None) -> None:
        if isinstance(target, ast.Name):
            kind = self.kind(value)
            if kind:
                self.kinds[target.id] = kind
            else:
                self.kinds.pop(target.id, None)


def removed_calls(tree: ast.Module) -> list[tuple[int, str, str]]:
    """(line, the call as written, what 2.0 does with it) for each call in the file that SQLAlchemy 2.0
    removed: `Connection.execute()` or `Session.execute()` given a plain string, `Engine.execute()`,
    `Engine.has_table()`, `Engine.table_names()`, `select([...])`, `MetaData(bind=...)`,
    `Table(..., autoload=True)`."""
    out: list[tuple[int, str, str]] = []
    bodies: list[list[ast.stmt]] = [tree.body]
    bodies += [n.body for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for body in bodies:
        scope = _Scope()
        sometimes = [(n.lineno, n.end_lineno or n.lineno) for stmt in body for n in _walk_own(stmt)
                     if isinstance(n, (ast.If, ast.While, ast.Try)) or isinstance(n, (ast.For, ast.AsyncFor))
                     and not (isinstance(n.iter, (ast.Tuple, ast.List)) and n.iter.elts)]  # a loop over constants always runs
        for stmt in body:
            for node in _walk_own(stmt):
                if isinstance(node, ast.Assign):
                    for t in node.targets:
                        scope.bind(t, node.value)
                elif isinstance(node, ast.AnnAssign) and node.value is not None:
                    scope.bind(node.target, node.value)
                elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                    scope.bind(node.optional_vars, node.context_expr)
                elif isinstance(node, ast.Call):
                    said = _removed(node, scope)
                    if said:
                        inner = any(a < node.lineno <= b for a, b in sometimes)
                        out.append((node.lineno, said.split(" (", 1)[0] + (" *" if inner else ""), said))
    return sorted(set(out))


_READS = {"execute", "fetchall", "fetchmany", "all", "scalars", "mappings"}


def row_loops(tree: ast.Module) -> list[tuple[int, int]]:
    """The lines of each `for` over rows the revision reads from the database (`for x in conn.execute(...)`, or
    a name bound to that or to its `.fetchall()`): what runs in it runs once per row already stored."""
    out = []
    for func in [tree, *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))]:
        bound = {t.id: n.value for n in ast.walk(func) if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
        for loop in ast.walk(func):
            if isinstance(loop, (ast.For, ast.AsyncFor)) and _read_rows(loop.iter, bound, 0):
                out.append((loop.lineno, loop.end_lineno or loop.lineno))
    return out


def _in_row_loops(tree: ast.Module, calls: list[tuple[int, str, str]]) -> int | None:
    """The first line of the loops over stored rows (row_loops) when every call is inside one, else None."""
    loops = row_loops(tree)
    inside = [next((a for a, b in loops if a < line <= b), None) for line, _, _ in calls]
    return None if not inside or None in inside else min(inside)


def _read_rows(node: ast.AST, bound: dict[str, ast.AST], depth: int) -> bool:
    if isinstance(node, ast.Name) and node.id in bound and depth < 4:
        return _read_rows(bound[node.id], bound, depth + 1)
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr in _READS:
            return True
        node = node.func.value
    return False


def _walk_own(stmt: ast.stmt):
    """The nodes of `stmt` in source order, not entering nested functions or classes (their own scope)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return
    todo = [stmt]
    while todo:
        node = todo.pop(0)
        yield node
        children = [c for c in ast.iter_child_nodes(node)
                    if not isinstance(c, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))]
        if isinstance(node, ast.Assign):  # the value is read before the name is bound
            children = [node.value] + [c for c in children if c is not node.value]
        todo[:0] = children


def _removed(call: ast.Call, scope: _Scope) -> str:
    name = _callee(call)
    owner = call.func.value if isinstance(call.func, ast.Attribute) else None
    owner_kind = scope.kind(owner) if owner is not None else ""
    if name == "execute" and owner_kind in ("connection", "session") and call.args and scope.kind(call.args[0]) == "string":
        return ("Connection.execute() given a plain string (2.0 raises ObjectNotExecutableError; it takes sa.text(...))"
                if owner_kind == "connection" else
                "Session.execute() given a plain string (2.0 raises ArgumentError; it takes sa.text(...))")
    if owner_kind == "engine" and name in ("execute", "scalar", "has_table", "table_names"):
        return f"Engine.{name}() (removed in 2.0: AttributeError)"
    if name == "select" and call.args and isinstance(call.args[0], ast.List) and _is_sqlalchemy(call):
        return "select() given a list (2.0 raises ArgumentError; it takes select(a, b))"
    if name == "MetaData" and any(k.arg == "bind" for k in call.keywords):
        return "MetaData(bind=...) (2.0 raises TypeError: bound metadata was removed)"
    if name == "Table" and any(k.arg == "autoload" for k in call.keywords):
        return "Table(..., autoload=...) (2.0 raises TypeError; it takes autoload_with=)"
    return ""


def _is_sqlalchemy(call: ast.Call) -> bool:
    """`sa.select`, `sqlalchemy.select`, `sql.select`, or a bare `select` (a revision's select is SQLAlchemy's)."""
    func = call.func
    if isinstance(func, ast.Name):
        return True
    return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in ("sa", "sqlalchemy", "sql", "expression")


def version_claim(req: Requirement | None) -> tuple[Severity, str]:
    """The severity and what the finding says of the SQLAlchemy that runs the migration."""
    if req is None:
        return Severity.INFO, ("it fails on SQLAlchemy 2.0 and later; dbreview found no declared SQLAlchemy requirement "
                               "(pyproject.toml, requirements files, setup.cfg, setup.py, a lock file), so it cannot tell "
                               "which version runs it")
    if req.locked and req.verdict == "requires":
        return Severity.WARNING, f"it fails today: the lock file installs SQLAlchemy {req.locked} ({req.path}:{req.line})"
    if req.verdict == "requires":
        return Severity.WARNING, f"it fails today: the project requires SQLAlchemy 2.x, {req.where}"
    if req.verdict == "allows":
        return Severity.WARNING, (f"it fails on SQLAlchemy 2.x, which the project's requirement {req.where} allows "
                                  "(no bound below 2.0): an install that resolves it to 2.x fails here")
    where = f"SQLAlchemy {req.locked} ({req.path}:{req.line})" if req.locked else req.where
    return Severity.INFO, f"it fails when the project moves to SQLAlchemy 2.0; today it runs {where}"


class RemovedSqlalchemyApi(Rule):
    """A migration calls what SQLAlchemy 2.0 removed.

    What it checks:
        Revisions and env.py that call, on a connection from `op.get_bind()` (or an engine from it,
        `create_engine`, a `Session` on it), what SQLAlchemy 2.0 removed: `execute()` given a plain string
        (an f-string, a `%` or `.format()` string, a name bound to one), `Engine.execute()`,
        `Engine.has_table()`, `Engine.table_names()`, `select([...])`, `MetaData(bind=...)` and
        `Table(..., autoload=True)`. A connection or engine that arrives another way (a parameter, a
        global) is not followed. The severity comes from the project's declared SQLAlchemy, read from its
        lock file (uv.lock, poetry.lock, Pipfile.lock), else its requirements (pyproject.toml,
        requirements files, setup.cfg, setup.py; development and test requirements left out), nearest to
        the revision: 2.x installed, required or allowed: a warning that names the declaration; kept
        below 2.0, or not declared: an info that says so. Where the application builds a new database with
        `create_all` and stamps it at head, the warning says that only a database from before the revision
        runs it. Where every such call runs inside a loop over rows the revision reads from the
        database (`for row in conn.execute(...)`, or a name bound to its `.fetchall()`), only a database that
        holds such rows runs it (a fresh one passes): info, saying so.
    Why it matters:
        A revision runs with the SQLAlchemy installed the day it runs. One written for 1.3 or 1.4 raises
        on 2.x: a fresh `alembic upgrade head`, or an upgrade from a version before this revision, stops
        here.
    Example:
        def upgrade():
            conn = op.get_bind()
            conn.execute(f"UPDATE orders SET total = 0")
    Instead:
        `conn.execute(sa.text("UPDATE orders SET total = 0"))` (bind values with `.bindparams()`),
        `sa.inspect(conn).has_table("orders")`, `sa.select(a, b)`.
    """

    ID = "MIG021"
    ITEM = "3.2"
    SEVERITY = Severity.WARNING
    _REQ = "[project]\nname = \"shop\"\ndependencies = [\"SQLAlchemy>=2.0\", \"alembic\"]\n"
    VALID = (
        {**later('conn = op.get_bind()\nconn.execute(sa.text("UPDATE orders SET total = 0"))\n'
                 'if sa.inspect(conn).has_table("orders"):\n    op.execute("UPDATE orders SET total = 1")'),
         "pyproject.toml": _REQ},
    )
    INVALID = (
        {**later('conn = op.get_bind()\nconn.execute(f"UPDATE orders SET total = {0}")\n'
                 'if conn.engine.has_table("orders"):\n    pass'), "pyproject.toml": _REQ},
    )

    def check(self):
        from analyzers.rules.fk_reads import _tree

        kept: dict[str, list] = {}  # a project below 2.0 or of no declared version: one finding per folder of revisions
        for rev in self.facts.revisions:
            tree = _tree(self.facts, rev.path)
            calls = removed_calls(tree) if tree is not None else []
            if not calls:
                continue
            severity, claim = self._claim(rev.path)
            if severity is Severity.WARNING:
                fresh = start_up.built_and_stamped(self.facts)
                if fresh is not None:
                    claim += (f"; this project builds a new database with create_all and stamps it at head ({fresh[0].path}:"
                              f"{fresh[0].start}, {fresh[1].start}): only a database from before this revision runs it")
                loop = _in_row_loops(tree, calls)
                reached = _reached(calls, rev)
                if loop:  # a fresh database, whose tables are empty, runs none of them
                    severity, reached = Severity.INFO, (
                        f"{reached.partition('; every such call runs inside')[0]}; but every such call runs inside a loop "
                        f"over rows the revision reads from the database (line {loop}): only a database that holds such "
                        "rows when it upgrades past this revision runs it; a fresh one, where that table is empty, passes")
                yield self.grouped(f"revision {rev.revision} calls what SQLAlchemy 2.0 removed: {_listed(calls)}: {claim}{reached}",
                                   _sites(rev.path, calls, f"migration:{rev.revision}:sqlalchemy-2"),
                                   f"migration:{rev.revision}:sqlalchemy-2", severity=severity)
            else:
                kept.setdefault(rev.path.rsplit("/", 1)[0], []).append((rev, calls, claim))
        for folder, revs in kept.items():
            rev, calls, claim = revs[0]
            names = ", ".join(r.revision or r.path for r, _, _ in revs[:8]) + (f" and {len(revs) - 8} more" if len(revs) > 8 else "")
            kinds = list(dict.fromkeys(c[1].removesuffix(" *") for _, cs, _ in revs for c in cs))
            sites = [s for r, cs, _ in revs for s in _sites(r.path, cs, f"migration:{r.revision}:sqlalchemy-2")]
            yield self.grouped(
                f"{len(revs)} revision{'s' if len(revs) > 1 else ''} under {folder} ({names}) call{'' if len(revs) > 1 else 's'} "
                f"what SQLAlchemy 2.0 removed ({', '.join(kinds)}; the first: revision {rev.revision}, {_listed(calls)}): "
                f"{claim.replace('it fails', 'they fail', 1) if len(revs) > 1 else claim}",
                sites, f"migrations:{folder}:sqlalchemy-2", severity=Severity.INFO)
        for m in self.facts.modules:
            if m.alembic_env is None:
                continue
            tree = _tree(self.facts, m.path)
            calls = removed_calls(tree) if tree is not None else []
            if calls:
                severity, claim = self._claim(m.path)
                yield self.grouped(f"{m.path} calls what SQLAlchemy 2.0 removed: {_listed(calls)}: {claim}",
                                   _sites(m.path, calls, "alembic-env:sqlalchemy-2"), "alembic-env:sqlalchemy-2",
                                   severity=severity)

    def _claim(self, path: str) -> tuple[Severity, str]:
        cache = self.facts.derived.setdefault("sqlalchemy_requirement", {})
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
        if folder not in cache:
            cache[folder] = sqlalchemy_requirement(
                self.facts.root, path, self.facts.sources if self.facts.root == "<memory>" else None)
        return version_claim(cache[folder])


def _reached(calls: list[tuple[int, str, str]], rev=None) -> str:
    """What the finding adds where every such call sits inside a loop or a condition, and where every one
    is in the downgrade."""
    said = ""
    if rev is not None and rev.downgrade_span and all(
            rev.downgrade_span.start <= line <= rev.downgrade_span.end for line, _, _ in calls):
        said = "; every such call is in its downgrade, so the downgrade is what fails"
    if all(kind.endswith(" *") for _, kind, _ in calls):
        said += "; every such call runs inside a loop or a condition: it fails where that code runs"
    return said


def _listed(calls: list[tuple[int, str, str]]) -> str:
    """`said at lines 3 and 7; ...`, one part per kind of call."""
    lines: dict[str, list[int]] = {}
    for line, _, said in calls:
        lines.setdefault(said, []).append(line)
    parts = []
    for said, at in lines.items():
        at = sorted(set(at))
        where = f"line {at[0]}" if len(at) == 1 else f"lines {', '.join(map(str, at[:-1]))} and {at[-1]}"
        parts.append(f"{said} at {where}")
    return "; ".join(parts)


def _sites(path: str, calls: list[tuple[int, str, str]], anchor: str) -> list:
    return [(Span(path, line, line), f"{anchor}:{kind.removesuffix(' *')}", said) for line, kind, said in calls]

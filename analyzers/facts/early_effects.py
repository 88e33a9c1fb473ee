"""Side effects that cannot be rolled back, taken before the commit that makes the function's writes
visible: a task enqueued (`.delay()`, `.apply_async()`, `send_task()`, RQ's `enqueue()`, arq's
`redis.enqueue_job()`), mail sent, an HTTP request that changes something elsewhere (`requests.post`), all in
one function body, between a write on the session and the commit that follows it. Read with `ast`, one
function at a time; the order is the statements' own: the commit must run after the side effect on the path
the side effect is on (the same block or one that encloses it, with no return, raise, break or continue in
between)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from analyzers.facts.columns import span_of
from analyzers.facts.model import Span
from analyzers.facts.walk import children

# Only the modules whose text may hold both are walked.
HINT = re.compile(r"commit\(")
EFFECT_HINT = re.compile(r"\.(delay|apply_async|send_task|enqueue|enqueue_call|enqueue_job)\(|mail\w*(\.send\w*)?\(|\b(requests|httpx)\.(post|put|patch|delete)\(")

_TASKS = frozenset(("delay", "apply_async", "send_task", "enqueue", "enqueue_call"))
# arq's `await redis.enqueue_job(...)` (an ArqRedis pool); not a manager's `enqueue_job`, which may wait for the commit
_ARQ = re.compile(r"redis|pool|arq", re.I)
_MAIL = re.compile(r"^(send_(\w+_)?e?mails?|sendmail|send_mass_mail)$")
_HTTP = re.compile(r"^(requests|httpx)\.(post|put|patch|delete)$")
_SESSION = re.compile(r"session|\bdb\b|^db_|_db$|\bconn(ection)?\b|\buow\b|unit_of_work|transaction|\btx\b|\btm\b", re.I)
_WRITES = frozenset(("add", "add_all", "delete", "merge", "flush", "bulk_save_objects", "bulk_insert_mappings",
                     "bulk_update_mappings"))
_STOPS = (ast.Return, ast.Raise, ast.Break, ast.Continue)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


# A task enqueued where the function commits nothing itself: read where a transaction manager may commit for it.
TASK_HINT = re.compile(r"\.(delay|apply_async|send_task|enqueue|enqueue_call)\(")
# `with request.tm:`, `with transaction.manager:`: the `transaction` package commits as the block ends.
_MANAGER = re.compile(r"(^|\.)tm$|^transaction\.manager$|\.transaction_manager$")


@dataclass(frozen=True, slots=True)
class EarlyEffect:
    """A side effect in `function` between a write on the session (`write`) and the commit after it."""

    function: str
    kind: str  # task | mail | http
    what: str  # the call as written, shortened: `send_welcome.delay`, `requests.post`
    span: Span  # the side effect's call
    write: Span  # the last write before it (session.add, .flush, ...)
    commit: Span  # the first commit that runs after it


@dataclass(frozen=True, slots=True)
class PendingEffect:
    """A task enqueued in `function` after a write on the session (`write`) in a function that commits nothing:
    the transaction's commit is elsewhere. `manager`: the `with <transaction manager>:` block around both, whose
    end commits them (None: the boundary is the project's, CFG014 looks for it)."""

    function: str
    what: str
    span: Span
    write: Span  # the last write before it; after it in a loop's body: the write of the turn before
    manager: Span | None


def read_early_effects(functions, owners: dict[int, str], path: str) -> list[EarlyEffect]:
    out: list[EarlyEffect] = []
    for func in functions:
        name = f"{owners[id(func)]}.{func.name}" if id(func) in owners else func.name
        out += _in_function(func, name, path)
    return out


def read_pending_effects(functions, owners: dict[int, str], path: str) -> list[PendingEffect]:
    """Tasks enqueued after a write, before the end of a function that never commits (nor rolls back) itself."""
    out: list[PendingEffect] = []
    for func in functions:
        calls = list(statement_calls(func.body, ()))
        if any(is_commit(c) or _ends(c) for c, _ in calls):
            continue  # it decides when its writes commit: the explicit order is read by _in_function
        name = f"{owners[id(func)]}.{func.name}" if id(func) in owners else func.name
        writes = [c for c, _ in calls if is_write(c)]
        for call, chain in calls:
            if side_effect(call) != "task" or isinstance(call.func.value, ast.Call):
                continue  # `request.task(fn).delay()`: a wrapper of the project's, which may wait for the commit
            before = [w for w in writes if w.lineno < call.lineno]
            loop = next((s for _, i, block in reversed(chain) for s in [block[i]] if isinstance(s, _LOOPS)), None)
            if not before and loop is not None:  # a write further down the loop's body ran on its turn before
                before = [w for w in writes if call.lineno < w.lineno <= loop.end_lineno and w.lineno > loop.lineno]
            if not before:
                continue
            write = max(before, key=lambda w: w.lineno)
            manager = next((s for _, i, block in chain for s in [block[i]] if _manages(s)
                            and s.lineno < write.lineno <= s.end_lineno), None)
            out.append(PendingEffect(name, short(call.func), span_of(call, path), span_of(write, path),
                                     span_of(manager, path) if manager is not None else None))
    return out


def _manages(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.With) and any(_MANAGER.search(short(i.context_expr)) for i in stmt.items)


def _ends(call: ast.Call) -> bool:
    """`session.rollback()`, `transaction.abort()`, `tm.doom()`: the function ends the transaction its own way."""
    func = call.func
    return isinstance(func, ast.Attribute) and func.attr in ("rollback", "abort", "doom") and bool(
        _SESSION.search(short(func.value)))


def _in_function(func, name: str, path: str) -> list[EarlyEffect]:
    # Each call of the body (nested functions left out) with its chain of (block, index) from the body down.
    effects, writes, commits = [], [], []
    for call, chain in statement_calls(func.body, ()):
        kind = side_effect(call)
        if kind is not None:
            effects.append((call, chain, kind))
        elif is_commit(call):
            commits.append((call, chain))
        elif is_write(call):
            writes.append(call)
    out = []
    for call, chain, kind in effects:
        before = [w for w in writes if w.lineno < call.lineno]
        if not before:
            continue
        last_write = max(before, key=lambda w: w.lineno)
        if any(last_write.lineno < c.lineno < call.lineno for c, _ in commits):
            continue  # the writes before it were committed already
        after = [c for c, c_chain in commits if c.lineno > call.lineno and runs_after(chain, c_chain)]
        if after:
            commit = min(after, key=lambda c: c.lineno)
            out.append(EarlyEffect(name, kind, short(call.func), span_of(call, path), span_of(last_write, path),
                                   span_of(commit, path)))
    return out


def statement_calls(body: list[ast.stmt], chain: tuple):
    """Every call in `body`, outside nested functions and classes, with its statement chain: ((block, index), ...)
    from the function's body down to the statement that holds it."""
    for i, stmt in enumerate(body):
        here = (*chain, (id(body), i, body))
        todo: list[ast.AST] = [stmt]
        while todo:
            node = todo.pop()
            if isinstance(node, _NESTED) and node is not stmt:
                continue
            if isinstance(node, ast.Call):
                yield node, here
            for child in children(node):
                if isinstance(child, ast.stmt):
                    continue  # a compound statement's own blocks are walked below, with their chain
                todo.append(child)
        if isinstance(stmt, _NESTED):
            continue
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            block = getattr(stmt, field, None)
            if not block:
                continue
            if field in ("handlers", "cases"):
                for h in block:
                    yield from statement_calls(h.body, here)
            else:
                yield from statement_calls(block, here)


def runs_after(effect: tuple, commit: tuple) -> bool:
    """The commit's statement follows the effect's in a block both are in, and nothing between leaves the
    effect's path first: every block below the shared one ends (after the effect's statement) without a stop."""
    for depth, (block_id, i, block) in enumerate(effect):
        if depth >= len(commit) or commit[depth][0] != block_id:
            return False
        j = commit[depth][1]
        if j == i:
            continue  # the same statement: go down a level
        if j < i:
            return False
        # The effect's statements below this level must not stop before they fall through to here.
        return not any(isinstance(s, _STOPS) for _, k, b in effect[depth + 1:] for s in b[k + 1:]) and \
            not any(isinstance(s, _STOPS) for s in block[i + 1:j])
    return False


def side_effect(call: ast.Call) -> str | None:
    func = call.func
    attr = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if isinstance(func, ast.Attribute) and (attr in _TASKS or (attr == "enqueue_job" and _ARQ.search(short(func.value)))):
        return "task"
    if _MAIL.match(attr):
        return "mail"
    if attr in ("send", "send_with_options") and isinstance(func, ast.Attribute) and _mailer(func.value):
        return "mail"  # Flask-Mail's `mail.send(msg)`, a Dramatiq actor's `send_email.send(...)`
    if isinstance(func, ast.Attribute) and _HTTP.match(short(func)):
        return "http"
    return None


def _mailer(node: ast.AST) -> bool:
    name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""
    return name == "mail" or bool(_MAIL.match(name))


def is_commit(call: ast.Call) -> bool:
    func = call.func
    return isinstance(func, ast.Attribute) and func.attr == "commit" and not call.args and bool(
        _SESSION.search(short(func.value)))


def is_write(call: ast.Call) -> bool:
    func = call.func
    return isinstance(func, ast.Attribute) and func.attr in _WRITES and bool(_SESSION.search(short(func.value)))


def short(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."

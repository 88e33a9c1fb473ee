"""A row lock taken, then another service called over the network before the transaction can end: the lock
(`with_for_update()`, `session.get(..., with_for_update=True)`, SELECT ... FOR UPDATE in SQL) and an HTTP request
(requests, httpx, aiohttp, urllib), mail sent over SMTP (smtplib, Flask-Mail's `mail.send`) or a Stripe call, in one
function body, with no commit or rollback between them. Read with `ast`, one function at a time; the order is
the statements' own (analyzers/facts/early_effects.py): the call must run after the lock on the path the lock
is on, and a `with session.begin():` block that holds the lock must hold the call too."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from analyzers.facts.columns import span_of
from analyzers.facts.early_effects import _SESSION, runs_after, short, statement_calls
from analyzers.facts.model import Span
from analyzers.facts.names import Names, last
from analyzers.facts.walk import walk

# Only the modules whose text may hold both are walked.
HINT = re.compile(r"with_for_update|FOR\s+(NO\s+KEY\s+)?UPDATE", re.I)
CALL_HINT = re.compile(r"\b(requests|httpx|aiohttp|urllib|urlopen|smtplib|stripe)\b|\bmail\.send\(")

_VERBS = frozenset(("get", "post", "put", "patch", "delete", "head", "options", "request", "stream", "send"))
_CLIENTS = frozenset(("httpx.Client", "httpx.AsyncClient", "aiohttp.ClientSession", "requests.Session",
                      "requests.session", "smtplib.SMTP", "smtplib.SMTP_SSL"))
_STRIPE_VERBS = frozenset(("create", "modify", "retrieve", "delete", "cancel", "confirm", "capture", "pay", "list",
                           "finalize_invoice", "void_invoice", "create_reversal"))
_FOR_UPDATE = re.compile(r"\bFOR\s+(NO\s+KEY\s+)?UPDATE\b", re.I)


@dataclass(frozen=True, slots=True)
class HeldLock:
    """In `function`, a row lock (`lock`) held while `call` goes to another service."""

    function: str
    lock: Span
    locked: str  # the model the lock's query selects, as written; "" when not read
    call: Span
    what: str  # the call as written, shortened: `requests.post`, `client.post`
    unbounded: bool  # a requests call without timeout= (requests has no default: it waits as long as the server does)
    end: Span | None  # the first commit or rollback after the call on its path, if the function has one


def read_held_locks(functions, owners: dict[int, str], names: Names, path: str) -> list[HeldLock]:
    out: list[HeldLock] = []
    for func in functions:
        name = f"{owners[id(func)]}.{func.name}" if id(func) in owners else func.name
        out += _in_function(func, name, names, path)
    return out


def _in_function(func, name: str, names: Names, path: str) -> list[HeldLock]:
    clients = _clients(func, names)
    locks, calls, ends = [], [], []
    for call, chain in statement_calls(func.body, ()):
        if _locks(call, names):
            locks.append((call, chain))
        elif _ends(call):
            ends.append((call, chain))
        else:
            what = _network(call, names, clients)
            if what:
                calls.append((call, chain, what))
    out = []
    for lock, lock_chain in locks[:1]:  # the first lock: the rows stay locked until the transaction ends
        for call, chain, what in calls:
            if call.lineno <= lock.lineno or not _after(lock_chain, chain) or _left_block(lock_chain, chain):
                continue
            if any(lock.lineno < end.lineno < call.lineno and _after(lock_chain, e_chain) and runs_after(e_chain, chain)
                   for end, e_chain in ends):
                continue  # the transaction ended before the call, on its path
            after = [e for e, e_chain in ends if e.lineno > call.lineno and runs_after(chain, e_chain)]
            end = min(after, key=lambda e: e.lineno) if after else None
            out.append(HeldLock(name, span_of(lock, path), _locked(lock, names), span_of(call, path), what,
                                _unbounded(call, names, clients),
                                span_of(end, path) if end is not None else None))
            break  # one call per function: the first the lock is held across
    return out


def _locks(call: ast.Call, names: Names) -> bool:
    """`.with_for_update(...)` (not with skip_locked=True: a queue's claim, held on purpose while the job runs),
    `with_for_update=True` handed to get() or refresh(), or SQL text with FOR UPDATE."""
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "with_for_update":
        return not any(k.arg == "skip_locked" and not (isinstance(k.value, ast.Constant) and not k.value.value)
                       for k in call.keywords)
    if any(k.arg == "with_for_update" and not (isinstance(k.value, ast.Constant) and not k.value.value)
           for k in call.keywords):
        return True
    return any(isinstance(a, ast.Constant) and isinstance(a.value, str) and _FOR_UPDATE.search(a.value)
               and "SKIP LOCKED" not in a.value.upper() for a in call.args) and last(names.callee(call)) in ("text", "execute")


def _ends(call: ast.Call) -> bool:
    func = call.func
    return isinstance(func, ast.Attribute) and func.attr in ("commit", "rollback") and bool(_SESSION.search(short(func.value)))


def _clients(func, names: Names) -> dict[str, str]:
    """Local names bound to an HTTP or SMTP client in the function (`async with httpx.AsyncClient() as client`,
    `smtp = smtplib.SMTP(host)`)."""
    out: dict[str, str] = {}
    for node in walk(func):
        if isinstance(node, ast.withitem) and isinstance(node.optional_vars, ast.Name) and isinstance(node.context_expr, ast.Call) \
                and names.callee(node.context_expr) in _CLIENTS:
            out[node.optional_vars.id] = names.callee(node.context_expr)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                and isinstance(node.value, ast.Call) and names.callee(node.value) in _CLIENTS:
            out[node.targets[0].id] = names.callee(node.value)
    return out


def _network(call: ast.Call, names: Names, clients: dict[str, str]) -> str:
    """The call as written when it goes to another service, else ""."""
    qualified = names.callee(call)
    head, _, verb = qualified.rpartition(".")
    if head in ("requests", "httpx") and verb in _VERBS or qualified in ("urllib.request.urlopen", "urlopen"):
        return short(call.func)
    if head.startswith("stripe.") and verb in _STRIPE_VERBS:
        return short(call.func)
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in clients and (
            func.attr in _VERBS or func.attr in ("sendmail", "send_message")):
        return short(call.func)
    if isinstance(func, ast.Attribute) and func.attr == "send" and isinstance(func.value, ast.Name) and func.value.id == "mail":
        return short(call.func)  # Flask-Mail's `mail.send(message)`: SMTP, in the request
    return ""


def _unbounded(call: ast.Call, names: Names, clients: dict[str, str]) -> bool:
    func = call.func
    client = clients.get(func.value.id, "") if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
    made_by = client or names.callee(call)
    return made_by.partition(".")[0] == "requests" and not any(k.arg == "timeout" for k in call.keywords)


def _after(lock_chain: tuple, call_chain: tuple) -> bool:
    """The call runs after the lock on its path: a later statement (runs_after), or inside the statement that
    takes it (`for row in session.scalars(select(Job).with_for_update()):` and the loop's body)."""
    inside = len(call_chain) > len(lock_chain) and all(a[:2] == b[:2] for a, b in zip(lock_chain, call_chain))
    return inside or runs_after(lock_chain, call_chain)


def _left_block(lock_chain: tuple, call_chain: tuple) -> bool:
    """A `with ....begin():` block holds the lock but not the call: the transaction ended at the block's end."""
    for depth, (block_id, i, block) in enumerate(lock_chain):
        stmt = block[i]
        if isinstance(stmt, (ast.With, ast.AsyncWith)) and any(
                isinstance(item.context_expr, ast.Call) and isinstance(item.context_expr.func, ast.Attribute)
                and item.context_expr.func.attr in ("begin", "begin_nested") for item in stmt.items):
            if depth >= len(call_chain) or call_chain[depth][:2] != (block_id, i):
                return True
    return False


def _locked(lock: ast.Call, names: Names) -> str:
    """The model of `select(Model)...with_for_update()` or `session.get(Model, ..., with_for_update=True)`."""
    for node in walk(lock):
        if isinstance(node, ast.Call) and last(names.callee(node)) in ("select", "query", "get", "refresh") and node.args:
            first = node.args[0]
            if isinstance(first, (ast.Name, ast.Attribute)):
                text = ast.unparse(first)
                if text[:1].isupper() or "." in text and text.rpartition(".")[2][:1].isupper():
                    return text
    return ""

"""Where a project hands its sessions' commits to the `transaction` package: zope.sqlalchemy's
`register(session, ...)` (or the older `ZopeTransactionExtension` / `ZopeTransactionEvents` given to a
sessionmaker) joins the session to a transaction manager, which commits when its unit of work ends
(`pyramid_tm` at the end of the request, `with request.tm:`); `config.include("pyramid_tm")` makes each
request one. Read with `ast`; nothing is imported."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from analyzers.facts.columns import span_of
from analyzers.facts.model import Span

HINT = re.compile(r"zope[._]sqlalchemy|Zope(TransactionExtension|TransactionEvents)|pyramid_tm")
_JOINS = ("ZopeTransactionExtension", "ZopeTransactionEvents")


@dataclass(frozen=True, slots=True)
class TransactionManager:
    how: str  # register | pyramid_tm
    text: str  # the call as written, shortened
    span: Span


def read_transaction_managers(tree: ast.Module, path: str) -> list[TransactionManager]:
    zope = "zope" in {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names} or any(
        isinstance(n, ast.ImportFrom) and (n.module or "").startswith("zope.sqlalchemy") for n in ast.walk(tree))
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        text = ast.unparse(func)
        if name in _JOINS or (name == "register" and zope and (text == "register" or "zope" in text)):
            out.append(TransactionManager("register", text, span_of(node, path)))
        elif name == "include" and any(isinstance(a, ast.Constant) and a.value == "pyramid_tm" for a in node.args):
            out.append(TransactionManager("pyramid_tm", text, span_of(node, path)))
    return out

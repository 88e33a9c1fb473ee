"""Section 5 (data integrity), concurrency: a one-time code or token consumed by reading its row, then deleting
it in another statement, with nothing that stops a second request reading it in between."""

from __future__ import annotations

import re

from analyzers.facts.consumed import Consumed
from analyzers.facts.paths import is_test_path
from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.code_use import app_queries, run_by_helper
from analyzers.rules.examples_common import HEADER
from analyzers.rules.schema import is_tooling_path

# What a one-time credential is called: the model's words, and the words of the column the lookup compares.
_ONE_TIME = {"code", "token", "otp", "nonce", "ticket"}
_ONE_ROW = ("scalar_one_or_none", "one_or_none", "scalar_one", "one", "first", "scalar")


class OneTimeRowReadThenDeleted(Rule):
    """A one-time code or token is consumed by a SELECT, then a DELETE of the row in another statement.

    What it checks:
        A function that reads one row of a model whose name says it is a code or a token (`AuthorizationCode`,
        `RefreshToken`, `OtpToken`) by a column whose name says so too (`code`, `token_hash`), hands what the row
        holds on (returns or yields it, or gives it to a call: the grant the code is worth), and deletes that row
        later with `session.delete(row)` or a repository's `delete(row)`; the read is in the function itself or in
        the one method of another object it calls (`codes.get_by_code(h)`, a method of the class the object is
        annotated or made with, run directly or through a helper of that class). Not when the read takes a row
        lock (`with_for_update()`), nor when the function locks, deletes with RETURNING or counts the rows it
        deleted. Tests, scripts and migrations are not read.
    Why it matters:
        At READ COMMITTED two requests presenting the same code at once both read the row before either deletes
        it: both pass every check and both get what the code is worth (two sets of tokens for one authorization
        code, two rotations of one refresh token). A code meant for one use is used twice.
    Example:
        code = (await session.execute(select(AuthCode).where(AuthCode.code == c))).scalar_one_or_none()
        ...; await session.delete(code); return grant(code.user_id)
    Instead:
        Consume it in one statement and act on what it returns: `delete(AuthCode).where(AuthCode.code == c)
        .returning(AuthCode)` (no row: already used), or read it with `.with_for_update()` so that the second
        request waits and then finds it gone; or check the delete's rowcount before granting anything.
    """

    ID = "RACE003"
    ITEM = "5.5"
    SEVERITY = Severity.WARNING
    _MODELS = HEADER + '''
class AuthCode(Base):
    __tablename__ = "auth_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column()
'''
    _CODE = '''
from sqlalchemy import select
from models import AuthCode
from tokens import grant

async def redeem(session, code):
    stmt = select(AuthCode).where(AuthCode.code == code){}
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        raise ValueError("invalid code")
    await session.delete(found)
    await session.commit()
    return grant(found.user_id)
'''
    VALID = ({"models.py": _MODELS, "app/redeem.py": _CODE.format(".with_for_update()")},)
    INVALID = ({"models.py": _MODELS, "app/redeem.py": _CODE.format("")},)

    def check(self):
        queries = [(q, t) for q, t in app_queries(self.facts) if q.statement == "select"]
        for m in self.facts.modules:
            if is_test_path(m.path) or is_tooling_path(m.path):
                continue
            for c in m.consumed:
                if c.guarded or not c.used:
                    continue
                found = self._read(c, m, queries)
                if found is not None:
                    yield self._finding(c, m.path, *found)

    def _read(self, c: Consumed, m, queries):
        """The query that reads the row and its table: in the function (the name it binds), or in the method it
        calls on an object of a class of the target's."""
        if c.lookup is None:
            mine = [(q, t) for q, t in queries if q.span.path == m.path and q.function == c.function and c.name in q.instances]
        else:
            method, cls = c.lookup
            value = self.facts.derived["symbols"].resolve(cls, m.module) if cls else None
            where = (value.cls.path if value.cls is not None else value.module.path if value.module is not None else None) \
                if value is not None and value.kind == "class" else None
            short = (cls or "").rpartition(".")[2]
            mine = [(q, t) for q, t in queries if where and q.span.path == where and q.function == method
                    and (q.handed is None or q.handed[0] == short)]
        if len(mine) != 1:
            return None
        q, table = mine[0]
        methods = (run_by_helper(self.facts, q) or ((),))[0] if q.escapes else q.methods
        if "with_for_update" in methods or not any(x in methods for x in _ONE_ROW):
            return None
        names = {col.attr or col.name: col.name for col in table.columns.values()}
        keys = [names.get(e, e) for e in q.equals if _words(names.get(e, e)) & _ONE_TIME]
        if not keys or not _words(table.class_name or table.name) & _ONE_TIME:
            return None
        return q, table, keys[0]

    def _finding(self, c: Consumed, path: str, q, table, key: str):
        what = " ".join(w.lower() for w in re.findall(r"[A-Z][a-z0-9]*|[a-z0-9]+", table.class_name or table.name))
        via = f" ({c.lookup[0]}(), {q.span.path}:{q.span.start})" if c.lookup else ""
        return self.finding(
            f"{c.function} consumes a one-time {what} ({table.class_name or table.name}, table {table.name}): it reads "
            f"the row by {key}{via}, uses it, and deletes it at {c.deleted.path}:{c.deleted.start} in another statement, "
            f"with no row lock (`with_for_update()`), no DELETE ... RETURNING and no count of the rows deleted: two "
            f"requests presenting the same {key} at once both read it before either deletes it, and both get what it "
            "grants",
            c.read, f"function:{path}:{c.function}:{table.class_name or table.name}:consumed",
            related=[(c.deleted, "deleted here, in another statement"), (q.span, "the read")],
        )


def _words(name: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", name)}

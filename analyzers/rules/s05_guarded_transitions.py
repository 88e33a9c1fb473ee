"""Section 5 (data integrity), concurrency: a row's status tested in Python and then changed, with nothing that
stops a second request or job passing the same test in between (check-then-act on a row)."""

from __future__ import annotations

import re

from analyzers.facts.model import Span
from analyzers.facts.paths import is_test_path
from analyzers.findings import Severity
from analyzers.rules.examples_common import HEADER
from analyzers.rules.s05_integrity import _uncalled
from analyzers.rules.s05_lost_updates import (
    _LOCKS, LostUpdate, _a, _classes_and_loads, _counted_column, _function_text, _persisted, _strict_isolation,
    _versioned, name_of,
)
from analyzers.rules.schema import is_tooling_path

# A call that leaves the database: money moved, a message sent, a job queued, another service called. Once two
# requests have both passed the test, both make it, and no rollback takes it back.
_EFFECT = re.compile(
    r"(?<![\w.])(?:[\w]+\.)*(send\w*|broadcast\w*|charge\w*|refund\w*|transfer\w*|payout\w*|pay|capture\w*|\w*mail\w*|"
    r"notify\w*|publish\w*|enqueue\w*|delay|apply_async|send_task|post|put|patch|webhook\w*|deliver\w*|"
    r"create_(?:charge|payment|refund|transfer|payout)\w*)\(")
# A status that time gives the row (`EXPIRED`, `"timeout"`): any request may set it and two set the same, with
# nothing else riding on it.
_TIMED = re.compile(r"expire|time_?d?_?out", re.I)
# Another way the function claims the row: an UPDATE whose rows it counts (`.rowcount`), RETURNING.
_CLAIMS = re.compile(r"\browcount\b|\.returning\(|\bRETURNING\b|\bSKIP\s+LOCKED\b|skip_locked")


class GuardedTransition(LostUpdate):
    """A row's status is tested in Python and then changed, with no row lock or conditional UPDATE (check-then-act).

    What it checks:
        A function that loads a row (a query in the same function, `session.get(Model, ...)`, or a function of
        the same module that returns the row its query loaded), tests a status-like column of it (`status`,
        `state`, `*_status`, `is_used`, `redeemed`, `claimed`) in an `if` that either surrounds the write or
        leaves the function (`raise`, `return`, `continue`), then sets that column to a constant or an enum member
        (`job.status = "running"`, `payout.status = PayoutStatus.SENT`) and commits, flushes or saves it. A
        warning when the function calls out between the test and the commit (a send, a payment, a mail, a
        queued job, an HTTP post: it cannot be undone), info otherwise. Not when the load takes a row lock
        (`with_for_update()`), the function takes another lock (SELECT ... FOR UPDATE, SKIP LOCKED, an advisory
        lock), claims the row with an UPDATE whose rows it counts (`rowcount`, RETURNING), the model has a
        version counter (`version_id_col`), the engine runs REPEATABLE READ or SERIALIZABLE, or nothing in the
        application calls the function; nor, with no call out, when the test only excludes the value written
        (`if m.state != "active": m.state = "active"`) or the value is one time gives the row (`EXPIRED`,
        `"timeout"`): two writers leave the same row behind. A row handed in by a caller (a parameter) is not judged: where and how
        the caller loaded it is not read. Tests, scripts and migrations are not read.
    Why it matters:
        At PostgreSQL's default READ COMMITTED, two requests or workers that load the same row before either
        commits both see the old status, both pass the test and both make the transition: a payout sent twice,
        a job run by two workers, an order shipped twice, a code redeemed twice. The second write only repeats
        the first, so nothing fails and nothing says it happened.
    Example:
        payout = session.get(Payout, payout_id)
        if payout.status != "approved":
            raise HTTPException(409)
        bank.transfer(payout.amount, payout.iban)
        payout.status = "sent"
        session.commit()
    Instead:
        Claim the row in one statement and go on only if it was yours: `claimed = session.execute(update(Payout)
        .where(Payout.id == payout_id, Payout.status == "approved").values(status="sending")).rowcount` (0: another
        request has it), or load it with `.with_for_update()` (`SKIP LOCKED` for a queue of jobs) so that the second
        request waits and then sees the new status.
    """

    ID = "RACE004"
    ITEM = "5.5"
    SEVERITY = Severity.INFO
    _MODELS = HEADER + '''
class Payout(Base):
    __tablename__ = "payouts"
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="approved")
    amount: Mapped[int] = mapped_column(Integer)
'''
    _CODE = '''
from fastapi import APIRouter, HTTPException
from sqlalchemy import select
from models import Payout
from bank import transfer
router = APIRouter()

@router.post("/payouts/{{payout_id}}/send")
def send(session, payout_id: int):
    payout = session.scalars(select(Payout).where(Payout.id == payout_id){lock}).one()
    if payout.status != "approved":
        raise HTTPException(409)
    transfer(payout.amount)
    payout.status = "sent"
    session.commit()
'''
    VALID = (
        {"models.py": _MODELS, "app/payouts.py": _CODE.format(lock=".with_for_update()")},
    )
    INVALID = (
        {"models.py": _MODELS, "app/payouts.py": _CODE.format(lock="")},
    )

    def check(self):
        facts = self.facts
        if _strict_isolation(facts):
            return
        classes, self.queries, self.loads = _classes_and_loads(facts)
        locked = {name_of(table) for q, table in self.queries if "with_for_update" in q.methods}
        seen: set[tuple[str, str, str, str]] = set()
        for m in facts.modules:
            if not m.rewrites or is_test_path(m.path) or is_tooling_path(m.path):
                continue
            for rw in m.rewrites:
                if rw.kind != "guard" or rw.origin[0] not in ("", "get", "call") or _TIMED.search(rw.written.partition("=")[2]):
                    continue  # a parameter: the caller's load and lock are not read here
                found = self._loaded(rw, self.loads.get((m.path, rw.function), ()), classes, locked, m.path)
                if found is None:
                    continue
                table, how = found
                key = (m.path, rw.function, name_of(table), rw.attr)
                if key in seen or not _counted_column(table, rw.attr) or _versioned(facts, table):
                    continue
                seen.add(key)
                finding = self._judged(rw, table, how)
                if finding is not None:
                    yield finding

    def _judged(self, rw, table, how: str):
        first, text = _function_text(self.facts, rw.span)
        if any(_LOCKS.search(line) or _CLAIMS.search(line) for line in text):
            return None
        saved = _persisted(text, first, rw.span.end, rw.holder)
        if saved is None or _uncalled(self.facts, rw) is not None:
            return None
        cls, checked = name_of(table), rw.checked_at.start
        until = int(re.search(r"line (\d+)", saved).group(1)) if re.search(r"line (\d+)", saved) else rw.span.end
        effect = next(((n, m.group(0)) for n in range(checked + 1, max(until, rw.span.end) + 1)
                       if 0 <= n - first < len(text) and (m := _EFFECT.search(text[n - first]))), None)
        if effect is None and rw.checked == f"{rw.holder}.{rw.attr} != {rw.written.partition('=')[2].strip()}":
            return None  # `if x.state != "active": x.state = "active"`: both writers leave the same row behind
        both = "both make the transition"
        if effect is not None:
            both += f" and both run `{effect[1]}...)` (line {effect[0]}), which no rollback undoes"
        message = (
            f"{rw.function} {how.rstrip(',')}, tests `{rw.checked}` (line {checked}), then sets {cls}.{rw.attr} (`{rw.written}`) and "
            f"{saved}, with no row lock (with_for_update()), no conditional UPDATE (`... WHERE {rw.attr} = <old>` whose "
            f"rowcount it checks) and no advisory lock between: two requests or jobs that load the same {table.name} row "
            f"before either commits both pass the test and {both}. Claim the row in one statement "
            f"(`update({cls}).where({cls}.id == ..., {cls}.{rw.attr} == <old>).values({rw.attr}=<new>)`, go on only if "
            f"its rowcount is 1), or load it with with_for_update()"
        )
        related = [(rw.checked_at, f"the test: {rw.checked}")]
        if effect is not None:
            related.append((Span(rw.span.path, effect[0], effect[0]), f"called between the test and the commit: {effect[1]}...)"))
        return self.finding(message, rw.span, f"function:{rw.span.path}:{rw.function}:{cls}.{rw.attr}:check-then-act",
                            severity=Severity.WARNING if effect is not None else Severity.INFO, related=related)

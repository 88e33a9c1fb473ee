"""Section 1 (session management): a row lock held while the request waits on another service."""

from __future__ import annotations

from analyzers.facts.paths import is_test_path, is_tooling_path
from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.s05_integrity import _uncalled


class LockHeldAcrossCall(Rule):
    """A row lock is held while the function calls another service over the network.

    What it checks:
        One function body that takes a row lock (`.with_for_update()`, `session.get(..., with_for_update=True)`,
        SQL with FOR UPDATE) and then, on the same path and before any commit or rollback, makes an HTTP request
        (`requests`, `httpx`, an `httpx`/`aiohttp`/`requests` client made in the function, `urlopen`), sends mail
        over SMTP (`smtplib`, Flask-Mail's `mail.send()`) or calls Stripe (`stripe.<Resource>.create(...)` and the like). A
        lock taken inside `with session.begin():` is released at the block's end: a call after the block is not
        read as held. Not a lock with `skip_locked=True` (a queue's claim on a job, held on purpose while the job
        runs), nor a function nothing in the application calls. Calls through the project's own wrappers of a
        service (a `send_welcome_email()` that may only enqueue) are not followed. Tests and command-line tooling are not read.
    Why it matters:
        The lock lasts until the transaction ends, so the rows stay locked for the other service's latency,
        retries and timeouts, and so does the pooled connection. Every other request that locks or updates those
        rows waits behind the call (or fails on lock_timeout); when the service is slow the waits pile up and
        exhaust the pool, and a call without a timeout can hold the rows for as long as it hangs.
    Example:
        invoice = session.scalars(select(Invoice).where(Invoice.id == invoice_id).with_for_update()).one()
        response = requests.post(PAYMENT_URL, json={"amount": invoice.amount}, timeout=10)
        invoice.status = "paid"
        session.commit()
    Instead:
        Do not wait on the network inside the locked transaction: mark the row as in progress and commit (the
        status claims it), call the service outside the transaction (with an idempotency key), then lock the row
        again only to record the result; or make the call before taking the lock.
    """

    ID = "CFG018"
    ITEM = "1.5"
    SEVERITY = Severity.WARNING
    _CODE = '''
import requests
from fastapi import APIRouter
from sqlalchemy import select
from models import Invoice
router = APIRouter()

PAYMENT_URL = "https://payments.example.com/charges"

@router.post("/invoices/{{invoice_id}}/pay")
def pay_invoice(session, invoice_id: int):
    invoice = session.scalars(select(Invoice).where(Invoice.id == invoice_id).with_for_update()).one()
{body}
'''
    _CHARGE = '    response = requests.post(PAYMENT_URL, json={"amount": invoice.amount}, timeout=10)\n'
    INVALID = ({"app/pay.py": _CODE.format(body=_CHARGE + '    invoice.status = "paid"\n    session.commit()')},)
    VALID = (
        {"app/pay.py": _CODE.format(body='    invoice.status = "charging"\n    session.commit()\n' + _CHARGE)},
        {"app/pay.py": _CODE.replace(".with_for_update()", "").format(
            body=_CHARGE + '    invoice.status = "paid"\n    session.commit()')},
    )

    def check(self):
        for m in self.facts.modules:
            if not m.held_locks or is_test_path(m.path) or is_tooling_path(m.path):
                continue
            for h in m.held_locks:
                if _uncalled(self.facts, _Named(h.function, h.lock)) is not None:
                    continue
                rows = f"{h.locked} rows" if h.locked else "rows"
                until = (f"before the commit at line {h.end.start}" if h.end is not None
                         else "before the transaction ends (no commit or rollback in the function: its caller's)")
                hang = "; requests has no default timeout and none is passed, so a call that hangs holds the lock as long" \
                    if h.unbounded else ""
                related = [(h.lock, "the row lock")] + ([(h.end, "the transaction ends here")] if h.end is not None else [])
                yield self.finding(
                    f"{h.function} locks {rows} (line {h.lock.start}) and then calls `{h.what}` (line {h.call.start}) "
                    f"{until}: the rows stay locked, and the connection taken, for the other service's latency and "
                    f"failures, and every request that locks or updates them waits behind it{hang}. Call the service "
                    "outside the locked transaction (claim the row with a status and commit first, or call before "
                    "locking)",
                    h.call, f"function:{h.call.path}:{h.function}:lock-held-across-call", related=related)


class _Named:
    """What `_uncalled` reads of a finding's place: the function and where it is."""

    def __init__(self, function: str, span) -> None:
        self.function, self.span = function.rpartition(".")[2], span

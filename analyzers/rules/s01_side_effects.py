"""Section 1 (session management): what a request does outside the database before its transaction commits."""

from __future__ import annotations

from analyzers.facts.paths import is_test_path, is_tooling_path
from analyzers.findings import Severity
from analyzers.rules.base import Rule

_WHY = {
    "task": ("enqueues", "the worker may run it before the commit is visible and find the rows missing or as they "
                         "were, and if the commit fails the task runs for changes that never happened"),
    "mail": ("sends mail with", "if the commit fails, the mail is out about changes that never happened"),
    "http": ("calls", "if the commit fails, the other service has acted on changes that never happened"),
}


class SideEffectBeforeCommit(Rule):
    """A task is enqueued, mail sent or another service called before the commit of the writes it follows.

    What it checks:
        One function body that writes on the session (`add`, `add_all`, `delete`, `merge`, `flush`, bulk
        writes), then, before any commit, enqueues a task (Celery's `.delay()`, `.apply_async()`,
        `send_task()`, RQ's `enqueue()`, arq's `redis.enqueue_job()`), sends mail (`send_*email()`, `sendmail()`, Flask-Mail's
        `mail.send()`, a Dramatiq mail actor's `.send()`) or makes an HTTP request that changes something
        (`requests`/`httpx` `post`, `put`, `patch`, `delete`), and then commits. The commit must run after the
        side effect on its path: the same block or one around it, with no return, raise, break or continue
        between. Both lines are cited. Not FastAPI's `background_tasks.add_task()`, which runs after the
        response, so after the function's commit. Writes and commits in other functions are not followed;
        tests and command-line tooling are not read.
    Why it matters:
        A worker may take the task before the transaction commits: it reads the rows as they were (or not
        at all), and does nothing or the wrong thing. Mail and HTTP calls cannot be rolled back: if the
        commit then fails (a constraint, a serialization failure, a lost connection), the user was told of,
        or another service acted on, a change that never happened.
    Example:
        session.add(invoice)
        send_invoice.delay(invoice.id)
        session.commit()
    Instead:
        Commit first, then enqueue or send: `session.commit()` and then `send_invoice.delay(invoice.id)`; or
        hand the side effect to an after-commit hook (a transactional outbox table read by the worker).
    """

    ID = "CFG014"
    ITEM = "1.5"
    SEVERITY = Severity.WARNING
    INVALID = ({"app/invoices.py": '''
from app.tasks import send_invoice

def create_invoice(session, invoice):
    session.add(invoice)
    session.flush()
    send_invoice.delay(invoice.id)
    session.commit()
'''},)
    VALID = ({"app/invoices.py": '''
from app.tasks import send_invoice

def create_invoice(session, invoice):
    session.add(invoice)
    session.commit()
    send_invoice.delay(invoice.id)
'''}, {"app/invoices.py": '''
from app.tasks import send_invoice

def create_invoice(session, invoice, background_tasks):
    session.add(invoice)
    background_tasks.add_task(send_invoice, invoice.id)
    session.commit()
'''}, {"app/invoices.py": '''
from app.tasks import send_invoice

def create_invoice(session, invoice, draft):
    session.add(invoice)
    if not draft:
        send_invoice.delay(invoice.id)
        return
    session.commit()
'''})

    def check(self):
        for m in self.facts.modules:
            if not m.early_effects or is_test_path(m.path) or is_tooling_path(m.path):
                continue
            for e in m.early_effects:
                verb, why = _WHY[e.kind]
                yield self.finding(
                    f"{e.function} {verb} `{e.what}` (line {e.span.start}) after writing to the session (line "
                    f"{e.write.start}) and before the commit (line {e.commit.start}): {why}; do it after the commit",
                    e.span, f"side-effect:{e.function}:{e.what}",
                    severity=Severity.WARNING if e.kind == "task" else Severity.INFO,
                    related=[(e.write, "the write"), (e.commit, "the commit, after the side effect")],
                )

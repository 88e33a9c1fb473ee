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
        Where the commit is a transaction manager's, not the function's: a function that writes and then enqueues a
        task, and neither commits nor rolls back itself, inside a `with request.tm:` (or `transaction.manager`)
        block whose end commits (a warning, citing the block), or anywhere in a project that joins its sessions to
        the `transaction` package with zope.sqlalchemy's `register` (a warning) or includes `pyramid_tm` (info:
        the request's commit is inferred from the configuration), citing where. A write further down a loop's body
        comes before the task on the next turn. A task handed to an after-commit hook
        (`transaction.get().addAfterCommitHook`, a project's `notify_after_commit`) is in a nested function, and
        not read.
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
'''}, {"app/db.py": '''
import zope.sqlalchemy

def includeme(config):
    zope.sqlalchemy.register(config.registry["session"], transaction_manager=config.registry["tm"])
''', "app/invoices.py": '''
from app.tasks import send_invoice

def create_invoice(db, invoice):
    db.add(invoice)
    send_invoice.delay(invoice.id)
'''})
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
'''}, {"app/db.py": '''
import zope.sqlalchemy

def includeme(config):
    zope.sqlalchemy.register(config.registry["session"], transaction_manager=config.registry["tm"])
''', "app/invoices.py": '''
import transaction
from app.tasks import send_invoice

def create_invoice(db, invoice):
    db.add(invoice)
    transaction.get().addAfterCommitHook(lambda ok: ok and send_invoice.delay(invoice.id))
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
        yield from self._pending()

    def _pending(self):
        """Tasks enqueued after a write by a function that leaves the commit to a transaction manager: the end of
        its `with request.tm:` block, or the project's (zope.sqlalchemy's `register`, pyramid_tm's request)."""
        read = [m for m in self.facts.modules if not is_test_path(m.path) and not is_tooling_path(m.path)]
        managers = sorted((t for m in read for t in m.transaction_managers), key=lambda t: t.how != "register")
        boundary = managers[0] if managers else None
        _, why = _WHY["task"]
        for m in read:
            for p in m.pending_effects:
                turn = ", on the loop's turn before" if p.write.start > p.span.start else ""
                head = (f"{p.function} enqueues `{p.what}` (line {p.span.start}) after writing to the session (line "
                        f"{p.write.start}{turn})")
                if p.manager is not None:
                    yield self.finding(
                        f"{head}, inside the `with` block (line {p.manager.start}) whose end commits the transaction: {why}; "
                        "enqueue after the block, or from an after-commit hook", p.span, f"side-effect:{p.function}:{p.what}",
                        related=[(p.write, "the write"), (p.manager, "the transaction manager, which commits as the block ends")])
                elif boundary is not None:
                    joined = boundary.how == "register"
                    where = (f"`{boundary.text}` joins the session to the `transaction` package's manager" if joined else
                             f"`{boundary.text}(\"pyramid_tm\")` commits each request's transaction")
                    yield self.finding(
                        f"{head} and commits nothing itself: {where} ({boundary.span.path}:{boundary.span.start}), so the "
                        f"commit comes when the request or unit of work ends, after this function returns: {why}; enqueue "
                        "from an after-commit hook (`transaction.get().addAfterCommitHook`)", p.span,
                        f"side-effect:{p.function}:{p.what}", severity=Severity.WARNING if joined else Severity.INFO,
                        related=[(p.write, "the write"), (boundary.span, "where the transaction manager is set up")])


class SplitCommit(Rule):
    """One operation is committed in two parts: a write that uses what the first commit made is committed apart.

    What it checks:
        One function body that writes on the session and commits (or calls a function of the project that commits
        on every path, resolved by its name: one of the same module, one it imports from a module of the
        project, or a method of its own class), then writes again with what that first part made and commits a
        second time. "What it made": the id of an object it added (`team.id`), or the object itself (or the one
        the helper returned) handed to a constructor, added to another object's collection or assigned to
        another object's attribute. The three must run one after the other on one path; the first write, the
        first commit, the dependent write and the second commit are cited. Commits inside a loop (per row, per
        batch) are not read: they are meant to commit in parts; nor is a dependent write such a commit commits
        before the second (`for c in views: session.add(View(campaign=c)); session.commit()`). Tests (their files, and functions named `test*` or
        `setUp` wherever they are) and command-line tooling are not read; a helper that cannot be resolved, or that
        commits only on some paths, is not a commit here. Nor is a first commit followed by a task enqueued, mail
        sent or a service called, in the function or in the helper after its commit (that commit is wanted, the
        task reads the rows from another process: CFG014); nor a first part that makes a row a lookup just missed
        (`if not kind:` after `kind = ...first()`), from the looked-up values or from literals alone (a fixed
        singleton): committed alone it is whole, and the next call finds and reuses it. A dependent write under an `if` that the first commit
        is not under is info, naming the test: on the function's other paths the first part stays alone on purpose,
        so what a failure leaves may be a valid object of its own (an index not yet linked to a board). The
        functions that go on after a helper that commits are one design: one finding, at the first, with the others
        as related places.
    Why it matters:
        A failure between the two commits (a constraint, a lost connection, a worker killed) leaves the first
        part committed alone: a team without its captain's membership, a user without the rows that complete
        the sign-up, an order without its lines. The next attempt then meets a half-made row (a duplicate
        name, an account that cannot log in). Committing to get an id is not needed: `flush()` assigns it
        inside the transaction.
    Example:
        session.add(team)
        session.commit()
        session.add(Membership(team_id=team.id, user_id=user.id))
        session.commit()
    Instead:
        `session.flush()` where the id is needed, and one commit at the end of the operation (or
        `with session.begin():` around it); a helper that adds leaves the commit to its caller.
    """

    ID = "CFG015"
    ITEM = "1.5"
    SEVERITY = Severity.WARNING
    INVALID = ({"app/teams.py": '''
from app.models import Membership

def create_team(session, team, user):
    session.add(team)
    session.commit()
    session.add(Membership(team_id=team.id, user_id=user.id))
    session.commit()
'''}, {"app/services/roles.py": '''
from app.models import Role

def create_role(session, name):
    role = Role(name=name)
    session.add(role)
    session.commit()
    return role
''', "app/services/members.py": '''
from app.services.roles import create_role

def grant(session, member, name):
    role = create_role(session, name)
    member.roles.append(role)
    session.commit()
'''})
    VALID = ({"app/teams.py": '''
from app.models import Membership

def create_team(session, team, user):
    session.add(team)
    session.flush()
    session.add(Membership(team_id=team.id, user_id=user.id))
    session.commit()
'''}, {"app/imports.py": '''
def import_rows(session, rows):
    for batch in rows:
        for row in batch:
            session.add(row)
        session.commit()
'''}, {"app/users.py": '''
def activate(session, user):
    session.add(user)
    session.commit()
    user.active = True
    session.commit()
'''})

    def check(self):
        committing = {q for m in self.facts.modules for q in m.committers}
        through_helpers = []  # (split, message): one design, reported once with every place
        for m in self.facts.modules:
            if not m.split_commits or is_test_path(m.path) or is_tooling_path(m.path):
                continue
            reported = set()  # one finding a function: its first commit that splits the operation
            for s in m.split_commits:
                if s.helper is not None and s.helper not in committing or s.function in reported:
                    continue
                reported.add(s.function)
                second = (f"then writes again with `{s.uses}` from that first part (line {s.write.start}) and commits a "
                          f"second time (line {s.second.start})")
                if s.helper is not None:
                    through_helpers.append((s, f"{s.function} calls `{s.helper_as_written}` (line {s.first.start}), "
                                               f"which commits, {second}"))
                    continue
                message = (f"{s.function} writes to the session (line {s.first_write.start}) and commits (line "
                           f"{s.first.start}), {second}: if anything fails between the two commits, the first part stays "
                           f"committed alone, half an operation; flush where the id is needed and commit once")
                yield self.finding(
                    message + _optional(s), s.write, f"split-commit:{s.function}",
                    severity=Severity.INFO if s.when else None,
                    related=[(s.first_write, "the first part's write"), (s.first, "the first commit"),
                             (s.second, "the second commit")],
                )
        if through_helpers:
            yield self._helpers(through_helpers)

    def _helpers(self, splits):
        """Functions of the project that commit inside, and callers that go on writing with their result: one
        design, one finding at the first caller, the others as related places."""
        (first, text), more = splits[0], len(splits) - 1
        others = f"; {more} more function(s) do the same after a helper that commits" if more else ""
        message = (f"{text}: if anything fails between the two commits, the helper's rows stay committed alone, "
                   f"half an operation{others}; let the helpers flush and leave the commit to their callers")
        if not more:
            return self.finding(message + _optional(first), first.write, f"split-commit:{first.function}",
                                severity=Severity.INFO if first.when else None,
                                related=[(first.first, "the call that commits"), (first.second, "the second commit")])
        sites = [(s.write, f"split-commit:{s.function}", f"{s.function}: calls `{s.helper_as_written}`, which commits, "
                  f"then writes with `{s.uses}` and commits again") for s, _ in splits]
        return self.grouped(message, sites, "split-commit:helpers",
                            also=[(first.first, "the call that commits"), (first.second, "the second commit")])


def _optional(split) -> str:
    """What the finding adds, and why it is info, when the second part runs only under an `if` the first does not."""
    if split.when is None:
        return ""
    test, line = split.when
    return (f"; but the second part runs only when {test} (line {line}): on the other paths the function leaves the "
            "first part alone, a state it makes on purpose, so what a failure leaves may be a valid object on its own")


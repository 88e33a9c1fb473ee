"""CFG014: a task enqueued, mail sent or a service called between a write on the session and the commit after it,
in one function. Each case a small repository of our own, with the exact finding (or its absence) pinned."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.test_precision import found as scanned


def found(tmp_path, files, rule):
    """Each module imports SQLAlchemy, as the application's modules that hold a session do (discovery reads those), on
    the first line, which each case leaves empty."""
    return scanned(tmp_path, {p: "from sqlalchemy.orm import Session" + code for p, code in files.items()}, rule)

_TASK = '''
from app.tasks import send_invoice

def create_invoice(session, invoice):
    session.add(invoice)
    send_invoice.delay(invoice.id)
    session.commit()
'''


def test_a_task_enqueued_between_the_write_and_the_commit_is_a_warning_citing_both_lines(tmp_path):
    (f,) = found(tmp_path, {"app/invoices.py": _TASK}, "CFG014")
    assert (f.severity, f.location.path, f.location.start_line, f.item_id) == (Severity.WARNING, "app/invoices.py", 6, "1.5")
    assert f.anchor == "side-effect:create_invoice:send_invoice.delay"
    assert f.message.startswith("create_invoice enqueues `send_invoice.delay` (line 6) after writing to the session "
                                "(line 5) and before the commit (line 7)")
    assert [r.location.start_line for r in f.related] == [5, 7]


def test_mail_sent_before_an_awaited_commit_is_info(tmp_path):
    code = '''
async def reset_password(db, user, mailer, new_hash):
    user.password_hash = new_hash
    db.add(user)
    try:
        await mailer.send_password_email(user.email)
    except OSError:
        pass
    await db.commit()
'''
    (f,) = found(tmp_path, {"app/auth.py": code}, "CFG014")
    assert (f.severity, f.location.start_line) == (Severity.INFO, 6)
    assert "sends mail with `mailer.send_password_email`" in f.message and "(line 9)" in f.message


def test_a_flask_mail_and_a_dramatiq_mail_actor_are_mail(tmp_path):
    code = '''
def invite(db, member, msg):
    db.session.add(member)
    mail.send(msg)
    send_email.send(member.email)
    db.session.commit()
'''
    lines = sorted(f.location.start_line for f in found(tmp_path, {"app/members.py": code}, "CFG014"))
    assert lines == [4, 5]


def test_the_order_that_commits_first_or_leaves_the_path_is_not_reported(tmp_path):
    code = '''
import requests

def committed_first(session, order):
    session.add(order)
    session.commit()
    ship.delay(order.id)
    order.state = "queued"
    session.commit()

def returns_before(session, order, dry):
    session.add(order)
    if dry:
        requests.post("https://hooks.example/orders", json={"id": order.id})
        return
    session.commit()

def nothing_written(session, order):
    ship.delay(order.id)
    session.commit()

def other_branch(session, order, ok):
    session.add(order)
    try:
        session.flush()
    except ValueError:
        ship.delay(order.id)
    else:
        session.commit()

def after_response(session, order, background_tasks):
    session.add(order)
    background_tasks.add_task(ship, order.id)
    session.commit()
'''
    assert found(tmp_path, {"app/orders.py": code}, "CFG014") == []


def test_an_http_post_in_a_loop_before_the_commit_after_it_is_reported(tmp_path):
    code = '''
import httpx

def sync(session, rows):
    for row in rows:
        session.merge(row)
        httpx.post("https://crm.example/contacts", json=row.payload)
    session.commit()
'''
    (f,) = found(tmp_path, {"app/sync.py": code}, "CFG014")
    assert (f.severity, f.location.start_line) == (Severity.INFO, 7)
    assert f.message.startswith("sync calls `httpx.post` (line 7)")


def test_tests_and_tooling_are_not_read(tmp_path):
    files = {"tests/test_invoices.py": _TASK, "scripts/backfill.py": _TASK}
    assert found(tmp_path, files, "CFG014") == []


# A project whose sessions the `transaction` package commits: zope.sqlalchemy's register, pyramid_tm's request.
_JOINED = '''
import zope.sqlalchemy

def includeme(config):
    session = config.registry["session_factory"]()
    zope.sqlalchemy.register(session, transaction_manager=config.registry["tm"])
'''
_RENAME = '''
from app.tasks import reindex

class RenameService:
    def __init__(self, db):
        self.db = db

    def rename(self, user, name):
        user.name = name
        self.db.add(user)
        reindex.delay(user.id)
'''


def test_a_task_enqueued_after_a_write_where_zope_sqlalchemy_commits_later_is_a_warning_naming_the_boundary(tmp_path):
    (f,) = found(tmp_path, {"app/db.py": _JOINED, "app/services/rename.py": _RENAME}, "CFG014")
    assert (f.severity, f.location.path, f.location.start_line) == (Severity.WARNING, "app/services/rename.py", 11)
    assert f.anchor == "side-effect:RenameService.rename:reindex.delay"
    assert f.message.startswith("RenameService.rename enqueues `reindex.delay` (line 11) after writing to the session "
                                "(line 10) and commits nothing itself: `zope.sqlalchemy.register` joins the session")
    assert "(app/db.py:6)" in f.message
    assert [(r.location.path, r.location.start_line) for r in f.related] == [("app/services/rename.py", 10), ("app/db.py", 6)]


def test_pyramid_tm_included_alone_is_info(tmp_path):
    config = '''
def main(config):
    config.include("pyramid_tm")
'''
    (f,) = found(tmp_path, {"app/__init__.py": config, "app/services/rename.py": _RENAME}, "CFG014")
    assert f.severity == Severity.INFO and '`config.include("pyramid_tm")` commits each request' in f.message


def test_without_a_transaction_manager_in_sight_or_with_an_after_commit_hook_nothing_is_said(tmp_path):
    assert found(tmp_path, {"app/services/rename.py": _RENAME}, "CFG014") == []
    hooked = '''
import transaction
from app.tasks import reindex

def rename(db, user, name):
    user.name = name
    db.add(user)
    transaction.get().addAfterCommitHook(lambda ok: ok and reindex.delay(user.id))

def read_only(db, user):
    reindex.delay(user.id)

def rolls_back(db, user):
    db.add(user)
    reindex.delay(user.id)
    db.rollback()
'''
    assert found(tmp_path, {"app/db.py": _JOINED, "app/services/rename.py": hooked}, "CFG014") == []


def test_a_task_enqueued_inside_with_request_tm_after_a_write_on_a_loop_turn_before_is_a_warning(tmp_path):
    code = '''
from app.tasks import fetch_roster

def schedule(request, course_ids):
    with request.tm:
        for course_id in course_ids:
            fetch_roster.delay(course_id)
            request.db.add(Scheduled(course_id=course_id))
'''
    (f,) = found(tmp_path, {"app/tasks/roster.py": code}, "CFG014")
    assert (f.severity, f.location.start_line) == (Severity.WARNING, 7)
    assert f.message.startswith("schedule enqueues `fetch_roster.delay` (line 7) after writing to the session (line 8, "
                                "on the loop's turn before), inside the `with` block (line 5) whose end commits")


def test_a_task_made_by_a_call_of_the_project_may_wait_for_the_commit_and_is_not_read(tmp_path):
    code = '''
from app.tasks import reindex

def rename(request, user, name):
    user.name = name
    request.db.add(user)
    request.task(reindex).delay(user.id)
'''
    assert found(tmp_path, {"app/db.py": _JOINED, "app/services/rename.py": code}, "CFG014") == []

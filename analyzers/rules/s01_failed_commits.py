"""Section 1 (error handling): a failed commit or flush swallowed, and the session used on without a rollback."""

from __future__ import annotations

from analyzers.facts.paths import is_test_path, is_tooling_path
from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.schema import first_line

_DB_ERRORS = ("IntegrityError", "SQLAlchemyError", "DBAPIError", "DatabaseError", "OperationalError", "DataError",
              "StatementError")
_WHERE = {
    "handler": "in the handler itself",
    "after": "after the try",
    "loop": "on the next turn of the loop",
}


class NoRollbackAfterFailedCommit(Rule):
    """A failed commit or flush is caught and swallowed, and the same session is used again without a rollback.

    What it checks:
        In one function of the application: a `try` whose body commits or flushes a session (`session.commit()`,
        `db.session.flush()`, `self.db.commit()`), a handler that catches the failure (IntegrityError,
        SQLAlchemyError or another database error, Exception, BaseException, a bare `except`) and neither rolls
        back, closes nor raises (nor returns, nor hands the session to a call that might roll back), and a use of
        the same session (the same expression) next on the path the handler falls through to: in the handler's own
        body, after the `try`, or on the next turn of a loop around it. Where the handler sets a name to None
        (or False, 0, "") and an `if` after the try tests it (`if folder:`, `if folder is not None:`), only the
        branch the handler's path takes is read. The commit, the handler and the use are cited. A `try` whose body opens `with session.begin():` or `begin_nested()` is not read (those roll
        back themselves), nor is what a caller does once the function returns, nor tests and tooling. Warning where
        the handler catches a database error by name (it is written for this failure); info where it catches
        everything, so that the commit's failure is one path among others.
    Why it matters:
        Once a flush fails, the session's transaction is inactive: every use until `rollback()` raises
        PendingRollbackError ("This Session's transaction has been rolled back due to a previous exception
        during flush"). The handler meant to carry on (skip a duplicate, record the error, go to the next row)
        fails instead, or every later row of the loop fails with it.
    Example:
        for row in rows:
            try:
                session.add(Tag(name=row))
                session.commit()
            except IntegrityError:
                log.info("duplicate %s", row)
    Instead:
        `session.rollback()` first in the handler (or a savepoint: `with session.begin_nested():` around the
        write, which rolls back only its own part).
    """

    ID = "CFG016"
    ITEM = "1.6"
    SEVERITY = Severity.WARNING
    INVALID = ({"app/tags.py": '''
import logging
from sqlalchemy.exc import IntegrityError
from app.models import Tag

log = logging.getLogger(__name__)

def import_tags(session, rows):
    for row in rows:
        try:
            session.add(Tag(name=row))
            session.commit()
        except IntegrityError:
            log.info("duplicate %s", row)
'''},)
    VALID = ({"app/tags.py": '''
import logging
from sqlalchemy.exc import IntegrityError
from app.models import Tag

log = logging.getLogger(__name__)

def import_tags(session, rows):
    for row in rows:
        try:
            session.add(Tag(name=row))
            session.commit()
        except IntegrityError:
            session.rollback()
            log.info("duplicate %s", row)
'''}, {"app/tags.py": '''
from sqlalchemy.exc import IntegrityError
from app.models import Tag

def import_tags(session, rows):
    for row in rows:
        try:
            with session.begin_nested():
                session.add(Tag(name=row))
        except IntegrityError:
            pass
    session.commit()
'''}, {"app/tags.py": '''
from sqlalchemy.exc import IntegrityError
from app.models import Tag

def add_tag(session, name):
    try:
        session.add(Tag(name=name))
        session.commit()
    except IntegrityError:
        return None
'''})

    def check(self):
        for m in self.facts.modules:
            if not m.swallowed_failures or is_test_path(m.path) or is_tooling_path(m.path):
                continue
            seen = set()  # one finding a function and session: its first handler that swallows
            for s in m.swallowed_failures:
                anchor = f"function:{s.handler.path}:{s.function}:{s.session}:no-rollback"
                if anchor in seen:
                    continue
                seen.add(anchor)
                named = any(error in s.caught for error in _DB_ERRORS)
                caught = f"except {s.caught}" if s.caught else "a bare except"
                yield self.finding(
                    f"{s.function} catches a failure of `{s.session}.{s.verb}()` (line {s.failing.start}) with "
                    f"{caught} (line {s.handler.start}), which neither rolls back nor raises, then uses the session "
                    f"{_WHERE[s.where]} (`{s.used}`, line {s.use.start}): after a failed flush the session's "
                    "transaction is inactive, and that use raises PendingRollbackError until `rollback()` is called"
                    + ("" if named else "; the handler catches every error, and only the path where the commit itself "
                                        "failed breaks the session"),
                    first_line(s.handler), anchor,
                    severity=None if named else Severity.INFO,
                    related=[(s.failing, "the commit or flush that may fail"), (s.use, "the next use of the session")],
                )


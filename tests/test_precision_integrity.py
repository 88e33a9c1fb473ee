"""Integrity and SQL-string rules on classes of wrong findings judges met on real backends (issue 7): each
class rebuilt as a small repository of our own, with the exact finding (or its absence) pinned."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.test_precision import HEADER, found, revision

# -- ids without a foreign key (INT002) ------------------------------------------------------------

_SERVICE_AND_PROJECT = HEADER + """
class Service(Base):
    __tablename__ = "service"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Project(Base):
    __tablename__ = "project"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    oncall_service_id: Mapped[int | None] = mapped_column(Integer)
"""


def test_a_foreign_key_the_migrations_create_is_drift_not_a_missing_check(tmp_path):
    """The model omits the ForeignKey that a migration creates (the table itself built by SQL dbreview does not
    replay): the database checks the reference; what is wrong is the model, which autogenerate reads."""
    add = revision("""
        op.add_column("project", sa.Column("oncall_service_id", sa.Integer(), nullable=True))
        op.create_foreign_key(None, "project", "service", ["oncall_service_id"], ["id"])
    """)
    (f,) = found(tmp_path, {"app/models.py": _SERVICE_AND_PROJECT, "migrations/versions/0001_fk.py": add}, "INT002")
    assert f.severity == Severity.INFO and f.anchor == "table:project.oncall_service_id"
    assert f.message.startswith(
        "project.oncall_service_id has no ForeignKey in the model, but migration 0001 creates a foreign key on it to "
        "service.id (migrations/versions/0001_fk.py:8): the database checks the reference")
    assert "autogenerate will propose to drop it" in f.message


def test_a_foreign_key_added_by_raw_sql_counts_too(tmp_path):
    add = revision("""
        op.add_column("project", sa.Column("oncall_service_id", sa.Integer(), nullable=True))
        op.execute("ALTER TABLE project ADD CONSTRAINT project_oncall_fk FOREIGN KEY (oncall_service_id) REFERENCES service (id)")
    """)
    (f,) = found(tmp_path, {"app/models.py": _SERVICE_AND_PROJECT, "migrations/versions/0001_fk.py": add}, "INT002")
    assert f.severity == Severity.INFO and "but migration 0001 creates a foreign key on it (" in f.message


def test_an_ordinal_within_another_row_names_no_table(tmp_path):
    """`chunk_in_doc_id` numbers a chunk within its document: it names a chunk (no table of chunks), not a
    document, though a table ending in `_doc` exists."""
    model = HEADER + """
class SearchDoc(Base):
    __tablename__ = "search_doc"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class PieceStats(Base):
    __tablename__ = "piece_stats"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chunk_in_doc_id: Mapped[int] = mapped_column(Integer)
"""
    assert found(tmp_path, {"app/models.py": model}, "INT002") == []


# -- one_or_none on a non-unique lookup (INT010) ----------------------------------------------------

_LOOKUP_MODELS = HEADER + """
class Kind(Base):
    __tablename__ = "kinds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str | None] = mapped_column(String(80))

class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80))
"""


def _by_slug(model: str) -> str:
    return f"""
from sqlalchemy import select
from app.models import {model}

def get_by_slug(*, session, slug):
    return session.execute(select({model}).where({model}.slug == slug)).scalar_one_or_none()
"""


def test_a_same_named_function_of_another_module_is_not_a_caller(tmp_path):
    """kinds/service.get_by_slug is called by nothing; teams/service.get_by_slug is called by a view: the view's
    call is of the teams function (it imports that module), so the kinds lookup is info, the teams one a warning."""
    view = """
from fastapi import APIRouter
from app.teams import service as team_service

router = APIRouter()

@router.get("/teams/{slug}")
def read(slug, session):
    return team_service.get_by_slug(session=session, slug=slug)
"""
    files = {"app/models.py": _LOOKUP_MODELS, "app/kinds/service.py": _by_slug("Kind"),
             "app/teams/service.py": _by_slug("Team"), "app/teams/views.py": view}
    got = {f.location.path: f for f in found(tmp_path, files, "INT010")}
    kinds, teams = got["app/kinds/service.py"], got["app/teams/service.py"]
    assert kinds.severity == Severity.INFO
    assert kinds.message.endswith("; but no call of get_by_slug was found in the application's code outside tests")
    assert teams.severity == Severity.WARNING


def test_a_caller_chain_that_nothing_runs_is_info_and_says_so(tmp_path):
    service = _by_slug("Kind") + """

def get_or_create_by_slug(*, session, slug):
    return get_by_slug(session=session, slug=slug) or Kind(slug=slug)
"""
    (f,) = found(tmp_path, {"app/models.py": _LOOKUP_MODELS, "app/kinds/service.py": service}, "INT010")
    assert f.severity == Severity.INFO
    assert f.message.endswith("; but get_by_slug is called only by get_or_create_by_slug, which nothing in the "
                              "application's code outside tests calls")


def test_an_import_under_another_name_is_taken_as_a_call(tmp_path):
    user = """
from app.kinds.service import get_by_slug as kind_by_slug

def handler(session, slug):
    return kind_by_slug(session=session, slug=slug)

HANDLERS = [handler]
"""
    (f,) = found(tmp_path, {"app/models.py": _LOOKUP_MODELS, "app/kinds/service.py": _by_slug("Kind"),
                            "app/kinds/handlers.py": user}, "INT010")
    assert f.severity == Severity.WARNING


# -- soft-deleted rows read on purpose (MOD007) -----------------------------------------------------

_MEMBERS = HEADER + """
from sqlalchemy import Boolean

class Member(Base):
    __tablename__ = "members"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(Integer, index=True)
    email: Mapped[str] = mapped_column(String(255))
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
"""

_MEMBER_CODE = """
from sqlalchemy import select
from models import Member

def login(session, email):
    member = session.scalars(select(Member).where(Member.email == email)).one_or_none()
    if member is None or member.is_deleted:
        raise PermissionError("account closed")
    return member

def add_to_team(session, team_id, email):
    existing = session.scalars(select(Member).where(Member.team_id == team_id, Member.email == email)).first()
    if existing is not None:
        existing.is_deleted = False
        return existing
    return Member(team_id=team_id, email=email)

def live_members(session, team_id):
    return session.scalars(select(Member).where(Member.team_id == team_id, Member.is_deleted.is_(False))).all()

def remove(session, member):
    member.is_deleted = True
"""


def test_a_lookup_that_rejects_or_revives_deleted_rows_reads_them_on_purpose(tmp_path):
    """login loads the member and refuses a deleted one; add_to_team brings a deleted membership back rather
    than adding a second: both read deleted rows on purpose, and count as queries that weigh them."""
    assert found(tmp_path, {"models.py": _MEMBERS, "app/members.py": _MEMBER_CODE}, "MOD007") == []
    code = _MEMBER_CODE + """
def by_team(session, team_id):
    return session.scalars(select(Member).where(Member.team_id == team_id)).all()
"""
    (f,) = found(tmp_path / "b", {"models.py": _MEMBERS, "app/members.py": code}, "MOD007")
    assert f.severity == Severity.WARNING
    assert "3 of its 4 queries filter the deleted rows, but this query of it does not" in f.message
    assert "by_team (app/members.py:25)" in f.message and "login" not in f.message and "add_to_team" not in f.message


# -- SQL from strings through a sanitiser (CFG008) --------------------------------------------------

def test_a_value_that_passes_through_a_sanitiser_is_not_injectable(tmp_path):
    """slugify() and re.sub() to a class of letters, digits and `_` leave nothing that can close a quote; the
    same value unsanitised is reported."""
    code = """
import re
from slugify import slugify
from sqlalchemy import text

def rename(db, title, label):
    slug = slugify(title, separator="_")
    db.execute(text(f"UPDATE boards SET slug = '{slug}' WHERE id = 1"))
    db.execute(text(f"CREATE SCHEMA tenant_{re.sub(r'[^a-z0-9_]', '', label)}"))

def retitle(db, title):
    db.execute(text(f"UPDATE boards SET title = '{title}' WHERE id = 1"))
"""
    got = found(tmp_path, {"app/boards.py": code}, "CFG008")
    assert [(f.anchor, f.severity) for f in got] == [("sql:retitle:title", Severity.WARNING)]


# -- status-like columns as free text (INT005) ------------------------------------------------------

def test_a_status_like_column_is_judged_by_what_the_code_writes_into_it(tmp_path):
    """`jobs.status` gets "Cancelled" and also an error's text: free text by design. `users.personal_role` is
    written only from what the caller gives and never compared with a fixed value: nothing says it is a set.
    `orders.payment_status` is set and compared with fixed values: a closed set with no CHECK, reported (with
    its `status`, which shares its name with the jobs' column: the error written on a call about jobs is theirs)."""
    model = HEADER + """
class Job(Base):
    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str | None] = mapped_column(String(200))

class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    personal_role: Mapped[str | None] = mapped_column(String(100))

class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_status: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
"""
    service = """
from sqlalchemy import update
from app.models import Job, Order, User

def cancel(job):
    job.status = "Cancelled"

def retry_failed(job_service, job, last_error):
    job_service.update(
        job.id, status=str(last_error))

def personalise(session, user_id, personal_role):
    session.execute(update(User).where(User.id == user_id).values(personal_role=personal_role))

def pay(order):
    order.payment_status = "PAID"

def unpaid(order):
    return order.payment_status != "PAID"
"""
    got = found(tmp_path, {"app/models.py": model, "app/service.py": service}, "INT005")
    assert [(f.anchor, f.message) for f in got] == [("table:orders:free-text", "orders: payment_status, status are free "
                                                     "text: no Enum type or CHECK constraint limits the values")]


# -- unique keys on soft-deleted tables (INT008) ------------------------------------------------------

def test_a_lookup_that_turns_deleted_rows_away_agrees_with_the_constraint(tmp_path):
    """The login looks the account up by email, deleted ones included, and refuses a deleted one: the code and
    the constraint agree that an email stays taken after a soft delete. The finding says so, cites the refusal,
    and does not present the lookup as a leak."""
    model = HEADER + """
class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
"""
    service = """
from datetime import UTC, datetime
from sqlalchemy import select
from app.models import Account

def close(account):
    account.deleted_at = datetime.now(UTC)

def login(session, email):
    account = session.execute(select(Account).where(Account.email == email)).scalar_one_or_none()
    if account is None:
        raise LookupError(email)
    if account.deleted_at is not None:
        raise PermissionError("closed")
    return account
"""
    (f,) = found(tmp_path, {"app/models.py": model, "app/service.py": service}, "INT008")
    assert f.severity == Severity.INFO and f.anchor == "table:accounts:unique:email:soft-delete"
    assert ("as does the code's own lookup by email (app/service.py:10), then turns a deleted row away "
            "(app/service.py:13): both keep email unique across deleted rows, so a deleted row's email can never "
            "be used again. If that is meant, nothing is wrong") in f.message


# -- JSONB tests no index would serve (PERF002) -------------------------------------------------------

_FORMS = HEADER + """
from sqlalchemy.dialects.postgresql import JSONB

class Item(Base):
    __tablename__ = "form_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    settings: Mapped[dict] = mapped_column(JSONB)

class Answer(Base):
    __tablename__ = "answers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("form_items.id"), index=True)
    entry_id: Mapped[int] = mapped_column(Integer, index=True)
    value: Mapped[dict] = mapped_column(JSONB)
"""


def test_a_json_test_in_a_correlated_subquery_reached_by_key_is_no_finding(tmp_path):
    """The subquery runs for each outer row and reaches form_items through its primary key: no index on the
    JSON column is how its rows are found."""
    code = """
from sqlalchemy import Boolean, cast, func, select
from app.models import Answer, Item

def counted_answers(entry_table):
    return (select(func.count(Answer.id))
            .where(Answer.entry_id == entry_table.c.id, Answer.item_id == Item.id,
                   cast(Item.settings['counts'].astext, Boolean))
            .correlate_except(Answer)
            .scalar_subquery())
"""
    assert found(tmp_path, {"app/models.py": _FORMS, "app/queries.py": code}, "PERF002") == []


def test_a_json_test_built_and_returned_is_info_that_says_its_query_is_elsewhere(tmp_path):
    code = """
from sqlalchemy import ARRAY, String, cast
from app.models import Answer

def choice_filter(choices):
    return Answer.value.has_any(cast(choices, ARRAY(String)))
"""
    (f,) = found(tmp_path, {"app/models.py": _FORMS, "app/filters.py": code}, "PERF002")
    assert f.severity == Severity.INFO and f.anchor == "table:answers.value:gin"
    assert f.message.startswith(
        "answers.value is JSONB with no GIN index; the code builds a `has_any` test on it and returns it "
        "(app/filters.py:6): the query that runs it is built elsewhere, which dbreview did not follow")


# -- timestamps whose comment says they are not the row's (MOD002) ------------------------------------

def test_a_timestamp_its_comment_says_is_not_the_rows_own_needs_no_server_default(tmp_path):
    model = HEADER + """
class Hit(Base):
    __tablename__ = "hits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # When the source document was last edited, not this row
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
"""
    assert found(tmp_path, {"app/models.py": model}, "MOD002") == []

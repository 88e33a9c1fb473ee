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


def test_a_foreign_key_a_later_migration_drops_by_looking_up_its_name_is_gone(tmp_path):
    """agenta (first meeting, INT002 x4 wrong): a later upgrade drops the foreign keys of listed columns through a
    DO block that finds their names in pg_constraint (`EXECUTE format('ALTER TABLE ... DROP CONSTRAINT %I', c)`):
    on a migrated database there is no foreign key, and the model matches it."""
    add = revision("""
        op.add_column("project", sa.Column("oncall_service_id", sa.Integer(), nullable=True))
        op.create_foreign_key(None, "project", "service", ["oncall_service_id"], ["id"])
    """)
    drop = revision("""
        for table, column in FKS_TO_DROP:
            _drop_fks_on_column(table, column)
    """, rev="0002", down="0001").replace("def upgrade():", '''FKS_TO_DROP = (("project", "oncall_service_id"),)

def _drop_fks_on_column(table, column):
    op.execute(f"""
        DO $$
        DECLARE c text;
        BEGIN
            FOR c IN
                SELECT con.conname FROM pg_constraint con
                JOIN pg_class rel ON rel.oid = con.conrelid
                JOIN pg_attribute att ON att.attrelid = rel.oid AND att.attnum = ANY(con.conkey)
                WHERE rel.relname = '{table}' AND con.contype = 'f' AND att.attname = '{column}'
            LOOP
                EXECUTE format('ALTER TABLE "{table}" DROP CONSTRAINT %I', c);
            END LOOP;
        END $$;
    """)

def upgrade():''')
    files = {"app/models.py": _SERVICE_AND_PROJECT, "migrations/versions/0001_fk.py": add,
             "migrations/versions/0002_drop.py": drop}
    assert found(tmp_path, files, "INT002") == []


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


def test_a_filter_that_picks_its_column_by_a_condition_is_not_read_as_a_lookup(tmp_path):
    """`Run.job_id == job_id if by_job else Run.hook_id == hook_id` tests one column or the other: which key covers
    the lookup depends on the branch (a partial unique index on each parent, perhaps), so dbreview holds back
    rather than claim a fetch by the other columns alone; the same lookup without the alternative stays a warning."""
    models = HEADER + """
class Run(Base):
    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer)
    job_id: Mapped[int | None] = mapped_column(Integer)
    hook_id: Mapped[int | None] = mapped_column(Integer)
    event_id: Mapped[str] = mapped_column(String(80))
"""
    code = """
from sqlalchemy import select
from app.models import Run

def one_run(session, owner_id, event_id, job_id, hook_id, by_job):
    stmt = select(Run).where(
        Run.owner_id == owner_id,
        Run.job_id == job_id if by_job else Run.hook_id == hook_id,
        Run.event_id == event_id,
    )
    return session.execute(stmt).scalar_one()

HANDLERS = [one_run]
"""
    assert found(tmp_path / "a", {"app/models.py": models, "app/runs.py": code}, "INT010") == []
    plain = code.replace("        Run.job_id == job_id if by_job else Run.hook_id == hook_id,\n", "")
    (f,) = found(tmp_path / "b", {"app/models.py": models, "app/runs.py": plain}, "INT010")
    assert (f.location.start_line, f.severity) == (6, Severity.WARNING)
    assert "by event_id, owner_id, which no unique" in f.message
    optional = code.replace("Run.hook_id == hook_id", "True")  # a test that is there or not: read as before
    (g,) = found(tmp_path / "c", {"app/models.py": models, "app/runs.py": optional}, "INT010")
    assert g.anchor == f.anchor


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
    cli = "import sys\nfrom app.boards import rename, retitle\n\nrename(None, sys.argv[1], sys.argv[2])\nretitle(None, sys.argv[1])\n"
    got = found(tmp_path, {"app/boards.py": code, "app/cli.py": cli}, "CFG008")
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


def test_a_log_line_or_a_database_role_is_free_text_by_design(tmp_path):
    """`task_log.status` is the unbounded line each entry says, never compared with a value: a message. `servers.role`
    is the PostgreSQL role the connection switches to (`SET ROLE`, through a copy the code keeps: `manager.role`):
    any name the user picks. Neither is reported; `grants.role`, a closed set the code compares, still is."""
    model = HEADER + """
class TaskLog(Base):
    __tablename__ = "task_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String)

class Server(Base):
    __tablename__ = "servers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str | None] = mapped_column(String(64))

class Grant(Base):
    __tablename__ = "grants"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
"""
    service = """
from sqlalchemy import text

def log(session, status):
    session.execute(text("INSERT INTO task_log (status) VALUES (:s)"), {"s": status})

class Manager:
    def __init__(self, server):
        self.role = server.role

def connect(conn, manager):
    role = manager.role
    if role:
        conn.execute(text("SET ROLE " + role))

def is_admin(grant):
    return grant.role == "admin"
"""
    got = found(tmp_path, {"app/models.py": model, "app/service.py": service}, "INT005")
    assert [f.anchor for f in got] == ["table:grants:free-text"]


def test_a_validates_hook_is_named_and_the_claim_kept_to_the_database(tmp_path):
    model = HEADER + """
from sqlalchemy.orm import validates

class Member(Base):
    __tablename__ = "members"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(20))

    @validates("role")
    def check_role(self, key, role):
        if role not in ("admin", "viewer"):
            raise ValueError(role)
        return role
"""
    (f,) = found(tmp_path, {"app/models.py": model}, "INT005")
    assert f.severity == Severity.INFO and f.anchor == "table:members:free-text"
    assert f.message == ("members: role is free text: no Enum type or CHECK constraint limits the values in the database; "
                         "the model's @validates(\"role\") (app/models.py:18) limits what the ORM writes, not what other "
                         "writers (SQL, migrations, other services) put in")


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



_CHOICE_FILTER = """
from sqlalchemy import ARRAY, String, cast
from app.models import Answer

class ChoiceField:
    def sql_filter(self, choices):
        return Answer.value.has_any(cast(choices, ARRAY(String)))
"""


def test_a_returned_json_test_whose_callers_apply_it_in_a_correlated_subquery_is_no_finding(tmp_path):
    """The function that builds the test is followed to the module that calls it: there the tests are gathered
    in a list and applied in a subquery correlated on the answer's entry, reached through that key."""
    lists = """
from sqlalchemy import and_, func, or_, select
from app.models import Answer, Item

def filtered(entry_table, fields, wanted):
    criteria = [and_(Item.kind == kind, fields[kind].sql_filter(choices)) for kind, choices in wanted.items()]
    return (select(func.count(Answer.id))
            .where(Answer.entry_id == entry_table.c.id)
            .where(or_(*criteria))
            .correlate_except(Answer)
            .scalar_subquery())
"""
    files = {"app/models.py": _FORMS, "app/fields.py": _CHOICE_FILTER, "app/lists.py": lists}
    assert found(tmp_path, files, "PERF002") == []


def test_a_returned_json_test_whose_caller_finds_rows_by_it_is_a_warning_at_the_call(tmp_path):
    search = """
from sqlalchemy import select
from app.models import Answer

def answers_with(session, field, choices):
    return session.scalars(select(Answer).where(field.sql_filter(choices))).all()
"""
    files = {"app/models.py": _FORMS, "app/fields.py": _CHOICE_FILTER, "app/search.py": search}
    (f,) = found(tmp_path, files, "PERF002")
    assert f.severity == Severity.WARNING and f.anchor == "table:answers.value:gin"
    assert "queries it with `has_any` (app/search.py:6)" in f.message


def test_a_json_key_read_only_in_a_backfill_is_no_finding(tmp_path):
    """A backfill runs once over the table: no index is wanted for it."""
    backfill = """
from sqlalchemy import select, update
from app.models import Item

def items_to_fix():
    return select(Item.id).where(Item.settings["legacy"].as_boolean())
"""
    assert found(tmp_path, {"app/models.py": _FORMS, "app/items/settings_backfill.py": backfill}, "PERF002") == []




def test_json_key_reads_the_query_returns_or_sorts_by_are_no_filter(tmp_path):
    """Key reads as columns (selected, labelled, sorted by), here through a function that returns one, filter
    no row: no index on the column is asked for."""
    code = """
from sqlalchemy import func, select
from app.models import Item

def weight_of(kind):
    return Item.settings[kind].as_float()

def total(session, kind):
    weight = weight_of(kind)
    return session.scalar(select(func.sum(weight.label("w"))))

def listed(session):
    return session.scalars(select(Item.settings["title"].astext.label("title")).order_by(Item.settings["rank"].desc()))
"""
    assert found(tmp_path, {"app/models.py": _FORMS, "app/report.py": code}, "PERF002") == []



# -- a lookup whose callers weigh the soft-delete flag (MOD007) ---------------------------------------------

_LABELS = HEADER + """
from sqlalchemy import Boolean

class Label(Base):
    __tablename__ = "labels"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    owner_id: Mapped[int] = mapped_column(Integer, index=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
"""


def test_a_lookup_whose_every_caller_weighs_the_deleted_flag_reads_deleted_rows_on_purpose(tmp_path):
    """The by-name lookup backs an upsert that may take over a deleted row of the same name: its caller looks at
    the flag of what it gets: it counts as filtering, and only the owner's list is left."""
    code = """
from sqlalchemy import select
from app.models import Label

def _label_named(session, name):
    return session.scalars(select(Label).where(Label.name == name)).one_or_none()

def save_label(session, name):
    existing = _label_named(session, name)
    if existing and not existing.deleted:
        raise ValueError("taken")
    return existing or Label(name=name)

def labels_of(session, owner_id):
    return session.scalars(select(Label).where(Label.owner_id == owner_id)).all()

def live_labels(session, owner_id):
    return session.scalars(select(Label).where(Label.owner_id == owner_id, Label.deleted.is_(False))).all()

def remove(session, label):
    label.deleted = True
"""
    (f,) = found(tmp_path, {"app/models.py": _LABELS, "app/labels.py": code}, "MOD007")
    assert f.location.start_line == 15 and [(r.location.start_line, r.note) for r in f.related] == [(21, "sets deleted")]
    assert "2 of its 3 queries filter the deleted rows, but this query of it does not" in f.message


# -- password columns whose writers hash (MOD004) -----------------------------------------------------------

_ACCOUNTS = HEADER + """
import bcrypt
from sqlalchemy import LargeBinary

def hash_secret(raw):
    return bcrypt.hashpw(raw.encode(), bcrypt.gensalt())

class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    password: Mapped[bytes] = mapped_column(LargeBinary)

    def reset(self, raw):
        self.password = hash_secret(raw)
"""

_ACCOUNT_SCHEMAS = """
from pydantic import BaseModel, field_validator

class SignUp(BaseModel):
    password: str

    @field_validator("password", mode="before")
    def hashed(cls, v):
        return hash_secret(v)

class Invite(BaseModel):
    password: str
"""

_INVITE_HASHES = """
    @field_validator("password")
    def hashed(cls, v):
        return hash_secret(v)
"""

_CREATE = """
from sqlalchemy.orm import Session
from app.models import Account, Invite, SignUp

def create(session: Session, account_in: SignUp | Invite):
    secret = bytes(account_in.password, "utf-8")
    session.add(Account(password=secret))
"""


def test_a_password_every_writer_hashes_through_its_input_validators_is_no_finding(tmp_path):
    """The service stores the field of a typed input; both input classes (beside the model) hash it in a validator."""
    files = {"app/models.py": _ACCOUNTS + _ACCOUNT_SCHEMAS + _INVITE_HASHES, "app/service.py": _CREATE}
    assert found(tmp_path, files, "MOD004") == []
    files["app/models.py"] = _ACCOUNTS + _ACCOUNT_SCHEMAS
    (f,) = found(tmp_path / "b", files, "MOD004")
    assert f.severity == Severity.INFO and f.anchor == "table:accounts.password"
    assert f.message == (
        "accounts.password is named like a password; this write stores a value dbreview does not see hashed: create "
        "(app/service.py:7) (the writes by reset (app/models.py:23) hash it): check those writers")


def test_an_input_hashed_in_place_before_it_is_stored_counts_as_hashed(tmp_path):
    """`new_account.password = hash_secret(new_account.password)` on the request's object: the raw value is the
    input's, not the column's."""
    service = """
from sqlalchemy.orm import Session
from app.models import Account, hash_secret

def sign_up(session: Session, new_account):
    new_account.password = hash_secret(new_account.password)
    session.add(new_account)
"""
    assert found(tmp_path, {"app/models.py": _ACCOUNTS, "app/service.py": service}, "MOD004") == []


def test_a_password_stored_by_a_method_from_its_callers_says_what_was_not_followed(tmp_path):
    model = _ACCOUNTS + """
    def set_raw(self, value):
        self.password = value
"""
    (f,) = found(tmp_path, {"app/models.py": model}, "MOD004")
    assert f.severity == Severity.INFO
    assert f.message == (
        "accounts.password is named like a password, and no write dbreview read stores one unhashed: the writes it could "
        "follow hash it (reset (app/models.py:23)); it could not follow this writer: set_raw (app/models.py:26) stores "
        "the `value` it is given, from callers dbreview did not follow: check that writer")


_SETTER = _ACCOUNTS + """
    def update_password(self, password):
        self.password = password
"""

_SETTER_CALLERS = """
from sqlalchemy.orm import Session
from app.models import Account, hash_secret

class Accounts:
    def update_password(self, account_id, password):
        account = self.session.get(Account, account_id)
        account.update_password(password)

def change_password(accounts, account, form):
    account.password = hash_secret(form.new_password)
    accounts.update_password(account.id, account.password)

def reset_password(accounts, account_id, raw):
    hashed = hash_secret(raw)
    accounts.update_password(account_id, hashed)

def sign_in_with_sso(session: Session, email):
    session.add(Account(email=email, password="SSO"))
"""


def test_a_setter_whose_every_caller_passes_a_hash_and_a_fixed_marker_are_no_finding(tmp_path):
    """update_password() stores what it is given; its callers (through a repository's method of the same name,
    told apart by their signatures) all pass a hash, and the single-sign-on path stores a fixed marker that is
    no password: nothing is stored unhashed. A caller passing the form's raw value is named."""
    files = {"app/models.py": _SETTER, "app/accounts.py": _SETTER_CALLERS}
    assert found(tmp_path, files, "MOD004") == []
    raw = _SETTER_CALLERS.replace("accounts.update_password(account_id, hashed)", "accounts.update_password(account_id, raw)")
    (f,) = found(tmp_path / "b", {"app/models.py": _SETTER, "app/accounts.py": raw}, "MOD004")
    assert f.message.endswith("it could not follow this writer: update_password (app/models.py:26) stores the `password` it "
                              "is given, from callers dbreview did not follow: check that writer")


# -- lookups by a key and a NULL test, and a duplicate the code catches (INT010) ---------------------------

_THREADS = HEADER + """
class Post(Base):
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    thread_id: Mapped[int] = mapped_column(Integer, index=True)
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"))
"""


def test_a_lookup_that_tests_a_null_says_so_and_a_caught_duplicate_is_info(tmp_path):
    code = """
from sqlalchemy import select
from sqlalchemy.exc import MultipleResultsFound
from app.models import Post

def opening_post(session, thread_id):
    return session.scalars(select(Post).where(Post.thread_id == thread_id, Post.reply_to_id.is_(None))).one_or_none()

def checked_opening_post(session, thread_id):
    try:
        return session.scalars(select(Post).where(Post.thread_id == thread_id, Post.reply_to_id.is_(None))).one_or_none()
    except MultipleResultsFound:
        raise RuntimeError("two opening posts")
"""
    api = """
from app import posts

@router.get("/threads/{thread_id}")
def thread(session, thread_id):
    return posts.opening_post(session, thread_id), posts.checked_opening_post(session, thread_id)
"""
    files = {"app/models.py": _THREADS, "app/api.py": api}
    (f,) = found(tmp_path, {**files, "app/posts.py": code.split("def checked")[0]}, "INT010")
    assert f.severity == Severity.WARNING
    assert f.message == (
        "opening_post fetches Post with one_or_none() by thread_id and reply_to_id IS NULL, which no unique constraint "
        "of posts covers (the index on thread_id is not unique): when two rows match it raises MultipleResultsFound; "
        "a partial unique index on (thread_id) WHERE reply_to_id IS NULL would keep it to one")
    only_checked = code.split("def opening_post")[0] + "def checked" + code.split("def checked")[1]
    (f,) = found(tmp_path / "2", {**files, "app/posts.py": only_checked}, "INT010")
    assert f.severity == Severity.INFO and f.anchor == "function:app/posts.py:checked_opening_post:Post:one-or-none"
    assert f.message.endswith("; the code catches MultipleResultsFound around it (app/posts.py:9) and handles the "
                              "duplicate itself")



# -- a lone naive timestamp no query tests (TZ001) ----------------------------------------------------------

_POOL = HEADER + """
from datetime import datetime
from sqlalchemy import DateTime

class SpareWorkspace(Base):
    __tablename__ = "spare_workspaces"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    made_at: Mapped[datetime] = mapped_column(DateTime)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
"""


def test_a_naive_timestamp_no_query_tests_is_info_that_says_so(tmp_path):
    """Only ordered by (the oldest spare first): no SQL compares it with an aware value."""
    oldest = """
from sqlalchemy.orm import Session
from app.models import SpareWorkspace

def take_spare(session: Session):
    return session.query(SpareWorkspace).order_by(SpareWorkspace.made_at).first()
"""
    (f,) = found(tmp_path, {"app/models.py": _POOL, "app/pool.py": oldest}, "TZ001")
    assert f.severity == Severity.INFO and f.anchor == "table:spare_workspaces.made_at"
    assert f.message.endswith("; no query of the application tests it in SQL (it is written, ordered or shown; a "
                              "comparison made in Python on the loaded rows is not followed)")
    stale = oldest + """
def stale(session, cutoff):
    return session.query(SpareWorkspace).filter(SpareWorkspace.made_at < cutoff).all()
"""
    (f,) = found(tmp_path / "2", {"app/models.py": _POOL, "app/pool.py": stale}, "TZ001")
    assert f.severity == Severity.WARNING and "no query" not in f.message


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


# -- audit IP addresses on models that also run on SQLite (HIP003) -----------------------------------

_AUDIT = HEADER + """
class AuditEvent(Base):
    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ip_address: Mapped[str | None] = mapped_column(String(45))
"""


def test_an_audit_ip_on_models_the_tests_run_on_sqlite_is_info_with_a_variant(tmp_path):
    conftest = """
from sqlalchemy.ext.asyncio import create_async_engine

engine = create_async_engine("sqlite+aiosqlite:///:memory:")
"""
    (f,) = found(tmp_path, {"app/models.py": _AUDIT, "tests/conftest.py": conftest}, "HIP003")
    assert f.severity == Severity.INFO and f.anchor == "table:audit_events.ip_address"
    assert f.message == (
        "audit_events.ip_address is String, not INET; the tests also build these models on SQLite "
        "(tests/conftest.py:4), which has no INET: `String(...).with_variant(INET(), \"postgresql\")` gives "
        "PostgreSQL the address type and keeps SQLite working")
    (g,) = found(tmp_path / "pg", {"app/models.py": _AUDIT}, "HIP003")
    assert g.severity == Severity.WARNING and g.message == "audit_events.ip_address is String, not INET"


# -- session state and the engine that runs it (CFG004) ----------------------------------------------

_TWO_KINDS = """
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import sessionmaker

async_engine = create_async_engine(URL, pool_size=10)
engine = create_engine(URL, pool_size=10)
SessionLocal = sessionmaker(engine)
"""
_SYNC_SET = """
from sqlalchemy import text
from app.db import SessionLocal

def similar(name):
    with SessionLocal() as session:
        session.execute(text("SET pg_trgm.similarity_threshold = 0.4"))
        return session.execute(text("SELECT id FROM tag WHERE name % :n"), {"n": name}).all()
"""


def test_a_set_on_a_synchronous_session_is_charged_to_the_synchronous_engine(tmp_path):
    """A SET sent without await runs on a synchronous session: the finding is the synchronous engine's, not
    the async engine made first; its message says the setting stays on the connection, no more."""
    (f,) = found(tmp_path, {"app/db.py": _TWO_KINDS, "app/search.py": _SYNC_SET}, "CFG004")
    assert (f.location.path, f.location.start_line, f.severity) == ("app/db.py", 7, Severity.WARNING)
    assert f.message.startswith("no `checkin` pool listener, and the code sets session-scoped state (app/search.py:7: "
                                "`SET pg_trgm.similarity_threshold`): the setting stays on the connection when "
                                "it goes back to the pool, and whatever runs on that connection next runs with it "
                                "unless it sets it again")
    awaited = _SYNC_SET.replace("def similar", "async def similar").replace("session.execute", "await session.execute")
    (f,) = found(tmp_path / "async", {"app/db.py": _TWO_KINDS, "app/search.py": awaited}, "CFG004")
    assert f.location.start_line == 6, "an awaited SET is the async engine's"


def test_a_set_whose_engine_dbreview_cannot_tell_is_info_and_says_so(tmp_path):
    """Two synchronous engines made apart: dbreview cannot tell which one's session sends the SET."""
    two = _TWO_KINDS + "\nreports_engine = create_engine(REPORTS_URL, pool_size=5)\n"
    (f,) = found(tmp_path, {"app/db.py": two, "app/search.py": _SYNC_SET}, "CFG004")
    assert f.severity == Severity.INFO and f.anchor == "pool:checkin"
    assert ("(not certain which engine: it is sent through a synchronous session or connection, and dbreview could "
            "not tell which of the 2 synchronous engines (`engine` at app/db.py:7, `reports_engine` at app/db.py:10) it comes "
            "from)") in f.message
    assert [r.note for r in f.related][-1] == "`reports_engine`: may be the one"


# -- a lookup by a unique key other than the primary key (MOD007, INT010) ---------------------------

_KEYS = HEADER + """
from sqlalchemy import Boolean, UniqueConstraint

class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (UniqueConstraint("team_id", "reference"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(Integer, index=True)
    reference: Mapped[str] = mapped_column(String(64))
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
"""

_KEY_CODE = """
from sqlalchemy import select
from models import ApiKey

def touch(session, team_id, reference):
    key = session.scalars(select(ApiKey).where(ApiKey.team_id == team_id, ApiKey.reference == reference)).one_or_none()
    return key

def team_keys(session, team_id):
    return session.scalars(select(ApiKey).where(ApiKey.team_id == team_id, ApiKey.is_deleted.is_(False))).all()

def revoke(session, key):
    key.is_deleted = True
"""


def test_a_lookup_by_every_column_of_a_unique_constraint_is_a_key_lookup(tmp_path):
    """touch() finds one key by (team_id, reference), which a unique constraint keeps unique: a lookup by key,
    as by the primary key (to update it, to show it), for MOD007 and INT010 alike; by team_id alone it is not."""
    files = {"models.py": _KEYS, "app/keys.py": _KEY_CODE}
    assert found(tmp_path, files, "MOD007") == [] and found(tmp_path, files, "INT010") == []
    by_team = _KEY_CODE.replace("ApiKey.team_id == team_id, ApiKey.reference == reference", "ApiKey.team_id == team_id")
    (f,) = found(tmp_path / "b", {"models.py": _KEYS, "app/keys.py": by_team}, "MOD007")
    assert "touch (app/keys.py:6)" in f.message
    (f,) = found(tmp_path / "b", {"models.py": _KEYS, "app/keys.py": by_team}, "INT010")
    assert f.message.startswith("touch fetches ApiKey with one_or_none() by team_id, which no unique constraint of "
                                "api_keys covers (the index on team_id is not unique)")


# -- a status-like name on a column unique by itself (INT005) ---------------------------------------

def test_a_type_column_unique_by_itself_is_an_identifier_not_a_status(tmp_path):
    """One row per connector type: `connector_type` names the row (its values an open set, one each), so no
    Enum or CHECK is wanted; the same name on a column many rows share is a status-like set."""
    model = HEADER + """
class ConnectorTemplate(Base):
    __tablename__ = "connector_templates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connector_type: Mapped[str] = mapped_column(String, nullable=False, unique=True)  # MAILCHIMP, STRIPE, ...
    status: Mapped[str] = mapped_column(String(20))
"""
    (f,) = found(tmp_path, {"app/models.py": model}, "INT005")
    assert f.message == "connector_templates: status is free text: no Enum type or CHECK constraint limits the values"
    shared = model.replace("nullable=False, unique=True)", "nullable=False)")
    (f,) = found(tmp_path / "b", {"app/models.py": shared}, "INT005")
    assert f.message.startswith("connector_templates: connector_type (MAILCHIMP, STRIPE), status are free text")


# -- the soft delete the code really does, and a lookup that finds a free value (INT008) -------------

_GRANTS = HEADER + """
from sqlalchemy import UniqueConstraint

class Grant(Base):
    __tablename__ = "grants"
    __table_args__ = (UniqueConstraint("user_id", "project_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    project_id: Mapped[int] = mapped_column(Integer)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
"""

_GRANT_CODE = """
from datetime import datetime, timezone
from sqlalchemy import select
from models import Grant

def live_grants(session, user_id):
    return session.scalars(select(Grant).where(Grant.user_id == user_id, Grant.revoked_at.is_(None))).all()

def revoke(session, grant):
    grant.revoked_at = datetime.now(timezone.utc)
"""


def test_a_unique_key_is_weighed_against_the_soft_delete_the_code_does(tmp_path):
    """Nothing sets deleted_at; revoke() sets revoked_at and the queries keep to revoked_at IS NULL: revoked_at
    is the soft delete, and granting again after a revoke meets the unique constraint."""
    (f,) = found(tmp_path, {"models.py": _GRANTS, "app/grants.py": _GRANT_CODE}, "INT008")
    assert (f.severity, f.anchor) == (Severity.WARNING, "table:grants:unique:user_id,project_id:soft-delete")
    assert f.message.startswith("grants is soft deleted (revoked_at is set at app/grants.py:10, and the key is not "
                                "rewritten there) but unique (user_id, project_id) also counts the deleted rows")
    assert "WHERE revoked_at IS NULL" in f.message and "deleted_at" not in f.message


_REPORTS = HEADER + """
from sqlalchemy import Boolean

class Report(Base):
    __tablename__ = "reports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
"""

_REPORT_CODE = """
from sqlalchemy import select
from models import Report

def free_name(session, name):
    taken = session.scalars(select(Report).where(Report.name == name)).all()
    if not taken:
        return name
    return f"{name}-{len(taken) + 1}"

def delete(session, report):
    report.deleted = True
"""


def test_a_lookup_by_the_key_that_makes_a_free_value_handles_the_reuse(tmp_path):
    """free_name() counts deleted reports too, and when the name is taken makes another: a deleted report's
    name is never added again, so the constraint meets no conflict; a lookup that only finds the row is info."""
    assert found(tmp_path, {"models.py": _REPORTS, "app/reports.py": _REPORT_CODE}, "INT008") == []
    finds = _REPORT_CODE.replace('return f"{name}-{len(taken) + 1}"', "return taken[0]")
    (f,) = found(tmp_path / "b", {"models.py": _REPORTS, "app/reports.py": finds}, "INT008")
    assert f.severity == Severity.INFO and "as does the code's own lookup by name (app/reports.py:6)" in f.message


def test_a_check_for_an_existing_row_before_adding_one_reads_deleted_rows_on_purpose(tmp_path):
    """provision() skips a key that exists, deleted or not, before adding it: a deleted key's values are still
    taken, so counting it is right; a get-or-create that hands the found row back is still reported."""
    code = _KEY_CODE + """
def provision(session, team_id, names):
    for name in names:
        existing = session.scalars(select(ApiKey).where(ApiKey.reference == name)).first()
        if existing:
            continue
        session.add(ApiKey(team_id=team_id, reference=name))
"""
    assert found(tmp_path, {"models.py": _KEYS, "app/keys.py": code}, "MOD007") == []
    handed = code.replace("            continue\n", "            return existing\n")
    (f,) = found(tmp_path / "b", {"models.py": _KEYS, "app/keys.py": handed}, "MOD007")
    assert "provision (app/keys.py:17)" in f.message


# -- where a value spliced into SQL comes from, said exactly (CFG008) --------------------------------

def test_a_name_from_the_databases_own_catalogue_says_so(tmp_path):
    """Schema names read back from SHOW SCHEMAS are the database's own: the message names that source."""
    code = """
from sqlalchemy import text
from sqlalchemy.engine import Engine

def tables_by_schema(engine: Engine):
    schemas = [row[1] for row in engine.execute(text("SHOW SCHEMAS"))]
    out = {}
    for schema in schemas:
        out[schema] = [row[1] for row in engine.execute(text(f'SHOW TABLES IN "{schema}"'))]
    return out
"""
    (f,) = found(tmp_path, {"app/catalogue.py": code}, "CFG008")
    assert f.severity == Severity.INFO
    assert f.message.startswith("SQL built from a string in `tables_by_schema`: `schema` is an identifier and "
                                "`engine.execute(text('SHOW SCHEMAS'))` is read from the database's own catalogue "
                                "(`SHOW SCHEMAS`), not given by a user: it is written between double quotes, but a "
                                "`\"` inside it is not doubled")


def test_sql_built_in_a_downgrade_says_so(tmp_path):
    down = """
conn = op.get_bind()
for (team_id,) in conn.execute(sa.text("SELECT id FROM team")).fetchall():
    label = lookup_label(team_id)
    op.execute(f"UPDATE team SET label = '{label}' WHERE id = {team_id}")
"""
    (f,) = found(tmp_path, {"migrations/versions/0001_labels.py": revision("pass", down)}, "CFG008")
    assert f.severity == Severity.INFO
    assert f.message.startswith("the downgrade of migration 0001 builds SQL from a string: `label` is a value and "
                                "`lookup_label(team_id)` is the result of `lookup_label()`, which is not followed")
    assert f.message.endswith("(a migration takes no request; check where the value comes from when the migration is "
                              "undone (its downgrade))")
    bare = down.replace("lookup_label(team_id)", "client.whoami()")
    (f,) = found(tmp_path / "b", {"migrations/versions/0001_labels.py": revision("pass", bare)}, "CFG008")
    assert "`label` is a value and `client.whoami()` is a call dbreview does not follow:" in f.message


# -- a lookup that only a command runs (INT010) -------------------------------------------------------

def test_a_lookup_in_a_method_only_a_command_calls_is_info_that_says_so(tmp_path):
    """UserRepository.get_by_email is called only by a bootstrap command: two rows with one email stop the
    command, no request reaches the lookup. Called from a route, it is the warning."""
    models = HEADER + """
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(255), index=True)
"""
    repo = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from app.models import User

class UserRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def get_by_email_address(self, email):
        result = await self.session.execute(select(User).where(User.email == email))
        return result.scalar_one_or_none()
"""
    command = """
from app.repository import UserRepository

async def main(session, email):
    user = await UserRepository(session).get_by_email_address(email)
    user.is_admin = True
"""
    files = {"app/models.py": models, "app/repository.py": repo, "app/commands/create_admin.py": command}
    (f,) = found(tmp_path, files, "INT010")
    assert f.severity == Severity.INFO
    assert f.message.endswith("; but no call of get_by_email_address was found in the application's code outside "
                              "tests, migrations and command-line tooling (where two rows stop the command, not a "
                              "request)")
    files["app/routes.py"] = command.replace("async def main", "async def promote")
    (f,) = found(tmp_path / "b", files, "INT010")
    assert f.severity == Severity.WARNING


def test_a_column_compared_with_a_constant_goes_into_the_partial_index_predicate(tmp_path):
    """One LEAD per project among the members not removed: the index that keeps it to one is on (project_id)
    WHERE role = 'LEAD' AND removed_at IS NULL; with role among its columns it would allow one member per role."""
    models = HEADER + """
class Member(Base):
    __tablename__ = "members"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(Integer, index=True)
    role: Mapped[str] = mapped_column(String(20))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
"""
    code = """
from fastapi import APIRouter
from sqlalchemy import select
from app.models import Member

router = APIRouter()

@router.get("/projects/{project_id}/lead")
async def project_lead(db, project_id: int):
    stmt = select(Member).where(Member.project_id == project_id, Member.role == "LEAD", Member.removed_at.is_(None))
    return (await db.execute(stmt)).scalar_one_or_none()
"""
    (f,) = found(tmp_path, {"app/models.py": models, "app/routes.py": code}, "INT010")
    assert f.severity == Severity.WARNING
    assert f.message.endswith("; a partial unique index on (project_id) WHERE role = 'LEAD' AND removed_at IS NULL would "
                              "keep it to one")
    flagged = models.replace("role: Mapped[str] = mapped_column(String(20))", "default: Mapped[bool] = mapped_column()")
    (f,) = found(tmp_path / "b", {"app/models.py": flagged,
                                  "app/routes.py": code.replace('Member.role == "LEAD"', "Member.default == True")}, "INT010")
    assert f.message.endswith('; a partial unique index on (project_id) WHERE "default" = true AND removed_at IS NULL would '
                              "keep it to one")



_LEDGER = HEADER + """
import sqlalchemy as sa
from sqlalchemy import Numeric

class Wallet(Base):
    __tablename__ = "wallets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Charge(Base):
    __tablename__ = "charges"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wallet_id: Mapped[int] = mapped_column(Integer)
    wallet_name: Mapped[str] = mapped_column(String(100))

class ChargeArchive(Base):
    __tablename__ = "charges_archive_2025"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wallet_id: Mapped[int] = mapped_column(Integer)

class Refund(Base):
    __tablename__ = "refunds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wallet_id: Mapped[int] = mapped_column(Integer)
"""

_WALLET_USE = """
from app.models import Refund, Wallet

def refund_wallet(session, refund_id):
    return session.get(Wallet, session.get(Refund, refund_id).wallet_id)

def wallet_of(session, payload):
    return session.get(Wallet, payload.wallet_id)
"""


def test_a_reference_kept_with_a_copy_of_its_target_is_history_and_a_shared_name_needs_its_own_table(tmp_path):
    """osparc (first meeting, INT002 x8 wrong): ledgers that copy wallet_name beside wallet_id outlive the wallet on
    purpose, and `payload.wallet_id` elsewhere is no evidence about charges.wallet_id."""
    got = {f.anchor: f for f in found(tmp_path, {"app/models.py": _LEDGER, "app/wallets.py": _WALLET_USE}, "INT002")}
    charge = got["table:charges.wallet_id"]
    assert charge.severity == Severity.INFO and "charges keeps wallet_name beside it, a copy of what it points at" in charge.message
    assert "table:charges_archive_2025.wallet_id" not in got  # old rows kept apart: ids outlive their rows by design
    refund = got["table:refunds.wallet_id"]
    assert refund.severity == Severity.WARNING and "app/wallets.py:5" in refund.message  # the line that names Refund


_KEPT_APART = HEADER + """
class Run(Base):
    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class RunStateCache(Base):
    __tablename__ = "run_state_cache"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(Integer)

class RunFollower(Base):
    __tablename__ = "run_follower"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(Integer)

class RunCollection(Base):
    __tablename__ = "run_collection"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(Integer)

class RunLog(Base):
    __tablename__ = "run_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(Integer)
"""


def test_a_reference_on_a_cache_a_buffer_or_a_collection_is_not_called_a_log(tmp_path):
    """prefect: a state cache, an event follower waiting for its leader and a latest-artifact collection were each
    said to read 'like a log, history or archive'; the reason follows what the table's name says it is."""
    got = {f.anchor: f for f in found(tmp_path, {"app/models.py": _KEPT_APART}, "INT002")}
    said = {anchor.split(".")[0].removeprefix("table:"): f.message.split("; ", 1)[1].split(" (", 1)[0] for anchor, f in got.items()}
    assert said == {
        "run_state_cache": "run_state_cache reads like a cache, whose rows may outlive what they point at",
        "run_follower": "run_follower reads like a buffer, whose rows may point at rows not there yet or gone already",
        "run_collection": "run_collection reads like a collection kept beside what it points at, which may outlive it",
        "run_log": "run_log reads like a log, history or archive that may outlive what it points at",
    }
    assert all(f.severity == Severity.INFO for f in got.values())


def test_a_log_whose_class_docstring_says_its_rows_outlive_their_target_is_no_int002(tmp_path):
    """mergin: "Model is only loosely coupled with Project, so even if project is gone, history remains": the reason
    for no foreign key is written down already, in the class's docstring; a docstring that only names it stays."""
    said = _KEPT_APART.replace('class RunLog(Base):\n', 'class RunLog(Base):\n    """Loosely coupled with Run: even if the run is gone, its log remains."""\n')
    assert [f.anchor for f in found(tmp_path / "said", {"app/models.py": said}, "INT002") if "run_log" in f.anchor] == []
    named = _KEPT_APART.replace('class RunLog(Base):\n', 'class RunLog(Base):\n    """The log of a run."""\n')
    assert [f.anchor for f in found(tmp_path / "named", {"app/models.py": named}, "INT002") if "run_log" in f.anchor] == ["table:run_log.run_id"]


def test_an_id_written_from_an_api_reply_is_that_systems_not_a_rows(tmp_path):
    """Hyperion (INT002 judged wrong): `hello_asso_checkout_id=response.id` stores the id a payment provider's reply
    carries; "the code writes another row's id into it" was false."""
    models = HEADER + """
class Checkout(Base):
    __tablename__ = "checkouts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Payment(Base):
    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    checkout_id: Mapped[int] = mapped_column(Integer)
"""
    code = ("from app.models import Checkout, Payment\n\n\ndef pay(session, api):\n    response = api.checkout_intents_post()\n"
            "    session.add(Payment(checkout_id=response.id))\n")
    files = {"app/__init__.py": "", "app/models.py": models, "app/pay.py": code}
    assert [f for f in found(tmp_path, files, "INT002") if "checkout_id" in f.message] == []
    row = code.replace("response = api.checkout_intents_post()", "checkout = session.get(Checkout, 1)").replace(
        "response.id", "checkout.id")
    (f,) = [f for f in found(tmp_path / "row", {**files, "app/pay.py": row}, "INT002") if "checkout_id" in f.message]
    assert "writes another row's id into it" in f.message


def test_a_jsonb_key_read_in_sql_counts_for_the_table_it_names_only(tmp_path):
    """pybossa (PERF002 judged wrong x2): `project.info->>'k'` in SQL is a read of project.info, not of every other
    table's `info` column; a bare `info->>'k'` counts for the table the statement reads."""
    from tests.test_precision import HEADER, found

    models = HEADER + ("from sqlalchemy.dialects.postgresql import JSONB\n\n\nclass Project(Base):\n"
                       "    __tablename__ = 'project'\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
                       "    info: Mapped[dict] = mapped_column(JSONB)\n\n\nclass Task(Base):\n    __tablename__ = 'task'\n"
                       "    id: Mapped[int] = mapped_column(primary_key=True)\n    info: Mapped[dict] = mapped_column(JSONB)\n")
    cache = ("from sqlalchemy import text\n\n\ndef locked(db):\n"
             "    return db.execute(text(\"SELECT p.id FROM project p WHERE (p.info->>'passwd_hash') IS NULL\")).all()\n")
    assert [f.anchor for f in found(tmp_path, {"app/models.py": models, "app/cache.py": cache}, "PERF002")] == [
        "table:project.info:gin"]
    bare = cache.replace("FROM project p WHERE (p.info", "FROM task WHERE (info")
    assert [f.anchor for f in found(tmp_path / "bare", {"app/models.py": models, "app/cache.py": bare}, "PERF002")] == [
        "table:task.info:gin"]


def test_a_filter_whose_new_query_is_thrown_away_is_not_among_the_lookups_columns(tmp_path):
    """barbican (INT010 judged wrong): `query.filter_by(hidden=False)` alone returns a new query and leaves `query` as
    it was: the query run filters by slug only, and the message must not name hidden (nor a partial index on it)."""
    models = _LOOKUP_MODELS.replace('    slug: Mapped[str] = mapped_column(String(80))\n',
                                    '    slug: Mapped[str] = mapped_column(String(80))\n    hidden: Mapped[bool] = mapped_column()\n')
    code = """
from app.models import Team

def by_slug(session, slug, show_hidden=False):
    query = session.query(Team).filter_by(slug=slug)
    if not show_hidden:
        query.filter_by(hidden=False)
    return query.one()

HANDLERS = [by_slug]
"""
    (f,) = found(tmp_path, {"app/models.py": models, "app/teams.py": code}, "INT010")
    assert f.message.startswith("by_slug fetches Team with one() by slug, which no unique constraint or index of teams covers")
    assert "hidden" not in f.message


_FOLDERS = HEADER + """
class Folder(Base):
    __tablename__ = "folders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), index=True)
    parent_id: Mapped[int | None] = mapped_column(Integer)
    workspace_id: Mapped[int] = mapped_column(Integer)
"""
_FOLDERS_MADE = revision('''
    op.create_table("folders", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(80)),
                    sa.Column("parent_id", sa.Integer), sa.Column("space_id", sa.Integer))
    op.execute("CREATE UNIQUE INDEX uq_folders_place ON folders (space_id, COALESCE(parent_id, 0), name)")
    ''')
_FOLDERS_RENAMED = revision('op.alter_column("folders", "space_id", new_column_name="workspace_id")', rev="0002", down="0001")
_FOLDER_CODE = """
from sqlalchemy import select
from app.models import Folder

def root_folder(session, name, workspace_id):
    return session.execute(select(Folder).where(
        Folder.name == name, Folder.parent_id.is_(None), Folder.workspace_id == workspace_id)).scalar_one_or_none()

def child_folder(session, name, parent_id, workspace_id):
    folder = session.execute(select(Folder).where(
        Folder.name == name, Folder.parent_id == parent_id, Folder.workspace_id == workspace_id)).scalar_one_or_none()
    if folder is None:
        folder = Folder(name=name, parent_id=parent_id, workspace_id=workspace_id)
        session.add(folder)
        session.commit()
    return folder

HANDLERS = [root_folder, child_folder]
"""


def test_a_unique_index_over_an_expression_of_the_lookups_columns_covers_it(tmp_path):
    """SurfSense (INT010, INT013 judged wrong): CREATE UNIQUE INDEX ON folders (space_id, COALESCE(parent_id, 0), name),
    space_id renamed workspace_id later: a lookup by name and workspace_id that compares parent_id with `==`, or tests
    it IS NULL (COALESCE makes the NULL a value), finds one row at most, and two inserts of one folder cannot both
    land. A lookup that leaves a column of the index out is still not covered."""
    files = {"app/models.py": _FOLDERS, "app/folders.py": _FOLDER_CODE,
             "migrations/versions/0001_a.py": _FOLDERS_MADE, "migrations/versions/0002_b.py": _FOLDERS_RENAMED}
    assert found(tmp_path, files, "INT010") == []
    assert [f.message for f in found(tmp_path, files, "INT013") if "no unique constraint" in f.message] == []
    (unmet,) = found(tmp_path, files, "INT013")  # the key refuses the second insert, which nothing in child_folder meets
    assert unmet.severity is Severity.INFO and unmet.message.startswith(
        "child_folder looks Folder up by name, parent_id, workspace_id and, when it finds none, inserts one with the same")
    assert "the unique key (COALESCE(parent_id, 0), name, workspace_id) of folders holds the duplicate out" in unmet.message
    files["app/folders.py"] = _FOLDER_CODE.replace("Folder.name == name, Folder.parent_id.is_(None), ", "Folder.parent_id.is_(None), ")
    (f,) = found(tmp_path / "unnamed", files, "INT010")
    assert f.message.startswith("root_folder fetches Folder with scalar_one_or_none() by workspace_id and parent_id IS NULL, which")


def test_a_unique_hash_the_constructor_computes_from_the_lookups_columns_lowers_it_to_info(tmp_path):
    """barbican (INT010 judged wrong): UniqueConstraint("data_hash"), and __init__ sets data_hash = sha256 of
    container_id + name + url: rows made through the constructor are one per (container_id, name, url), so a lookup
    by them finds one; only rows written otherwise could match twice (info). A hash that also reads a value that is
    no column of the lookup keeps the warning."""
    models = HEADER + """
import hashlib
from sqlalchemy import UniqueConstraint


class Consumer(Base):
    __tablename__ = "consumers"
    __table_args__ = (UniqueConstraint("data_hash"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    container_id: Mapped[str] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(36))
    url: Mapped[str] = mapped_column(String(255))
    data_hash: Mapped[str] = mapped_column(String(64))

    def __init__(self, container_id, name, url, salt=""):
        self.container_id = container_id
        self.name = name
        self.url = url
        text = "".join((self.container_id, self.name, self.url))
        self.data_hash = hashlib.sha256(text.encode()).hexdigest()
"""
    code = """
from app.models import Consumer

def by_values(session, container_id, name, url):
    return session.query(Consumer).filter_by(container_id=container_id, name=name, url=url).one()

HANDLERS = [by_values]
"""
    files = {"app/models.py": models, "app/consumers.py": code}
    line = next(i for i, text in enumerate(models.splitlines(), 1) if "self.data_hash =" in text)
    (f,) = found(tmp_path, files, "INT010")
    assert f.severity is Severity.INFO and (
        f"; but data_hash, unique, is computed from container_id, name, url where Consumer sets it (app/models.py:{line}): "
        "rows made through it are one per (container_id, name, url)") in f.message
    files["app/models.py"] = models.replace("(self.container_id, self.name, self.url)", "(self.container_id, self.name, salt)")
    (f,) = found(tmp_path / "salted", files, "INT010")
    assert f.severity is Severity.WARNING and "data_hash" not in f.message, f.message

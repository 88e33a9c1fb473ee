"""Classes of wrong model and integrity findings seen on backends met for the first time (issue 7), each on
a fixture of our own: a model mapped onto a view the migrations create, a column whose comment block says
why it has no foreign key, a status held by a lookup table's foreign key, ids of a code platform, the time a
row copies from its source, inserts that ran before the column existed, services with their own
migrations and conventions, and a unique key the insert sets through a relationship."""

from __future__ import annotations

from tests.test_precision import HEADER, found, revision

SHOP = HEADER + '''
from sqlalchemy import UUID, func
from sqlalchemy.orm import relationship


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)


class OrderState(Base):
    __tablename__ = "order_states"
    name: Mapped[str] = mapped_column(String(20), primary_key=True)


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    status: Mapped[str] = mapped_column(String(20), ForeignKey("order_states.name"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OrderOverview(Base):
    """Every order, live and archived: a view."""
    __tablename__ = "order_overview"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Refund(Base):
    __tablename__ = "refunds"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    order = relationship("OrderOverview", primaryjoin="Refund.order_id == foreign(OrderOverview.id)", uselist=False)
'''

SHOP_MIGRATION = revision('''
op.create_table("accounts", sa.Column("id", sa.Uuid(), primary_key=True))
op.create_table("order_states", sa.Column("name", sa.String(20), primary_key=True))
op.create_table("orders", sa.Column("id", sa.Uuid(), primary_key=True),
                sa.Column("account_id", sa.Uuid(), sa.ForeignKey("accounts.id")),
                sa.Column("status", sa.String(20), sa.ForeignKey("order_states.name")),
                sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()")))
op.create_table("refunds", sa.Column("id", sa.Uuid(), primary_key=True), sa.Column("order_id", sa.Uuid()))
op.execute("CREATE VIEW order_overview AS SELECT id, account_id, status, created_at FROM orders")
''')


def test_a_model_mapped_onto_a_view_the_migrations_create_gets_no_table_advice(tmp_path):
    result = found(tmp_path, {"app/models.py": SHOP, "migrations/versions/0001_r.py": SHOP_MIGRATION})
    about_view = [f for f in result if "order_overview" in f.anchor or "OrderOverview" in f.anchor]
    assert about_view == []  # no MIG006 "created by no migration", no INT002/INT005/MOD002 on its columns
    # No foreign key can point at a view: the relationship onto it asks for none.
    assert [f for f in result if f.rule_id == "INT002"] == []
    # A status held by a foreign key to a lookup table (order_states.name) is limited as a CHECK would.
    assert [f for f in result if f.rule_id == "INT005"] == []


def test_the_same_model_as_a_table_still_gets_its_findings(tmp_path):
    """The control: no CREATE VIEW, and the table is one the migrations create."""
    as_table = SHOP_MIGRATION.replace(
        'op.execute("CREATE VIEW order_overview AS SELECT id, account_id, status, created_at FROM orders")',
        'op.create_table("order_overview", sa.Column("id", sa.Uuid(), primary_key=True), sa.Column("account_id", sa.Uuid()),\n'
        '                    sa.Column("status", sa.String(20)), sa.Column("created_at", sa.DateTime(timezone=True)))')
    result = found(tmp_path, {"app/models.py": SHOP, "migrations/versions/0001_r.py": as_table})
    assert {(f.rule_id, f.anchor) for f in result} >= {
        ("INT002", "table:order_overview.account_id"), ("INT005", "table:order_overview:free-text"),
        ("MOD002", "table:order_overview.created_at")}


def test_a_materialized_view_dropped_later_is_a_missing_table_again(tmp_path):
    models = HEADER + '''
class Totals(Base):
    __tablename__ = "daily_totals"
    day: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
'''
    made = revision('''
op.create_table("notes", sa.Column("id", sa.Integer(), primary_key=True))
op.execute("CREATE MATERIALIZED VIEW daily_totals AS SELECT now() AS day")
''')
    assert found(tmp_path / "made", {"app/models.py": models, "migrations/versions/0001_r.py": made}, "MIG006") == []
    dropped = revision('op.execute("DROP MATERIALIZED VIEW daily_totals")', rev="0002", down="0001")
    gone = found(tmp_path / "gone", {"app/models.py": models, "migrations/versions/0001_r.py": made,
                                     "migrations/versions/0002_r.py": dropped}, "MIG006")
    assert [(f.anchor, f.severity.value) for f in gone] == [("drift:table:daily_totals", "warning")]
    assert "is created by no migration" in gone[0].message


NO_FK_SAID = HEADER + '''
from sqlalchemy import UUID


class Post(Base):
    __tablename__ = "posts"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)


class Complaint(Base):
    __tablename__ = "complaints"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    # Ignoring a strict foreign key relationship here: posts move to an archive table every
    # night, and the complaint must keep pointing at the post wherever it lives.
    # We join on it explicitly where it is needed.
    post_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    post_version: Mapped[int] = mapped_column(Integer)
'''


def test_a_comment_block_above_the_column_saying_why_there_is_no_foreign_key_is_no_int002(tmp_path):
    assert found(tmp_path / "said", {"app/models.py": NO_FK_SAID}, "INT002") == []
    unsaid = NO_FK_SAID.replace("Ignoring a strict foreign key relationship here", "Kept apart on purpose")
    assert [f.anchor for f in found(tmp_path / "unsaid", {"app/models.py": unsaid}, "INT002")] == ["table:complaints.post_id"]


PLATFORM = HEADER + '''
from sqlalchemy import BigInteger, func


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class Repo(Base):
    __tablename__ = "repos"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class Issue(Base):
    __tablename__ = "issues"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gh_user_id: Mapped[int] = mapped_column(BigInteger)
    pr_src_repo_id: Mapped[int] = mapped_column(BigInteger)
    platform_user_id: Mapped[int] = mapped_column(BigInteger)
    reporter_user_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    collected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class FileType(Base):
    __tablename__ = "file_types"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    file_type_id: Mapped[int] = mapped_column(Integer)
'''


def test_a_code_platform_s_ids_and_a_table_s_own_id_are_no_int002(tmp_path):
    result = found(tmp_path, {"app/models.py": PLATFORM}, "INT002")
    # gh_user_id, pr_src_repo_id, platform_user_id: GitHub's numbers; file_types.file_type_id: the row's own
    assert [f.anchor for f in result] == ["table:issues.reporter_user_id"]


def test_a_created_at_beside_the_database_s_own_stamp_copies_a_source_time(tmp_path):
    """issues.collected_at is the row's time (server_default now()); created_at is the issue's, from its source."""
    assert found(tmp_path / "copied", {"app/models.py": PLATFORM}, "MOD002") == []
    own = PLATFORM.replace("server_default=func.now()", "default=datetime.utcnow")
    assert [f.anchor for f in found(tmp_path / "own", {"app/models.py": own}, "MOD002")] == ["table:issues.created_at"]


BRANDS = HEADER + '''
class Brand(Base):
    __tablename__ = "brands"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=datetime.utcnow)
'''


def test_an_insert_of_a_revision_before_the_column_existed_does_not_leave_it_out(tmp_path):
    first = revision('''
op.create_table("brands", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("name", sa.String(40)))
op.execute("INSERT INTO brands (id, name) VALUES (1, 'house')")
''')
    added = revision('op.add_column("brands", sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))',
                     rev="0002", down="0001")
    files = {"app/models.py": BRANDS, "migrations/versions/0001_r.py": first, "migrations/versions/0002_r.py": added}
    result = found(tmp_path / "before", files, "MOD002")
    assert [(f.anchor, f.severity.value) for f in result] == [("table:brands.created_at", "info")]
    assert "no insert outside the ORM that dbreview can read" in result[0].message
    later = revision("op.execute(\"INSERT INTO brands (id, name) VALUES (2, 'outlet')\")", rev="0003", down="0002")
    result = found(tmp_path / "after", {**files, "migrations/versions/0003_r.py": later}, "MOD002")
    assert [(f.anchor, f.severity.value) for f in result] == [("table:brands.created_at", "warning")]
    assert "migrations/versions/0003_r.py" in result[0].message


def _service(name: str, aware: bool) -> dict[str, str]:
    zone = "timezone=True" if aware else ""
    models = HEADER + f'''
class Job{name.title()}(Base):
    __tablename__ = "{name}_jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    queued_at: Mapped[datetime] = mapped_column(DateTime({zone}))
    started_at: Mapped[datetime | None] = mapped_column(DateTime({zone}))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime({zone}))
    due_at: Mapped[datetime | None] = mapped_column(DateTime({zone}))
'''
    env = f"from alembic import context\nfrom sqlalchemy import pool\nfrom {name}.app.models import Base\ntarget_metadata = Base.metadata\n"
    return {f"{name}/app/models.py": models, f"{name}/alembic/env.py": env, f"{name}/requirements.txt": "sqlalchemy\n"}


def test_each_service_with_its_own_migrations_keeps_its_own_timestamp_convention(tmp_path):
    files = {**_service("api", aware=True), **_service("worker", aware=False)}
    files["api/app/models.py"] += '''
class Audit(Base):
    __tablename__ = "audits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(DateTime)
'''
    result = found(tmp_path, files, "TZ001")
    by_anchor = {f.anchor: f for f in result}
    assert set(by_anchor) == {"timestamps:naive-convention:worker", "table:audits.seen_at"}
    assert by_anchor["timestamps:naive-convention:worker"].message.startswith(
        "4 of 4 timestamp columns under worker/ have no time zone")
    assert by_anchor["table:audits.seen_at"].severity.value == "info"  # nothing tests it in SQL
    assert ", unlike the other timestamps under api/," in by_anchor["table:audits.seen_at"].message
    # Migrations of their own without a project of their own (a plugin's): one database, one convention.
    plugins = {path: text for path, text in files.items() if not path.endswith("requirements.txt")}
    one = found(tmp_path / "plugins", plugins, "TZ001")
    assert {f.anchor for f in one} == {"table:audits.seen_at"} | {
        f"table:worker_jobs.{c}" for c in ("queued_at", "started_at", "ended_at", "due_at")}
    assert all("(as 5 of the project's 9 timestamp columns are)" in f.message for f in one)


ASSIGNMENTS = HEADER + '''
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import relationship


class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guid: Mapped[str] = mapped_column(String(36), unique=True)


class TaskUser(Base):
    __tablename__ = "task_users"
    __table_args__ = (UniqueConstraint("task_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey(Task.id))
    user_id: Mapped[int] = mapped_column(Integer)
    task = relationship(Task)
'''

ASSIGN = '''
from sqlalchemy import select
from models import Task, TaskUser


def assign(session, task, user_id):
    link = session.scalars(select(TaskUser).join(Task, Task.id == TaskUser.task_id).where(
        TaskUser.user_id == user_id, Task.guid == task.guid)).first()
    if link is None:
        link = TaskUser(user_id=user_id, task=task)
        session.add(link)
    return link
'''


def test_a_unique_key_the_insert_sets_through_a_relationship_covers_the_lookup(tmp_path):
    files = {"models.py": ASSIGNMENTS, "app/assign.py": ASSIGN}
    assert found(tmp_path / "keyed", files, "INT013") == []
    loose = {**files, "models.py": ASSIGNMENTS.replace('    __table_args__ = (UniqueConstraint("task_id", "user_id"),)\n', "")}
    assert [f.rule_id for f in found(tmp_path / "loose", loose, "INT013")] == ["INT013"]


CACHES = HEADER + '''
class Group(Base):
    __tablename__ = "groups"
    group_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class GroupTotal(Base):
    __tablename__ = "group_totals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(Integer)
'''

TOTALS = """
from sqlalchemy import text


def totals(session, period):
    table = 'group_totals' if period == 'year' else 'group_totals_monthly'
    return session.execute(text('''
        SELECT groups.group_id, sum(n) FROM {0}, groups
        WHERE {0}.group_id = groups.group_id
        GROUP BY groups.group_id'''.format(table))).all()
"""


def test_sql_that_joins_on_the_column_is_named_not_denied(tmp_path):
    (f,) = found(tmp_path / "formatted", {"app/models.py": CACHES, "app/totals.py": TOTALS}, "INT002")
    assert (f.anchor, f.severity.value) == ("table:group_totals.group_id", "info")
    assert "SQL joins on it (app/totals.py:9), which a dangling value drops out of" in f.message
    other = TOTALS.replace("'group_totals' if", "'group_sums' if")  # the formatted table is another one
    (f,) = found(tmp_path / "other", {"app/models.py": CACHES, "app/totals.py": other}, "INT002")
    assert "dbreview ties no lookup, join or write of another row's id to it" in f.message


def test_a_server_default_set_by_a_later_revision_is_cited_where_it_is_set(tmp_path):
    """agenta: the table is made with no default, a later revision's `ALTER COLUMN created_at SET DEFAULT` (or
    alter_column(server_default=)) gives it one: the finding points at that step, not at the create_table."""
    model = HEADER + '''
class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=datetime.utcnow)
'''
    create = revision('op.create_table("items", sa.Column("id", sa.Integer, primary_key=True),\n'
                      '                sa.Column("created_at", sa.DateTime(timezone=True)))')
    for step, line in (('op.execute("ALTER TABLE items ALTER COLUMN created_at SET DEFAULT now()")', 7),
                       ('op.alter_column("items", "created_at", server_default=sa.text("now()"))', 7)):
        files = {"app/models.py": model, "migrations/versions/0001_a.py": create,
                 "migrations/versions/0002_b.py": revision(step, rev="0002", down="0001")}
        (f,) = found(tmp_path / str(len(step)), files, "MOD002")
        assert f.severity.value == "info" and f"(migrations/versions/0002_b.py:{line})" in f.message, f.message


def test_a_bare_mapped_dict_or_list_of_values_is_a_column_and_doc_samples_are_no_models(tmp_path):
    """phoenix: `attributes: Mapped[dict[str, Any]]` alone is a column (a base's type_annotation_map types it; a
    relationship needs relationship()), so a migration's NOT NULL column of that name is mapped; `Mapped[list["Tag"]]`
    alone makes no claim. A top folder of docs (`internal_docs/`) holds code samples with models of their own."""
    model = HEADER + '''
from typing import Any

class Span(Base):
    __tablename__ = "spans"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attributes: Mapped[dict[str, Any]]
    events: Mapped[list[dict[str, Any]]]
'''
    create = revision('op.create_table("spans", sa.Column("id", sa.Integer, primary_key=True),\n'
                      '                sa.Column("attributes", sa.JSON, nullable=False),\n'
                      '                sa.Column("events", sa.JSON, nullable=False))')
    files = {"app/models.py": model, "migrations/versions/0001_a.py": create}
    assert found(tmp_path / "a", files, "MIG006") == []
    from analyzers.facts.paths import is_test_path
    assert is_test_path("internal_docs/vignettes/spans.py") and is_test_path("docs_src/app/models.py")
    assert not is_test_path("backend/connectors/google_docs/models.py")


def test_a_model_imported_under_another_classs_name_is_read_as_the_class_it_is(tmp_path):
    """letta: `from app.orm.provider import Provider as ProviderModel` beside a class of the project named
    ProviderModel (another table): the query selects providers, and the finding names Provider."""
    orm = HEADER + '''
class Provider(Base):
    __tablename__ = "providers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40))

class ProviderModel(Base):
    __tablename__ = "provider_models"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
'''
    service = '''
from sqlalchemy import select
from app.orm import Provider as ProviderModel

def find(session, name):
    return session.execute(select(ProviderModel).where(ProviderModel.name == name)).scalar_one_or_none()
'''
    (f,) = found(tmp_path, {"app/orm.py": orm, "app/service.py": service}, "INT010")
    assert "find fetches Provider with scalar_one_or_none() by name" in f.message, f.message

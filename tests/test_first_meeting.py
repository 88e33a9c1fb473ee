"""Classes of wrong findings seen on backends met for the first time (issue 7), each on a fixture of our own:
a well-known library's declarative bases (Advanced Alchemy), a generated value spliced into SQL, a
guarded repair a downgrade need not undo, tokens stored as the hash the code names, and audit logs
whose actor is an admin or an API key."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.test_precision import HEADER, found, revision

ADVANCED = '''
from datetime import datetime
from advanced_alchemy.base import UUIDv7AuditBase, orm_registry
from sqlalchemy import Column, DateTime, ForeignKey, String, Table, UUID
from sqlalchemy.orm import Mapped, mapped_column


class Team(UUIDv7AuditBase):
    __tablename__ = "team"
    name: Mapped[str] = mapped_column(String(80))
    archived_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Tag(UUIDv7AuditBase):
    __tablename__ = "tag"
    name: Mapped[str] = mapped_column(String(80))


team_tag = Table(
    "team_tag", orm_registry.metadata,
    Column("team_id", UUID(as_uuid=True), ForeignKey("team.id"), primary_key=True),
    Column("tag_id", UUID(as_uuid=True), ForeignKey("tag.id"), primary_key=True),
)
'''

ADVANCED_MIGRATION = revision('''
op.create_table("team", sa.Column("id", sa.Uuid(), nullable=False), sa.Column("name", sa.String(80), nullable=False),
                sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
                sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
                sa.PrimaryKeyConstraint("id", name=op.f("pk_team")))
op.create_table("tag", sa.Column("id", sa.Uuid(), nullable=False), sa.Column("name", sa.String(80), nullable=False),
                sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
                sa.PrimaryKeyConstraint("id", name=op.f("pk_tag")))
op.create_table("team_tag", sa.Column("team_id", sa.Uuid(), nullable=False), sa.Column("tag_id", sa.Uuid(), nullable=False),
                sa.ForeignKeyConstraint(["team_id"], ["team.id"]), sa.ForeignKeyConstraint(["tag_id"], ["tag.id"]),
                sa.PrimaryKeyConstraint("team_id", "tag_id"))
''')


def test_advanced_alchemy_bases_are_models_with_their_columns_and_convention(tmp_path):
    files = {"app/models.py": ADVANCED, "migrations/versions/0001_r.py": ADVANCED_MIGRATION}
    result = found(tmp_path, files)
    rules = {f.rule_id for f in result}
    assert "MIG005" not in rules  # the library's registry makes its MetaData with a naming convention
    assert [f for f in result if f.rule_id == "MIG006"] == []  # id, created_at, updated_at come from the bases
    assert [f for f in result if f.rule_id == "TZ001"] == []  # Mapped[datetime] is aware through the base's type map
    perf = [f for f in result if f.rule_id == "PERF001"]
    assert [f.anchor for f in perf] == ["table:team_tag.tag_id"]  # all three tables are read


def test_a_generated_value_spliced_into_sql_is_not_injectable(tmp_path):
    code = '''
from uuid import uuid4
from sqlalchemy import create_engine, text

engine = create_engine("postgresql://app@db/app")


def probe():
    with engine.connect() as conn:
        name = uuid4().hex
        conn.execute(text(f"CREATE TABLE IF NOT EXISTS probe_{name} (id INT)"))
        conn.execute(text(f"DROP TABLE IF EXISTS probe_{name}"))


def probe_by(suffix):
    with engine.connect() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS probe_{suffix}"))
'''
    anchors = [f.anchor for f in found(tmp_path, {"app/db.py": code}, "CFG008")]
    assert anchors == ["sql:probe_by:suffix"]  # the parameter still is; the uuid is not


GUARDED = '''
conn = op.get_bind()
columns = [c["name"] for c in sa.inspect(conn).get_columns("accounts")]
if "legacy_id" in columns:
    op.drop_column("accounts", "legacy_id")
if "state_new" in columns:
    op.alter_column("accounts", "state_new", new_column_name="state")
'''


def _chain(*upgrades: tuple[str, str]) -> dict[str, str]:
    files = {}
    for i, (up, down) in enumerate(upgrades, 1):
        files[f"migrations/versions/000{i}_r.py"] = revision(up, down, rev=f"000{i}", down=f"000{i - 1}" if i > 1 else None)
    return files


def test_a_guarded_repair_of_what_an_earlier_revision_took_away_is_no_mig002(tmp_path):
    create = ('op.create_table("accounts", sa.Column("id", sa.Integer, primary_key=True), sa.Column("legacy_id", sa.Integer), '
              'sa.Column("state", sa.String(10)))', 'op.drop_table("accounts")')
    move = ('op.drop_column("accounts", "legacy_id")\nop.add_column("accounts", sa.Column("state_new", sa.String(20)))\n'
            'op.drop_column("accounts", "state")\nop.alter_column("accounts", "state_new", new_column_name="state")',
            'op.alter_column("accounts", "state", new_column_name="state_new")\n'
            'op.add_column("accounts", sa.Column("state", sa.String(10)))\n'
            'op.drop_column("accounts", "state_new")\nop.add_column("accounts", sa.Column("legacy_id", sa.Integer))')
    anchors = [f.anchor for f in found(tmp_path / "a", _chain(create, move, (GUARDED, "op.execute('SELECT 1')")), "MIG002")]
    assert anchors == []
    # without the earlier revision that took it away, the guarded drop runs on a migrated database; the guarded rename
    # of state_new, which no revision ever makes, still never runs there
    anchors = [f.anchor for f in found(tmp_path / "b", _chain(create, (GUARDED, "op.execute('SELECT 1')")), "MIG002")]
    assert anchors == ["migration:0002:drop_column:accounts:legacy_id"]


def test_a_token_stored_as_the_hash_the_code_names_is_no_mod008(tmp_path):
    models = HEADER + '''
import hashlib, secrets


class SessionToken(Base):
    __tablename__ = "session_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64))


def generate_token():
    token = secrets.token_urlsafe()
    return token, hashlib.sha256(token.encode()).hexdigest()


def start(db):
    token, token_hash = generate_token()
    db.add(SessionToken(token=token_hash))
    return token


def find(db, token):
    return db.query(SessionToken).filter(SessionToken.token == token).first()
'''
    assert found(tmp_path / "a", {"app/models.py": models}, "MOD008") == []
    raw = models.replace("SessionToken(token=token_hash)", "SessionToken(token=token)")
    (f,) = found(tmp_path / "b", {"app/models.py": raw}, "MOD008")
    assert f.anchor == "table:session_tokens.token"


def test_an_audit_log_whose_actor_is_an_admin_or_an_api_key_has_an_actor(tmp_path):
    models = HEADER + '''

class AuditLog(Base):
    __tablename__ = "audit_logs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    admin_user_id: Mapped[int | None] = mapped_column(Integer)
    admin_api_key_id: Mapped[int | None] = mapped_column(Integer)
'''
    (f,) = [f for f in found(tmp_path, {"app/models.py": models}, "MOD006") if f.anchor == "table:audit_logs:fields:4.2"]
    assert (f.message, f.severity) == ("AuditLog (audit_logs) has no IP address", Severity.INFO)


def test_an_audit_log_that_names_its_actor_by_name_has_an_actor(tmp_path):
    """`creator_name`, filled by a trigger from the session's user: the actor is recorded, only the IP address is
    missing (info); with neither, a warning names both."""
    models = HEADER + '''

class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref_table: Mapped[str] = mapped_column(String(64))
    creator_name: Mapped[str | None] = mapped_column(String(255))
'''
    (f,) = [f for f in found(tmp_path, {"app/models.py": models}, "MOD006") if f.anchor == "table:audit_log:fields:4.2"]
    assert (f.message, f.severity) == ("AuditEntry (audit_log) has no IP address", Severity.INFO)
    bare = models.replace("creator_name", "note")
    (f,) = [f for f in found(tmp_path / "bare", {"app/models.py": bare}, "MOD006") if f.anchor == "table:audit_log:fields:4.2"]
    assert (f.message, f.severity) == ("AuditEntry (audit_log) has no actor, IP address", Severity.WARNING)


def test_ids_no_foreign_key_could_or_should_be_on_are_no_int002(tmp_path):
    models = HEADER + '''

class Bug(Base):
    __tablename__ = "bugs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bug_id: Mapped[int] = mapped_column(Integer, unique=True)  # the tracker's number


class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bug_id: Mapped[int] = mapped_column(ForeignKey("bugs.bug_id"))


class TemplateStep(Base):
    __tablename__ = "template_steps"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class TemplateSetting(Base):
    __tablename__ = "template_settings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    step_id: Mapped[int] = mapped_column(Integer)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class AuditLog(Base):
    __tablename__ = "audit_logs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_user_id: Mapped[int | None] = mapped_column(Integer)
    subject_user: Mapped[User | None] = relationship(
        "User",
        # a relationship, but without a foreign key constraint: logs outlive users
        foreign_keys="AuditLog.subject_user_id",
        primaryjoin="AuditLog.subject_user_id == User.id",
    )
'''.replace("from sqlalchemy.orm import", "from sqlalchemy.orm import relationship,")
    anchors = [f.anchor for f in found(tmp_path / "a", {"app/models.py": models}, "INT002")]
    assert anchors == []
    said = models.replace("# a relationship, but without a foreign key constraint: logs outlive users\n", "")
    anchors = [f.anchor for f in found(tmp_path / "b", {"app/models.py": said}, "INT002")]
    assert anchors == ["table:audit_logs.subject_user_id"]  # without the comment, the relationship makes it a reference


def test_rows_made_through_a_class_picked_at_run_time_make_the_table_grow(tmp_path):
    from analyzers.engine import scan
    from analyzers.rules.growth import growth

    models = HEADER + '''

class Build(Base):
    __tablename__ = "builds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    __mapper_args__ = {"polymorphic_on": kind, "polymorphic_identity": "base"}


class RpmBuild(Build):
    __mapper_args__ = {"polymorphic_identity": "rpm"}


class Release(Base):
    __tablename__ = "releases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
'''
    service = '''
from app.models import Build, RpmBuild, Release, pick_class


def add_build(db, info):
    build_class = pick_class(Build, info)
    build = build_class(kind="x")
    db.add(build)


def add_rpm(db):
    db.add(RpmBuild(kind="rpm"))
'''
    root = tmp_path / "repo"
    for rel, text in {"app/models.py": models, "app/service.py": service}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    facts = scan(root).facts
    adds = growth(facts, facts.tables["builds"]).adds
    assert sorted(s.start for s in adds) == [7, 12]  # `build_class(...)` and `RpmBuild(...)`
    assert growth(facts, facts.tables["releases"]).adds == ()


def test_an_mfa_secret_the_application_encrypts_in_code_is_info(tmp_path):
    models = HEADER + '''

class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    totp_secret: Mapped[str | None] = mapped_column(String(255))
'''
    totp = '''
from passlib.totp import TOTP

SECRET_TOTP = TOTP.using(secrets={"1": "key"})


class Totp:
    def generate_totp_secret(self) -> str:
        return SECRET_TOTP.new().to_json(encrypt=True)
'''
    (f,) = found(tmp_path / "a", {"app/models.py": models, "app/totp.py": totp}, "MOD005")
    assert f.severity.value == "info" and f.anchor == "table:users.totp_secret"
    assert "the application encrypts MFA secrets in code (app/totp.py:9)" in f.message
    (f,) = found(tmp_path / "b", {"app/models.py": models}, "MOD005")
    assert "unless the application encrypts it before writing" in f.message  # no encryption seen: the plain claim


def test_a_column_wrapped_by_a_call_of_the_project_is_mapped(tmp_path):
    models = HEADER + '''
from app.roles import immutable, with_roles


class Message(Base):
    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[str] = immutable(mapped_column(String(200), nullable=False))
    sender: Mapped[str] = with_roles(mapped_column(String(80), nullable=False), read={"all"})
'''
    create = ('op.create_table("messages", sa.Column("id", sa.Integer, primary_key=True), '
              'sa.Column("body", sa.String(200), nullable=False), sa.Column("sender", sa.String(80), nullable=False))')
    files = {"app/models.py": models, "app/roles.py": "def immutable(c):\n    return c\n\n\ndef with_roles(c, **kw):\n    return c\n",
             "migrations/versions/0001_r.py": revision(create)}
    assert found(tmp_path, files, "MIG006") == []  # not "NOT NULL ... the model does not map it"


def test_a_column_wrapped_in_typing_cast_is_mapped(tmp_path):
    models = HEADER.replace("from sqlalchemy import", "from typing import cast\nfrom sqlalchemy import Column,") + '''

class Drone(Base):
    __tablename__ = "drones"
    id = cast(int, Column(Integer, primary_key=True))
    model = cast(str, Column(String(80), nullable=False))
'''
    create = ('op.create_table("drones", sa.Column("id", sa.Integer, primary_key=True), '
              'sa.Column("model", sa.String(80), nullable=False))')
    files = {"app/models.py": models, "migrations/versions/0001_r.py": revision(create)}
    assert found(tmp_path, files, "MIG006") == []  # `cast` is for the type checker: the column is mapped


def test_a_setting_every_new_connection_gets_is_no_leak_on_checkin(tmp_path):
    db = '''
from sqlalchemy import create_engine, event

engine = create_engine("postgresql://app@db/app", pool_size=5, pool_pre_ping=True)


@event.listens_for(engine, "connect")
def on_connect(dbapi_connection, record):
    cursor = dbapi_connection.cursor()
    cursor.execute("SET TIME ZONE 'UTC'")
    cursor.close()
'''
    assert found(tmp_path / "a", {"app/db.py": db}, "CFG004") == []
    per_request = db + '''

def handler(session):
    session.execute(text("SET statement_timeout = 5000"))
'''
    (f,) = found(tmp_path / "b", {"app/db.py": per_request.replace("import create_engine, event", "import create_engine, event, text")}, "CFG004")
    assert f.anchor == "pool:checkin" and "SET statement_timeout" in f.message


LIBRARY_BASES = '''
from advanced_alchemy.base import SQLQuery
from billing_kit.orm import LedgerBase
from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column


class Model(SQLQuery):
    __abstract__ = True


class Account(Model):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))


class Entry(LedgerBase):
    __tablename__ = "entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
'''


def test_models_over_a_library_base_are_tables_and_an_unreadable_base_is_named(tmp_path):
    from analyzers.engine import scan

    (tmp_path / "app").mkdir()
    (tmp_path / "app/models.py").write_text(LIBRARY_BASES)
    tables = scan(tmp_path).facts.tables
    assert set(tables) == {"accounts", "entries"}  # Advanced Alchemy's SQLQuery is a declarative base
    assert tables["accounts"].unknown_bases == ()  # its stub says it brings no columns
    assert tables["entries"].unknown_bases == ("billing_kit.orm.LedgerBase",)  # may add columns: rules hold back


CONVENTION_MODELS = '''
from sqlalchemy import ForeignKey, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention={"fk": "%(table_name)s_%(column_0_name)s_%(referred_table_name)s_fkey"})


class Shelf(Base):
    __tablename__ = "shelves"
    id: Mapped[int] = mapped_column(primary_key=True)


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    shelf_id: Mapped[int] = mapped_column(ForeignKey("shelves.id", ondelete="CASCADE"))
'''


def test_a_foreign_key_created_unnamed_is_dropped_by_the_name_the_naming_convention_gave_it(tmp_path):
    create = ('op.create_table("shelves", sa.Column("id", sa.Integer, primary_key=True))\n'
              'op.create_table("books", sa.Column("id", sa.Integer, primary_key=True), sa.Column("shelf_id", sa.Integer),\n'
              '                sa.ForeignKeyConstraint(["shelf_id"], ["shelves.id"], ondelete="SET NULL"))', "pass")
    cascade = ('op.alter_column("books", "shelf_id", existing_type=sa.Integer(), nullable=False)\n'
               'op.drop_constraint("books_shelf_id_shelves_fkey", "books", type_="foreignkey")\n'
               'op.create_foreign_key("books_shelf_id_shelves_fkey", "books", "shelves", ["shelf_id"], ["id"], ondelete="CASCADE")',
               "pass")
    files = {"app/models.py": CONVENTION_MODELS, **_chain(create, cascade)}
    assert found(tmp_path / "a", files, "INT009") == []  # the SET NULL key is gone with the drop
    kept = (cascade[0].replace("shelves_fkey\", \"books\"", "shelves_fk\", \"books\""), "pass")  # a name matching nothing
    assert [f.anchor for f in found(tmp_path / "b", {**files, **_chain(create, kept)}, "INT009")] == ["table:books.shelf_id:set-null"]


def test_a_guarded_drop_of_a_table_no_revision_made_before_recreating_it_is_no_mig002(tmp_path):
    """meltano: `if "state" in inspector.get_table_names(): op.drop_table("state")` then `op.create_table("state", ...)`,
    where no earlier revision made `state` (an old version of a revision once did): a repair; the downgrade that drops
    the new table undoes all the revision did on a migrated database. Unguarded, the drop stays a finding."""
    create = ('op.create_table("accounts", sa.Column("id", sa.Integer, primary_key=True))', 'op.drop_table("accounts")')
    guarded = ('conn = op.get_bind()\nif "state" in sa.inspect(conn).get_table_names():\n    op.drop_table("state")\n'
               'op.create_table("state", sa.Column("id", sa.Integer, primary_key=True))')
    assert found(tmp_path / "a", _chain(create, (guarded, 'op.drop_table("state")')), "MIG002") == []
    plain = 'op.drop_table("state")\nop.create_table("state", sa.Column("id", sa.Integer, primary_key=True))'
    (f,) = found(tmp_path / "b", _chain(create, (plain, 'op.drop_table("state")')), "MIG002")
    assert f.anchor.startswith("migration:0002:drop_table:state")


def test_a_session_whose_token_expires_has_an_expiry(tmp_path):
    """keylime's sessions: `token_expires_at` and `nonce_expires_at`, no bare `expires_at`: the session expires."""
    models = HEADER + """
class Session(Base):
    __tablename__ = "sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    token_expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
"""
    assert [f.anchor for f in found(tmp_path, {"app/models.py": models}, "MOD006") if "sessions" in f.anchor] == []
    bare = models.replace("    token_expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))\n", "")
    assert [f.anchor for f in found(tmp_path / "b", {"app/models.py": bare}, "MOD006") if "sessions" in f.anchor]
    named = models.replace("token_expires_at", "expiration_time")  # tiled's sessions
    assert [f.anchor for f in found(tmp_path / "c", {"app/models.py": named}, "MOD006") if "sessions" in f.anchor] == []

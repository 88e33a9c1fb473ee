"""Migration findings that must hold on backends nobody tuned for (issue 7): the model against the schema
the migrations build (MIG006), the locks a revision takes (MIG007-MIG014) and the inspector guards (MIG018),
each class of wrong finding rebuilt as a small repository of our own."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.growing import found_growing
from tests.test_precision import HEADER, found, revision

NOTES = HEADER + """
from sqlalchemy import Boolean, Column, Index, Text


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[str] = mapped_column(Text)
"""

CREATE_NOTES = """
op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True), sa.Column("payload", sa.JSON(), nullable=False))
"""


def test_a_type_changed_by_raw_sql_is_replayed_like_alter_column(tmp_path):
    """onyx: a column renamed by op.alter_column, then `ALTER COLUMN ... TYPE TEXT USING` in op.execute."""
    first = revision(CREATE_NOTES)
    second = revision('op.alter_column("notes", "payload", new_column_name="body")\n'
                      'op.execute("ALTER TABLE notes ALTER COLUMN body TYPE TEXT USING body::text")', rev="0002", down="0001")
    files = {"app/models.py": NOTES, "migrations/versions/0001_a.py": first, "migrations/versions/0002_b.py": second}
    assert [f.anchor for f in found(tmp_path, files, "MIG006")] == []
    # the same SQL changing it to another kind of type is drift, pointed at the statement
    files["migrations/versions/0002_b.py"] = second.replace("TYPE TEXT USING body::text", "TYPE integer USING 0")
    (f,) = found(tmp_path / "int", files, "MIG006")
    assert f.anchor == "drift:type:notes.body" and "0002_b.py" in f.message


def test_an_alter_table_form_the_replay_does_not_follow_holds_back_the_column_claim(tmp_path):
    first = revision(CREATE_NOTES.replace('"payload"', '"body"'))
    second = revision('op.execute("ALTER TABLE notes ALTER COLUMN body SET STATISTICS 100, ALTER COLUMN body TYPE jsonb")',
                      rev="0002", down="0001")
    files = {"app/models.py": NOTES, "migrations/versions/0001_a.py": first, "migrations/versions/0002_b.py": second}
    assert [f.anchor for f in found(tmp_path, files, "MIG006")] == []


def test_raw_sql_that_drops_not_null_is_replayed(tmp_path):
    model = NOTES.replace("body: Mapped[str] = mapped_column(Text)", "body: Mapped[str | None] = mapped_column(Text)")
    first = revision(CREATE_NOTES.replace('"payload", sa.JSON()', '"body", sa.Text()'))
    second = revision('op.execute("ALTER TABLE notes ALTER COLUMN body DROP NOT NULL")', rev="0002", down="0001")
    files = {"app/models.py": model, "migrations/versions/0001_a.py": first}
    assert [f.anchor for f in found(tmp_path, files, "MIG006")] == ["drift:nullable:notes"]
    files["migrations/versions/0002_b.py"] = second
    assert [f.anchor for f in found(tmp_path / "dropped", files, "MIG006")] == []


def test_a_partial_unique_index_never_built_beside_a_stricter_unique_constraint(tmp_path):
    """onyx: the model's unique index on (keyword, active) WHERE active; the migrations' UNIQUE (keyword)."""
    model = HEADER + """
from sqlalchemy import Boolean, Index


class Answer(Base):
    __tablename__ = "answers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    keyword: Mapped[str] = mapped_column(String)
    active: Mapped[bool] = mapped_column(Boolean)
    __table_args__ = (Index("uq_keyword_active", keyword, active, unique=True, postgresql_where=(active == True)),)
"""
    rev = revision('op.create_table("answers", sa.Column("id", sa.Integer, primary_key=True), '
                   'sa.Column("keyword", sa.String(), nullable=False), sa.Column("active", sa.Boolean(), nullable=False), '
                   'sa.UniqueConstraint("keyword"))')
    (f,) = found(tmp_path, {"app/models.py": model, "migrations/versions/0001_a.py": rev}, "MIG006")
    assert f.anchor == "drift:keys:answers"
    assert "stricter uniqueness" in f.message and "same keyword even when its active differs" in f.message
    assert "does not enforce" not in f.message


def test_a_unique_column_the_migrations_made_unique_per_tenant_says_so(tmp_path):
    """keep: unique=True on one column; the migrations replaced it by UNIQUE (tenant_id, fingerprint)."""
    model = HEADER + """
class Enrichment(Base):
    __tablename__ = "enrichments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String)
    fingerprint: Mapped[str] = mapped_column(String, unique=True)
"""
    rev = revision('op.create_table("enrichments", sa.Column("id", sa.Integer, primary_key=True), '
                   'sa.Column("tenant_id", sa.String(), nullable=False), sa.Column("fingerprint", sa.String(), nullable=False), '
                   'sa.UniqueConstraint("tenant_id", "fingerprint"))')
    (f,) = found(tmp_path, {"app/models.py": model, "migrations/versions/0001_a.py": rev}, "MIG006")
    assert "accepts rows the model's key forbids (the same fingerprint under another tenant_id); one side is stale" in f.message


def test_a_declared_attr_column_of_a_mixin_is_nullable_whatever_its_return_annotation(tmp_path):
    """fides: `@declared_attr def x(cls) -> Column: return Column(String, ForeignKey(...))` is nullable."""
    model = HEADER + """
from sqlalchemy import Column
from sqlalchemy.orm import declared_attr


class Tracked:
    @declared_attr
    def source_id(cls) -> Column:
        return Column(String, ForeignKey("sources.id"), index=True)


class Source(Base):
    __tablename__ = "sources"
    id: Mapped[str] = mapped_column(String, primary_key=True)


class Event(Tracked, Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    note: Mapped[str] = Column(String)
"""
    rev = revision('op.create_table("sources", sa.Column("id", sa.String(), primary_key=True))\n'
                   'op.create_table("events", sa.Column("id", sa.Integer, primary_key=True), '
                   'sa.Column("source_id", sa.String(), sa.ForeignKey("sources.id"), nullable=True, index=True), '
                   'sa.Column("note", sa.String(), nullable=True))')
    assert found(tmp_path, {"app/models.py": model, "migrations/versions/0001_a.py": rev}, "MIG006") == []


def test_a_model_whose_table_a_later_revision_dropped(tmp_path):
    """onyx: the table was created, then dropped; the model stayed behind."""
    model = NOTES + """

class Milestone(Base):
    __tablename__ = "milestones"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
"""
    first = revision(CREATE_NOTES.replace('"payload", sa.JSON()', '"body", sa.Text()')
                     + 'op.create_table("milestones", sa.Column("id", sa.Integer, primary_key=True))')
    second = revision('op.drop_table("milestones")', rev="0002", down="0001")
    files = {"app/models.py": model, "migrations/versions/0001_a.py": first, "migrations/versions/0002_b.py": second}
    (f,) = found(tmp_path, files, "MIG006")
    assert f.anchor == "drift:table:milestones" and f.severity == Severity.INFO
    assert "revision 0002 drops" in f.message and "stale model" in f.message
    files["app/track.py"] = "from app.models import Milestone  # count the milestones\n\ndef count(s):\n    return s.query(Milestone).count()\n"
    (f,) = found(tmp_path / "used", files, "MIG006")
    assert f.severity == Severity.WARNING and "app/track.py:1 and 1 more" in f.message


# -- locks: which step is blamed, and when they block traffic at all -----------------------------------------

ORDERS = revision('op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True), '
                  'sa.Column("total", sa.Integer), sa.Column("note", sa.String(50)))', 'op.drop_table("orders")')


def _later(upgrade: str, **files: str) -> dict[str, str]:
    return {"migrations/versions/0001_orders.py": ORDERS,
            "migrations/versions/0002_change.py": revision(upgrade, rev="0002", down="0001"), **files}


def test_steps_under_a_rewrite_are_named_by_the_rewrite_not_blamed_on_their_own(tmp_path):
    """mealie: a column's type changed (the table rewritten), then an index built under the same lock."""
    files = _later('op.alter_column("orders", "total", type_=sa.Float(), existing_type=sa.Integer())\n'
                   'op.create_index("ix_orders_total", "orders", ["total"])')
    (rewrite,) = found(tmp_path, files, "MIG011")
    assert "under the same lock it also builds index ix_orders_total on line 8" in rewrite.message
    assert found(tmp_path, files, "MIG007") == []


def test_a_statement_repeated_by_a_loop_is_one_location(tmp_path):
    """fides: the same UPDATE run once per label of a list: not '10 more like it' all on one line."""
    files = _later('op.add_column("orders", sa.Column("label", sa.String(20)))\n'
                   'for label in ("a", "b", "c"):\n'
                   '    op.execute(f"UPDATE orders SET label = \'{label}\' WHERE note = \'{label}\'")')
    (backfill,) = found(tmp_path, files, "MIG013")
    assert "more like it" not in backfill.message and backfill.related == ()


def test_an_index_an_inspector_guard_may_skip_is_not_said_to_run_for_certain(tmp_path):
    """CleanWithSnapshot: built only where no index covers the column; a unique constraint's index may."""
    files = _later('insp = sa.inspect(op.get_bind())\n'
                   'if not any(i["column_names"] == ["total"] for i in insp.get_indexes("orders")):\n'
                   '    op.create_index("ix_orders_total", "orders", ["total"])')
    (index,) = found(tmp_path, files, "MIG007")
    assert index.severity == Severity.INFO and "runs only where that check finds it missing" in index.message
    # a check for the very index it builds: missing on every database the migrations built, so it runs
    files = _later('insp = sa.inspect(op.get_bind())\n'
                   'if "ix_orders_total" not in [i["name"] for i in insp.get_indexes("orders")]:\n'
                   '    op.create_index("ix_orders_total", "orders", ["total"])')
    (index,) = found(tmp_path / "by-name", files, "MIG007")
    assert index.severity == Severity.WARNING and "check" not in index.message


def test_migrations_run_by_the_entrypoint_before_the_server_are_said_so_and_info(tmp_path):
    """CTFd: `flask db upgrade` in docker-entrypoint.sh, then gunicorn."""
    index = 'op.create_index("ix_orders_total", "orders", ["total"])'
    (before,) = found(tmp_path, _later(index), "MIG007")
    assert before.severity == Severity.WARNING and "start-up" not in before.message
    script = "#!/bin/sh\nset -e\nalembic upgrade head\nexec gunicorn app:app --workers 2\n"
    (f,) = found(tmp_path / "entry", _later(index, **{"docker-entrypoint.sh": script}), "MIG007")
    assert f.severity == Severity.INFO and f.anchor == before.anchor
    assert ("this project upgrades its database at start-up, before serving (`alembic upgrade` before gunicorn starts, "
            "docker-entrypoint.sh:3): the lock blocks traffic only where older instances still serve") in f.message
    assert any(r.location.path == "docker-entrypoint.sh" for r in f.related)
    # a test or CI script does not say how the product is deployed
    (ci,) = found(tmp_path / "ci", _later(index, **{"tests/run.sh": script}), "MIG007")
    assert ci.severity == Severity.WARNING


def test_migrations_run_from_the_apps_lifespan_are_said_so(tmp_path):
    """mealie: the FastAPI lifespan calls init_db.main(), which runs alembic's command.upgrade."""
    init_db = ("from alembic import command\nfrom alembic.config import Config\n\n\ndef main():\n"
               "    command.upgrade(Config('alembic.ini'), 'head')\n")
    app = ("from contextlib import asynccontextmanager\nfrom fastapi import FastAPI\nimport app.db.init_db as init_db\n\n\n"
           "@asynccontextmanager\nasync def lifespan(_):\n    init_db.main()\n    yield\n\n\napp = FastAPI(lifespan=lifespan)\n")
    index = 'op.create_index("ix_orders_total", "orders", ["total"])'
    files = _later(index, **{"app/db/init_db.py": init_db, "app/main.py": app})
    (f,) = found(tmp_path, files, "MIG007")
    assert f.severity == Severity.INFO
    assert "(alembic's command.upgrade, run from lifespan, app/db/init_db.py:6)" in f.message
    # the same upgrade behind a command-line command is not start-up
    files["app/main.py"] = app.replace("async def lifespan(_):", "async def upgrade_command(_):")
    (cli,) = found(tmp_path / "cli", files, "MIG007")
    assert cli.severity == Severity.WARNING


# -- inspector guards and downgrades ---------------------------------------------------------------------------


def test_a_guard_on_tables_an_earlier_revision_made_matters_only_on_a_database_without_them(tmp_path):
    """CleanWithSnapshot: RLS applied to each table only if the inspector lists it; ancestors create them all."""
    guarded = ('existing = sa.inspect(op.get_bind()).get_table_names()\n'
               'for table in ("orders",):\n'
               '    if table in existing:\n'
               '        op.execute(f"ALTER TABLE {table} ADD COLUMN flagged boolean")\n')
    (f,) = found(tmp_path, _later(guarded), "MIG018")
    assert f.severity == Severity.INFO and f.anchor == "migration:0002:inspector"
    assert "an earlier revision makes everything it asks about (orders)" in f.message
    assert ("on a database built by the migrations the check always comes out the same; the other path serves only a "
            "database that differs from what they build (made another way or changed by hand; on PostgreSQL its steps "
            "run in one transaction, so a failed run of it leaves none of them behind), and whether such databases "
            "still exist only the project can say") in f.message
    assert "may have different schemas" not in f.message
    (other,) = found(tmp_path / "other", _later(guarded.replace('("orders",)', '("legacy_orders",)')), "MIG018")
    assert ("two databases at this revision may have different schemas, though on a database built by the migrations each "
            "check always comes out the same way; they differ only where one does not match what the migrations build "
            "(made another way or changed by hand; on PostgreSQL its steps run in one transaction") in other.message
    # a revision that commits part of its work: a failed run may leave a half-migrated database
    (half,) = found(tmp_path / "half", _later('op.execute("COMMIT")\n' + guarded.replace('("orders",)', '("legacy_orders",)')), "MIG018")
    assert "(half-migrated, made another way, or changed by hand)" in half.message


def test_a_guard_on_what_no_earlier_revision_makes_always_runs_its_steps_on_a_chain_built_database(tmp_path):
    """keep combined_commentmention: the table and its index made only if the table is not there yet."""
    guarded = ('if "refunds" not in sa.inspect(op.get_bind()).get_table_names():\n'
               '    op.create_table("refunds", sa.Column("id", sa.Integer, primary_key=True), sa.Column("order_id", sa.Integer))\n'
               '    op.create_index("ix_refunds_order_id", "refunds", ["order_id"])\n')
    (f,) = found(tmp_path, _later(guarded), "MIG018")
    assert f.anchor == "migration:0002:inspector" and f.severity == Severity.INFO
    assert ("no earlier revision makes what it asks about (refunds): on a database built by the migrations the check "
            "always finds it missing and the step(s) run; the other path, which skips them, serves only a database "
            "that differs from what they build") in f.message


def test_an_explained_empty_downgrade_of_an_upgrade_that_only_restores_what_is_missing(tmp_path):
    """keep: an index made again IF NOT EXISTS, one statement per dialect; the downgrade says why it is empty."""
    upgrade = ('if op.get_bind().dialect.name == "sqlite":\n'
               '    op.execute("CREATE INDEX IF NOT EXISTS ix_orders_total ON orders (total)")\n'
               'elif op.get_bind().dialect.name == "postgresql":\n'
               '    op.execute("CREATE INDEX IF NOT EXISTS ix_orders_total ON orders (total)")')
    files = {"migrations/versions/0001_orders.py": ORDERS,
             "migrations/versions/0002_restore.py": revision(upgrade, "pass  # nothing to undo: an earlier revision made it",
                                                             rev="0002", down="0001")}
    assert found(tmp_path, files, "MIG001") == []
    files["migrations/versions/0002_restore.py"] = revision(upgrade.replace(" IF NOT EXISTS", ""),
                                                            "pass  # nothing to undo", rev="0002", down="0001")
    (f,) = found(tmp_path / "plain", files, "MIG001")
    assert f.severity == Severity.INFO and "its 1 operation(s) are not rolled back" in f.message



def test_an_entrypoint_upgrades_only_the_tree_of_its_alembic_ini_section(tmp_path):
    """onyx: `alembic upgrade head` at start-up runs [alembic]; the tenants' tree ([tenants]) is run otherwise."""
    index = 'op.create_index("ix_orders_total", "orders", ["total"])'
    files = _later(index, **{
        "alembic.ini": "[alembic]\nscript_location = migrations\n\n[tenants]\nscript_location = tenant_migrations\n",
        "docker-entrypoint.sh": "#!/bin/sh\nalembic upgrade head && uvicorn app:app\n",
        "tenant_migrations/versions/t001_orders.py": ORDERS.replace('"0001"', '"t001"'),
        "tenant_migrations/versions/t002_change.py": revision(index, rev="t002", down="t001"),
    })
    by_tree = {f.location.path.split("/")[0]: f for f in found(tmp_path, files, "MIG007")}
    assert by_tree["migrations"].severity == Severity.INFO and "start-up" in by_tree["migrations"].message
    assert by_tree["tenant_migrations"].severity == Severity.WARNING and "start-up" not in by_tree["tenant_migrations"].message


def test_a_branch_a_helper_says_is_another_databases_is_not_postgresqls(tmp_path):
    """mealie: `if is_postgres(): op.alter_column(...)` else a SQLite batch of the same change: one rewrite."""
    upgrade = ('if is_postgres():\n'
               '    op.alter_column("orders", "total", type_=sa.Float(), existing_type=sa.Integer())\n'
               'else:\n'
               '    with op.batch_alter_table("orders") as batch_op:\n'
               '        batch_op.alter_column("total", type_=sa.Float(), existing_type=sa.Integer())')
    files = _later(upgrade)
    files["migrations/versions/0002_change.py"] = files["migrations/versions/0002_change.py"].replace(
        "def upgrade():", 'def is_postgres():\n    return op.get_context().dialect.name == "postgresql"\ndef upgrade():')
    (f,) = found(tmp_path, files, "MIG011")
    assert "more like it" not in f.message


SHELVES = """
op.create_table("shelves", sa.Column("id", sa.Integer, primary_key=True))
op.create_table("books", sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("shelf_id", sa.Integer, sa.ForeignKey("shelves.id"), nullable=False),
                sa.UniqueConstraint("shelf_id", name="uq_books_shelf"))
"""

GUARDED_REPAIR = '''
from alembic import op
import sqlalchemy as sa
revision = "0002"
down_revision = "0001"
TABLE = "books"


def _has_shelf_fk(inspector):
    for fk in inspector.get_foreign_keys(TABLE):
        if set(fk.get("constrained_columns") or ()) == {"shelf_id"} and fk.get("referred_table") == "shelves":
            return True
    return False


def _has_shelf_index(inspector):
    return any(set(ix.get("column_names") or ()) == {"shelf_id"} for ix in inspector.get_indexes(TABLE))


def upgrade():
    inspector = sa.inspect(op.get_bind())
    if not _has_shelf_fk(inspector):
        op.create_foreign_key("fk_books_shelf_id", TABLE, "shelves", ["shelf_id"], ["id"], ondelete="CASCADE")
    if not _has_shelf_index(inspector):
        op.create_index("ix_books_shelf_id", TABLE, ["shelf_id"])


def downgrade():
    pass
'''


def test_a_guarded_create_that_a_chain_built_database_never_runs_holds_no_lock(tmp_path):
    """CleanWithSnapshot d9e8f7a6b5c4: an earlier revision made the foreign key (without ON DELETE) and the
    unique constraint whose index get_indexes also returns, and the helpers look for them by columns only."""
    files = {"migrations/versions/0001_a.py": revision(SHELVES), "migrations/versions/0002_b.py": GUARDED_REPAIR}
    findings = found(tmp_path, files)
    assert not [f for f in findings if f.rule_id in ("MIG007", "MIG010", "MIG014")]
    (f,) = [f for f in findings if f.rule_id == "MIG018"]
    assert f.anchor == "migration:0002:inspector" and f.severity == Severity.INFO
    assert ("on a database built by the migrations its check finds the foreign key on books (shelf_id) to shelves that "
            "revision 0001 made, so create_foreign_key on line 23 never runs there and its ondelete='CASCADE' is never "
            "applied (that foreign key has no ON DELETE action)") in f.message
    assert "decides 1 step by" in f.message  # the index: the unique constraint's index is there, as good as the one it would build
    assert [(r.location.path, r.location.start_line, r.note) for r in f.related] == [
        ("migrations/versions/0001_a.py", 9, "the foreign key on books (shelf_id) to shelves revision 0001 made")]
    # the earlier foreign key already cascades: both outcomes are the same schema
    cascading = {**files, "migrations/versions/0001_a.py": revision(SHELVES.replace('"shelves.id")', '"shelves.id", ondelete="CASCADE")'))}
    assert not [f for f in found(tmp_path / "cascading", cascading) if f.rule_id in ("MIG007", "MIG010", "MIG018")]
    # a guard that also asks for the step's own name finds nothing the chain made: the step runs, with its lock
    named = {**files, "migrations/versions/0002_b.py": GUARDED_REPAIR.replace(
        '== {"shelf_id"} and fk', '== {"shelf_id"} and fk.get("name") == "fk_books_shelf_id" and fk')}
    (lock,) = [f for f in found(tmp_path / "named", named) if f.rule_id == "MIG010"]
    assert lock.message.startswith("revision 0002 adds foreign key fk_books_shelf_id to books without NOT VALID")


def test_a_name_given_through_batch_op_f_is_read(tmp_path):
    """flaskbb af3f5579c84d: `batch_op.f("fk_...")` names the foreign key; the finding said '(unnamed)'."""
    second = revision('with op.batch_alter_table("books") as batch_op:\n'
                      '    batch_op.create_foreign_key(batch_op.f("fk_books_shelf_id_shelves"), "shelves", ["shelf_id"], ["id"])',
                      rev="0002", down="0001")
    first = revision(SHELVES.replace(', sa.ForeignKey("shelves.id")', ""))
    (f,) = found(tmp_path, {"migrations/versions/0001_a.py": first, "migrations/versions/0002_b.py": second}, "MIG010")
    assert f.message.startswith("revision 0002 adds foreign key fk_books_shelf_id_shelves to books without NOT VALID")
    assert f.anchor == "migration:0002:validate:books:fk_books_shelf_id_shelves"
    assert "MIG010 migration:0002:validate:books:None" in f.covers  # the anchor it had: saved decisions carry over


LOANS = 'op.create_table("loans", sa.Column("id", sa.Integer, primary_key=True), sa.Column("book_id", sa.Integer))'
STAGE_UUID = revision('''
columns = [c["name"] for c in sa.inspect(op.get_bind()).get_columns("loans")]
if "book_uuid" not in columns:
    op.add_column("loans", sa.Column("book_uuid", sa.Uuid()))
''', '''
columns = [c["name"] for c in sa.inspect(op.get_bind()).get_columns("loans")]
if "book_uuid" in columns:
    op.drop_column("loans", "book_uuid")
''', rev="0002", down="0001")
SWAP = revision('''
op.drop_column("loans", "book_id")
op.alter_column("loans", "book_uuid", new_column_name="book_id")
''', '''
op.add_column("loans", sa.Column("book_id_int", sa.Integer()))
op.drop_column("loans", "book_id")
op.alter_column("loans", "book_id_int", new_column_name="book_id")
''', rev="0003", down="0002")


def test_a_transitional_column_the_earlier_downgrade_drops_only_if_there_is_no_loss(tmp_path):
    """onyx 7cc3fcc116c1: the downgrade restores book_id by renaming a rebuilt column; the staging column
    it does not recreate is dropped by the revision that added it only where it is there."""
    files = {"migrations/versions/0001_a.py": revision(LOANS), "migrations/versions/0002_b.py": STAGE_UUID,
             "migrations/versions/0003_c.py": SWAP}
    assert [f.anchor for f in found(tmp_path, files, "MIG002")] == []
    # the revision that added it drops it whether it is there or not: that downgrade fails without it
    files["migrations/versions/0002_b.py"] = STAGE_UUID.replace('if "book_uuid" in columns:\n        op.drop_column', 'op.drop_column')
    (f,) = found(tmp_path / "unguarded", files, "MIG002")
    assert f.message == "revision 0003 renames loans.book_uuid to book_id but the downgrade does not rename it back"
    # a downgrade in between whose SQL uses it whether it is there or not fails without it
    files["migrations/versions/0002_b.py"] = STAGE_UUID.replace('def downgrade():\n', 'def downgrade():\n    op.execute("UPDATE loans SET book_uuid = NULL")\n')
    assert len(found(tmp_path / "sql", files, "MIG002")) == 1


def test_retiring_native_enums_needs_no_downgrade(tmp_path):
    """onyx 77d07dffae64: enum columns turned into strings, the types dropped IF EXISTS, downgrade `pass`;
    the models map the column as Enum(..., native_enum=False)."""
    model = HEADER + """
import enum
from sqlalchemy import Enum


class Mood(enum.Enum):
    HAPPY = "happy"


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mood: Mapped[Mood] = mapped_column(Enum(Mood, native_enum=False))
"""
    first = revision('op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True), '
                     'sa.Column("mood", sa.Enum("happy", name="mood")))', 'op.drop_table("notes")')
    second = revision('op.alter_column("notes", "mood", type_=sa.String)\nop.execute("DROP TYPE IF EXISTS mood")',
                      "pass  # we do not want native enums back", rev="0002", down="0001")
    files = {"app/models.py": model, "migrations/versions/0001_a.py": first, "migrations/versions/0002_b.py": second}
    assert [f.anchor for f in found(tmp_path, files, "MIG001")] == []
    # a model that still maps it as a native enum: the revision moves away from it, and cannot be rolled back
    files["app/models.py"] = model.replace(", native_enum=False", "")
    assert [f.anchor for f in found(tmp_path / "native", files, "MIG001")] == ["migration:0002:downgrade"]


def test_a_renamed_column_is_renamed_in_the_keys_that_hold_it(tmp_path):
    """onyx: a link table's primary key named the column by its name before op.alter_column renamed it."""
    models = HEADER + """
class Channel(Base):
    __tablename__ = "channels"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class Tag(Base):
    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class ChannelTag(Base):
    __tablename__ = "channel_tags"
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id"), primary_key=True)
"""
    first = revision("""
op.create_table("channels", sa.Column("id", sa.Integer, primary_key=True))
op.create_table("tags", sa.Column("id", sa.Integer, primary_key=True))
op.create_table("bot_tags", sa.Column("bot_id", sa.Integer, sa.ForeignKey("channels.id")),
                sa.Column("tag_id", sa.Integer, sa.ForeignKey("tags.id")), sa.PrimaryKeyConstraint("bot_id", "tag_id"))
""")
    second = revision('op.rename_table("bot_tags", "channel_tags")\n'
                      'op.alter_column("channel_tags", "bot_id", new_column_name="channel_id")', rev="0002", down="0001")
    files = {"app/models.py": models, "migrations/versions/0001_a.py": first, "migrations/versions/0002_b.py": second}
    (f,) = [f for f in found_growing(tmp_path, files, "PERF001") if f.anchor == "table:channel_tags.tag_id"]
    assert "(channel_id, tag_id)" in f.message and "bot_id" not in f.message
    assert [f.anchor for f in found_growing(tmp_path, files, "PERF001")] == ["table:channel_tags.tag_id"]


# -- issue 8: what the lock findings claim, and where they are noise ---------------------------------------------


def test_a_finding_for_several_tables_names_every_one():
    """lemur: one revision rebuilds the indexes of several tables; the finding led with the first, a small one."""
    from analyzers.examples import facts_from_sources
    from analyzers.rules.s03_migration_safety import IndexWithoutConcurrently, later

    files = later('op.create_index("ix_customers_id", "customers", ["id"])\n'
                  'op.create_index("ix_orders_total", "orders", ["total"])\n'
                  'op.create_index("ix_orders_note", "orders", ["note"])')
    (f,) = IndexWithoutConcurrently(facts_from_sources(files)).check()
    assert f.anchor == "migration:0002:index:customers:ix_customers_id"
    assert f.message.endswith("(and 2 more like it in this revision, on orders)")
    # all on one table: nothing more to name
    (one,) = IndexWithoutConcurrently(facts_from_sources(later('op.create_index("ix_orders_total", "orders", ["total"])\n'
                                                               'op.create_index("ix_orders_note", "orders", ["note"])'))).check()
    assert one.message.endswith("(and 1 more like it in this revision)")


def test_a_constraint_checked_under_a_lock_an_earlier_step_took_is_advised_out_of_that_transaction(tmp_path):
    """flaskbb, indico: the old constraint dropped, the new one added in the same transaction: NOT VALID alone
    would not help while the drop's lock is held; validating in a revision of its own does."""
    files = _later('op.drop_constraint("orders_total_check", "orders", type_="check")\n'
                   'op.create_check_constraint("orders_total_check", "orders", "total >= 0")')
    (f,) = found(tmp_path, files, "MIG010")
    assert f.anchor == "migration:0002:validate:orders:orders_total_check"
    assert ("adds CHECK orders_total_check to orders under the ACCESS EXCLUSIVE lock its drop_constraint on line 7 took, "
            "held until commit") in f.message
    assert ("added NOT VALID here and validated (VALIDATE CONSTRAINT) in a revision of its own, the scan would run after "
            "this lock ends") in f.message
    assert "without NOT VALID" not in f.message
    (alone,) = found(tmp_path / "alone", _later('op.create_check_constraint("orders_total_check", "orders", "total >= 0")'), "MIG010")
    assert "without NOT VALID" in alone.message and "revision of its own" not in alone.message


def test_a_revision_that_replaces_a_tables_primary_key_gets_no_lock_findings_on_it(tmp_path):
    """full-stack-fastapi-template: integer ids swapped for UUIDs in one revision: old code cannot run on either
    side of it, so how long it locks the table adds nothing."""
    swap = ('op.add_column("orders", sa.Column("new_id", sa.Uuid()))\n'
            'op.execute("UPDATE orders SET new_id = gen_random_uuid()")\n'
            '{drop}'
            'op.create_index("ix_orders_total", "orders", ["total"])\n')
    files = _later(swap.format(drop='op.drop_column("orders", "id")\nop.alter_column("orders", "new_id", new_column_name="id")\n'
                                    'op.create_primary_key("orders_pkey", "orders", ["id"])\n'))
    assert [f.rule_id for f in found(tmp_path, files) if f.rule_id in ("MIG007", "MIG010", "MIG011", "MIG013")] == []
    assert [f.anchor for f in found(tmp_path, files, "MIG012")] == ["migration:0002:destructive:orders.id"]
    # the primary key's constraint dropped by name and type: the same
    files = _later(swap.format(drop='op.drop_constraint("orders_pkey", "orders", type_="primary")\n'))
    assert [f.rule_id for f in found(tmp_path / "constraint", files) if f.rule_id in ("MIG007", "MIG013")] == []
    # another column dropped: the lock findings stand
    files = _later(swap.format(drop='op.drop_column("orders", "note")\n'))
    assert sorted(f.rule_id for f in found(tmp_path / "note", files) if f.rule_id in ("MIG007", "MIG013")) == ["MIG013"]


def test_a_dropped_table_no_code_names_any_more_is_said_so(tmp_path):
    """polar: the table's model deleted in the same change; only a comment still names the table."""
    model = NOTES + '\n# notes used to point at pledges\n'
    drop = 'op.drop_table("pledges")'
    files = {"app/models.py": model,
             "migrations/versions/0001_a.py": revision('op.create_table("pledges", sa.Column("id", sa.Integer, primary_key=True))'),
             "migrations/versions/0002_b.py": revision(drop, rev="0002", down="0001")}
    (f,) = found(tmp_path, files, "MIG012")
    assert f.anchor == "migration:0002:destructive:pledges"
    assert ("drops table pledges: no model maps it and no Python code of the application names it any more, so the code "
            "that ships with this revision does not use it; only code deployed before that did would fail") in f.message
    # code that still queries it
    files["app/reports.py"] = 'from sqlalchemy import text\nQUERY = text("SELECT count(*) FROM pledges")\n'
    (used,) = found(tmp_path / "used", files, "MIG012")
    assert "code deployed before this migration that still uses pledges fails" in used.message and "no model" not in used.message


def test_a_drop_in_a_project_that_upgrades_at_start_up_says_so(tmp_path):
    """mealie: old code meets the new schema only in a rolling deploy when the app upgrades before serving."""
    script = "#!/bin/sh\nset -e\nalembic upgrade head\nexec gunicorn app:app\n"
    (f,) = found(tmp_path, _later('op.drop_column("orders", "note")', **{"docker-entrypoint.sh": script}), "MIG012")
    assert f.severity == Severity.INFO and f.anchor == "migration:0002:destructive:orders.note"
    assert ("this project upgrades its database at start-up, before serving (`alembic upgrade` before gunicorn starts, "
            "docker-entrypoint.sh:3): code deployed before meets the new schema only where older instances still serve "
            "during the upgrade") in f.message


def test_sql_a_library_provides_is_named_as_what_could_not_be_read(tmp_path):
    """redash: `op.execute(sql_expressions)`, imported from a search library; the downgrade is `pass`."""
    upgrade = revision("op.execute(search_sql)", rev="0002", down="0001").replace(
        "import sqlalchemy as sa\n", "import sqlalchemy as sa\nfrom textsearch_lib import search_sql\n")
    files = {"migrations/versions/0001_orders.py": ORDERS, "migrations/versions/0002_search.py": upgrade}
    (f,) = found(tmp_path, files, "MIG001")
    assert f.severity == Severity.INFO and f.anchor == "migration:0002:downgrade"
    assert ("dbreview could not read the SQL its upgrade runs (migrations/versions/0002_search.py:8: search_sql of the "
            "library textsearch_lib, whose SQL dbreview does not read): if that SQL only changes rows") in f.message
    # the same name from a module of the repository: nothing said of a library
    files["textsearch_lib/__init__.py"] = "search_sql = build()\n"
    (own,) = found(tmp_path / "own", files, "MIG001")
    assert "library" not in own.message


def test_an_index_finding_names_the_tables_made_outside_the_migrations_that_the_revision_indexes_too():
    """lemur: its first tables come from create_all; a revision rebuilds indexes on those and on a table a
    revision made. The finding is on the one the history knows, and names the others."""
    from analyzers.examples import facts_from_sources
    from analyzers.rules.s03_migration_safety import IndexWithoutConcurrently, later

    files = later('op.drop_index("ix_certs_name", table_name="certs")\n'
                  'op.create_index("ix_certs_name", "certs", ["name"], unique=True)\n'
                  'op.create_index("ix_orders_total", "orders", ["total"])')
    (f,) = IndexWithoutConcurrently(facts_from_sources(files)).check()
    assert f.anchor == "migration:0002:index:orders:ix_orders_total"
    assert f.message.endswith("; it also builds indexes the same way on certs, which no revision here creates (made some "
                              "other way): how many rows they hold dbreview cannot tell")


def test_a_procfile_release_phase_is_not_an_upgrade_before_serving(tmp_path):
    """A Procfile's `release:` process upgrades while the old `web:` processes still serve; each line is its own."""
    index = 'op.create_index("ix_orders_total", "orders", ["total"])'
    procfile = "release: alembic upgrade head\nweb: gunicorn app:app\n"
    (f,) = found(tmp_path, _later(index, Procfile=procfile), "MIG007")
    assert f.severity == Severity.WARNING and "start-up" not in f.message
    (same,) = found(tmp_path / "one", _later(index, Procfile="web: alembic upgrade head && gunicorn app:app\n"), "MIG007")
    assert same.severity == Severity.INFO and "start-up" in same.message


def test_an_op_on_a_table_whose_presence_is_all_the_guard_asks_converges(tmp_path):
    """jupyterhub: `if "groups" in tables: op.add_column("groups", ...)`: where skipped, there is no groups to change."""
    guarded = ('tables = sa.inspect(op.get_bind()).get_table_names()\n'
               'if "legacy_orders" in tables:\n'
               '    op.add_column("legacy_orders", sa.Column("flagged", sa.Boolean()))\n')
    assert found(tmp_path, _later(guarded), "MIG018") == []
    # the same guard over SQL still differs: a policy is no part of the table a later revision or create_all makes
    sql = guarded.replace('op.add_column("legacy_orders", sa.Column("flagged", sa.Boolean()))',
                          'op.execute("ALTER TABLE legacy_orders ENABLE ROW LEVEL SECURITY")')
    (f,) = found(tmp_path / "sql", _later(sql), "MIG018")
    assert f.anchor == "migration:0002:inspector"


def test_a_narrowed_varchar_is_said_to_rewrite_the_table(tmp_path):
    """full-stack-fastapi-template: String() to String(255) was said "a scan, no rewrite"; PostgreSQL rewrites."""
    (f,) = found(tmp_path, _later('op.alter_column("orders", "note", type_=sa.String(length=20), existing_type=sa.String(50))'),
                 "MIG010")
    assert "the table and its indexes rewritten" in f.message and "no rewrite" not in f.message


def test_a_revision_that_returns_early_when_postgresql_is_configured_is_not_postgresqls_schema(tmp_path):
    """letta: a SQLite-only baseline (`if settings.pg_uri: return`, then create_table) later in the chain than
    the PostgreSQL revisions: its timezone-aware columns are not what PostgreSQL holds."""
    model = NOTES.replace("from sqlalchemy import Boolean", "from sqlalchemy import Boolean, DateTime").replace(
        "    body: Mapped[str] = mapped_column(Text)", "    seen_at: Mapped[datetime | None] = mapped_column(DateTime())")
    sqlite_baseline = ('if settings.pg_uri:\n    return\n'
                       'op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True),\n'
                       '                sa.Column("seen_at", sa.DateTime(timezone=True)))')
    files = {"app/models.py": model,
             "migrations/versions/0001_a.py": revision('op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True), '
                                                       'sa.Column("seen_at", sa.DateTime()))'),
             "migrations/versions/0002_b.py": revision(sqlite_baseline, rev="0002", down="0001").replace(
                 "import sqlalchemy as sa", "import sqlalchemy as sa\nfrom app.config import settings")}
    assert found(tmp_path, files, "MIG006") == []
    # the same steps with the test turned round run on PostgreSQL: the drift is there
    files["migrations/versions/0002_b.py"] = files["migrations/versions/0002_b.py"].replace(
        "if settings.pg_uri:", "if not settings.pg_uri:")
    (f,) = found(tmp_path / "pg", files, "MIG006")
    assert f.anchor == "drift:tz:notes.seen_at" and "0002_b.py:" in f.message
    # a setting that names PostgreSQL but not which database is used says nothing of the steps after it
    files["migrations/versions/0002_b.py"] = files["migrations/versions/0002_b.py"].replace(
        "if not settings.pg_uri:", "if settings.pg_pool_size:")
    assert [f.anchor for f in found(tmp_path / "pool", files, "MIG006")] == ["drift:tz:notes.seen_at"]


STALE = HEADER + """
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class Milestone(Base):
    __tablename__ = "milestones"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
"""

CREATE_STALE = """
op.create_table("users", sa.Column("id", sa.Integer, primary_key=True))
op.create_table("milestones", sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False))
"""


def test_a_model_whose_table_the_migrations_drop_is_said_stale_once_and_not_linted(tmp_path):
    """onyx `milestone`, letta `job_messages`: a table dropped at head is not in the database; its model's
    unindexed foreign key costs nothing."""
    files = {"app/models.py": STALE, "migrations/versions/0001_a.py": revision(CREATE_STALE)}
    assert [f.anchor for f in found(tmp_path, files, "PERF001")] == ["table:milestones.user_id"]
    files["migrations/versions/0002_b.py"] = revision('op.drop_table("milestones")', rev="0002", down="0001")
    result = found(tmp_path / "dropped", files)
    assert [f.rule_id for f in result if f.location.path == "app/models.py" and f.location.start_line > 12] == ["MIG006"]
    (stale,) = [f for f in result if f.rule_id == "MIG006"]
    assert stale.anchor == "drift:table:milestones" and stale.severity == Severity.INFO and "stale model" in stale.message
    # where the chain could not be read for that table, dbreview cannot know it is gone: the model is linted
    files["migrations/versions/0003_c.py"] = revision('for name in NAMES:\n    op.create_table(name, sa.Column("id", sa.Integer))',
                                                      rev="0003", down="0002")
    assert "table:milestones.user_id" in [f.anchor for f in found(tmp_path / "unread", files, "PERF001")]


UNDO_LOG = """
from sqlalchemy import Integer, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Change(Base):
    __tablename__ = "changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class UndoLog:
    def __init__(self, url):
        self.engine = create_engine(url)

    def ensure_schema(self):
        Base.metadata.create_all(self.engine)
"""


def test_tables_of_a_database_the_application_builds_with_create_all_are_not_missing_from_migrations(tmp_path):
    """gramps-web-api: an undo log on a DeclarativeBase of its own, built by `Base.metadata.create_all(engine)`,
    beside the users' database that Alembic migrates."""
    files = {"app/models.py": NOTES, "app/undo.py": UNDO_LOG,
             "migrations/versions/0001_a.py": revision(CREATE_NOTES.replace('"payload", sa.JSON()', '"body", sa.Text()'))}
    assert found(tmp_path, files, "MIG006") == []
    # the same model on the migrated Base is missing from the migrations, create_all or not
    files["app/undo.py"] = UNDO_LOG.replace("class Base(DeclarativeBase):\n    pass\n", "from app.models import Base\n")
    (f,) = found(tmp_path / "same", files, "MIG006")
    assert f.anchor == "drift:table:changes" and f.severity == Severity.WARNING and "created by no migration" in f.message


STEPS = HEADER + """
from sqlalchemy import Index


class Result(Base):
    __tablename__ = "results"
    __table_args__ = (Index("ix_results_run_id", "run_id"), Index("ix_results_scenario_id", "scenario_id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(Integer)
    scenario_id: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)
"""


def test_every_index_of_a_create_table_and_a_loop_over_added_tuples_are_replayed(tmp_path):
    """agenta: create_table given three sa.Index (only one was kept); the table and its indexes renamed
    (ALTER INDEX ... RENAME TO); NOT NULL dropped in a loop over `TIMESTAMPS + ACTORS` (read as the
    strings joined: "created_atcreated_by")."""
    first = revision('op.create_table("steps", sa.Column("id", sa.Integer, primary_key=True),\n'
                     '                sa.Column("run_id", sa.Integer), sa.Column("scenario_id", sa.Integer),\n'
                     '                sa.Column("created_by", sa.Integer, nullable=False),\n'
                     '                sa.Column("created_at", sa.DateTime(), nullable=False),\n'
                     '                sa.Index("ix_steps_run_id", "run_id"), sa.Index("ix_steps_scenario_id", "scenario_id"))')
    second = revision('op.rename_table("steps", "results")\n'
                      'op.execute("ALTER INDEX ix_steps_run_id RENAME TO ix_results_run_id")\n'
                      'op.execute("ALTER INDEX ix_steps_scenario_id RENAME TO ix_results_scenario_id")\n'
                      'for table in TABLES:\n'
                      '    for column in TIMESTAMPS + ACTORS:\n'
                      '        op.execute(f\'ALTER TABLE "{table}" ALTER COLUMN "{column}" DROP NOT NULL\')',
                      rev="0002", down="0001").replace(
        "def upgrade():", 'TABLES = ("results",)\nTIMESTAMPS = ("created_at",)\nACTORS = ("created_by",)\ndef upgrade():')
    files = {"app/models.py": STEPS, "migrations/versions/0001_a.py": first, "migrations/versions/0002_b.py": second}
    assert [f.anchor for f in found(tmp_path, files, "MIG006")] == []
    # without the loop, the NOT NULL the first revision made is drift, on both columns
    files["migrations/versions/0002_b.py"] = second.replace("for table in TABLES:", "for table in ():")
    (f,) = found(tmp_path / "kept", files, "MIG006")
    assert f.anchor == "drift:nullable:results" and "created_by, created_at" in f.message


def test_timezone_drift_is_no_finding_where_the_application_runs_on_mysql_only(tmp_path):
    """octavia (MIG006 judged wrong x2): DateTime(timezone=True) in the migration, DateTime() in the model, on a
    service whose configuration names MySQL only: both are DATETIME there, and autogenerate sees no change."""
    model = NOTES.replace("from sqlalchemy import Boolean", "from sqlalchemy import Boolean, DateTime").replace(
        "    body: Mapped[str] = mapped_column(Text)", "    seen_at: Mapped[datetime | None] = mapped_column(DateTime())")
    files = {"app/models.py": model,
             "migrations/versions/0001_a.py": revision('op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True), '
                                                       'sa.Column("seen_at", sa.DateTime(timezone=True)))'),
             "app/config.py": 'DATABASE_URL = "mysql+pymysql://app@db/app"\n'}
    assert found(tmp_path, files, "MIG006") == []
    assert found(tmp_path, files, "TZ001") == []  # ok (judged wrong): timezone=True changes nothing on MySQL
    files["app/config.py"] = 'DATABASE_URL = "postgresql://app@db/app"\n'
    assert [f.anchor for f in found(tmp_path / "pg", files, "MIG006")] == ["drift:tz:notes.seen_at"]

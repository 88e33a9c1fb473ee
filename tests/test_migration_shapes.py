"""Migrations read as Alembic runs them, whatever their form, and findings about the whole that say what
could not be read. Each source is a small revision of our own, one per shape met on real backends."""

from __future__ import annotations

from pathlib import Path

from analyzers.engine import scan
from analyzers.examples import facts_from_sources
from analyzers.facts.effects import not_undone
from analyzers.findings import Severity
from analyzers.rules.s03_migrations import DowngradeIncomplete, DowngradeMissing, MissingParentRevision, SeveralHeads


def _revision(upgrade: str, downgrade: str = "    pass", rev: str = "0002", down: str | None = "0001", head: str = "") -> str:
    return f'''
import sqlalchemy as sa
from alembic import op
from sqlalchemy import text

revision = "{rev}"
down_revision = {down!r}
{head}

def upgrade():
{upgrade}

def downgrade():
{downgrade}
'''


def _one(upgrade: str, downgrade: str = "    pass", **kw):
    facts = facts_from_sources({"migrations/versions/0002_x.py": _revision(upgrade, downgrade, **kw)})
    (rev,) = facts.revisions
    return facts, rev


def _findings(rule, facts):
    return [(f.severity, f.message) for f in rule(facts).check()]


# -- one odd call never loses the revision --------------------------------------------------------


def test_sql_of_a_batch_is_read_and_the_revision_kept():
    facts, rev = _one('''
    with op.batch_alter_table("orders") as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text()))
        batch_op.execute("UPDATE orders SET note = ''")
''')
    assert rev.revision == "0002" and rev.down_revisions == ("0001",)
    assert [(op.name, op.table) for op in rev.upgrade] == [("add_column", "orders"), ("execute", None)]
    assert rev.upgrade[1].sql.statements[0].kind == "UpdateStmt" and rev.upgrade[1].span.start == 14


def test_a_call_unlike_alembics_is_an_unread_op_not_a_lost_file():
    facts, rev = _one('''
    op.add_column("orders")
    op.create_index("ix_orders_note", "orders", ["note"])
''')
    first, second = rev.upgrade
    assert (first.name, first.target, first.table) == ("unread", "op.add_column", "orders")
    assert first.reason == "a call shaped unlike Alembic's: an argument that names what it changes is missing"
    assert second.name == "create_index"
    assert [(u.kind, u.span.start) for u in facts.unread] == [("op", 12)]


def test_a_reader_that_fails_on_one_call_keeps_the_others(monkeypatch):
    from analyzers.facts import migrations

    read = migrations._OpReader._read_op

    def failing(self, name, *args):
        if name == "drop_column":
            raise RuntimeError("boom")
        return read(self, name, *args)

    monkeypatch.setattr(migrations._OpReader, "_read_op", failing)
    _, rev = _one('''
    op.drop_column("orders", "note")
    op.drop_table("drafts")
''')
    assert [(op.name, op.reason) for op in rev.upgrade] == [
        ("unread", "a call shaped unlike Alembic's (RuntimeError: boom)"), ("drop_table", None)]


def test_a_name_from_a_loop_over_a_call_is_unread_not_none():
    facts, rev = _one('''
    for table, column in fetch_pairs():
        op.drop_column(table, column)
''')
    (op,) = rev.upgrade
    assert op.name == "unread" and op.target == "op.drop_column"
    assert op.reason == "`table` could not be followed: it comes from a loop over `fetch_pairs()`, which could not be followed"
    assert _findings(DowngradeIncomplete, facts) == []  # nothing claimed about "None.None"


def test_a_parent_that_is_no_constant_is_an_unread_revision():
    facts = facts_from_sources({"migrations/versions/0002_x.py": _revision("    pass", down=None).replace(
        "down_revision = None", "down_revision = PREVIOUS")})
    (unread,) = facts.unread
    assert (unread.kind, unread.reason) == ("revision", "its parent `PREVIOUS` is not a constant we could read")


# -- loops, renames, SQL: the downgrade undoes what it undoes -------------------------------------

_COLUMNS = '''
COLUMNS = ["street", "city", "zip"]
PAIRS = [("lat", sa.Float()), ("lng", sa.Float())]
'''


def test_loops_over_constants_are_followed_in_either_direction():
    facts, rev = _one('''
    for name in COLUMNS:
        op.add_column("addresses", sa.Column(name, sa.String(80)))
    for name, type_ in PAIRS:
        op.add_column("addresses", sa.Column(name, type_))
''', '''
    for name, _ in reversed(PAIRS):
        op.drop_column("addresses", name)
    for name in reversed(COLUMNS):
        op.drop_column("addresses", name)
''', head=_COLUMNS)
    assert [c.name for op in rev.upgrade for c in op.columns] == ["street", "city", "zip", "lat", "lng"]
    assert [op.target for op in rev.downgrade] == ["lng", "lat", "zip", "city", "street"]
    assert set(facts.migration_tables) == set()  # addresses was made elsewhere: nothing to replay onto
    assert _findings(DowngradeIncomplete, facts) == []


def test_a_downgrade_in_sql_or_by_rename_undoes_the_upgrade():
    facts, rev = _one('''
    op.create_table("invoices", sa.Column("id", sa.Integer, primary_key=True))
    op.rename_table("payments", "charges")
    op.drop_table("ledger")
    op.drop_column("charges", "legacy_ref")
''', '''
    op.execute("DROP TABLE invoices")
    op.add_column("charges", sa.Column("legacy_ref", sa.String(20)))
    op.rename_table("charges", "payments")
    sa.Table("ledger", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True)).create(op.get_bind())
''')
    assert not_undone(rev.upgrade, rev.downgrade) == []
    assert _findings(DowngradeIncomplete, facts) == []


def test_what_the_downgrade_misses_is_said_once_at_the_upgrade_op():
    facts, rev = _one('''
    op.rename_table("payments", "charges")
    op.execute("ALTER TABLE charges ADD COLUMN currency char(3)")
    op.create_table("refunds", sa.Column("id", sa.Integer, primary_key=True))
''', '''
    op.execute("ALTER TABLE charges DROP COLUMN currency")
    op.drop_table("refunds")
''')
    found = list(DowngradeIncomplete(facts).check())
    assert [(f.location.start_line, f.message) for f in found] == [
        (12, "revision 0002 renames table payments to charges but the downgrade does not rename it back")]


def test_a_downgrade_that_cannot_be_read_lowers_what_depends_on_it():
    facts, rev = _one('''
    op.add_column("charges", sa.Column("currency", sa.String(3)))
''', '''
    for table in tables_with_currency():
        op.drop_column(table, "currency")
''')
    (finding,) = DowngradeIncomplete(facts).check()
    assert finding.severity == Severity.INFO
    assert finding.message == (
        "revision 0002 adds charges.currency but the downgrade does not drop it (not certain: migrations/versions/0002_x.py:18 "
        "could not be read: op.drop_column: `table` could not be followed: it comes from a loop over "
        "`tables_with_currency()`, which could not be followed)")
    assert [r.location.start_line for r in finding.related] == [18]


def test_table_objects_and_metadata_create_tables_in_the_replay():
    facts, rev = _one('''
    meta = sa.MetaData()
    tags = sa.Table("tags", meta, sa.Column("id", sa.Integer, primary_key=True), sa.Column("label", sa.String(40)))
    sa.Table("notes", meta, sa.Column("id", sa.Integer, primary_key=True)).create(op.get_bind())
    meta.create_all(op.get_bind())
    sa.Enum("a", "b", name="kind").create(op.get_bind())
    conn = op.get_bind()
    conn.execute(text("ALTER TABLE notes ADD COLUMN body text"))
''', down=None)
    assert [(op.name, op.table) for op in rev.upgrade] == [
        ("create_table", "notes"), ("create_table", "tags"), ("execute", "notes")]
    assert {n: sorted(t.columns) for n, t in facts.migration_tables.items()} == {"notes": ["body", "id"], "tags": ["id", "label"]}


def test_a_models_table_created_in_a_migration_is_an_unread_op():
    facts, rev = _one('''
    Note.__table__.create(op.get_bind())
''')
    (op,) = rev.upgrade
    assert op.name == "unread" and "a model outside the migration" in (op.reason or "")


def test_data_only_revisions_need_no_downgrade():
    facts, _ = _one('''
    op.execute("CREATE TEMP TABLE moved AS SELECT id FROM orders WHERE status = 'x'")
    op.execute("UPDATE orders SET status = 'y' WHERE id IN (SELECT id FROM moved)")
    op.execute("DROP TABLE moved")
    op.execute("ALTER TABLE orders DISABLE TRIGGER ALL")
    op.execute("UPDATE orders SET total = 0 WHERE total IS NULL")
    op.execute("ALTER TABLE orders ENABLE TRIGGER ALL")
''')
    assert _findings(DowngradeMissing, facts) == []
    assert facts.migration_tables == {}
    facts, _ = _one('''
    op.execute("ALTER TABLE orders DISABLE TRIGGER ALL")
    op.execute("UPDATE orders SET total = 0 WHERE total IS NULL")
''')
    assert len(_findings(DowngradeMissing, facts)) == 1  # the triggers stay off: that is a change to undo


def test_drop_if_exists_then_create_is_undone_by_a_drop():
    facts, rev = _one('''
    op.execute("DROP TABLE IF EXISTS staging CASCADE")
    op.create_table("staging", sa.Column("id", sa.Integer, primary_key=True))
    op.create_table("events", sa.Column("id", sa.Integer), postgresql_partition_by="RANGE (id)")
    op.execute("CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM (0) TO (100)")
''', '''
    op.drop_table("events")
    op.drop_table("staging")
''')
    assert _findings(DowngradeIncomplete, facts) == []
    assert set(facts.migration_tables) == {"staging", "events", "events_2024"}


# -- the revision graph, and what could not be read in it -----------------------------------------


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


def test_a_file_that_does_not_parse_lowers_the_graph_findings_it_may_explain(tmp_path):
    root = _tree(tmp_path, {
        "db/versions/0001_a.py": _revision("    pass", rev="0001", down=None),
        "db/versions/0002_b.py": "revision = '0002'\ndown_revision = '0001'\ndef upgrade(:\n    pass\n",
        "db/versions/0003_c.py": _revision("    pass", rev="0003", down="0002"),
    })
    result = scan(root)
    assert [(u.kind, u.span.path) for u in result.facts.unread] == [("file", "db/versions/0002_b.py")]
    graph = [f for f in result.result.findings if f.rule_id in ("MIG003", "MIG004")]
    assert [(f.rule_id, f.severity, f.location.path) for f in graph] == [  # 0001 is a head only as 0002 is unread
        ("MIG003", Severity.INFO, "db/versions/0001_a.py"), ("MIG003", Severity.INFO, "db/versions/0003_c.py"),
        ("MIG004", Severity.INFO, "db/versions/0003_c.py")]
    assert graph[2].message == (
        "revision 0003 names parent 0002, which no file in db/versions defines (not certain: db/versions/0002_b.py:3 "
        "could not be read: does not parse as Python: invalid syntax)")


def test_a_revision_parked_beside_versions_is_not_in_the_graph_unless_version_locations_names_folders(tmp_path):
    files = {
        "db/env.py": "from alembic import context\n",
        "db/alembic.ini": "[alembic]\nscript_location = /app/db\n# version_locations = %(here)s/bar\n",
        "db/versions/0001_a.py": _revision("    pass", rev="0001", down=None),
        "db/versions/0002_b.py": _revision("    pass", rev="0002", down="0001"),
        "db/temp/0003_draft.py": _revision("    pass", rev="0003", down="..."),  # a draft Alembic never loads
    }
    result = scan(_tree(tmp_path / "parked", files))
    assert [r.revision for r in result.facts.revisions] == ["0001", "0002"]
    assert [f for f in result.result.findings if f.rule_id in ("MIG003", "MIG004")] == []
    files["db/alembic.ini"] = "[alembic]\nscript_location = db\nversion_locations = %(here)s/versions %(here)s/temp\n"
    result = scan(_tree(tmp_path / "named", files))  # read there: its missing parent is a broken graph
    graph = [(f.rule_id, f.severity, f.location.path) for f in result.result.findings if f.rule_id == "MIG004"]
    assert graph == [("MIG004", Severity.CRITICAL, "db/temp/0003_draft.py")]


def test_folders_of_one_environment_are_one_tree_and_labelled_heads_are_meant(tmp_path):
    root = _tree(tmp_path, {
        "db/versions/0001_root.py": _revision("    pass", rev="0001", down=None),
        "db/versions/2024/expand/0002_e.py": _revision("    pass", rev="0002", down="0001", head="branch_labels = ('expand',)"),
        "db/versions/2024/contract/0003_c.py": _revision("    pass", rev="0003", down="0001", head="branch_labels = ('contract',)"),
        "db/versions/2025/expand/0004_e.py": _revision("    pass", rev="0004", down="0002"),
        "worker/versions/0001_w.py": _revision("    pass", rev="w1", down="0004"),
    })
    result = scan(root)
    graph = [(f.rule_id, f.location.path) for f in result.result.findings if f.rule_id in ("MIG003", "MIG004")]
    assert graph == [("MIG004", "worker/versions/0001_w.py")]  # another environment's revision is no parent
    assert _findings(SeveralHeads, result.facts) == [] and len(_findings(MissingParentRevision, result.facts)) == 1


def test_a_long_history_is_ordered_without_recursion():
    sources = {f"migrations/versions/{i:04d}.py": _revision("    pass", rev=f"r{i}", down=f"r{i - 1}" if i else None)
               for i in range(1500)}
    facts = facts_from_sources(sources)
    assert [r.revision for r in facts.revisions][:3] == ["r0", "r1", "r2"] and facts.revisions[-1].revision == "r1499"


def test_sqlalchemy_constructs_in_op_execute_are_what_they_build():
    facts, rev = _one('''
    op.execute(CreateSequence(Sequence("invoice_no")))
    invoices = sa.table("invoices", sa.column("status"))
    op.execute(invoices.update().where(invoices.c.status == None).values(status="open"))
    op.execute(sa.schema.CreateTable(sa.Table("ledger", sa.MetaData(), sa.Column("id", sa.Integer))))
    op.execute(build_statement())
''')
    kinds = [(op.name, op.table, op.sql.statements[0].kind if op.sql else None) for op in rev.upgrade]
    assert kinds == [("execute", None, "CreateSequence"), ("execute", None, "UpdateStmt"),
                     ("create_table", "ledger", None), ("execute", None, None)]
    assert [(u.kind, u.span.start) for u in facts.unread] == [("sql", 16)]


def test_an_expanding_parameter_is_sql_that_parses():
    _, rev = _one('''
    op.get_bind().execute(sa.text("SELECT id FROM sso WHERE name IN :names").bindparams(sa.bindparam("names", expanding=True)))
''')
    assert [st.kind for op in rev.upgrade for st in op.sql.statements] == ["SelectStmt"]


def test_sql_with_values_spliced_in_is_unread_only_where_it_may_touch_tables():
    facts, _ = _one('''
    op.execute(f"UPDATE settings SET value = '{DEFAULT}' WHERE key = 'theme'")
    op.execute(f"CREATE INDEX ix_notes_{SUFFIX} ON notes (created_at)")
    op.execute(f"ALTER TABLE {TABLE} ENABLE ROW LEVEL SECURITY")
    op.execute("""
    DO $$ BEGIN
        EXECUTE format('CREATE USER %I WITH PASSWORD %L', reader, secret);
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), reader);
        EXECUTE format('GRANT SELECT ON %I TO %I', target, reader);
    END $$;
    """)
''')
    assert [(u.span.start, u.table, u.reason) for u in facts.unread] == [  # an index makes no table nor column
        (14, None, "SQL with a value spliced in"),
        (19, None, "EXECUTE of SQL built at run time"),
    ]


def test_sql_a_helper_returns_is_read_with_its_arguments():
    facts, rev = _one('''
    for table in TABLES:
        op.execute(text(_policy_sql(table)))
''', head='''
TABLES = ["notes", "files"]


def _policy_sql(table):
    return f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY; CREATE POLICY {table}_org ON {table} USING (org_id = 1)"
''')
    assert [(st.kind, st.table) for op in rev.upgrade for st in op.sql.statements] == [
        ("enable_rls", "notes"), ("create_policy", "notes"), ("enable_rls", "files"), ("create_policy", "files")]
    assert facts.unread == []


def test_a_table_a_helper_returns_is_created_and_an_unknown_one_is_unread():
    facts, rev = _one('''
    table = _providers(sa.MetaData())
    table.create(op.get_bind())
    imported_table.create(bind=op.get_bind())
    kind_enum.create(op.get_bind(), checkfirst=True)
''', head='''
kind_enum = sa.Enum("a", "b", name="kind")


def _providers(metadata):
    return sa.Table("providers", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(40)))
''')
    assert [(op.name, op.table, op.reason) for op in rev.upgrade] == [
        ("create_table", "providers", None),
        ("unread", None, "creates `imported_table`, which could not be followed (a table, or a type)")]
    assert sorted(facts.migration_tables["providers"].columns) == ["id", "name"]


def test_a_column_built_in_a_variable_then_added_is_read():
    facts, rev = _one('''
    flag = sa.Column("archived", sa.Boolean(), nullable=True)
    op.add_column("ledgers", flag)
''', head='NOTE = sa.Column("note", sa.Text())\n')
    ((added,),) = [op.columns for op in rev.upgrade]
    assert (rev.upgrade[0].name, rev.upgrade[0].table, added.name, added.nullable) == ("add_column", "ledgers", "archived", True)
    _, rev = _one('    op.add_column("ledgers", NOTE)', head='NOTE = sa.Column("note", sa.Text())\n')
    assert [(op.name, op.table, [c.name for c in op.columns]) for op in rev.upgrade] == [("add_column", "ledgers", ["note"])]

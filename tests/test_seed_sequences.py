"""MIG024: a migration seeds rows with explicit ids into a table numbered by a sequence and never advances it
(issue 8): on PostgreSQL the application's inserts collide with the seeded ids. Nothing where something may
advance it, where the ids are left to the sequence, where the key is no serial, or off PostgreSQL."""

from __future__ import annotations

from analyzers.rules.s03_sequences import _CONFIG, _MODELS, _SEED
from tests.test_precision import found

SEED_LINE = next(i for i, line in enumerate(_SEED.splitlines(), 1) if "op.bulk_insert" in line)


def _seq(tmp_path, seed: str = _SEED, models: str = _MODELS, config: str = _CONFIG, more: dict | None = None) -> list:
    files = {"app/models.py": models, "app/config.py": config, "migrations/versions/0001_seed.py": seed, **(more or {})}
    return found(tmp_path, files, "MIG024")


def test_a_seed_with_explicit_ids_and_an_application_that_adds_rows(tmp_path):
    (f,) = _seq(tmp_path)
    assert f.severity.value == "warning" and f.anchor == "sequence:roles"
    assert (f.location.path, f.location.start_line) == ("migrations/versions/0001_seed.py", SEED_LINE)
    assert f.message.startswith("revision 0001 inserts rows into roles with ids 1 to 2, and no migration advances the "
                                "sequence behind roles.id (setval): on PostgreSQL it still starts at 1")
    assert "fail with a duplicate key until it passes 2; the application adds roles rows (app/models.py:17)" in f.message
    assert [r.location.start_line for r in f.related] == [17]


def test_without_a_place_that_adds_rows_it_is_info(tmp_path):
    (f,) = _seq(tmp_path, models=_MODELS.split("\n\ndef add_role")[0] + "\n")
    assert f.severity.value == "info" and "dbreview sees no place in the application's code that does" in f.message


def test_sql_inserts_with_the_key_are_seeds_too(tmp_path):
    sql = _SEED.replace(
        '    op.bulk_insert(roles, [{"id": 1, "name": "admin"}, {"id": 2, "name": "member"}])',
        "    op.execute(\"INSERT INTO roles (id, name) VALUES (1, 'admin'), (7, 'member')\")")
    (f,) = _seq(tmp_path, sql)
    assert "inserts rows into roles with ids 1 to 7" in f.message and "until it passes 7" in f.message


def test_what_may_advance_the_sequence_says_nothing(tmp_path):
    later = _SEED.replace('revision = "0001"', 'revision = "0002"').replace("down_revision = None", 'down_revision = "0001"')
    setval = later.split("def upgrade():")[0] + "def upgrade():\n    op.execute(\"SELECT setval('roles_id_seq', 100)\")\ndef downgrade():\n    pass\n"
    assert _seq(tmp_path / "setval", more={"migrations/versions/0002_seq.py": setval}) == []
    helper = _SEED.replace("def downgrade", "    reset_sequences(op)\ndef downgrade")
    assert _seq(tmp_path / "helper", helper) == []
    loop = _SEED.replace("def downgrade", "    for t in TABLES:\n        op.execute(f\"SELECT setval('{t}_id_seq', 100)\")\ndef downgrade")
    assert _seq(tmp_path / "loop", loop) == []
    other = _SEED.replace("def downgrade", "    op.execute(\"SELECT setval('users_id_seq', 100)\")\ndef downgrade")
    assert len(_seq(tmp_path / "other", other)) == 1  # another table's sequence


def test_no_serial_key_no_explicit_id_or_no_postgresql_says_nothing(tmp_path):
    assert _seq(tmp_path / "no-ids", _SEED.replace('"id": 1, ', "").replace('"id": 2, ', "")) == []
    uuid = _SEED.replace('sa.Column("id", sa.Integer(), primary_key=True)', 'sa.Column("id", sa.Uuid(), primary_key=True)')
    assert _seq(tmp_path / "uuid", uuid) == []
    manual = _SEED.replace('sa.Column("id", sa.Integer(), primary_key=True)',
                           'sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False)')
    assert _seq(tmp_path / "manual", manual) == []
    assert _seq(tmp_path / "mysql", config='DATABASE_URL = "mysql://app@db/app"\n') == []
    (both,) = _seq(tmp_path / "both", config=_CONFIG + 'LEGACY_URL = "mysql://app@db/app"\n')
    assert both.message.endswith("(on PostgreSQL; the application also runs on MySQL (app/config.py:2))")


def test_the_cited_add_is_a_row_made_with_values(tmp_path):
    models = _MODELS.replace("def add_role", "def blank():\n    return Role()\n\n\ndef add_role")
    (f,) = _seq(tmp_path, models=models)
    line = next(i for i, text in enumerate(models.splitlines(), 1) if "Role(name=name)" in text)
    assert f"the application adds roles rows (app/models.py:{line})" in f.message


def test_a_seed_a_later_revision_empties_is_no_finding(tmp_path):
    """The seeded rows are gone (DELETE of every row, TRUNCATE, drop_table): no id is left to collide with."""
    later = _SEED.replace('revision = "0001"', 'revision = "0002"').replace("down_revision = None", 'down_revision = "0001"')
    head = later.split("def upgrade():")[0] + "def upgrade():\n    {}\ndef downgrade():\n    pass\n"
    for name, step in [("delete", 'op.execute("DELETE FROM roles")'), ("truncate", 'op.execute("TRUNCATE TABLE roles")'),
                       ("drop", 'op.drop_table("roles")')]:
        assert _seq(tmp_path / name, more={"migrations/versions/0002_clear.py": head.format(step)}) == [], name
    some = head.format("op.execute(\"DELETE FROM roles WHERE name = 'member'\")")
    assert len(_seq(tmp_path / "some", more={"migrations/versions/0002_clear.py": some})) == 1  # id 1 stays
    same = _SEED.replace("def downgrade", '    op.execute("DELETE FROM roles")\ndef downgrade')
    assert _seq(tmp_path / "same", same) == []
    before = _SEED.replace("    op.bulk_insert", '    op.execute("DELETE FROM roles")\n    op.bulk_insert')
    assert len(_seq(tmp_path / "before", before)) == 1  # emptied before the seed: the seeded rows stay

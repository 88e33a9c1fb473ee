"""Migration findings judged wrong on the five backends met on 2026-11-28 (issue 7), each class rebuilt as a small
repository of our own: what the finding must say, or that it is not there."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.test_migration_judged import MODELS as JUDGED_MODELS
from tests.test_precision import found, revision

USERS_ITEMS = revision(
    'op.create_table("users", sa.Column("id", sa.Integer, primary_key=True))\n'
    'op.create_table("items", sa.Column("id", sa.Integer, primary_key=True), sa.Column("owner_id", sa.Integer),'
    ' sa.Column("kind", sa.Integer))\n'
    'op.create_foreign_key("items_owner_id_users_fkey", "items", "users", ["owner_id"], ["id"])\n'
    'op.create_check_constraint("items_kind_positive", "items", "kind > 0")',
    'op.drop_table("items")\nop.drop_table("users")')

# The foreign keys dropped by name around a change of the key columns' type, then made again without a name: the
# naming convention (not applied by dbreview) gives them their old names back.
RETYPE = '''
def create_keys():
    op.create_foreign_key(None, "items", "users", ["owner_id"], ["id"])
def drop_keys():
    op.drop_constraint("items_owner_id_users_fkey", "items")
'''


def test_a_downgrade_that_drops_keys_its_helpers_make_again_without_a_name_is_no_finding(tmp_path):
    """MIG015 on a revision whose upgrade and downgrade both drop the foreign keys by name and make them again with
    create_foreign_key(None, ...): the name may be the one dropped, so nothing is claimed; a constraint of the table
    that nothing makes again is still found."""
    up = 'drop_keys()\nop.alter_column("items", "owner_id", type_=sa.String())\ncreate_keys()'
    down = 'drop_keys()\nop.alter_column("items", "owner_id", type_=sa.Integer())\ncreate_keys()'
    files = {"migrations/versions/0001_a.py": USERS_ITEMS,
             "migrations/versions/0002_b.py": revision(up, down, rev="0002", down="0001") + RETYPE}
    assert found(tmp_path, files, "MIG015") == []
    files["migrations/versions/0002_b.py"] = revision(up, 'op.drop_constraint("items_kind_positive", "items")',
                                                      rev="0002", down="0001") + RETYPE.replace("None", '"items_owner_fk"')
    (f,) = found(tmp_path / "named", files, "MIG015")
    assert f.severity is Severity.WARNING
    assert f.message.startswith("the downgrade of revision 0002 drops constraint items_kind_positive on items, created by revision 0001")


MODELS = JUDGED_MODELS + "    code: Mapped[int] = mapped_column(Integer)\n"

# A later revision adds the columns of several tables in a loop whose names dbreview cannot follow.
ADDS_IN_A_LOOP = '''
MISSING = {"items": ("code",)}
def upgrade():
    for table, columns in MISSING.items():
        for name in columns:
            op.add_column(table, sa.Column(name, sa.Integer))
def downgrade():
    pass
'''


def test_a_revision_loading_whole_rows_does_not_claim_no_later_column_over_a_later_part_not_read(tmp_path):
    """MIG019 said 'no later revision adds a column that the model maps today' while a later revision adds such
    columns in a loop dbreview could not follow: it now says a later revision may, and where it could not read."""
    load = "session = sa.orm.Session(bind=op.get_bind())\nfor item in session.query(Item):\n    item.id = item.id"
    files = {"app/__init__.py": "", "app/models.py": MODELS,
             "migrations/versions/0001_a.py": revision('op.create_table("items", sa.Column("id", sa.Integer, primary_key=True))',
                                                       'op.drop_table("items")'),
             "migrations/versions/0002_b.py": revision(load, rev="0002", down="0001").replace(
                 "import sqlalchemy as sa\n", "import sqlalchemy as sa\nfrom app.models import Item\n"),
             "migrations/versions/0003_c.py": revision("pass", rev="0003", down="0002").split("def upgrade")[0] + ADDS_IN_A_LOOP}
    (f,) = found(tmp_path, files, "MIG019")
    assert f.severity is Severity.INFO and "no later revision adds" not in f.message
    assert "a later revision may add a column that the model maps today, in what dbreview could not read " \
           "(migrations/versions/0003_c.py:" in f.message


def test_a_revision_id_in_two_trees_counts_the_steps_of_its_own_file_only(tmp_path):
    """MIG012 said '(and 1 more like it in this revision)' of a revision with one drop_table: the other was the
    copy of that revision, with the same id, in another tree (an edition of the product with its own history)."""
    files = {}
    for edition in ("ee", "oss"):
        files[f"{edition}/migrations/versions/0001_a.py"] = USERS_ITEMS
        files[f"{edition}/migrations/versions/0002_b.py"] = revision('op.drop_table("users")', rev="0002", down="0001")
    found_ = found(tmp_path, files, "MIG012")
    assert sorted(f.location.path for f in found_) == ["ee/migrations/versions/0002_b.py", "oss/migrations/versions/0002_b.py"]
    assert all("more like it" not in f.message for f in found_)


def test_a_downgrade_that_drops_a_key_its_upgrade_made_under_an_upper_case_name_is_no_finding(tmp_path):
    """The upgrade drops `items_pk` and makes `ITEMS_PK`; the downgrade drops `items_pk` and makes `ITEMS_PK` again:
    where names fold (Oracle) that is the upgrade's own key, and nothing of an earlier revision stays removed."""
    made = 'op.create_primary_key("items_pk", "items", ["id"])'
    swap = 'op.drop_constraint("items_pk", "items", type_="primary")\nop.create_primary_key("ITEMS_PK", "items", ["id", "kind"])'
    files = {"migrations/versions/0001_a.py": USERS_ITEMS,
             "migrations/versions/0002_b.py": revision(made, 'op.drop_constraint("items_pk", "items")', rev="0002", down="0001"),
             "migrations/versions/0003_c.py": revision(swap, swap.replace('"id", "kind"', '"id"'), rev="0003", down="0002")}
    assert found(tmp_path, files, "MIG015") == []

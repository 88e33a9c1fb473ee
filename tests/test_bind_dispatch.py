"""Migrations whose work is not in `upgrade()` itself (issue 7, first meeting with a Flask-Migrate backend):
the multi-database template (`upgrade(engine_name="")` dispatching through `globals()` to `upgrade_()`
and `upgrade_<bind>()`), renames applied by the migration's own class in a loop over a list, and
`sa.DDL(..., context={...})` run in a loop. MIG006 and MIG017 replay what they can and hold back on what
they cannot follow, and name it; they never claim drift from a body they did not read."""

from __future__ import annotations

from tests.test_precision import HEADER, found

MODELS = HEADER + """

class Account(Base):
    __tablename__ = "account"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(80))


class Place(Base):
    __tablename__ = "place"
    __bind_key__ = "places"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
"""

DISPATCH = '''
def upgrade(engine_name=""):
    globals()[f"upgrade_{engine_name}"]()


def downgrade(engine_name=""):
    globals().get(f"downgrade_{engine_name}", lambda: None)()


def upgrade_():
    op.create_table("account", sa.Column("id", sa.Integer, primary_key=True), sa.Column("title", sa.String(80), nullable=False))


def downgrade_():
    op.drop_table("account")


def upgrade_places():
    op.create_table(
        "place", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(80), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
    )


def downgrade_places():
    op.drop_table("place")
'''

RENAMES = '''
class Rename:
    def __init__(self, old, new):
        self.old, self.new = old, new

    def apply(self):
        op.rename_table(self.old, self.new)


RENAMES = [Rename("person", "account")]


def upgrade():
    for rename in RENAMES:
        rename.apply()
    op.add_column("account", sa.Column("title", sa.String(80), nullable=False))


def downgrade():
    op.drop_column("account", "title")
'''

AWARE = '''
COLUMNS = [("place", "seen_at")]


def upgrade():
    for table, column in COLUMNS:
        op.get_bind().execute(sa.DDL(
            'ALTER TABLE "%(table)s" ALTER COLUMN "%(column)s" TYPE TIMESTAMP WITH TIME ZONE',
            context={"table": table, "column": column},
        ))


def downgrade():
    pass
'''


def _module(rev: str, down: str | None, body: str) -> str:
    return f'from alembic import op\nimport sqlalchemy as sa\n\nrevision = "{rev}"\ndown_revision = {down!r}\n\n{body}'


def _drift(tmp_path, models: str, *bodies: str) -> list:
    files = {"app/models.py": models}
    for i, body in enumerate(bodies, 1):
        files[f"migrations/versions/000{i}_r.py"] = _module(f"000{i}", f"000{i - 1}" if i > 1 else None, body)
    return [f for f in found(tmp_path, files) if f.rule_id in ("MIG006", "MIG017")]


def test_each_bind_of_the_multi_database_template_is_replayed(tmp_path):
    found_ = _drift(tmp_path, MODELS, DISPATCH)
    assert [f.anchor for f in found_] == ["drift:tz:place.seen_at"]  # read from upgrade_places(): a real drift


def test_ddl_with_a_context_in_a_loop_is_replayed(tmp_path):
    assert _drift(tmp_path, MODELS, DISPATCH, AWARE) == []


def test_tables_a_rename_class_may_make_are_held_back_and_named(tmp_path):
    person = _module("0001", None, 'def upgrade():\n    op.create_table("person", sa.Column("id", sa.Integer, primary_key=True))\n'
                     "\n\ndef downgrade():\n    pass\n")
    models = MODELS.split("\n\nclass Place")[0]
    files = {"app/models.py": models, "migrations/versions/0001_r.py": person,
             "migrations/versions/0002_r.py": _module("0002", "0001", RENAMES)}
    (f,) = [f for f in found(tmp_path, files) if f.rule_id in ("MIG006", "MIG017")]
    assert f.rule_id == "MIG006" and f.severity.value == "info"
    assert f.anchor == "drift:unfollowed:migrations/versions/0002_r.py:rename.apply"
    assert f.location.path == "migrations/versions/0002_r.py"
    assert "1 model table(s) not compared with the migrations (account)" in f.message
    assert "a method of `Rename`, a class of the migration" in f.message


def test_without_the_rename_class_the_missing_table_is_still_claimed(tmp_path):
    models = MODELS.split("\n\nclass Place")[0]
    files = {"app/models.py": models, "migrations/versions/0001_r.py": _module(
        "0001", None, 'def upgrade():\n    op.create_table("person", sa.Column("id", sa.Integer, primary_key=True))\n'
        "\n\ndef downgrade():\n    pass\n")}
    anchors = [f.anchor for f in found(tmp_path, files, "MIG006")]
    assert anchors == ["drift:table:account"]


def test_unmapped_columns_on_classes_with_unknown_bases_are_one_note(tmp_path):
    models = HEADER + '''
from coaster.sqlalchemy import TimestampMixin


class Team(TimestampMixin, Base):
    __tablename__ = "team"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class Crew(TimestampMixin, Base):
    __tablename__ = "crew"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
'''
    create = ('def upgrade():\n' + "".join(
        f'    op.create_table("{t}", sa.Column("id", sa.Integer, primary_key=True), '
        'sa.Column("created_at", sa.DateTime(), nullable=False))\n' for t in ("team", "crew"))
        + "\n\ndef downgrade():\n    pass\n")
    (f,) = _drift(tmp_path, models, create)
    assert f.anchor == "drift:unmapped-unknown-bases" and f.severity.value == "info"
    assert f.message.startswith("2 model table(s) have NOT NULL columns without a default in the migrations")
    assert "team: created_at (bases coaster.sqlalchemy.TimestampMixin)" in f.message
    assert len(f.covers) == 2  # saved decisions on drift:unmapped:team and :crew follow it

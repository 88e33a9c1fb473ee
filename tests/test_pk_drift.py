"""MIG006: the primary key a model maps against the one the migrations leave on its table (issue 8). A mapped key
narrower than the table's (rows that share it collapse into one object of the identity map) is a warning; a mapped key
on a table with no primary key is info (a warning where a unique key shows rows share it by design); a mapped key the
database keeps unique by another constraint is info. Where the migrations' key is not known (a create_table argument
dbreview does not read, a key built from an index, a table only SQL it cannot parse creates, a view) nothing is said."""

from __future__ import annotations

from tests.test_fk_action_drift import drift

HEADER = """
from sqlalchemy import Column, ForeignKey, Integer, PrimaryKeyConstraint, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass
"""

# a grant of a role by one team to another: the table's key is the three ids, the model's only two of them
GRANTS = HEADER + """

class TeamGrant(Base):
    __tablename__ = "team_grants"
    giver_id = Column(Integer, primary_key=True)
    taker_id = Column(Integer, primary_key=True)
    role_id = Column(Integer, nullable=False)
"""

GRANTS_TABLE = """
op.create_table(
    "team_grants",
    sa.Column("giver_id", sa.Integer(), nullable=False),
    sa.Column("taker_id", sa.Integer(), nullable=False),
    sa.Column("role_id", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("role_id", "giver_id", "taker_id", name="pk_team_grants"),
)
"""


def _keys(tmp_path, models: str, *upgrades: str) -> list:
    return drift(tmp_path, "pk", models, *upgrades)


def _line(models: str, start: str) -> int:
    return next(i for i, line in enumerate(models.splitlines(), 1) if line.strip().startswith(start))


def test_a_mapped_key_narrower_than_the_tables(tmp_path):
    (f,) = _keys(tmp_path, GRANTS, GRANTS_TABLE)
    assert f.anchor == "drift:pk:team_grants" and f.severity.value == "warning"
    assert (f.location.path, f.location.start_line) == ("app/models.py", _line(GRANTS, "giver_id ="))
    assert f.message.startswith("TeamGrant (team_grants): the model maps (giver_id, taker_id) as its primary key, but the "
                                "table's primary key in the migrations is (role_id, giver_id, taker_id) "
                                "(migrations/versions/0001_r.py:")
    assert "several rows share (giver_id, taker_id) (differing in role_id); Rows that share" in f.message
    assert "load as one object in the session's identity map" in f.message
    assert f.related and f.related[0].location.path == "migrations/versions/0001_r.py"


def test_the_same_key_in_any_order_or_spelling_is_silent(tmp_path):
    models = GRANTS.replace("    role_id = Column(Integer, nullable=False)", "    role_id = Column(Integer, primary_key=True)")
    assert _keys(tmp_path, models, GRANTS_TABLE) == []
    # the key in __table_args__, and one the migrations give with primary_key=True columns
    models = GRANTS.replace("primary_key=True", "nullable=False").replace(
        "    role_id = Column(Integer, nullable=False)",
        "    role_id = Column(Integer, nullable=False)\n    __table_args__ = (PrimaryKeyConstraint(\"taker_id\", \"giver_id\", \"role_id\"),)")
    table = """
    op.create_table(
        "team_grants",
        sa.Column("giver_id", sa.Integer(), primary_key=True),
        sa.Column("taker_id", sa.Integer(), primary_key=True),
        sa.Column("role_id", sa.Integer(), primary_key=True),
    )
    """
    assert _keys(tmp_path, models, table) == []


def test_mapper_args_primary_key_counts(tmp_path):
    models = GRANTS.replace("primary_key=True", "nullable=False") + (
        '    __mapper_args__ = {"primary_key": [giver_id, taker_id, role_id]}\n')
    assert _keys(tmp_path, models, GRANTS_TABLE) == []
    narrower = GRANTS.replace("primary_key=True", "nullable=False") + '    __mapper_args__ = {"primary_key": [giver_id]}\n'
    (f,) = _keys(tmp_path, narrower, GRANTS_TABLE)
    assert "the model maps (giver_id) as its primary key" in f.message and f.severity.value == "warning"


def test_a_key_changed_later_is_the_one_compared(tmp_path):
    # the key is dropped and made again over two columns: the model's two now match
    later = """
    op.drop_constraint("pk_team_grants", "team_grants", type_="primary")
    op.create_primary_key("pk_team_grants", "team_grants", ["giver_id", "taker_id"])
    """
    assert _keys(tmp_path, GRANTS, GRANTS_TABLE, later) == []
    # and in SQL
    sql = """
    op.execute("ALTER TABLE team_grants DROP CONSTRAINT pk_team_grants")
    op.execute("ALTER TABLE team_grants ADD PRIMARY KEY (giver_id, taker_id)")
    """
    assert _keys(tmp_path, GRANTS, GRANTS_TABLE, sql) == []


def test_no_primary_key_left_on_the_table(tmp_path):
    models = HEADER + """

class Upload(Base):
    __tablename__ = "uploads"
    id = Column(Integer, primary_key=True)
    path = Column(String(200), nullable=False)
"""
    create = """
    op.create_table(
        "uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("owner_id"),
    )
    """
    dropped = 'op.drop_column("uploads", "owner_id")'  # PostgreSQL drops the key with its column
    (f,) = _keys(tmp_path, models, create, dropped)
    assert f.severity.value == "info" and f.anchor == "drift:pk:uploads"
    assert f.message.startswith("Upload (uploads): the table has no primary key in the migrations (migrations/versions/0002_r.py:")
    assert "while the model maps (id) as one: nothing in the database keeps (id) unique" in f.message
    assert "if duplicates get in, rows that share (id) load as one object in the session's identity map" in f.message
    # a unique constraint over the mapped key: rows are told apart, but the table still has no key
    unique = create.replace('sa.PrimaryKeyConstraint("owner_id"),', 'sa.PrimaryKeyConstraint("owner_id"),\n    sa.UniqueConstraint("id"),')
    (f,) = _keys(tmp_path, models, unique, dropped)
    assert f.severity.value == "info" and "rows load apart (the database keeps (id) unique)" in f.message
    assert "logical replication" in f.message
    # a key the model fills for each new row: only rows written otherwise can share it
    filled = models.replace("id = Column(Integer, primary_key=True)", "id = Column(Integer, primary_key=True, default=next_id)")
    (f,) = _keys(tmp_path, filled, create, dropped)
    assert f.severity.value == "info" and "the model fills (id) for each new row" in f.message


def test_no_primary_key_but_a_wider_unique_key(tmp_path):
    models = HEADER + """

class Label(Base):
    __tablename__ = "labels"
    item_id = Column(Integer, primary_key=True)
    kind = Column(String(20), nullable=False)
"""
    create = """
    op.create_table(
        "labels",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.UniqueConstraint("item_id", "kind"),
    )
    """
    (f,) = _keys(tmp_path, models, create)
    assert f.severity.value == "warning"
    assert "the table has no primary key in the migrations" in f.message and "its unique key is (item_id, kind)" in f.message
    assert "several rows share (item_id) (differing in kind)" in f.message


def test_a_key_the_database_keeps_unique_otherwise_is_info(tmp_path):
    models = HEADER + """

class Device(Base):
    __tablename__ = "devices"
    serial = Column(String(40), primary_key=True)
    id = Column(Integer, nullable=False)
"""
    create = """
    op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("serial", sa.String(40), nullable=False, unique=True),
    )
    """
    (f,) = _keys(tmp_path, models, create)
    assert f.severity.value == "info"
    assert "the model maps (serial) as its primary key, but the table's primary key in the migrations is (id)" in f.message
    assert "rows load apart (the database keeps (serial) unique)" in f.message
    # without the unique constraint, rows may share a serial: a warning
    (f,) = _keys(tmp_path, models, create.replace(", unique=True", ""))
    assert f.severity.value == "warning" and "nothing in the database keeps (serial) unique" in f.message
    # the same, with a key the model generates: info
    generated = models.replace("serial = Column(String(40), primary_key=True)", "serial = Column(String(40), primary_key=True, default=new_serial)")
    (f,) = _keys(tmp_path, generated, create.replace(", unique=True", ""))
    assert f.severity.value == "info" and "the model fills (serial) for each new row, so only rows written otherwise" in f.message


def test_a_mixins_key_that_several_tables_migrate_otherwise_is_one_finding(tmp_path):
    models = HEADER + """

class Keyed:
    id = Column(Integer, primary_key=True)
    code = Column(String(20), primary_key=True)


class Region(Keyed, Base):
    __tablename__ = "regions"


class Site(Keyed, Base):
    __tablename__ = "sites"
"""
    create = "\n".join(
        f'op.create_table("{t}", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("code", sa.String(20), nullable=False, unique=True))'
        for t in ("regions", "sites"))
    (f,) = _keys(tmp_path, models, create)
    assert f.anchor == "drift:pk:Keyed" and f.severity.value == "info"
    assert f.message.startswith("2 tables take their primary key from Keyed and the migrations key each of them the same other way "
                                "(Region (regions), Site (sites)); first: Region (regions): the model maps (id, code)")
    assert (f.location.path, f.location.start_line) == ("app/models.py", _line(models, "id = Column"))
    assert len(f.covers) == 2


def test_where_the_migrations_key_is_not_known_nothing_is_said(tmp_path):
    # a create_table argument dbreview does not read may carry the key
    helper = GRANTS_TABLE.replace('    sa.Column("role_id", sa.Integer(), nullable=False),', "    *audit_columns(),")
    assert _keys(tmp_path, GRANTS, "from app.cols import audit_columns\n" + helper) == []
    # a key made from an index
    by_index = """
    op.execute("ALTER TABLE team_grants DROP CONSTRAINT pk_team_grants")
    op.execute("ALTER TABLE team_grants ADD CONSTRAINT team_grants_pkey PRIMARY KEY USING INDEX ix_grants")
    """
    assert _keys(tmp_path, GRANTS, GRANTS_TABLE, by_index) == []
    # CREATE TABLE ... (LIKE another): its key may come from the other table
    like = 'op.execute("CREATE TABLE team_grants (LIKE old_grants INCLUDING ALL)")'
    assert _keys(tmp_path, GRANTS, like) == []
    # a table no revision creates (made by create_all, or before the migrations)
    other = 'op.create_table("notes", sa.Column("id", sa.Integer(), primary_key=True))'
    assert _keys(tmp_path, GRANTS + '\n\nclass Note(Base):\n    __tablename__ = "notes"\n    id = Column(Integer, primary_key=True)\n',
                 other) == []


def test_joined_table_subclass_compares_its_own_table(tmp_path):
    models = HEADER + """

class Party(Base):
    __tablename__ = "parties"
    id = Column(Integer, primary_key=True)
    kind = Column(String(20), nullable=False)
    __mapper_args__ = {"polymorphic_on": kind}


class Company(Party):
    __tablename__ = "companies"
    id = Column(Integer, ForeignKey("parties.id"), primary_key=True)
    vat = Column(String(20))
"""
    create = """
    op.create_table("parties", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("kind", sa.String(20), nullable=False))
    op.create_table(
        "companies",
        sa.Column("id", sa.Integer(), sa.ForeignKey("parties.id"), primary_key=True),
        sa.Column("vat", sa.String(20)),
    )
    """
    assert _keys(tmp_path, models, create) == []
    no_key = create.replace('sa.ForeignKey("parties.id"), primary_key=True', 'sa.ForeignKey("parties.id"), nullable=False')
    (f,) = _keys(tmp_path, models, no_key)
    assert f.anchor == "drift:pk:companies" and f.severity.value == "info"


def test_a_key_sql_creates(tmp_path):
    sql = ('op.execute("CREATE TABLE team_grants (giver_id integer NOT NULL, taker_id integer NOT NULL, '
           'role_id integer NOT NULL, PRIMARY KEY (giver_id, taker_id, role_id))")')
    (f,) = _keys(tmp_path, GRANTS, sql)
    assert f.severity.value == "warning" and "the table's primary key in the migrations is (giver_id, taker_id, role_id)" in f.message
    same = sql.replace(", role_id)", ")")
    assert _keys(tmp_path, GRANTS, same) == []
    inline = 'op.execute("CREATE TABLE team_grants (giver_id integer PRIMARY KEY, taker_id integer, role_id integer)")'
    (f,) = _keys(tmp_path, GRANTS, inline)  # the model's key is wider: rows load apart, the keys differ
    assert f.severity.value == "info" and "rows load apart (the table's key is among the model's)" in f.message


def test_a_narrower_key_the_model_fills_is_info(tmp_path):
    models = GRANTS.replace("giver_id = Column(Integer, primary_key=True)\n    taker_id = Column(Integer, primary_key=True)",
                            "giver_id = Column(Integer, primary_key=True, default=new_id)\n    taker_id = Column(Integer, nullable=False)")
    table = GRANTS_TABLE.replace('"role_id", "giver_id", "taker_id"', '"giver_id", "role_id"')
    (f,) = _keys(tmp_path, models, table)
    assert f.severity.value == "info" and "(differing in role_id); the model fills (giver_id) for each new row" in f.message

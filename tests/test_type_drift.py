"""MIG006: column types of the models against the schema the migrations build (issue 8). A Flask-SQLAlchemy
model's `db.SmallInteger` is SQLAlchemy's own type, compared like any other; a boolean against an integer says
what it does on the databases the application runs on (fatal on PostgreSQL, harmless on MySQL and SQLite); an
integer the migrations make narrower than the model is a warning except on SQLite. Types dbreview cannot tell (a
dialect variant, a TypeDecorator of unknown impl, a library's type) give no finding."""

from __future__ import annotations

from tests.test_precision import found, revision

FLASK_MODELS = """
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class Member(db.Model):
    __tablename__ = "members"
    id = db.Column(db.Integer, primary_key=True)
    confirmed = db.Column(db.SmallInteger, nullable=False, default=0)
    visits = db.Column(db.BigInteger)
"""

CREATE = """
op.create_table(
    "members",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("confirmed", sa.Boolean(), nullable=False),
    sa.Column("visits", sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint("id"),
)
"""

POSTGRES = 'SQLALCHEMY_DATABASE_URI = "postgresql://app@db/app"\n'
MYSQL = 'SQLALCHEMY_DATABASE_URI = "mysql://app@db/app"\n'
SQLITE = 'SQLALCHEMY_DATABASE_URI = "sqlite:///app.db"\n'


def _types(tmp_path, models: str = FLASK_MODELS, create: str = CREATE, config: str = POSTGRES) -> dict:
    files = {"app/models.py": models, "app/config.py": config, "migrations/versions/0001_r.py": revision(create)}
    return {f.anchor: f for f in found(tmp_path, files, "MIG006") if f.anchor.startswith("drift:type:")}


def _line(models: str, column: str) -> int:
    return next(i for i, line in enumerate(models.splitlines(), 1) if line.strip().startswith(f"{column} ="))


def test_a_flask_model_smallinteger_against_a_boolean_column_fails_on_postgresql(tmp_path):
    f = _types(tmp_path)["drift:type:members.confirmed"]
    assert f.severity.value == "warning"
    assert (f.location.path, f.location.start_line) == ("app/models.py", _line(FLASK_MODELS, "confirmed"))
    assert f.message.startswith("members.confirmed is integer in the model (SmallInteger) but boolean in the "
                                "migrations (Boolean, migrations/versions/0001_r.py:")
    assert 'on PostgreSQL every insert or update that writes it fails (column "confirmed" is of type boolean but ' \
           "expression is of type integer" in f.message
    assert "harmless" not in f.message  # PostgreSQL is the only database it runs on


def test_boolean_against_integer_names_the_other_databases(tmp_path):
    both = _types(tmp_path / "both", config=POSTGRES + MYSQL.replace("SQLALCHEMY_DATABASE_URI", "LEGACY_URI"))
    f = both["drift:type:members.confirmed"]
    assert f.severity.value == "warning" and "; on MySQL (app/config.py:2) it is harmless (MySQL's BOOL is TINYINT(1)" in f.message
    mysql = _types(tmp_path / "mysql", config=MYSQL)["drift:type:members.confirmed"]
    assert mysql.severity.value == "info"
    assert "harmless on the databases it runs on, MySQL (app/config.py:1)" in mysql.message


def test_a_boolean_model_against_a_smallint_column(tmp_path):
    models = FLASK_MODELS.replace("db.Column(db.SmallInteger, nullable=False, default=0)",
                                  "db.Column(db.Boolean, nullable=False, default=False)")
    f = _types(tmp_path, models, CREATE.replace('"confirmed", sa.Boolean()', '"confirmed", sa.SmallInteger()'))[
        "drift:type:members.confirmed"]
    assert 'column "confirmed" is of type smallint but expression is of type boolean' in f.message


def test_an_integer_the_migrations_make_narrower(tmp_path):
    f = _types(tmp_path)["drift:type:members.visits"]
    assert f.severity.value == "warning" and (f.location.start_line == _line(FLASK_MODELS, "visits"))
    assert f.message.startswith("members.visits is BigInteger in the model but Integer in the migrations "
                                "(migrations/versions/0001_r.py:")
    assert "values above 2,147,483,647 pass the model and fail on insert" in f.message
    sqlite = _types(tmp_path / "sqlite", config=SQLITE)["drift:type:members.visits"]
    assert sqlite.severity.value == "info" and "harmless on SQLite" in sqlite.message
    assert "drift:type:members.visits" not in _types(
        tmp_path / "wide", FLASK_MODELS.replace("db.BigInteger", "db.Integer"),
        CREATE.replace('"visits", sa.Integer()', '"visits", sa.BigInteger()'))  # the column holds all the model allows


def test_types_it_cannot_tell_say_nothing(tmp_path):
    variant = FLASK_MODELS.replace("db.Column(db.SmallInteger,", 'db.Column(db.Integer().with_variant(db.Boolean, "postgresql"),')
    assert "drift:type:members.confirmed" not in _types(tmp_path / "variant", variant)  # boolean where it runs
    elsewhere = FLASK_MODELS.replace("db.Column(db.SmallInteger,", 'db.Column(db.Integer().with_variant(db.SmallInteger, "sqlite"),')
    assert "drift:type:members.confirmed" in _types(tmp_path / "elsewhere", elsewhere)  # integer on PostgreSQL
    library = FLASK_MODELS.replace("db.Column(db.SmallInteger,", "db.Column(FlagType,").replace(
        "db = SQLAlchemy()", "from flags.types import FlagType\ndb = SQLAlchemy()")
    assert "drift:type:members.confirmed" not in _types(tmp_path / "library", library)
    decorator = FLASK_MODELS.replace("db.Column(db.SmallInteger,", "db.Column(Flag,").replace(
        "db = SQLAlchemy()", "db = SQLAlchemy()\n\n\nclass Flag(db.TypeDecorator):\n    cache_ok = True\n")
    assert "drift:type:members.confirmed" not in _types(tmp_path / "decorator", decorator)

"""INT017: a foreign key column of another type than the key it references (issue 8), in the schema the
migrations build, or in the models where there are none. A SmallInteger referencing a wider key, shorter
strings and types of another kind are warnings; an Integer referencing a BigInteger (it fails only past
2,147,483,647 ids: judged an overstatement at warning) and a longer string that holds every key are info; columns typed by their
annotation only, or a key the same on both sides, give nothing."""

from __future__ import annotations

import pytest

from analyzers.rules.examples_common import HEADER
from tests.test_precision import found, revision

MODELS = HEADER + '''from sqlalchemy import BigInteger, SmallInteger, Text, Uuid


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    token = mapped_column(Uuid, unique=True)


class Invoice(Base):
    __tablename__ = "invoices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref = mapped_column({column})
'''


def _keys(tmp_path, files: dict[str, str]) -> dict:
    return {f.anchor: f for f in found(tmp_path, files, "INT017")}


@pytest.mark.parametrize("column, severity, words", [
    ('Integer, ForeignKey("accounts.id")', "info",
     "invoices.ref references accounts.id but is Integer, narrower than the key's BigInteger: ids above 2,147,483,647"),
    ('SmallInteger, ForeignKey("accounts.id")', "warning",
     "invoices.ref references accounts.id but is SmallInteger, narrower than the key's BigInteger: ids above 32,767"),
    ('String(50), ForeignKey("accounts.code")', "warning",
     "invoices.ref references accounts.code but is String(50), shorter than the key's String(100): a key longer than 50"),
    ('String(36), ForeignKey("accounts.token")', "warning",
     "invoices.ref references accounts.token but is String where the key is Uuid: PostgreSQL and MySQL refuse"),
    ('String(200), ForeignKey("accounts.code")', "info",
     "invoices.ref references accounts.code but is String(200) where the key is String(100): every key fits"),
])
def test_model_keys(tmp_path, column, severity, words):
    (f,) = _keys(tmp_path, {"app/models.py": MODELS.format(column=column)}).values()
    assert f.anchor == "fk_type:invoices.ref" and f.severity.value == severity and words in f.message
    line = next(i for i, text in enumerate(MODELS.splitlines(), 1) if text.strip().startswith("ref ="))
    assert (f.location.path, f.location.start_line) == ("app/models.py", line)
    assert "(in the schema the models build;" in f.message


@pytest.mark.parametrize("column", [
    'BigInteger, ForeignKey("accounts.id")',
    'ForeignKey("accounts.id")',  # SQLAlchemy copies the key's type
    'String(100), ForeignKey("accounts.code")',
    'Uuid, ForeignKey("accounts.token")',
    'Text, ForeignKey("accounts.code")',  # text of any length: every key fits
])
def test_same_type(tmp_path, column):
    assert _keys(tmp_path, {"app/models.py": MODELS.format(column=column)}) == {}


def test_narrower_integer_harmless_on_sqlite(tmp_path):
    models = MODELS.replace("from sqlalchemy.dialects.postgresql import INET, JSONB, UUID\n", "")  # not PostgreSQL's
    files = {"app/models.py": models.format(column='Integer, ForeignKey("accounts.id")'),
             "app/db.py": 'URL = "sqlite:///app.db"\n'}
    assert _keys(tmp_path, files) == {}


UPGRADE = """
op.create_table("accounts", sa.Column("id", sa.BigInteger(), primary_key=True))
op.create_table(
    "invoices",
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("account_id", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
)
"""


def test_migrated_schema(tmp_path):
    (f,) = _keys(tmp_path, {"migrations/versions/0001_a.py": revision(UPGRADE)}).values()
    assert f.anchor == "fk_type:invoices.account_id" and f.severity.value == "info"
    assert f.location.start_line == 11 and "(in the schema the migrations build;" in f.message


def test_migrated_schema_altered_later(tmp_path):
    """A later revision widens the column: the schema the migrations build is what is compared."""
    later = revision('op.alter_column("invoices", "account_id", type_=sa.BigInteger(), existing_type=sa.Integer())',
                     rev="0002", down="0001")
    files = {"migrations/versions/0001_a.py": revision(UPGRADE), "migrations/versions/0002_b.py": later}
    assert _keys(tmp_path, files) == {}


CODES = """
op.create_table("methods", sa.Column("name", sa.String(30), primary_key=True))
op.create_table(
    "pools",
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("method", sa.String(16)),
    sa.ForeignKeyConstraint(["method"], ["methods.name"]),
)
"""
NOT_NULL = revision('op.alter_column("methods", "name", nullable=False, existing_type=sa.String(255))\n'
                    'op.alter_column("pools", "method", nullable=False, existing_type=sa.String(255))',
                    rev="0002", down="0001")


@pytest.mark.parametrize("url, severity, words", [
    ('URL = "mysql+pymysql://db/app"\n', None, None),  # MODIFY writes both out as VARCHAR(255)
    ('URL = "postgresql://db/app"\n', "warning", "shorter than the key's String(30)"),  # SET NOT NULL alone
    ('MYSQL = "mysql+pymysql://db/app"\nPG = "postgresql://db/app"\n', "info",
     "but on MySQL, the alter_column at migrations/versions/0002_b.py:"),
])
def test_existing_type_a_later_alter_gives_is_the_column_on_mysql(tmp_path, url, severity, words):
    """An alter_column that only sets NOT NULL with existing_type=String(255) makes both columns VARCHAR(255)
    on MySQL (octavia, judged wrong); elsewhere they keep the lengths the replay says."""
    files = {"migrations/versions/0001_a.py": revision(CODES), "migrations/versions/0002_b.py": NOT_NULL,
             "app/db.py": url}
    got = _keys(tmp_path, files)
    if severity is None:
        assert got == {}
    else:
        (f,) = got.values()
        assert f.anchor == "fk_type:pools.method" and f.severity.value == severity and words in f.message

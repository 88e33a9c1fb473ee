"""Which databases the application runs on, and the claims of PostgreSQL's held back where it does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzers.findings import Severity
from tui import cli
from tests.test_precision import LINKS, found, revision, tables

# A table with rows before the revisions below touch it.
FIRST = revision('op.create_table("trackers", sa.Column("id", sa.Integer, primary_key=True))', rev="0001")
LATER = revision("""
op.add_column("trackers", sa.Column("is_seed", sa.Boolean(), nullable=False))
op.create_index("ix_trackers_id", "trackers", ["id"])
op.alter_column("trackers", "id", nullable=False)
""", rev="0002", down="0001")
MIGRATIONS = {"migrations/versions/0001_first.py": FIRST, "migrations/versions/0002_later.py": LATER}

# MySQL in parentheses, SQLite in the other branch of the same configuration.
MYSQL_OR_SQLITE = """
import os
USE_MYSQL = True
if USE_MYSQL:
    SQLALCHEMY_DATABASE_URI = ('mysql://app:secret@localhost/app?charset=utf8mb4')
else:
    SQLALCHEMY_DATABASE_URI = ('sqlite:///' + os.path.join(os.getcwd(), 'app.db'))
"""
SQLITE_ONLY = """
class Config:
    DATA = "/var/lib/app"
    # a PostgreSQL URL in a comment names nothing: "postgresql://app@db/app"
    @property
    def DATABASE_URI(self):
        return f"sqlite:///{self.DATA}/app.sqlite"
"""
PG_AND_SQLITE = 'DATABASE_URL = "sqlite:///app.db"\n'


def rules(tmp_path: Path, files: dict[str, str]) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in found(tmp_path, files):
        out.setdefault(f.rule_id, []).append(f)
    return out


def test_postgresql_alone_or_unknown_keeps_the_lock_and_not_null_claims(tmp_path):
    got = rules(tmp_path, MIGRATIONS)
    assert {"MIG007", "MIG009", "MIG014"} <= set(got)


def test_mysql_and_sqlite_only_hold_back_postgresql_claims_and_group_the_foreign_keys(tmp_path):
    got = rules(tmp_path, {**MIGRATIONS, "config.py": MYSQL_OR_SQLITE, "app/models.py": LINKS})
    assert not {"MIG007", "MIG009", "MIG010", "MIG011", "MIG014"} & set(got)
    (f,) = got["PERF001"]
    assert f.severity == Severity.INFO and f.anchor == "fk-index:mysql-default" and f.location.path == "config.py"
    assert f.message.startswith("the application runs on MySQL/MariaDB, and names no PostgreSQL (config.py:5), where InnoDB")


def test_row_level_security_is_not_asked_of_an_application_on_mysql_only(tmp_path):
    files = {**MIGRATIONS, "app/models.py": tables("projects", "invoices")}
    assert "TEN001" in rules(tmp_path, files)
    assert "TEN001" not in rules(tmp_path / "mysql", {**files, "config.py": MYSQL_OR_SQLITE.replace("sqlite", "mysql")})


def test_sqlite_only_from_a_formatted_url_holds_back_the_lock_claims(tmp_path):
    got = rules(tmp_path, {**MIGRATIONS, "app/config.py": SQLITE_ONLY})
    assert not {"MIG007", "MIG009", "MIG010", "MIG014"} & set(got)


def test_a_postgresql_driver_beside_sqlite_keeps_the_claims(tmp_path):
    got = rules(tmp_path, {**MIGRATIONS, "app/config.py": PG_AND_SQLITE, "requirements.txt": "flask\npsycopg2-binary==2.9\n"})
    (f,) = got["MIG009"]
    assert f.message.endswith("(on PostgreSQL; the application also runs on SQLite (app/config.py:1))")
    assert "behind it (on PostgreSQL; the application also runs on SQLite (app/config.py:1))" in got["MIG014"][0].message


@pytest.mark.parametrize("files, lines", [
    ({"config.py": MYSQL_OR_SQLITE}, ["  MySQL: config.py:5", "  SQLite: config.py:7"]),
    ({"app/config.py": SQLITE_ONLY, "requirements.txt": "asyncpg>=0.29\n"},
     ["  SQLite: app/config.py:7", "  PostgreSQL: requirements.txt:1"]),
    ({"app/models.py": "from sqlalchemy.dialects.mysql import TINYINT\n"}, ["  MySQL: app/models.py:1"]),
    ({"app/models.py": "import sqlalchemy\n"}, ["  unknown (nothing names one)"]),
    # an in-memory SQLite is for tests; a connector's MySQL is not the application's; PostgreSQL's name compared
    ({"app/config.py": 'URI = "sqlite:///:memory:"\n', "app/connectors/shop.py": 'URL = "mysql+pymysql://"\n',
      "app/db.py": 'import sqlalchemy\nON_PG = engine.dialect.name == "postgresql"\n'}, ["  PostgreSQL: app/db.py:2"]),
    # the code names none: a deployment script's URL does; a no-op driver's own SQLite file is not the application's
    ({"app/drivers/noop_driver/driver.py": 'import sqlalchemy\nENGINE = sqlalchemy.create_engine("sqlite:////tmp/noop.db")\n',
      "deploy/setup.sh": '# connection = "postgresql://"\niniset $CONF database connection "mysql+pymysql://u:p@h/app"\n',
      "tests/test.ini": "[db]\nurl = sqlite://\n"}, ["  MySQL: deploy/setup.sh:2"]),
    # a scheme alone, a settings class's prefix with nothing added to it, names no database
    ({"app/config.py": 'SQLITE_PREFIX = config("SQLITE_PREFIX", default="sqlite:///")\n', "requirements.txt": "asyncpg\n"},
     ["  PostgreSQL: requirements.txt:1"]),
    # where the code names one, the set-up files are not read
    ({"app/config.py": 'URL = "postgresql://app@db/app"\n', "tools/local.env": "DATABASE_URL=sqlite:///dev.db\n"},
     ["  PostgreSQL: app/config.py:1"]),
])
def test_explain_layout_names_the_databases_and_where(tmp_path, capsys: pytest.CaptureFixture[str], files, lines):
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    cli.main(["scan", str(tmp_path), "--explain-layout"])
    out = capsys.readouterr().out
    shown = out.split("Databases the application runs on")[1].split("\n\n")[0].splitlines()[1:]
    assert shown == lines


def test_a_backfill_after_an_alter_table_holds_no_lock_on_mysql(tmp_path):
    """ichnaea (MIG013 judged wrong x3): MySQL commits each ALTER TABLE on its own, so the UPDATE after it does not
    run under the ALTER's lock; on PostgreSQL it does."""
    backfill = revision('op.add_column("trackers", sa.Column("kind", sa.String(10)))\nop.execute("UPDATE trackers SET kind = \'a\'")',
                        rev="0002", down="0001")
    files = {"migrations/versions/0001_first.py": FIRST, "migrations/versions/0002_later.py": backfill}
    assert "MIG013" in rules(tmp_path, files)
    assert "MIG013" not in rules(tmp_path / "mysql", {**files, "config.py": MYSQL_OR_SQLITE})

"""An application on SQLite whose foreign keys SQLite does not enforce, as no connection turns them on (INT016):
each case a small repository of our own, with the exact finding (or its absence) pinned."""

from __future__ import annotations

import pytest

from analyzers.findings import Severity
from tests.test_precision import HEADER, found

_MODELS = HEADER + """
class Shelf(Base):
    __tablename__ = "shelves"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shelf_id: Mapped[int] = mapped_column(ForeignKey("shelves.id"{ondelete}))
"""

_CONFIG = """
import os

DATABASE_URL = os.environ.get("LIBRARY_DB", "sqlite:///library.db")
"""

_PG = """
ALTERNATIVE = "postgresql+psycopg://library@db/library"
"""


def _files(ondelete: str = ', ondelete="CASCADE"', config: str = _CONFIG, extra: dict | None = None) -> dict[str, str]:
    return {"library/models.py": _MODELS.format(ondelete=ondelete), "library/config.py": config, **(extra or {})}


def test_sqlite_only_with_a_cascade_and_no_pragma_is_a_warning(tmp_path):
    (f,) = found(tmp_path, _files(), "INT016")
    assert f.severity == Severity.WARNING and f.item_id == "5.4" and f.anchor == "app:sqlite-foreign-keys-off"
    assert (f.location.path, f.location.start_line) == ("library/config.py", 4)
    assert "PRAGMA foreign_keys=ON" in f.message and "ON DELETE CASCADE" in f.message and "books" in f.message
    assert f.related[0].location.path == "library/models.py"


def test_the_default_beside_postgresql_is_a_warning_and_says_so(tmp_path):
    (f,) = found(tmp_path, _files(config=_CONFIG + _PG), "INT016")
    assert f.severity == Severity.WARNING
    assert "SQLite is its default, the fallback when the setting is not given; it also runs on PostgreSQL (library/config.py:6)" in f.message


@pytest.mark.parametrize("config", [
    'if MODE == "lite":\n    URL = "sqlite:///library.db"\nelse:\n    URL = "postgresql://library@db/library"\n',
    'class DevelopmentConfig:\n    URL = os.environ.get("DEV_DB") or "sqlite:///dev.db"\nURL = "postgresql://library@db/library"\n',
])
def test_one_option_beside_postgresql_is_info_and_says_so(tmp_path, config):
    (f,) = found(tmp_path, _files(config="import os\n" + config), "INT016")
    assert f.severity == Severity.INFO and "SQLite is one option: it also runs on PostgreSQL" in f.message


def test_an_else_branch_is_the_default(tmp_path):
    config = 'import os\nif os.environ.get("DB"):\n    URL = os.environ["DB"]\nelse:\n    URL = "sqlite:///library.db"\nPG = "postgresql://x@db/x"\n'
    (f,) = found(tmp_path, _files(config=config), "INT016")
    assert f.severity == Severity.WARNING and "the else branch of the set-up" in f.message


def test_keys_without_an_action_are_still_unchecked(tmp_path):
    (f,) = found(tmp_path, _files(ondelete=""), "INT016")
    assert "are not checked: a row may name a parent that does not exist" in f.message and "ON DELETE" not in f.message


@pytest.mark.parametrize("turned_on", [
    'from sqlalchemy import event\n@event.listens_for(Engine, "connect")\ndef on(c, r):\n    c.execute("PRAGMA foreign_keys=ON")\n',
    'ENGINE_OPTIONS = {"connect_args": {"uri": True}}\nURL = "sqlite:///file:library.db?foreign_keys=1&uri=true"\n',
    'from oslo_db.sqlalchemy import enginefacade\nenginefacade.writer.configure(sqlite_fk=True)\n',
    'import sqlite3\nconn = sqlite3.connect("library.db")\nconn.execute("pragma foreign_keys = 1")\n',
])
def test_keys_turned_on_anywhere_in_the_application_are_no_finding(tmp_path, turned_on):
    assert found(tmp_path, _files(extra={"library/db.py": turned_on}), "INT016") == []


def test_a_pragma_only_in_tests_does_not_count(tmp_path):
    pragma = 'def setup(c):\n    c.execute("PRAGMA foreign_keys=ON")\n'
    (f,) = found(tmp_path, _files(extra={"tests/conftest.py": pragma}), "INT016")
    assert f.severity == Severity.WARNING


@pytest.mark.parametrize("config", [
    'URL = "sqlite://"\n',  # in memory
    'URL = "postgresql://library@db/library"\n',
])
def test_no_sqlite_url_of_the_application_is_no_finding(tmp_path, config):
    assert found(tmp_path, _files(config=config), "INT016") == []


def test_a_sqlite_url_only_in_tests_is_no_finding(tmp_path):
    files = _files(config='URL = "postgresql://library@db/library"\n', extra={"tests/conftest.py": 'URL = "sqlite:///t.db"\n'})
    assert found(tmp_path, files, "INT016") == []


def test_no_foreign_keys_is_no_finding(tmp_path):
    models = HEADER + """
class Shelf(Base):
    __tablename__ = "shelves"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
"""
    assert found(tmp_path, {"library/models.py": models, "library/config.py": _CONFIG}, "INT016") == []


def test_a_url_in_a_docstring_is_no_database_of_the_application(tmp_path):
    helper = 'def sort(query):\n    """Sorts a query.\n\n        engine = create_engine(\n            "sqlite:///"\n        )\n    """\n'
    files = _files(config='URL = "postgresql://library@db/library"\n', extra={"library/sorting.py": helper})
    assert found(tmp_path, files, "INT016") == []


def test_a_side_database_with_tables_of_its_own_is_not_the_applications(tmp_path):
    cache = ('from sqlalchemy import Column, Integer, MetaData, Table, create_engine\n\nlocal = MetaData()\n'
             'hits = Table("hits", local, Column("id", Integer, primary_key=True))\nengine = create_engine("sqlite:///hits.db")\n')
    files = _files(config='URL = "postgresql://library@db/library"\n', extra={"library/cache.py": cache})
    assert found(tmp_path, files, "INT016") == []

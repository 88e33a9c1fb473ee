"""PERF001 on layouts it misread (issue 7, session 23), each rebuilt as a small repository of our own: a `tools/`
package inside the application's package is the application (its queries are reads, its inserts growth), unlike a
`tools/` folder at the top of the repository; a foreign key named through a module constant, `ForeignKey(USER_ID)`,
references the table the constant names."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.test_precision import HEADER, found

MODELS = HEADER + """
USER_ID = "users.id"

class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class History(Base):
    __tablename__ = "history"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[int] = mapped_column(ForeignKey(USER_ID))
"""

HISTORY = """
from sqlalchemy import select
from web.app.models import History

def save(session, uid):
    session.add(History(uid=uid))

def listed(session, uid):
    return session.scalars(select(History).where(History.uid == uid)).all()
"""

VIEWS = "from web.app.tools.editor import history\nPAGES = {'save': history.save, 'list': history.listed}\n"


def _uid(findings):
    (f,) = [f for f in findings if f.anchor == "table:history.uid"]
    return f


def test_a_tools_package_inside_the_application_is_its_code(tmp_path):
    """web/app/tools/editor/ holds the editor's code: its query by uid scans history, which its insert grows (a
    warning); the key's parent is the table USER_ID names."""
    f = _uid(found(tmp_path, {"web/app/models.py": MODELS, "web/app/tools/editor/history.py": HISTORY,
                              "web/app/views.py": VIEWS}, "PERF001"))
    assert f.severity == Severity.WARNING and f.location.path == "web/app/models.py"
    assert f.message.startswith("history.uid is a foreign key with no index: the query at "
                                "web/app/tools/editor/history.py:9 filters on it, so each such read scans history, as "
                                "does the foreign key check on deleting (or changing the key of) a row of users")


def test_a_tools_folder_at_the_top_of_the_repository_is_tooling(tmp_path):
    """tools/ at the top: a maintainer's scripts, neither reads nor growth of the application (an info)."""
    top = HISTORY.replace("from web.app.models", "from web.app.models")
    f = _uid(found(tmp_path, {"web/app/models.py": MODELS, "tools/history.py": top}, "PERF001"))
    assert f.severity == Severity.INFO and "tools/history.py" not in f.message
    assert "USER_ID" not in f.message


def test_a_class_imported_under_another_name_and_constructed_grows_its_table(tmp_path):
    """`from ... import History as HistoryRow` then `HistoryRow(uid=uid)`: rows of history added (a warning), as
    `History(...)` would; without the construction dbreview finds no growth (an info that says so)."""
    aliased = HISTORY.replace("import History\n", "import History\nfrom web.app.models import History as HistoryRow\n") \
        .replace("session.add(History(uid=uid))", "session.add(HistoryRow(uid=uid))")
    f = _uid(found(tmp_path / "a", {"web/app/models.py": MODELS, "web/app/tools/editor/history.py": aliased,
                                    "web/app/views.py": VIEWS}, "PERF001"))
    assert f.severity == Severity.WARNING and "no application code that adds rows" not in f.message
    none = aliased.replace("session.add(HistoryRow(uid=uid))", "pass")
    g = _uid(found(tmp_path / "b", {"web/app/models.py": MODELS, "web/app/tools/editor/history.py": none,
                                    "web/app/views.py": VIEWS}, "PERF001"))
    assert g.severity == Severity.INFO and "no application code that adds rows to history (no History constructed" in g.message

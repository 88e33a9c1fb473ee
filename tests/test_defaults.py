"""MOD009: a column default computed once, when the module is imported (`default=datetime.utcnow()`), on models of
our own; the shapes met on real backends (open-event-server, rucio, security_monkey, timesketch)."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.test_precision import HEADER, found

MODEL = HEADER + """
from sqlalchemy import Column, Unicode
from uuid import uuid4


class CheckIn(Base):
    __tablename__ = "check_ins"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at = Column(DateTime(timezone=True), {created})
    template_uuid = Column(Unicode(255), unique=True, {uuid})
"""


def model(created: str = "default=datetime.utcnow", uuid: str = "default=lambda: str(uuid4())") -> dict[str, str]:
    return {"app/models.py": MODEL.format(created=created, uuid=uuid)}


def test_a_clock_called_in_the_default_stamps_every_row_with_the_start_time(tmp_path):
    (f,) = found(tmp_path, model(created="default=datetime.datetime.utcnow()"), "MOD009")
    assert (f.severity, f.location.start_line, f.anchor) == (Severity.WARNING, 18, "table:check_ins.created_at")
    assert f.message.endswith(
        " has `default=datetime.datetime.utcnow()`: the call runs once, when the module is imported, so every row a "
        "process inserts gets the time that process started, not its own, and nothing fails to show it. Pass the "
        "function itself (`default=datetime.datetime.utcnow`), or let the database fill it")


def test_a_random_value_called_in_the_default_of_a_unique_column_fails_the_second_insert(tmp_path):
    (f,) = found(tmp_path, model(uuid="default=str(uuid4())"), "MOD009")
    assert "template_uuid is unique: the second insert fails with a unique violation" in f.message
    assert "Pass the function itself (`default=lambda: str(uuid4())`)" in f.message


def test_the_function_itself_or_a_sql_function_is_no_finding(tmp_path):
    assert found(tmp_path, model(), "MOD009") == []
    sql = model(created="default=func.now()", uuid="default=uuid4")
    assert found(tmp_path / "sql", sql, "MOD009") == []
    bare = model(created="default=now()")  # sqlalchemy.sql.functions.now, or a project's: not known to be the clock
    assert found(tmp_path / "bare", bare, "MOD009") == []


def test_a_clock_called_inside_an_expression_is_computed_once_too(tmp_path):
    (f,) = found(tmp_path, model(created="default=(datetime.datetime.utcnow() + timedelta(days=10))"), "MOD009")
    assert (f.location.start_line, f.anchor) == (18, "table:check_ins.created_at")
    assert ("gets a value computed from the time that process started (`datetime.datetime.utcnow()`), not from its "
            "own") in f.message
    assert "Pass the function itself (`default=lambda: datetime.datetime.utcnow() + timedelta(days=10)`)" in f.message
    (g,) = found(tmp_path / "tz", model(created="default=datetime.datetime.now(datetime.timezone.utc)"), "MOD009")
    assert "Pass the function itself (`default=lambda: datetime.datetime.now(datetime.timezone.utc)`)" in g.message
    (h,) = found(tmp_path / "hex", model(uuid="default=uuid4().hex[:8]"), "MOD009")
    assert "template_uuid is unique: the second insert fails" in h.message


def test_a_clock_in_a_lambda_or_a_sql_expression_is_evaluated_per_row(tmp_path):
    per_row = model(created="default=lambda: datetime.datetime.utcnow() + timedelta(days=10)",
                    uuid="default=lambda: uuid4().hex[:8]")
    assert found(tmp_path, per_row, "MOD009") == []
    sql = model(created="default=func.now() + timedelta(days=10)")
    assert found(tmp_path / "sql", sql, "MOD009") == []


def test_a_frozen_default_every_insert_of_the_code_overrides_is_info(tmp_path):
    """mlrun (MOD009 judged debatable x13: every code path sets the time itself): where each place the application
    adds rows names the column, the default fills none today; one that leaves it out keeps the warning."""
    files = model(created="default=datetime.datetime.utcnow()")
    files["app/checkins.py"] = ("import datetime\nfrom app.models import CheckIn\n\n\ndef check_in(session):\n"
                                "    session.add(CheckIn(created_at=datetime.datetime.now(datetime.timezone.utc)))\n")
    (f,) = found(tmp_path, files, "MOD009")
    assert f.severity is Severity.INFO and "every row the code adds sets created_at itself (1 place(s)" in f.message
    files["app/checkins.py"] = files["app/checkins.py"].replace("created_at=datetime.datetime.now(datetime.timezone.utc)", "")
    (f,) = found(tmp_path / "left", files, "MOD009")
    assert f.severity is Severity.WARNING
    # security_monkey (judged right): `ttl=None` given is the default's to fill
    files["app/checkins.py"] = files["app/checkins.py"].replace("CheckIn()", "CheckIn(created_at=None)")
    (f,) = found(tmp_path / "none", files, "MOD009")
    assert f.severity is Severity.WARNING
    files["app/checkins.py"] = files["app/checkins.py"].replace("def check_in(session):", "def check_in(session, at=None):").replace(
        "CheckIn(created_at=None)", "CheckIn(created_at=at)")
    (f,) = found(tmp_path / "param", files, "MOD009")
    assert f.severity is Severity.WARNING

"""PERF001 on a table named as configuration (issue 7, session 23): rules, templates, settings and their links are
written by hand and stay few, where a scan costs what an index lookup does. Where a class's or a table's name ends in
such a word, a scanning read is an info that says the name is all dbreview goes by; a name that says its rows are a
user's own (they grow with the users) stays a warning, as does any other table that grows with use."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.growing import found_growing as found
from tests.test_perf001_reads import calls
from tests.test_precision import HEADER

MODELS = HEADER + """
from sqlalchemy import Column, Table

class Tenant(Base):
    __tablename__ = "tenants"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class {name}(Base):
    __tablename__ = "{table}"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))

alert_filters = Table(
    "assoc_alert_filters", Base.metadata,
    Column("alert_id", Integer, ForeignKey("tenants.id"), primary_key=True, index=True),
    Column("filter_id", Integer, ForeignKey("tenants.id"), nullable=False),
)
"""

READS = """
from sqlalchemy import select
from app.models import {name}, alert_filters

def listed(session, tenant):
    return session.scalars(select({name}).where({name}.tenant_id == tenant)).all()

def linked(session, f):
    return session.execute(select(alert_filters).where(alert_filters.c.filter_id == f)).all()
"""


def _scan(tmp_path, name: str, table: str):
    files = {"app/models.py": MODELS.format(name=name, table=table), "app/reads.py": READS.format(name=name),
             **calls("reads", "listed", "linked")}
    return {f.anchor: f for f in found(tmp_path, files, "PERF001")}


def test_a_table_named_as_configuration_is_an_info_that_says_so(tmp_path):
    got = _scan(tmp_path, "ExtractionRule", "extraction_rules")
    f = got["table:extraction_rules.tenant_id"]
    assert f.severity == Severity.INFO and f.location.path == "app/models.py" and f.location.start_line == 20
    assert f.message.startswith("extraction_rules.tenant_id is a foreign key with no index: the query at app/reads.py:6 "
                                "filters on it, so each such read scans extraction_rules")
    assert ("; but ExtractionRule is named as configuration (its name ends in 'Rule', which is all dbreview goes by here: "
            "it cannot see how many rows a table holds): rules, templates and settings are written by hand and stay few"
            ) in f.message
    link = got["table:assoc_alert_filters.filter_id"]  # a link table, named by its table's name
    assert link.severity == Severity.INFO
    assert "but assoc_alert_filters is named as configuration (its name ends in 'filters'" in link.message


def test_a_users_own_settings_and_other_tables_stay_warnings(tmp_path):
    mine = _scan(tmp_path / "a", "UserSetting", "user_settings")["table:user_settings.tenant_id"]
    assert mine.severity == Severity.WARNING and "named as configuration" not in mine.message
    other = _scan(tmp_path / "b", "Invoice", "invoices")["table:invoices.tenant_id"]
    assert other.severity == Severity.WARNING and "named as configuration" not in other.message

"""Drafted answers: one per question of the checklist, built from the facts, citing file:line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analyzers.answers import draft_answers
from analyzers.checklist import load_checklist
from analyzers.engine import scan
from analyzers.examples import facts_from_sources

FIXTURES = Path(__file__).parent / "fixtures"
DEMO = Path(__file__).parent.parent / "tui" / "demo" / "apps" / "backend"
CITE = re.compile(r"[\w./-]+\.py:\d+")

_DB = '''
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import Session

engine = create_async_engine(URL, pool_size=10, max_overflow=5, pool_pre_ping=True)

@event.listens_for(Session, "after_begin")
def set_rls(session, transaction, connection):
    connection.execute(text("SELECT set_config('app.current_user_id', :u, {local})"), {{"u": uid()}})
    connection.execute(text("SELECT set_config('app.current_tenant_id', :t, {local})"), {{"t": tid()}})

@event.listens_for(engine.sync_engine, "checkin")
def reset(dbapi_connection, record):
    dbapi_connection.cursor().execute("{reset}")
'''
_MODELS = '''
import uuid
from datetime import datetime
from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

class Base(DeclarativeBase):
    pass

class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

class Appointment(Base):
    __tablename__ = "appointments"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    scheduled_at: Mapped[datetime] = mapped_column(DateTime)
'''
_MIGRATION = '''
from alembic import op
import sqlalchemy as sa
revision = "0001"
down_revision = None
def upgrade():
    op.create_table("patients", sa.Column("id", sa.Integer, primary_key=True), sa.Column("organization_id", sa.Integer))
    op.execute("ALTER TABLE patients ENABLE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY tenant ON patients USING (organization_id = current_setting('app.current_tenant_id')::int)")
def downgrade():
    pass
'''


def _facts(local: str = "true", reset: str = "DISCARD ALL"):
    return facts_from_sources({
        "src/database.py": _DB.format(local=local, reset=reset),
        "src/models.py": _MODELS,
        "migrations/versions/0001_init.py": _MIGRATION,
    })


def test_every_question_gets_a_draft():
    ids = {q.id for q in load_checklist("database").questions}
    answers = draft_answers(_facts())
    assert set(answers) == ids and len(ids) == 27
    assert not [q for q, text in answers.items() if text.startswith("(no draft")]


def test_rls_variables_answer_names_listener_scope_and_line():
    good = draft_answers(_facts())["q1.1"]
    assert good.startswith("Yes")
    assert "`after_begin` listener `set_rls` (src/database.py:10)" in good and "transaction scope" in good
    leaky = draft_answers(_facts(local="false"))["q1.1"]
    assert leaky.startswith("Set on every transaction, but not safely") and "SESSION scope" in leaky


def test_pool_answer_reports_the_checkin_reset():
    assert "runs DISCARD ALL: a full reset" in draft_answers(_facts())["q1.2"]
    partial = draft_answers(_facts(reset="RESET ALL"))["q1.2"]
    assert "runs RESET ALL: not DISCARD ALL" in partial and "src/database.py:14" in partial


def test_rollback_answer_counts_empty_downgrades():
    text = draft_answers(_facts())["q3.1"]
    assert "1 revisions" in text and "1 with an empty downgrade" in text
    assert "migrations/versions/0001_init.py:10" in text and text.startswith("Not safely")


def test_phi_and_tenant_answers_list_tables_without_rls():
    answers = draft_answers(_facts())
    assert answers["q4.1"].startswith("No.") and "appointments (src/models.py:16)" in answers["q4.1"]
    assert "patients" in answers["q3.3"] and "reads the tenant" in answers["q3.3"] and "not forced" in answers["q3.3"]
    assert "RLS not FORCEd on patients" in answers["q6.1"]


def test_soft_delete_and_time_answers():
    answers = draft_answers(_facts())
    assert "appointments (src/models.py:16)" in answers["q4.3"] and "ON DELETE CASCADE" in answers["q4.3"]
    assert answers["q9.1"].startswith("No:") and "appointments.scheduled_at (src/models.py:20)" in answers["q9.1"]


def test_a_project_without_the_checklists_entities_gets_honest_answers():
    answers = draft_answers(facts_from_sources({"app.py": "import sqlalchemy\n"}))
    assert answers["q5.2"].startswith("No mapped models")
    assert answers["q10.3"].startswith("No:")
    assert answers["q4.1"].startswith("The schema has no patients table")


@pytest.mark.parametrize("shape", ["flask_legacy", "sqlmodel_app", "typed_mixins", "migration_graph"])
def test_fixture_answers_are_drafted_and_cite_lines(shape):
    answers = scan(FIXTURES / shape).result.drafted_answers
    assert len(answers) == 27
    assert not [q for q, text in answers.items() if text.startswith("(no draft")]


def test_demo_answers_cite_the_planted_defects():
    answers = scan(DEMO).result.drafted_answers
    assert "RESET ALL" in answers["q1.2"] and "src/database.py" in answers["q1.2"]
    assert "NOT enforced" in answers["q5.2"]  # one PRIMARY per patient, unique (organization_id, npi_number)
    cited = sum(1 for text in answers.values() if CITE.search(text))
    assert cited >= 20, "most answers point at code"


@pytest.mark.parametrize("given, q1_2, cfg005", [
    ("pool_pre_ping=True", "`engine` (db.py:3): pool_pre_ping", False),
    ("pool_pre_ping=False", "`engine` (db.py:3): no pool_pre_ping", True),
    ("pool_size=5", "`engine` (db.py:3): no pool_pre_ping", True),
    ("pool_pre_ping=env_flag('DB_PRE_PING', True)",
     "`engine` (db.py:3): pool_pre_ping=env_flag('DB_PRE_PING', True) (decided at run time)", False),
    ("**settings.ENGINE", "`engine` (db.py:3): settings passed as **settings.ENGINE, not read here", False),
])
def test_the_pre_ping_reads_alike_in_the_answers_and_cfg005(given, q1_2, cfg005):
    """q1.2, q8.2 and CFG005 rest on one reading of the engine's pool_pre_ping (facts/engines.pre_ping)."""
    from analyzers.rules.s01_configuration import PoolWithoutPrePing

    facts = facts_from_sources({"db.py": f"from sqlalchemy import create_engine\nfrom app.flags import env_flag\nengine = create_engine(URL, {given})\n"})
    answers = draft_answers(facts)
    assert q1_2 in answers["q1.2"]
    if "pool_pre_ping=" in given:
        assert given.replace("**", "") in answers["q8.2"]
    assert bool(list(PoolWithoutPrePing(facts).check())) is cfg005

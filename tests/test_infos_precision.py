"""Infos judges found debatable or wrong on real backends (issue 7), each class rebuilt as a small repository of
our own with the finding (or its absence) pinned: CFG008, INT002, MOD002."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.test_precision import HEADER, found, revision

# -- CFG008: a member of an enum imported from another module is a constant ---------------------------

_ROLES = """
from enum import Enum, IntEnum

class Level(IntEnum):
    ADMIN = 50
    MEMBER = 10

class Limits:
    CAP = 10
"""


def _migration(value: str, imported: str) -> str:
    return revision(f"""
    op.execute(f"UPDATE accounts SET level = {{{value}}} WHERE is_admin")
""").replace("def upgrade():", f"from app.roles import {imported}\n\ndef upgrade():")


def test_an_enum_member_imported_from_another_module_is_a_constant_in_migration_sql(tmp_path):
    """FitTrackee (first meeting, CFG008 x2 wrong): `UserRole.ADMIN.value` of an Enum declared in the app's own
    module, formatted into a migration's UPDATE, is a constant: nothing to bind."""
    files = {"app/roles.py": _ROLES, "migrations/versions/0001_levels.py": _migration("Level.ADMIN.value", "Level")}
    assert found(tmp_path, files, "CFG008") == []


def test_an_attribute_of_an_imported_class_that_is_no_enum_is_still_followed(tmp_path):
    """Only an enum's members are known constants: another class's attribute stays a value of unknown source."""
    files = {"app/roles.py": _ROLES, "migrations/versions/0001_levels.py": _migration("Limits.CAP.value", "Limits")}
    (f,) = found(tmp_path, files, "CFG008")
    assert f.severity == Severity.INFO and f.anchor == "migration:0001:sql:Limits.CAP.value"
    assert "`Limits` is imported from app.roles" in f.message


def test_a_member_of_an_enum_of_a_module_dbreview_cannot_read_says_so(tmp_path):
    files = {"migrations/versions/0001_levels.py": _migration("Level.ADMIN.value", "Level")}
    (f,) = found(tmp_path, files, "CFG008")
    assert f.severity == Severity.INFO and "`Level.ADMIN.value` is a member of `app.roles.Level`, which dbreview could not read (if that is an enum" in f.message


def test_an_all_caps_attribute_of_a_class_imported_from_a_library_is_a_constant(tmp_path):
    """cloudify-manager (CFG008, judged wrong): `BlueprintUploadState.UPLOADED` of a library's plain class, formatted
    into a migration's UPDATE, is a constant as an imported ALL-CAPS name is; a lower-case attribute is still followed."""
    files = {"migrations/versions/0001_levels.py": _migration("States.UPLOADED", "States").replace(
        "from app.roles import", "from vendorlib.states import")}
    assert found(tmp_path, files, "CFG008") == []
    files = {"migrations/versions/0001_levels.py": _migration("States.current", "States").replace(
        "from app.roles import", "from vendorlib.states import")}
    (f,) = found(tmp_path / "lower", files, "CFG008")
    assert f.severity == Severity.INFO and "which dbreview could not read" in f.message


def test_a_constant_of_a_plain_class_of_the_project_is_a_constant(tmp_path):
    """The project's own plain class (`class Limits: CAP = 10`) is read: its literal attribute is a constant."""
    files = {"app/roles.py": _ROLES, "migrations/versions/0001_levels.py": _migration("Limits.CAP", "Limits")}
    assert found(tmp_path, files, "CFG008") == []


# -- INT002: a doc= or comment= that says why there is no foreign key --------------------------------

_LEDGER_DOC = HEADER + """
class Wallet(Base):
    __tablename__ = "wallets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Payout(Base):
    __tablename__ = "payouts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wallet_id: Mapped[int] = mapped_column(
        Integer,
        doc="kept for billing even when the wallet is deleted (that is why we do not introduce a foreign key)",
    )
"""


def test_a_doc_that_says_why_there_is_no_foreign_key_is_read(tmp_path):
    """osparc (INT002 x2 wrong): `doc="... reason why we do not introduce foreign key"` already says it."""
    got = {f.anchor for f in found(tmp_path, {"app/models.py": _LEDGER_DOC}, "INT002")}
    assert "table:payouts.wallet_id" not in got
    plain = _LEDGER_DOC.replace("(that is why we do not introduce a foreign key)", "(billing)")
    got = {f.anchor for f in found(tmp_path / "p", {"app/models.py": plain}, "INT002")}
    assert "table:payouts.wallet_id" in got  # a doc that gives no such reason is no reason


# -- MOD002: NOT NULL timestamps filled by the application, no outside insert in sight ---------------

_STAMPED = HEADER + """
from typing import Optional

class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=datetime.utcnow)

class Like(Base):
    __tablename__ = "likes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=datetime.utcnow)

class Draft(Base):
    __tablename__ = "drafts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True), default=datetime.utcnow)
"""


def test_not_null_timestamps_the_app_fills_are_one_convention_finding(tmp_path):
    """FitTrackee (first meeting, MOD002 x13 debatable): NOT NULL columns the ORM always fills, with no insert outside
    it in sight: an outside insert would fail loudly, not store a wrong time. One info for the convention, that says
    what it rests on; a nullable one (a silent NULL) keeps its own finding."""
    got = found(tmp_path, {"app/models.py": _STAMPED}, "MOD002")
    by_anchor = {f.anchor: f for f in got}
    assert set(by_anchor) == {"timestamps:filled-by-the-app", "table:drafts.created_at"}
    convention = by_anchor["timestamps:filled-by-the-app"]
    assert convention.severity == Severity.INFO and convention.location.start_line == 16
    assert convention.message.startswith("2 NOT NULL timestamp columns have no server_default and are filled by the "
                                         "application (notes.created_at, likes.created_at)")
    assert "fails on NOT NULL rather than storing a wrong time" in convention.message
    assert [r.location.start_line for r in convention.related] == [21]
    assert by_anchor["table:drafts.created_at"].message.endswith("or it stores NULL in it")


def test_a_not_null_timestamp_an_outside_insert_leaves_out_stays_a_warning_of_its_own(tmp_path):
    insert = revision("op.execute(\"INSERT INTO likes (id) VALUES (1)\")")
    got = {f.anchor: f for f in found(tmp_path, {"app/models.py": _STAMPED, "migrations/versions/0001_seed.py": insert}, "MOD002")}
    assert got["table:likes.created_at"].severity == Severity.WARNING
    assert got["table:notes.created_at"].severity == Severity.INFO  # alone now: its own finding, as before
    assert "timestamps:filled-by-the-app" not in got


def test_the_convention_finding_is_advised_in_its_own_words(tmp_path):
    from analyzers.advice import advice

    (f,) = [f for f in found(tmp_path, {"app/models.py": _STAMPED}, "MOD002") if f.anchor.startswith("timestamps:")]
    assert advice(f.rule_id, f.anchor, f.message).startswith("If a script, a data migration or another service inserts into these tables")


# -- CFG008: a number by default under a dict key the project writes only numbers under -------------

_RUN = '''
import sqlalchemy as sa

_TIMEOUT = 30000


def run(context, conn):
    timeout = context.get("query_timeout", _TIMEOUT)
    conn.execute(sa.text(f"SET LOCAL statement_timeout TO {timeout}"))
'''


def _only_once_varied(tmp_path, files: dict[str, str], path: str, safe: str, varied: str):
    """No CFG008 with `safe` at `path`; with `varied` there, the one info finding, returned."""
    assert found(tmp_path, {**files, path: safe}, "CFG008") == []
    (f,) = found(tmp_path / "varied", {**files, path: varied}, "CFG008")
    assert f.severity == Severity.INFO
    return f


def test_a_key_the_project_writes_only_numbers_under_is_a_number(tmp_path):
    """CKAN (CFG008 x4 debatable): `context.get('query_timeout', _TIMEOUT)` where the only writer of the key, the
    CLI, stores `int(...)`: the value is a number on every path dbreview can see; no finding."""
    cli = 'def main(seconds, run):\n    run({"query_timeout": int(seconds * 1000)}, None)\n'
    given = cli + '\ndef handler(request, run):\n    ctx = {}\n    ctx["query_timeout"] = request.args["t"]\n    run(ctx, None)\n'
    f = _only_once_varied(tmp_path, {"app/run.py": _RUN}, "app/cli.py", cli, given)
    assert f.anchor == "sql:run:timeout"
    assert "`30000` is a constant on one path, but on another `context` is a parameter of `run`" in f.message


# -- TZ001: a UTC TypeDecorator whose process_bind_param signature runs over several lines ---------

def test_a_utc_decorator_with_a_signature_over_several_lines_stores_utc_on_purpose(tmp_path):
    """FitTrackee (TZ001 debatable): TZDateTime's process_bind_param, its signature over three lines, rejects naive
    values and converts to UTC; its 31 columns are UTC on purpose, not a naive convention."""
    from tests.test_precision import _UTC_TYPE, _stamps

    wrapped = _UTC_TYPE.replace("    def process_bind_param(self, value, dialect):",
                                "    def process_bind_param(\n        self, value, dialect\n    ):")
    found_ = found(tmp_path, {"app/types.py": wrapped, "app/models.py": _stamps("StoredUtc")}, "TZ001")
    assert [f.anchor for f in found_] == ["type:StoredUtc:naive-utc"]  # the decorator's one info, no convention


# -- CFG008: a parameter every call of another module gives a literal --------------------------------

_RESTART = '''
import sqlalchemy as sa


def restart_sequence(conn, table_name):
    conn.execute(sa.text(f"SELECT setval('{table_name}_id_seq', (SELECT max(id) FROM {table_name}))"))
'''


def test_a_helper_only_ever_called_with_literal_names_is_no_injection(tmp_path):
    """privacyidea (CFG008 debatable): a helper whose only callers, in migrations of another module, pass literal
    table names; a caller passing a variable keeps the finding as it was."""
    calls = 'from app.seq import restart_sequence\n\ndef upgrade(conn):\n    restart_sequence(conn, "settings")\n'
    varied = calls + '\ndef again(conn, name):\n    restart_sequence(conn, table_name=name)\n'
    f = _only_once_varied(tmp_path, {"app/seq.py": _RESTART}, "app/upgrade.py", calls, varied)
    assert f.anchor == "sql:restart_sequence:table_name"
    assert "`table_name` is a parameter of `restart_sequence`, whose callers are not in this module" in f.message


_UNITS = HEADER + """
class Unit(Base):
    __tablename__ = "units"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Payout(Base):
    __tablename__ = "payouts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer)

class Refill(Base):
    __tablename__ = "refills"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer)
"""


def test_a_shared_column_read_on_its_core_table_is_cited_for_that_table_only(tmp_path):
    """osparc: `projects_node_to_pricing_unit.c.pricing_plan_id` names that table's column (a shared name), and only
    that one's: the finding cites the line; the other table's finding does not."""
    query = "import sqlalchemy as sa\n\n\ndef units(payouts):\n    return sa.select(payouts.c.unit_id)\n"
    got = {f.anchor: f for f in found(tmp_path, {"app/models.py": _UNITS, "app/queries.py": query}, "INT002")}
    assert "the code names it (app/queries.py:5), but dbreview ties no lookup" in got["table:payouts.unit_id"].message
    assert "the code names it" not in got["table:refills.unit_id"].message


def test_names_from_the_applications_own_model_metadata_are_not_injectable(tmp_path):
    """timesketch tsctl.py (first meeting, CFG008 debatable): `table.name` and `column.name` of a loop over
    `Base.metadata.sorted_tables` are the tables and columns the application declares, not a caller's input."""
    tool = """
from sqlalchemy import text
from app.models import Base

def reset_sequences(session, given):
    for table in Base.metadata.sorted_tables:
        for column in table.primary_key.columns:
            session.execute(text(f'SELECT MAX("{column.name}") FROM "{table.name}"'))
    session.execute(text(f'SELECT MAX(id) FROM "{given}"'))
"""
    (f,) = found(tmp_path, {"app/models.py": HEADER, "app/tool.py": tool}, "CFG008")
    assert f.anchor == "sql:reset_sequences:given"

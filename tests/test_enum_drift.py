"""MIG006: labels of a model's native enum that no migration writes (issue 8): on PostgreSQL the database type
lacks them and an insert of one fails. Literal labels and a Python enum's members are read; a later `ALTER TYPE
... ADD VALUE` counts; labels the migrations build from code, an enum stored as VARCHAR, or an application off
PostgreSQL give no finding."""

from __future__ import annotations

from tests.test_fk_action_drift import drift
from tests.test_precision import found, revision

MODELS = """
import enum

from sqlalchemy import Enum, Integer
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Status(enum.Enum):
    ACTIVE = "active"
    PAUSED = "paused"
    ARCHIVED = "archived"


class Plan(Base):
    __tablename__ = "plans"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status = mapped_column(Enum(Status, name="plan_status"), nullable=False)
    tier = mapped_column(Enum("free", "pro", "team", name="plan_tier"), nullable=False)
"""

CREATE = """
op.create_table(
    "plans",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("status", sa.Enum("ACTIVE", "PAUSED", name="plan_status"), nullable=False),
    sa.Column("tier", sa.Enum("free", "pro", name="plan_tier"), nullable=False),
)
"""


def _enums(tmp_path, models: str = MODELS, *upgrades: str) -> dict:
    return {f.anchor: f for f in drift(tmp_path, "enum", models, *(upgrades or (CREATE,)))}


def _line(column: str) -> int:
    return next(i for i, line in enumerate(MODELS.splitlines(), 1) if line.strip().startswith(f"{column} ="))


def test_labels_no_migration_writes(tmp_path):
    found_ = _enums(tmp_path)
    assert set(found_) == {"drift:enum:plans.status", "drift:enum:plans.tier"}
    status, tier = found_["drift:enum:plans.status"], found_["drift:enum:plans.tier"]
    assert status.severity.value == "warning" and (status.location.path, status.location.start_line) == ("app/models.py", _line("status"))
    assert status.message.startswith("plans.status: the model's enum has ARCHIVED, which no migration adds to the database "
                                     "type plan_status (migrations/versions/0001_r.py:")
    assert "on PostgreSQL an insert or update that writes it fails (invalid input value for enum plan_status" in status.message
    assert "PAUSED" not in status.message and "team" in tier.message and "pro," not in tier.message


def test_a_later_add_value_counts(tmp_path):
    added = _enums(tmp_path, MODELS, CREATE, "op.execute(\"ALTER TYPE plan_tier ADD VALUE 'team'\")")
    assert set(added) == {"drift:enum:plans.status"}


def test_what_it_cannot_read_says_nothing(tmp_path):
    varchar = MODELS.replace('name="plan_tier")', 'name="plan_tier", native_enum=False)')
    assert "drift:enum:plans.tier" not in _enums(tmp_path / "varchar", varchar)
    from_code = CREATE.replace('sa.Enum("ACTIVE", "PAUSED", name="plan_status")', 'sa.Enum(*STATUSES, name="plan_status")')
    assert "drift:enum:plans.status" not in _enums(tmp_path / "code", MODELS, from_code)
    loop = "for label in LABELS:\n    op.execute(f\"ALTER TYPE plan_tier ADD VALUE '{label}'\")"
    assert "drift:enum:plans.tier" not in _enums(tmp_path / "loop", MODELS, CREATE, loop)
    auto = MODELS.replace('ARCHIVED = "archived"', "ARCHIVED = enum.auto()")
    assert "drift:enum:plans.status" in _enums(tmp_path / "auto", auto)  # names are stored: auto() values do not matter


def test_the_projects_own_enum_type_over_integers_is_no_database_enum(tmp_path):
    """zeus, changes (MIG006 x6 judged wrong): `class Enum(TypeDecorator): impl = INT` stores each member's number;
    no PostgreSQL enum type exists to lack a label."""
    own = MODELS.replace("from sqlalchemy import Enum, Integer", "from sqlalchemy import INT, Integer\nfrom sqlalchemy.types import TypeDecorator")
    own = own.replace("class Base(DeclarativeBase):", """class Enum(TypeDecorator):
    impl = INT

    def __init__(self, enum=None, **kwargs):
        self.enum = enum
        super().__init__()


class Base(DeclarativeBase):""")
    assert "drift:enum:plans.status" not in _enums(tmp_path, own)


def test_off_postgresql_nothing(tmp_path):
    files = {"app/models.py": MODELS, "app/config.py": 'DATABASE_URL = "mysql://app@db/app"\n',
             "migrations/versions/0001_r.py": revision(CREATE)}
    assert [f for f in found(tmp_path, files, "MIG006") if f.anchor.startswith("drift:enum:")] == []


def test_member_names_against_the_values_the_migrations_create(tmp_path):
    values = CREATE.replace('sa.Enum("ACTIVE", "PAUSED", name="plan_status")', 'sa.Enum("active", "paused", "archived", name="plan_status")')
    f = _enums(tmp_path, MODELS, values)["drift:enum:plans.status"]
    assert "the model's enum has ACTIVE, PAUSED, ARCHIVED, which no migration adds" in f.message
    assert f.message.endswith("; SQLAlchemy writes a Python enum's member names (ACTIVE, PAUSED, ARCHIVED), not their values "
                              "('active', 'paused', 'archived', which the migrations create), unless the Enum has values_callable; "
                              "a row that holds one of the values fails to load (LookupError: not among the defined enum values)")
    by_value = MODELS.replace('name="plan_status")', 'name="plan_status", values_callable=lambda e: [m.value for m in e])')
    assert "drift:enum:plans.status" not in _enums(tmp_path / "values", by_value, values)
    (plain,) = [f for a, f in _enums(tmp_path / "plain").items() if a == "drift:enum:plans.status"]
    assert "member names" not in plain.message  # 'archived' is in no migration either: a label missing, not a mix-up

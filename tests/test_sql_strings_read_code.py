"""CFG008 where reading the code tells where a value comes from (backends nobody tuned for, tryout fix76): an
Alembic operation's implementation, a method of the same class that checks what it returns. Small repositories of
our own with the exact finding, or its absence, pinned."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.test_precision import found

OPERATIONS = '''
from alembic.operations import MigrateOperation, Operations


class Replaceable:
    def __init__(self, name, body):
        self.name, self.body = name, body


@Operations.register_operation("drop_routine")
class DropRoutineOp(MigrateOperation):
    def __init__(self, target):
        self.target = target

    @classmethod
    def drop_routine(cls, operations, target):
        return operations.invoke(cls(target))


@Operations.implementation_for(DropRoutineOp)
def drop_routine(operations, operation):
    operations.execute("DROP FUNCTION IF EXISTS {0} {1}".format(operation.target.name, operation.target.body))
'''


def test_an_alembic_operations_implementation_runs_as_migration_code(tmp_path):
    """Alembic calls it with the operation a migration script builds: an identifier or a piece of SQL written
    there is the developer's, as in a migration; the same function without the decorator is still reported."""
    assert found(tmp_path / "op", {"app/db/operations.py": OPERATIONS}, "CFG008") == []
    plain = OPERATIONS.replace("@Operations.implementation_for(DropRoutineOp)\n", "")
    [finding] = found(tmp_path / "plain", {"app/db/operations.py": plain}, "CFG008")
    assert finding.severity == Severity.INFO and "`operation.target.name` is an identifier" in finding.message


TABLES = '''
import re

from sqlalchemy import text

NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def check_name(name, pattern=NAME):
    if pattern.match(name) is None:
        raise ValueError(name)


class Store:
    @classmethod
    def table_for(cls, source):
        name = source.parameters.setdefault("table", "rows")
        check_name(name)
        return name

    @classmethod
    def create(cls, conn, source):
        table = cls.table_for(source)
        conn.execute(text(f'CREATE INDEX IF NOT EXISTS by_partition ON "{table}" (partition_id)'))
'''


def test_a_name_from_a_method_of_the_class_that_checks_it_before_returning_is_no_finding(tmp_path):
    """`cls.table_for()` is read in the class: it returns the name only after a function of the module that raises
    unless the name matches a pattern. A check that raises only on a blacklist, or none, leaves the finding."""
    assert found(tmp_path / "checked", {"app/store.py": TABLES}, "CFG008") == []
    for name, changed in (("unchecked", TABLES.replace("        check_name(name)\n", "")),
                          ("blacklist", TABLES.replace("if pattern.match(name) is None:", "if name in ('drop',):"))):
        [finding] = found(tmp_path / name, {"app/store.py": changed}, "CFG008")
        assert finding.severity == Severity.INFO and "`table` is an identifier" in finding.message, finding.message


SPEC = '''
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Spec:
    name: str
    version: Optional[str] = None

    def __init__(self, name, version=None):
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "version", version)
'''

SPEC_MIGRATION = '''
import json
from dataclasses import asdict

from alembic import op

from app.specs import Spec

revision = "0002"
down_revision = None
TAGGED = json.dumps(asdict(Spec("tagged")))


def upgrade():
    op.execute(f"UPDATE nodes SET spec = '{TAGGED}' WHERE family = 'tagged'")


def downgrade():
    pass
'''


def test_a_dataclass_built_of_literals_and_written_out_is_a_constant(tmp_path):
    """`json.dumps(asdict(Spec("tagged")))` of a dataclass of the project that holds only what it is given is as
    constant as "tagged"; a class that computes a field in its __init__, or one given a value read from the database,
    is still reported."""
    files = {"app/specs.py": SPEC, "migrations/versions/0002_tag.py": SPEC_MIGRATION}
    assert found(tmp_path / "literal", files, "CFG008") == []
    computed = {**files, "app/specs.py": SPEC.replace('"version", version)', '"version", load_version())')}
    [finding] = found(tmp_path / "computed", computed, "CFG008")
    assert finding.severity == Severity.INFO and "passes through `app.specs.Spec()`" in finding.message, finding.message
    stored = {**files, "migrations/versions/0002_tag.py": SPEC_MIGRATION.replace(
        'TAGGED = json.dumps(asdict(Spec("tagged")))\n', "").replace(
        "def upgrade():\n", "def upgrade():\n    name = op.get_bind().execute('SELECT name FROM kinds').scalar()\n"
                             "    TAGGED = json.dumps(asdict(Spec(name)))\n")}
    [finding] = found(tmp_path / "stored", stored, "CFG008")
    assert finding.severity == Severity.INFO and "`TAGGED` is a value" in finding.message, finding.message


PROFILES = '''
from typing import Optional

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncConnection


class ProfileBase(BaseModel):
    phone: Optional[str] = None
    country: Optional[str] = None


class ProfileIn(ProfileBase):
    licence_file: Optional[str] = None


RENAMED = {"licence_file": "licence_url"}


async def save_profile(db: AsyncConnection, user_id: int, profile: ProfileIn, uploaded: dict):
    data = profile.model_dump(exclude_none=True)
    for kind, where in uploaded.items():
        data[RENAMED[kind]] = where
    data.pop("licence_file", None)
    columns = ", ".join(data.keys())
    marks = ", ".join(f"%({key})s" for key in data.keys())
    await db.exec_driver_sql(f"INSERT INTO profiles (user_id, {columns}) VALUES (%(user_id)s, {marks})", {**data, "user_id": user_id})
'''


def test_the_keys_of_a_pydantic_models_dump_are_the_fields_it_declares(tmp_path):
    """`profile.model_dump().keys()` of a parameter annotated with a pydantic model of the project that allows no
    extra field, with keys of a fixed mapping added, are names the code declares; a model that allows extra fields,
    or a dict that takes another's keys (`data.update(...)`), is still reported."""
    assert found(tmp_path / "declared", {"app/profiles.py": PROFILES}, "CFG008") == []
    extra = PROFILES.replace("class ProfileIn(ProfileBase):\n",
                             'class ProfileIn(ProfileBase):\n    model_config = ConfigDict(extra="allow")\n')
    updated = PROFILES.replace("    data.pop(", "    data.update(uploaded)\n    data.pop(")
    for name, changed, why in (("extra", extra, "the keys of `profile.model_dump()` are the fields `ProfileIn` declares, and "
                                                "those its input brings if it allows extra fields"),
                               ("updated", updated, "the result of `profile.model_dump()`, which is not followed")):
        [finding] = found(tmp_path / name, {"app/profiles.py": changed}, "CFG008")
        assert finding.severity == Severity.INFO and "`columns` is an identifier" in finding.message, finding.message
        assert why in finding.message, finding.message

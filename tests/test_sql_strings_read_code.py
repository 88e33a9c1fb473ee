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

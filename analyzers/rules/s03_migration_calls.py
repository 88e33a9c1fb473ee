"""Migration calls that look like a change and make none: read from the operations of each revision
(analyzers/facts/migrations.py says which alter_column calls Alembic emits nothing for)."""

from __future__ import annotations

from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.s03_migration_safety import later


class AlterColumnChangesNothing(Rule):
    """An `alter_column` changes nothing: Alembic emits no SQL for it.

    What it checks:
        `op.alter_column(...)` and `batch_op.alter_column(...)` in an upgrade or a downgrade given no change
        keyword (`nullable=`, `type_=`, `server_default=`, `new_column_name=`, `comment=`), only the
        `existing_*` ones that describe the column as it is, or given a `sa.Column(...)` where Alembic wants
        the column's name. A call with `**options` is left alone (what they hold is not known).
    Why it matters:
        Alembic's alter_column emits one ALTER per change keyword it is given, and nothing without one, on
        every database, batch or not, without an error. A `sa.Column("done", sa.Boolean(), nullable=False)`
        given as the name is taken as the name: the `nullable=False` inside it is never read. The
        migration reads as if it made the column NOT NULL, or changed its type, and the database keeps the
        column as it was, while the models say otherwise (the next autogenerate reports the drift).
    Example:
        with op.batch_alter_table("orders") as batch_op:
            batch_op.alter_column(sa.Column("note", sa.String(50), nullable=False))
    Instead:
        Name the column and say the change: `batch_op.alter_column("note", existing_type=sa.String(50),
        nullable=False)`.
    """

    ID = "MIG025"
    ITEM = "3.2"
    SEVERITY = Severity.WARNING
    VALID = (later('''
with op.batch_alter_table("orders") as batch_op:
    batch_op.alter_column("note", existing_type=sa.String(50), nullable=False)
op.alter_column("orders", "total", type_=sa.BigInteger())
op.alter_column("orders", "customer_id", **{"nullable": False})
'''),)
    INVALID = (
        later('''
with op.batch_alter_table("orders") as batch_op:
    batch_op.alter_column(sa.Column("note", sa.String(50), nullable=False))
'''),
        later('op.alter_column("orders", "total", existing_type=sa.Integer())'),
    )

    def check(self):
        for r in self.facts.revisions:
            for part, ops in (("upgrade", r.upgrade), ("downgrade", r.downgrade)):
                for op in ops:
                    if op.name != "alter_column" or not op.reason:
                        continue
                    what = f"{op.table}.{op.target}"
                    yield self.finding(
                        f"revision {r.revision}'s {part} alters {what} {op.reason}: Alembic emits no SQL for it, so "
                        f"{what} keeps its nullability, type and default, whatever the call was meant to change",
                        op.span, f"migration:{r.revision}:{part}:alter_column:{what}",
                    )

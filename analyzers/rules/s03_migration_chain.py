"""Section 3: Database Migrations, the chain as a whole: revisions that only work on the database their
author had (an object no earlier revision creates, DDL decided by the inspector, today's models imported
into an old revision), and downgrades that cannot run or undo more than their upgrade did.

Every revision is checked: a fresh `alembic upgrade head` (a new environment, CI, a restore) runs them
all, and a downgrade runs whatever its age."""

from __future__ import annotations

import ast
import re
from dataclasses import replace

from analyzers.facts.effects import DATA_SQL, effects, unread_ops
from analyzers.facts.guards import INSPECTOR_KEYS, Shape, chain_finds, step_shape
from analyzers.facts.history import created_objects, dropped_objects, history
from analyzers.facts.imports import reach
from analyzers.facts.model import MigrationOp, RevisionFact, Span, Unread
from analyzers.findings import Finding, Location, Related, Severity
from analyzers.rules import start_up
from analyzers.rules.base import Rule
from analyzers.rules.drift import service_of
from analyzers.rules.s03_migration_safety import _truthy, later, one_transaction
from analyzers.rules.s03_migrations import _history_starts_elsewhere
from analyzers.rules.schema import is_test_path, migration_gaps, trees

_TRIGGER = '''CREATE TRIGGER orders_audit AFTER INSERT OR UPDATE OR DELETE ON orders FOR EACH ROW EXECUTE FUNCTION audit()'''


def _with_trigger(second: dict[str, str]) -> dict[str, str]:
    """`later(...)` with a revision 0000 before it that creates the trigger function and orders' trigger."""
    files = dict(second)
    files["migrations/versions/0001_orders.py"] = files["migrations/versions/0001_orders.py"].replace(
        '    op.create_table("orders"', f'    op.execute("CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$")\n'
        '    op.create_table("orders"', 1,
    ).replace("def downgrade():", f'    op.execute("{_TRIGGER}")\ndef downgrade():', 1)
    return files


def _maybe_created(op: MigrationOp) -> dict[tuple[str, str], str]:
    """What `op` creates only when it is not there yet (IF NOT EXISTS, a DO block that asks the catalog
    first, an `if` on the inspector) or replaces (CREATE OR REPLACE), each with how it is said."""
    out: dict[tuple[str, str], str] = {}
    for st in op.sql.statements if op.sql else ():
        if st.details.get("guarded") or st.details.get("if_exists") or st.details.get("replace"):
            how = "only replaces it" if st.details.get("replace") else "creates it only if it is not there yet"
            out.update({(k, key): how for k, key, _ in created_objects(_only(op, st))})
    if op.guarded:
        out.update({(k, key): "creates it only if the inspector does not find it" for k, key, _ in created_objects(op)})
    return out


def _only(op: MigrationOp, st) -> MigrationOp:
    from analyzers.facts.model import SqlUse

    return replace(op, sql=SqlUse(op.sql.span, st.text, False, False, [st]), index=None, constraints=[])  # type: ignore[union-attr]


class DowngradeDropsOthers(Rule):
    """A downgrade drops something its own upgrade did not create.

    What it checks:
        Triggers, functions, policies, indexes, constraints, tables and columns that `downgrade()` drops
        while `upgrade()` did not create them (or created them only if they were not there yet: IF NOT
        EXISTS, a DO block that asks pg_trigger first, CREATE OR REPLACE), and that an earlier revision
        did create. One finding per revision, each such object a related location. A constraint of a
        table that the revision gives a constraint without a name (`create_foreign_key(None, ...)`, named
        by a naming convention dbreview does not apply) may be that one: not claimed.
    Why it matters:
        Rolling this revision back removes what the earlier revision put there while that revision stays
        applied: an audit trigger silently gone, a function that its callers still need. Nothing fails;
        the database just no longer matches its recorded revision.
    Example:
        def upgrade():   # creates the trigger only if revision 0001 has not
            op.execute("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'orders_audit') THEN ... END IF; END $$")
        def downgrade():
            op.execute("DROP TRIGGER IF EXISTS orders_audit ON orders")
    Instead:
        Drop in the downgrade only what the upgrade created; when the upgrade creates something only if
        it is missing, leave it in place on the way down (or recreate the earlier definition).
    """

    ID = "MIG015"
    ITEM = "3.9"
    SEVERITY = Severity.WARNING
    VALID = (_with_trigger(later(
        'op.execute("CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION audit()")',
        'op.execute("DROP TRIGGER orders_touch ON orders")',
    )),)
    INVALID = (
        _with_trigger(later(
            '''op.execute("""
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'orders_audit') THEN
        CREATE TRIGGER orders_audit AFTER INSERT OR UPDATE OR DELETE ON orders FOR EACH ROW EXECUTE FUNCTION audit();
    END IF;
END $$;
""")''',
            'op.execute("DROP TRIGGER IF EXISTS orders_audit ON orders")',
        )),
        _with_trigger(later(
            'op.execute("CREATE OR REPLACE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$")',
            'op.execute("DROP FUNCTION audit()")',
        )),
        later('op.create_index("ix_orders_total", "orders", ["total"])', 'op.drop_index("ix_orders_total")\nop.drop_column("orders", "note")'),
    )

    def check(self):
        for rev in self.facts.revisions:
            if rev.downgrade_empty or rev.downgrade_raises:
                continue
            sites = []
            for kind, key, span, why, life in drops_of_others(self.facts, rev):
                label = key if kind in ("function", "index", "table") else " on ".join(reversed(key.split(".", 1))) if kind != "column" else key
                sites.append((span, f"migration:{rev.revision}:downgrade-drops:{kind}:{key}",
                              f"drops {kind} {label}, created by revision {life.creator.revision}{why}"))
            if sites:
                first = sites[0][2]
                more = f" and {len(sites) - 1} more object(s) its upgrade did not create" if len(sites) > 1 else ""
                yield self.grouped(
                    f"the downgrade of revision {rev.revision} {first}{more}: rolling it back removes what an earlier "
                    "revision made while that revision stays applied",
                    sites, f"migration:{rev.revision}:downgrade-drops",
                )


def _foreign(rev: RevisionFact):
    """(kind, key, span, why) of each object `rev`'s downgrade drops that its upgrade did not surely create."""
    made: set[tuple[str, str]] = set()
    maybe: dict[tuple[str, str], str] = {}
    for op in rev.upgrade:
        made |= {(k, key) for k, key, _ in created_objects(op)}
        maybe.update(_maybe_created(op))
    for e in effects(rev.upgrade):
        if e.kind == "create_table" and e.table:
            if e.maybe:
                maybe[("table", e.table)] = "creates it only if it is not there yet"
            made.add(("table", e.table))
            made |= {("column", f"{e.table}.{c}") for c in e.columns}
        elif e.kind == "add_column" and e.table and e.name:
            if e.maybe:
                maybe[("column", f"{e.table}.{e.name}")] = "adds it only if it is not there yet"
            made.add(("column", f"{e.table}.{e.name}"))
        elif e.kind == "rename_table" and e.name:
            made.add(("table", e.name))
        elif e.kind == "rename_column" and e.new:
            made.add(("column", f"{e.table}.{e.new}"))
    sure = made - set(maybe)
    # what could not be read of the upgrade may have made it; of the downgrade, made it again (a copy built under
    # a generated name, then renamed to the name the downgrade dropped)
    unread = unread_ops(rev.upgrade) + [u for u in unread_ops(rev.downgrade) if u.table is not None]
    remade = {(k, key) for op in rev.downgrade for k, key, _ in created_objects(op)}  # dropped, then made again
    for e in effects(rev.downgrade):
        if e.kind == "create_table" and e.table:
            remade.add(("table", e.table))
        elif e.kind in ("add_column", "rename_column") and e.table:
            remade.add(("column", f"{e.table}.{e.new if e.kind == 'rename_column' else e.name}"))
        elif e.kind == "rename_table" and e.name:
            remade.add(("table", e.name))
    sure |= remade
    # a name that differs only in case is the same object where names fold (Oracle, MySQL), and PostgreSQL would
    # refuse the drop rather than remove another revision's object: not what this rule says
    sure |= {(k, key.lower()) for k, key in sure}

    # Tables given a constraint without a name (create_foreign_key(None, ...)): its name comes from a naming
    # convention dbreview does not apply, so a constraint of theirs dropped by name may be that one.
    unnamed = {op.table for op in (*rev.upgrade, *rev.downgrade) if op.table and any(not c.name for c in op.constraints)}

    def unknown(kind: str, key: str) -> bool:
        table = key.split(".", 1)[0] if kind not in ("function", "index") else None
        if kind == "constraint" and table in unnamed:
            return True
        return any(table is None or u.concerns(table) for u in unread)

    for op in rev.downgrade:
        for kind, key, span, _ in dropped_objects(op):
            if (kind, key) not in sure and (kind, key.lower()) not in sure and not unknown(kind, key):
                yield kind, key, span, f" (this upgrade {maybe[(kind, key)]})" if (kind, key) in maybe else ""
    for e in effects(rev.downgrade):
        if e.kind == "drop_table" and e.table and ("table", e.table) not in sure and not unknown("table", e.table):
            yield "table", e.table, e.span, ""
        elif e.kind == "drop_column" and e.table and e.name and ("column", f"{e.table}.{e.name}") not in sure \
                and ("table", e.table) not in sure and not unknown("column", e.table):
            yield "column", f"{e.table}.{e.name}", e.span, ""



def drops_of_others(facts, rev: RevisionFact):
    """(kind, key, span, why, life) of each object `rev`'s downgrade drops that its upgrade did not create and an
    earlier revision did (`life`): what MIG015 says."""
    hist = history(facts)
    for kind, key, span, why in _foreign(rev):
        life = hist.before(rev, kind, key)
        if life is not None:
            yield kind, key, span, why, life

class UnnamedConstraintDrop(Rule):
    """A migration drops a constraint by the name None.

    What it checks:
        `op.drop_constraint(None, ...)`, what autogenerate writes for a constraint that had no name.
    Why it matters:
        It cannot run: Alembic raises "Constraint must have a name" before sending anything, so the
        downgrade (or upgrade) that holds it fails every time.
    Example:
        op.drop_constraint(None, "orders", type_="foreignkey")
    Instead:
        Write the constraint's real name (`\\d orders` in psql shows it; PostgreSQL names an unnamed foreign
        key `orders_customer_id_fkey`), and set a naming convention so autogenerate knows it next time.
    """

    ID = "MIG016"
    ITEM = "3.9"
    SEVERITY = Severity.WARNING
    VALID = (later('op.create_foreign_key("fk_orders_customer", "orders", "customers", ["customer_id"], ["id"])',
                   'op.drop_constraint("fk_orders_customer", "orders", type_="foreignkey")'),)
    INVALID = (later('op.create_foreign_key(None, "orders", "customers", ["customer_id"], ["id"])',
                     'op.drop_constraint(None, "orders", type_="foreignkey")'),)

    def check(self):
        for folder, revisions in trees(self.facts.revisions).items():
            sites = [
                (op.span, f"migration:{rev.revision}:{where}:unnamed-constraint:{op.table}:{op.span.start}",
                 f"the {where} of revision {rev.revision} drops a constraint of {op.table} named None")
                for rev in reversed(revisions)  # the newest first: those are reviewed
                for where, ops in (("upgrade", rev.upgrade), ("downgrade", rev.downgrade))
                for op in ops
                if op.name == "drop_constraint" and op.target is None and op.options.get("constraint_name", "None") == "None"
            ]
            if sites:
                revs = len({s[1].split(":")[1] for s in sites})
                more = f" ({len(sites)} such calls in {revs} revisions of {folder})" if len(sites) > 1 else ""
                yield self.grouped(
                    f"{sites[0][2]}{more}: Alembic raises 'Constraint must have a name', so it cannot run",
                    sites, f"migration-unnamed-constraints:{folder}",
                )


class UpgradeOnMissingObject(Rule):
    """An upgrade changes a table or column that no earlier revision created.

    What it checks:
        `op.drop_table`, `op.drop_column`, `op.alter_column`, `op.add_column`, `op.create_index`, renames and
        their SQL forms, on a table (or column) that no earlier revision of the tree creates and that the
        revision did not create itself; IF EXISTS (in SQL, or `if_exists=True` on a drop) and steps decided
        by the inspector are left alone. Not when the history starts from a schema built another way (no root
        revision, or a root that creates no table), nor on a table an operation dbreview does not follow names
        (a rename helper class of the migration), nor on a column of a table an earlier revision changes by a step
        dbreview could not read (columns added in a loop over an enum of another module: it may have made it).
        When a part of the migrations could not be read, the finding is info and says which; so is a table a model
        maps that the application creates as it starts (create_all from a start-up or pre-start routine): the
        revision works where the application started before the migrations ran.
    Why it matters:
        The revision only works on a database that got the object some other way (create_all, a hand-run
        script, a revision since deleted): a fresh `alembic upgrade head` (a new environment, CI, a restore
        into an empty database) fails here.
    Example:
        op.drop_column("orders", "legacy_code")   # no revision ever added orders.legacy_code
    Instead:
        Add the revision that creates it, or guard the step with IF EXISTS if both histories must work.
    """

    ID = "MIG017"
    ITEM = "3.2"
    SEVERITY = Severity.WARNING
    VALID = (later('op.drop_column("orders", "note")'), later('op.execute("DROP TABLE IF EXISTS legacy_orders")'))
    INVALID = (later('op.drop_column("orders", "legacy_code")'), later('op.add_column("invoices", sa.Column("total", sa.Integer()))'))
    _TABLE_STEPS = ("drop_table", "rename_table", "add_column", "drop_column", "alter_column", "create_index",
                    "create_foreign_key", "create_unique_constraint", "create_check_constraint")

    def check(self):
        facts = self.facts
        hist = history(facts)
        for folder, revisions in trees(facts.revisions).items():
            if _history_starts_elsewhere(revisions):
                continue
            found = [(rev, op, *missing) for rev in revisions for op, missing in self._steps(rev, hist)]
            tables = sorted({table for _, _, table, _ in found})
            if len(tables) > 2:  # many: the migrations are deltas on a schema built another way, not one slip
                sites = [(op.span, f"migration:{rev.revision}:missing:{what}", f"revision {rev.revision} changes {what}")
                         for rev, op, _, what in found]
                yield self.grouped(
                    f"{len(tables)} tables that revisions in {folder} change before any of them creates the table (e.g. "
                    f"{', '.join(tables[:4])}): the migrations start from a schema built another way (create_all, a "
                    "dump), and `alembic upgrade head` on an empty database cannot work",
                    sites, f"migration-missing:{folder}", severity=Severity.INFO,
                )
                continue
            for rev, op, table, what in found:
                made = start_up.start_up_create_all(facts) if what == f"table {table}" and table in facts.tables else None
                yield self.finding(
                    f"revision {rev.revision} changes {what}, which no earlier revision creates: a fresh "
                    "`alembic upgrade head` fails here" + (
                        f", unless the application started first: a model maps {table}, and create_all at "
                        f"{made[0].path}:{made[0].start} runs from {made[1]}" if made else ""),
                    op.span, f"migration:{rev.revision}:missing:{what}", unsure=migration_gaps(facts, table),
                    severity=Severity.INFO if made else None,
                )

    def _steps(self, rev: RevisionFact, hist):
        made: set[str] = set()
        for op in rev.upgrade:
            missing = self._missing(rev, op, made, hist) if not (op.guarded or op.name == "unread") else None
            if missing:
                yield op, missing
            if op.sql is not None:  # a TEMP table too (effects leave it out: it is gone at the end of the session)
                made.update(st.table for st in op.sql.statements if st.kind == "create_table" and st.table)
            for e in effects([op]):  # what it makes, guarded or not: a later step may rely on it
                if e.kind in ("create_table", "rename_table") and e.table:
                    made.add(e.name if e.kind == "rename_table" and e.name else e.table)
                elif e.kind in ("add_column", "rename_column") and e.table:
                    made.add(f"{e.table}.{e.new if e.kind == 'rename_column' else e.name}")

    def _missing(self, rev: RevisionFact, op: MigrationOp, made: set[str], hist) -> tuple[str, str] | None:
        if op.name not in self._TABLE_STEPS or not op.table or op.sql is not None or op.table == "alembic_version":
            return None
        if any(u.may_make(op.table) for u in migration_gaps(self.facts, op.table)):
            return None  # an operation not followed names the table: it may have made or renamed it
        if_exists = op.name.startswith("drop_") and _truthy(op, "if_exists")  # DROP ... IF EXISTS: a no-op where missing
        if op.table not in made and hist.before(rev, "table", op.table) is None:
            return None if if_exists and op.name == "drop_table" else (op.table, f"table {op.table}")
        column = op.target if op.name == "alter_column" or op.name == "drop_column" and not if_exists else None
        if column and f"{op.table}.{column}" not in made and hist.before(rev, "column", f"{op.table}.{column}") is None:
            life = hist.before(rev, "table", op.table)
            if life is not None and self._columns_known(life) and not self._columns_unread(rev, op.table, hist):
                return op.table, f"column {op.table}.{column}"
        return None

    def _columns_unread(self, rev: RevisionFact, table: str, hist) -> bool:
        """Whether an earlier revision runs a step on `table` that could not be read (`for size in Sizes:
        op.add_column("pages", sa.Column(f"status_{size.value}", ...))`): it may have made any column of it."""
        seen = hist.ancestors.get(id(rev), frozenset())
        return any(op.name == "unread" and op.table == table for r in self.facts.revisions if id(r) in seen for op in r.upgrade)

    @staticmethod
    def _columns_known(life) -> bool:
        """A table made by `op.create_table` names its columns; one made from SQL or a copy may not."""
        return any(op.span == life.span and op.name == "create_table" and op.sql is None for op in life.creator.upgrade)


class InspectorGuardedDdl(Rule):
    """A migration decides how to change the schema by asking the database what it has.

    What it checks:
        Operations of an upgrade inside an `if` on the inspector (`inspector.has_table(...)`,
        `get_columns(...)`, a helper of the migration that calls them) that leave databases in different
        end states: a column altered or a table renamed because some other object is there, SQL other
        than a create or a drop, only where the inspector found something. Guards that converge are not
        reported: creating what is missing and dropping what is there (`if not has_index(...)`: create
        it; a loop that adds the columns a comprehension kept because the inspector did not find them; a DO
        block's `DROP CONSTRAINT IF EXISTS`), creating the foreign key the guard looked for by its columns and the table it refers to, altering the very column the guard found (where it is
        skipped there is no such column to alter), an `op.*` call on a table the guard asked only whether it is
        there (`if "orders" in tables:` then `op.add_column("orders", ...)`: where it is skipped there is no
        orders; SQL such as a policy is still reported, a table made later would not carry it) end in the
        same schema on every path, as does a drop by a name the check only looked up (`if fk_name:
        op.drop_constraint(fk_name, ...)`: where the lookup finds none there is none to drop); rows inserted,
        deleted or updated behind a guard change no schema, a test of the dialect's name only
        (`inspector.dialect.name == "postgresql"`) asks nothing of the database, and a step taken only on
        another database (`if dialect.name == "oracle":`) is no part of the PostgreSQL schema. One finding per
        revision. Info: it is sometimes how a project adopts Alembic on databases made another way. When
        an earlier revision makes everything the checks ask about, a database built by the migrations
        always takes the same path: the finding says the other serves only a database that differs from
        what they build; likewise when no earlier revision makes anything a `not`-check asks about (nor
        names it in a file whose upgrade could not all be read), a database built by the migrations always
        runs the steps. Either way, a database built by the migrations takes one path every time; the finding
        says which databases may take the other, and, where the revision is one transaction on PostgreSQL,
        that a failed run of it leaves nothing half-done behind (a guard "in case of a re-run" meets none).
        When
        the check looks for the step's object by its columns only (a helper comparing
        `constrained_columns` and `referred_table`) and an earlier revision made one, the step never runs
        on a database built by the migrations: not reported where that object already does what the step's
        would; where it does less (a foreign key without the step's `ondelete`), the finding says what is
        never applied there.
    Why it matters:
        Two databases at the same revision can then have different schemas: the recorded revision no longer
        says what is there, and later revisions (and autogenerate) assume what may be missing.
    Example:
        if sa.inspect(op.get_bind()).has_table("legacy_orders"):
            op.alter_column("orders", "status", type_=sa.String(40))
    Instead:
        Make every database reach the same state by revisions alone (a baseline revision, `alembic stamp`
        for databases that already have it), and drop the checks.
    """

    ID = "MIG018"
    ITEM = "3.2"
    SEVERITY = Severity.INFO
    VALID = (
        later('op.add_column("orders", sa.Column("status", sa.String(20)))'),
        later('''
if "status" not in [c["name"] for c in sa.inspect(op.get_bind()).get_columns("orders")]:
    op.add_column("orders", sa.Column("status", sa.String(20)))  # created where missing: every path ends the same
'''),
        later('''
if "status" in [c["name"] for c in sa.inspect(op.get_bind()).get_columns("orders")]:
    op.alter_column("orders", "status", type_=sa.String(40))  # skipped only where there is no status to alter
'''),
        later('''
if "orders" in sa.inspect(op.get_bind()).get_table_names():
    op.add_column("orders", sa.Column("status", sa.String(20)))  # skipped only where there is no orders table
'''),
    )
    INVALID = (later('''
if sa.inspect(op.get_bind()).has_table("legacy_orders"):
    op.alter_column("orders", "status", type_=sa.String(40))  # where legacy_orders is missing, status stays as it was
'''),)

    def check(self):
        hist = history(self.facts)
        for rev in self.facts.revisions:
            guarded, unapplied = [], []
            # the review is of PostgreSQL; Alembic makes its version table itself (with its primary key unless env.py
            # says otherwise): what a check on it finds is Alembic's doing, not the revisions'
            checked = [op for op in rev.upgrade if op.guarded and not op.not_postgres and op.table != "alembic_version"]
            for op in checked:
                found = chain_finds(self.facts, rev, op)
                lost = _lost(step_shape(op), found.shape) if found else None  # type: ignore[arg-type]
                if lost:
                    unapplied.append((op, found, lost))
                if lost or found is None and not _converges(op):
                    guarded.append(op)
            if not guarded:
                continue
            sites = [(op.span, f"migration:{rev.revision}:inspector:{op.span.start}",
                      f"{_step(op)} {op.table or ''}".strip()) for op in guarded]
            skipped = [op for op in checked if not any(op is g for g in guarded)]
            left_out = (f"; not counted: {len(skipped)} other step{'s' if len(skipped) > 1 else ''} under such checks that "
                        "come out the same on every database (changing only what the check asks about, or finding what an "
                        "earlier revision made)") if skipped else ""
            counted = f"{len(guarded)} step{'s' if len(guarded) > 1 else ''}"
            said = (f"revision {rev.revision} decides {counted} by what the inspector finds in the database "
                    f"({'first: ' if len(guarded) > 1 else ''}{sites[0][2]}{left_out})")
            if unapplied:
                op, found, lost = unapplied[0]
                said += (f"; on a database built by the migrations its check finds the {found.shape.said()} that revision "
                         f"{found.creator.revision} made, so {_step(op)} on line {op.span.start} never runs there and "
                         f"{lost}" + (f" ({len(unapplied) - 1} more step(s) like it)" if len(unapplied) > 1 else ""))
                if len(unapplied) == len(guarded):
                    yield _with_origins(self.grouped(said, sites, f"migration:{rev.revision}:inspector"), unapplied)
                    continue
                said += "; the other step(s)"
            rest = [op for op in guarded if not any(op is u[0] for u in unapplied)]
            made = [_made_before(hist, rev, op) for op in rest]
            fresh = [_made_nowhere_before(self.facts, hist, rev, op) for op in rest]
            differs = ("made another way or changed by hand; on PostgreSQL its steps run in one transaction, so a failed "
                       "run of it leaves none of them behind" if one_transaction(self.facts, rev)
                       else "half-migrated, made another way, or changed by hand")
            later = (f"serves only a database that differs from what they build ({differs}), and whether such databases "
                     "still exist only the project can say")
            if all(made):
                said += (f", but an earlier revision makes everything it asks about ({_listed(made)}): on a database "
                         f"built by the migrations the check always comes out the same; the other path {later}")
            elif all(fresh) and all(op.guard_missing for op in rest):
                said += (f", and no earlier revision makes what it asks about ({_listed(fresh)}): on a database built by "
                         f"the migrations the check always finds it missing and the step(s) run; the other path, which "
                         f"skips them, {later}")
            else:
                said += (", and where it finds something else they do not run: two databases at this revision may have "
                         "different schemas, though on a database built by the migrations each check always comes out the "
                         f"same way; they differ only where one does not match what the migrations build ({differs})")
            yield _with_origins(self.grouped(said, sites, f"migration:{rev.revision}:inspector"), unapplied)


def _with_origins(f: Finding, unapplied: list) -> Finding:
    """The finding with the objects its never-run steps' checks find, where earlier revisions made them."""
    origins = tuple(Related(Location(found.shape.span.path, found.shape.span.start, found.shape.span.end),
                            f"the {found.shape.said()} revision {found.creator.revision} made")
                    for _, found, _ in unapplied if found.shape.span is not None)
    return replace(f, related=f.related + origins) if origins else f


def _listed(found: list[list[str] | None]) -> str:
    names = sorted({n for names in found for n in names or ()})
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _made_nowhere_before(facts, hist, rev: RevisionFact, op: MigrationOp) -> list[str] | None:
    """The names a guard asks about, when no ancestor of `rev` makes any of them (as a table, or an index,
    column or constraint of the step's table), and no ancestor whose upgrade could not all be read even
    names them in its file; else None."""
    names = [n for n in dict.fromkeys(op.guard_names) if n not in INSPECTOR_KEYS and n.isidentifier()]
    seen = hist.ancestors.get(id(rev), frozenset())
    unread = ["\n".join(facts.lines(Span(r.path, 1, 10**9))) for r in facts.revisions
              if id(r) in seen and any(e.kind == "unread" for e in effects(r.upgrade))]
    if not names or any(re.search(rf"\b{n}\b", text) for text in unread for n in names):
        return None
    table = op.table or ""
    return names if not any(hist.before(rev, "table", n) or hist.before(rev, "index", n) or hist.before(
        rev, "column", f"{table}.{n}") or hist.before(rev, "constraint", f"{table}.{n}") for n in names) else None


def _made_before(hist, rev: RevisionFact, op: MigrationOp) -> list[str] | None:
    """The names a guard asks about, when an ancestor of `rev` made every one of them (a table, a column of
    a table it names, an index or a constraint) and none dropped it since; else None."""
    names = [n for n in dict.fromkeys(op.guard_names) if n not in INSPECTOR_KEYS and n.isidentifier()]
    tables = [n for n in names if hist.before(rev, "table", n)] + ([op.table] if op.table else [])

    def made(name: str) -> bool:
        return bool(hist.before(rev, "table", name) or hist.before(rev, "index", name) or any(
            hist.before(rev, "column", f"{t}.{name}") or hist.before(rev, "constraint", f"{t}.{name}") for t in tables))

    return names if names and all(made(n) for n in names) else None


def _lost(step: Shape, there: Shape) -> str | None:
    """What a create that never runs would have added to the object the chain already made, in words;
    None when that object already does what the step's would (its columns, for a foreign key its actions,
    for an index its uniqueness and rows)."""
    if step.kind == "foreign_key":
        lost = [f"{key}={mine!r} is never applied (that foreign key has " + (f"{said} {theirs})" if theirs else f"no {said} action)")
                for key, said, mine, theirs in (("ondelete", "ON DELETE", step.ondelete, there.ondelete),
                                                ("onupdate", "ON UPDATE", step.onupdate, there.onupdate))
                if (mine or "NO ACTION").upper() != (theirs or "NO ACTION").upper()]
        return "its " + " and ".join(lost) if lost else None
    if step.kind == "unique_index" and there.kind == "index":
        return "its index is never made unique (that one allows duplicates)"
    if there.where and step.where != there.where:
        rows = f"WHERE {step.where}" if step.where else "over every row"
        return f"the index it would build {rows} never exists (that one covers only WHERE {there.where})"
    return None


def _converges(op: MigrationOp) -> bool:
    """Whether a guarded step ends in the same schema where it runs and where it is skipped: it changes rows
    only, or it drops by a name the check only looked up (`if fk_name: op.drop_constraint(fk_name, ...)`:
    where the lookup finds none there is none to drop), or it creates or drops objects (`IF [NOT] EXISTS` in its SQL, a DO block's `EXECUTE format('...
    DROP CONSTRAINT IF EXISTS %I')`, or ones the guard asks about by name: a foreign key created under a
    check of its column's presence is skipped where the column was there without it), or it creates the
    foreign key the guard looks for by its columns and the table it refers to (there is one in both
    outcomes), or it alters a column the guard asks about (where it is skipped there is no such column
    to alter), or an `op.*` call (not SQL: policies and triggers are no part of a table made later) changes only
    a table whose presence is all the guard asks (where it is skipped there is no such table to change), or it
    creates, in a loop, only what the check found missing (where it is skipped the object is there)."""
    statements = op.sql.statements if op.sql else ()
    if op.name == "bulk_insert" or op.drops_what_was_found or op.only_missing or statements and all(st.kind in DATA_SQL for st in statements):
        return True
    asked = set(op.guard_names)
    if op.name == "create_foreign_key" and op.constraints and op.table in asked:
        fk = op.constraints[0]
        if fk.target and fk.target.split(".")[0] in asked and fk.columns and set(fk.columns) <= asked:
            return True
    if op.name == "alter_column" and op.target in asked and op.table in asked:
        return True
    if op.table and not statements and not op.guard_missing and asked - INSPECTOR_KEYS == {op.table}:
        return True  # `if "orders" in tables:` an op on orders: where it is skipped there is no orders to change
    if statements and all(st.kind == "alter_table" and st.table in asked and _alters_only(st.details, st.text, asked)
                          for st in statements):
        return True  # ALTER TABLE orders ALTER COLUMN total ... under a check of orders.total
    if statements and all(st.kind == "dynamic_sql" and _DYNAMIC_DROP.match(str(st.details.get("template_text") or ""))
                          for st in statements):
        return True
    if op.name not in _CREATE_OR_DROP or op.name == "execute" and not (statements and all(
            st.kind in _SQL_CREATE_OR_DROP or st.kind == "alter_table" and "ALTER COLUMN" not in st.text.upper()
            for st in statements)):
        return False
    named = {key.rsplit(".", 1)[-1] for _, key, *_ in created_objects(op) + dropped_objects(op)}
    named |= {str(e.name if e.kind.endswith("column") else e.table) for e in effects([op]) if e.kind != "unread"}
    self_guarded = all(st.details.get("if_exists") for st in statements) if statements else False
    return bool(named) and (self_guarded or named <= set(op.guard_names))


def _alters_only(details: dict, text: str, asked: set[str]) -> bool:
    """Whether an ALTER TABLE only changes columns (ALTER COLUMN) that `asked` names."""
    changes = details.get("changes") or ()
    if not changes or _commands(text) != len(changes):
        return False  # another command besides (ENABLE ROW LEVEL SECURITY, OWNER TO ...)
    if any(details.get(k) for k in ("added_constraints", "dropped_constraints", "added_columns", "dropped_columns", "triggers")):
        return False
    return all(isinstance(c, dict) and c.get("column") in asked for c in changes)


def _commands(text: str) -> int:
    """How many commands an ALTER TABLE runs: its commas outside parentheses and quotes, plus one."""
    depth, quoted, n = 0, False, 1
    for ch in text:
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch in "()":
            depth += 1 if ch == "(" else -1
        elif not quoted and ch == "," and depth == 0:
            n += 1
    return n


def _step(op: MigrationOp) -> str:
    """What a step is called in the message: an op whose names could not all be read is still its call."""
    if op.name == "execute":
        return "SQL"
    if op.name == "unread" and op.target:
        return op.target.rsplit(".", 1)[-1]
    return op.name


_DYNAMIC_DROP = re.compile(  # EXECUTE format('ALTER TABLE t DROP CONSTRAINT IF EXISTS %I', r.conname): one drop, if there
    r"(ALTER TABLE (IF EXISTS )?(ONLY )?\S+ )?DROP (CONSTRAINT|INDEX|TABLE|COLUMN|TRIGGER|POLICY|VIEW|SEQUENCE) IF EXISTS "
    r"[^,;]*$", re.IGNORECASE)
_CREATE_OR_DROP = ("create_table", "drop_table", "create_index", "drop_index", "add_column", "drop_column",
                   "create_foreign_key", "create_unique_constraint", "create_check_constraint", "create_primary_key",
                   "drop_constraint", "execute")
_SQL_CREATE_OR_DROP = ("create_table", "create_index", "drop")  # and ALTER TABLE that adds or drops


class ImportsApplicationModels(Rule):
    """A migration uses the application's models as they are today.

    What it checks:
        ORM models a revision imports from the application (`from app.models import Order`, or the module:
        `from app import models` then `models.Order`) and uses to load or write whole rows: the class
        queried or selected (`session.query(Order)`, `select(Order)`, `session.get(Order, ...)`) or an
        instance added to a session. Columns that later revisions add to its table and that the model maps
        today are named (a revision that defers or picks columns keeps the general claim); where no later
        revision adds one, the finding is an info that says so (or, where a later revision has an operation or
        SQL on that table that could not be read, that it may add one, and where). Uses that name
        their columns (a bulk update or delete, `Order.total`, `update(Order).values(...)`,
        `query(Order).with_entities(Order.id)`, an instance only read) take only those columns: no finding. A class passed where this cannot follow is an info that
        says so. A revision that changes the models in its process (assigns an attribute of a model class,
        builds a Table on the application's MetaData) says so; alone, that is an info. Imported constants
        and enums are left alone.
    Why it matters:
        A revision runs with the code of the day it runs, not of the day it was written: when the model
        later gains a column, this revision's queries select a column that does not exist yet at this
        point of the history, and a fresh `alembic upgrade head` fails here.
    Example:
        from app.models import Order
        def upgrade():
            for order in Session(bind=op.get_bind()).query(Order): ...
    Instead:
        Describe what the revision needs inside it (`sa.table("orders", sa.column("id"), ...)`) or use SQL.
    """

    ID = "MIG019"
    ITEM = "3.2"
    SEVERITY = Severity.WARNING
    _MODEL = '''
from sqlalchemy import Integer
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase):
    pass
class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    total: Mapped[int] = mapped_column(Integer)
STATUSES = ("open", "paid")
'''
    VALID = ({**later('op.execute(sa.text("UPDATE orders SET note = :s").bindparams(s=STATUSES[0]))', head="from app.models import STATUSES"),
              "app/models.py": _MODEL},)
    INVALID = ({**later('''
session = sa.orm.Session(bind=op.get_bind())
for order in session.query(Order):
    order.total = order.total or 0
''', head="from app.models import Order"), "app/models.py": _MODEL},)

    def check(self):
        models = {f"{_module(t.path)}.{t.class_name}": t for t in self.facts.tables.values() if t.class_name}
        by_class = {t.class_name: t for t in self.facts.tables.values() if t.class_name}
        packages = models_packages(models)
        by_module: dict[str, list] = {}
        for q, t in models.items():
            by_module.setdefault(q.rsplit(".", 1)[0], []).append(t)
        for rev in self.facts.revisions:
            sites = []
            roots = set()  # local names of the application's imports that lead to models
            near = _module(rev.path)
            for local, qualified, span in rev.imports:
                table = _model_named(models, qualified, near)
                if table is None and qualified.rsplit(".", 1)[-1] in by_class and _package_of(qualified) in packages:
                    table = by_class[qualified.rsplit(".", 1)[-1]]  # imported through a package that re-exports it
                if table is not None:
                    sites.append((span, f"migration:{rev.revision}:imports-model:{qualified}", f"{local} ({table.path})"))
                    roots.add(local)
                    continue
                module = _model_named(by_module, qualified, near)  # `from app import models`: models.Order
                if module is not None:
                    roots.add(local)
                    for t in sorted(module, key=lambda t: t.class_name):
                        sites.append((span, f"migration:{rev.revision}:imports-model:{_module(t.path)}.{t.class_name}",
                                      f"{local}.{t.class_name} ({t.path})"))
                elif qualified in packages or _package_of(qualified) in packages:
                    roots.add(local)  # the package of the models, or a module beside them (`app.db`: Base)
            if not sites and not roots:
                continue
            uses = _uses(self.facts, rev.path, sites)
            whole = [site for site, use in zip(sites, uses) if use == "whole"]
            unknown = [site for site, use in zip(sites, uses) if use == "unknown"]
            down = [site for site, use in zip(sites, uses) if use == "downgrade"]
            patches = _patches(self.facts, rev.path, [note.split(" ", 1)[0] for _, _, note in sites], roots)
            changed = ""
            if patches:
                listed = ", ".join(f"{what} (line {line})" for line, what in patches[:4])
                more = f" and {len(patches) - 4} more" if len(patches) > 4 else ""
                changed = (f"; it also changes the application's models in the process that runs it: {listed}{more}, "
                           "which the application sees if it runs in that process (an upgrade at start-up)")
            if whole:
                names = ", ".join(note for _, _, note in whole)
                added, gap = _later_columns(self.facts, rev, whole)
                yet = _said_later(added or [])
                if added == [] and gap is not None:
                    yet = (f"; a later revision may add a column that the model maps today, in what dbreview could not read "
                           f"({gap.span.path}:{gap.span.start}: {gap.reason}): then a fresh upgrade fails here")
                elif added == []:
                    yet = ("; no later revision adds a column that the model maps today (info until one does: then a fresh "
                           "upgrade fails here)")
                yield self.grouped(
                    f"revision {rev.revision} loads or writes whole rows of today's model{'s' if len(whole) > 1 else ''} "
                    f"{names}: when a model gains a column, this revision selects or inserts a column that does not "
                    f"exist yet at this point of the history{yet}{changed}",
                    whole + unknown, f"migration:{rev.revision}:imports-models",
                    severity=Severity.INFO if added == [] else None,
                )
            elif down:
                names = ", ".join(note for _, _, note in down)
                yield self.grouped(
                    f"the downgrade of revision {rev.revision} loads or writes whole rows of today's "
                    f"model{'s' if len(down) > 1 else ''} {names} (its upgrade does not): once a model gains a column, "
                    f"rolling back through this revision selects or inserts a column that is not there yet{changed}",
                    down, f"migration:{rev.revision}:imports-models", severity=Severity.INFO,
                )
            elif unknown:
                names = ", ".join(note for _, _, note in unknown)
                yield self.grouped(
                    f"revision {rev.revision} imports today's model{'s' if len(unknown) > 1 else ''} {names} and passes "
                    "it where dbreview cannot follow: if that loads or writes whole rows, a column the model gains "
                    f"later does not exist yet at this point of the history{changed}",
                    unknown, f"migration:{rev.revision}:imports-models", severity=Severity.INFO,
                )
            elif patches:
                span = next((s for s, _, _ in sites), None) or _span_at(rev.path, patches[0][0])
                yield self.finding(
                    f"revision {rev.revision} changes the application's models in the process that runs it: "
                    f"{changed.split(': ', 1)[1]}; what it needs of them is today's version, not the one of its own day",
                    span, f"migration:{rev.revision}:imports-models", severity=Severity.INFO,
                )


def _patches(facts, path: str, classes: list[str], roots: set[str]) -> list[tuple[int, str]]:
    from analyzers.rules.fk_reads import _tree
    from analyzers.rules.model_rows import model_patches

    tree = _tree(facts, path)
    return [] if tree is None else model_patches(tree, classes, roots)


def _span_at(path: str, line: int) -> Span:
    return Span(path, line, line)


def _later_columns(facts, rev, whole) -> tuple[list[str] | None, Unread | None]:
    """Columns of the loaded models' tables that revisions after `rev` add and that the model still maps,
    each with the revision: upgrading a database from before them runs this revision's statement without
    them. None where that cannot be told: a revision that defers columns or loads only some (`defer`,
    `load_only`) when later revisions add some, or a model whose table is not known. With them, the first
    operation or SQL of a later revision that could not be read and may change one of those tables."""
    from analyzers.facts.history import history
    from analyzers.rules.fk_reads import _tree

    tree_ast = _tree(facts, rev.path)
    if tree_ast is None:
        return None, None
    h = history(facts)
    tree = h.tree_of.get(id(rev))
    tables = {}
    for _, _, note in whole:
        path = note.rsplit("(", 1)[-1].rstrip(")")
        cls = note.split(" ", 1)[0].rsplit(".", 1)[-1]
        t = next((t for t in facts.tables.values() if t.class_name == cls and t.path == path), None)
        if t is None:
            return None, None
        tables.setdefault(t.name, t)
    later_revs = [r for r in facts.revisions if h.tree_of.get(id(r)) == tree and id(rev) in h.ancestors.get(id(r), ())]
    gap = next((u for r in later_revs for u in unread_ops(r.upgrade) if any(u.concerns(name) for name in tables)), None)
    added = []
    for (t, kind, key), lives in h.lives.items():
        table, _, column = key.partition(".")
        if t != tree or kind != "column" or table not in tables or tables[table].column(column) is None:
            continue
        if lives[-1].ender is not None:
            continue  # dropped again since: today's model may not map it
        for life in lives:
            if life.begun is life.creator and id(rev) in h.ancestors.get(id(life.creator), ()):
                added.append(f"{key} ({life.creator.revision})")
    if added and any(isinstance(n, ast.Attribute) and n.attr in ("defer", "load_only", "deferred")
                     or isinstance(n, ast.Name) and n.id in ("defer", "load_only", "deferred") for n in ast.walk(tree_ast)):
        return None, gap  # it may leave exactly those out
    return sorted(added), gap


def _said_later(added: list[str]) -> str:
    if not added:
        return ""
    more = f" and {len(added) - 5} more" if len(added) > 5 else ""
    return (f"; later revisions add {', '.join(added[:5])}{more}, which the model maps today: upgrading a database "
            "from before this revision fails here")


def runners(modules) -> list:
    """The application's modules that run Alembic in their own process (`alembic.command`, alembic's
    `main`): a `manage.py revision --autogenerate` that imports every model first, then runs env.py. What
    they import may be on the MetaData when env.py reads it."""
    def runs(m) -> bool:
        return any(
            i.module == "alembic.command" or i.module == "alembic" and "command" in i.names
            or i.module == "alembic.config" and ("main" in i.names or "CommandLine" in i.names)
            for i in m.imports.imports
        )

    return [m for m in modules if m.imports and m.alembic_env is None and not is_test_path(m.path) and runs(m)]


def _module(path: str) -> str:
    from analyzers.facts.names import module_name

    return module_name(path)[0]


def _uses(facts, path: str, sites: list) -> list[str]:
    """For each imported model (its local name first in the site's note), how the revision uses it."""
    from analyzers.rules.fk_reads import _tree
    from analyzers.rules.model_rows import model_rows

    tree = _tree(facts, path)
    if tree is None:
        return ["unknown"] * len(sites)
    # the upgrade alone (what `alembic upgrade` runs), beside the whole file: a model used only by the downgrade
    # breaks a rollback, not a fresh upgrade
    up = ast.Module([n for n in tree.body if not (isinstance(n, ast.FunctionDef) and n.name == "downgrade")], [])
    out = []
    for _, _, note in sites:
        use = model_rows(tree, note.split(" ", 1)[0])
        out.append("downgrade" if use == "whole" and model_rows(up, note.split(" ", 1)[0]) != "whole" else use)
    return out


def _model_named(models: dict, qualified: str, near: str):
    """The model an import names: by its full module path, or as the tail of one (`analytics.models.X`
    for apps/analytics/analytics/models.py, imported from the app's own folder); of several such, the
    one under the importing revision's root, else none."""
    if qualified in models:
        return models[qualified]
    tails = [q for q in models if q.endswith("." + qualified)]
    if len(tails) > 1:
        tails = [q for q in tails if near.startswith(q[: len(q) - len(qualified)])]
    return models[tails[0]] if len(tails) == 1 else None


def _package_of(qualified: str) -> str:
    return qualified.rsplit(".", 1)[0]


def models_packages(models: dict) -> set[str]:
    """The packages (and their parents) that hold model modules: `app.models` for `app.models.order.Order`."""
    out: set[str] = set()
    for q in models:
        parts = q.split(".")[:-1]
        out |= {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
    return out


_ENV_BASE = '''
from sqlalchemy.orm import DeclarativeBase
class Base(DeclarativeBase):
    pass
'''
_ENV_MODEL = '''
from sqlalchemy import Integer
from sqlalchemy.orm import Mapped, mapped_column
from app.db import Base
class {cls}(Base):
    __tablename__ = "{table}"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
'''
_ENV = '''
from alembic import context
{imports}
target_metadata = Base.metadata
def run_migrations_online():
    context.configure(connection=None, target_metadata=target_metadata{options})
'''


def _env_app(imports: str, options: str = "", package: str = "", **more: str) -> dict[str, str]:
    """A target with Base in app/db.py, models in app/models/orders.py and app/models/invoices.py, and an
    env.py that imports `imports`; `package` is app/models/__init__.py."""
    return {
        "app/__init__.py": "", "app/db.py": _ENV_BASE, "app/models/__init__.py": package,
        "app/models/orders.py": _ENV_MODEL.format(cls="Order", table="orders"),
        "app/models/invoices.py": _ENV_MODEL.format(cls="Invoice", table="invoices"),
        "migrations/env.py": _ENV.format(imports=imports, options=options), **more,
    }


class EnvMissesModels(Rule):
    """env.py gives autogenerate a MetaData without importing the models that fill it.

    What it checks:
        The `target_metadata` of each Alembic env.py (a base's `Base.metadata`, `db.metadata`,
        `SQLModel.metadata`, or a list of them), and the modules that declare that MetaData's tables: a
        model whose module env.py never imports, directly or through what it imports (a package's
        `__init__` that imports its submodules, an `import app.models  # noqa`, the app factory env.py
        calls, a command of the application that runs Alembic through `alembic.command` after importing
        them), is not on the MetaData when autogenerate runs. An import by a constant name given to a call
        (`importlib.import_module("app.models")`, oslo's `importutils.try_import("app.models")`) is an import.
        Imports by a name computed at run time
        (importlib, a pkgutil walk over a package, `entry_points(group=...)` loading installed plugins' models)
        cannot be followed, nor a MetaData that is no base's
        (`MetaData()` of its own, `current_app.extensions[...]`): no finding then. A filter given to
        autogenerate (`include_object`) makes it info, and an import dbreview could not follow (a file that
        does not parse, a name several modules share) makes it an uncertain info. Where the repository holds
        several services, each with its env.py and Alembic tree, whose trees create tables of the same name (so each
        migrates a database of its own: backend/alembic and inference/server/alembic both create `message`), the
        models under another service's folder are that service's: its own database and autogenerate, not this one's.
    Why it matters:
        Autogenerate compares the database with the MetaData as env.py leaves it: every table it cannot see
        there, it proposes to drop (`op.drop_table`), and `alembic check` reports the same drift. A reviewer
        who trusts the generated revision deletes the table with its data.
    Example:
        # migrations/env.py
        from app.db import Base            # app/models/orders.py is never imported
        target_metadata = Base.metadata
    Instead:
        Import the models before reading the MetaData: a package whose `__init__` imports every model
        module, and `import app.models  # noqa: F401` in env.py.
    """

    ID = "MIG020"
    ITEM = "3.2"
    SEVERITY = Severity.WARNING
    VALID = (
        _env_app("import app.models  # noqa: F401\nfrom app.db import Base",
                 package="from . import orders\nfrom .invoices import Invoice\n"),
        _env_app("from app.models.orders import Order\nfrom app.models.invoices import Invoice\nfrom app.db import Base"),
        _env_app("from app import create_app\nfrom app.db import Base\napp = create_app()", **{
            "app/__init__.py": "def create_app():\n    from app.models import orders, invoices\n    return object()\n"}),
        _env_app("from app.db import Base\nfrom app.registry import load_models\nload_models()", **{
            "app/registry.py": "import importlib, pkgutil\nimport app.models\ndef load_models():\n"
                               "    for m in pkgutil.iter_modules(app.models.__path__):\n"
                               "        importlib.import_module(f'app.models.{m.name}')\n"}),
        _env_app("from app.db import Base", **{
            "app/manage.py": "from alembic import command\nimport app.models.orders, app.models.invoices\n"
                             "def makemigrations(config):\n    command.revision(config, autogenerate=True)\n"}),
        _env_app("from oslo_utils import importutils\nfrom app.db import Base\n"  # a constant name: an import
                 "importutils.try_import('app.models.orders')\nimportlib.import_module('app.models.invoices')"),
    )
    INVALID = (
        _env_app("from app.db import Base\nfrom app.models.orders import Order"),
        _env_app("from app.db import Base", options=", include_object=lambda *a: True"),
    )

    def check(self):
        symbols, classes = self.facts.derived.get("symbols"), self.facts.derived.get("classes")
        if symbols is None or classes is None:
            return
        programs = None
        for m in self.facts.modules:
            env = m.alembic_env
            if env is None or is_test_path(m.path):
                continue
            seen = {}
            for target in env.targets:
                if target.name is None:
                    continue
                owner, _, attr = target.name.rpartition(".")
                key = classes.metadata_of(symbols.resolve(owner, m.module)) if attr == "metadata" else None
                if key is not None:
                    seen.setdefault(key, target)
            mine = service_of(self.facts, m.path)
            tables = [t for t in self.facts.tables.values() if t.registry in seen and service_of(self.facts, t.path) in (mine, None)]
            if not tables:
                continue
            if programs is None:  # what the commands that run Alembic themselves import: once per target
                programs = [reach(symbols, r) for r in runners(self.facts.modules)]
            reached = [reach(symbols, m), *programs]
            if any(r.dynamic for r in reached):
                continue  # importlib, a pkgutil walk: which modules they load cannot be known statically
            unseen = [t for t in tables if not any(t.path in r.paths for r in reached)]
            if unseen:
                yield self._finding(m.path, env.filters, seen, tables, unseen, [u for r in reached for u in r.unresolved])

    def _finding(self, path, filters, seen, tables, unseen, unresolved):
        modules: dict[str, list[str]] = {}
        for t in sorted(unseen, key=lambda t: (t.path, t.name)):
            modules.setdefault(t.path, []).append(t.name)
        listed = "; ".join(f"{p} ({', '.join(names)})" for p, names in list(modules.items())[:6])
        more = f"; and {len(modules) - 6} more modules" if len(modules) > 6 else ""
        target = next(iter(seen.values()))
        names = " and ".join(dict.fromkeys(t.text for t in seen.values()))
        them = "it" if len(unseen) == 1 else "them"
        message = (
            f"autogenerate compares the database with {names}, but {path} never imports, directly or through "
            f"what it imports, the modules that declare {len(unseen)} of the {len(tables)} tables on "
            f"{'it' if len(seen) == 1 else 'them'}: {listed}{more}. `alembic revision --autogenerate` would "
            f"propose dropping {them}"
        )
        severity = None
        if filters:
            message += (f" unless the filter given to context.configure at line {filters[0].start} keeps {them} "
                        "out, which dbreview cannot tell")
            severity = Severity.INFO
        related = [(t.span, f"{t.label}: its module is not imported by env.py") for t in unseen[:20]]
        return self.finding(message, target.span, "alembic-env:target-metadata", severity=severity,
                            related=related, unsure=unresolved)


def _conditional_lines(facts, rev: RevisionFact) -> list[tuple[int, int]]:
    """Line ranges of the downgrade that run only sometimes: the bodies of `if`, `try`, `while` and `for`
    (a loop over nothing drops nothing)."""
    from analyzers.rules.fk_reads import _tree

    tree = _tree(facts, rev.path)
    down = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "downgrade"), None) if tree else None
    if down is None:
        return [(0, 10**9)]  # not read back: every step counts as conditional
    return [(n.lineno, n.end_lineno or n.lineno) for n in ast.walk(down)
            if isinstance(n, (ast.If, ast.Try, ast.While, ast.For, ast.AsyncFor))]


def _sure_drops(facts, rev: RevisionFact) -> list[tuple[str, Span]] | None:
    """(table, span) of each table the downgrade drops every time it runs, in order, a table in a named schema
    as `schema.table`; None when the downgrade holds a step that could create a table dbreview cannot see (SQL
    not read, an unread create, a schema= it could not read). Once per revision and scan: MIG022 asks it of a
    revision again for each older one on its line (fides: 7,787 replays of 398 revisions)."""
    known: dict[str, list[tuple[str, Span]] | None] = facts.derived.setdefault("sure_drops", {})
    if rev.path not in known:
        known[rev.path] = _replayed_drops(facts, rev)
    return known[rev.path]


def _replayed_drops(facts, rev: RevisionFact) -> list[tuple[str, Span]] | None:
    conditional = _conditional_lines(facts, rev)
    out = []
    for e in effects(rev.downgrade):
        if e.kind == "unread":
            call = (e.op.target or e.op.name or "").lower()
            if "drop" in call or "alter" in call:
                continue  # an unread drop or alter creates no table
            return None
        schema = _schema_of(e)
        if schema is None:
            return None
        table, name = (f"{schema}.{t}" if schema and t and "." not in t else t for t in (e.table, e.name))
        if e.kind in ("create_table", "rename_table"):
            out.append((f"+{table}" if e.kind == "create_table" else f"+{name}", e.span))
            if e.kind == "rename_table":
                out.append((f"-{table}", e.span))
            continue
        if e.kind == "drop_table" and e.table and not e.maybe and not e.op.guarded and not any(
                a <= e.span.start <= b for a, b in conditional):
            out.append((f"-{table}", e.span))
        elif e.kind == "drop_table":
            out.append((f"?{table}", e.span))
    return out


def _schema_of(e) -> str | None:
    """The schema an op.* step names (`op.drop_table("logs", schema="users")`): "" for none (SQL names its own,
    `users.logs`), None when `schema=` is not a literal dbreview can read: two such tables may be one or two."""
    written = e.op.options.get("schema") if e.op.name != "execute" else None
    if written is None or written == "None":
        return ""
    try:
        value = ast.literal_eval(written)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


class DowngradeChainDropsTwice(Rule):
    """A downgrade drops a table that a later revision's downgrade already dropped.

    What it checks:
        The downgrades of one line of revisions (each the only child of the one before), replayed from the
        newest down: a table that a revision's downgrade drops every time it runs (not inside an `if`, a
        `try` or a loop, not `IF EXISTS`), and that the downgrade of an older revision drops again, with
        nothing in between that could create it (no `create_table`, no SQL dbreview could not read, no
        branch of the history in between). A drop that runs only sometimes, or a step that could recreate
        the table unseen, makes the replay unsure: no finding. Where a model maps the table and the
        application runs create_all from its start-up (followed call by call), the finding says that one
        revision at a time with the application started in between works. A newer drop of a table its own upgrade
        did not create, and the older revision's upgrade did, is the one to fix: the finding is said of that drop.
    Why it matters:
        `alembic downgrade` through both revisions runs both downgrades in one go: the second `DROP TABLE`
        finds no table and fails, and the database is left between revisions.
    Example:
        # 0003: def downgrade(): op.drop_table("api_tokens")
        # 0002: def downgrade(): op.drop_table("api_tokens")
    Instead:
        Drop the table in one downgrade only (the one whose upgrade created it), or recreate it in the later
        revision's downgrade as its upgrade found it.
    """

    ID = "MIG022"
    ITEM = "3.9"
    SEVERITY = Severity.WARNING
    VALID = ({
        "migrations/versions/0001.py": 'from alembic import op\nimport sqlalchemy as sa\nrevision = "0001"\ndown_revision = None\n'
                                       'def upgrade():\n    op.create_table("tokens", sa.Column("id", sa.Integer))\n'
                                       'def downgrade():\n    op.drop_table("tokens")\n',
        "migrations/versions/0002.py": 'from alembic import op\nimport sqlalchemy as sa\nrevision = "0002"\ndown_revision = "0001"\n'
                                       'def upgrade():\n    op.add_column("tokens", sa.Column("scope", sa.Text))\n'
                                       'def downgrade():\n    op.drop_column("tokens", "scope")\n',
    },)
    INVALID = ({**VALID[0], "migrations/versions/0002.py": VALID[0]["migrations/versions/0002.py"].replace(
        'op.drop_column("tokens", "scope")', 'op.drop_table("tokens")  # recreated by the app at start')},)

    def check(self):
        from analyzers.facts.link import revision_trees

        for revs in revision_trees(self.facts.revisions).values():
            by_id = {r.revision: r for r in revs if r.revision}
            children: dict[str, list[RevisionFact]] = {}
            for r in revs:
                for p in (*r.down_revisions, *r.depends_on):
                    children.setdefault(p, []).append(r)
            for older in revs:
                if older.downgrade_empty or older.downgrade_raises or not older.revision:
                    continue
                drops = _sure_drops(self.facts, older)
                if not drops:
                    continue
                yield from self._twice(older, drops, by_id, children)

    def _twice(self, older: RevisionFact, drops, by_id, children):
        """Walk up from `older` along single children: the first newer downgrade that surely drops a table
        `older` drops (before `older` recreates it), with nothing in between that may create it."""
        mine = []
        made = set()
        for key, span in drops:
            if key[0] == "+":
                made.add(key[1:])
            elif key[0] == "-" and key[1:] not in made:
                mine.append((key[1:], span))
        if not mine:
            return
        wanted = dict(mine)
        not_own = {key for kind, key, *_ in _foreign(older) if kind == "table"}  # older's upgrade did not create them
        rev = older
        between: list[RevisionFact] = []
        while wanted:
            kids = children.get(rev.revision or "", [])
            if len(kids) != 1 or len(kids[0].down_revisions) != 1 or kids[0].depends_on:
                return  # a branch or a merge: which downgrades run in between is not one line
            rev = kids[0]
            if rev.downgrade_raises:
                return
            steps = [] if rev.downgrade_empty else _sure_drops(self.facts, rev)
            if steps is None:
                return  # a step that may create a table unseen: the replay is unsure from here
            gone: dict[str, Span] = {}
            for key, span in steps or []:
                table = key[1:]
                if key[0] == "-" and table in wanted:
                    gone[table] = span
                elif key[0] in "+?":
                    gone.pop(table, None)
                    if key[0] == "+":
                        wanted.pop(table, None)  # created on the way down after all: the older drop finds it
            others = {key for kind, key, *_ in drops_of_others(self.facts, rev) if kind == "table"} if gone else set()
            for table, span in gone.items():
                also = f", then {', '.join(f'{b.revision}' for b in reversed(between))}'s" if between else ""
                remade = start_up.remade(self.facts, table)
                run = (f"`alembic downgrade` through both runs {rev.revision}'s downgrade first{also}, nothing on the way "
                       f"creates {table} again, so ")
                works = f" in one run; {remade}, so one revision at a time with the application started in between works" if remade else ""
                if table in others and table not in not_own:  # the newer drop is the wrong one: said there
                    yield self.finding(
                        f"the downgrade of revision {rev.revision} drops table {table}, which its upgrade did not create "
                        f"and the downgrade of revision {older.revision}, whose upgrade did, drops again "
                        f"({wanted[table].path}:{wanted[table].start}): {run}that DROP TABLE finds no table and fails{works}",
                        span, f"migration:{rev.revision}:downgrade-drops-first:{table}",
                        related=[(wanted[table], f"drops {table} again, in revision {older.revision}'s downgrade")],
                    )
                else:
                    yield self.finding(
                        f"the downgrade of revision {older.revision} drops table {table}, which the downgrade of revision "
                        f"{rev.revision} ({span.path}:{span.start}) already dropped: {run}this DROP TABLE finds no table "
                        f"and fails{works}",
                        wanted[table], f"migration:{older.revision}:downgrade-drops-twice:{table}",
                        related=[(span, f"drops {table} first, in revision {rev.revision}'s downgrade")],
                    )
                wanted.pop(table)
            between.append(rev)

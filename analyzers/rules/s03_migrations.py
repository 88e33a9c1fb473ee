"""Section 3: Database Migrations (revision graph, reversibility, naming)."""

from __future__ import annotations

import posixpath
import re
from collections import Counter

from analyzers.facts.effects import DATA_SQL, changes_schema, effects, not_undone, unread_ops
from analyzers.facts.alembic_env import is_env
from analyzers.facts.history import Life, history
from analyzers.facts.model import RevisionFact, Span, TableFact, Unread
from analyzers.facts.python_module import NAMING_CONVENTION
from analyzers.facts.sql import sets_storage_only
from analyzers.facts.symbols import LIBRARY, library_convention
from analyzers.findings import Finding, Severity, identity_key
from analyzers.rules import drift, enum_types, pk_drift, start_up
from analyzers.rules.base import Rule
from analyzers.rules.enum_drift import enum_drift
from analyzers.rules.runs_on import on_postgres, runs_on
from analyzers.rules.schema import (
    data_only, first_line, is_test_path, is_tooling_path, migration_gaps, named_in_code, python_paths, tree_gaps, views, where,
)
from analyzers.rules.schema import trees as _trees

_REV = '''
"""{msg}"""
from alembic import op
import sqlalchemy as sa

revision = "{rev}"
down_revision = {down}


def upgrade():
    op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    {downgrade}
'''


def rev(rev: str, down: str | None, downgrade: str = 'op.drop_table("notes")', msg: str = "add notes") -> str:
    return _REV.format(rev=rev, down=repr(down), downgrade=downgrade, msg=msg)


class DowngradeMissing(Rule):
    """A migration cannot be rolled back: its downgrade is missing or does nothing.

    What it checks:
        Revisions whose `downgrade()` is absent, `pass`, only a docstring, or only prints or logs a message,
        while `upgrade()` changes the schema (a data-only upgrade, UPDATE/INSERT/DELETE, needs no downgrade).
        An empty downgrade whose comment (before or after its `pass`), docstring or printed message
        (`print("Downgrading to 1.5 is not supported")`) says why is info: its author chose it; and
        no finding when, besides, each schema change only makes what is missing (CREATE ... IF NOT EXISTS, a
        DO block that asks the catalog first, an inspector check): there is nothing of its own to undo; nor
        when it is the root revision (there is no revision below it to go back to).
        Steps only another database runs (`if dialect.name == "mysql":`) are not counted.
        An upgrade whose every schema change leaves a schema the code before it still works with (a string
        column made longer, NOT NULL dropped, a sequence, an extension or a plain index created, an index dropped,
        a UNIQUE or CHECK constraint dropped, a table's storage parameters set, in `op.*` or SQL) is info: a deploy
        rolls back without undoing it; the finding says which steps cannot run twice (CREATE SEQUENCE or CREATE
        INDEX without IF NOT EXISTS, an index the upgrade did not drop first), where a re-run of the upgrade after
        `alembic downgrade` fails. An upgrade whose schema changes only VALIDATE constraints (added NOT VALID
        by an earlier revision, whose downgrade drops them) has nothing to undo: no finding. One that only drops tables no model maps and no Python code of the
        application names any more (a retired feature's) is info too; so is the root revision's when it only
        creates (it builds the schema from nothing: undoing it is a new database, not a rollback), and one whose upgrade only drops
        constraints and makes as many of the same kinds again on the same tables (a naming convention brought
        in, or constraints lifted around a change of rows: the same kinds of rules hold before and after).
        An upgrade whose schema changes each run only where an inspector check finds the database needs
        them reconciles drift: info, since no one schema came before it; when only some are so guarded,
        the finding names the others. An upgrade that only adds enum values (`ALTER TYPE ... ADD VALUE`)
        has nothing PostgreSQL could undo (an info says so where one lacks IF NOT EXISTS and is not in a DO
        block that asks the catalog first: the upgrade cannot run again after `alembic downgrade`), nor one that only turns columns into plain strings and drops
        enum types IF EXISTS (it retires native enums: code of any revision reads and writes the same
        labels; unless a model at head maps one of those columns as a native enum), and one titled or
        described (its module docstring) as a data migration or backfill moves data in columns its
        neighbours add and drop: no finding. When no
        revision of a tree defines `downgrade()` at all, that is the project's forward-only convention:
        one info finding. Likewise where at least 10 revisions make up a tree (or the project's trees together)
        and at least 3/4 of them have an empty downgrade: the project does not write downgrades, so one info
        finding for each tree says how many
        (pointing at the first 5 revisions that would have had one, and standing for all of them); trees where
        an empty downgrade is the exception keep a finding per revision.
    Why it matters:
        A failed deploy cannot be reverted with `alembic downgrade`; rolling back means hand-written
        SQL under pressure, against a schema the code no longer matches.
    Example:
        def downgrade():
            pass
    Instead:
        Undo each operation of `upgrade()` in reverse order, or raise with a message saying the
        revision is irreversible and why.
    """

    ID = "MIG001"
    ITEM = "3.9"
    SEVERITY = Severity.WARNING
    VALID = ({"migrations/versions/0001_notes.py": rev("0001", None)}, {"migrations/versions/0004_enum.py": '''
"""Add a status"""
from alembic import op
revision = "0004"
down_revision = None
def upgrade():
    op.execute("ALTER TYPE visit_status ADD VALUE IF NOT EXISTS 'no_show'")
def downgrade():
    pass
'''}, {"migrations/versions/0002_fix.py": '''
"""Recount members (data only: nothing in the schema to undo)"""
from alembic import op
revision = "0002"
down_revision = None
def upgrade():
    op.execute("UPDATE organizations SET member_count = (SELECT count(*) FROM memberships m WHERE m.organization_id = organizations.id)")
def downgrade():
    pass
'''}, {"migrations/versions/0003_totals.py": '''
"""Backfill totals with the audit triggers off, through a temporary table"""
from alembic import op
revision = "0003"
down_revision = None
def upgrade():
    op.execute("CREATE TEMP TABLE missing AS SELECT id FROM orders WHERE total IS NULL")
    op.execute("ALTER TABLE orders DISABLE TRIGGER ALL")
    op.execute("UPDATE orders SET total = 0 WHERE id IN (SELECT id FROM missing)")
    op.execute("ALTER TABLE orders ENABLE TRIGGER ALL")
    op.execute("DROP TABLE missing")
def downgrade():
    pass
'''}, {"migrations/versions/0005_titles.py": '''
"""Fill display names

Data migration: the names are computed from the profiles, in SQL built at run time.
"""
from alembic import op
revision = "0005"
down_revision = None
def upgrade():
    op.execute(display_name_sql())
def downgrade():
    pass
'''})
    INVALID = (
        {"migrations/versions/0001_notes.py": rev("0001", None, "pass")},
        {"migrations/versions/0002_notes.py": rev("0002", "0001", "pass  # irreversible: the old column held duplicates")},
    )

    def check(self):
        forward_only = set()
        trees = list(_trees(self.facts.revisions).values())
        for tree in trees:
            if len(tree) >= 3 and all(r.downgrade_span is None for r in tree):
                # No revision defines downgrade(): the project migrates forward only, one decision.
                forward_only.update(id(r) for r in tree)
                folder = posixpath.commonpath([r.path.rsplit("/", 1)[0] for r in tree])
                yield self.grouped(
                    f"none of the {len(tree)} revisions under {folder} defines downgrade(): the project migrates "
                    "forward only; a failed deploy is undone by a new revision or a restore, so say so in the runbook",
                    [(r.span, f"migration:{r.revision}:downgrade", r.revision or r.path) for r in tree],
                    f"migrations:forward-only:{folder}", severity=Severity.INFO,
                )
        policy = {}  # id(revision) -> its tree, where empty downgrades are the project's policy, not a lapse
        every = [r for tree in trees for r in tree]  # several small trees of one project (one per component)
        project_wide = len(every) >= _POLICY_TREE and sum(r.downgrade_empty for r in every) * 4 >= len(every) * 3
        for tree in trees:
            empty = sum(r.downgrade_empty for r in tree)
            if id(tree[0]) not in forward_only and (project_wide or len(tree) >= _POLICY_TREE and empty * 4 >= len(tree) * 3):
                policy.update((id(r), tree) for r in tree)
        said = set()
        for r in self.facts.revisions:
            if id(r) in forward_only:
                continue
            if id(r) not in policy:
                yield from self._revision(r)
            elif id(tree := policy[id(r)]) not in said:
                said.add(id(tree))
                yield from self._policy(tree)

    def _policy(self, tree: list[RevisionFact]):
        """One info for a tree where most revisions have an empty downgrade: the project does not write
        downgrades, one decision; the per-revision findings it stands for are its related locations (a few)
        and what it covers (all)."""
        found = [f for r in tree for f in self._revision(r)]
        if not found:
            return
        empty = sum(r.downgrade_empty for r in tree)
        every = self.facts.revisions
        whole = (f" (and {sum(r.downgrade_empty for r in every)} of the project's {len(every)})"
                 if len(tree) < _POLICY_TREE or empty * 4 < len(tree) * 3 else "")
        folder = posixpath.commonpath([r.path.rsplit("/", 1)[0] for r in tree])
        shown = found[:_POLICY_SHOWN]
        more = f", and {len(found) - len(shown)} more" if len(found) > len(shown) else ""
        yield self.finding(
            f"{empty} of {len(tree)} revisions of {folder}{whole} have an empty downgrade: the project does not write "
            f"downgrades; rolling back means restoring a backup (reported here once for the {len(found)} revisions that "
            f"would each have a finding: {', '.join(f.anchor.split(':')[1] for f in shown)}{more})",
            Span(found[0].location.path, found[0].location.start_line, found[0].location.end_line),
            f"migrations:empty-downgrades:{folder}", severity=Severity.INFO,
            related=[(Span(f.location.path, f.location.start_line, f.location.end_line), f.anchor.split(":")[1])
                     for f in shown[1:]],
            covers=[identity_key(self.ID, f.anchor) for f in found],
        )

    def _revision(self, r: RevisionFact):
        """The finding on one revision's empty downgrade, if it has one worth a finding."""
        if r.downgrade_empty and r.upgrade and _only_adds_enum_values(r):
            once = [st for op in r.upgrade for st in op.sql.statements  # type: ignore[union-attr]
                    if st.kind not in _TRANSACTION and not (_TWICE.search(st.text) or st.details.get("guarded"))]  # a DO block asks pg_enum first
            if once:  # nothing to undo, but the next upgrade after `alembic downgrade` adds the value again
                yield self.finding(
                    f"revision {r.revision} ({r.message or r.path.rsplit('/', 1)[-1]}) only adds enum values, which "
                    "PostgreSQL cannot drop, so its empty downgrade is the norm; but after `alembic downgrade` past it, "
                    f"running the upgrade again fails (the value exists already: ADD VALUE without IF NOT EXISTS, line "
                    f"{once[0].span.start})", r.downgrade_span or r.span, f"migration:{r.revision}:downgrade",
                    severity=Severity.INFO,
                )
            return
        if r.downgrade_empty and r.upgrade and not data_only(r) \
                and not _titled_data_migration(r) and not _retires_native_enums(self.facts, r):
            span = r.downgrade_span or r.span
            unread = _unread_sql(r)
            if unread is not None:
                source = self._library_sql(r, unread)
                yield self.finding(
                    f"revision {r.revision} ({r.message or r.path.rsplit('/', 1)[-1]}) has an empty downgrade, and "
                    f"dbreview could not read the SQL its upgrade runs ({unread.path}:{unread.start}{source}): if that SQL "
                    "only changes rows, an empty downgrade is the norm; if it changes the schema, the revision "
                    "cannot be rolled back", span, f"migration:{r.revision}:downgrade", severity=Severity.INFO,
                    related=[(unread, "SQL not read")],
                )
                return
            title = f"revision {r.revision} ({r.message or r.path.rsplit('/', 1)[-1]})"
            said, how = (_explained(self._downgrade_lines(r)) if r.downgrade_span else None) or (None, "")
            ops = [op for op in r.upgrade if not op.not_postgres]  # one statement per dialect is one step here
            if not ops:
                return  # it changes something only on another database
            guarded = sum(op.guarded for op in ops)
            unguarded = [op for op in ops if not op.guarded and changes_schema([op])]
            if said and all(_restores(op) for op in ops if changes_schema([op])):
                return  # its author says why, and it only makes what is missing (IF NOT EXISTS, a check first)
            if said and not r.down_revisions:
                return  # the root, irreversible by its author's word: below it there is no revision to go back to
            if said:
                yield self.finding(
                    f"{title} has an empty downgrade, on purpose by its {how} ({said!r}): its {len(ops)} "
                    "operation(s) are not rolled back", span, f"migration:{r.revision}:downgrade", severity=Severity.INFO,
                )
                return
            steps = [op for op in ops if changes_schema([op])]
            if steps and all(map(_validates_only, steps)):
                return  # VALIDATE CONSTRAINT only marks a constraint checked: there is nothing to undo
            widened = [_widens_only(op) for op in steps]
            if widened and all(widened):
                dropped = {name for op in steps for name in _indexes_dropped(op)}
                again = [w for w in (_again_fails(op, dropped) for op in steps) if w]
                yield self.finding(
                    f"{title} has an empty downgrade, and each schema change of its upgrade leaves a schema the code "
                    f"before it still works with ({_some(widened)}): a deploy can be rolled back "
                    "without undoing them" + (
                        f"; but after `alembic downgrade` past it, running the upgrade again fails ({', '.join(dict.fromkeys(again))}): "
                        "undo them in the downgrade, or write them so that they run twice" if again else ""),
                    span, f"migration:{r.revision}:downgrade", severity=Severity.INFO,
                )
                return
            renamed = _renames_constraints(steps)
            if renamed:
                yield self.finding(
                    f"{title} has an empty downgrade, and its upgrade only drops constraints and makes as many of the "
                    f"same kinds again on the same tables ({renamed}): the database enforces the same kinds of rules "
                    "before and after (a naming convention brought in, or constraints lifted around a change of rows), "
                    "so a deploy can be rolled back without undoing them",
                    span, f"migration:{r.revision}:downgrade", severity=Severity.INFO,
                )
                return
            if not r.down_revisions and not r.unread and all(map(_makes, steps)):
                yield self.finding(
                    f"{title} has an empty downgrade: it is the root revision, which builds the schema from "
                    f"nothing ({len(ops)} operation(s)); undoing it drops the whole schema, which is a restore or "
                    "a new database rather than a rollback", span, f"migration:{r.revision}:downgrade",
                    severity=Severity.INFO,
                )
                return
            retired = _drops_retired_tables(self.facts, steps)
            if retired:
                yield self.finding(
                    f"{title} has an empty downgrade, and its upgrade only drops tables that no model maps and no Python "
                    f"code of the application names any more ({', '.join(retired)}): after a rollback only code that "
                    "still used them misses them, and their rows are gone either way",
                    span, f"migration:{r.revision}:downgrade", severity=Severity.INFO,
                )
                return
            if guarded and not unguarded:
                yield self.finding(
                    f"{title} has an empty downgrade, and each schema change of its upgrade runs only where an "
                    "inspector check finds the database needs it (it reconciles drift): "
                    "what each database held before is not known, so there is no one schema to roll back to",
                    span, f"migration:{r.revision}:downgrade", severity=Severity.INFO,
                )
                return
            if guarded:
                yield self.finding(
                    f"{title} has an empty downgrade: {len(unguarded)} of its {len(ops)} operation(s) cannot "
                    f"be rolled back ({', '.join(_described(op) for op in unguarded)}); {guarded} run only where an "
                    "inspector check finds the database needs them",
                    span, f"migration:{r.revision}:downgrade", related=[(op.span, _described(op)) for op in unguarded],
                )
                return
            yield self.finding(
                f"{title} has an empty downgrade: its {len(ops)} operation(s) cannot be rolled back",
                span, f"migration:{r.revision}:downgrade",
            )

    def _library_sql(self, r: RevisionFact, span: Span) -> str:
        """`, {name} of the library {package}, which dbreview does not read` where the SQL at `span` is a name the
        revision imports from a package outside the repository ('' otherwise)."""
        call = re.search(r"\bexecute\(\s*([A-Za-z_]\w*)\s*\)", " ".join(self.facts.lines(span)))
        origin = next((source for local, source, _ in r.imports if call and local == call.group(1)), None)
        if origin is None:
            return ""
        package = origin.split(".", 1)[0]
        if any(part in (package, f"{package}.py") for path in python_paths(self.facts) for part in path.split("/")):
            return ""  # a module of the repository: read like any other, its SQL was just not a string dbreview could follow
        return f": {call.group(1)} of the library {origin.rsplit('.', 1)[0]}, whose SQL dbreview does not read"

    def _downgrade_lines(self, r: RevisionFact) -> tuple[str, ...]:
        """The downgrade's lines, with the comment lines that follow its last statement inside its body
        (`pass` then `# not reversible: ...`)."""
        span = r.downgrade_span
        lines = self.facts.lines(span)
        after = []
        for line in self.facts.lines(Span(span.path, span.end + 1, span.end + 20)):
            if line.strip() and not (line[:1].isspace() and line.lstrip().startswith("#")):
                break
            after.append(line)
        return lines + tuple(after)


_POLICY_TREE = 10  # revisions a tree needs before its empty downgrades read as a policy rather than lapses
_POLICY_SHOWN = 5  # revisions the one finding of such a tree names and points at


_STRING = re.compile(r"^(?:sa\.|sqlalchemy\.)?(?:String|Unicode|VARCHAR|NVARCHAR)\((?:length\s*=\s*)?(\d+)", re.I)
_LONG_TEXT = re.compile(r"^(?:sa\.|sqlalchemy\.)?(?:Text|UnicodeText|TEXT)\b|^(?:sa\.|sqlalchemy\.)?(?:String|Unicode|VARCHAR)(?:\(\s*\))?$", re.I)
_ALTER_KEPT = {"existing_type", "existing_nullable", "existing_server_default", "existing_comment", "schema"}
_ADDS_APART = {"CreateExtensionStmt": "an extension created", "CreateSeqStmt": "a sequence created",
               "CreateSequence": "a sequence created"}


def _widens_only(op) -> str | None:
    """What a step changes, in words, when the code of the revision before still works with the schema it
    leaves: a string column made longer (or unbounded), NOT NULL dropped, a sequence or an extension
    created, a plain (not unique) index built; None for any other step."""
    if op.name == "alter_column":
        changed = set(op.options) - _ALTER_KEPT
        old, new = op.options.get("existing_type", ""), op.options.get("type_", "")
        longer = _STRING.match(old) and (_LONG_TEXT.match(new) or (m := _STRING.match(new)) and int(m.group(1)) > int(_STRING.match(old).group(1)))
        if changed == {"type_"} and longer:
            return f"{op.table}.{op.target} made longer"
        return f"{op.table}.{op.target} made nullable" if changed == {"nullable"} and op.options["nullable"] == "True" else None
    if op.name == "create_index" and op.index is not None and not op.index.unique:
        return f"index {op.index.name or 'on ' + str(op.table)} built"
    if op.name == "drop_index":  # the code before never needed an index to work, only to be quick
        return f"index {op.target or 'on ' + str(op.table)} dropped"
    kind = op.options.get("type_", "").strip("'\"")
    if (op.name == "drop_constraint" or op.name == "unread" and str(op.target).endswith("drop_constraint")) and kind in ("unique", "check"):  # it only enforced; the code before never needed it
        return f"a {kind.upper()} constraint on {op.table} dropped"
    statements = op.sql.statements if op.sql else ()
    said = [_ADDS_APART.get(st.kind) or _sql_widens_only(st) for st in statements]
    return said[0] if op.name == "execute" and said and all(said) else None


def _some(said: list[str], shown: int = 4) -> str:
    """The first `shown` distinct phrases, then how many more."""
    distinct = list(dict.fromkeys(said))
    more = f", and {len(distinct) - shown} more" if len(distinct) > shown else ""
    return ", ".join(distinct[:shown]) + more


def _sql_widens_only(st) -> str | None:
    """`_widens_only` of one SQL statement: a plain index built or an index dropped, storage parameters
    (autovacuum, fillfactor) set on a table; None for any other statement."""
    if st.kind == "create_index" and not st.details.get("unique"):
        return f"index {st.details.get('name') or 'on ' + str(st.table)} built"
    if st.kind == "drop" and st.details.get("type") == "OBJECT_INDEX":
        return f"index {', '.join(st.details.get('names') or ()) or '(unnamed)'} dropped"
    if sets_storage_only(st):
        return f"storage parameters of {st.table} set"
    return None


def _validates_only(op) -> bool:
    """SQL that only runs ALTER TABLE ... VALIDATE CONSTRAINT: it marks a constraint as checked, which has no
    inverse (the revision that added the constraint NOT VALID drops it in its own downgrade)."""
    statements = op.sql.statements if op.name == "execute" and op.sql else ()
    return bool(statements) and all(
        st.kind == "alter_table" and st.details.get("replayed") and st.details.get("changes")
        and all(c.get("what") == "validate_constraint" for c in st.details["changes"]) for st in statements)


def _indexes_dropped(op) -> list[str]:
    """The names of the indexes a step drops (op.drop_index, DROP INDEX)."""
    if op.name == "drop_index":
        return [op.target] if op.target else []
    return [name for st in (op.sql.statements if op.sql else ()) if st.kind == "drop" and st.details.get("type") == "OBJECT_INDEX"
            for name in st.details.get("names") or ()]


_TWICE = re.compile(r"\bIF\s+NOT\s+EXISTS\b|\bif_not_exists\s*=\s*True\b", re.I)
_MADE = {"CreateExtensionStmt": "extension", "CreateSeqStmt": "sequence", "CreateSequence": "sequence", "create_index": "index"}


def _again_fails(op, dropped: set[str]) -> str | None:
    """What a step fails on when it runs a second time: after `alembic downgrade` past an empty downgrade
    its change is still there, and the next upgrade runs it again (CREATE SEQUENCE of a sequence that
    exists, DROP CONSTRAINT of one that is gone). None for a step that runs twice, or that an inspector
    check decides; nor for an index the upgrade drops (`dropped`) before making it again."""
    if op.guarded:
        return None
    if op.name == "create_index" and op.index is not None and op.index.name not in dropped \
            and not _TWICE.search(" ".join(f"{k}={v}" for k, v in op.options.items())):
        return f"index {op.index.name or 'on ' + str(op.table)} exists already"
    if op.name == "drop_constraint":
        return f"the constraint on {op.table} is gone already"
    statements = [st for st in (op.sql.statements if op.sql else ()) if not _TWICE.search(st.text)]
    made = [_MADE.get(st.kind) for st in statements if st.details.get("name") not in dropped or st.kind != "create_index"]
    return f"the {made[0]} exists already" if made and made[0] else None


_MAKES_CONSTRAINT = {"create_primary_key": "primary", "create_foreign_key": "foreignkey",
                     "create_unique_constraint": "unique", "create_check_constraint": "check"}


def _renames_constraints(steps) -> str:
    """`12 constraints on 5 tables` when every step drops a constraint or makes one and, table by table, as many of
    each kind are made again as are dropped (a naming convention brought in); '' otherwise."""
    dropped: Counter = Counter()
    made: Counter = Counter()
    for op in steps:
        kind = op.options.get("type_", "").strip("'\"")
        if op.name == "drop_constraint" and kind in _MAKES_CONSTRAINT.values():
            dropped[(op.table, kind)] += 1
        elif op.name in _MAKES_CONSTRAINT:
            made[(op.table, _MAKES_CONSTRAINT[op.name])] += 1
        else:
            return ""
    if not dropped or dropped != made or None in {table for table, _ in dropped}:
        return ""
    return f"{sum(dropped.values())} constraint(s) on {len({table for table, _ in dropped})} table(s)"


def _drops_retired_tables(facts, steps) -> list[str]:
    """The tables `steps` drop when that is all they do and no model or code of the application names one of
    them any more (a retired feature's tables); [] otherwise."""
    dropped: list[str] = []
    for op in steps:
        found = effects([op])
        if op.name != "drop_index" and (not found or any(e.kind != "drop_table" or not e.table for e in found)):
            return []
        dropped += [e.table for e in found if e.table]
    if not facts.tables or not dropped or any(named_in_code(facts, t) for t in dropped):
        return []
    return list(dict.fromkeys(dropped))


def _restores(op) -> bool:
    """A step that makes only what is missing: inside an inspector check, or SQL that creates IF NOT EXISTS
    or in a DO block that asks the catalog first. Where it is there already, it does nothing."""
    statements = op.sql.statements if op.sql else ()
    return op.guarded or bool(statements) and all(
        st.kind in DATA_SQL or st.kind.startswith("create") and (st.details.get("if_exists") or st.details.get("guarded"))
        for st in statements)


def _described(op) -> str:
    """An operation as a reviewer finds it: `alter_column entity.source`, `SQL create_trigger on kg_entity`."""
    if op.name == "execute" and op.sql and op.sql.statements:
        st = op.sql.statements[0]
        return f"SQL {st.kind}" + (f" on {st.table}" if st.table else "")
    where = f"{op.table}.{op.target}" if op.table and op.target and op.target != op.table else op.table or op.target or ""
    return f"{op.name} {where}".strip()


def _unread_sql(r: RevisionFact) -> Span | None:
    """Where an upgrade runs SQL dbreview could not read, when all else it does only changes rows."""
    def unread(op) -> bool:
        return op.name == "execute" and (op.sql is None or not op.sql.statements or any(
            st.kind == "unparsed" for st in op.sql.statements))
    blind = [op for op in r.upgrade if unread(op)]
    rest = [op for op in r.upgrade if not unread(op)]
    return blind[0].span if blind and not (rest and changes_schema(rest)) else None


# A revision its author titled as moving data (its columns are added and dropped by its neighbours).
_DATA_MIGRATION = re.compile(r"data[- ]only|data migration|backfill|migrate\b.*\bdata\b", re.I)


def _titled_data_migration(r: RevisionFact) -> bool:
    """Titled or described (its module docstring) as moving data, and no operation of its own changes the
    schema (its SQL may be built in ways a static reader does not follow)."""
    return bool(_DATA_MIGRATION.search(r.doc or r.message or "")) and all(op.name in ("execute", "bulk_insert") for op in r.upgrade)


def _only_adds_enum_values(r) -> bool:
    """`ALTER TYPE ... ADD VALUE` and nothing else: PostgreSQL cannot drop an enum value, so an empty
    downgrade is the norm (the extra label is harmless once unused)."""
    statements = [st for op in r.upgrade for st in (op.sql.statements if op.sql else ()) if st.kind not in _TRANSACTION]
    return all(op.name == "execute" and op.sql for op in r.upgrade) and bool(statements) and all(
        st.kind == "AlterEnumStmt" for st in statements
    )


def _makes(op) -> bool:
    """The step only makes something: op.create_*, `metadata.create_all(...)` (read or not: it only creates what is
    missing), or SQL of CREATE statements only (CREATE EXTENSION, CREATE INDEX)."""
    if op.name.startswith("create") or op.name == "unread" and (op.target or "").endswith("create_all"):
        return True
    statements = [st for st in (op.sql.statements if op.name == "execute" and op.sql else ()) if st.kind not in _TRANSACTION]
    return bool(statements) and all(st.kind.lower().startswith("create") for st in statements)


# `op.execute("COMMIT")` before ADD VALUE (which older PostgreSQL refuses inside a transaction): no schema change
_TRANSACTION = ("commit", "begin", "start")


# alter_column's keywords that change nothing but the type (and what Alembic is told the column was).
_TYPE_ONLY = {"type_", "existing_type", "existing_nullable", "existing_server_default", "existing_comment",
              "postgresql_using", "schema"}
_STRING_TYPE = re.compile(r"^(sa\.|sqlalchemy\.)?(String|Text|Unicode|UnicodeText|VARCHAR|TEXT)\b")


def _retires_native_enums(facts, r: RevisionFact) -> bool:
    """Columns turned into plain strings and enum types dropped IF EXISTS, and nothing else: code of any
    revision that maps such a column (as an Enum, native or not, or a String) reads and writes the same
    labels, so there is nothing to roll back, as long as no model at head maps one of them as a native
    enum (the conversion would then be drift, which MIG006 reports)."""
    ops = [op for op in r.upgrade if not op.not_postgres]
    drops = [st for op in ops for st in (op.sql.statements if op.sql else ())]
    if not drops or not all(st.kind == "drop" and st.details.get("type") == "OBJECT_TYPE" and st.details.get("if_exists")
                            for st in drops):
        return False
    for op in ops:
        if op.name == "execute" and op.sql and op.sql.statements:
            continue
        if op.name != "alter_column" or not set(op.options) <= _TYPE_ONLY or not _STRING_TYPE.match(op.options.get("type_", "")):
            return False
        model = facts.tables.get(op.table or "")
        column = model.columns.get(op.target or "") if model else None
        if column is not None and (column.type_name == "ENUM" or column.type_name == "Enum"
                                   and column.type_args.get("native_enum", "True") != "False"):
            return False
    return True


_QUOTES = ('"' * 3, "'" * 3, '"', "'")


# What Alembic's autogenerate writes into every downgrade: its words, not the author's.
_BOILERPLATE = re.compile(r"commands auto generated by Alembic|end Alembic commands", re.I)


_PRINTED = re.compile(r"""^(?:print|\w+\.(?:debug|info|warning|warn|error|critical|echo))\(\s*f?(['"])(.+?)\1""")


def _explained(lines: tuple[str, ...]) -> tuple[str, str] | None:
    """The comment or docstring an empty downgrade carries, or the message it prints: its author saying it is
    empty on purpose; with "comment" or "message", what it is. A docstring whose quotes stand on their own
    line is read on its next line."""
    opened = False
    for line in lines[1:]:
        text = line.strip()
        if opened:
            return (text.strip("\"' ")[:80], "comment") if text.strip("\"' ") else None
        printed = _PRINTED.match(text)
        if printed:
            return printed.group(2)[:80], "message"
        code, _, comment = text.partition("#")
        if comment.strip() and code.strip() in ("", "pass", "...", "return", "return None"):
            if _BOILERPLATE.search(comment):
                continue
            return comment.strip()[:80], "comment"
        if text.startswith(_QUOTES):
            said = text.strip("\"' ")[:80]
            if said:
                return said, "comment"
            opened = True
    return None


_ORDERS = '''
from alembic import op
import sqlalchemy as sa
revision = "0001"
down_revision = None
def upgrade():
    op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("state", sa.Enum("open", "paid", name="order_state")))
def downgrade():
    op.drop_table("orders")
'''


class DowngradeIncomplete(Rule):
    """A downgrade does not undo what its upgrade did.

    What it checks:
        Tables and columns that `upgrade()` creates, drops or renames and `downgrade()` does not put
        back, played one after the other whatever their form (`op.*`, SQL in `op.execute`,
        `Table.create(bind)`, loops over constants); a downgrade that raises is declared irreversible
        and left alone. A table or column an earlier revision made already (the upgrade creates it again
        as a repair, in a `try` or `IF NOT EXISTS`, for databases that lack it) is not this revision's to drop;
        nor is a drop or rename that runs only where an inspector check finds the object (`if "id" in columns:`)
        after an earlier revision took that object away, or of a column no earlier revision makes (nor a model of
        today that their create_all builds), a check being an inspector call or SQL that asks the catalog
        (`SELECT EXISTS (... information_schema.columns ...)`): on a database built by the migrations it never
        runs. A table created where a check finds it missing (the `else` of `if has_table(...)`) is one the
        upgrade creates, not one it drops, unless the upgrade dropped it just before (it remakes it); such a create in
        the downgrade says nothing of what was there before the upgrade. A column the upgrade drops and adds again that the downgrade adds
        back while the upgrade's one is still there is said as such: that add fails, so the downgrade cannot run. Where
        the downgrade holds SQL the parser could not read (MySQL's `ALTER TABLE t DROP col`, `CHANGE a col ...`) that alters
        the table and names the column, nothing is said of that column; MySQL's `ADD INDEX ix (col)` adds no column. When
        the downgrade holds an operation that could not be read otherwise, the finding is info and says so; a `drop_column` given `sa.Column("name")` where Alembic wants the name is
        read as what it is, a call Alembic fails on: the downgrade cannot run (a warning).
        A dropped table the downgrade does not recreate: when a downgrade that runs next on the way down
        (its own, or the earlier revision's that made it) drops it again, the finding says the downgrade
        fails there (and, where a model maps it and the application's start-up runs create_all, that the
        application makes it again as it starts, so the downgrade fails only without a start in between);
        else, when no model maps it and no Python code of the application names it any more (a retired
        table), it is info: only code that still used it misses it.
        A PostgreSQL enum type the upgrade makes (a native `Enum(..., name="x")` in `op.create_table`, which
        creates the type, or `CREATE TYPE x AS ENUM`) and the downgrade leaves behind when it drops the table
        (`op.drop_table` never drops the type); only where every call of the downgrade is Alembic's or
        SQLAlchemy's, none is a `.drop(bind)`, no DROP TYPE and not the type's name appear in it, the type is
        no other revision's, and the application is not known to run on another database.
        `create_type=False` (the type made elsewhere) and `native_enum=False` make no type.
    Why it matters:
        After a downgrade the schema is neither the old one nor the new one: the next upgrade fails
        (table already exists, `type "x" already exists`) or the old code finds a column missing.
    Example:
        def upgrade():
            op.drop_column("users", "legacy_flag")
        def downgrade():
            op.drop_index("ix_users_email")
    Instead:
        Mirror every operation: `op.add_column("users", sa.Column("legacy_flag", ...))`.
    """

    ID = "MIG002"
    ITEM = "3.9"
    SEVERITY = Severity.WARNING
    VALID = ({"migrations/versions/0001_notes.py": rev("0001", None)}, {"migrations/versions/0002_uuid.py": '''
from alembic import op
import sqlalchemy as sa
revision = "0002"
down_revision = None
def upgrade():  # integer ids replaced by UUIDs: add, copy, drop, rename
    op.add_column("item", sa.Column("new_id", sa.Uuid()))
    op.drop_column("item", "id")
    op.alter_column("item", "new_id", new_column_name="id")
def downgrade():
    op.add_column("item", sa.Column("old_id", sa.Integer()))
    op.drop_column("item", "id")
    op.alter_column("item", "old_id", new_column_name="id")
'''}, {"migrations/versions/0003_addresses.py": '''
from alembic import op
import sqlalchemy as sa
revision = "0003"
down_revision = None
PARTS = [("street", sa.String(80)), ("city", sa.String(40))]
def upgrade():  # a table renamed, columns added in a loop, a table replaced
    op.rename_table("address", "addresses")
    for name, type_ in PARTS:
        op.add_column("addresses", sa.Column(name, type_))
    op.create_table("regions", sa.Column("id", sa.Integer, primary_key=True))
    op.drop_table("legacy_regions")
def downgrade():
    sa.Table("legacy_regions", sa.MetaData(), sa.Column("id", sa.Integer)).create(op.get_bind())
    op.execute("DROP TABLE regions")
    for name, _ in reversed(PARTS):
        op.drop_column("addresses", name)
    op.rename_table("addresses", "address")
'''}, {"migrations/versions/0001_orders.py": _ORDERS.replace(
        'op.drop_table("orders")', 'op.drop_table("orders")\n    sa.Enum(name="order_state").drop(op.get_bind())')})
    INVALID = ({"migrations/versions/0001_notes.py": rev("0001", None, 'op.drop_index("ix_other")')},
               {"migrations/versions/0001_orders.py": _ORDERS})

    def check(self):
        for r in self.facts.revisions:
            if r.downgrade_empty or r.downgrade_raises:
                continue
            unread = unread_ops(r.downgrade)
            for effect, problem, (kind, name, before) in not_undone(r.upgrade, r.downgrade):
                if kind == "column" and before and effect.table and _transitional(self.facts, r, effect.table, name):
                    continue
                if not before and _made_earlier(self.facts, r, kind, f"{effect.table}.{name}" if kind == "column" else name):
                    continue  # a repair: on a database built by the migrations it is there already, and is not this revision's to drop
                if before and _repair_of_what_is_gone(self.facts, r, effect):
                    continue  # runs only where the object is found, and an earlier revision took it away: a repair
                op = effect.op
                anchor = f"migration:{r.revision}:{op.name}:{op.table}:{op.target}"
                unsure = [u for u in unread if effect.table and u.concerns(effect.table)]
                if kind == "table" and any(_creates_in_text(u, name) for u in unsure):
                    continue  # SQL the parser could not read (MySQL's backquotes) says CREATE TABLE of it: likely remade
                if kind == "column" and not before and any(_drops_in_text(u, name) for u in unsure):
                    continue  # SQL the parser could not read says DROP COLUMN of it
                if kind == "column" and any(_altered_in_text(u, effect.table, name) for u in unsure):
                    continue  # SQL the parser could not read (MySQL's `DROP col`, `CHANGE a col`) alters the table at the column
                malformed = next((u for u in unsure if kind == "column" and _malformed_drop(u, name)), None)
                given_table = next((u for u in unsure if kind == "column" and _table_given(u, name)), None)
                if given_table is not None:  # batch_op.drop_column("items", "note"): TypeError before anything runs
                    yield self.finding(
                        f"revision {r.revision} adds {effect.table}.{name}, and its downgrade's "
                        f"{given_table.reason.split('`')[1].split('(')[0]} at line {given_table.span.start} is given the "
                        "batch's table before the column: a batch operation takes the column only, so Alembic raises "
                        "TypeError on that call and the downgrade cannot run", effect.span, anchor,
                        related=[(given_table.span, "the table given again")],
                    )
                    continue
                if malformed is not None:  # the downgrade means to drop it, and cannot: Alembic fails on the call
                    shown = malformed.reason.split("`")[1] if malformed.reason.count("`") >= 2 else "a Column"
                    yield self.finding(
                        f"revision {r.revision} adds {effect.table}.{name}, and its downgrade's op.drop_column at line "
                        f"{malformed.span.start} gives `{shown}` where Alembic wants the column's name: Alembic fails on "
                        "that call, so the downgrade cannot run", effect.span, anchor,
                        related=[(malformed.span, "drop_column given a Column, not a name")],
                    )
                    continue
                severity = None
                if kind == "table" and before and effect.kind == "drop_table":
                    again = _dropped_again(self.facts, r, name)
                    remade = start_up.remade(self.facts, name)
                    if again is not None and again[0] is r:
                        problem += f", and drops it again itself (line {again[1].start}): " + (
                            f"{remade}, so the downgrade finds it there once the application has run at this revision, and "
                            "fails only straight after the upgrade" if remade else "unless something outside the migrations "
                            "made it again in between (create_all at start-up), the downgrade fails there")
                    elif again is not None:
                        problem += (f"; the downgrade of revision {again[0].revision}, which runs after it on the way down, "
                                    f"drops {name} (line {again[1].start}): `alembic downgrade` past both " + (
                                        f"in one run fails there; {remade}, so one revision at a time with the application "
                                        "started in between works" if remade else
                                        "fails there, unless something outside the migrations makes it again in between"))
                    elif self.facts.tables and not named_in_code(self.facts, name):
                        severity = Severity.INFO
                        problem += ("; no model maps it and no Python code of the application names it any more (a retired "
                                    "table): after a downgrade only code that still used it misses it, and its rows are "
                                    "gone either way")
                yield self.finding(f"revision {r.revision} {problem}", effect.span, anchor, unsure=unsure, severity=severity)
        yield from self._enum_types()

    def _enum_types(self):
        """Enum types an upgrade's create_table makes and its downgrade leaves behind (analyzers/rules/enum_types.py)."""
        if runs_on(self.facts).not_postgres:
            return
        makers = Counter(name for r in self.facts.revisions for name in (*enum_types.made_types(r), *enum_types.dropped_types(r)))
        for r in self.facts.revisions:
            if r.downgrade_empty or r.downgrade_raises:
                continue
            for left in enum_types.left_types(self.facts, r, makers):
                yield on_postgres(self.facts, self.finding(
                    f"revision {r.revision} makes the PostgreSQL enum type {left.name} and its downgrade drops "
                    f"{left.table} but not the type (drop_table leaves it): after `alembic downgrade` the next upgrade "
                    f'fails with `type "{left.name}" already exists`', left.made,
                    f"migration:{r.revision}:enum_type:{left.table}:{left.name}",
                    related=[(left.dropped, f"drops {left.table}, not the type {left.name}")]))


def _dropped_again(facts, rev: RevisionFact, table: str) -> tuple[RevisionFact, Span] | None:
    """The downgrade that, next on the way down, drops `table` for certain (no IF EXISTS, no inspector
    check) while `rev`'s upgrade dropped it: `rev`'s own, else the nearest earlier revision's whose downgrade
    touches the table at all; (that revision, where), or None."""
    def touching(ops):
        return [e for e in effects(ops) if table in (e.table, e.name if e.kind == "rename_table" else None)]

    ancestors = history(facts).ancestors.get(id(rev), frozenset())
    last = touching(rev.upgrade)[-1:]
    own = () if last and last[0].kind != "drop_table" else (rev,)  # made again: its downgrade drops the new one
    for earlier in (*own, *(e for e in reversed(facts.revisions) if id(e) in ancestors)):
        touches = touching(earlier.downgrade)
        drop = next((e for e in touches if e.kind == "drop_table" and e.table == table), None)
        if drop is not None and not drop.maybe and not drop.op.guarded and touches[0] is drop:
            return earlier, drop.span
        if touches and earlier is not rev:
            return None
    return None


def _proposes(facts, said: str) -> str:
    """`said` (what autogenerate will propose) unless Alembic is given no models to compare."""
    return "" if _no_target_metadata(facts) else said


def _no_target_metadata(facts) -> bool:
    """The project's env.py files give Alembic no target_metadata (meltano writes its revisions by hand): autogenerate
    compares nothing, and op.* names constraints by no convention of the models'."""
    envs = [m for m in facts.modules if is_env(m.path) and not is_test_path(m.path)]
    return bool(envs) and all(m.alembic_env is None or all(t.text == "None" for t in m.alembic_env.targets) for m in envs)


def _made_earlier(facts, rev: RevisionFact, kind: str, key: str) -> bool:
    """Whether a table or column `rev` creates is one an earlier revision made and none dropped since: the
    create is a repair for databases that lack it (it fails, caught, or is skipped where it is there), and a
    downgrade that dropped it would take away what the earlier revision made."""
    return history(facts).before(rev, kind, key) is not None


def _repair_of_what_is_gone(facts, rev: RevisionFact, effect) -> bool:
    """Whether a drop or rename runs only where an inspector check finds the object it acts on (`if "id" in
    columns: drop_column("id")`) and an earlier revision already dropped or renamed that object away, none
    making it again since, or (a table) none ever made it in a history that begins with the tables it creates (meltano drops a
    `state` table an old version of a revision left, then creates its own): on a database built by the migrations the
    step never runs, so a downgrade has nothing of it to undo. It repairs databases that went another way."""
    op = effect.op
    acted = effect.name if effect.kind in ("drop_column", "rename_column") else effect.table
    if not (op.guarded and not op.guard_missing and acted in op.guard_names) or effect.kind not in (
            "drop_column", "rename_column", "drop_table", "rename_table"):
        return False
    column = effect.kind.endswith("_column")
    seen = history(facts).ancestors.get(id(rev), frozenset())
    gone = ever = False
    earlier_ones = [r for r in facts.revisions if id(r) in seen]
    for earlier in earlier_ones:
        for e in effects(earlier.upgrade):
            if e.op.guarded or e.table is None:
                continue
            if column and e.table == effect.table:
                taken = e.kind in ("drop_column", "rename_column") and e.name == acted
                made = e.kind == "add_column" and e.name == acted or e.kind == "rename_column" and e.new == acted
            else:
                taken = not column and e.kind in ("drop_table", "rename_table") and e.table == acted
                made = not column and (e.kind == "create_table" and e.table == acted or e.kind == "rename_table" and e.name == acted)
            gone = taken or (gone and not made)
            ever = ever or made
    if column and not gone:
        return _never_made_column(facts, earlier_ones, effect.table, acted)
    return gone or not column and not ever and bool(earlier_ones) and not _history_starts_elsewhere([*earlier_ones, rev])


def _never_made_column(facts, earlier_ones: list[RevisionFact], table: str, column: str) -> bool:
    """Whether no earlier revision makes `table`.`column`: no step of theirs (checked or not) adds it, creates the
    table with it or renames a column to it, no step they could not read names it, and no model of today, which
    their `metadata.create_all` builds, maps it. A guarded drop of it cleans up after another version of the
    migration and never runs on a database built by the chain (SurfSense's revision 93)."""
    model = facts.tables.get(table)
    if model is not None and column in model.columns:
        return False
    named = re.compile(rf"(?<!\w){re.escape(column)}(?!\w)")
    for earlier in earlier_ones:
        for e in effects(earlier.upgrade):
            if e.kind == "unread":
                text = e.op.sql.text if e.op.sql is not None else e.op.text
                if e.op.name == "unread" and (e.op.target or "").endswith(".create_all"):
                    continue  # today's models, asked above
                if text is None and e.table in (table, None) or text is not None and named.search(text):
                    return False  # it may make the column
            elif e.table == table and (column in e.columns or e.kind == "create_table" and not e.columns
                                       or column in (e.name, e.new) and e.kind != "drop_column"):
                return False
            elif e.kind == "rename_table" and e.name == table:
                return False  # its columns are another table's, not followed here
    return True

def _taken_away(facts, table: str, column: str) -> tuple[Life, str, Span] | None:
    """The last life of `table`.`column` that an upgrade ended: (that life, what its ender does, where), or None when
    no revision ever made it."""
    lives = [life for (_, kind, key), all_ in history(facts).lives.items() if kind == "column" and key == f"{table}.{column}"
             for life in all_ if life.ender is not None]
    if not lives:
        return None
    life = lives[-1]
    for e in effects(life.ender.upgrade):  # type: ignore[union-attr]
        if e.table == table and e.kind == "drop_table":
            return life, f"drops {table}", e.span
        if e.table == table and e.kind in ("drop_column", "rename_column") and e.name == column:
            return life, "drops it" if e.kind == "drop_column" else f"renames it to {e.new}", e.span
    return None


def _malformed_drop(unread, column: str) -> bool:
    """Whether `unread` is a drop_column given `sa.Column("<column>")` where Alembic wants the name."""
    return ("is a Column where Alembic wants the name" in unread.reason
            and re.search(rf"""Column\(\s*['"]{re.escape(column)}['"]""", unread.reason) is not None)


def _table_given(unread, column: str) -> bool:
    """Whether `unread` is a batch operation on `column` given the batch's table too (`batch_op.drop_column("t", "c")`)."""
    return ("is given the batch's table before the column" in unread.reason
            and re.search(rf"""['"]{re.escape(column)}['"]\s*\)""", unread.reason) is not None)


def _transitional(facts, rev: RevisionFact, table: str, column: str) -> bool:
    """Whether a column the downgrade does not put back is one an earlier revision added and, in its own
    downgrade, drops only if it is there, as every downgrade in between touches it (`if "x" in columns:`,
    `DROP COLUMN IF EXISTS`): the chain downgrades through without it and ends where it began."""
    hist = history(facts)
    life = hist.before(rev, "column", f"{table}.{column}")
    if life is None:
        return False
    seen = hist.ancestors.get(id(rev), frozenset())
    since = [r for r in facts.revisions if id(r) in seen and (r is life.begun or id(life.begun) in hist.ancestors.get(id(r), ()))]
    touching = [(r, op, e) for r in since for op in r.downgrade for e in effects([op]) or [None]
                if e is not None and (e.table == table and column in (e.name, e.new) or e.kind == "unread" and e.table in (table, None))
                or op.table == table and op.target == column  # alter_column on it
                or op.sql is not None and re.search(rf"\b{re.escape(column)}\b", op.sql.text)]  # SQL that names it
    where_there = all(not (e and e.kind == "unread") and (e and e.maybe or op.guarded and column in op.guard_names)
                      for _, op, e in touching)
    return where_there and any(r is life.begun and e and e.kind == "drop_column" for r, _, e in touching)


class SeveralHeads(Rule):
    """The Alembic history has more than one head.

    What it checks:
        Revisions that no other revision names as its parent, per Alembic tree; heads that are each on
        a branch of its own name (`branch_labels`, as expand/contract set-ups have) are meant; a label given by a
        name dbreview cannot read (`(cli.EXPAND_BRANCH,)`) counts as that name.
    Why it matters:
        `alembic upgrade head` refuses to run with several heads; deploys stop until someone writes
        a merge revision, often under time pressure.
    Example:
        0002 and 0003 both have down_revision = "0001", and nothing merges them.
    Instead:
        `alembic merge heads -m "merge"` and commit the merge revision.
    """

    ID = "MIG003"
    ITEM = "3.2"
    SEVERITY = Severity.WARNING
    VALID = ({
        "migrations/versions/0001_a.py": rev("0001", None),
        "migrations/versions/0002_b.py": rev("0002", "0001"),
    }, {  # expand and contract branches, each named: `alembic upgrade heads`
        "migrations/versions/0001_a.py": rev("0001", None),
        "migrations/versions/expand/0002_b.py": rev("0002", "0001").replace("down_revision", "branch_labels = ('expand',)\ndown_revision"),
        "migrations/versions/contract/0003_c.py": rev("0003", "0001").replace("down_revision", "branch_labels = ('contract',)\ndown_revision"),
    }, {  # labels named by constants of the project's own CLI module: branches all the same
        "migrations/versions/0001_a.py": rev("0001", None),
        "migrations/versions/expand/0002_b.py": rev("0002", "0001").replace("down_revision", "branch_labels = (cli.EXPAND,)\ndown_revision"),
        "migrations/versions/contract/0003_c.py": rev("0003", "0001").replace("down_revision", "branch_labels = (cli.CONTRACT,)\ndown_revision"),
    })
    INVALID = ({
        "migrations/versions/0001_a.py": rev("0001", None),
        "migrations/versions/0002_b.py": rev("0002", "0001"),
        "migrations/versions/0003_c.py": rev("0003", "0001"),
    },)

    def check(self):
        for folder, revisions in _trees(self.facts.revisions).items():
            parents = {p for r in revisions for p in r.down_revisions}
            heads = [r for r in revisions if r.revision and r.revision not in parents]
            if len(heads) > 1 and not _labelled_branches(heads, revisions):
                names = ", ".join(h.revision or "?" for h in heads)
                gaps = tree_gaps(self.facts, revisions)
                for h in heads:
                    yield self.finding(
                        f"{len(heads)} heads in {folder} ({names}): `alembic upgrade head` will refuse to run until "
                        "they are merged",
                        h.span, f"migration-heads:{folder}:{h.revision}", unsure=gaps,
                    )


class MissingParentRevision(Rule):
    """A revision names a parent that does not exist.

    What it checks:
        `down_revision` values that match no revision of the same Alembic tree (a versions folder, or
        the folders of one environment that one history spans, a folder per release). Only the
        folders Alembic reads: a revision file in another folder of the script folder (a `temp/` of
        drafts beside `versions/`) is in no graph unless `version_locations` is set near it.
    Why it matters:
        Alembic cannot build the history: every command fails with "Can't locate revision".
    Example:
        down_revision = "abc123"   # no file has revision = "abc123"
    Instead:
        Point it at the real parent (`alembic history` shows the chain), or restore the missing file.
    """

    ID = "MIG004"
    ITEM = "3.2"
    SEVERITY = Severity.CRITICAL
    VALID = ({"migrations/versions/0001_a.py": rev("0001", None)}, {
        "migrations/versions/2024/0001_a.py": rev("0001", None),
        "migrations/versions/2025/0002_b.py": rev("0002", "0001"),
    })
    INVALID = ({"migrations/versions/0002_b.py": rev("0002", "0001")},)

    def check(self):
        for folder, revisions in _trees(self.facts.revisions).items():
            known = {r.revision for r in revisions}
            gaps = tree_gaps(self.facts, revisions)
            for r in revisions:
                for parent in r.down_revisions:
                    if parent not in known:
                        yield self.finding(
                            f"revision {r.revision} names parent {parent}, which no file in {folder} defines",
                            r.span, f"migration:{r.revision}:parent:{parent}", unsure=gaps,
                        )


class NoNamingConvention(Rule):
    """Constraints get names chosen by the database, not by a naming convention.

    What it checks:
        That the models' `MetaData(...)` sets `naming_convention`, or that it is set once the MetaData is
        made, in whichever module (`db.Model.metadata.naming_convention = {...}`, `.update(...)`), when the
        project has migrations. Models that map only through a library's declarative base whose MetaData
        has one (Advanced Alchemy's `UUIDAuditBase`, sqlalchemy-helpers' `Base` and the like, analyzers/facts/stubs) have it. Not reported
        where every model maps through a base of a library dbreview cannot read, and the project makes no
        MetaData of its own: whether that library's MetaData has one is not known. Nor where no foreign key,
        unique key or CHECK is made without a name, in the models or by a revision (the finding names the first
        unnamed one): primary keys and `index=True` indexes get names that do not depend on the database.
    Why it matters:
        Unnamed constraints get database-generated names, so later migrations cannot drop or alter
        them portably and autogenerate produces noisy diffs.
    Example:
        metadata = MetaData()
    Instead:
        `MetaData(naming_convention={"ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s", ...})`
    """

    ID = "MIG005"
    ITEM = "3.1"
    SEVERITY = Severity.INFO
    VALID = ({
        "models.py": "from sqlalchemy import MetaData\nmetadata = MetaData(naming_convention={'ix': 'ix_%(column_0_label)s'})\n",
        "migrations/versions/0001_a.py": rev("0001", None),
    }, {
        "app/models.py": "from sqlalchemy import Column, Integer\nfrom sqlalchemy.orm import DeclarativeBase\n"
        "class Base(DeclarativeBase):\n    pass\nclass Note(Base):\n    __tablename__ = 'notes'\n    id = Column(Integer, primary_key=True)\n",
        "app/setup.py": "from app.models import Base\nBase.metadata.naming_convention = {'pk': 'pk_%(table_name)s'}\n",
        "migrations/versions/0001_a.py": rev("0001", None),
    })
    INVALID = ({
        "models.py": "from sqlalchemy import Column, Integer, String\nfrom sqlalchemy.orm import DeclarativeBase\n"
        "class Base(DeclarativeBase):\n    pass\nclass Note(Base):\n    __tablename__ = 'notes'\n    id = Column(Integer, primary_key=True)\n"
        "    slug = Column(String(40), unique=True)\n",
        "migrations/versions/0001_a.py": rev("0001", None),
    },)

    def check(self):
        if not self.facts.revisions or not self.facts.tables:
            return
        metadata = [c for c in self.facts.calls_named("MetaData") if not is_test_path(c.span.path) and not is_tooling_path(c.span.path)]
        if any("naming_convention" in c.kwargs for c in self.facts.calls_named("MetaData")):
            return
        if any("naming_convention" in c.kwargs for c in self.facts.calls_named("registry")):
            return
        if any(not is_test_path(c.span.path) for c in self.facts.calls_named(NAMING_CONVENTION)):
            return  # `db.Model.metadata.naming_convention = {...}` after the fact, in whichever module
        bases = [span for span in self.facts.bases if not is_test_path(span.path) and not span.path.startswith(LIBRARY)]
        library = [span for span in self.facts.bases if span.path.startswith(LIBRARY)]
        if library and not bases and all(library_convention(span.path) for span in library):
            return  # the models map through a library's base whose MetaData has one (Advanced Alchemy's)
        models = [t for t in self.facts.tables.values() if t.class_name and not is_test_path(t.path)]
        if not bases and not library and not metadata and models and all(t.unknown_bases for t in models):
            return  # every model maps through a base of a library dbreview cannot read: its MetaData is not known
        base_modules = {span.path for span in bases}
        near_base = [c for c in metadata if c.span.path in base_modules]
        held = Counter(t.path for t in self.facts.tables.values() if not is_test_path(t.path))
        near_tables = sorted((c for c in metadata if held[c.span.path]), key=lambda c: -held[c.span.path])  # not a throwaway's
        anchor = (near_base[0].span if near_base else bases[0] if bases else near_tables[0].span if near_tables
                  else metadata[0].span if metadata else next(iter(self.facts.tables.values())).span)
        unnamed = _unnamed_constraint(self.facts)
        if unnamed is None:
            return  # every foreign key, unique key and CHECK is named where it is made: the database chooses none
        where, what = unnamed
        yield self.finding(
            f"no MetaData naming_convention, and constraints are made without a name ({what}, {where.path}:{where.start}): "
            "the database chooses their names, which differ between databases and which later migrations cannot rely "
            "on" + ("; but env.py gives Alembic no target_metadata, so a convention on the models' "
            "MetaData would not name what the revisions create either: name the constraints in the revisions (or give "
            "env.py the MetaData)" if _no_target_metadata(self.facts) else ""),
            type(anchor)(anchor.path, anchor.start, anchor.start), "metadata:naming_convention",
        )


def _creates_in_text(unread: Unread, table: str) -> bool:
    """Unparsed SQL whose text creates the table: `CREATE TABLE [IF NOT EXISTS] `table` (` in any quoting."""
    return unread.kind == "sql" and bool(unread.text) and re.search(
        rf"\bCREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?([`\"]?\w+[`\"]?\.)?[`\"]?{re.escape(table)}[`\"]?\s*\(",
        unread.text or "", re.I) is not None


_ADD_GEOMETRY = re.compile(r"AddGeometryColumn\s*\(\s*(?:'\w*'\s*,\s*)?(?:'\w*'\s*,\s*)?'(\w+)'\s*,\s*'(\w+)'\s*,\s*\d", re.I)


def _postgis_columns(facts) -> set[tuple[str, str]]:
    """(table, column) of every `AddGeometryColumn([catalog, schema,] table, column, srid, ...)` in the migrations'
    SQL: PostGIS's way of adding a geometry column."""
    if "postgis_columns" not in facts.derived:
        facts.derived["postgis_columns"] = {
            (t.lower(), c.lower()) for r in facts.revisions for op in r.upgrade if op.sql is not None and op.sql.text
            for t, c in _ADD_GEOMETRY.findall(op.sql.text)}
    return facts.derived["postgis_columns"]  # type: ignore[return-value]


def _drops_in_text(unread: Unread, column: str) -> bool:
    """Unparsed SQL whose text drops the column: `DROP COLUMN [IF EXISTS] column` in any quoting."""
    return unread.kind == "sql" and bool(unread.text) and re.search(
        rf"\bDROP\s+COLUMN\s+(IF\s+EXISTS\s+)?[`\"]?{re.escape(column)}[`\"]?(?![\w])", unread.text or "", re.I) is not None


def _altered_in_text(unread: Unread, table: str, column: str) -> bool:
    """Unparsed SQL whose text is an ALTER TABLE of the table that names the column (MySQL's `DROP column`,
    `CHANGE other column ...`), in any quoting: it likely undoes what the upgrade did to it."""
    quoted = r"[`\"]?"
    return unread.kind == "sql" and re.search(
        rf"\bALTER\s+TABLE\s+(IF\s+EXISTS\s+)?({quoted}\w+{quoted}\.)?{quoted}{re.escape(table)}{quoted}\s[^;]*?"
        rf"(?<!\w){quoted}{re.escape(column)}{quoted}(?!\w)", unread.text or "", re.I) is not None


_NAMED_KEY = re.compile(r"ForeignKey\([^()]*\bname\s*=")  # `ForeignKey("users.id", name="fk_users")`


def _unnamed_constraint(facts) -> tuple[Span, str] | None:
    """The first foreign key, unique key or CHECK made without a name, in the models or by a revision's upgrade:
    (where, what). A primary key's and an index's names do not depend on the database (`<table>_pkey` on
    PostgreSQL, SQLAlchemy's `ix_<table>_<column>` for `index=True`)."""
    made = [(op.table, op.columns, op.constraints) for r in facts.revisions for op in r.upgrade]  # what the database got
    made += [(t.name, t.columns.values(), t.constraints) for t in facts.tables.values() if not is_test_path(t.path)]
    for table, columns, constraints in made:
        for col in columns:
            unnamed = [fk for fk in col.foreign_keys if not _NAMED_KEY.search(" ".join(facts.lines(fk.span)))]
            if unnamed:
                return unnamed[0].span, f"the foreign key of {table}.{col.name}"
            if col.unique and not col.index:  # `unique=True, index=True` is a unique index, named ix_<table>_<column>
                return col.span, f"the unique key of {table}.{col.name}"
        for con in constraints:
            if con.name is None and con.kind in ("foreign_key", "unique", "check"):
                return con.span, f"a {con.kind.replace('_', ' ')} of {table} on ({', '.join(con.columns)})"
    return None


def _labelled_branches(heads: list[RevisionFact], revisions: list[RevisionFact]) -> bool:
    """Heads each on a branch of its own name (`branch_labels`, on it or an ancestor): `alembic upgrade
    heads` or `expand@head`, as such a project documents, not an accident to merge."""
    by_id = {r.revision: r for r in revisions if r.revision}
    labels = []
    for head in heads:
        found: set[str] = set()
        todo, seen = [head], set()
        while todo:
            rev = todo.pop()
            if rev.revision in seen:
                continue
            seen.add(rev.revision)
            found.update(rev.branch_labels)
            todo.extend(by_id[p] for p in rev.down_revisions if p in by_id)
        labels.append(found)
    return all(mine - set().union(*(other for other in labels if other is not mine)) for mine in labels)


def _history_starts_elsewhere(revisions: list[RevisionFact]) -> bool:
    """The migrations are deltas on a schema built another way: a tree has no root revision (its first
    parent was squashed away), or its root creates no table (create_all, then `alembic stamp head`), or
    leans on tables it does not create."""
    for revisions_of_tree in _trees(revisions).values():
        known = {r.revision for r in revisions_of_tree}
        roots = [r for r in revisions_of_tree if not r.down_revisions]
        if any(p not in known for r in revisions_of_tree for p in r.down_revisions):
            return True
        if roots and not any(op.name == "create_table" or (op.sql and any(st.kind == "create_table" for st in op.sql.statements))
                             for r in roots for op in r.upgrade):
            return True
        if any(_leans_on_tables_it_does_not_create(r) for r in roots):
            return True
    return False


def _leans_on_tables_it_does_not_create(root: RevisionFact) -> bool:
    """A first revision that points foreign keys at, or changes, tables it does not create: the schema
    was there before the history began (lemur's first revision references `certificates`)."""
    created = {op.table for op in root.upgrade if op.name == "create_table" and op.table}
    for op in root.upgrade:
        if op.table and op.name not in ("create_table", "execute", "bulk_insert") and op.table not in created:
            return True
        targets = [fk.table for c in op.columns for fk in c.foreign_keys]
        targets += [(con.target or "").split(".")[0] for con in op.constraints if con.kind == "foreign_key"]
        if any(t and t not in created for t in targets):
            return True
    return False


_NOTES_WITH_UUID_REF = """
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
revision = "0001"
down_revision = None
def upgrade():
    op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True), sa.Column("ref", postgresql.UUID(), nullable=True))
def downgrade():
    op.drop_table("notes")
"""


# op.execute(f.read()), op.execute(path.read_text()), op.execute(open(path).read()): the SQL of a file, read at run time
_READS_FILE = re.compile(r"\bexecute\(.*(?:\.read\(\s*\)|\.read_text\()")


def _migrated(facts, key: str, model) -> TableFact | None:
    """The table the migrations build for the model under `key` in facts.tables: from the tree of its own service
    where the repository holds several (drift.own_schema); a model keyed by its class or its schema as well
    (`message (DbMessage)`, `staging.message`: two models of one name) by its table's name, not one the migrations
    make in another PostgreSQL schema."""
    schema = drift.own_schema(facts, model)
    schema = facts.migration_tables if schema is None else schema
    found = schema.get(key) or (schema.get(model.name) if key in (f"{model.name} ({model.class_name})", model.qualified) else None)
    if found is not None and found.schema and model.schema and found.schema != model.schema:
        return None  # a table of that name in another PostgreSQL schema (staging.t beside the model's legacy.t)
    return found


def _gaps(facts, key: str, model) -> list[Unread]:
    """migration_gaps of the model's table; not, where its own service's tree is the one compared, that another
    service's tree creates a table of the same name (link.unsettled): that is another database."""
    gaps = migration_gaps(facts, model.name if key in (f"{model.name} ({model.class_name})", model.qualified) else key)
    return [u for u in gaps if u.kind != "history"] if drift.own_schema(facts, model) is not None else gaps


class ModelMigrationDrift(Rule):
    """The models and the schema the migrations build disagree.

    What it checks:
        Replaying every upgrade in revision order, then comparing with the models: tables no migration
        creates (a model mapped onto a view that SQL in a migration creates, `CREATE VIEW` or `CREATE
        MATERIALIZED VIEW` in `op.execute`, is created; its columns are not compared), model columns no migration adds (not where an operation on that table could not be read,
        such as `add_column` in a loop: it may add them; `scan --explain-layout` lists those; one a revision made and a
        later one dropped, or dropped with its table, is said so, with both; info where the application's code never
        names the model's class outside it: no query loads it yet), columns the database has NOT NULL without a default
        that the model does not map, and DateTime columns aware on one side and naive on the other (not where the
        application is known to run on MySQL or SQLite only, whose DATETIME keeps no zone either way). The
        upgrade of Flask-Migrate's multi-database template (`upgrade(engine_name="")` calling
        `upgrade_<bind>()` through `globals()`) is each bind's body in turn. A function of another module of the
        project a revision calls is read as part of it, a batch it is handed included (`add_audit_columns(batch_op)`);
        one handed a batch that cannot be read so may add any of that table's columns. In a loop over tables it
        cannot read (a MetaData's `.tables.items()`), `if name == "states":` picks the table its body changes. A
        column assigned to a model class after its body (`Action.source_id = Column(...)`) is mapped, and so is one
        an attribute (or a mixin's `@declared_attr`) sets from a call of the project's function that returns one
        `Column(...)` (`_tenant_id = foreign_key(Tenant.id)`) or of its subclass of Column (`CIColumn(Text)`); a NOT
        NULL column named as an attribute whose value dbreview cannot read so (a function it does not follow, a
        declared_attr returning something else) is not claimed unmapped: where no other remains, one info finding
        lists those tables. Tables an
        operation of the migration's own class names (`for rn in RENAMES: rn.upgrade()`, a rename helper dbreview does not
        follow) are not compared at all: one info finding names the operation and the tables. NOT NULL columns
        on classes with bases dbreview cannot read (a library's mixins) are not claimed unmapped: one info
        finding lists those tables; so are those of a class that it or a mixin of it maps through a hook
        (`__mapper_cls__`, `__declare_first__`, `__declare_last__`, `__table_cls__`) whose code, or a function of its
        module it calls, adds columns or properties (`append_column`, `add_property`: a history mixin's `version`). Where services sit apart with Alembic trees of their own that each create a
        table of the same name (two databases: backend/alembic and inference/server/alembic), a model is compared with
        the trees of the service whose folder holds it. Columns in a `PrimaryKeyConstraint` are NOT NULL on both sides. On a
        table whose migrations were read whole, also: a column of another kind of type on each side
        (`String(36)` in the model, `UUID` in the table; a TypeDecorator by its `impl`, unless it picks its
        type per database; `Text` vs `String` or `JSON` vs `JSONB` is not compared, nor a type dbreview
        cannot resolve, nor an Enum, nor a dialect variant; SQLAlchemy's types through a Flask-SQLAlchemy
        `db` are compared like any other). A boolean against an integer says what it does on the databases the
        application's configuration names: PostgreSQL rejects every write, MySQL's BOOL is TINYINT(1) and SQLite keeps
        both as integers (info where it runs on those only). An integer the migrations make narrower than the
        model (`BigInteger` in the model, `Integer` in the table) is a warning, info where it runs on SQLite
        only (its INTEGER holds 8 bytes). A native enum's labels the model writes (string literals in
        `Enum(...)`, or the member names of a Python enum it names; the values with `values_callable`) that
        no revision file spells anywhere, while the migrated column is that enum: not where a revision builds
        the type's labels from code (`Enum(*LABELS)`, a Python enum, an f-string, alembic-postgresql-enum's
        sync), for `native_enum=False`, nor off PostgreSQL; where the labels missing are a Python enum's
        member names whose values the migrations create, the finding says that SQLAlchemy writes the names
        (and fails to load a row holding a value). Also the lengths of character columns where both sides spell one out as a
        number (`String(255)` in the model, `VARCHAR(64)` or `varchar(64)` in the migrations: a warning when
        the model allows longer values, else info; one finding per table), NULL allowed on one side only
        (where neither side has a default), and `index=True`, `unique=True`, `Index(...)` or
        `UniqueConstraint(...)` of the model that no migration creates (nor names); where the migrations
        make a part of a unique key's columns unique, the database is stricter than the model (a second row
        is rejected), and where they make a wider set unique, looser: the finding says which. Foreign keys
        both sides declare over the same columns to the same table, by their ON DELETE / ON UPDATE actions
        (RESTRICT and NO ACTION count as one); not on a table where the replay may have lost track of its
        keys (a constraint dropped by a name the migrations never give one, a key made under an inspector
        check, SQL about its constraints it does not follow), nor an action written as a name. SQL in
        `op.execute` is replayed too (ALTER COLUMN ... TYPE, SET/DROP NOT NULL, defaults, constraints,
        renames); after an ALTER TABLE form it does not follow, nothing is said of the columns it names. Where most
        model tables have no migration, one info says so; where a revision runs the SQL of a file it reads
        (`op.execute(f.read())`, a legacy schema in `.sql` files), which may create them, that info says the models
        are not compared. A revision that runs the create_all of a MetaData it imports from the models
        (`Base.metadata.create_all(bind=op.get_bind())`) creates the models' tables on it. A
        model whose table a later revision drops (in the same PostgreSQL schema: `drop_table("tenants")` is not a
        model's shared.tenants) says so, and is info when nothing in the application's code
        names its class; no other rule says anything of such a model (the database has no such table), unless
        what the upgrades do to that table could not all be read. A model in a PostgreSQL schema in which no
        migration creates a table, or whose table the migrations change there without creating it, where the
        application's own code runs a `create_all`, is info: that code may build it apart from Alembic. Steps that
        run only on another database (under `if dialect.name == "sqlite":`, or after `if settings.pg_uri: return`, a SQLite-only baseline)
        are not part of the schema replayed. Where the application is known to run on MySQL and not PostgreSQL, an
        `op.alter_column` given `existing_type=` and no `type_=` gives the column that type: MySQL's CHANGE/MODIFY COLUMN
        restate the whole column (lengths compared so). Tables on a MetaData that the application's own code builds with
        `Base.metadata.create_all(engine)`, and of which no table is migrated (a second database, an undo log),
        are not missing from the migrations. The model's primary key (`primary_key=True` columns, a
        `PrimaryKeyConstraint` in `__table_args__`, `__mapper_args__ = {"primary_key": ...}`) against the one the
        upgrades leave on the table (create_table, create_primary_key, drop_constraint of the key, a dropped key column,
        `PRIMARY KEY` in SQL; analyzers/rules/pk_drift.py): a warning where rows may share the model's key (it is
        narrower than the table's, or nothing in the database keeps it unique), info where the table has no key at
        all or the database keeps the model's key unique by another constraint; nothing where the table's key cannot
        be known (a create_table argument not read, a key made from an index, LIKE or INHERITS, a step not followed).
    Why it matters:
        The application runs against the migrated database, not the models: a column only in the model
        fails every query that selects it; an unmapped NOT NULL column fails every ORM insert; and the
        next `alembic revision --autogenerate` proposes to "fix" the difference, often by dropping what
        the migrations built. A foreign key the model cascades and the migrations do not makes every
        delete of a referenced row fail in production while tests on a `create_all` schema pass. Rows that share
        the model's primary key load as one object of the session's identity map: the others are lost to the code
        (group grants of other roles vanish), and autogenerate does not compare primary keys.
    Example:
        class User(Base): timezone: Mapped[str | None]   # and no migration adds users.timezone
    Instead:
        Generate a revision for the model change (`alembic revision --autogenerate`), review it, and run
        `alembic check` in CI.
    """

    ID = "MIG006"
    ITEM = "3.2"
    SEVERITY = Severity.WARNING
    ON_STALE_MODELS = True  # it says once that the model maps a table the migrations dropped
    VALID = ({
        "models.py": "from sqlalchemy import Column, Integer, String\nfrom sqlalchemy.orm import DeclarativeBase\n"
        "class Base(DeclarativeBase):\n    pass\nclass Note(Base):\n    __tablename__ = 'notes'\n    id = Column(Integer, primary_key=True)\n",
        "migrations/versions/0001_a.py": rev("0001", None),
    },)
    INVALID = ({
        "models.py": "from sqlalchemy import Column, Integer, String\nfrom sqlalchemy.orm import DeclarativeBase\n"
        "class Base(DeclarativeBase):\n    pass\nclass Note(Base):\n    __tablename__ = 'notes'\n    id = Column(Integer, primary_key=True)\n"
        "    title = Column(String(200))\n",
        "migrations/versions/0001_a.py": rev("0001", None),
    }, {
        "models.py": "from sqlalchemy import Column, Integer, String\nfrom sqlalchemy.orm import DeclarativeBase\n"
        "class Base(DeclarativeBase):\n    pass\nclass Note(Base):\n    __tablename__ = 'notes'\n    id = Column(Integer, primary_key=True)\n"
        "    ref = Column(String(36), nullable=False, index=True)\n",
        "migrations/versions/0001_a.py": _NOTES_WITH_UUID_REF,
    }, {
        "models.py": "from sqlalchemy import Column, Integer, String\nfrom sqlalchemy.orm import DeclarativeBase\n"
        "class Base(DeclarativeBase):\n    pass\nclass Note(Base):\n    __tablename__ = 'notes'\n    id = Column(Integer, primary_key=True)\n"
        "    title = Column(String(255))\n",
        "migrations/versions/0001_a.py": _NOTES_WITH_UUID_REF.replace('sa.Column("ref", postgresql.UUID(), nullable=True)',
                                                                      'sa.Column("title", sa.String(length=64))'),
    }, {
        "models.py": "from sqlalchemy import Boolean, Column, Integer\nfrom sqlalchemy.orm import DeclarativeBase\n"
        "class Base(DeclarativeBase):\n    pass\nclass Note(Base):\n    __tablename__ = 'notes'\n    id = Column(Integer, primary_key=True)\n"
        "    pinned = Column(Boolean, nullable=False, default=False)\n",
        "migrations/versions/0001_a.py": _NOTES_WITH_UUID_REF.replace('sa.Column("ref", postgresql.UUID(), nullable=True)',
                                                                      'sa.Column("pinned", sa.SmallInteger(), nullable=False)'),
    }, {
        "models.py": "from sqlalchemy import Column, Enum, Integer\nfrom sqlalchemy.orm import DeclarativeBase\n"
        "class Base(DeclarativeBase):\n    pass\nclass Note(Base):\n    __tablename__ = 'notes'\n    id = Column(Integer, primary_key=True)\n"
        "    state = Column(Enum('draft', 'sent', 'archived', name='note_state'), nullable=False)\n",
        "migrations/versions/0001_a.py": _NOTES_WITH_UUID_REF.replace(
            'sa.Column("ref", postgresql.UUID(), nullable=True)', 'sa.Column("state", sa.Enum("draft", "sent", name="note_state"), nullable=False)'),
    }, {
        "models.py": "from sqlalchemy import Column, Integer\nfrom sqlalchemy.orm import DeclarativeBase\n"
        "class Base(DeclarativeBase):\n    pass\nclass Grant(Base):\n    __tablename__ = 'grants'\n"
        "    team_id = Column(Integer, primary_key=True)\n    role_id = Column(Integer, nullable=False)\n",
        "migrations/versions/0001_a.py": rev("0001", None).replace(
            'op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True))',
            'op.create_table("grants", sa.Column("team_id", sa.Integer(), nullable=False), '
            'sa.Column("role_id", sa.Integer(), nullable=False), sa.PrimaryKeyConstraint("team_id", "role_id"))'),
    })

    def check(self):
        # one mixin column whose length or NULL-ness the migrations of several tables spell otherwise: one finding, not
        # one a table
        self._shared: dict[tuple[str, str, int, str], list[tuple]] = {}
        self._mixin_keys: dict[tuple, list[tuple]] = {}  # a mixin's key that several tables' migrations key otherwise
        found = list(self._compared())
        grouped = {id(f) for drifts in self._shared.values() if len(drifts) > 1 for *_, f in drifts}
        grouped |= {id(f) for keyed in self._mixin_keys.values() if len(keyed) > 1 for _, f in keyed}
        yield from (f for f in found if id(f) not in grouped)
        for (kind, *_), drifts in self._shared.items():
            if len(drifts) > 1:
                yield self._shared_length(drifts) if kind == "length" else self._shared_nullability(kind, drifts)
        for keyed in self._mixin_keys.values():
            if len(keyed) > 1:
                yield self._mixin_key_drift([m for m, _ in keyed], [f for _, f in keyed])

    def _share(self, kind: str, model, cols: list[tuple], found: Finding) -> None:
        """Keep a finding about one column of a mixin (`cols`: its (column, migrated column, ...)), which other tables
        that take the column may share: check() makes them one."""
        if len(cols) == 1 and cols[0][0].declared_in != model.class_name:
            col = cols[0][0]
            self._shared.setdefault((kind, col.span.path, col.span.start, col.name), []).append((model, *cols[0], found))

    def _compared(self):
        facts = self.facts
        if not facts.revisions or not facts.migration_tables or not facts.tables:
            return
        # a model of Alembic's own table (mapped to read the revision, or to drop it with drop_all): Alembic makes it
        models = {n: t for n, t in facts.tables.items() if not is_test_path(t.path) and t.name != "alembic_version"}
        made_views = views(facts)  # a model of a view the migrations create (CREATE VIEW in op.execute) is made too
        missing = [t for n, t in models.items() if _migrated(facts, n, t) is None and t.name not in made_views]
        if built := drift.built_by_create_all(facts):  # a MetaData of no migrated table that the app's create_all builds
            gone = {id(t) for t in missing}
            migrated = {t.registry for t in models.values() if id(t) not in gone}
            missing = [t for t in missing if t.registry not in built or t.registry in migrated]
        if made := drift.created_from_models(facts):  # a revision runs the models' create_all: it makes their tables
            missing = [t for t in missing if t.registry not in made]
        if missing and (len(missing) > max(3, len(models) // 2) or _history_starts_elsewhere(facts.revisions)):
            # Most models have no migration: the schema is made some other way (create_all, SQL files), or
            # the migrations we read are not this application's. One note, not one finding per table.
            blind = next((u for u in migration_gaps(facts) if u.kind in ("op", "sql") and u.table is None
                          and _READS_FILE.search(" ".join(facts.lines(u.span)))), None)
            if blind is not None:  # a revision runs the SQL of files (a legacy schema in .sql files): it may make them all
                yield self.finding(
                    f"{len(missing)} of {len(models)} model tables are not compared with the migrations: "
                    f"{blind.span.path}:{blind.span.start} runs SQL it reads from a file, which dbreview does not read "
                    f"and which may create them (e.g. {', '.join(t.name for t in missing[:4])})",
                    first_line(missing[0].span), "drift:most-tables", severity=Severity.INFO, related=[(blind.span, "SQL not read")],
                )
                return
            # Calls that may build the tables: a first revision's (its schema handed to other modules), or a function
            # named for tables (`create_table_if_not_exists`); a backfill or a trigger's sync makes no table.
            helpers = [call for r in facts.revisions for call in r.helper_calls
                       if not r.down_revisions or re.search(r"table", call[1], re.I)]
            helpers.sort(key=lambda call: not re.search(r"create|upgrade|init", call[1]))  # a maker named first
            if helpers:  # revisions hand the work to the project's own functions (neutron's `agent_init_ops.upgrade()`)
                yield self.finding(
                    f"{len(missing)} of {len(models)} model tables are created by no migration dbreview could follow "
                    f"(e.g. {', '.join(t.name for t in missing[:4])}); revisions call functions of other modules it does "
                    f"not read ({where([span for span, _ in helpers])}: `{helpers[0][1]}()`), which may create them",
                    first_line(missing[0].span), "drift:most-tables", severity=Severity.INFO,
                    related=[(span, "not followed") for span, _ in helpers[:20]],
                )
                return
            if fresh := start_up.built_and_stamped(facts):  # the migrations carry changes; a new database is built whole
                yield self.finding(
                    f"{len(missing)} of {len(models)} model tables are created by no migration (e.g. "
                    f"{', '.join(t.name for t in missing[:4])}): this project builds a new database with create_all and "
                    f"stamps it at head ({fresh[0].path}:{fresh[0].start}, {fresh[1].start}), so its revisions carry "
                    "only changes to an existing one; a database can only be made from the models, not by "
                    "`alembic upgrade head`",
                    first_line(missing[0].span), "drift:most-tables", severity=Severity.INFO,
                    related=[(fresh[0], "create_all"), (fresh[1], "stamp")],
                )
                return
            yield self.finding(
                f"{len(missing)} of {len(models)} model tables are created by no migration we could read "
                f"(e.g. {', '.join(t.name for t in missing[:4])}): check how the schema is built",
                first_line(missing[0].span), "drift:most-tables", severity=Severity.INFO,
            )
            return
        unfollowed: dict[Unread, list[str]] = {}  # an operation not followed -> the model tables it may make
        for name in models:
            made = [u for u in migration_gaps(facts, name) if u.may_make(name)]
            if made:
                unfollowed.setdefault(made[0], []).append(name)
        held = {n for names in unfollowed.values() for n in names}
        for t in missing:
            if t.name not in held:
                yield self._missing_table(t, _gaps(facts, t.name, t))
        for u, names in unfollowed.items():
            yield self.finding(
                f"{len(names)} model table(s) not compared with the migrations ({', '.join(names[:6])}"
                f"{', ...' if len(names) > 6 else ''}): {u.span.path}:{u.span.start} may create, rename or change them "
                f"through {u.reason}", u.span, f"drift:unfollowed:{u.span.path}:{u.reason.split(':', 1)[0]}",
                severity=Severity.INFO, related=[(first_line(models[n].span), f"{n} in the model") for n in names[:20]],
            )
        unknown: list[tuple[Span, str, str]] = []  # tables whose unmapped columns may come from bases not read
        opaque: list[tuple[Span, str, str]] = []  # tables whose unmapped columns may be attributes not read
        for name, model in models.items():
            db = _migrated(facts, name, model)
            if db is not None and name not in held and name not in made_views:
                if (keyed := self._key_drift(model, db, _gaps(facts, name, model))) is not None:
                    yield keyed
            if db is None or db.from_sql or name in held:
                continue
            gaps = _gaps(facts, name, model)  # an operation or SQL that could not be read may add, alter the column
            absent = []
            for col in model.columns.values():
                other = db.columns.get(col.name)
                if other is None and col.from_library:
                    continue  # a library mixin's column: which of them exist depends on the library's version
                if other is None and any(u.table == name and u.kind in ("op", "sql") for u in gaps):
                    continue  # a part of this table's migrations could not be read (a loop of add_column): it may add it
                if other is None and (name, col.name) in _postgis_columns(facts):
                    continue  # `SELECT AddGeometryColumn('markers', 'geom', ...)`: PostGIS adds it
                if other is None:
                    absent.append(col)
                elif col.timezone is not None and other.timezone is not None and col.timezone != other.timezone \
                        and not runs_on(facts).not_postgres:  # MySQL's and SQLite's DATETIME keeps no zone either way
                    aware = "model" if col.timezone else "migration"
                    yield self.finding(
                        f"{model.name}.{col.name} is timezone-aware in the {aware} only "
                        f"({other.span.path}:{other.span.start}): the database column is "
                        f"{'TIMESTAMP WITH' if other.timezone else 'TIMESTAMP WITHOUT'} TIME ZONE, and autogenerate "
                        "will propose to change it",
                        col.span, f"drift:tz:{name}.{col.name}", unsure=gaps,
                    )
            yield from self._absent_columns(name, model, absent, gaps)
            yield from self._columns_drift(model, db, gaps)
            mapped = set(model.columns)
            unmapped = [
                (cname, other) for cname, other in db.columns.items()
                # nullability not written: SQLAlchemy's default (nullable) applies
                if not (cname in mapped or other.primary_key or other.is_nullable or other.server_default or other.default
                        or other.nullable is None)
            ]
            if unread := [(c, o) for c, o in unmapped if c in model.unread_attrs]:  # an attribute of that name not read
                unmapped = [u for u in unmapped if u not in unread]
                if not unmapped:
                    opaque.append((first_line(model.span), f"drift:unmapped:{name}", f"{name}: {', '.join(c for c, _ in unread)}"))
            if unmapped and model.unknown_bases:  # they may come from a base dbreview cannot read: no claim
                unknown.append((first_line(model.span), f"drift:unmapped:{name}",
                                f"{name}: {', '.join(c for c, _ in unmapped)} (bases {', '.join(model.unknown_bases)})"))
                continue
            if len(unmapped) == 1:
                cname, other = unmapped[0]
                yield self.finding(
                    f"{name}.{cname} is NOT NULL without a default in the migrations "
                    f"({other.span.path}:{other.span.start}) but the model does not map it: every insert through "
                    "the ORM fails", first_line(model.span), f"drift:unmapped:{name}.{cname}",
                )
            elif unmapped:  # one fact of the table: its model is behind (or ahead of) the migrations
                yield self.finding(
                    f"{name}: {len(unmapped)} columns are NOT NULL without a default in the migrations but the model "
                    f"does not map them ({', '.join(c for c, _ in unmapped)}; first: {unmapped[0][1].span.path}:"
                    f"{unmapped[0][1].span.start}): every insert through the ORM fails",
                    first_line(model.span), f"drift:unmapped:{name}",
                    related=[(o.span, f"{c} in the migrations") for c, o in unmapped],
                    covers=[identity_key(self.ID, f"drift:unmapped:{name}.{c}") for c, _ in unmapped],
                )
        if unknown:
            hooked = ", or a mapping hook whose code adds columns" if any(".__" in note for _, _, note in unknown) else ""
            yield self.grouped(
                f"{len(unknown)} model table(s) have NOT NULL columns without a default in the migrations that are not "
                "among the columns dbreview could read, on classes with bases it cannot read (a library's mixins"
                f"{hooked}): "
                f"whether the models map them is not checked ({'; '.join(note for _, _, note in unknown[:3])}"
                f"{'; ...' if len(unknown) > 3 else ''})", unknown, "drift:unmapped-unknown-bases", severity=Severity.INFO,
            )
        if opaque:
            yield self.grouped(
                f"{len(opaque)} model table(s) have NOT NULL columns without a default in the migrations that the model "
                "may map through attributes dbreview cannot read (a call of a function it does not follow to one Column, "
                f"a declared_attr returning what it does not read): whether the models map them is not checked "
                f"({'; '.join(note for _, _, note in opaque[:3])}{'; ...' if len(opaque) > 3 else ''})",
                opaque, "drift:unmapped-unread-attributes", severity=Severity.INFO,
            )

    def _key_drift(self, model, db, gaps: list[Unread]) -> Finding | None:
        """The model's primary key against the one the migrations leave on its table (pk_drift.py); nothing where a
        step about the table could not be read, nor where either key is not known. A key the model takes whole from
        a mixin is kept in self._mixin_keys, which check() makes one finding of where several tables share it."""
        if gaps or model.view:
            return None
        mine, theirs = pk_drift.model_key(model), pk_drift.migrated_key(self.facts, model, db.name)
        if mine is None or theirs is None or theirs.columns is None or set(mine) == set(theirs.columns):
            return None
        if any(c not in db.columns for c in (*mine, *theirs.columns)):
            return None  # a key column the other side lacks: the column drift says so

        def cols(key) -> str:
            return f"({', '.join(key)})"

        at = f"{theirs.span.path}:{theirs.span.start}"
        columns = {c.name: c for c in model.columns.values()}
        own = [columns[c] for c in mine if c in columns and columns[c].declared_in == model.class_name]
        span = own[0].span if own else next((columns[c].span for c in mine if c in columns), first_line(model.span))
        anchor, related = f"drift:pk:{model.name}", [(theirs.span, "the table's key in the migrations")]
        unique = pk_drift.unique_in_db(db, mine)
        mapped = "model maps" if model.class_name else "Table declares"
        loses = (f"rows that share {cols(mine)} load as one object in the session's identity map (the first row's "
                 "values; the other rows are lost to the code), and an update or delete of one of them through the ORM "
                 "matches them all")
        if not model.class_name:  # a Core Table (an association): no identity map, but relationships go through it
            loses = (f"rows that share {cols(mine)} show twice in a relationship that goes through the table (secondary=), "
                     "and removing such a link through the ORM fails (its DELETE matches more rows than it expects: "
                     "StaleDataError)")
        made = [c for c in mine if c in columns and (columns[c].default or columns[c].server_default)]
        filled = (f"the model fills {cols(made)} for each new row, so only rows written otherwise (SQL, an import) can "
                  f"share it, and then {loses}") if len(made) == len(mine) else None
        apart = "a database built from the models (create_all: tests, a fresh install) gets another key than the migrated one"
        found: Finding
        if not theirs.columns:
            wider = pk_drift.wider_unique(db, mine)
            said = f"{model.label}: the table has no primary key in the migrations ({at})"
            if unique:
                found = self.finding(
                    f"{said}, while the {mapped} {cols(mine)} as one; rows load apart (the database keeps {cols(unique)} "
                    f"unique), but {apart}, and tools that need a key (logical replication of updates and deletes) "
                    "find none", span, anchor, severity=Severity.INFO, related=related)
            elif wider and not filled:  # rows that share the model's key are what the table is for
                found = self.finding(
                    f"{said}; its unique key is {cols(wider)}, while the {mapped} {cols(mine)} as its primary key: the "
                    f"database lets several rows share {cols(mine)} (differing in {', '.join(c for c in wider if c not in mine)}), "
                    f"and {loses}", span, anchor, severity=Severity.WARNING, related=related)
            else:
                found = self.finding(
                    f"{said}, while the {mapped} {cols(mine)} as one: nothing in the database keeps {cols(mine)} unique; "
                    + (filled or f"if duplicates get in, {loses}"), span, anchor, severity=Severity.INFO, related=related)
        else:
            table = f"the table's primary key in the migrations is {cols(theirs.columns)} ({at})"
            said = f"{model.label}: the {mapped} {cols(mine)} as its primary key, but {table}"
            if set(mine) < set(theirs.columns) and not unique:
                found = self.finding(
                    f"{said}: the database lets several rows share {cols(mine)} (differing in "
                    f"{', '.join(c for c in theirs.columns if c not in mine)}); " + (filled or loses[:1].upper() + loses[1:]),
                    span, anchor, severity=Severity.INFO if filled else Severity.WARNING, related=related)
            elif not unique and not set(theirs.columns) <= set(mine):
                found = self.finding(
                    f"{said}, and nothing in the database keeps {cols(mine)} unique: " + (filled or loses),
                    span, anchor, severity=Severity.INFO if filled else Severity.WARNING, related=related)
            else:
                why = f"the database keeps {cols(unique)} unique" if unique else "the table's key is among the model's"
                found = self.finding(f"{said}; rows load apart ({why}), but {apart}", span, anchor,
                                     severity=Severity.INFO, related=related)
        if not own and model.class_name:  # the whole key comes from a mixin: tables that take it may share the drift
            first = columns[mine[0]]
            self._mixin_keys.setdefault((first.span.path, first.span.start, first.declared_in, found.severity,
                                         mine, theirs.columns), []).append((model, found))
        return found

    def _mixin_key_drift(self, models: list, found: list[Finding]) -> Finding:
        """One finding for a mixin's primary key that the migrations of several tables key otherwise, the same way."""
        model, first = models[0], found[0]
        declared = model.columns[pk_drift.model_key(model)[0]].declared_in
        names = ", ".join(m.label for m in models[:6]) + (", ..." if len(models) > 6 else "")
        return self.grouped(
            f"{len(models)} tables take their primary key from {declared} and the migrations key each of them the same "
            f"other way ({names}); first: {first.message}",
            [(Span(first.location.path, first.location.start_line, first.location.end_line), first.anchor, f"the key in {declared}")]
            + [(first_line(m.span), f.anchor, m.label) for m, f in zip(models[1:], found[1:])],
            f"drift:pk:{declared}", severity=first.severity,
            also=[(first_line(model.span), model.label)]
            + [(Span(r.location.path, r.location.start_line, r.location.end_line), r.note) for r in first.related],
        )

    def _absent_columns(self, key: str, model, absent: list, gaps: list[Unread]):
        """Model columns no migration leaves at head: one finding a table (a model ahead of its migrations is one fact).
        `key`: the table's name among the models (with its class where two services map one name)."""
        used = drift.named_outside(self.facts, model)
        who = model.class_name or model.name
        loads = (f"queries that load {who} fail on a migrated database" if used else
                 f"nothing in the application's code names {who} outside its class, so no query loads it yet (a stale "
                 "model), but the first that does fails on a migrated database")
        severity = None if used else Severity.INFO
        if len(absent) == 1:
            col = absent[0]
            gone = _taken_away(self.facts, model.name, col.name)
            said = "no migration adds it" if gone is None else (
                f"it is not in the migrated database: revision {gone[0].creator.revision or gone[0].creator.path} made it "
                f"({gone[0].span.path}:{gone[0].span.start}) and revision {gone[0].ender.revision or gone[0].ender.path} "  # type: ignore[union-attr]
                f"{gone[1]} ({gone[2].path}:{gone[2].start}), and none adds it again")
            yield self.finding(f"{model.name}.{col.name} is in the model but {said}: {loads}",
                               col.span, f"drift:column:{key}.{col.name}", unsure=gaps, severity=severity)
        elif absent:
            names = [c.name for c in absent]
            gone = [c.name for c in absent if _taken_away(self.facts, model.name, c.name) is not None]
            said = "no migration adds them" if not gone else (
                f"the migrated database does not have them (a revision made and a later one dropped {', '.join(gone[:4])}"
                f"{', ...' if len(gone) > 4 else ''}; no migration adds the others)" if len(gone) < len(absent) else
                "the migrated database does not have them (revisions made them and later ones dropped them)")
            yield self.grouped(
                f"{model.name}: {len(absent)} columns are in the model but {said} "
                f"({', '.join(names[:8])}{', ...' if len(names) > 8 else ''}): {loads}",
                [(c.span, f"drift:column:{key}.{c.name}", f"{c.name} in the model") for c in absent],
                f"drift:columns:{key}", unsure=gaps, severity=severity,
            )

    def _missing_table(self, t, gaps: list[Unread]):
        """A model's table no migration leaves at head: never created, or dropped by a later revision (a stale
        model, harmless while nothing in the application uses it)."""
        facts, anchor = self.facts, f"drift:table:{t.name}"
        dropped = drift.dropped_by(facts, t)
        if dropped is None and (apart := drift.schema_built_apart(facts, t)) is not None:
            return self.finding(
                f"{t.label} is in PostgreSQL schema {t.schema}, where no migration creates it (they create no table there, "
                f"or change it without creating it); the application runs create_all ({apart.path}:{apart.start}), which "
                "may build it apart from Alembic: a database built by `alembic upgrade head` alone has no such table",
                first_line(t.span), anchor, unsure=gaps, severity=Severity.INFO, related=[(apart, "create_all")],
            )
        if dropped is None:
            return self.finding(
                f"{t.label} is created by no migration: on a database built with `alembic upgrade head` every "
                "query on it fails", first_line(t.span), anchor, unsure=gaps,
            )
        rev, span = dropped
        said = f"{t.label} maps a table that revision {rev.revision or rev.path} drops ({span.path}:{span.start}): it is gone at head"
        used = drift.named_outside(facts, t)
        if used:
            return self.finding(
                f"{said}, and the application names {t.class_name} ({used[0].path}:{used[0].start}"
                f"{f' and {len(used) - 1} more' if len(used) > 1 else ''}): every query on it fails",
                first_line(t.span), anchor, unsure=gaps, related=[(span, "the table dropped")] + [(u, "used here") for u in used[:5]],
            )
        return self.finding(
            f"{said}; nothing in the application's code names {t.class_name or t.name} outside its class, so it is a "
            f"stale model: delete it{_proposes(self.facts, ', or autogenerate will propose to create the table again')}",
            first_line(t.span), anchor, unsure=gaps, severity=Severity.INFO, related=[(span, "the table dropped")],
        )

    def _length_drift(self, model, db):
        """Character columns whose lengths differ: one finding per table, a warning when the model allows
        longer values than the column holds (they pass the model and fail on insert), else info."""
        cols = drift.length_drift(model, db, self.facts)
        if not cols:
            return
        said = "; ".join(f"{c.name} {c.type_name}({mine}) in the model but {o.type_name}({theirs}) in the migrations "
                         f"({o.typed_at.path}:{o.typed_at.start})" for c, o, mine, theirs in cols)
        longer = [c.name for c, _, mine, theirs in cols if mine > theirs]
        why = (f"values of {', '.join(longer)} that the model allows fail on insert ('value too long for type "
               "character varying'), and a schema built from the models (create_all, tests) accepts them"
               if longer else "the database accepts longer values than the model declares")
        found = self.finding(
            f"{model.name}: {said}: {why}{_proposes(self.facts, '; autogenerate will propose to alter them')}", cols[0][0].span,
            f"drift:length:{model.name}", severity=None if longer else Severity.INFO,
            related=[(c.span, f"{c.name} in the model") for c, _, _, _ in cols[1:]] + [(o.typed_at, f"{o.name} in the migrations") for _, o, _, _ in cols],
        )
        self._share("length", model, cols, found)
        yield found

    def _shared_nullability(self, kind: str, drifts: list[tuple]):
        """One finding for a mixin's column that the migrations of several tables make NOT NULL (or nullable) apart."""
        _, col, _, _ = drifts[0]
        model_says, db_says = ("nullable", "NOT NULL") if kind == "nullable" else ("NOT NULL", "nullable")
        why = ("the ORM lets None through and the database rejects the insert" if kind == "nullable" else
               "the database accepts NULLs the ORM's types say cannot be there")
        return self.grouped(
            f"{col.name} is {model_says} in {col.declared_in}, which {len(drifts)} tables take, but {db_says} in the "
            f"migrations of each ({', '.join(model.name for model, *_ in drifts)}): {why}"
            f"{_proposes(self.facts, '; autogenerate will propose to alter them')}",
            [(col.span if i == 0 else o.span, f.anchor, f"{model.name}.{col.name} in the migrations")
             for i, (model, _, o, f) in enumerate(drifts)],
            f"drift:{kind}:{col.declared_in}.{col.name}", also=[(drifts[0][2].span, f"{drifts[0][0].name}.{col.name} in the migrations")],
        )

    def _shared_length(self, drifts: list[tuple]):
        """One finding for a mixin's character column whose length the migrations of several tables spell otherwise."""
        _, col, _, mine, _, _ = drifts[0]
        longer = any(m > t for _, _, _, m, t, _ in drifts)
        said = "; ".join(f"{model.name} {o.type_name}({theirs}) ({o.typed_at.path}:{o.typed_at.start})"
                         for model, _, o, _, theirs, _ in drifts)
        why = (f"values of {col.name} that the model allows fail on insert into those tables ('value too long for type "
               "character varying'), and a schema built from the models (create_all, tests) accepts them"
               if longer else "the database accepts longer values than the model declares")
        return self.grouped(
            f"{col.name} is {col.type_name}({mine}) in {col.declared_in}, which {len(drifts)} tables take, but the "
            f"migrations give it another length in each: {said}: {why}"
            f"{_proposes(self.facts, '; autogenerate will propose to alter them')}",
            [(col.span if i == 0 else o.typed_at, f.anchor, f"{model.name}.{col.name} in the migrations")
             for i, (model, _, o, _, _, f) in enumerate(drifts)],
            f"drift:length:{col.declared_in}.{col.name}", severity=None if longer else Severity.INFO,
            also=[(drifts[0][2].typed_at, f"{drifts[0][0].name}.{col.name} in the migrations")],
        )

    def _enum_drift(self, model, db):
        """Labels of a native enum in the model that no migration writes: PostgreSQL rejects them."""
        if runs_on(self.facts).not_postgres:
            return
        for col, other, name, missing, names in enum_drift(self.facts, model, db):
            yield on_postgres(self.facts, self.finding(
                f"{model.name}.{col.name}: the model's enum has {', '.join(missing)}, which no migration adds to the "
                f"database type {name} ({other.span.path}:{other.span.start}): on PostgreSQL an insert or update that "
                f"writes it fails (invalid input value for enum {name}: \"{missing[0]}\")" + (f"; {names}" if names else ""),
                col.span, f"drift:enum:{model.name}.{col.name}", related=[(other.span, f"{name} in the migrations")]))

    def _columns_drift(self, model, db, gaps):
        """Types, NULL-ness, indexes and unique constraints that differ (analyzers/rules/drift.py); only on a
        table whose migrations were read whole."""
        if gaps:
            return
        name = model.name
        for col in model.columns.values():
            other = db.columns.get(col.name)
            said = drift.type_drift(model, col, other, self.facts) if other is not None else None
            if said:
                yield self.finding(said[0], col.span, f"drift:type:{name}.{col.name}", severity=Severity.INFO if said[1] else None)
        for allowed in (False, True):
            cols = [(c, o) for c, o, nullable in drift.nullability_drift(model, db, self.facts) if nullable is allowed]
            if not cols:
                continue
            listed = ", ".join(c.name for c, _ in cols)
            first = cols[0][1].span
            said = (f"{name}: {listed} NOT NULL in the model but nullable in the migrations ({first.path}:{first.start}): "
                    "the database accepts NULLs the ORM's types say cannot be there" if not allowed else
                    f"{name}: {listed} nullable in the model but NOT NULL in the migrations ({first.path}:{first.start}): "
                    "the ORM lets None through and the database rejects the insert")
            found = self.finding(
                said + _proposes(self.facts, "; autogenerate will propose to alter them"), cols[0][0].span,
                f"drift:{'nullable' if allowed else 'not-null'}:{name}",
                related=[(c.span, f"{c.name} in the model") for c, _ in cols[1:]] + [(o.span, f"{o.name} in the migrations") for _, o in cols],
            )
            self._share("nullable" if allowed else "not-null", model, cols, found)
            yield found
        yield from self._length_drift(model, db)
        yield from self._enum_drift(model, db)
        actions = drift.fk_action_drift(model, db, self.facts)
        if actions:
            yield self.finding(
                f"{name}: foreign-key actions differ between the model and the migrations: "
                + "; ".join(drift.fk_action_said(name, m, o, differ) for m, o, differ in actions)
                + ". A database built from the models (create_all) behaves otherwise than one built by the migrations",
                actions[0][0].span, f"drift:fk-actions:{name}",
                related=[(m.span, f"{', '.join(m.columns)} in the model") for m, _, _ in actions[1:]]
                + [(o.span, f"{', '.join(o.columns)} in the migrations") for _, o, _ in actions],
            )
        missing = drift.missing_keys(model, db, self.facts)
        if missing:
            plain = [w for _, w, kind in missing if kind in ("index", "unique")]
            said = [f"the model declares {w}, which no migration creates, {kind}" for _, w, kind in missing
                    if kind not in ("index", "unique")]
            if plain:
                said.insert(0, f"the model declares {'; '.join(plain)}, which no migration creates" + (
                    ": the database does not enforce the uniqueness the code relies on"
                    if any(kind == "unique" for _, _, kind in missing) else ": queries the index was meant for scan the table"))
            yield self.finding(
                f"{name}: {'; '.join(said)}{_proposes(self.facts, ', and autogenerate will propose to add them')}",
                missing[0][0], f"drift:keys:{name}", related=[(s, w) for s, w, _ in missing[1:]],
            )

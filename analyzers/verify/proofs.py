"""Proofs meet the review: each static finding a proof speaks to is proven or refuted (by its
fingerprint), and what only the database showed becomes a finding of its own (the VER rules), at
the line of the revision file or the table definition it is about, with the proof as evidence.

A proof never drops a finding: a refuted one stays in the review, marked refuted, with why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from analyzers.facts.model import Facts, Span
from analyzers.findings import Finding, Location, Severity, with_identity
from analyzers.rules.base import Rule
from analyzers.verify.result import CatalogRow, Roundtrip, TableRls, VerifyResult

PREFIX = "VER"  # every proof rule's id starts with it
PROVEN, REFUTED = "proven", "refuted"


@dataclass(frozen=True, slots=True)
class Proof:
    status: str  # proven | refuted
    evidence: str  # what the database showed, for people: a catalog row, an error, an isolation table


@dataclass(slots=True)
class Merged:
    """What a verify run adds to a review."""

    findings: list[Finding] = field(default_factory=list)  # the VER findings, with identity
    proofs: dict[str, Proof] = field(default_factory=dict)  # fingerprint (static or VER) -> proof


# -- the proof rules --------------------------------------------------------------------------------
# Rules in name and documentation (so `dbreview rules`, the detail pane and SARIF describe them), but
# raised by verify from a real database, never by a static scan: they have no VALID/INVALID source.


class ProofRule(Rule):
    """Base of the rules only `dbreview verify` raises."""


class UpgradeFails(ProofRule):
    """`alembic upgrade head` fails on a fresh database.

    What it checks:
        The migrations are run from an empty PostgreSQL database to head, as a new environment or a
        disaster recovery would run them.

    Why it matters:
        A history that cannot build the schema cannot build a new environment, a test database or a
        restored one; the failure names the revision and the database's words.

    Example:
        op.drop_index("ix_users_email_old")  # an index no migration creates

    Instead:
        Fix the revision so that it runs on what the revisions before it built.
    """

    ID, ITEM, SEVERITY = "VER001", "3.2", Severity.CRITICAL


class DowngradeFails(ProofRule):
    """A revision's downgrade fails on the schema its upgrade built.

    What it checks:
        Each revision is upgraded, then downgraded, on a real database.

    Why it matters:
        A rollback that fails in an incident leaves the schema half-migrated.

    Example:
        op.drop_constraint(None, "users")  # autogenerate could not name it

    Instead:
        Make the downgrade undo exactly what the upgrade did, by name.
    """

    ID, ITEM, SEVERITY = "VER002", "3.9", Severity.WARNING


class DowngradeLeavesObjects(ProofRule):
    """A downgrade leaves behind objects its upgrade created, or changed.

    What it checks:
        The catalog after upgrade and downgrade against the catalog before the upgrade.

    Why it matters:
        The next upgrade of that revision fails on what is left, or runs on changed objects.

    Example:
        def downgrade(): pass  # the upgrade created an extension and a table

    Instead:
        Drop or restore in the downgrade what the upgrade created or changed.
    """

    ID, ITEM, SEVERITY = "VER003", "3.9", Severity.WARNING


class DowngradeDestroys(ProofRule):
    """A downgrade removes objects that an earlier revision created.

    What it checks:
        Objects present before a revision's upgrade and gone after its downgrade.

    Why it matters:
        Rolling back one revision silently takes away another's work (a trigger, an index, a
        policy), and nothing says so until it is missed.

    Example:
        op.execute("DROP TRIGGER IF EXISTS audit_trigger_user_sessions ON user_sessions")

    Instead:
        Drop only what this revision created; restore what it replaced.
    """

    ID, ITEM, SEVERITY = "VER004", "3.9", Severity.WARNING


class SecondUpgradeDiffers(ProofRule):
    """Upgrading a revision again after its downgrade builds a different schema.

    What it checks:
        The catalog after the first and the second upgrade of each revision.

    Why it matters:
        A rollback and redeploy leaves production unlike every fresh environment.

    Instead:
        Make the downgrade restore what the upgrade starts from.
    """

    ID, ITEM, SEVERITY = "VER005", "3.2", Severity.WARNING


class TenantRowsLeak(ProofRule):
    """Tenant B's rows are visible to a session that is not tenant B.

    What it checks:
        Two tenants' rows in every tenant-scoped table, read as a plain non-owner role and as each
        role the policies name, with tenant A's settings, with none, and with ''.

    Why it matters:
        This is a cross-tenant data leak, proven on the migrations' own schema.

    Instead:
        Enable and force Row-Level Security with a policy that compares the tenant column with the
        tenant setting.
    """

    ID, ITEM, SEVERITY = "VER006", "6.2", Severity.CRITICAL


class OwnerBypassesRls(ProofRule):
    """The table's owner reads every tenant's rows: RLS is enabled but not forced.

    What it checks:
        Relrowsecurity without relforcerowsecurity in the catalog, and the owner's read of two
        tenants' rows before and after FORCE ROW LEVEL SECURITY.

    Why it matters:
        Applications often connect as the role that owns the tables; RLS does not apply to it unless
        forced.

    Instead:
        ALTER TABLE ... FORCE ROW LEVEL SECURITY, or connect as a role that does not own the tables.
    """

    ID, ITEM, SEVERITY = "VER007", "6.2", Severity.WARNING


class DefinerWithoutSearchPath(ProofRule):
    """A SECURITY DEFINER function has no search_path of its own.

    What it checks:
        Pg_proc.prosecdef without a search_path in proconfig.

    Why it matters:
        The function runs with its owner's rights and resolves names through the caller's
        search_path: a caller who can create objects earlier on that path runs code as the owner.

    Instead:
        CREATE FUNCTION ... SECURITY DEFINER SET search_path = pg_catalog, public (or schema-qualify
        every name and pin the path).
    """

    ID, ITEM, SEVERITY = "VER008", "3.8", Severity.CRITICAL


class ForeignKeyWithoutIndex(ProofRule):
    """A foreign key has no index that starts with its columns.

    What it checks:
        Pg_constraint foreign keys against pg_index, at head.

    Why it matters:
        Joins on it and deletes of the referenced rows scan the whole table.

    Instead:
        Create an index on the foreign key's columns.
    """

    ID, ITEM, SEVERITY = "VER009", "8.1", Severity.WARNING


class NaiveTimestamp(ProofRule):
    """A column is timestamp without time zone in the database.

    What it checks:
        The columns' types at head.

    Why it matters:
        The database stores wall-clock times with no zone; mixed sources shift by hours.

    Instead:
        Timestamp with time zone (DateTime(timezone=True)).
    """

    ID, ITEM, SEVERITY = "VER010", "9.1", Severity.WARNING


class DuplicateIndex(ProofRule):
    """Two indexes are the same index.

    What it checks:
        Indexes with the same columns, operator classes, expressions and predicate.

    Why it matters:
        Every write maintains both; one is dead weight.

    Instead:
        Drop one (often an index=True on a primary key column).
    """

    ID, ITEM, SEVERITY = "VER011", "3.3", Severity.INFO


class NoPrimaryKey(ProofRule):
    """A table has no primary key in the database.

    What it checks:
        Pg_constraint at head.

    Why it matters:
        Rows cannot be addressed one by one; logical replication and the ORM need a key.

    Instead:
        Add a primary key.
    """

    ID, ITEM, SEVERITY = "VER012", "5.1", Severity.WARNING


class RlsWithoutPolicy(ProofRule):
    """Row-Level Security is enabled on a table that has no policy.

    What it checks:
        Relrowsecurity and pg_policy at head.

    Why it matters:
        Every role but the owner sees no rows; the owner sees all of them.

    Instead:
        Create the policy, or do not enable RLS on the table.
    """

    ID, ITEM, SEVERITY = "VER013", "3.7", Severity.WARNING


def is_proof_rule(rule_id: str) -> bool:
    return rule_id.startswith(PREFIX)


def proof_rules() -> tuple[type[ProofRule], ...]:
    return tuple(sorted(ProofRule.__subclasses__(), key=lambda r: r.ID))


# -- merging ----------------------------------------------------------------------------------------


def merge(result: VerifyResult, findings: list[Finding], facts: Facts) -> Merged:
    """Proofs for the static findings a run speaks to, and the VER findings for the rest."""
    m = _Merger(result, facts)
    for f in findings:
        proof = m.judge(f)
        if proof is not None:
            m.out.proofs[f.fingerprint] = proof
    new = with_identity(list(m.new_findings()))
    for f in new:
        m.out.proofs[f.fingerprint] = Proof(PROVEN, m.evidence[(f.rule_id, f.anchor)])
    m.out.findings = new
    return m.out


class _Merger:
    def __init__(self, result: VerifyResult, facts: Facts) -> None:
        self.r, self.facts = result, facts
        self.out = Merged()
        self.rls = {t.table: t for t in result.rls}
        self.catalog: dict[str, dict[tuple[str | None, str], CatalogRow]] = {}
        for row in result.catalog:
            self.catalog.setdefault(row.check, {})[(row.table, row.subject)] = row
        self.trips = {t.revision: t for t in result.roundtrips}
        self.covered: set[tuple[str, str]] = set()  # (kind, subject) a static finding was proven for
        self.evidence: dict[tuple[str, str], str] = {}
        iso = result.isolation
        self.leaks = iso.leaks if iso else {}
        self.iso_rows = iso.rows if iso else {}

    # -- static findings

    def judge(self, f: Finding) -> Proof | None:
        a = f.anchor
        rule = f.rule_id
        if rule in ("TEN001", "TEN006"):
            if a == "tenancy:no-rls":
                if self.r.rls and not any(t.enabled for t in self.r.rls):
                    return self._proven(("leak", "*"), f, self._leak_text() or "no table has Row-Level Security enabled at head")
                return None
            table, state = self._table(a)
            if state is None:
                return None
            if state.enabled:
                return Proof(REFUTED, f"Row-Level Security is enabled on {table} at head (pg_class.relrowsecurity)")
            return self._proven(("leak", table), f, f"Row-Level Security is off on {table} at head" + self._iso_text(table))
        if rule == "TEN002":
            table, state = self._table(a)
            if state is None or not state.enabled:
                return None
            if state.forced:
                return Proof(REFUTED, f"{table} has FORCE ROW LEVEL SECURITY at head")
            return self._proven(("bypass", table), f, f"{table}: RLS enabled, not forced (pg_class)" + self._iso_text(table, owner=True))
        if rule == "TEN005":
            table, state = self._table(a)
            if state is None or not state.enabled:
                return None
            if state.policies:
                return Proof(REFUTED, f"{table} has {len(state.policies)} polic{'y' if len(state.policies) == 1 else 'ies'} at head: "
                             + "; ".join(state.policies))
            return self._proven(("no-policy", table), f, f"{table}: RLS enabled and pg_policy has no policy for it")
        if rule in ("TEN003", "TEN004"):
            parts = a.split(":")
            table, name = (parts[1], parts[2]) if len(parts) >= 3 else (None, None)
            state = self.rls.get(table or "")
            policy = next((p for p in state.policies if p.startswith(f"{name} (")), None) if state else None
            if policy is None or not re.match(r"[^(]+\((ALL|SELECT)", policy) or table not in self.iso_rows:
                return None
            if table in self.leaks:
                return self._proven(("leak", table), f, f"policy {policy}" + self._iso_text(table))
            return Proof(REFUTED, f"policy {policy} keeps tenant B's rows from tenant A" + self._iso_text(table))
        if rule in ("MIG001", "MIG002"):
            revision = _between(a, "migration:", ":")
            trip = self.trips.get(revision or "")
            if trip is None or trip.downgrade is None:
                return None
            text = _trip_text(trip)
            if not trip.clean:
                self.covered.add(("trip", trip.revision))
                return Proof(PROVEN, text)
            return Proof(REFUTED, text) if rule == "MIG002" else None
        if rule in ("MIG003", "MIG004"):
            failed = [u for u in self.r.upgrades if not u.step.ok]
            needle = "multiple head" if rule == "MIG003" else _between(a + ":", ":parent:", ":")
            for u in failed:
                if needle and needle.lower() in (u.step.error or "").lower():
                    self._proven(("upgrade", u.tree + u.target), f, "")
                    return Proof(PROVEN, f"`alembic upgrade {u.target}` on {u.tree}: {u.step.error}")
            return None
        if rule == "PERF001":
            return self._columns(f, "fk-index", "has an index that starts with it")
        if rule == "TZ001":
            return self._columns(f, "timestamp", "is timestamp with time zone", type_check="timestamp with time zone")
        if rule == "MIG006" and a.startswith("drift:table:"):
            table = a.removeprefix("drift:table:")
            if not self.r.rls:
                return None
            if table in self.rls:
                return Proof(REFUTED, f"{table} exists at head")
            return Proof(PROVEN, f"no table {table} at head")
        return None

    def _table(self, anchor: str) -> tuple[str, TableRls | None]:
        """The table an anchor `table:NAME:...` is about, and its RLS state at head."""
        table = _between(anchor, "table:", ":") or ""
        return table, self.rls.get(table)

    def _proven(self, key: tuple[str, str], f: Finding, text: str) -> Proof:
        """Proven: the VER finding for `key` is not raised again, unless a failed upgrade or a leak was
        proven under a finding less than critical (those count as critical, whatever the static rule
        could tell)."""
        if f.severity == Severity.CRITICAL or key[0] not in ("leak", "upgrade"):
            self.covered.add(key)
        return Proof(PROVEN, text)

    def _columns(self, f: Finding, check: str, fine: str, type_check: str | None = None) -> Proof | None:
        """PERF001 / TZ001: the catalog row of each table.column the finding stands for."""
        pairs = list(_columns_of(f.anchor, self.facts))
        if not pairs or not self.r.rls:
            return None
        rows = self.catalog.get(check, {})
        hits = [rows[(t, c)] for t, c in pairs if (t, c) in rows]
        if hits:
            for t, c in pairs:
                self.covered.add((check, f"{t}.{c}"))
            return Proof(PROVEN, "; ".join(h.detail for h in hits))
        known = [(t, c) for t, c in pairs if c in self.r.columns.get(t, {})]
        if not known or (type_check and any(self.r.columns[t][c] != type_check for t, c in known)):
            return None
        return Proof(REFUTED, "; ".join(f"{t}.{c} {fine}" for t, c in known) + " (catalog at head)")

    def _iso_text(self, table: str, owner: bool = False) -> str:
        cells = self.iso_rows.get(table)
        if not cells:
            return ""
        shown = {k: v for k, v in cells.items() if k.startswith("owner")} if owner else cells
        return "; rows of tenant A and tenant B seen: " + ", ".join(f"{k}: {v}" for k, v in shown.items())

    def _leak_text(self) -> str:
        if not self.leaks:
            return ""
        return f"{len(self.leaks)} tenant tables show tenant B's rows to tenant A: " + ", ".join(sorted(self.leaks))

    # -- what only the database showed

    def new_findings(self) -> Iterator[Finding]:
        r = self.r
        for u in r.upgrades:
            if not u.step.ok and ("upgrade", u.tree + u.target) not in self.covered:
                where = self._at_revision(u.step.where.path if u.step.where else None, u.step.where.line if u.step.where else None, u.tree)
                msg = f"`alembic upgrade {u.target}` fails on a fresh database" + (f" at revision {u.step.revision}" if u.step.revision else "") + f": {_short(u.step.error)}"
                yield self._new(UpgradeFails, msg, where, f"verify:upgrade:{u.tree}:{u.target}", f"`alembic upgrade {u.target}` on {u.tree}: {u.step.error}")
        for trip in r.roundtrips:
            yield from self._trip_findings(trip)
        for table in sorted(self.leaks):
            if ("leak", table) in self.covered or ("leak", "*") in self.covered:
                continue
            yield self._new(
                TenantRowsLeak, f"{table}: tenant B's rows are visible to tenant A ({', '.join(self.leaks[table])})",
                self._at_table(table), f"verify:leak:{table}", f"{table}{self._iso_text(table)}",
            )
        for state in r.rls:
            if state.enabled and not state.forced and ("bypass", state.table) not in self.covered:
                yield self._new(
                    OwnerBypassesRls, f"{state.table}: RLS is enabled but not forced, so the owner reads every tenant's rows",
                    self._at_table(state.table), f"verify:bypass:{state.table}",
                    f"{state.table}: relrowsecurity = true, relforcerowsecurity = false{self._iso_text(state.table, owner=True)}",
                )
        for row in r.catalog:
            yield from self._catalog_finding(row)

    def _trip_findings(self, trip: Roundtrip) -> Iterable[Finding]:
        if trip.downgrade is None:
            return
        text = _trip_text(trip)
        down = trip.downgrade
        where = self._at_revision(trip.path, None, trip.tree, downgrade=True)
        covered = ("trip", trip.revision) in self.covered
        if not down.ok and not covered:
            at = self._at_revision(down.where.path, down.where.line, trip.tree) if down.where else where
            yield self._new(DowngradeFails, f"revision {trip.revision}: downgrade fails: {_short(down.error)}", at, f"verify:downgrade:{trip.revision}", text)
        if (trip.left_behind or trip.changed) and not covered:
            what = ", ".join((trip.left_behind + trip.changed)[:4]) + (" ..." if len(trip.left_behind + trip.changed) > 4 else "")
            yield self._new(DowngradeLeavesObjects, f"revision {trip.revision}: its downgrade leaves {what}", where, f"verify:left:{trip.revision}", text)
        if trip.destroyed:
            what = ", ".join(trip.destroyed[:4]) + (" ..." if len(trip.destroyed) > 4 else "")
            yield self._new(DowngradeDestroys, f"revision {trip.revision}: its downgrade removes {what}, which it did not create", where, f"verify:destroyed:{trip.revision}", text)
        again = trip.upgrade_again
        if again is not None and not again.ok:
            yield self._new(SecondUpgradeDiffers, f"revision {trip.revision}: upgrading it again after its downgrade fails: {_short(again.error)}", where, f"verify:differs:{trip.revision}", text)
        elif trip.differs:
            yield self._new(SecondUpgradeDiffers, f"revision {trip.revision}: a second upgrade differs ({', '.join(trip.differs[:3])})", where, f"verify:differs:{trip.revision}", text)

    def _catalog_finding(self, row: CatalogRow) -> Iterable[Finding]:
        kinds = {
            "no-policy": RlsWithoutPolicy, "fk-index": ForeignKeyWithoutIndex, "timestamp": NaiveTimestamp,
            "security-definer": DefinerWithoutSearchPath, "duplicate-index": DuplicateIndex, "no-primary-key": NoPrimaryKey,
        }
        rule = kinds.get(row.check)
        if rule is None:
            return
        key = (row.check, f"{row.table}.{row.subject}" if row.check in ("fk-index", "timestamp") else row.table or row.subject)
        if key in self.covered or (row.check == "no-policy" and ("no-policy", row.table) in self.covered):
            return
        if row.check == "security-definer":
            where = self._at_text(rf"FUNCTION\s+(?:\w+\.)?{re.escape(row.subject.split('(')[0])}\s*\(")
            item = "3.8" if "trigger function" in row.detail else "6.2"
        elif row.check == "duplicate-index":
            names = row.subject.split(", ")
            where = self._at_text("|".join(re.escape(n) for n in names)) or self._at_table(row.table or "")
            item = None
        elif row.check in ("fk-index", "timestamp"):
            where = self._at_column(row.table or "", row.subject.split(", ")[0])
            item = None
        else:
            where = self._at_table(row.table or "")
            item = None
        yield self._new(rule, row.detail, where, f"verify:{row.check}:{row.table}:{row.subject}", row.detail, item=item)

    def _new(self, rule: type[ProofRule], message: str, span: Span, anchor: str, evidence: str, item: str | None = None) -> Finding:
        self.evidence[(rule.ID, anchor)] = evidence
        return Finding(
            rule_id=rule.ID, item_id=item or rule.ITEM, severity=rule.SEVERITY, message=message,
            location=Location(span.path, span.start, span.end), anchor=anchor, evidence=self.facts.lines(span),
        )

    # -- where in the target a database object comes from

    def _at_table(self, table: str) -> Span:
        name = table.rsplit(".", 1)[-1]
        fact = self.facts.migration_tables.get(name) or self.facts.tables.get(name)
        if fact is not None:
            return Span(fact.span.path, fact.span.start, fact.span.start)
        return self._at_text(rf"\b{re.escape(name)}\b") or self._first_revision()

    def _at_column(self, table: str, column: str) -> Span:
        name = table.rsplit(".", 1)[-1]
        for source in (self.facts.migration_tables, self.facts.tables):
            fact = source.get(name)
            col = fact.columns.get(column) if fact else None
            if col is not None:
                return col.span
        return self._at_table(table)

    def _at_revision(self, path: str | None, line: int | None, tree: str, downgrade: bool = False) -> Span:
        for rev in self.facts.revisions:
            if rev.path == path:
                if line:
                    return Span(path, line, line)
                span = rev.downgrade_span if downgrade and rev.downgrade_span else rev.span
                return Span(span.path, span.start, span.start)
        return Span(path, line or 1, line or 1) if path else self._first_revision(tree)

    def _at_text(self, pattern: str) -> Span | None:
        """The first line of a revision file that matches (for functions and indexes named in SQL)."""
        regex = re.compile(pattern, re.I)
        for rev in self.facts.revisions:
            for n, line in enumerate(self.facts.lines(Span(rev.path, 1, 1_000_000)), 1):
                if regex.search(line):
                    return Span(rev.path, n, n)
        return None

    def _first_revision(self, tree: str | None = None) -> Span:
        revs = [r for r in self.facts.revisions if tree is None or r.path.startswith(tree + "/")] or self.facts.revisions
        if not revs:
            return Span("", 1, 1)
        return Span(revs[0].path, revs[0].span.start, revs[0].span.start)


def _between(text: str, start: str, end: str) -> str | None:
    if not text.startswith(start) and start not in text:
        return None
    rest = text.split(start, 1)[1]
    return rest.split(end, 1)[0] if end in rest else rest


def _columns_of(anchor: str, facts: Facts) -> Iterator[tuple[str, str]]:
    """(table, column) pairs a column finding stands for: `table:t.c`, or every table that takes
    the column from a mixin (`class:Mixin.attr`)."""
    base = anchor.split(":")[0:2]
    if len(base) < 2 or "." not in base[1]:
        return
    owner, attr = base[1].rsplit(".", 1)
    if base[0] == "table":
        yield owner, attr
    elif base[0] == "class":
        for table in facts.tables.values():
            for col in table.columns.values():
                if col.declared_in == owner and attr in (col.attr, col.name):
                    yield table.name, col.name


def _trip_text(trip: Roundtrip) -> str:
    lines = [f"revision {trip.revision}: upgrade, downgrade, upgrade again"]
    if trip.downgrade is not None and not trip.downgrade.ok:
        lines.append(f"downgrade failed: {trip.downgrade.error}")
    if trip.upgrade_again is not None and not trip.upgrade_again.ok:
        lines.append(f"second upgrade failed: {trip.upgrade_again.error}")
    for head, items in (("left behind", trip.left_behind), ("changed", trip.changed), ("removed though not created here", trip.destroyed), ("second upgrade differs", trip.differs)):
        if items:
            lines.append(f"{head}: {', '.join(items)}")
    if len(lines) == 1:
        lines.append("the schema after the downgrade is the schema before the upgrade, and the second upgrade builds the same")
    return "; ".join(lines)


def _short(text: str | None) -> str:
    first = (text or "unknown error").strip().splitlines()[0]
    return first if len(first) <= 240 else first[:237] + "..."

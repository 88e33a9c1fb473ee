"""What a verify run found, as plain values: the reports and the review read these."""

from __future__ import annotations

from dataclasses import dataclass, field


class VerifyError(Exception):
    """Verify cannot run as asked (no PostgreSQL, a bad --postgres-bin, imports not allowed): a
    usage error, said in one line."""


@dataclass(frozen=True, slots=True)
class Where:
    """A place in the target: a revision file's line, a table's definition."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(slots=True)
class Tree:
    """One Alembic tree as verify runs it."""

    folder: str  # the versions folder, relative to the target
    revisions: int
    heads: tuple[str, ...]
    database: str  # the throwaway database it ran in
    version_table: str = "alembic_version"
    not_reproduced: list[str] = field(default_factory=list)  # what the target's env.py does that ours does not
    skipped: str | None = None  # why it was not run at all


@dataclass(slots=True)
class Step:
    """One Alembic command in the child."""

    ok: bool
    error: str | None = None  # the database's (or Alembic's) message
    revision: str | None = None  # the revision that was running when it failed
    where: Where | None = None  # its line in the revision file
    seconds: float = 0.0


@dataclass(slots=True)
class Upgrade:
    """Proof 1: a fresh `alembic upgrade head`."""

    tree: str
    step: Step
    target: str = "head"


@dataclass(slots=True)
class Roundtrip:
    """Proof 2, for one revision: up, down, up again, with catalog snapshots between."""

    tree: str
    revision: str
    path: str
    downgrade: Step | None = None  # None: not reached
    upgrade_again: Step | None = None
    left_behind: list[str] = field(default_factory=list)  # objects the downgrade did not remove
    destroyed: list[str] = field(default_factory=list)  # objects the revision found and the downgrade removed
    changed: list[str] = field(default_factory=list)  # objects the downgrade left changed
    differs: list[str] = field(default_factory=list)  # what the second upgrade made differently

    @property
    def clean(self) -> bool:
        ok = self.downgrade is not None and self.downgrade.ok and self.upgrade_again is not None and self.upgrade_again.ok
        return ok and not (self.left_behind or self.destroyed or self.changed or self.differs)


@dataclass(slots=True)
class CatalogRow:
    """Proof 3: one thing the catalog says at head."""

    check: str  # rls | fk-index | timestamp | security-definer | duplicate-index | no-primary-key | no-policy
    table: str | None  # schema-qualified unless public
    subject: str  # column, function, index, policy ...
    detail: str  # the catalog row, as a person reads it


@dataclass(slots=True)
class TableRls:
    table: str
    enabled: bool
    forced: bool
    policies: list[str] = field(default_factory=list)  # "name (cmd, roles): using ..."
    settings: list[str] = field(default_factory=list)  # current_setting() names its policies read


@dataclass(slots=True)
class Isolation:
    """Proof 4: rows of tenant A and tenant B seen per table, per case."""

    tenant_column: str | None
    settings: dict[str, str] = field(default_factory=dict)  # setting -> what it was set to for tenant A
    cases: list[str] = field(default_factory=list)  # column heads: "app, A set", "owner, A set, FORCE" ...
    rows: dict[str, dict[str, str]] = field(default_factory=dict)  # table -> case -> "A 1 / B 1" or "error: ..."
    leaks: dict[str, list[str]] = field(default_factory=dict)  # table -> cases where B's rows showed with A set
    owner_bypass: list[str] = field(default_factory=list)  # tables with RLS whose owner saw B's rows
    not_seeded: dict[str, str] = field(default_factory=dict)  # table -> why it has no rows
    note: str | None = None


@dataclass(slots=True)
class VerifyResult:
    root: str
    postgres: str = ""  # "PostgreSQL 15.18 from the machine (...)"
    postgres_lacks: list[str] = field(default_factory=list)
    protections: tuple[str, ...] = ()
    missing_protections: tuple[str, ...] = ()
    trees: list[Tree] = field(default_factory=list)
    extensions: list[str] = field(default_factory=list)  # what the migrations create
    roles: list[str] = field(default_factory=list)  # roles created for the migrations and policies
    imports: dict[str, list[str]] = field(default_factory=dict)  # revision file -> imports outside the allowed
    unverifiable: str | None = None  # "needs uuid-ossp": nothing was proven, nothing failed
    upgrades: list[Upgrade] = field(default_factory=list)
    roundtrips: list[Roundtrip] = field(default_factory=list)
    catalog: list[CatalogRow] = field(default_factory=list)
    rls: list[TableRls] = field(default_factory=list)
    columns: dict[str, dict[str, str]] = field(default_factory=dict)  # table -> column -> type, at head
    isolation: Isolation | None = None
    notes: list[str] = field(default_factory=list)  # proofs not run and why, limits of the replacement env.py
    timings: dict[str, float] = field(default_factory=dict)
    memory_kb: int | None = None  # the server's resident memory at its peak sample
    commit: str | None = None

    @property
    def upgraded(self) -> bool:
        return bool(self.upgrades) and all(u.step.ok for u in self.upgrades)

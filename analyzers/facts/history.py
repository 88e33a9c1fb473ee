"""What the database holds before each revision runs: which earlier revision created each table, column,
index, constraint, trigger, function and policy. "Existing" in the migration-safety rules means this:
made by an earlier revision (the database a revision runs on has it, maybe with rows), not by the
revision itself.

Built from positive evidence only: what an upgrade creates and drops as far as it could be read. An
object made by SQL that could not be read is not known to exist, so the rules built on this say nothing
about it rather than guess."""

from __future__ import annotations

from dataclasses import dataclass, replace

from analyzers.facts.effects import effects
from analyzers.facts.conventions import conventions_of
from analyzers.facts.link import replay, revision_trees
from analyzers.facts.model import ColumnFact, Facts, MigrationOp, RevisionFact, Span

RECENT = 10  # generations from a head: the revisions a reviewer reviews (see recent())


@dataclass(slots=True)
class Life:
    """One life of a named object: begun by `begun` (its creator, or the revision that renamed it to this
    name) until `ender` dropped or renamed it (None: still there). `creator` made it, at `span`."""

    creator: RevisionFact
    span: Span
    begun: RevisionFact
    ender: RevisionFact | None = None


def created_objects(op: MigrationOp) -> list[tuple[str, str, Span]]:
    """(kind, key, span) of the objects other than tables and columns that `op` creates: an index by its
    name, a constraint, trigger or policy by `table.name`, a function by its name."""
    out: list[tuple[str, str, Span]] = []
    out += [("index", ix.name, op.span) for ix in op.made_indexes if ix.name]
    out += [("constraint", f"{op.table}.{c.name}", op.span) for c in op.constraints if c.name]
    for st in op.sql.statements if op.sql else ():
        d = st.details
        if st.kind == "create_index" and d.get("name"):
            out.append(("index", str(d["name"]), st.span))
        elif st.kind in ("create_trigger", "create_policy") and d.get("name"):
            out.append((st.kind.removeprefix("create_"), f"{st.table}.{d['name']}", st.span))
        elif st.kind == "create_function" and d.get("name"):
            out.append(("function", str(d["name"]).split(".")[-1], st.span))
        elif st.kind == "alter_table":
            out += [("constraint", f"{st.table}.{c['name']}", st.span) for c in d.get("added_constraints", ()) if c.get("name")]  # type: ignore[union-attr]
    return out


def dropped_objects(op: MigrationOp) -> list[tuple[str, str, Span, bool]]:
    """(kind, key, span, guarded by IF EXISTS) of the objects other than tables and columns that `op` drops."""
    out: list[tuple[str, str, Span, bool]] = []
    if op.name == "drop_index" and op.target:
        out.append(("index", op.target, op.span, False))
    elif op.name == "drop_constraint" and op.target:
        out.append(("constraint", f"{op.table}.{op.target}", op.span, False))
    kinds = {"OBJECT_INDEX": "index", "OBJECT_TRIGGER": "trigger", "OBJECT_FUNCTION": "function"}
    for st in op.sql.statements if op.sql else ():
        d = st.details
        maybe = bool(d.get("if_exists"))
        if st.kind == "drop" and d.get("type") in kinds:
            kind = kinds[str(d["type"])]
            on = list(d.get("on") or ())  # type: ignore[call-overload]
            for i, name in enumerate(d.get("names", ())):  # type: ignore[arg-type]
                table = on[i] if i < len(on) else None
                if kind == "trigger" and not table:
                    continue
                out.append((kind, f"{table}.{name}" if kind == "trigger" else str(name), st.span, maybe))
        elif st.kind == "drop_policy" and d.get("name"):
            out.append(("policy", f"{st.table}.{d['name']}", st.span, maybe))
        elif st.kind == "alter_table":
            out += [("constraint", f"{st.table}.{c}", st.span, maybe) for c in d.get("dropped_constraints", ())]  # type: ignore[union-attr]
    return out


class History:
    """Lives of every table, column and object, per Alembic tree, in revision order."""

    def __init__(self, revisions: list[RevisionFact]) -> None:
        self.tree_of: dict[int, str] = {}
        self.ancestors: dict[int, frozenset[int]] = {}  # revision -> every revision that runs before it
        self.lives: dict[tuple[str, str, str], list[Life]] = {}  # (tree, kind, key) -> lives, oldest first
        self._trees_of: dict[tuple[str, str], list[tuple[str, Life]]] | None = None  # (kind, key) -> (tree, first life)
        order = {id(r): i for i, r in enumerate(revisions)}
        for tree, revs in revision_trees(revisions).items():
            by_id = {r.revision: r for r in revs if r.revision}
            for rev in sorted(revs, key=lambda r: order[id(r)]):  # parents first
                parents = [by_id[p] for p in (*rev.down_revisions, *rev.depends_on) if p in by_id and by_id[p] is not rev]
                self.ancestors[id(rev)] = frozenset().union(
                    *(self.ancestors.get(id(p), frozenset()) | {id(p)} for p in parents))
                self.tree_of[id(rev)] = tree
                self._play(tree, rev)

    # -- asking --

    def before(self, rev: RevisionFact, kind: str, key: str) -> Life | None:
        """The life of `key` (a table; `table.column`; an index, constraint, trigger ...) that an ancestor
        of `rev` began and that no ancestor ended: what the database has when `rev` runs. A sibling
        branch's changes do not count: Alembic may run that branch after this one."""
        seen = self.ancestors.get(id(rev), frozenset())
        for life in reversed(self.lives.get((self.tree_of.get(id(rev), ""), kind, key), ())):
            if id(life.begun) in seen and (life.ender is None or id(life.ender) not in seen):
                return life
        return None

    def in_other_tree(self, rev: RevisionFact, kind: str, key: str) -> Life | None:
        """The first life of `key` in another Alembic tree than `rev`'s (a plugin's tree run against the main
        tree's database, or a tree of another database: which, dbreview does not know)."""
        if self._trees_of is None:
            self._trees_of = {}
            for (tree, k, name), lives in self.lives.items():
                self._trees_of.setdefault((k, name), []).append((tree, lives[0]))
        mine = self.tree_of.get(id(rev), "")
        return next((life for tree, life in self._trees_of.get((kind, key), ()) if tree != mine), None)

    # -- playing --

    def _live(self, tree: str, kind: str, key: str) -> Life | None:
        lives = self.lives.get((tree, kind, key))
        return lives[-1] if lives and lives[-1].ender is None else None

    def _begin(self, tree: str, kind: str, key: str, rev: RevisionFact, span: Span, creator: RevisionFact | None = None) -> None:
        if self._live(tree, kind, key) is None:
            self.lives.setdefault((tree, kind, key), []).append(Life(creator or rev, span, rev))

    def _end(self, tree: str, kind: str, key: str, rev: RevisionFact) -> Life | None:
        life = self._live(tree, kind, key)
        if life is not None:
            life.ender = rev
        return life

    def _columns(self, tree: str, table: str) -> list[str]:
        prefix = f"{table}."
        return [k for (t, kind, k), lives in self.lives.items()
                if t == tree and kind == "column" and k.startswith(prefix) and lives[-1].ender is None]

    def _play(self, tree: str, rev: RevisionFact) -> None:
        for e in effects(rev.upgrade):
            if not e.table or e.kind == "unread":
                continue
            if e.kind == "create_table":
                self._begin(tree, "table", e.table, rev, e.span)
                for c in e.columns:
                    self._begin(tree, "column", f"{e.table}.{c}", rev, e.span)
            elif e.kind in ("drop_table", "rename_table"):
                life = self._end(tree, "table", e.table, rev)
                moved = [(c, self._end(tree, "column", c, rev)) for c in self._columns(tree, e.table)]
                if e.kind == "rename_table" and e.name and life is not None:
                    self._begin(tree, "table", e.name, rev, life.span, life.creator)
                    for c, old in moved:
                        if old is not None:
                            self._begin(tree, "column", f"{e.name}.{c.split('.', 1)[1]}", rev, old.span, old.creator)
            elif e.kind == "add_column" and e.name:
                self._begin(tree, "column", f"{e.table}.{e.name}", rev, e.span)
            elif e.kind in ("drop_column", "rename_column") and e.name:
                old = self._end(tree, "column", f"{e.table}.{e.name}", rev)
                if e.kind == "rename_column" and e.new and old is not None:
                    self._begin(tree, "column", f"{e.table}.{e.new}", rev, old.span, old.creator)
        for op in rev.upgrade:
            for kind, key, span in created_objects(op):
                self._begin(tree, kind, key, rev, span)
            for kind, key, _, _ in dropped_objects(op):
                self._end(tree, kind, key, rev)


def history(facts: Facts) -> History:
    """The history of `facts`' revisions, built once and kept with the facts."""
    stamp = (id(facts.revisions), len(facts.revisions))
    cached = facts.derived.get("history")
    if cached is not None and cached[0] == stamp:  # type: ignore[index]
        return cached[1]  # type: ignore[index]
    built = History(facts.revisions)
    facts.derived["history"] = (stamp, built)
    return built


def recent(facts: Facts) -> set[int]:
    """The ids of the revisions a reviewer reviews: those within RECENT generations of a head of their
    tree. Older ones ran long ago on every database; rewriting them changes nothing that is deployed, and
    the tables they locked were often empty then."""
    stamp = (id(facts.revisions), len(facts.revisions))
    cached = facts.derived.get("recent")
    if cached is not None and cached[0] == stamp:  # type: ignore[index]
        return cached[1]  # type: ignore[index]
    out: set[int] = set()
    for revs in revision_trees(facts.revisions).values():
        by_id = {r.revision: r for r in revs if r.revision}
        parents = {p for r in revs for p in r.down_revisions}
        level = [r for r in revs if r.revision not in parents]
        for _ in range(RECENT):
            level = [r for r in level if id(r) not in out]
            out.update(id(r) for r in level)
            level = [by_id[p] for r in level for p in r.down_revisions if p in by_id]
    facts.derived["recent"] = (stamp, out)
    return out


def column_then(facts: Facts, rev: RevisionFact, op: MigrationOp, table: str, column: str) -> ColumnFact | None:
    """`table.column` as the database has it when `op` of `rev` runs: the upgrades of rev's ancestors
    replayed, then rev's own steps before op. A table made outside the migrations (no revision creates it) holds
    the columns the earlier revisions added to it, with the types they gave them. None when the replay does not
    have it."""
    t = _schema_before(facts, rev, op, outside=False).get(table)
    if t is None:
        t = _schema_before(facts, rev, op, outside=True).get(table)
    return t.columns.get(column) if t is not None else None


def _schema_before(facts: Facts, rev: RevisionFact, op: MigrationOp, *, outside: bool) -> dict:
    key = f"schema_before{':outside' if outside else ''}:{id(rev)}:{id(op)}"
    cached = facts.derived.get(key)
    if cached is None:
        seen = history(facts).ancestors.get(id(rev), frozenset())
        upgrade = rev.upgrade[:next((i for i, o in enumerate(rev.upgrade) if o is op), len(rev.upgrade))]
        cached = facts.derived[key] = replay([*(r for r in facts.revisions if id(r) in seen), replace(rev, upgrade=upgrade)],
                                             conventions_of(facts), outside=outside)
    return cached  # type: ignore[return-value]

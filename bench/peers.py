"""A peer run side by side: squawk on the SQL the migrations would run, dbreview on the same migrations.

    python bench/peers.py [--targets DIR] [--only NAME ...] [--demo-only] [--details] [--save FILE]

For the bundled demo and each tryout target (bench/tryout.py's list, at its pinned commit), renders each
Alembic tree's `upgrade base:heads --sql` offline with verify's sandboxed replacement env.py (never the
target's own env.py), cuts it into one file per revision (at Alembic's "-- Running upgrade" lines) and
runs squawk on them with --assume-in-transaction, as Alembic runs each revision in a transaction. A tree
whose revision files import the application is skipped (offline mode would run its code) unless
--allow-imports, which runs them in verify's sandbox; a tree whose offline run fails is skipped.

Then, per revision, each squawk warning is put beside the dbreview rule that says the same thing in the
checklist's words (SQUAWK_TO_DBREVIEW) and counted as matched when dbreview reports that rule on the same
revision file (at the finding or one of its related locations). Prints per target: squawk's warnings, on
all revisions and on the revisions dbreview reviews (the newest ones, analyzers/facts/history.py), how
many of those dbreview reports, squawk's rules that dbreview has no counterpart for, and dbreview's
migration findings that squawk has no counterpart for. docs/peers.md keeps the table and explains each
difference. Needs squawk (`pip install squawk-cli`); skips with a message without it.

Not a test: the targets are not in the repository and a run takes minutes.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.tryout import TARGETS, checkout_problem  # noqa: E402

DEMO = Path(__file__).resolve().parent.parent / "tui" / "demo"

# squawk rule -> the dbreview rule(s) that report the same defect, space-separated (None: dbreview has no counterpart,
# docs/peers.md says why). The migration-safety rules read op.* calls and SQL; the others read the models.
SQUAWK_TO_DBREVIEW: dict[str, str | None] = {
    "require-concurrent-index-creation": "MIG007",
    "disallowed-unique-constraint": "MIG007",
    "ban-concurrent-index-creation-in-transaction": "MIG008",
    "adding-required-field": "MIG009",
    "adding-not-nullable-field": "MIG010",
    "adding-foreign-key-constraint": "MIG010",
    "constraint-missing-not-valid": "MIG010",
    "changing-column-type": "MIG011 MIG010",  # a rewrite (MIG011), or a narrower varchar checked under lock (MIG010)
    "adding-field-with-default": "MIG011",
    "ban-drop-column": "MIG012",
    "ban-drop-table": "MIG012",
    "renaming-column": "MIG012",
    "renaming-table": "MIG012",
    "require-lock-timeout": "MIG014",
    "prefer-timestamptz": "TZ001",
    "prefer-timestamp-tz": "TZ001",
    "prefer-bigint-over-int": None,
    "prefer-bigint-over-smallint": None,
    "prefer-identity": None,
    "prefer-text-field": None,
    "prefer-robust-stmts": None,
    "require-statement-timeout": None,
    "require-concurrent-index-deletion": None,
    "ban-char-field": None,
    "adding-serial-primary-key-field": None,
    "require-timeout-settings": "MIG014",
    "ban-drop-database": None,
    "ban-drop-not-null": None,
    "transaction-nesting": None,
    "ban-create-domain-with-constraint": None,
    "ban-alter-domain-with-add-constraint": None,
    "ban-truncate-cascade": None,
    "ban-uncommitted-transaction": None,
}
DBREVIEW_MIGRATION_RULES = {f"MIG{n:03}" for n in range(7, 20)}
_RUNNING = re.compile(r"^-- Running (?:upgrade|stamp_revision) (.*?) -> (\S+)\s*$", re.M)


@dataclass
class Side:
    name: str
    trees: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    squawk: list[dict] = field(default_factory=list)  # each: rule, revision, path, line, message, recent, matched
    dbreview_only: list[dict] = field(default_factory=list)
    dbreview_total: int = 0


def squawk_binary() -> str | None:
    found = shutil.which("squawk")
    if found:
        return found
    here = Path(sys.executable).parent / "squawk"
    return str(here) if here.exists() else None


_TRANSACTION = re.compile(r"^(?:BEGIN|COMMIT);$", re.M)


def per_revision(sql: str) -> list[tuple[str, str, bool]]:
    """(revision id, its SQL, whether it leaves the transaction) in the order Alembic runs them. The
    BEGIN/COMMIT around each is left off (squawk is told each runs in a transaction), unless the
    revision commits inside (an autocommit block): then its SQL is kept whole, BEGIN to COMMIT."""
    marks = list(_RUNNING.finditer(sql))
    out = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(sql)
        body = sql[m.end():end].strip()
        body = re.sub(r"\A(?:BEGIN;\s*)+", "", body)
        body = re.sub(r"(?:\s*(?:COMMIT|BEGIN);)+\s*\Z", "", body)
        inner = bool(_TRANSACTION.search(body))
        out.append((m.group(2), f"BEGIN;\n{body}\nCOMMIT;\n" if inner else body + "\n", inner))
    return out


def run_squawk(binary: str, files: list[Path], *, in_transaction: bool) -> list[dict]:
    if not files:
        return []
    flag = "--assume-in-transaction" if in_transaction else "--no-assume-in-transaction"
    proc = subprocess.run([binary, "--reporter", "json", flag, *map(str, files)], capture_output=True, text=True, timeout=600)
    try:
        return json.loads(proc.stdout or "[]")
    except json.JSONDecodeError:
        raise RuntimeError(f"squawk: {proc.stderr.strip()[:300]}") from None


def _line(hit: dict) -> str:
    lines = Path(hit["file"]).read_text().splitlines()
    return lines[hit["line"]] if 0 <= hit["line"] < len(lines) else ""  # squawk's lines count from 0


def _column_reported(rule: str, sql_line: str, findings) -> bool:
    """Whether dbreview reports `rule` on the column that a CREATE TABLE line declares (`  starts_at TIMESTAMP ...`)."""
    m = re.match(r'\s*"?(\w+)"?\s', sql_line)
    return bool(m) and any(f.rule_id == rule and re.search(rf"\b{m.group(1)}\b", f.anchor + " " + f.message) for f in findings)


def compare(name: str, root: Path, binary: str, allow_imports: bool = False, python: str | None = None) -> Side:
    from analyzers.engine import scan
    from analyzers.facts.history import recent
    from analyzers.verify.run import VerifyError, offline_sql

    side = Side(name)
    found = scan(root, jobs=2)
    facts = found.facts
    window = recent(facts)
    try:
        rendered = offline_sql(root, found=found, allow_imports=allow_imports, python=python)
    except VerifyError as exc:
        side.skipped.append(f"every tree: {exc}")
        rendered = []
    findings = [f for f in found.result.findings]
    by_file: dict[str, set[str]] = {}
    for f in findings:
        for loc in (f.location, *(r.location for r in f.related)):
            by_file.setdefault(loc.path, set()).add(f.rule_id)
    hits: set[tuple[str, str]] = set()  # (revision file, dbreview rule) squawk has a counterpart for
    with tempfile.TemporaryDirectory(prefix="dbreview-peers-") as tmp:
        for n, tree in enumerate(rendered):
            if tree.sql is None:
                side.skipped.append(f"{tree.tree}: {tree.error}")
                continue
            side.trees.append(tree.tree)
            revs = {r.revision: r for r in facts.revisions if r.path.startswith(tree.tree.rstrip("/") + "/") and r.revision}
            files: dict[bool, list[Path]] = {True: [], False: []}
            file_rev = {}
            for i, (rev_id, body, inner) in enumerate(per_revision(tree.sql)):
                safe = re.sub(r"[^\w.-]", "_", rev_id)
                path = Path(tmp) / f"t{n}" / f"{i:04}_{safe}.sql"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(body)
                files[not inner].append(path)
                file_rev[str(path)] = revs.get(rev_id)
            warnings = [*run_squawk(binary, files[True], in_transaction=True), *run_squawk(binary, files[False], in_transaction=False)]
            for hit in warnings:
                rev = file_rev.get(hit["file"])
                rule = hit["rule_name"]
                ours = SQUAWK_TO_DBREVIEW.get(rule, None)
                rev_path = rev.path if rev else None
                if ours and not ours.startswith("MIG"):  # a rule on the models: the column squawk's line declares
                    matched = _column_reported(ours, _line(hit), findings)
                else:
                    said = by_file.get(rev_path or "", set()) & set((ours or "").split())
                    matched = bool(said)
                    hits.update((rev_path, r) for r in said)
                side.squawk.append({
                    "rule": rule, "ours": ours, "revision": rev.revision if rev else None, "path": rev_path,
                    "message": hit["message"], "recent": bool(rev and id(rev) in window), "matched": matched,
                })
    trees = tuple(t.rstrip("/") + "/" for t in side.trees)
    ours_here = [f for f in findings if f.rule_id in DBREVIEW_MIGRATION_RULES and f.location.path.startswith(trees)]
    side.dbreview_total = len(ours_here)
    squawk_rules = {r for v in SQUAWK_TO_DBREVIEW.values() if v for r in v.split()}
    for f in ours_here:
        paths = {f.location.path, *(r.location.path for r in f.related)}
        if not any((p, f.rule_id) in hits for p in paths):
            side.dbreview_only.append({
                "rule": f.rule_id, "path": f.location.path, "line": f.location.start_line, "message": f.message,
                "squawk_has_rule": f.rule_id in squawk_rules,
            })
    return side


def report(sides: list[Side], details: bool) -> None:
    head = f"{'target':28} {'trees':>5} {'sq.all':>6} {'sq.new':>6} {'matched':>7} {'sq.only':>7} {'ours':>5} {'ours.only':>9}"
    print(head)
    for s in sides:
        new = [h for h in s.squawk if h["recent"]]
        counterpart = [h for h in new if h["ours"]]
        matched = [h for h in counterpart if h["matched"]]
        print(f"{s.name:28} {len(s.trees):>5} {len(s.squawk):>6} {len(new):>6} {len(matched):>3}/{len(counterpart):<3} "
              f"{len(counterpart) - len(matched):>7} {s.dbreview_total:>5} {len(s.dbreview_only):>9}")
        for why in s.skipped:
            print(f"    skipped {why[:150]}")
    print("\nsquawk rules on the reviewed revisions (all targets): rule -> dbreview counterpart, matched/total")
    totals: Counter[str] = Counter()
    matched_by: Counter[str] = Counter()
    for s in sides:
        for h in s.squawk:
            if h["recent"]:
                totals[h["rule"]] += 1
                matched_by[h["rule"]] += h["matched"]
    for rule, n in totals.most_common():
        print(f"  {rule:45} -> {SQUAWK_TO_DBREVIEW.get(rule) or '(none)':7} {matched_by[rule]}/{n}")
    print("\ndbreview migration findings squawk has no warning for (all targets): rule, count")
    only = Counter(d["rule"] for s in sides for d in s.dbreview_only)
    for rule, n in sorted(only.items()):
        print(f"  {rule} {n}")
    if details:
        for s in sides:
            print(f"\n== {s.name}")
            for h in s.squawk:
                if h["recent"] and h["ours"] and not h["matched"]:
                    print(f"  squawk only: {h['rule']} {h['path']} ({h['revision']}): {h['message'][:120]}")
            for d in s.dbreview_only:
                print(f"  dbreview only: {d['rule']} {d['path']}:{d['line']}: {d['message'][:140]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", default=None, help="where the tryout targets are checked out")
    parser.add_argument("--only", nargs="*", default=None, help="these targets only (names of bench/tryout.py)")
    parser.add_argument("--demo-only", action="store_true", help="the bundled demo only")
    parser.add_argument("--details", action="store_true", help="list every difference")
    parser.add_argument("--save", type=Path, help="write every squawk warning and difference as JSON")
    parser.add_argument("--allow-imports", action="store_true",
                        help="render trees whose revision files import the application or other packages (verify's "
                             "sandbox runs them, as `dbreview verify --allow-imports` does)")
    parser.add_argument("--python", help="the Python the revision files run with (a venv with the packages they import, "
                                         "as `dbreview verify --python`)")
    args = parser.parse_args(argv)
    binary = squawk_binary()
    if binary is None:
        print("squawk is not installed (pip install squawk-cli): nothing to compare")
        return 0
    import os

    base = Path(args.targets or os.environ.get("DBREVIEW_TARGETS", "/work/targets"))
    todo: list[tuple[str, Path]] = [("demo", DEMO)]
    if not args.demo_only:
        for name in TARGETS:
            if args.only is not None and name not in args.only:
                continue
            problem = checkout_problem(name, base)
            if problem:
                print(f"{name}: {problem}")
                continue
            todo.append((name, base / name))
    sides = []
    for name, root in todo:
        try:
            sides.append(compare(name, root, binary, args.allow_imports and name != "demo", args.python if name != "demo" else None))
        except Exception as exc:  # noqa: BLE001 - one target that fails is reported, the others still run
            print(f"{name}: failed: {type(exc).__name__}: {exc}")
    report(sides, args.details)
    if args.save:
        args.save.write_text(json.dumps([s.__dict__ for s in sides], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

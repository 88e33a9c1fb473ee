"""Benchmark: the rules (run_rules) on a synthetic target of many tables and migrations.

    /work/venv/bin/python bench/rules.py                       # 2000 tables, 1000 revisions, this tree
    /work/venv/bin/python bench/rules.py --before b377fd4      # and the same on an older commit's analyzers
    /work/venv/bin/python bench/rules.py --tables 4000 --revisions 2000 --repeat 5

The target comes from `synthetic_sources` of tests/test_rule_scaling.py: model modules of 50 tables
each (a tenant column, a status, a polymorphic owner, a JSONB document) and one chain of Alembic
revisions that create the tables and, in op.execute SQL, enable RLS with a policy on two tables in
three, add CHECK constraints and GIN indexes to some, plus SQL pglast rejects and values spliced in
at run time (unread SQL, which the tenancy rules look up per table).

Each code tree runs in a fresh process with that tree's `analyzers` first on sys.path: it extracts
the facts of every file with its own extractor (not timed), links them into the engine's `_Linked`
facts as scan() does, then times `run_rules` REPEAT times, on fresh facts each time (nothing the
rules cached survives from one run to the next). `--before REV` unpacks `git archive REV analyzers`
into a temporary folder for the older side. Printed: median seconds per tree, the findings count
(and a digest of them, which must match), and the slowest rules of each tree.

Not a test: nothing here is imported by the suite.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CHILD = r"""
import collections, hashlib, json, pickle, statistics, sys, textwrap, time
from analyzers.engine import _Linked
from analyzers.facts.link import link
from analyzers.facts.python_module import extract_module
from analyzers.rules import all_rules

sources, repeat = json.load(open(sys.argv[1])), int(sys.argv[2])
modules = pickle.dumps([extract_module(path, textwrap.dedent(text)) for path, text in sources.items()])

def fresh():
    facts = _Linked(root="<memory>")
    facts.sources = {path: textwrap.dedent(text).splitlines() for path, text in sources.items()}
    link(facts, pickle.loads(modules))
    return facts

totals, per_rule = [], collections.defaultdict(list)
for _ in range(repeat):
    facts = fresh()
    total = 0.0
    found = []
    for rule in all_rules():  # run_rules, timed rule by rule
        t0 = time.perf_counter()
        found += list(rule(facts).check())
        spent = time.perf_counter() - t0
        per_rule[rule.ID].append(spent)
        total += spent
    totals.append(total)
rows = sorted((f.rule_id, f.location.path, f.location.start_line, f.message) for f in found)
tables = len(facts.tables)
print(json.dumps({
    "seconds": statistics.median(totals), "runs": totals, "findings": len(rows), "tables": tables,
    "digest": hashlib.sha256(repr(rows).encode()).hexdigest()[:16],
    "revisions": len(facts.revisions), "statements": len(facts.migration_sql),
    "slowest": sorted(((statistics.median(v), k) for k, v in per_rule.items()), reverse=True)[:5],
}))
"""


def _unpack(rev: str, into: Path) -> Path:
    data = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "analyzers"], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


def _measure(tree: Path, sources_file: Path, repeat: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONDONTWRITEBYTECODE="1")
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(sources_file), str(repeat)], cwd=tree, env=env, check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", type=int, default=2000)
    parser.add_argument("--revisions", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", metavar="REV", help="also time the analyzers of this commit")
    args = parser.parse_args()

    from tests.test_rule_scaling import synthetic_sources

    with tempfile.TemporaryDirectory(prefix="dbreview-bench-rules-") as tmp:
        sources_file = Path(tmp) / "sources.json"
        sources_file.write_text(json.dumps(synthetic_sources(args.tables, args.revisions)))
        trees = []
        if args.before:
            trees.append((f"before ({args.before})", _unpack(args.before, Path(tmp) / "before")))
        trees.append(("after (this tree)" if args.before else "this tree", ROOT))
        results = []
        for label, tree in trees:
            r = _measure(tree, sources_file, args.repeat)
            results.append((label, r))
            print(
                f"{label:<28} run_rules {r['seconds']:7.3f} s (median of {args.repeat}: "
                f"{', '.join(f'{s:.3f}' for s in r['runs'])})  {r['findings']} findings ({r['digest']}); "
                f"{r['tables']} tables, {r['revisions']} revisions, {r['statements']} SQL statements"
            )
            print(" " * 28 + " slowest: " + ", ".join(f"{rule} {s:.3f}" for s, rule in r["slowest"]))
        if len(results) == 2:
            (_, old), (_, new) = results
            same = "the same findings" if old["digest"] == new["digest"] else "FINDINGS DIFFER"
            print(f"{'':<28} {old['seconds'] / new['seconds']:.1f}x faster, {same}")


if __name__ == "__main__":
    main()

"""How long `dbreview verify` takes, and what it proves, on real targets.

    python bench/verify.py [TARGET ...] [--runs N] [--postgres-bin DIR]

TARGET defaults to the lockdev checkout (/work/targets/lockdev-saas-starter). Each run is a fresh
`dbreview verify` in a child process with its own data dir, except that the data dir is kept between
the runs of a target, as a user's is: the first run makes the initdb template, the others copy it.
Prints per run: wall time, CPU time (the whole process tree: dbreview, its sandboxed child and the
PostgreSQL server), the phases, the server's peak memory, and the machine's load average (these
machines are shared: a wall time means little without it; the CPU time is the steadier figure).
Then what the run proved. Not a test: the targets are not in the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = Path(os.environ.get("DBREVIEW_TARGETS", "/work/targets")) / "lockdev-saas-starter"


def run_once(target: Path, data: Path, postgres_bin: str | None) -> dict:
    out = data / "report.json"
    argv = [str(Path(sys.executable).with_name("dbreview")), "--data-dir", str(data), "verify", str(target), "--format", "json", "-o", str(out), "--exit-zero"]
    if postgres_bin:
        argv += ["--postgres-bin", postgres_bin]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1):
        raise SystemExit(f"verify failed ({done.returncode}): {done.stderr.strip()}")
    doc = json.loads(out.read_text())
    return {"wall": wall, "cpu": cpu, "load": load, "doc": doc, "stderr": done.stderr.strip()}


def summary(doc: dict) -> list[str]:
    v = doc["verification"]
    r = v["result"]
    lines = [f"  {v['postgres']} · {v['outcome']}"]
    for u in r["upgrades"]:
        state = "passes" if u["step"]["ok"] else f"fails at {u['step']['revision']}: {(u['step']['error'] or '').splitlines()[0][:120]}"
        lines.append(f"  1. upgrade {u['target']} {u['tree']}: {state} ({u['step']['seconds']:.2f} s)")
    dirty = [t for t in r["roundtrips"] if t["left_behind"] or t["destroyed"] or t["changed"] or t["differs"] or (t["downgrade"] and not t["downgrade"]["ok"])]
    lines.append(f"  2. roundtrips: {len(r['roundtrips'])} revisions, {len(dirty)} not clean")
    for t in dirty:
        what = t["left_behind"] + t["changed"] + [f"removed {d}" for d in t["destroyed"]] + t["differs"]
        if t["downgrade"] and not t["downgrade"]["ok"]:
            what.insert(0, f"downgrade fails: {t['downgrade']['error'][:100]}")
        lines.append(f"     {t['revision']}: {'; '.join(what)[:200]}")
    enabled = [t for t in r["rls"] if t["enabled"]]
    checks: dict[str, int] = {}
    for row in r["catalog"]:
        checks[row["check"]] = checks.get(row["check"], 0) + 1
    lines.append(f"  3. catalog: {len(r['rls'])} tables, RLS on {len(enabled)} (forced on {sum(t['forced'] for t in enabled)}); {checks}")
    for row in r["catalog"]:
        if row["check"] == "security-definer":
            lines.append(f"     {row['detail']}")
    iso = r["isolation"]
    if iso:
        lines.append(f"  4. isolation: {len(iso['rows'])} tenant tables; leaks {sorted(iso['leaks'])}; owner reads every tenant: {len(iso['owner_bypass'])}; not seeded {iso['not_seeded']}")
    for note in r["notes"]:
        lines.append(f"  note: {note}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="*", type=Path, default=[DEFAULT])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres-bin")
    args = parser.parse_args()
    for target in args.targets:
        print(f"{target.name}")
        with tempfile.TemporaryDirectory(prefix="dbreview-bench-") as data:
            runs = [run_once(target, Path(data), args.postgres_bin) for _ in range(args.runs)]
        for i, run in enumerate(runs, 1):
            t = run["doc"]["verification"]["result"]["timings"]
            phases = " ".join(f"{k} {v:.2f}" for k, v in t.items() if k != "total")
            mem = run["doc"]["verification"]["result"]["memory_kb"]
            print(f"  run {i}: {run['wall']:.1f} s wall, {run['cpu']:.1f} s CPU, load {run['load']:.1f}; verify {t.get('total', 0):.1f} s ({phases}); "
                  f"server {mem / 1024 if mem else 0:.0f} MB")
        walls = sorted(r["wall"] for r in runs[1:] or runs)
        print(f"  median wall (template runs): {walls[len(walls) // 2]:.1f} s")
        print("\n".join(summary(runs[-1]["doc"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())

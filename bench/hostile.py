"""Benchmark: the long hostile-input run, and what memory the files that threaten it cost.

    python bench/hostile.py [--repos 250] [--files 16] [--kill-cycles 250] [--writers 2] [--before]

1. A corpus of generated hostile repositories (tests/hostile_corpus.py, with the heavy kinds of
   file: memory bombs, megabyte lines, nesting 20,000 deep), every one through `scan` in every
   format, `--explain-layout` and `open` by a hostile name, the app and `export` on the first few
   (over a saved review full of escapes); then kill cycles: writers killed with SIGKILL at random
   moments, every acknowledged action looked for afterwards. Prints tried, crashed, hung, read
   outside, raw escapes, actions lost, and the most the run's process tree held at once.
2. Memory: `dbreview scan` of a repository holding one big file, peak memory of the whole process
   tree (the command, the fork server, the child that parses the file; VmHWM sampled from /proc as
   bench/scan.py does). With --before, the same file parsed in the scanning process itself, as
   dbreview did before files were isolated (needs ~2 GB and a minute).

Not a test: it takes a long while. The CI run of the same code is tests/test_hostile.py.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scan import _descendants, _hwm_kb  # noqa: E402  (the same sampling as the scan benchmark)
from tests.hostile_corpus import HEAD  # noqa: E402

BUDGET_MB = 500
DBREVIEW = str(Path(sys.executable).with_name("dbreview"))


def _big_files() -> dict[str, bytes]:
    migration = ['from alembic import op\nimport sqlalchemy as sa\nrevision = "a1"\ndown_revision = None\n\n\ndef upgrade():\n']
    i = 0
    while sum(map(len, migration)) < 3_000_000:
        migration.append(
            f'    op.create_table(\n        "table_{i}",\n        sa.Column("id", sa.Integer(), nullable=False),\n'
            f'        sa.Column("organization_id", sa.Uuid(), nullable=False),\n'
            f'        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),\n'
            f'        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),\n'
            f'        sa.PrimaryKeyConstraint("id"),\n    )\n'
            f'    op.create_index(op.f("ix_table_{i}_org"), "table_{i}", ["organization_id"], unique=False)\n'
        )
        i += 1
    models = [HEAD]
    i = 0
    while sum(map(len, models)) < 1_000_000:
        models.append(f"\n\nclass Thing{i}(Base):\n    __tablename__ = 'things_{i}'\n    id = Column(Integer, primary_key=True)\n"
                      f"    amount = Column(Float)\n    owner_id = Column(Integer, ForeignKey('owners.id'))\n")
        i += 1
    marker = b"from sqlalchemy import Column\n"
    return {
        "3 MB migration (ordinary code)": "".join(migration).encode(),
        "1 MB of models (ordinary code)": "".join(models).encode(),
        "1 MB of `x = 1` lines": marker + b"x = 1\n" * 170_000,
        "4 MB of `x = 1` lines": marker + b"x = 1\n" * 690_000,
        "3.8 MB list literal": marker + b"X = [" + b"1, " * 1_260_000 + b"]\n",
    }


def _peak(cmd: list[str], env: dict[str, str], every: float = 0.02, **popen) -> tuple[float, float, float, int]:
    """(seconds, MB, MB, exit status) of one command: the most its process tree held at any one
    moment (the proportional set size summed over the tree, sampled every `every` seconds: a page two
    processes share counts half in each), and the sum of each process's own peak as bench/scan.py
    counts it (an upper bound: the peaks come at different moments, and shared pages count in full
    in each)."""
    popen = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": tempfile.gettempdir(), **popen}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, **popen)
    peaks: dict[int, int] = {}
    at_once = 0
    while proc.poll() is None:
        now = 0
        for pid in [proc.pid, *_descendants(proc.pid)]:
            peaks[pid] = max(peaks.get(pid, 0), _hwm_kb(pid))
            now += _pss_kb(pid)
        at_once = max(at_once, now)
        time.sleep(every)
    return time.perf_counter() - t0, at_once / 1024, sum(peaks.values()) / 1024, proc.returncode


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


_IN_PROCESS = "import sys; from analyzers import engine; engine.ISOLATE_MIN_BYTES = 1 << 40; from tui.cli import main; sys.exit(main(sys.argv[1:]))"


def memory(work: Path, before: bool) -> list[tuple[str, str, float, float, float, str]]:
    rows = []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for i, (name, data) in enumerate(_big_files().items()):
        repo = work / "memory" / f"case{i}"
        repo.mkdir(parents=True)
        (repo / "big.py").write_bytes(data)
        report = work / "memory" / f"case{i}.json"
        argv = ["--data-dir", str(work / "memory-data"), "scan", str(repo), "--no-cache", "--format", "json", "-o", str(report)]
        ways = [("isolated", [DBREVIEW, *argv])]
        if before and name.startswith("4 MB"):
            ways.append(("in-process (before)", [sys.executable, "-c", _IN_PROCESS, *argv]))
        for how, cmd in ways:
            seconds, at_once, peaks, _ = _peak(cmd, env)
            rows.append((name, how, seconds, at_once, peaks, _said(report)))
    return rows


def _said(report: Path) -> str:
    """What the scan said of big.py: read, or skipped and why."""
    try:
        errors = json.loads(report.read_text()).get("scan_errors", [])
    except (OSError, ValueError):
        return "no report"
    return next((e["message"] for e in errors if e.get("path") == "big.py"), "read")


def corpus(work: Path, args: argparse.Namespace) -> int:
    """The corpus and the kill cycles, in a process of their own (tests/hostile_corpus.py), its
    process tree measured as the memory part measures one scan: every scan of the corpus runs in
    that process or its children, so the tree's most at once bounds what any one scan took."""
    out, err = work / "corpus.out", work / "corpus.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        seconds, at_once, _, status = _peak(
            [sys.executable, "-m", "tests.hostile_corpus", str(work / "run"), "--heavy", "--repos", str(args.repos),
             "--files", str(args.files), "--apps", str(args.apps), "--kill-cycles", str(args.kill_cycles),
             "--writers", str(args.writers), "--seed", str(args.seed)],
            {**os.environ}, every=0.25, cwd=ROOT, stdout=stdout, stderr=stderr,  # an hour: sample less often
        )
    if status != 0:
        print(f"the corpus run itself died (exit {status}): that is a crash\n{err.read_text()[-2000:]}")
        return 1
    result = json.loads(out.read_text().strip().splitlines()[-1])
    c, k = result["corpus"], result["kill"]
    flag = "" if at_once < BUDGET_MB else "  OVER BUDGET"
    print(f"corpus: {c['repos']} repositories, {c['files']} files (seed {args.seed}), {seconds:.0f} s, "
          f"{at_once:.0f} MB at once at the most (the whole run's process tree){flag}")
    print(f"  commands tried       {c['tried']:>7}   (scan in every format, --explain-layout, open by a hostile name, export; exits {c['exits']})")
    print(f"  app screens checked  {c['screens']:>7}   (the app on {args.apps} seeded reviews: findings, note, search, palette, summary)")
    for key in ("crashed", "hung", "read_outside", "raw_escapes"):
        print(f"  {key.replace('_', ' '):<20} {c[key]:>7}")
    for problem in c["problems"]:
        print(f"    {problem}")
    print(f"kill cycles: {k['cycles']} x {k['writers']} writers killed with SIGKILL at random moments")
    print(f"  actions acknowledged {k['acknowledged']:>7}")
    print(f"  actions lost         {k['lost']:>7}")
    print(f"  refused (busy)       {k['refused']:>7}   (told to the writer, never acknowledged)")
    print(f"  file unusable after  {k['unusable_after']:>7}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", type=int, default=250, help="0: only the memory part")
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--apps", type=int, default=10)
    parser.add_argument("--kill-cycles", type=int, default=250)
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--before", action="store_true", help="also parse the 4 MB file in-process, as before")
    args = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average before: {os.getloadavg()[0]:.2f}\n")
    with tempfile.TemporaryDirectory(prefix="dbreview-hostile-") as tmp:
        work = Path(tmp)
        if args.repos and corpus(work, args) != 0:
            return 1
        print(f"\nmemory: one big file, `dbreview scan --no-cache` (the process tree; budget {BUDGET_MB} MB)")
        print(f"  {'file':<32}{'how':<22}{'s':>7}{'at once':>9}{'peaks':>7}  what the scan said")
        for name, how, seconds, at_once, peaks, said in memory(work, args.before):
            flag = "" if at_once < BUDGET_MB else "  OVER BUDGET"
            print(f"  {name:<32}{how:<22}{seconds:>7.1f}{at_once:>9.0f}{peaks:>7.0f}  {said[:80]}{flag}")
        print("  (at once: memory of the whole tree at its most, shared pages counted once; peaks: each process's own peak, summed)")
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

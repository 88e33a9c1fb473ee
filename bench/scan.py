"""Benchmark: dbreview on a large real backend, against plain `ast.parse` of the same tree.

    /work/venv/bin/python bench/scan.py [--package apache-superset==6.1.0] [--repeat 3]

Downloads (once, cached in ~/.cache/dbreview-bench) a wheel that ships a large backend with its
Alembic migrations, unzips it into a temporary folder and measures, each in a fresh process and
REPEAT times (median reported):

  ast    read + ast.parse of every .py file of the tree (the floor: reading all the Python once)
  cold   dbreview scan with an empty data dir (no cache)
  warm   re-scan with nothing changed (cache in a temporary data dir)
  edit   re-scan after appending a comment to one model file

Peak memory is the dbreview process's ru_maxrss plus the high-water mark (VmHWM) of the helper
processes it starts (forkserver, workers), sampled from /proc by this parent process.

Not a test: it needs the network once and takes a minute. Nothing here is imported by the suite.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

PACKAGES = ("apache-superset==6.1.0", "ethyca-fides")  # the first that downloads is used
CACHE = Path.home() / ".cache" / "dbreview-bench"
TARGETS = {  # name -> (limit, how it is compared)
    "cold": "cold <= 2x ast",
    "warm": "warm < 0.5 s",
    "edit": "one changed file < 0.3 s",
    "memory": "peak memory < 500 MB",
}


# -- the measured work, run in a child process -------------------------------------------------

def _child(kind: str, root: str, data_dir: str) -> None:
    """One measurement; prints one JSON line. Imports are done before the clock starts."""
    if kind == "ast":
        t0 = time.perf_counter()
        files = 0
        for dirpath, _dirs, names in os.walk(root):
            for name in names:
                if name.endswith(".py"):
                    path = os.path.join(dirpath, name)
                    with open(path, "rb") as fh:
                        data = fh.read()
                    try:
                        ast.parse(data, filename=path)
                    except (SyntaxError, ValueError):
                        pass
                    files += 1
        seconds = time.perf_counter() - t0
        extra: dict[str, object] = {"files": files}
    else:
        from analyzers.engine import scan

        t0 = time.perf_counter()
        result = scan(root, cache_dir=Path(data_dir))
        seconds = time.perf_counter() - t0
        extra = {
            "files": result.result.files_scanned,
            "findings": len(result.result.findings),
            "errors": len(result.result.errors),
            "cache_hits": result.cache_hits,
            "parsed": len(result.facts.modules),
            "timings": {k: round(v, 4) for k, v in result.timings.items()},
        }
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "rss_kb": rss_kb, **extra}), flush=True)


# -- the parent: download, unpack, run children, report ----------------------------------------

def _descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        parents[int(entry)] = int(fields[1])
    found, frontier = [], {pid}
    while frontier:
        kids = {p for p, pp in parents.items() if pp in frontier}
        found.extend(kids)
        frontier = kids
    return found


def _hwm_kb(pid: int, field: str = "VmHWM") -> int:
    """A process's peak resident memory in kB (or another /proc status field, such as VmRSS: now)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _run_child(kind: str, root: Path, data_dir: Path) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--child", kind, str(root), str(data_dir)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tempfile.gettempdir())
    helpers: dict[int, int] = {}  # pid -> highest VmHWM seen (kB)
    while proc.poll() is None:
        for pid in _descendants(proc.pid):
            helpers[pid] = max(helpers.get(pid, 0), _hwm_kb(pid))
        time.sleep(0.02)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{kind} measurement failed:\n{err.decode(errors='replace')}")
    data = json.loads(out.decode().strip().splitlines()[-1])
    data["wall"] = wall
    data["helpers_kb"] = sum(helpers.values())
    data["peak_kb"] = data["rss_kb"] + data["helpers_kb"]
    return data


def _wheel(packages: tuple[str, ...]) -> tuple[Path, str]:
    CACHE.mkdir(parents=True, exist_ok=True)
    for spec in packages:
        name = spec.split("==")[0].replace("-", "_").lower()
        version = spec.split("==")[1] if "==" in spec else ""
        cached = sorted(p for p in CACHE.glob("*.whl") if p.name.lower().startswith(f"{name}-{version}"))
        if cached:
            return cached[-1], spec
        with tempfile.TemporaryDirectory() as tmp:
            print(f"downloading {spec} (once; kept in {CACHE}) ...", flush=True)
            done = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", tmp, spec],
                capture_output=True,
                text=True,
            )
            wheels = list(Path(tmp).glob("*.whl"))
            if done.returncode == 0 and wheels:
                target = CACHE / wheels[0].name
                shutil.move(str(wheels[0]), target)
                return target, spec
            print(f"  {spec}: download failed, trying the next one\n  {done.stderr.strip()[-300:]}", flush=True)
    raise SystemExit("no benchmark wheel could be downloaded")


def _model_file(root: Path) -> Path:
    preferred = [root / "superset" / "models" / "core.py"]
    for p in preferred:
        if p.is_file():
            return p
    for p in sorted(root.rglob("*.py")):
        if "versions" not in p.parts and b"__tablename__" in p.read_bytes():
            return p
    raise SystemExit("no model file found in the tree")


def _median(runs: list[dict], key: str = "seconds") -> float:
    return statistics.median(r[key] for r in runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--package", action="append", help="pip requirement of the wheel to scan (default: superset, then fides)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child)
        return 0

    wheel, spec = _wheel(tuple(args.package) if args.package else PACKAGES)
    with tempfile.TemporaryDirectory(prefix="dbreview-bench-") as tmp:
        root = Path(tmp) / "tree"
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(root)
        py = [p for p in root.rglob("*.py")]
        migrations = [p for p in py if p.parent.name == "versions"]
        size = sum(p.stat().st_size for p in py)
        print(f"{wheel.name}: {len(py)} .py files ({size / 1e6:.1f} MB), {len(migrations)} in Alembic versions folders")
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {args.repeat} runs each, median; "
              f"load average before: {os.getloadavg()[0]:.2f}\n")

        runs: dict[str, list[dict]] = {k: [] for k in ("ast", "cold", "warm", "edit")}
        for i in range(args.repeat):
            runs["ast"].append(_run_child("ast", root, Path(tmp) / "unused"))
            cold_dir = Path(tmp) / f"cold-{i}"
            runs["cold"].append(_run_child("cold", root, cold_dir))
        warm_dir = Path(tmp) / "warm"
        _run_child("warm", root, warm_dir)  # fills the cache
        for _ in range(args.repeat):
            runs["warm"].append(_run_child("warm", root, warm_dir))
        model = _model_file(root)
        for i in range(args.repeat):
            with open(model, "a") as fh:
                fh.write(f"\n# dbreview bench edit {i}\n")
            runs["edit"].append(_run_child("edit", root, warm_dir))

        ast_s = _median(runs["ast"])
        files = runs["ast"][0]["files"]
        print(f"{'measurement':<26}{'scan() s':>10}{'files/s':>10}{'process s':>11}{'peak MB':>9}{'x ast':>7}")
        labels = {
            "ast": "ast.parse (read + parse)",
            "cold": "cold scan (no cache)",
            "warm": "warm re-scan",
            "edit": f"1 file changed ({model.name})",
        }
        for kind, label in labels.items():
            s = _median(runs[kind])
            peak = max(r["peak_kb"] for r in runs[kind]) / 1024
            print(f"{label:<26}{s:>10.3f}{files / s:>10.0f}{_median(runs[kind], 'wall'):>11.2f}{peak:>9.0f}{s / ast_s:>7.2f}")
        last = runs["cold"][len(runs["cold"]) // 2]
        print(
            f"\ncold scan: {last['parsed']} of {last['files']} files parsed (the others hold no marker), "
            f"{last['findings']} findings, {last['errors']} scan errors; stages (s): "
            + ", ".join(f"{k} {v:.3f}" for k, v in last["timings"].items())
        )
        print(f"warm scan: {runs['warm'][0]['cache_hits']} of {runs['warm'][0]['files']} files from the cache; "
              f"edit scan: {runs['edit'][0]['cache_hits']} from the cache")
        peak_mb = max(r["peak_kb"] for rs in runs.values() for r in rs) / 1024
        cold_ratio = _median(runs["cold"]) / ast_s
        checks = [
            (TARGETS["cold"], f"{cold_ratio:.2f}x", cold_ratio <= 2.0),
            (TARGETS["warm"], f"{_median(runs['warm']):.3f} s", _median(runs["warm"]) < 0.5),
            (TARGETS["edit"], f"{_median(runs['edit']):.3f} s", _median(runs["edit"]) < 0.3),
            (TARGETS["memory"], f"{peak_mb:.0f} MB", peak_mb < 500),
        ]
        print("\ntargets")
        for name, value, ok in checks:
            print(f"  {name:<28}{value:>10}  {'PASS' if ok else 'MISS'}")
        print("\n(scan() s: the scan call in a fresh process; process s: that process from start to exit, imports included)")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

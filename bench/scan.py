"""Benchmark: dbreview on large real backends, against plain `ast.parse` of the same tree.

    python bench/scan.py --trees [polar onyx fides] [--repeat 5] [--before DIR] [--warm-only | --cold-only]  # issue 13
    python bench/scan.py --cache [--copies 1 2 4 8] [--repeat 5] [--before DIR]   # cache load/save vs tree size
    python bench/scan.py [--package apache-superset==6.1.0] [--repeat 3]

`--trees`: real backends checked out under $DBREVIEW_TARGETS (default /work/targets) at the commits
pinned in bench/tryout.py. Per tree, REPEAT alternating pairs of fresh processes: `ast` (read +
ast.parse of every .py file the scan would list) then `cold` (dbreview scan, no cache), each
measured as the CPU time (user + system) of the whole process tree from the parent's wait4, so the
interpreter's start, the imports and every worker are counted on both sides; the ratio is taken
pair by pair and its median reported (target: at most 1.0x). Then the warm re-scan with nothing
changed: the whole process (`python -c` importing the engine and scanning, not this script), spawn
to exit, wall and CPU time (target: under 0.3 s wall), each run beside a bare start of the same
interpreter in the same environment (its ratio to that, run by run, is what survives the load).

`--cache`: a tree of COPIES copies of the dispatch target, scanned once; then, in fresh processes,
scan_cache.load of its cache file, a full save of it, and the save after one changed file (CPU s),
per copy count (target: linear in the tree).

`--before DIR`: another checkout of dbreview (`git worktree add DIR REV`), measured in the same run,
its processes alternating with this checkout's, so a before/after comparison shares the machine's load.

Without either, the older superset/fides wheel benchmark:

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
        for path in _python_files(root, data_dir):
            with open(path, "rb") as fh:
                data = fh.read()
            try:
                ast.parse(data, filename=path)
            except (SyntaxError, ValueError):
                pass
            files += 1
        seconds = time.perf_counter() - t0
        extra: dict[str, object] = {"files": files}
    elif kind in ("load", "save", "append"):
        seconds, extra = _cache_child(kind, root, data_dir)
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
            "parsed": None if getattr(result, "reused", False) else len(result.facts.modules),
            "timings": {k: round(v, 4) for k, v in result.timings.items()},
        }
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "rss_kb": rss_kb, **extra}), flush=True)


def _python_files(root: str, listing: str) -> list[str]:
    """Every .py file under root; or, given a listing (the files the scan lists, written by the
    parent so that this process imports nothing of dbreview), those."""
    if os.path.isfile(listing):
        with open(listing) as fh:
            return fh.read().splitlines()
    return [os.path.join(d, n) for d, _dirs, names in os.walk(root) for n in names if n.endswith(".py")]


def _cache_child(kind: str, root: str, data_dir: str) -> tuple[float, dict[str, object]]:
    """CPU seconds of one load, or one save of everything loaded (both single-threaded)."""
    from analyzers import scan_cache
    from analyzers.discover import discover

    layout = discover(Path(root))
    include = (layout.settings.prefix, *layout.settings.include)
    path = scan_cache.file_for(Path(data_dir), layout.root)
    t0 = time.process_time()
    entries = scan_cache.load(path, include)
    seconds = time.process_time() - t0
    if kind == "append":  # one file changed since the cache was written: the save a re-scan makes
        changed = dict(entries)
        rel, old = next((p, e) for p, e in changed.items() if e.facts is not None)
        changed[rel] = scan_cache.Entry(old.size, old.mtime_ns + 1, old.digest, old.facts, old.warning, old.racy)
        t0 = time.process_time()
        if hasattr(scan_cache, "Cached"):
            scan_cache.save(path, entries, changed, include)
        else:  # an older dbreview (--before): the whole pickle again
            scan_cache.save(path, changed, include)
        seconds = time.process_time() - t0
    if kind == "save":
        target = path.with_name("copy-" + path.name)
        target.unlink(missing_ok=True)
        t0 = time.process_time()
        if hasattr(scan_cache, "Cached"):
            scan_cache.save(target, scan_cache.Cached(), entries, include)  # no cache before: written whole
        else:  # an older dbreview (--before): one pickle
            scan_cache.save(target, entries, include)
        seconds = time.process_time() - t0
        target.unlink(missing_ok=True)
    return seconds, {"entries": len(entries), "bytes": path.stat().st_size}


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


# The warm re-scan and its anchor run as bare `python -c` processes, not as this script (whose own
# imports would count): `interpreter` starts the same interpreter in the same environment and exits,
# `warm` is that plus `from analyzers.engine import scan` and the scan: what a caller's process pays.
_LEAN = {
    "interpreter": "import resource; print(repr({'seconds': 0.0, 'rss_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))",
    "warm": (
        "import resource, sys, time; from pathlib import Path; t = time.perf_counter(); "
        "from analyzers.engine import scan; s = scan(sys.argv[1], cache_dir=Path(sys.argv[2])); "
        "print(repr({'seconds': time.perf_counter() - t, 'rss_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "
        "'files': s.result.files_scanned, 'findings': len(s.result.findings), 'errors': len(s.result.errors), "
        "'cache_hits': s.cache_hits, 'reused': getattr(s, 'reused', False), "
        "'timings': {k: round(v, 4) for k, v in s.timings.items()}}))"
    ),
}


def _run_child(kind: str, root: Path, data_dir: Path, code: Path | None = None) -> dict:
    """One fresh process, with dbreview imported from `code` (default: this checkout). `wall`: spawn
    to exit; `cpu`: user + system time of it and of every process it started and waited for (its
    workers), from wait4."""
    if kind in _LEAN:
        cmd = [sys.executable, "-c", _LEAN[kind], str(root), str(data_dir)]
    else:
        cmd = [sys.executable, os.path.abspath(__file__), "--child", kind, str(root), str(data_dir)]
    env = dict(os.environ, PYTHONPATH=str(code or HERE))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: imports from bytecode (see _compiled)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=tempfile.gettempdir(), env=env)
        helpers: dict[int, int] = {}  # pid -> highest VmHWM seen (kB)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            for child in _descendants(proc.pid):
                helpers[child] = max(helpers.get(child, 0), _hwm_kb(child))
            time.sleep(0.005)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{kind} measurement failed:\n{err.read().decode(errors='replace')}")
        last = out.read().decode().strip().splitlines()[-1]
        data = ast.literal_eval(last) if kind in _LEAN else json.loads(last)
    data["wall"] = wall
    data["cpu"] = usage.ru_utime + usage.ru_stime
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


HERE = Path(__file__).resolve().parents[1]  # the dbreview checkout measured
TREES = ("polar", "onyx", "fides")  # the large real targets of issue 13
TREE_TARGETS = {"cold": 1.0, "warm": 0.3}  # cold: CPU x ast at most; warm: whole process, seconds, under


def _compiled(codes: list[Path]) -> None:
    """Bytecode for dbreview's own modules, as `pip install` leaves it: without it (a checkout run
    with PYTHONDONTWRITEBYTECODE=1) every scan process compiles the analyzers again, 0.1-0.3 s of CPU
    that no user pays."""
    import compileall

    for code in codes:
        compileall.compile_dir(str(code / "analyzers"), quiet=1)


def _targets_dir() -> Path:
    return Path(os.environ.get("DBREVIEW_TARGETS", "/work/targets"))


def _trees(names: list[str], repeat: int, before: Path | None, warm_only: bool = False, cold_only: bool = False) -> None:
    """Cold CPU against ast.parse, pair by pair, and the warm re-scan, on real trees; with `before`,
    that checkout's cold and warm scans alternate with this one's, each beside the same ast run."""
    sys.path.insert(0, str(HERE))
    from bench.tryout import checkout_problem
    from analyzers.discover import discover

    sys.stdout.reconfigure(line_buffering=True)  # a run takes many minutes: each tree's lines as they come
    codes = {"now": HERE, **({"before": before} if before else {})}
    _compiled(list(codes.values()))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {repeat} alternating runs per tree, medians; "
          f"load average before: {os.getloadavg()[0]:.2f}")
    print("cold: CPU s of the whole process tree (x ast: median of the per-run ratios); warm: spawn to exit, wall s, and CPU s;\n"
          "python: the same interpreter started and stopped (nothing imported), alternating with the warm runs; x py: warm wall\n"
          "over it, median of the per-run ratios\n")
    print(f"{'tree':8}{'code':>7}{'files':>7}{'ast cpu':>9}{'cold cpu':>10}{'x ast':>7}  {'(per run)':<34}{'warm s':>8}"
          f"{'warm cpu':>9}{'python':>9}{'py cpu':>9}{'x py':>8}")
    rows = []
    for name in names:
        problem = checkout_problem(name, _targets_dir())
        if problem:
            print(f"{name:8} skipped: {problem}")
            continue
        root = _targets_dir() / name
        layout = discover(root)
        with tempfile.TemporaryDirectory(prefix="dbreview-bench-") as tmp:
            listing = Path(tmp) / "files.txt"
            listing.write_text("\n".join(str(layout.root / c.path) for c in layout.python) + "\n")
            asts, anchors, cold, warm = [], [], {k: [] for k in codes}, {k: [] for k in codes}
            for i in range(0 if warm_only else repeat):
                asts.append(_run_child("ast", root, listing)["cpu"])
                for label, code in codes.items():
                    cold[label].append(_run_child("cold", root, Path(tmp) / f"cold-{label}-{i}", code))
            for label, code in {} if cold_only else codes.items():
                _run_child("warm", root, Path(tmp) / f"warm-{label}", code)  # fills the cache
            for _ in range(0 if cold_only else repeat):
                anchors.append(_run_child("interpreter", root, Path(tmp)))
                for label, code in codes.items():
                    warm[label].append(_run_child("warm", root, Path(tmp) / f"warm-{label}", code))
        for label in codes:
            ratios = [c["cpu"] / a for a, c in zip(asts, cold[label])]
            ratio = statistics.median(ratios) if ratios else float("nan")
            warm_s = _median(warm[label], "wall") if warm[label] else float("nan")
            over = [w["wall"] / a["wall"] for a, w in zip(anchors, warm[label])]
            rows.append((name, label, ratio, warm_s))
            cold_cols = (f"{statistics.median(asts):>9.2f}{_median(cold[label], 'cpu'):>10.2f}{ratio:>7.2f}  "
                         f"{' '.join(f'{r:.2f}' for r in ratios):<34}") if ratios else f"{'(cold not run)':>26}  {'':<34}"
            warm_cols = (f"{warm_s:>8.3f}{_median(warm[label], 'cpu'):>9.3f}{_median(anchors, 'wall'):>9.3f}"
                         f"{_median(anchors, 'cpu'):>9.3f}{statistics.median(over):>8.2f}") if warm[label] else "  (warm not run)"
            print(f"{name:8}{label:>7}{len(layout.python):>7}{cold_cols}{warm_cols}")
            if ratios:
                mid = cold[label][len(cold[label]) // 2]
                print(f"{'':15}cold stages (s): " + ", ".join(f"{k} {v:.3f}" for k, v in mid["timings"].items())
                      + f"; {mid['parsed']} parsed, {mid['findings']} findings; peak RSS of the scanning process "
                      f"{_median(cold[label], 'rss_kb') / 1024:.0f} MB (median), its workers' {_median(cold[label], 'helpers_kb') / 1024:.0f} MB")
            if not warm[label]:
                continue
            w = warm[label][len(warm[label]) // 2]
            print(f"{'':15}warm: {'the last result reused' if w['reused'] else 'linked and ruled again'}, "
                  f"{w['cache_hits']} files from the cache, {w['findings']} findings; scan() stages (s): "
                  + ", ".join(f"{k} {v:.3f}" for k, v in w["timings"].items()))
    print("\ntargets (this checkout)")
    for name, label, ratio, warm_s in rows:
        if label != "now":
            continue
        cold_ok, warm_ok = ratio <= TREE_TARGETS["cold"], warm_s < TREE_TARGETS["warm"]
        cold_said = f"{ratio:.2f}x {'PASS' if cold_ok else 'MISS'}" if ratio == ratio else "not run"
        warm_said = f"{warm_s:.3f} s {'PASS' if warm_ok else 'MISS'}" if warm_s == warm_s else "not run"
        print(f"  {name:8} cold CPU <= {TREE_TARGETS['cold']}x ast: {cold_said};  warm < {TREE_TARGETS['warm']} s: {warm_said}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def _cache(copies: list[int], repeat: int, before: Path | None) -> None:
    """Cache load and save against the size of the tree: COPIES copies of dispatch, each code's own
    cache file, runs alternating."""
    source = _targets_dir() / "dispatch"
    if not source.is_dir():
        raise SystemExit(f"{source}: not checked out (see bench/tryout.py)")
    codes = {"now": HERE, **({"before": before} if before else {})}
    _compiled(list(codes.values()))
    print(f"load average before: {os.getloadavg()[0]:.2f}; medians of {repeat} alternating runs; fresh processes\n")
    print(f"{'copies':>6}{'code':>7}{'entries':>8}{'KB':>7}{'load s':>8}{'save s':>8}{'load us/entry':>14}{'save us/entry':>14}{'1 changed':>10}")
    with tempfile.TemporaryDirectory(prefix="dbreview-bench-") as tmp:
        for n in copies:
            root = Path(tmp) / f"tree-{n}"
            for i in range(n):
                shutil.copytree(source, root / f"copy{i}", ignore=shutil.ignore_patterns(".git", "node_modules", "*.js", "*.vue"))
            runs: dict[str, dict[str, list[dict]]] = {k: {"load": [], "save": [], "append": []} for k in codes}
            for label, code in codes.items():
                _run_child("warm", root, Path(tmp) / f"cache-{n}-{label}", code)
            for _ in range(repeat):
                for kind in ("load", "save", "append"):
                    for label, code in codes.items():
                        runs[label][kind].append(_run_child(kind, root, Path(tmp) / f"cache-{n}-{label}", code))
            for label in codes:
                load, save = runs[label]["load"], runs[label]["save"]
                entries = load[0]["entries"]
                lo, sv, ap = _median(load), _median(save), _median(runs[label]["append"])
                print(f"{n:>6}{label:>7}{entries:>8}{load[0]['bytes'] // 1024:>7}{lo:>8.3f}{sv:>8.3f}"
                      f"{lo / entries * 1e6:>14.1f}{sv / entries * 1e6:>14.1f}{ap:>10.3f}")
            shutil.rmtree(root)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--package", action="append", help="pip requirement of the wheel to scan (default: superset, then fides)")
    parser.add_argument("--trees", nargs="*", help=f"real trees under $DBREVIEW_TARGETS (default: {' '.join(TREES)})")
    parser.add_argument("--warm-only", action="store_true",
                        help="with --trees: only the warm re-scans (and the one cold scan each needs)")
    parser.add_argument("--cold-only", action="store_true", help="with --trees: only the cold scans against ast.parse")
    parser.add_argument("--cache", action="store_true", help="cache load/save against copies of dispatch")
    parser.add_argument("--copies", nargs="*", type=int, default=[1, 2, 4, 8])
    parser.add_argument("--before", type=Path, help="another dbreview checkout (git worktree add DIR REV) measured alternately")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child)
        return 0
    if args.trees is not None:
        _trees(args.trees or list(TREES), args.repeat, args.before, args.warm_only, args.cold_only)
        return 0
    if args.cache:
        _cache(args.copies, args.repeat, args.before)
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

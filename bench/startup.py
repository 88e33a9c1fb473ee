"""Benchmark: start to a usable screen, and key presses, on a saved review of 2,000 findings and on a
real target's saved review (issue 13).

    python bench/startup.py [--findings 2000] [--repeat 5] [--size 80x24] [--real onyx]

Builds, in a temporary folder, a synthetic repository (model modules of a few hundred lines) and a
saved review of FINDINGS findings spread over every item of the database checklist, with real rule
ids where a rule serves the item, and a reviewer's work on it through ReviewStore: confirmed,
downgraded and dismissed findings, notes, item verdicts, answers and a saved cursor. With --real, the
saved review of that target of bench/tryout.py (at its pinned commit under $DBREVIEW_TARGETS, else
/work/targets) as the app saves it when the target is first opened, the cursor on its middle
finding. Then, REPEAT times, each in a fresh `python -c` process, alternating:

  floor   a minimal Textual app (one Static), spawn to its first frame: the anchor. It runs right
          before each start below, and the ratio is taken run by run, then its median: the machine
          (2 shared cores) is noisy, and a ratio of neighbours is what its load changes least.
  cold    ReviewApp(repo, data_dir, reviewer, scan=False), spawn to the first frame drawn with the
          tree populated and the saved cursor's finding shown (`ready`); `in process` and `import`
          from the child's first line; `first key`: `j` posted right after that frame, to the frame
          that shows the cursor moved (the store and the rules' documentation still loading behind);
          `store`: when the store is open and in place.
  keys    one pilot session on the synthetic review, once the loading is done: j pressed 200 times,
          then n and c on 50 findings (auto-advance on, as by default); each key's latency is the
          time from pilot.press to after pilot.pause() (the key handled, the layout refreshed, the
          screen's changed lines rendered); after n, until the cursor has landed on the next finding.
          Pilot's idle detection sleeps 20 ms at a time; the child sets it to 1 ms, and `z`, a key
          bound to nothing, shows what is left of the harness. `to its frame`: from pilot.press to
          the first frame drawn with the cursor moved and the detail pane's content replaced (what
          the reviewer sees; work done right after that frame, such as c's write, is not in it).
          Each key is pressed once the app is idle after the previous key's frame (since speed23:
          before, work done right after a frame could land in the next key's time).

Targets (issue 13): usable screen at most 2.5x the minimal app; p95 of n and c under 33 ms, of j
under 16 ms. Not a test: nothing here is imported by the suite.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

REVIEWER = "bench"
TARGETS = {"ratio": 2.5, "j": 0.016, "n": 0.033, "c": 0.033}  # issue 13: start <= 2.5x a minimal app; keys p95, s
MODULES = 40  # synthetic model modules
HEAVY = ("sqlalchemy", "alembic", "pygments", "libcst", "pglast", "markdown_it")  # not needed by the first screen
LINES = 300  # lines per module

# -- the measured work: code run by a fresh interpreter (`python -c`) -------------------------------

# "Usable": the first frame drawn (Screen._compositor_refresh, wrapped here: Textual has no public
# hook for it) with the tree populated and the saved cursor's finding shown. Timed without Pilot's
# idle wait: the app loads the store and the rules' documentation in a worker thread after its first
# screen, and a busy process is never "idle". Then `j`, posted as the terminal would, timed to the
# frame that shows the cursor moved: keys act while the loading goes on. `store` is when the store is
# open and in place (writes no longer wait for it).
FRAMES = r"""
import asyncio, time
from textual.screen import Screen

def frames(usable):
    # An event set by the first frame drawn once usable() holds; `when`: the time of that frame, and the
    # CPU time the process had used by then (all threads: steadier than wall time on a loaded machine).
    drawn, when = asyncio.Event(), []
    original = Screen._compositor_refresh

    def refresh(screen):
        original(screen)
        if not drawn.is_set() and usable():
            when.extend((time.perf_counter(), time.process_time()))
            drawn.set()

    Screen._compositor_refresh = refresh
    return drawn, when
"""

# What is shown and timed once the app is running, for COLD and CLI: `app` is the running ReviewApp,
# `t_import` when the app was handed over (COLD: tui.app imported; CLI: App.run called), `leave()` ends
# the child. `heavy`: which of the modules the first screen should not need were loaded by then.
READY = r"""
HEAVY = HEAVY_NAMES

def usable():
    from tui.widgets.checklist_tree import ChecklistTree  # here: the CLI imports the app itself
    from tui.widgets.source_view import SourceView

    tree, source = app.screen.query(ChecklistTree), app.screen.query(SourceView)
    shown = bool(tree) and tree.first().current is not None and bool(source) and source.first().path is not None
    if shown and not heavy:  # right after that frame was drawn
        heavy.append([m for m in HEAVY if m in sys.modules])
    return shown

heavy = []
drawn, when = frames(usable)

async def ready(pilot):
    await drawn.wait()
    t_ready = when[0]
    from tui.widgets.checklist_tree import ChecklistTree

    tree = app.query_one(ChecklistTree)
    print(json.dumps({"import": t_import - t0, "in_process": t_ready - t0, "cpu": when[1], "nodes": len(tree.by_id),
                      "cursor": tree.current.id, "heavy": heavy[0]}), flush=True)
    line = tree.cursor_line
    t = time.perf_counter()
    moved, when_moved = frames(lambda: tree.cursor_line != line)
    app.simulate_key("j")
    await moved.wait()
    t_key = when_moved[0] - t
    while app.main._loader is not None:  # None once the store is in place (presence comes before it)
        await asyncio.sleep(0.0005)
    print(json.dumps({"first_key": t_key, "store": time.perf_counter() - t0}), flush=True)
    leave()
""".replace("HEAVY_NAMES", repr(HEAVY))

COLD = r"""
import time
t0 = time.perf_counter()
import asyncio, json, sys
from pathlib import Path
from tui.app import ReviewApp
t_import = time.perf_counter()
""" + FRAMES + r"""
repo, data_dir, reviewer, width, height = sys.argv[1:6]
app = ReviewApp(Path(repo), Path(data_dir), reviewer, scan=False)
leave = app.exit
""" + READY + r"""
app.run(headless=True, size=(int(width), int(height)), auto_pilot=ready)
"""

# The same through the command a reviewer types, `dbreview open REPO` (tui.cli.main): what it checks
# before the app starts counts. The app's re-scan is left off, as in COLD (it starts behind the
# first screen, once the store is open, and would change the saved review between runs).
CLI = r"""
import time
t0 = time.perf_counter()
import asyncio, json, os, sys
""" + FRAMES + r"""
from textual.app import App
repo, data_dir, reviewer, width, height = sys.argv[1:6]
start = App.run

def leave():
    os._exit(0)  # at once: nothing after the store's opening is measured

def run(self, **_):
    global app, t_import
    app, t_import = self, time.perf_counter()
    self.scan_on_start = False
    return start(self, headless=True, size=(int(width), int(height)), auto_pilot=ready)

App.run = run
""" + READY + r"""
from tui import cli
cli.main(["--data-dir", data_dir, "--reviewer", reviewer, "open", repo])
"""

FLOOR = r"""
import time
t0 = time.perf_counter()
import asyncio, json, sys
from textual.app import App
from textual.widgets import Static
t_import = time.perf_counter()
""" + FRAMES + r"""

class Floor(App):
    def compose(self):
        yield Static("hello")

app = Floor()
drawn, when = frames(lambda: bool(app.screen.query(Static)))

async def ready(pilot):
    await drawn.wait()
    print(json.dumps({"import": t_import - t0, "in_process": when[0] - t0, "cpu": when[1]}), flush=True)
    app.exit()

app.run(headless=True, size=(int(sys.argv[4]), int(sys.argv[5])), auto_pilot=ready)
"""

KEYS = r"""
import asyncio, json, sys, time
from pathlib import Path
import textual._wait
# Pilot waits for the app to go idle by sleeping 20 ms at a time, at least twice a key: a floor of
# ~60 ms that is the harness, not the app. Sleep 1 ms at a time instead; the `z` key (bound to
# nothing) measures what is left of the harness.
textual._wait.SLEEP_GRANULARITY, textual._wait.SLEEP_IDLE = 0.001, 0.0005
from textual.css.query import NoMatches
from textual.screen import Screen
from tui.app import ReviewApp
from tui.session.state import Disposition
from tui.widgets.checklist_tree import ChecklistTree

repo, data_dir, reviewer, width, height = sys.argv[1:6]
J_PRESSES, N_AND_C = 200, 50

# The frame that shows a key's effect: the first one drawn after the press in which the tree's cursor
# has moved and the detail pane holds new content. Work the app does after that frame (a write the
# store makes right after it) delays the next key, not what the reviewer sees.
probe = []  # [is it shown?, time of the press, where to put the latency]
original = Screen._compositor_refresh

def refresh(screen):
    original(screen)
    if probe and probe[0]():
        probe[2].append(time.perf_counter() - probe[1])
        probe.clear()

Screen._compositor_refresh = refresh

def detail_content(app):
    detail = app.main.detail
    try:
        return detail.query_one("#detail-body").content  # a Static in the pane (before the pane drew itself)
    except NoMatches:
        return detail.content

async def main():
    app = ReviewApp(Path(repo), Path(data_dir), reviewer, scan=False)
    latency = {"z": [], "j": [], "n": [], "c": []}
    frame = {"j": [], "n": [], "c": []}
    async with app.run_test(size=(int(width), int(height))) as pilot:
        tree = app.query_one(ChecklistTree)
        await pilot.pause()
        while tree.current is None:
            await pilot.pause()
        await app.workers.wait_for_complete()  # the store and the rules loaded: keys in steady state
        await pilot.pause()

        async def press(key, landed=lambda: True):
            line, content = tree.cursor_line, detail_content(app)
            t = time.perf_counter()
            if key in frame:
                probe[:] = [lambda: tree.cursor_line != line and detail_content(app) is not content, t, frame[key]]
            await pilot.press(key)
            await pilot.pause()
            while not landed():  # select_id moves the cursor after the next refresh
                await pilot.pause()
            latency[key].append(time.perf_counter() - t)
            if tree.cursor_line == line:
                probe.clear()  # nothing moved (j at the end of the tree): no frame will show a move
            while probe and time.perf_counter() - t < 2:  # the frame may come after Pilot saw the app idle
                await asyncio.sleep(0.0005)
            probe.clear()
            # What the app does right after that frame (c's write, the next finding made ahead) is done
            # before the next key, as it is before a reviewer's next key: it is not charged to that key.
            await pilot.pause()

        for _ in range(J_PRESSES // 4):
            await press("z")
        for _ in range(J_PRESSES):
            await press("j")
        for _ in range(N_AND_C):
            before = tree.current.key
            await press("n", lambda: tree.current.kind == "finding" and tree.current.key != before)
            fp = tree.current.key
            await press("c")
            assert app.review.findings[fp].disposition == Disposition.CONFIRMED, "c confirmed the finding under the cursor"
        await pilot.press("q")
    print(json.dumps(latency | {f"{key} frame": values for key, values in frame.items()}), flush=True)

asyncio.run(main())
"""

# -- building the saved review ---------------------------------------------------------------------


def build(base: Path, count: int) -> tuple[Path, Path]:
    """A synthetic repository and a data dir holding its saved review; returns (repo, data_dir)."""
    from analyzers.checklist import load_checklist
    from analyzers.findings import Finding, Location, ScanResult, Severity, with_identity
    from analyzers.rules import all_rules
    from tui.paths import session_db
    from tui.review import Review
    from tui.session import ReviewStore
    from tui.session.state import DISMISS_REASONS, Disposition, Verdict

    repo, data_dir = base / "repo", base / "data"
    models = repo / "app" / "models"
    models.mkdir(parents=True)
    data_dir.mkdir()
    sources = {}
    for m in range(MODULES):
        lines = ['"""Synthetic models for the start-up benchmark."""', "", "from sqlalchemy import DateTime, Float, String",
                 "from sqlalchemy.orm import Mapped, mapped_column", "", "from .base import Base", ""]
        table = 0
        while len(lines) < LINES:
            lines += ["", f"class Model{m}x{table}(Base):", f'    __tablename__ = "table_{m}_{table}"', ""]
            lines += [f"    column_{c}: Mapped[str] = mapped_column(String({16 * (c + 1)}))" for c in range(12)]
            table += 1
        path = f"app/models/module_{m:02d}.py"
        (repo / path).write_text("\n".join(lines) + "\n", encoding="utf-8")
        sources[path] = lines

    checklist = load_checklist("database")
    rules_of: dict[str, list[str]] = {}
    for rule in all_rules():
        rules_of.setdefault(rule.ITEM, []).append(rule.ID)
    severities = (Severity.CRITICAL, Severity.WARNING, Severity.WARNING, Severity.INFO)
    findings = []
    for i in range(count):
        item = checklist.items[i % len(checklist.items)]
        served = rules_of.get(item.id)
        rule_id = served[i % len(served)] if served else f"SYN{i % len(checklist.items):03d}"
        path = f"app/models/module_{i % MODULES:02d}.py"
        line = 8 + (i * 7) % (LINES - 10)
        span = 1 + i % 3
        findings.append(Finding(
            rule_id=rule_id, item_id=item.id, severity=severities[i % len(severities)],
            message=f"synthetic finding {i}: {sources[path][line - 1].strip()[:60]} is worth a look",
            location=Location(path, line, line + span - 1), anchor=f"synthetic:{i}",
            evidence=tuple(sources[path][line - 1:line - 1 + span]),
        ))
    result = ScanResult(root=str(repo), findings=with_identity(findings), files_scanned=MODULES)

    store = ReviewStore.open(session_db(data_dir))
    review = Review.open(store, repo, REVIEWER, checklist)
    review.apply_scan(result)
    review.reload()
    fps = sorted(review.findings)
    review.bulk(fps[0:300], Disposition.CONFIRMED, note="confirmed in the first pass")
    for n, reason in enumerate(DISMISS_REASONS):
        review.bulk(fps[300 + 60 * n:360 + 60 * n], Disposition.DISMISSED, reason=reason, note=f"dismissed: {reason}")
    for fp in [fp for fp in fps[480:] if review.findings[fp].severity != Severity.INFO][:100]:
        review.downgrade(fp, note="lower risk here")
    for fp in fps[::10]:
        review.annotate(fp, "a note the reviewer wrote on this finding")
    for n, item in enumerate(checklist.items[:40]):
        review.set_verdict(item.id, (Verdict.PASS, Verdict.WARNING, Verdict.FAIL, Verdict.NA)[n % 4], "notes on the item")
    for question in checklist.questions[:10]:
        review.set_answer(question.id, "Answered from the code and the context documents.")
    review.save_cursor(f"finding:{fps[count // 2]}")
    store.close()
    return repo, data_dir


# -- running and reporting -----------------------------------------------------------------------------


def fresh_copy(data_dir: Path) -> Path:
    """The saved review as built, in a folder of its own: a start saves where its first key moved the
    cursor, and the next start would open there (on a fold, say, which shows no code)."""
    copy = data_dir.with_name(f"{data_dir.name}-run")
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(data_dir, copy)
    return copy


def child(code: str, repo: Path, data_dir: Path, size: tuple[int, int], tree: Path = ROOT) -> tuple[dict, float, float]:
    """Run `code` in a fresh interpreter on the app of `tree`; its JSON lines (merged), the seconds
    from spawn to the first line, and from spawn to exit."""
    env = {**os.environ, "TERM": "xterm-256color", "PYTHONPATH": str(tree)}
    env.pop("DBREVIEW_THEME", None)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(repo), str(data_dir), REVIEWER, str(size[0]), str(size[1])],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tree, env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    t_line = time.perf_counter() - t0
    rest, err = proc.communicate(timeout=600)
    t_exit = time.perf_counter() - t0
    if proc.returncode != 0 or not line.strip():
        raise SystemExit(f"the benchmark child failed ({proc.returncode}):\n{err}")
    figures = json.loads(line)
    for more in rest.splitlines():
        figures |= json.loads(more)
    return figures, t_line, t_exit


KEY_LABELS = {"z": "z (bound to nothing)", "j": "j (cursor down)", "n": "n (next untriaged)", "c": "c (confirm)",
              "j frame": "j, to its frame", "n frame": "n, to its frame", "c frame": "c, to its frame"}


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def verdict(seconds: float, target: float) -> str:
    return f"{'PASS' if seconds < target else 'MISS'} (target < {ms(target).strip()})"


def unpack(rev: str, into: Path) -> Path:
    """The app (tui, analyzers) of an older commit, to time beside this tree."""
    data = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "tui", "analyzers"], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


def real(base: Path, name: str) -> tuple[Path, Path] | None:
    """The saved review of a real target (checked out at bench/tryout.py's pinned commit) as the app
    makes it when it is opened (a scan matched into a new review), with the saved cursor put on its
    middle finding."""
    from analyzers.checklist import load_checklist
    from analyzers.engine import scan
    from bench.tryout import checkout_problem
    from tui.paths import session_db
    from tui.review import Review
    from tui.session import ReviewStore

    targets = Path(os.environ.get("DBREVIEW_TARGETS", "/work/targets"))
    problem = checkout_problem(name, targets)
    if problem:
        print(f"{name}: {problem}: its start-up is not measured")
        return None
    repo, data_dir = targets / name, base / name
    store = ReviewStore.open(session_db(data_dir))
    review = Review.open(store, repo, REVIEWER, load_checklist("database"))
    review.apply_scan(scan(repo).result)
    review.reload()
    fps = sorted(review.findings)
    review.save_cursor(f"finding:{fps[len(fps) // 2]}")
    store.close()
    return repo, data_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--findings", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--size", default="80x24", help="terminal COLSxROWS (default: 80x24)")
    parser.add_argument("--real", default="onyx", help="a real target of bench/tryout.py to open too ('' for none)")
    parser.add_argument("--before", metavar="REV", help="also time the app of this commit, run by run beside this tree's")
    args = parser.parse_args()
    size = tuple(int(x) for x in args.size.split("x"))

    with tempfile.TemporaryDirectory(prefix="dbreview-bench-") as tmp:
        t = time.perf_counter()
        repo, data_dir = build(Path(tmp), args.findings)
        print(f"built a saved review of {args.findings} findings in {time.perf_counter() - t:.1f} s "
              f"({(data_dir / 'reviews.sqlite3').stat().st_size / 1e6:.1f} MB); terminal {args.size}; "
              f"{args.repeat} runs, medians reported; Python {sys.version.split()[0]} on {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.2f}")
        reviews = {"synthetic": (repo, data_dir)}
        if args.real:
            made = real(Path(tmp), args.real)
            if made:
                reviews[args.real] = made
                print(f"{args.real}: a saved review of {count_findings(made[1])} findings, as the app saves it on opening")
        trees = {"": ROOT}
        if args.before:
            trees[f"before {args.before}: "] = unpack(args.before, Path(tmp) / "before")
        for tree in trees.values():  # compiled once, so that no run pays for it
            subprocess.run([sys.executable, "-c", "import tui.app"], cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)}, check=True)
        print()

        runs: dict[str, list[float]] = defaultdict(list)
        keys_all: dict[str, list[float]] = defaultdict(list)
        heavy: dict[str, set[str]] = defaultdict(set)  # modules the first screen should not need, loaded before it
        for run in range(args.repeat):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], check=True)
            runs["python"].append(time.perf_counter() - t)
            said = []
            for review, (review_repo, review_data) in reviews.items():
                for name, code in ((review, COLD), (f"{review}, dbreview open", CLI)):
                    for label, tree in trees.items():
                        anchor, floor, _ = child(FLOOR, review_repo, review_data, size)  # the anchor, beside each start
                        data = fresh_copy(review_data)  # each start from the same saved cursor (its j moves it)
                        cold, ready, process = child(code, review_repo, data, size, tree)
                        for what, value in (("floor", floor), ("ready", ready), ("ratio", ready / floor), ("process", process),
                                            ("floor_cpu", anchor["cpu"]), ("cpu", cold["cpu"]), ("cpu_ratio", cold["cpu"] / anchor["cpu"]),
                                            ("in_process", cold["in_process"]), ("import", cold["import"]),
                                            ("first_key", cold["first_key"]), ("store", cold["store"])):
                            runs[f"{label}{name} {what}"].append(value)
                        heavy[f"{label}{name}"].update(cold.get("heavy", ()))
                        said.append(f"{label}{name} {ms(ready).strip()} ({ready / floor:.2f}x, CPU {cold['cpu'] / anchor['cpu']:.2f}x)")
            for label, tree in trees.items():
                keys, _, _ = child(KEYS, repo, fresh_copy(data_dir), size, tree)  # it confirms 50 findings
                for key, values in keys.items():
                    keys_all[f"{label}{key}"] += values
                said.append(f"{label}keys p95 j {ms(quantile(keys['j'], 0.95)).strip()}, n {ms(quantile(keys['n'], 0.95)).strip()}, "
                            f"c {ms(quantile(keys['c'], 0.95)).strip()}")
            print(f"run {run + 1}: " + "; ".join(said))

        med = {name: statistics.median(values) for name, values in runs.items()}
        print(f"\nstart to a usable screen (medians of {args.repeat} runs; bare interpreter {ms(med['python']).strip()})")
        for name in [n for review in reviews for n in (review, f"{review}, dbreview open")]:
            for label in trees:
                m = {what: med[f"{label}{name} {what}"] for what in ("floor", "ready", "ratio", "process", "in_process", "import",
                                                                      "first_key", "store", "floor_cpu", "cpu", "cpu_ratio")}
                print(f"  {label}{name}:")
                print(f"    minimal Textual app, spawn to first frame      {ms(m['floor'])}")
                print(f"    dbreview, spawn to first usable frame          {ms(m['ready'])}")
                print(f"    ratio, run by run                              {m['ratio']:7.2f} x   "
                      f"{'PASS' if m['ratio'] <= TARGETS['ratio'] else 'MISS'} (target <= {TARGETS['ratio']} x)")
                print(f"    CPU to that frame, minimal app / dbreview      {ms(m['floor_cpu'])} / {ms(m['cpu']).strip()}, "
                      f"ratio run by run {m['cpu_ratio']:.2f} x")
                print(f"    in process: first line to usable              {ms(m['in_process'])}   of which to the app's start {ms(m['import'])}")
                print(f"    loaded before the first frame, of {', '.join(HEAVY)}: {', '.join(sorted(heavy[f'{label}{name}'])) or 'none'}")
                print(f"    first key (j) after it, to its frame           {ms(m['first_key'])}   (the store and rules still loading)")
                print(f"    store open and in place, from the first line   {ms(m['store'])}")
                print(f"    spawn to exit                                  {ms(m['process'])}")
        for label in trees:
            print(f"\n{label}key press to repainted screen, synthetic review (all presses of all runs)")
            for key, text in KEY_LABELS.items():
                values = keys_all[f"{label}{key}"]
                if not values:
                    continue
                p95 = quantile(values, 0.95)
                line = f"  {text:<24} n={len(values):<4} median {ms(statistics.median(values))}  p95 {ms(p95)}  max {ms(max(values))}"
                print(line + ("   (the harness: no app work)" if key == "z" else f"   {verdict(p95, TARGETS[key[0]])} at p95"))


def count_findings(data_dir: Path) -> int:
    import sqlite3

    with sqlite3.connect(data_dir / "reviews.sqlite3") as con:
        return con.execute("SELECT count(*) FROM findings").fetchone()[0]


if __name__ == "__main__":
    main()

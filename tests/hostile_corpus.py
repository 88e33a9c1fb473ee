"""Generated hostile repositories, and runs of dbreview over them that count what went wrong.

Used by tests/test_hostile.py (a small corpus, in CI) and bench/hostile.py (thousands of files,
hundreds of kill cycles). Every repository is malformed in its own mix of ways: binary and NUL
bytes, wrong and unknown encodings, syntax errors, nesting thousands deep, megabyte lines, memory
bombs, broken migrations and SQL, escape sequences in code, file names, folder names, docs and
alembic.ini; symbolic links out of it (to canaries planted outside, to /etc/passwd and to
/proc/self/environ), link loops, FIFOs, sockets and devices.

A run counts, over every command it tries: crashed (exit 3, a traceback, a signal), hung (over the
time limit), read outside (an `open`/`scandir` of a canary, seen by an audit hook, or a canary in
any output), raw escapes (a control, bidirectional or zero-width character in any output or on the
app's screen). Kill cycles count acknowledged actions and those lost.

Run a corpus in its own process (`python -m tests.hostile_corpus ...`): the audit hook stays.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

CANARY = "CANARY-5b1e0f"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")
PAYLOADS = (
    "\x1b]52;c;Y2FuYXJ5\x07",  # OSC 52: write the clipboard
    "\x1b]0;owned\x07",  # OSC 0: the window title
    "\x1b[2J\x1b[H",  # clear the screen
    "\x9b31m",  # C1 CSI
    "\u202eevil\u202c",  # right-to-left override
    "zero\u200bwidth\ufeff",
    "[bold red]markup[/]",
    "d[x/m=alert(1)>",
)
NAMES = (
    "\x1b[2J.py", "d[x.py", "m=alert(1)>.py", "new\nline.py", "\u202egnp.py", "zero\u200bwidth.py", "café.py",
    "x" * 200 + ".py", " space .py", "--help.py", "-rf.py", "[bold]x[/bold].py", "tab\tname.py", "\x07bell.py",
)
FORMATS = ("markdown", "html", "sarif", "json", "github", "gitlab")
HEAD = "from sqlalchemy import Column, Float, ForeignKey, Integer, String, text\nfrom sqlalchemy.orm import declarative_base\n\nBase = declarative_base()\n"


@dataclass
class Corpus:
    root: Path
    outside: Path  # the canaries
    repos: list[Path] = field(default_factory=list)
    files: int = 0


@dataclass
class Figures:
    repos: int = 0
    files: int = 0
    tried: int = 0  # commands run
    crashed: int = 0
    hung: int = 0
    read_outside: int = 0
    raw_escapes: int = 0
    exits: dict[str, int] = field(default_factory=dict)
    screens: int = 0  # app screens checked for raw escapes
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)  # the first few, for people


# -- the corpus -------------------------------------------------------------------------------------


def payload(rng: random.Random) -> str:
    return rng.choice(PAYLOADS)


def _model(rng: random.Random) -> str:
    p = payload(rng).replace("\\", "\\\\").replace('"', '\\"')
    tables = rng.randint(1, 4)
    out = [HEAD]
    for i in range(tables):
        out.append(
            f'''

class Thing{i}(Base):
    """{p}"""
    __tablename__ = "things_{i}{rng.choice(['', p])}"
    id = Column(Integer, primary_key=True)
    amount = Column(Float)  # {p}
    owner_id = Column(Integer, ForeignKey("owners.id{rng.choice(['', p])}"))
    name = Column(String({rng.choice(['255', '-1', '"x"', '10**100'])}), server_default=text("{p}"))
'''
        )
    return "".join(out)


def _migration(rng: random.Random, n: int, heavy: bool) -> str:
    p = payload(rng).replace("\\", "\\\\").replace('"', '\\"')
    down = rng.choice(["None", f'"r{n - 1}"', f'"r{n}"', '("r0", 5, None)', "5", f'"{p}"', '"r0", "r1"'])
    sql = rng.choice([
        f"ALTER TABLE things ENABLE ROW LEVEL SECURITY; -- {p}",
        "CREATE POLICY p ON things USING (tenant_id = current_setting('app.tenant')::uuid",  # unbalanced
        "SELECT " + "(" * 3000 + "1" + ")" * 3000,
        "DO $$ BEGIN " + "PERFORM 1; " * 2000 + "END $$",
        "'; DROP TABLE users; --",
        "\x00\x01 binary sql",
        "SELECT 1;" * (20000 if heavy else 200),
    ])
    return (
        f'"""{p}"""\nfrom alembic import op\nimport sqlalchemy as sa\n\nrevision = "r{n}{rng.choice(["", p])}"\n'
        f"down_revision = {down}\n\n\ndef upgrade():\n    op.execute({sql!r})\n"
        f"    op.add_column(\"things\", sa.Column(\"{p}\", sa.Float()))\n\n\ndef downgrade():\n    pass\n"
    )


def _python(rng: random.Random, n: int, heavy: bool) -> bytes:
    """One malformed file. Without `heavy`, the kinds that take seconds each (memory bombs, megabyte
    lines, nesting 20,000 deep, SQL of 20,000 statements) are left out: the CI run stays short;
    bench/hostile.py has them."""
    kind = rng.randrange(17)
    heavy = heavy and rng.random() < 0.15  # even then, one file in seven of those kinds: a run must end
    marker = b"from sqlalchemy import Column\n"
    if kind == 0:
        return _model(rng).encode()
    if kind == 1:
        return _migration(rng, n, heavy).encode()
    if kind == 2:
        return marker + os.urandom(rng.randint(10, 20_000))
    if kind == 3:
        return _model(rng).encode().replace(b"Column", b"Col\x00umn", 1)
    if kind == 4:
        return b"# -*- coding: latin-1 -*-\n" + marker + 'x = "caf\xe9 \xff"\n'.encode("latin-1")
    if kind == 5:
        return b"# -*- coding: no-such-codec -*-\n" + marker + b"x = 1\n"
    if kind == 6:
        return b"\xef\xbb\xbf# coding: latin-1\n" + marker  # a BOM that contradicts the coding line
    if kind == 7:
        depth = rng.choice([100, 1000, 5000, 20000] if heavy else [100, 1000])
        return marker + b"x = " + b"(" * depth + b"1" + b")" * depth + b"\n"
    if kind == 8:
        depth = rng.choice([200, 3000])
        return marker + b"t = Column(" * depth + b"1" + b")" * depth + b"\n"
    if kind == 9:
        return marker + b"x = '" + b"a" * (rng.choice([100_000, 1_000_000]) if heavy else 10_000) + b"'\n"
    if kind == 10:
        return _model(rng).encode()[: rng.randint(1, 400)]  # cut anywhere, mid-string too
    if kind == 11:
        return _model(rng).replace("\n", "\r").encode()
    if kind == 12:
        return marker + b"x = 1\n" * (rng.choice([20_000, 60_000]) if heavy else 500)  # ~400x its size to parse
    if kind == 13:
        return (HEAD + "class \u0422able(Base):\n    __tablename__ = 5\n    __table_args__ = 'x'\n    id = Column(*[], **{})\n"
                "    ñ = Column(Integer, primary_key=True)\n").encode()
    if kind == 14:
        return marker + b"\tif True:\n        x = 1\n\t  y = 2\n"  # tabs and spaces mixed
    if kind == 15:
        return (marker.decode() + "\n".join(f"x{i} = {payload(rng)!r}" for i in range(50)) + "\n").encode()
    return b"\xff\xfe" + "from sqlalchemy import Column\n".encode("utf-16-le")


def _name(rng: random.Random, n: int) -> str:
    return rng.choice(NAMES) if rng.random() < 0.35 else f"mod_{n}.py"


def _write(path: Path, data: bytes) -> bool:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return True
    except (OSError, ValueError):  # a name the file system refuses
        return False


def make_repo(repo: Path, outside: Path, rng: random.Random, files: int, heavy: bool) -> int:
    """One hostile repository with about `files` files; returns how many were written."""
    written = 0
    repo.mkdir(parents=True)
    for n in range(files):
        folder = repo
        if rng.random() < 0.3:
            folder = repo / rng.choice(["models", "migrations/versions", "app" + payload(rng)[:6], "d[x", "a" * 100])
        if rng.random() < 0.05:
            folder = repo.joinpath(*["deep"] * 60)
        written += _write(folder / _name(rng, n), _python(rng, n, heavy))
    for name, target in (("up", ".."), ("loop", "."), ("secret.py", outside / "secret.py"), ("pkg", outside / "pkg"),
                         ("docs/passwd.md", "/etc/passwd"), ("environ.py", "/proc/self/environ"),
                         ("docs/canary.md", outside / "notes.md"), ("broken.py", repo / "nothing-here.py"),
                         ("alembic.ini", outside / "alembic.ini")):
        if rng.random() < 0.5:
            with contextlib.suppress(OSError):
                (repo / name).parent.mkdir(parents=True, exist_ok=True)
                os.symlink(target, repo / name)
                written += 1
    specials = [lambda p: os.mkfifo(p), lambda p: os.mknod(p, stat.S_IFCHR | 0o600, os.makedev(1, 3)), _socket]
    for i, make in enumerate(specials):
        if rng.random() < 0.3:
            with contextlib.suppress(OSError):
                make(repo / f"special_{i}.py")
                written += 1
    if rng.random() < 0.5:
        written += _write(repo / "docs" / f"notes{payload(rng)[:4]}.md", f"# {payload(rng)}\n\n{payload(rng)}\n".encode())
    if rng.random() < 0.3:
        written += _write(repo / "alembic.ini", rng.choice([os.urandom(200), b"[alembic]\nscript_location = %(missing)s\n",
                                                            f"[alembic]\nscript_location = {payload(rng)}\n".encode()]))
    if rng.random() < 0.05:
        written += _write(repo / ".dbreview.toml", rng.choice([b"exclude = 5\n", b"[[[", os.urandom(50)]))
    if rng.random() < 0.1:
        with contextlib.suppress(OSError):
            bad = repo / "unreadable.py"
            _write(bad, _model(rng).encode())
            bad.chmod(0)
    return written


def _socket(path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(path))


def make_corpus(root: Path, repos: int, files: int, seed: int, heavy: bool = False) -> Corpus:
    rng = random.Random(seed)
    outside = root / "outside"
    (outside / "pkg").mkdir(parents=True)
    canary_model = HEAD + f"\n\nclass {CANARY.replace('-', '_')}(Base):\n    __tablename__ = '{CANARY}'\n    id = Column(Integer, primary_key=True)\n    amount = Column(Float)\n"
    for rel in ("secret.py", "pkg/models.py"):
        (outside / rel).write_text(canary_model)
    (outside / "notes.md").write_text(f"# {CANARY}\n")
    (outside / "alembic.ini").write_text(f"[alembic]\nscript_location = {CANARY}\n")
    corpus = Corpus(root, outside)
    for i in range(repos):
        repo = root / f"repo{i:04d}"
        corpus.files += make_repo(repo, outside, rng, rng.randint(files // 2, files * 3 // 2), heavy)
        corpus.repos.append(repo)
    return corpus


# -- running dbreview over it ------------------------------------------------------------------------


class _Watch:
    """What the audit hook saw: opens and listings of anything planted outside."""

    def __init__(self, forbidden: list[str]) -> None:
        self.forbidden = forbidden
        self.seen: list[str] = []

    def __call__(self, event: str, args: tuple) -> None:
        if event not in ("open", "os.scandir", "os.listdir") or not args:
            return
        path = args[0]
        if isinstance(path, int) or path is None:
            return
        try:
            real = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return
        if any(real == f or real.startswith(f + os.sep) for f in self.forbidden):
            self.seen.append(real)


class _Hung(Exception):
    pass


def _alarm(signum, frame):  # noqa: ARG001
    raise _Hung


def _check_output(figures: Figures, what: str, text: str) -> None:
    if CANARY in text:
        figures.read_outside += 1
        _problem(figures, f"{what}: a canary in the output")
    hit = RAW.search(text)
    if hit:
        figures.raw_escapes += 1
        _problem(figures, f"{what}: raw {hit.group()!r} in the output")


def _problem(figures: Figures, what: str) -> None:
    if len(figures.problems) < 20:
        figures.problems.append(what.encode("unicode_escape").decode())


def _try(figures: Figures, watch: _Watch, what: str, argv: list[str], timeout: int) -> object:
    """One command in this process: its exit, and whether it crashed, hung, read outside or wrote
    anything raw."""
    from tui import cli

    out, err = io.StringIO(), io.StringIO()
    before = len(watch.seen)
    signal.alarm(timeout)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code: object = cli.main(argv)
    except _Hung:
        figures.hung += 1
        _problem(figures, f"{what}: hung")
        code = "hung"
    except BaseException as exc:  # noqa: BLE001 - anything out of main() is a crash
        figures.crashed += 1
        _problem(figures, f"{what}: {type(exc).__name__}: {exc}")
        code = "raised"
    finally:
        signal.alarm(0)
    figures.tried += 1
    key = str(int(code)) if isinstance(code, int) else str(code)
    figures.exits[key] = figures.exits.get(key, 0) + 1
    if code == 3:
        figures.crashed += 1
        _problem(figures, f"{what}: exit 3: {err.getvalue().strip()[:200]}")
    if len(watch.seen) > before:
        figures.read_outside += 1
        _problem(figures, f"{what}: read {watch.seen[-1]}")
    _check_output(figures, what, out.getvalue() + err.getvalue())
    return code


def run_cli(corpus: Corpus, data_dir: Path, figures: Figures, watch: _Watch, timeout: int) -> None:
    """Every repository through scan (every format and --explain-layout), and `open` by a reviewer
    whose name holds escapes (refused before the app would start), in this process."""
    from tui import cli

    started: list[dict] = []
    real_run_app, cli.run_app = cli.run_app, lambda **kwargs: started.append(kwargs) or 0
    try:
        for i, repo in enumerate(corpus.repos):
            for extra in [["--format", fmt] for fmt in FORMATS] + [["--explain-layout"]]:
                _try(figures, watch, f"{repo.name} {extra}", ["--data-dir", str(data_dir), "scan", str(repo), *extra], timeout)
            name = "mallory" + PAYLOADS[i % 6]
            argv = ["--data-dir", str(data_dir), "--reviewer", name, "open", str(repo)]
            if _try(figures, watch, f"{repo.name} open", argv, timeout) != 2 or started:
                _problem(figures, f"{repo.name}: the reviewer name {name!r} was not refused")
                figures.raw_escapes += 1
                started.clear()
    finally:
        cli.run_app = real_run_app


def seed_session(repo: Path, data_dir: Path) -> None:
    """A saved review of `repo` whose notes, answers, verdict notes and reviewer names (one of them
    also present as a pair-review cursor) hold escape payloads: written past the store's checks, as
    an older dbreview or another tool could have."""
    from sqlalchemy import create_engine, text

    from analyzers.checklist import load_checklist
    from analyzers.discover import TargetError
    from analyzers.engine import scan
    from analyzers.settings import Settings, SettingsError, load_settings
    from tui import paths
    from tui.review import Review
    from tui.session import ReviewStore
    from tui.session.state import Verdict

    try:
        settings = load_settings(repo)
    except SettingsError:  # as the app does: the bad settings are said, the defaults used
        settings = Settings()
    try:
        found = scan(repo, settings=settings).result
    except TargetError:  # nothing to review: the app says so, there is nothing to seed
        return
    with ReviewStore.open(paths.session_db(data_dir)) as store:
        review = Review.open(store, repo, "alice", load_checklist("database"))
        review.apply_scan(found)
        review.reload()
        for i, f in enumerate(list(review.findings.values())[:3]):
            review.annotate(f.fingerprint, f"note {PAYLOADS[i]} {PAYLOADS[-1]}")
        review.set_answer(review.checklist.questions[0].id, f"answer {PAYLOADS[1]}")
        review.set_verdict(review.checklist.items[0].id, Verdict.FAIL, f"notes {PAYLOADS[2]}")
        review.save_cursor("start")
        review_id = review.info.id
    engine = create_engine(f"sqlite:///{paths.session_db(data_dir)}")
    with engine.begin() as con:
        con.execute(text("UPDATE events SET reviewer = :who WHERE review_id = :id AND kind IN ('note', 'answer', 'verdict')"),
                    {"who": "mallory" + PAYLOADS[0] + PAYLOADS[4], "id": review_id})
        con.execute(text("UPDATE cursors SET reviewer = :who, updated_at = :now WHERE review_id = :id"),
                    {"who": "bob" + PAYLOADS[1], "id": review_id, "now": datetime.now(timezone.utc).replace(tzinfo=None)})
    engine.dispose()


async def check_app(repo: Path, data_dir: Path, figures: Figures, watch: _Watch) -> None:
    """The app on one seeded repository (seed_session): the scan, then findings with their notes,
    a note dialog, search, palette and summary, each screen checked for raw escapes and canaries;
    another reviewer is present under a name full of escapes."""
    from tui.app import ReviewApp

    app = ReviewApp(repo, data_dir, "alice")
    before = len(watch.seen)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            steps = [("n",), ("n",), ("n", "a"), ("escape", "slash", *"[x"), ("escape", "ctrl+p", *"[b"),
                     ("escape", "s"), ("escape", "space"), ("space",)]
            for keys in steps:
                await pilot.press(*keys)
                await pilot.pause()
                figures.screens += 1
                _check_output(figures, f"{repo.name} app {keys[0]}", app.export_screenshot())
            await pilot.press("escape", "q")
    except Exception as exc:  # noqa: BLE001 - the app must not crash on any repository
        figures.crashed += 1
        _problem(figures, f"{repo.name} app: {type(exc).__name__}: {exc}")
    if len(watch.seen) > before:
        figures.read_outside += 1
        _problem(figures, f"{repo.name} app: read {watch.seen[-1]}")


def run(corpus: Corpus, data_dir: Path, *, apps: int, timeout: int) -> Figures:
    import asyncio

    figures = Figures(repos=len(corpus.repos), files=corpus.files)
    watch = _Watch([str(corpus.outside.resolve()), "/etc/passwd", "/proc/self/environ", os.path.realpath("/proc/self/environ")])
    sys.addaudithook(watch)
    signal.signal(signal.SIGALRM, _alarm)
    t0 = time.perf_counter()
    run_cli(corpus, data_dir, figures, watch, timeout)
    for repo in corpus.repos[:apps]:
        seed_session(repo, data_dir)
        asyncio.run(check_app(repo, data_dir, figures, watch))
        for fmt in FORMATS:  # the saved review, payloads and all, in every format
            _try(figures, watch, f"{repo.name} export {fmt}", ["--data-dir", str(data_dir), "export", str(repo), "--format", fmt], timeout)
    figures.seconds = round(time.perf_counter() - t0, 1)
    return figures


# -- kill cycles: every acknowledged action survives a SIGKILL ---------------------------------------

_WRITER = r'''
import random, sys
from pathlib import Path
from tui.session import ReviewStore
from tui.session.state import Disposition, Verdict
db, review, reviewer, seed = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
rng = random.Random(seed)
store = ReviewStore.open(db)
findings = [f.fingerprint for f in store.snapshot(review).findings]
items = ["1.1", "1.2", "2.1", "3.1", "4.1"]
print("ready", flush=True)
n = 0
while True:
    n += 1
    token = f"{reviewer}-{seed}-{n}"
    kind = rng.randrange(5)
    try:
        if kind == 0:
            store.annotate(review, rng.choice(findings), reviewer, token)
        elif kind == 1:
            store.set_disposition(review, rng.choice(findings), Disposition.CONFIRMED, reviewer, note=token)
        elif kind == 2:
            store.set_disposition(review, rng.choice(findings), Disposition.DISMISSED, reviewer, reason="accepted risk", note=token)
        elif kind == 3:
            store.set_verdict(review, rng.choice(items), Verdict.PASS, reviewer, token)
        else:
            store.set_answer(review, "Q1", token, reviewer)
    except Exception as exc:
        print("error", type(exc).__name__, exc, flush=True)
        continue
    print("ack", token, flush=True)
'''


_TOKEN = re.compile(r"w\d+-\d+-\d+")


@dataclass
class KillFigures:
    cycles: int = 0
    writers: int = 0
    acknowledged: int = 0
    lost: int = 0
    refused: int = 0  # actions the store refused with its own error (busy): never acknowledged
    unusable_after: int = 0  # times the file could not be opened after a kill


def kill_cycles(repo: Path, data_dir: Path, cycles: int, writers: int, seed: int) -> KillFigures:
    """`cycles` times: `writers` processes write actions as fast as they can, each printing an
    acknowledgement once the store returned; all are killed (SIGKILL) at a random moment; then every
    acknowledged action must be in the file."""
    from analyzers.engine import scan
    from tui.session import ReviewStore, SessionStoreError

    rng = random.Random(seed)
    db = data_dir / "kill.sqlite3"
    with ReviewStore.open(db) as store:
        info = store.start_review(str(repo), "database", "setup")
        store.apply_scan(info.id, scan(repo).result, "setup")
    figures = KillFigures(writers=writers)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    for cycle in range(cycles):
        procs = [
            subprocess.Popen([sys.executable, "-c", _WRITER, str(db), str(info.id), f"w{w}", str(seed * 1000 + cycle)],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
            for w in range(writers)
        ]
        for p in procs:
            p.stdout.readline()  # ready: the store is open, the next lines are actions
        time.sleep(rng.uniform(0.02, 0.4))
        for p in procs:
            p.send_signal(signal.SIGKILL)
        acked: list[str] = []
        for p in procs:
            out, _ = p.communicate()
            for line in out.splitlines():
                if line.startswith("ack "):
                    acked.append(line[4:])
                elif line.startswith("error "):
                    figures.refused += 1
        figures.cycles += 1
        figures.acknowledged += len(acked)
        try:
            with ReviewStore.open(db) as store:
                events = store.events(info.id)
        except SessionStoreError:
            figures.unusable_after += 1
            continue
        kept = {t for e in events for t in _TOKEN.findall(f"{e.note or ''} {e.new or ''}")}
        figures.lost += sum(1 for token in acked if token not in kept)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--repos", type=int, default=20)
    parser.add_argument("--files", type=int, default=12)
    parser.add_argument("--apps", type=int, default=3)
    parser.add_argument("--kill-cycles", type=int, default=0)
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=60)
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--heavy", action="store_true", help="with the kinds of file that take seconds each")
    args = parser.parse_args(argv)
    os.environ["DBREVIEW_CANARY"] = CANARY  # /proc/self/environ holds it: read, it would show
    corpus = make_corpus(args.workdir / "corpus", args.repos, args.files, args.seed, args.heavy)
    data = args.workdir / "data"
    figures = run(corpus, data, apps=args.apps, timeout=args.timeout)
    result = {"corpus": asdict(figures)}
    if args.kill_cycles:
        clean = args.workdir / "clean"
        clean.mkdir()
        (clean / "models.py").write_text(_model(random.Random(args.seed)).replace("\x1b", "").replace("\x9b", ""))
        result["kill"] = asdict(kill_cycles(clean, data, args.kill_cycles, args.writers, args.seed))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The scan engine: its content cache, parallel reading, and what it does with files and targets that
are broken in the ways real trees are. Small targets written into tmp_path; no network."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from analyzers import engine, scan_cache
from analyzers.discover import MAX_FILE_BYTES, TargetError, discover
from analyzers.engine import scan

MODELS = '''\
from datetime import datetime

from sqlalchemy import DateTime, Float, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Invoice(Base):
    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    amount: Mapped[float] = mapped_column(Float)
    number: Mapped[str] = mapped_column(String(20))
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)
'''
DB = '''\
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

engine = create_engine("postgresql+psycopg://app@db/app", pool_size=5)
SessionLocal = sessionmaker(engine)
'''
UTIL = "def add(a, b):\n    return a + b\n"
OLD = 1_600_000_000  # a 2020 mtime: not "racy", so a warm scan trusts size + mtime alone


@pytest.fixture
def target(tmp_path: Path) -> Path:
    root = tmp_path / "target"
    (root / "app").mkdir(parents=True)
    (root / "app" / "models.py").write_text(MODELS)
    (root / "app" / "db.py").write_text(DB)
    (root / "app" / "util.py").write_text(UTIL)
    return root


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def facts_cache_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """For the tests of the facts cache: no scan gives the last scan's result instead of reading it."""
    monkeypatch.setattr(scan_cache, "load_result", lambda path, inputs: None)


def age(root: Path) -> None:
    for p in root.rglob("*.py"):
        os.utime(p, (OLD, OLD))


def summary(result) -> list[tuple]:
    return [(f.rule_id, str(f.location), f.message, f.fingerprint) for f in result.result.findings]


def rules_fired(result) -> set[str]:
    return {f.rule_id for f in result.result.findings}


def errors(result) -> list[str]:
    return [str(e) for e in result.result.errors]


# -- cache ------------------------------------------------------------------------------------------


def test_warm_scan_returns_what_the_cold_scan_found(target: Path, cache: Path) -> None:
    age(target)
    cold = scan(target, cache_dir=cache, jobs=1)
    warm = scan(target, cache_dir=cache, jobs=1)
    assert cold.cache_hits == 0 and warm.cache_hits == 3
    assert summary(warm) == summary(cold) and summary(cold)
    assert {"BIL001", "TZ001"} <= rules_fired(cold)
    assert warm.result.drafted_answers == cold.result.drafted_answers
    assert warm.facts.modules == cold.facts.modules  # the facts come back from the cache as they were


def test_facts_survive_the_cache_on_the_demo(tmp_path: Path) -> None:
    import shutil

    demo = tmp_path / "demo"
    shutil.copytree(Path(__file__).resolve().parent.parent / "tui" / "demo", demo, ignore=shutil.ignore_patterns("__pycache__"))
    age(demo)
    cold = scan(demo, cache_dir=tmp_path / "cache", jobs=1)
    warm = scan(demo, cache_dir=tmp_path / "cache", jobs=1)
    assert warm.cache_hits == warm.result.files_scanned
    assert warm.facts.modules == cold.facts.modules and cold.facts.modules
    assert summary(warm) == summary(cold)


def test_warm_scan_only_stats_files(target: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    age(target)
    cold = scan(target, cache_dir=cache, jobs=1)

    def no_reading(root: str, rel: str) -> bytes:
        raise AssertionError(f"{rel} was read although its size and mtime did not change")

    monkeypatch.setattr(engine, "_read_bytes", no_reading)
    assert summary(scan(target, cache_dir=cache, jobs=1)) == summary(cold)


def test_a_warm_scan_with_nothing_changed_writes_no_cache(target: Path, cache: Path) -> None:
    age(target)
    scan(target, cache_dir=cache, jobs=1)
    (cache_file,) = cache.glob("*.facts")
    before = cache_file.read_bytes(), cache_file.stat().st_mtime_ns
    scan(target, cache_dir=cache, jobs=1)
    assert (cache_file.read_bytes(), cache_file.stat().st_mtime_ns) == before


def test_a_changed_file_is_appended_to_the_cache_not_the_whole_tree_rewritten(target: Path, cache: Path) -> None:
    age(target)
    many_models(target, 20)
    age(target)
    cold = scan(target, cache_dir=cache, jobs=1)
    (cache_file,) = cache.glob("*.facts")
    written = cache_file.read_bytes()
    (target / "app" / "db.py").write_text(DB.replace("pool_size=5", "pool_size=6"))
    os.utime(target / "app" / "db.py", (OLD + 10, OLD + 10))
    edited = scan(target, cache_dir=cache, jobs=1)
    grown = cache_file.read_bytes()
    assert grown.startswith(written), "what was written stays as it was"
    assert 0 < len(grown) - len(written) < len(written) / 10, "only db.py's entry is added"
    again = scan(target, cache_dir=cache, jobs=1)
    assert again.cache_hits == again.result.files_scanned == cold.result.files_scanned
    assert summary(again) == summary(edited) and again.facts.modules == edited.facts.modules
    (target / "app" / "util.py").unlink()
    assert scan(target, cache_dir=cache, jobs=1).result.files_scanned == cold.result.files_scanned - 1
    assert "app/util.py" not in scan_cache.load(cache_file, ("",))  # a deleted file's entry goes too


def test_appended_segments_are_folded_into_one_file_in_time(target: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan_cache, "MAX_SEGMENTS", 3)
    age(target)
    scan(target, cache_dir=cache, jobs=1)
    (cache_file,) = cache.glob("*.facts")
    segments = []
    for i in range(4):
        (target / "app" / "util.py").write_text(UTIL + f"# edit {i}\n")
        os.utime(target / "app" / "util.py", (OLD + i + 1, OLD + i + 1))
        scan(target, cache_dir=cache, jobs=1)
        segments.append(scan_cache.load(cache_file, ("",)).segments)
    assert segments == [2, 3, 1, 2]
    assert scan(target, cache_dir=cache, jobs=1).cache_hits == 3


def test_a_cache_cut_short_while_appending_keeps_what_came_before(target: Path, cache: Path, facts_cache_only: None) -> None:
    age(target)
    scan(target, cache_dir=cache, jobs=1)
    (cache_file,) = cache.glob("*.facts")
    whole = cache_file.read_bytes()
    (target / "app" / "util.py").write_text(UTIL + "# edited\n")
    os.utime(target / "app" / "util.py", (OLD + 5, OLD + 5))
    edited = scan(target, cache_dir=cache, jobs=1)
    cache_file.write_bytes(cache_file.read_bytes()[:-7])  # the appended segment, cut short
    after = scan(target, cache_dir=cache, jobs=1)
    assert after.cache_hits == 2, "models.py and db.py from the first segment; util.py read again"
    assert summary(after) == summary(edited)
    repaired = cache_file.read_bytes()
    assert not repaired.startswith(whole), "written anew, without the damaged tail"
    assert scan(target, cache_dir=cache, jobs=1).cache_hits == 3


def test_a_cache_file_can_name_nothing_but_facts(target: Path, cache: Path, tmp_path: Path, facts_cache_only: None) -> None:
    """Even the user's own file, in the user's own folder, cannot make a scan call anything: its pickles
    are read by an unpickler that knows only the facts' classes."""
    import hashlib
    import pickle

    age(target)
    cold = scan(target, cache_dir=cache, jobs=1)
    (cache_file,) = cache.glob("*.facts")
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    payload = pickle.dumps((("",), {"app/db.py": Payload()}, []))
    frame = scan_cache._FRAME.pack(len(payload), hashlib.blake2b(payload, digest_size=16).digest())
    cache_file.write_bytes(scan_cache.TAG + frame + payload)
    cache_file.chmod(0o600)
    again = scan(target, cache_dir=cache, jobs=1)
    assert not marker.exists()
    assert again.cache_hits == 0 and summary(again) == summary(cold)


def test_a_file_read_on_demand_is_cached_and_not_parsed_again(target: Path, cache: Path, facts_cache_only: None,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A module that mentions no SQLAlchemy, read only because the models' base is imported through it: the
    facts cache keeps its facts, so a re-scan after an edit elsewhere follows the name without parsing it."""
    (target / "app" / "models.py").write_text(MODELS.replace(
        "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n\n\nclass Base(DeclarativeBase):\n    pass\n",
        "from sqlalchemy.orm import Mapped, mapped_column\nfrom app.aliases import Base\n"))
    (target / "app" / "aliases.py").write_text("from app.base import Base as Base\n")  # no marker: not read
    (target / "app" / "base.py").write_text("from sqlalchemy.orm import DeclarativeBase\nclass Base(DeclarativeBase):\n    pass\n")
    age(target)
    cold = scan(target, cache_dir=cache, jobs=1)
    assert "invoices" in cold.facts.tables and "app/aliases.py" not in {m.path for m in cold.facts.modules}
    (target / "app" / "util.py").write_text(UTIL + "# edited\n")
    os.utime(target / "app" / "util.py", (OLD + 1, OLD + 1))

    def no_parsing(root: str, rel: str) -> None:
        raise AssertionError(f"{rel} was read on demand again although it did not change")

    monkeypatch.setattr(engine, "_load", no_parsing)
    again = scan(target, cache_dir=cache, jobs=1)
    assert "invoices" in again.facts.tables and summary(again) == summary(cold)
    (target / "app" / "aliases.py").write_text("from app.base import Base as Base  # edited\n")
    monkeypatch.undo()  # changed: read again
    monkeypatch.setattr(scan_cache, "load_result", lambda path, inputs: None)
    assert summary(scan(target, cache_dir=cache, jobs=1)) == summary(cold)


def test_editing_a_file_changes_the_result(target: Path, cache: Path) -> None:
    age(target)
    before = scan(target, cache_dir=cache, jobs=1)
    assert "BIL001" in rules_fired(before)  # money in a Float
    models = target / "app" / "models.py"
    models.write_text(MODELS.replace("Float", "Numeric"))
    after = scan(target, cache_dir=cache, jobs=1)
    assert "BIL001" not in rules_fired(after)
    assert after.cache_hits == 2


def test_an_edit_that_keeps_size_and_mtime_is_still_seen(target: Path, cache: Path) -> None:
    """Coarse file system clocks: a same-size edit in the same tick as the scan keeps its mtime."""
    models = target / "app" / "models.py"
    before = scan(target, cache_dir=cache, jobs=1)
    stat = models.stat()
    edited = MODELS.replace("Float", "Nmrc ")  # same length
    assert len(edited) == len(MODELS)
    models.write_text(edited)
    os.utime(models, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    after = scan(target, cache_dir=cache, jobs=1)
    assert "BIL001" in rules_fired(before) and "BIL001" not in rules_fired(after)


def test_touching_a_file_reuses_its_facts(target: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    age(target)
    cold = scan(target, cache_dir=cache, jobs=1)
    os.utime(target / "app" / "models.py", (OLD + 60, OLD + 60))
    monkeypatch.setattr(engine, "_extract", lambda path, data: pytest.fail(f"{path} parsed again"))
    touched = scan(target, cache_dir=cache, jobs=1)
    assert touched.cache_hits == 3
    assert summary(touched) == summary(cold)


def test_a_deleted_file_leaves_the_results(target: Path, cache: Path) -> None:
    scan(target, cache_dir=cache, jobs=1)
    (target / "app" / "db.py").unlink()
    after = scan(target, cache_dir=cache, jobs=1)
    assert after.result.files_scanned == 2
    assert not [c for c in after.facts.calls if c.span.path == "app/db.py"]


def test_a_corrupt_cache_is_ignored(target: Path, cache: Path, facts_cache_only: None) -> None:
    age(target)
    cold = scan(target, cache_dir=cache, jobs=1)
    (cache_file,) = cache.glob("*.facts")
    for junk in (b"not a pickle at all", cache_file.read_bytes()[:100], b"\x80\x05N."):  # garbage, cut short, None
        cache_file.write_bytes(junk)
        again = scan(target, cache_dir=cache, jobs=1)
        assert summary(again) == summary(cold)
        assert again.cache_hits == 0
    assert scan(target, cache_dir=cache, jobs=1).cache_hits == 3  # and it was written anew


def test_the_cache_is_keyed_by_the_extractor_code(target: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scan(target, cache_dir=cache, jobs=1)
    (first,) = cache.glob("*.facts")
    assert scan_cache.code_version() in first.name
    monkeypatch.setattr(scan_cache, "code_version", lambda: "0123456789abcdef")
    later = scan(target, cache_dir=cache, jobs=1)
    assert later.cache_hits == 0  # facts of the previous code version are never used
    (second,) = cache.glob("*.facts")  # and the old file is gone
    assert second.name.endswith("-0123456789abcdef.facts")


def test_the_code_version_covers_the_extractor_the_engine_and_the_format() -> None:
    import hashlib

    here = Path(engine.__file__).parent
    h = hashlib.blake2b(digest_size=8)
    for p in sorted((here / "facts").glob("*.py")) + [here / "discover.py", here / "engine.py", here / "scan_cache.py"]:
        h.update(p.read_bytes())
    assert scan_cache.code_version() == h.hexdigest()


def test_a_cache_others_could_write_is_never_loaded(target: Path, cache: Path, facts_cache_only: None) -> None:
    """A pickle runs code when loaded: one that another account wrote, or could have, is ignored."""
    age(target)
    scan(target, cache_dir=cache, jobs=1)
    (cache_file,) = cache.glob("*.facts")
    assert scan(target, cache_dir=cache, jobs=1).cache_hits == 3
    cache_file.chmod(0o620)
    assert scan(target, cache_dir=cache, jobs=1).cache_hits == 0, "group-writable"
    (cache_file,) = cache.glob("*.facts")  # written anew, the user's own
    assert cache_file.stat().st_mode & 0o777 == 0o600
    cache.chmod(0o777)
    assert scan(target, cache_dir=cache, jobs=1).cache_hits == 0, "in a folder anyone can write"
    cache.chmod(0o700)
    if os.getuid() == 0:
        (cache_file,) = cache.glob("*.facts")
        os.chown(cache_file, 65534, -1)  # nobody's
        assert scan(target, cache_dir=cache, jobs=1).cache_hits == 0, "another account's"


def test_a_new_include_pin_is_not_hidden_by_the_cache(target: Path, cache: Path) -> None:
    """A file without markers is read only when pinned; pinning it later must not find it cached as 'nothing'."""
    age(target)
    # no marker: a URL scheme (`postgresql://`) would be one, so the URL comes from a setting
    (target / "app" / "raw.py").write_text("from .factory import create_engine\nengine = create_engine(settings.url, pool_size=5)\n")
    os.utime(target / "app" / "raw.py", (OLD, OLD))
    before = scan(target, cache_dir=cache, jobs=1)
    assert not [c for c in before.facts.calls if c.span.path == "app/raw.py"]
    (target / "pyproject.toml").write_text('[tool.dbreview]\ninclude = ["app/raw.py"]\n')
    after = scan(target, cache_dir=cache, jobs=1)
    assert [c.name for c in after.facts.calls if c.span.path == "app/raw.py"] == ["app.factory.create_engine"]


def test_an_unwritable_cache_dir_still_scans(target: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = scan(target, cache_dir=blocker / "cache", jobs=1)
    assert "BIL001" in rules_fired(result)


def many_models(target: Path, n: int) -> None:
    for i in range(n):
        text = MODELS.replace("Invoice", f"Invoice{i}").replace('"invoices"', f'"invoices_{i}"')
        (target / "app" / f"model_{i}.py").write_text(text)


def slow_here(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make parsing in this process slow, so that the workers surely take a share; returns what was done here."""
    import time

    here: list[str] = []
    real = engine._extract

    def slow(path: str, data: bytes):
        here.append(path)
        time.sleep(0.05)
        return real(path, data)

    monkeypatch.setattr(engine, "_extract", slow)
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(engine, "FORKSERVER_MIN_BYTES", 0)
    monkeypatch.setattr(engine, "CHUNK_MIN_BYTES", 1)
    return here


def test_workers_find_what_one_process_finds(target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    many_models(target, 12)
    serial = scan(target, jobs=1)
    here = slow_here(monkeypatch)
    parallel = scan(target, jobs=2)
    assert summary(parallel) == summary(serial)
    assert len(parallel.facts.tables) == 13
    assert len(set(here)) < 14  # the worker did some


def test_workers_from_a_threaded_caller(target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app scans from a thread: its workers come from a fork server, never from fork()."""
    import threading

    many_models(target, 30)
    serial = scan(target, jobs=1)
    methods: list[str | None] = []
    import multiprocessing

    real_context = multiprocessing.get_context

    def get_context(method=None):
        methods.append(method)
        return real_context(method)

    monkeypatch.setattr(multiprocessing, "get_context", get_context)
    slow_here(monkeypatch)
    out: list = []
    thread = threading.Thread(target=lambda: out.append(scan(target, jobs=2)))
    thread.start()
    thread.join(60)
    assert summary(out[0]) == summary(serial)
    assert methods == ["forkserver"]  # whether a worker got a chunk before this process took all depends on the load


def test_progress_reaches_the_total(target: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    scan(target, jobs=1, progress=lambda stage, done, total: seen.append((stage, done, total)))
    assert seen[-1] == ("reading", 3, 3)
    assert all(done <= total for _, done, total in seen)


def test_a_cancelled_scan_keeps_only_finished_facts(target: Path, cache: Path) -> None:
    age(target)
    many_models(target, 5)
    age(target)
    calls = iter(range(1000))
    cancelled = scan(target, cache_dir=cache, jobs=1, is_cancelled=lambda: next(calls) >= 6)
    full = scan(target, cache_dir=cache, jobs=1)
    assert full.cache_hits < 8  # the cancelled scan did not store what it never read
    assert len(full.facts.tables) == 6 and len(cancelled.facts.tables) < 6
    assert summary(scan(target, jobs=1)) == summary(full)


def test_an_extractor_failure_on_one_file_is_a_scan_error(target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from analyzers.facts import python_module

    real = python_module.extract_module

    def flaky(path: str, text: str):
        if path == "app/db.py":
            raise KeyError("boom")
        return real(path, text)

    monkeypatch.setattr(python_module, "extract_module", flaky)
    result = scan(target, jobs=1)
    assert any("app/db.py" in e and "facts could not be read (KeyError" in e for e in errors(result))
    assert "BIL001" in rules_fired(result)


# -- broken files -----------------------------------------------------------------------------------


def test_a_syntax_error_is_a_scan_error_and_the_scan_goes_on(target: Path) -> None:
    (target / "app" / "broken.py").write_text("from sqlalchemy import Column\n\ndef f(:\n    pass\n")
    result = scan(target, jobs=1)
    (err,) = [e for e in result.result.errors if e.path == "app/broken.py"]
    assert err.line == 3 and "does not parse as Python" in err.message
    assert "BIL001" in rules_fired(result)


def test_undecodable_bytes_are_reported_and_read(target: Path) -> None:
    (target / "app" / "latin.py").write_bytes(b"from sqlalchemy import text\nLABEL = '\xff\xfe caf\xe9'\n")
    result = scan(target, jobs=1)
    assert any(e.startswith("app/latin.py") and "undecodable bytes were replaced" in e for e in errors(result))
    assert "BIL001" in rules_fired(result)


def test_a_file_with_nul_bytes_is_skipped(target: Path) -> None:
    (target / "app" / "blob.py").write_bytes(b"from sqlalchemy import Column\n\x00\x00\x01binary")
    result = scan(target, jobs=1)
    assert any(e.startswith("app/blob.py") and "NUL bytes" in e for e in errors(result))
    assert "BIL001" in rules_fired(result)


def test_a_file_over_the_size_limit_is_skipped(target: Path) -> None:
    big = target / "app" / "generated.py"
    with open(big, "wb") as fh:
        fh.write(b"from sqlalchemy import Column\n")
        fh.write(b"#" * (MAX_FILE_BYTES + 1))
    result = scan(target, jobs=1)
    assert any(e.startswith("app/generated.py") and "over the 4 MiB limit" in e for e in errors(result))
    assert result.result.files_scanned == 3
    assert "BIL001" in rules_fired(result)


def test_a_symlink_loop_is_reported_once(target: Path) -> None:
    os.symlink(target / "app", target / "app" / "again")
    result = scan(target, jobs=1)
    loops = [e for e in errors(result) if "symlink loop" in e]
    assert loops == ["app/again: directory already visited (symlink loop)"]
    assert result.result.files_scanned == 3
    assert "BIL001" in rules_fired(result)


def test_a_second_path_to_a_directory_is_no_loop_and_its_files_are_read_at_their_real_path(target: Path) -> None:
    """`fast/steps -> ../app`, walked before the real folder would be by name: a second path to it, not a loop;
    nothing is said of it and each file is read once, under its real path."""
    (target / "fast").mkdir()
    os.symlink("../app", target / "fast" / "steps")
    layout = discover(target)
    assert not [why for _, why in layout.skipped if "symlink loop" in why]
    assert [c.path for c in layout.python] == ["app/db.py", "app/models.py", "app/util.py"]


def test_a_broken_symlink_is_reported(target: Path) -> None:
    os.symlink(target / "nowhere.py", target / "app" / "gone.py")
    result = scan(target, jobs=1)
    assert "app/gone.py: broken symbolic link" in errors(result)
    assert "BIL001" in rules_fired(result)


# -- targets that cannot be scanned -----------------------------------------------------------------


def test_a_missing_path_is_a_target_error(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="no such file or directory"):
        scan(tmp_path / "nope")


def test_a_file_is_not_a_target(target: Path) -> None:
    with pytest.raises(TargetError, match="not a directory"):
        scan(target / "app" / "models.py")


def test_an_empty_directory_is_a_target_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(TargetError, match="holds no Python files"):
        scan(tmp_path / "empty")


def test_the_commands_check_of_a_target_says_what_discover_says(target: Path, tmp_path: Path) -> None:
    """python_root (dbreview open, before the app) stops at the first Python file: same root, same refusals."""
    from analyzers.discover import discover, python_root

    assert python_root(target / "app" / "..") == discover(target).root == target.resolve()
    (tmp_path / "empty" / "node_modules").mkdir(parents=True)
    (tmp_path / "empty" / "node_modules" / "x.py").write_text("")  # a skipped folder's Python is none
    (tmp_path / "empty" / "notes.txt").write_text("")
    for path, said in ((tmp_path / "nope", "no such file"), (target / "app" / "models.py", "not a directory"),
                       (tmp_path / "empty", "holds no Python files")):
        for check in (discover, python_root):
            with pytest.raises(TargetError, match=said):
                check(path)


def test_a_scan_without_suppression_comments_never_imports_libcst(target: Path, cache: Path) -> None:
    """libcst reads `# dbreview: ignore` comments; importing it costs more than a warm scan's work."""
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path; from analyzers.engine import scan; "
        f"scan({str(target)!r}, cache_dir=Path({str(cache)!r}), jobs=1); print('libcst' in sys.modules)"
    )
    root = Path(engine.__file__).resolve().parents[1]
    run = lambda: subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True).stdout.strip()
    assert run() == "False"
    (target / "app" / "db.py").write_text((target / "app" / "db.py").read_text() + "\n# dbreview: ignore[CFG001] reviewed\n")
    assert run() == "True"  # a file that has one: its comments are read


def test_without_pglast_the_scan_says_so_once_reads_sql_as_unparsed_and_caches_nothing(tmp_path: Path, monkeypatch) -> None:
    """A broken install (pglast missing) must not turn a data fix into 'cannot be rolled back', nor leave
    facts in the cache that a whole install would then trust."""
    from analyzers.facts import sql

    versions = tmp_path / "repo" / "migrations" / "versions"
    versions.mkdir(parents=True)
    head = "from alembic import op\nimport sqlalchemy as sa\n"
    (versions / "0001_things.py").write_text(head + 'revision = "0001"\ndown_revision = None\n'
        'def upgrade():\n    op.create_table("things", sa.Column("id", sa.Integer, primary_key=True), sa.Column("n", sa.Integer))\n'
        'def downgrade():\n    op.drop_table("things")\n')
    (versions / "0002_fill.py").write_text(head + 'revision = "0002"\ndown_revision = "0001"\n'
        'def upgrade():\n    op.execute("UPDATE things SET n = 0 WHERE n IS NULL")\ndef downgrade():\n    pass\n')
    monkeypatch.setitem(sys.modules, "pglast", None)
    sql.parser_missing.cache_clear()
    try:
        result = scan(tmp_path / "repo", cache_dir=tmp_path / "cache").result
    finally:
        sql.parser_missing.cache_clear()
    assert [str(e) for e in result.errors] == [f"{sql.NO_PARSER_PATH}: {sql.NO_PARSER}"]
    assert not [f for f in result.findings if f.rule_id == "MIG001"]
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())

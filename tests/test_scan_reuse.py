"""A scan that finds nothing changed gives the last scan's result (analyzers/engine.py, the result kept
by analyzers/scan_cache.py): exactly what a fresh scan finds, and never once anything it depends on
moved. Targets are copies of our own fixtures, aged so that their mtimes are trusted."""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analyzers import engine, scan_cache
from analyzers.engine import scan

HERE = Path(__file__).resolve().parent
CODE = HERE.parent
OLD = 1_600_000_000  # a 2020 mtime: not racy
FIXTURES = [
    CODE / "tui" / "demo",
    *(HERE / "fixtures" / name for name in ("flask_engine", "migration_graph", "typed_mixins", "verify_clinic")),
]


def copy(source: Path, to: Path) -> Path:
    shutil.copytree(source, to, ignore=shutil.ignore_patterns("__pycache__"))
    age(to)
    return to


def age(root: Path) -> None:
    for p in root.rglob("*"):
        if p.is_file():
            os.utime(p, (OLD, OLD))


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    return copy(CODE / "tui" / "demo", tmp_path / "demo")


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def no_rules(monkeypatch: pytest.MonkeyPatch):
    """Call it to make any further linking or rule run fail the test."""
    from analyzers import rules

    def forbid() -> None:
        monkeypatch.setattr(rules, "run_rules", lambda *a, **k: pytest.fail("the rules ran again"))
        monkeypatch.setattr(engine, "_linked", lambda *a, **k: pytest.fail("the facts were linked again"))

    return forbid


def test_the_reused_result_is_what_a_fresh_scan_finds(tmp_path: Path, cache: Path) -> None:
    for source in FIXTURES:
        target = copy(source, tmp_path / source.name)
        fresh = scan(target, jobs=1)  # no cache at all
        first = scan(target, cache_dir=cache, jobs=1)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(engine, "_findings", lambda *a, **k: pytest.fail("the rules ran again"))
            mp.setattr(engine, "_linked", lambda *a, **k: pytest.fail("the facts were linked before they were asked for"))
            again = scan(target, cache_dir=cache, jobs=1)
        assert not first.reused and again.reused, source.name
        assert again.result == fresh.result, source.name  # every finding, error, answer, not-applicable item
        assert again.result.findings, source.name
        assert again.cache_hits == again.result.files_scanned
        assert [d.path for d in again.facts.docs] == [d.path for d in fresh.facts.docs]  # linked when asked for
        assert again.facts.modules == fresh.facts.modules and again.facts.tables == fresh.facts.tables


def test_nothing_changed_no_rule_runs(demo: Path, cache: Path, no_rules) -> None:
    first = scan(demo, cache_dir=cache, jobs=1)
    no_rules()
    seen: list = []
    again = scan(demo, cache_dir=cache, jobs=1, on_findings=seen.extend, progress=lambda *a: seen.append(a))
    assert again.reused and again.result == first.result
    assert seen[0] == ("reading", first.result.files_scanned, first.result.files_scanned)
    assert seen[1:] == first.result.findings  # given at once


def evidence(demo: Path, first) -> tuple[Path, str, str]:
    """A file with a finding, one of its evidence lines, and that line changed but as long: any edit of
    it changes the result (the finding's code hash)."""
    f = next(f for f in first.result.findings
             if f.evidence and f.evidence[0].strip().isascii() and f.location.path.endswith(".py"))
    line = f.evidence[0]
    return demo / f.location.path, line, line.swapcase()


@pytest.mark.parametrize("change", ["touch", "add", "remove", "settings", "code", "same size and mtime"])
def test_any_change_scans_again(demo: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    first = scan(demo, cache_dir=cache, jobs=1)
    assert scan(demo, cache_dir=cache, jobs=1).reused
    model, line, edited = evidence(demo, first)
    if change == "touch":
        os.utime(model, (OLD + 1, OLD + 1))
    elif change == "add":
        (demo / "apps" / "extra.py").write_text("from sqlalchemy import Column, Float\nprice = Column(Float)\n")
        os.utime(demo / "apps" / "extra.py", (OLD, OLD))
    elif change == "remove":
        model.unlink()
    elif change == "settings":
        (demo / ".dbreview.toml").write_text(f'disable = ["{first.result.findings[0].rule_id}"]\n')
        os.utime(demo / ".dbreview.toml", (OLD, OLD))
    elif change == "code":
        monkeypatch.setattr(scan_cache, "result_version", lambda: "0123456789abcdef")
    else:  # a same-size edit within the clock tick of the last read keeps the mtime: that scan kept nothing
        model.write_text(model.read_text())
        assert not scan(demo, cache_dir=cache, jobs=1).reused
        stat = model.stat()
        model.write_text(model.read_text().replace(line, edited, 1))
        os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    again = scan(demo, cache_dir=cache, jobs=1)
    assert not again.reused
    assert again.result == scan(demo, jobs=1).result  # a fresh scan, no cache
    if change not in ("touch", "code"):
        assert again.result != first.result
    if change == "code":
        assert len(list(cache.glob("*.result"))) == 1  # the older version's file is gone


def test_a_scan_of_files_just_written_keeps_no_result(demo: Path, cache: Path) -> None:
    """A file modified within the clock's resolution of its read could change unseen: scan again."""
    model = next(demo.rglob("*.py"))
    model.write_text(model.read_text() + "\n")
    # its mtime a minute ahead: still "just written" when the scans start, however slow a loaded machine is
    ahead = time.time_ns() + 60_000_000_000
    os.utime(model, ns=(ahead, ahead))
    assert not scan(demo, cache_dir=cache, jobs=1).reused
    assert not scan(demo, cache_dir=cache, jobs=1).reused
    assert not list(cache.glob("*.result"))
    age(demo)
    scan(demo, cache_dir=cache, jobs=1)
    assert scan(demo, cache_dir=cache, jobs=1).reused


def test_a_cancelled_scan_keeps_no_result(demo: Path, cache: Path) -> None:
    calls = iter(range(10_000))
    scan(demo, cache_dir=cache, jobs=1, is_cancelled=lambda: next(calls) >= 40)
    assert not list(cache.glob("*.result"))
    assert not scan(demo, cache_dir=cache, jobs=1).reused


def test_a_kept_result_others_could_write_is_never_read(demo: Path, cache: Path) -> None:
    scan(demo, cache_dir=cache, jobs=1)
    (kept,) = cache.glob("*.result")
    kept.chmod(0o620)
    assert not scan(demo, cache_dir=cache, jobs=1).reused, "group-writable"
    (kept,) = cache.glob("*.result")
    assert kept.stat().st_mode & 0o777 == 0o600
    cache.chmod(0o777)
    assert not scan(demo, cache_dir=cache, jobs=1).reused, "in a folder anyone can write"
    cache.chmod(0o700)
    assert scan(demo, cache_dir=cache, jobs=1).reused
    if os.getuid() == 0:
        os.chown(kept, 65534, -1)  # nobody's
        assert not scan(demo, cache_dir=cache, jobs=1).reused, "another account's"


def test_a_kept_result_can_name_nothing_but_findings(demo: Path, cache: Path, tmp_path: Path) -> None:
    first = scan(demo, cache_dir=cache, jobs=1)
    (kept,) = cache.glob("*.result")
    data = kept.read_bytes()
    head = data[: len(scan_cache.RESULT_TAG) + 16]  # the tag and the digest of these very inputs
    planted = tmp_path / "planted"
    payload = pickle.dumps(_Boom(str(planted)))
    frame = scan_cache._FRAME.pack(len(payload), hashlib.blake2b(payload, digest_size=16).digest())
    kept.write_bytes(head + frame + payload)
    kept.chmod(0o600)
    again = scan(demo, cache_dir=cache, jobs=1)
    assert not planted.exists() and not again.reused and again.result == first.result
    for junk in (b"", data[:-5], data[:40], head + b"\x00" * 40):  # empty, cut short, damaged
        kept.write_bytes(junk)
        assert not scan(demo, cache_dir=cache, jobs=1).reused
    assert scan(demo, cache_dir=cache, jobs=1).reused


class _Boom:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def test_the_result_version_covers_every_analyzer_file_and_python(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    before = scan_cache.result_version()
    rules = Path(engine.__file__).parent / "rules"
    assert before == scan_cache.result_version()
    fake = tmp_path / "analyzers"
    shutil.copytree(rules.parent, fake, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(scan_cache, "__file__", str(fake / "scan_cache.py"))
    assert scan_cache.result_version() == before  # the same files: the same version
    for changed in (fake / "rules" / next(p.name for p in sorted(rules.glob("s*.py"))), fake / "checklists" / "database.toml"):
        changed.write_bytes(changed.read_bytes() + b"\n")
        assert scan_cache.result_version() != before, changed.name
        before = scan_cache.result_version()
    monkeypatch.setattr(sys, "version", sys.version + " other")
    assert scan_cache.result_version() != before


def test_a_reused_result_imports_neither_the_rules_nor_libcst(demo: Path, cache: Path) -> None:
    """What a warm scan with nothing changed costs is mostly imports: it needs none of these."""
    scan(demo, cache_dir=cache, jobs=1)
    code = (
        "import sys; from pathlib import Path; from analyzers.engine import scan; "
        f"s = scan({str(demo)!r}, cache_dir=Path({str(cache)!r}), jobs=1); "
        "heavy = ('libcst', 'analyzers.rules', 'analyzers.facts.model', 'pglast', 'multiprocessing'); "
        "print(s.reused, sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=CODE, check=True).stdout.strip()
    assert out == "True []"

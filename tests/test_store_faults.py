"""The review file under faults: a full disk, the file deleted or replaced while the app runs. The
app stays up and says what was not saved and why; what was saved before is never lost."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from analyzers.checklist import load_checklist
from analyzers.engine import scan
from tui import paths
from tui.review import Review
from tui.session import NotSaved, ReviewStore, SessionFileLost
from tui.session.state import Disposition

MODELS = "from sqlalchemy import Column, Float, Integer, String\nfrom sqlalchemy.orm import declarative_base\n\nBase = declarative_base()\n" + "".join(
    f'''

class Invoice{i}(Base):
    __tablename__ = "invoices_{i}"
    id = Column(Integer, primary_key=True)
    total = Column(Float)
    note = Column(String)
'''
    for i in range(12)
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "models.py").write_text(MODELS, encoding="utf-8")
    return repo


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 3 MB tmpfs to fill (CI runs as root); skipped where mounting is not allowed, but not under CI."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        why = f"cannot mount a small tmpfs to fill: {done.stderr.strip() or done.returncode}"
        if os.environ.get("CI"):
            pytest.fail(f"CI runs as root and must test a full disk: {why}")
        pytest.skip(why)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def fill(disk: Path) -> Path:
    """Take every free byte of the disk; returns the filler to delete."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        return filler
    finally:
        os.close(fd)


def started(repo: Path, db: Path) -> tuple[ReviewStore, int, list[str]]:
    store = ReviewStore.open(db)
    info = store.start_review(str(repo.resolve()), "database", "alice")
    result = scan(repo).result
    store.apply_scan(info.id, result, "alice")
    return store, info.id, [f.fingerprint for f in result.findings]


def test_a_full_disk_is_the_stores_own_error_and_loses_nothing_acknowledged(repo: Path, small_disk: Path) -> None:
    store, review, fingerprints = started(repo, small_disk / "reviews.sqlite3")
    assert len(fingerprints) >= 12
    filler = fill(small_disk)
    acknowledged, refused = [], []
    for fp in fingerprints:
        try:
            store.set_disposition(review, fp, Disposition.CONFIRMED, "alice", note="n" * 2000)
            acknowledged.append(fp)
        except NotSaved as exc:
            assert "not saved: the disk holding" in str(exc) and "is full" in str(exc)
            refused.append(fp)
    assert refused, "the disk never filled up"
    filler.unlink()
    store.set_disposition(review, refused[0], Disposition.CONFIRMED, "alice")  # room again: saved again
    store.close()
    with ReviewStore.open(small_disk / "reviews.sqlite3") as again:
        saved = {f.fingerprint: f.disposition for f in again.snapshot(review).findings}
    assert all(saved[fp] == Disposition.CONFIRMED for fp in acknowledged + refused[:1])
    assert all(saved[fp] == Disposition.UNTRIAGED for fp in refused[1:])


async def test_the_app_stays_up_on_a_full_disk_and_says_what_was_not_saved(repo: Path, small_disk: Path) -> None:
    from tui.app import ReviewApp

    app = ReviewApp(repo, small_disk, "alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        filler = fill(small_disk)
        for _ in range(12):  # the WAL may have room for a few: go on until one is refused
            await pilot.press("n", "c")
            await pilot.pause()
            if app.main.not_saving:
                break
        assert app.is_running
        assert "is full" in (app.main.not_saving or "")
        assert "NOT SAVING" in str(app.main.status.render())
        toasts = [n.message for n in app._notifications]
        assert any(t.startswith("Your last change was NOT saved: not saved: the disk holding") for t in toasts)
        filler.unlink()
        await pilot.press("n", "c")
        await pilot.pause()
        assert app.main.not_saving is None


@pytest.mark.parametrize("how", ["deleted", "replaced"])
async def test_a_review_file_deleted_or_replaced_while_open_is_rescued_and_said(repo: Path, data_dir: Path, how: str) -> None:
    from tui.app import ReviewApp

    db = paths.session_db(data_dir)
    app = ReviewApp(repo, data_dir, "alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        for _ in range(3):
            await pilot.press("n", "c")
            await pilot.pause()
        decided = {fp for fp, f in app.review.findings.items() if f.disposition == Disposition.CONFIRMED}
        assert len(decided) == 3
        if how == "deleted":
            db.unlink()
        else:
            other = data_dir / "other.sqlite3"
            ReviewStore.open(other).close()
            os.replace(other, db)
        await pilot.pause(0.8)  # a poll notices before the reviewer does anything
        problem = app.main.not_saving or ""
        assert f"was {how if how == 'deleted' else 'replaced by another file'} while dbreview had it open" in problem
        rescued = Path(problem.split("everything saved until then is in ")[1].split(":")[0])
        await pilot.press("n", "c")  # a fourth decision: refused, and said so
        await pilot.pause()
        assert any("Your last change was NOT saved" in n.message for n in app._notifications)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 2
    with ReviewStore.open(rescued) as store:
        info = store.find_review(str(repo.resolve()), "database")
        saved = {f.fingerprint for f in store.snapshot(info.id).findings if f.disposition == Disposition.CONFIRMED}
    assert saved == decided


def test_a_store_never_brings_a_deleted_file_back_empty(repo: Path, tmp_path: Path) -> None:
    db = tmp_path / "reviews.sqlite3"
    store, review, fingerprints = started(repo, db)
    store.set_disposition(review, fingerprints[0], Disposition.CONFIRMED, "alice")
    shutil.rmtree(tmp_path / "repo")
    db.unlink()
    with pytest.raises(SessionFileLost) as lost:
        store.set_disposition(review, fingerprints[1], Disposition.CONFIRMED, "alice")
    assert not db.exists()
    assert lost.value.rescued is not None and lost.value.rescued.exists()
    store.close()

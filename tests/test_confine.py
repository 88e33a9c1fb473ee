"""Nothing outside the repository is ever read, whatever its symbolic links: they are listed as
skipped, and the canaries planted outside never reach a report, the scan's facts or the screen."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from analyzers import confine
from analyzers.discover import discover
from analyzers.engine import scan
from tui import cli

CANARY = "CANARY-7f3a9c"
# Outside code that would give findings if it were read: a money column as Float (BIL001).
OUTSIDE_MODEL = f'''
from sqlalchemy import Column, Float, Integer
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class {CANARY.replace("-", "_")}(Base):
    __tablename__ = "{CANARY.lower().replace("-", "_")}"
    id = Column(Integer, primary_key=True)
    amount = Column(Float)
'''
INSIDE_MODEL = OUTSIDE_MODEL.replace(CANARY.replace("-", "_"), "Payment").replace(CANARY.lower().replace("-", "_"), "payments")


@pytest.fixture
def linked_repo(tmp_path: Path) -> Path:
    """A repository whose links lead out in every way the hostile run tried, and an outside full of canaries."""
    outside = tmp_path / "outside"
    (outside / "pkg").mkdir(parents=True)
    (outside / "secret.py").write_text(OUTSIDE_MODEL, encoding="utf-8")
    (outside / "pkg" / "models.py").write_text(OUTSIDE_MODEL, encoding="utf-8")
    (outside / "notes.md").write_text(f"# {CANARY}\n", encoding="utf-8")
    (outside / "settings.toml").write_text(f'exclude = ["models.py"]\ndocs = ["{CANARY}"]\n', encoding="utf-8")
    (outside / "alembic.ini").write_text(f"[alembic]\nscript_location = {CANARY}\n", encoding="utf-8")
    repo = tmp_path / "repo"
    (repo / "docs").mkdir(parents=True)
    (repo / "models.py").write_text(INSIDE_MODEL, encoding="utf-8")
    links = {
        "up": "..",
        "secret.py": str(outside / "secret.py"),
        "relative_secret.py": "../outside/secret.py",
        "pkg": str(outside / "pkg"),
        "etc": "/etc",
        "environ.py": "/proc/self/environ",
        "docs/passwd.md": "/etc/passwd",
        "docs/notes.md": str(outside / "notes.md"),
        "alembic.ini": str(outside / "alembic.ini"),
        "same_models.py": "models.py",  # a link that stays inside is followed
    }
    for name, target in links.items():
        os.symlink(target, repo / name)
    os.mkfifo(repo / "fifo.py")  # would block a plain open()
    return repo


LEAVING = ["up", "secret.py", "relative_secret.py", "pkg", "etc", "environ.py", "docs/passwd.md", "docs/notes.md",
           "alembic.ini"]


def test_links_out_of_the_repository_are_skipped_with_a_reason(linked_repo: Path) -> None:
    layout = discover(linked_repo)
    skipped = dict(layout.skipped)
    for name in LEAVING:
        assert "symbolic link out of the repository" in skipped.get(name, ""), name
    assert {c.path for c in layout.python} == {"models.py", "same_models.py"}
    assert layout.docs == [] and layout.alembic_ini == []


def test_no_canary_reaches_any_report(linked_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    found = scan(linked_repo)
    assert {f.rule_id for f in found.result.findings} >= {"BIL001"}  # the inside model is read
    assert all(CANARY not in "\n".join(lines) for lines in found.facts.sources.values())
    for fmt in cli.FORMATS:
        assert cli.main(["scan", str(linked_repo), "--format", fmt]) == 0
        out = capsys.readouterr().out
        assert CANARY not in out and CANARY.lower().replace("-", "_") not in out
        assert "root:" not in out  # /etc/passwd
    assert cli.main(["scan", str(linked_repo), "--explain-layout"]) == 0
    explained = capsys.readouterr().out
    assert CANARY not in explained
    assert "docs/passwd.md" in explained and "symbolic link out of the repository" in explained


@pytest.mark.parametrize("kind", ["link out", "fifo"])
def test_settings_that_lead_out_or_would_block_are_refused(linked_repo: Path, kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    settings = linked_repo / ".dbreview.toml"
    if kind == "fifo":
        os.mkfifo(settings)  # a plain open() would wait for a writer for ever
    else:
        os.symlink(linked_repo.parent / "outside" / "settings.toml", settings)
    assert cli.main(["scan", str(linked_repo)]) == 2
    err = capsys.readouterr().err
    assert ".dbreview.toml" in err and ("outside the repository" in err or "not a regular file" in err)
    assert CANARY not in err


def test_reads_refuse_what_is_outside_or_not_a_regular_file(linked_repo: Path) -> None:
    root = str(linked_repo.resolve())
    assert "Payment" in confine.read_text(root, "same_models.py")
    for rel in ("secret.py", "relative_secret.py", "pkg/models.py", "docs/passwd.md", "environ.py", "up/outside/secret.py",
                "../outside/secret.py", "/etc/passwd"):
        with pytest.raises(confine.Refused, match="outside the repository|not a path inside"):
            confine.read_bytes(root, rel)
    with pytest.raises(confine.Refused, match="not a regular file"):
        confine.read_bytes(root, "fifo.py")  # refused at once, not blocked on
    with pytest.raises(confine.Refused, match="not a regular file"):
        confine.read_bytes(root, "docs")
    with pytest.raises(confine.Refused, match="read limit"):
        confine.read_bytes(root, "models.py", limit=10)


def test_a_link_swapped_after_discovery_is_refused_when_read(linked_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Discovery saw a plain file; by the time it is read it is a link out: the read checks what it opened."""
    from analyzers import engine

    layout = discover(linked_repo)
    assert "models.py" in {c.path for c in layout.python}
    target = linked_repo / "models.py"
    target.unlink()
    os.symlink(linked_repo.parent / "outside" / "secret.py", target)
    monkeypatch.setattr(engine, "discover", lambda root, settings=None: layout)
    found = scan(linked_repo)
    assert all(CANARY not in "\n".join(lines) for lines in found.facts.sources.values())
    assert CANARY not in json.dumps([f.message for f in found.result.findings])
    assert any(e.path == "models.py" and "outside the repository" in e.message for e in found.result.errors)


async def test_the_app_never_shows_a_document_or_source_from_outside(linked_repo: Path, data_dir: Path) -> None:
    from tui.app import ReviewApp

    app = ReviewApp(linked_repo, data_dir, "alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert all(not d.path.startswith("docs/") for d in app.main.docs)
        with pytest.raises(OSError):
            app.main.source_text("docs/passwd.md")
        with pytest.raises(OSError):
            app.main.source_text("secret.py")
        assert CANARY not in app.export_screenshot()


def test_search_reads_no_link_out_and_no_fifo_swapped_in_after_the_walk(linked_repo: Path) -> None:
    """`/` searches every text file the walk listed; one replaced since by a link out or a FIFO is
    neither read nor waited on."""
    from tui.screens.search import RepositoryText

    (linked_repo / "notes.txt").write_text("inside\n")
    (linked_repo / "queue.txt").write_text("inside\n")
    text = RepositoryText(linked_repo)
    listed = text.files([])
    assert {"models.py", "notes.txt", "queue.txt"} <= set(listed) and "docs/passwd.md" not in listed
    (linked_repo / "notes.txt").unlink()
    os.symlink(linked_repo.parent / "outside" / "notes.md", linked_repo / "notes.txt")
    (linked_repo / "queue.txt").unlink()
    os.mkfifo(linked_repo / "queue.txt")
    assert text.lines("notes.txt") is None
    read: list[object] = []
    reader = threading.Thread(target=lambda: read.append(text.lines("queue.txt")), daemon=True)
    reader.start()
    reader.join(30)
    assert read == [None], "a plain open() of a FIFO waits for a writer for ever"
    assert "class Payment(Base):" in text.lines("models.py")

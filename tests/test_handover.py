"""A review handed over: `dbreview export --format json` on one machine, `dbreview import FILE PATH`
on another, where the code has moved on a little and a colleague has decided one finding already."""

from __future__ import annotations

import shutil

from analyzers.checklist import load_checklist
from tests.conftest import DEMO
from tui import cli
from tui.paths import session_db
from tui.review import Review
from tui.session import ReviewStore
from tui.session.state import Disposition, Verdict


def _review(repo, data_dir, reviewer) -> Review:
    return Review.open(ReviewStore.open(session_db(data_dir)), repo, reviewer, load_checklist("database"))


def _copy(target):
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("DEFECTS.md", "__pycache__"))
    return target


def test_export_on_one_machine_import_on_another(tmp_path, capsys, monkeypatch):
    here, there = tmp_path / "alice-data", tmp_path / "bob-data"
    repo_a, repo_b = _copy(tmp_path / "a" / "demo"), _copy(tmp_path / "b" / "demo")
    monkeypatch.setenv("DBREVIEW_DATA_DIR", str(here))
    alice = _review(repo_a, here, "alice")
    from analyzers.engine import scan

    alice.apply_scan(scan(repo_a).result)
    alice.reload()
    by_rule = {}
    for f in alice.findings.values():
        by_rule.setdefault(f.rule_id, f)
    confirmed, dismissed, downgraded = by_rule["CFG003"], by_rule["CFG004"], by_rule["CFG001"]
    alice.confirm(confirmed.fingerprint)
    alice.annotate(confirmed.fingerprint, "seen in prod")
    alice.dismiss(dismissed.fingerprint, "false positive", "RESET ALL is enough here")
    alice.downgrade(downgraded.fingerprint)
    alice.set_verdict("1.3", Verdict.FAIL, "tenant id spliced into SQL")
    alice.set_answer("q1.1", "Yes, in a checkout listener.")
    alice.store.close()
    export = tmp_path / "review.json"
    assert cli.main(["export", str(repo_a), "--format", "json", "--exit-zero", "-o", str(export)]) == 0

    # Bob's machine: the same code, moved down three lines, and his own decision on one finding.
    db = repo_b / "apps" / "backend" / "src" / "database.py"
    db.write_text("# moved\n\n\n" + db.read_text())
    monkeypatch.setenv("DBREVIEW_DATA_DIR", str(there))
    bob = _review(repo_b, there, "bob")
    bob.apply_scan(scan(repo_b).result)
    bob.reload()
    mine = next(f for f in bob.findings.values() if f.rule_id == "CFG004")
    bob.confirm(mine.fingerprint)
    bob.store.close()
    capsys.readouterr()

    assert cli.main(["--reviewer", "bob", "import", str(export), str(repo_b)]) == 0
    said = capsys.readouterr().out
    assert said.startswith("Imported 2 decisions, 1 note, 1 verdict and 1 answer")
    assert "1 differ from this review, which keeps its own:" in said
    assert "CFG004 at apps/backend/src/database.py:" in said and "confirmed here, dismissed (false positive) by alice in the file" in said

    bob = _review(repo_b, there, "bob")
    states = {f.rule_id: f for f in bob.findings.values() if f.rule_id in ("CFG003", "CFG004", "CFG001") and f.disposition != "untriaged"}
    assert states["CFG003"].disposition == Disposition.CONFIRMED and [n.text for n in states["CFG003"].notes] == ["seen in prod"]
    assert states["CFG003"].start_line == confirmed.start_line + 3, "matched although it moved"
    assert states["CFG004"].disposition == Disposition.CONFIRMED, "bob's own decision is kept"
    assert states["CFG001"].disposition == Disposition.DOWNGRADED
    assert [e.reviewer for e in bob.history(states["CFG003"].fingerprint) if e.kind == "disposition"] == ["alice"], "in alice's name"
    assert (bob.item("1.3").verdict, bob.item("1.3").reviewer) == (Verdict.FAIL, "alice")
    assert bob.answer("q1.1").text == "Yes, in a checkout listener."

    assert cli.main(["import", str(export), str(repo_b)]) == 0, "again: nothing new"
    assert capsys.readouterr().out.startswith("Imported 0 decisions, 0 notes, 0 verdicts and 0 answers")


def test_a_file_that_is_no_export_is_refused_in_one_line(tmp_path, capsys):
    bad = tmp_path / "x.json"
    bad.write_text('{"runs": []}')
    repo = _copy(tmp_path / "demo")
    assert cli.main(["import", str(bad), str(repo)]) == 2
    assert "not a JSON export of dbreview" in capsys.readouterr().err


def test_an_export_with_a_hostile_name_or_a_bad_part_is_refused_whole(tmp_path, capsys, monkeypatch):
    """A file from elsewhere whose reviewer names hold escapes (OSC 52, CSI 2J, RLO), or whose parts
    are not what an export holds: one line, exit 2, and nothing of it (not even the scan) stored.
    (The names crashed the import half-way, exit 3; a bad part raised out of it.)"""
    import json

    repo = _copy(tmp_path / "demo")
    from analyzers.engine import scan

    monkeypatch.setenv("DBREVIEW_DATA_DIR", str(tmp_path / "theirs"))
    alice = _review(repo, tmp_path / "theirs", "alice")
    alice.apply_scan(scan(repo).result)
    alice.store.close()
    assert cli.main(["--reviewer", "alice", "export", str(repo), "--format", "json", "--exit-zero", "-o", str(tmp_path / "ok.json")]) == 0
    document = json.loads((tmp_path / "ok.json").read_text())
    hostile = "mallory\x1b]52;c;Y2FuYXJ5\x07\x1b[2J\u202e"
    broken = {
        "names": {**document, "items": [{"item_id": "1.1", "verdict": "fail", "notes": "", "reviewer": hostile}]},
        "verdict": {**document, "items": [{"item_id": "1.1", "verdict": "dreadful", "reviewer": "bob"}]},
        "shape": {**document, "events": ["not an event"]},
        "review": {**document, "review": []},
    }
    monkeypatch.setenv("DBREVIEW_DATA_DIR", str(tmp_path / "ours"))
    capsys.readouterr()
    said = {}
    for name, bad in broken.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(bad))
        assert cli.main(["--reviewer", "bob", "import", str(path), str(repo)]) == 2, name
        said[name] = capsys.readouterr().err
        assert len(said[name].splitlines()) == 1 and "nothing was imported" in said[name], said[name]
    assert "a reviewer's name in it cannot be used: it holds U+001B (␛) at character 8" in said["names"]
    assert "'dreadful' is not a valid Verdict" in said["verdict"]
    assert not session_db(tmp_path / "ours").exists()

"""Text from the repository, the session file or a reviewer reaches the screen as text: never parsed
as markup, never with a raw control, bidirectional or zero-width character. Reviewer names that
would not show as themselves are refused when given; names already stored show with placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from analyzers.checklist import load_checklist
from analyzers.engine import scan
from tui import cli, paths
from tui.reports import FORMATS, render
from tui.reports.sanitize import name_problem, printable
from tui.review import Review
from tui.session import ReviewStore
from tui.session.state import Disposition

# OSC 52 (clipboard write), OSC 0 (window title), CSI 2J (clear screen), RLO: what the hostile run sent.
PAYLOAD = "\x1b]52;c;Y2FuYXJ5\x07\x1b]0;pwned\x07\x1b[2J\u202e"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")
MARKUP_NAME = "d[x/m=alert(1)>.py"

MODEL = '''from sqlalchemy import Column, Float, Integer
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Payment(Base):
    __tablename__ = "payments"
    id = Column(Integer, primary_key=True)
    amount = Column(Float)  # [bold red]alert[/] zero\u200bwidth
'''


@pytest.fixture
def hostile_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo[red]"
    repo.mkdir()
    (repo / MARKUP_NAME).parent.mkdir()
    (repo / MARKUP_NAME).write_text(MODEL, encoding="utf-8")
    return repo


def _stored_review(repo: Path, data: Path) -> Review:
    store = ReviewStore.open(paths.session_db(data))
    review = Review.open(store, repo, "alice", load_checklist("database"))
    review.apply_scan(scan(repo).result)
    review.reload()
    return review


def _as_mallory(data: Path) -> None:
    """A name stored before names were checked (or by a foreign tool): written past the store."""
    engine = create_engine(f"sqlite:///{paths.session_db(data)}")
    with engine.begin() as con:
        con.execute(text("UPDATE events SET reviewer = :who WHERE kind = 'note'"), {"who": "mallory" + PAYLOAD})
        con.execute(text("UPDATE events SET note = :note WHERE kind = 'note'"), {"note": "see " + PAYLOAD + " [b]here[/b]"})
    engine.dispose()


def _screen_is_clean(app) -> str:
    screen = app.export_screenshot()
    assert not RAW.search(screen), repr(RAW.search(screen).group())
    assert "Y2FuYXJ5\x07" not in screen
    return screen


def test_printable_flags_zero_width_and_bidi_marks() -> None:
    for ch in "\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u202a\u202e\u2066\u2069\u061c":
        assert printable(f"a{ch}b") == f"a<U+{ord(ch):04X}>b"
    assert printable("naïve — ok ✓") == "naïve — ok ✓"


def test_printable_shows_every_control_character_and_only_those() -> None:
    """Every character of the first planes, alone and among others: a placeholder exactly where the
    table has one (printable searches for them instead of translating every character)."""
    from tui.reports.sanitize import _PLACEHOLDERS

    text = "".join(map(chr, range(0x3000))).replace("\r", "") + "\ufeff \r\n x\r"
    assert printable(text) == text.replace("\r\n", "\n").translate(_PLACEHOLDERS)
    assert printable("a\r\nb\rc\x1b[2J") == "a\nb\u240dc\u241b[2J"


@pytest.mark.parametrize("name", ["alice", "Zoë Ó'Brien", "李雷", "bob (reviewer 2)"])
def test_any_printable_name_is_a_name(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize("name", ["a\x1b]52;c;eA==\x07", "a\x1b[2J", "a\u202eb", "a\u200bb", "a\nb", "a\x9bb", ""])
def test_names_that_would_not_show_as_themselves_are_refused(name: str, tmp_path: Path, capsys) -> None:
    assert name_problem(name) is not None
    assert cli.main(["--reviewer", name or "x\x00", "open", str(cli.BUNDLED_DEMO)]) == 2
    err = capsys.readouterr().err
    assert "reviewer" in err and not RAW.search(err)
    with ReviewStore.open(tmp_path / "r.sqlite3") as store:
        with pytest.raises(ValueError, match="reviewer's name"):
            store.start_review(str(tmp_path), "database", name or "\x00")


def test_a_hostile_login_name_is_refused_too(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("LOGNAME", "eve\x1b]0;owned\x07")
    monkeypatch.setenv("USER", "eve\x1b]0;owned\x07")
    assert cli.main(["open", str(cli.BUNDLED_DEMO)]) == 2
    assert "login name" in capsys.readouterr().err


async def test_search_and_palette_show_a_file_name_with_brackets_as_text(hostile_repo: Path, data_dir: Path) -> None:
    """`d[x/m=alert(1)>.py` crashed search with a MarkupError (exit 1)."""
    from textual.widgets import OptionList

    from tui.app import ReviewApp

    app = ReviewApp(hostile_repo, data_dir, "alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("slash", *"alert")
        options = app.screen.query_one(OptionList)
        for _ in range(100):  # the search starts after a pause in typing and runs in a worker
            await pilot.pause(0.05)
            if any(MARKUP_NAME in str(options.get_option_at_index(i).prompt) for i in range(options.option_count)):
                break
        await app.workers.wait_for_complete()
        await pilot.pause()
        shown = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert any(MARKUP_NAME in line for line in shown), shown
        assert any("[bold red]alert[/]" in line for line in shown), shown
        assert any("zero<U+200B>width" in line for line in shown), shown
        _screen_is_clean(app)
        await pilot.press("escape")
        await pilot.press("ctrl+p", *"BIL")
        await pilot.pause(0.5)
        screen = _screen_is_clean(app)
        assert "d[x/m=alert(1)&gt;.py" in screen or "d[x/m=alert(1)>.py" in screen


async def test_names_notes_and_messages_already_stored_show_with_placeholders(hostile_repo: Path, data_dir: Path) -> None:
    review = _stored_review(hostile_repo, data_dir)
    money = next(f for f in review.findings.values() if f.rule_id == "BIL001")
    review.annotate(money.fingerprint, "a note")
    review.dismiss(money.fingerprint, "false positive", "ok")
    review.store.set_cursor(review.info.id, "bob", f"finding:{money.fingerprint}")
    review.store.close()
    _as_mallory(data_dir)
    engine = create_engine(f"sqlite:///{paths.session_db(data_dir)}")
    with engine.begin() as con:  # the other person of a pair review, present, named with escapes
        con.execute(text("UPDATE cursors SET reviewer = :who"), {"who": "bob" + PAYLOAD})
    engine.dispose()

    from tui.app import ReviewApp
    from tui.widgets.checklist_tree import ChecklistTree

    app = ReviewApp(hostile_repo, data_dir, "alice", scan=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause(0.8)  # a poll: presence and the others' changes
        app.query_one(ChecklistTree).select_id(f"finding:{money.fingerprint}")
        await pilot.pause()
        screen = _screen_is_clean(app)
        assert "mallory␛]52;c;Y2FuYXJ5␇" in screen  # the note's author, visible for what it is
        assert "[b]here[/b]" in screen
        await pilot.press("x")  # the dismiss dialog quotes the message
        await pilot.pause()
        _screen_is_clean(app)
        await pilot.press("escape", "s")  # the summary names the repository folder `repo[red]`
        await pilot.pause()
        assert "repo[red]" in _screen_is_clean(app)


def test_exports_flag_what_the_screen_flags(hostile_repo: Path, data_dir: Path) -> None:
    """Marks in the code, in a file name, in a table name and in a stored reviewer name: every
    format shows each as a placeholder (JSON as a \\u escape, SARIF's URIs percent-encoded)."""
    (hostile_repo / "bi\u202edi.py").write_text(MODEL.replace('"payments"', '"pay\u2066ments"'), encoding="utf-8")
    review = _stored_review(hostile_repo, data_dir)
    money = next(f for f in review.findings.values() if f.rule_id == "BIL001")
    review.annotate(money.fingerprint, "a note")
    review.store.close()
    _as_mallory(data_dir)
    with ReviewStore.open(paths.session_db(data_dir)) as store:
        snapshot = store.snapshot(store.find_review(str(hostile_repo.resolve()), "database").id)
    for fmt in FORMATS:
        out = render(fmt, load_checklist("database"), snapshot)
        assert not RAW.search(out), (fmt, RAW.search(out))
        shown = out.replace("&lt;", "<").replace("&gt;", ">").lower()
        assert "pay<u+2066>ments" in shown or "pay\\u2066ments" in shown, fmt  # the table, in every message
        if fmt != "sarif":  # SARIF's uri is percent-encoded (%E2%80%AE): no raw mark either way
            assert "bi<u+202e>di.py" in shown or "bi\\u202edi.py" in shown, fmt
        if fmt in ("markdown", "html", "sarif", "json"):  # the formats that carry the code
            assert "zero<u+200b>width" in shown or "zero\\u200bwidth" in shown, fmt
    markdown = render("markdown", load_checklist("database"), snapshot)
    assert "mallory␛]52;c;Y2FuYXJ5␇" in markdown.replace("\\", "")

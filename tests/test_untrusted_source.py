"""Source under review is untrusted: escape sequences in it must never reach the terminal."""

from __future__ import annotations

import re

from tui.app import ReviewApp
from tui.widgets.checklist_tree import ChecklistTree
from tui.widgets.source_view import SourceView

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")
HOSTILE = "\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\x9b31m"  # OSC 52 clipboard write, clear screen, C1 CSI

MODEL = f'''
from sqlalchemy import Column, Float, Integer
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Payment(Base):
    """{HOSTILE}"""
    __tablename__ = "payments"
    id = Column(Integer, primary_key=True)
    amount = Column(Float)  # {HOSTILE}
'''


async def test_control_characters_are_shown_as_placeholders(tmp_path, data_dir):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "models.py").write_text(MODEL, encoding="utf-8")
    app = ReviewApp(repo, data_dir, "alice")
    async with app.run_test(size=(120, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        money = next(f for f in app.review.findings.values() if f.rule_id == "BIL001")
        assert "\x1b" in "".join(money.evidence), "the evidence really carries the escape"
        app.query_one(ChecklistTree).select_id(f"finding:{money.fingerprint}")
        await pilot.pause()
        await pilot.pause()
        view = app.query_one(SourceView)
        shown = [view.render_line(y).text for y in range(view.size.height)]
        assert any("amount" in line for line in shown)
        assert not any(CONTROL.search(line) for line in shown)
        assert any("␛" in line for line in shown), "the ESC is visible as a placeholder"
        screen = app.export_screenshot()
        assert "cm0gLXJmIH4=\x07" not in screen and "\x9b" not in screen

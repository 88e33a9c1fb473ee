"""Two reviewers in one review, two app instances on one session file: each sees the other's
decisions without pressing anything, sees where the other is, and can follow them."""

from __future__ import annotations

from tui.app import POLL_EVERY, ReviewApp
from tui.session.state import Disposition
from tui.widgets.checklist_tree import ChecklistTree


async def test_two_reviewers_see_each_other(scanned, data_dir):
    alice = ReviewApp(scanned.repo, data_dir, "alice", scan=False)
    bob = ReviewApp(scanned.repo, data_dir, "bob", scan=False)
    async with alice.run_test(size=(100, 30)) as pa, bob.run_test(size=(100, 30)) as pb:
        await pa.pause()
        await pb.pause()
        await pa.press("n")
        await pa.pause()
        key = alice.query_one(ChecklistTree).current.key
        await pa.press("c")
        await pa.pause(POLL_EVERY * 3)
        await pb.pause(POLL_EVERY * 3)
        assert bob.review.findings[key].disposition == Disposition.CONFIRMED, "bob sees alice's decision by himself"
        assert "alice" in bob.query_one(ChecklistTree).node(f"finding:{key}").label.plain, "and where she is"
        assert "with alice" in str(bob.query_one("#status").render())

        await pb.press("F")  # bob follows alice
        await pa.press("n")
        await pa.pause(1.0)
        await pb.pause(POLL_EVERY * 3)
        assert bob.query_one(ChecklistTree).current == alice.query_one(ChecklistTree).current

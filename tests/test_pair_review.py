"""Two reviewers in one review, two app instances on one session file: each sees the other's
decisions without pressing anything, sees where the other is, and can follow them."""

from __future__ import annotations

from tui.app import ReviewApp
from tui.controllers.presence import POLL_EVERY
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
        await pa.press("c")  # and on to the next untriaged finding
        await pa.pause(POLL_EVERY * 3)
        await pb.pause(POLL_EVERY * 3)
        assert bob.review.findings[key].disposition == Disposition.CONFIRMED, "bob sees alice's decision by himself"
        there = alice.query_one(ChecklistTree).current.id
        assert there != f"finding:{key}"
        marked = [n for n in bob.query_one(ChecklistTree).by_id.values() if "▸alice" in n.label.plain]
        assert len(marked) == 1, "and where she is: on her node, or the closed node above it"
        ancestors = []
        node = bob.query_one(ChecklistTree).node(there)
        while node is not None:
            ancestors.append(node)
            node = node.parent
        assert marked[0] in ancestors
        assert "with alice" in str(bob.query_one("#status").render())

        await pb.press("F")  # bob follows alice
        await pa.press("n")
        await pa.pause(1.0)
        await pb.pause(POLL_EVERY * 3)
        assert bob.query_one(ChecklistTree).current == alice.query_one(ChecklistTree).current

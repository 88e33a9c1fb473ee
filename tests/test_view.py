"""v narrows the tree to the findings asked for (state, severity, rule, file) and groups them by
item, rule or file; dismissed and resolved findings fold away under their parent."""

from __future__ import annotations

from tests.conftest import fixed_clock
from tui.app import ReviewApp
from tui.session.state import Disposition
from tui.view import View, buckets
from tui.widgets.checklist_tree import ChecklistTree, NodeKind


def test_a_view_keeps_what_it_names(scanned):
    view = View(states=frozenset({"untriaged"}), severities=frozenset({"critical"}))
    shown = [f for found in buckets(scanned, view).values() for f in found]
    assert shown and all(f.severity == "critical" and f.disposition == "untriaged" for f in shown)
    assert len(shown) == sum(1 for f in scanned.findings.values() if f.severity == "critical")
    assert view.describe() == "critical untriaged"
    by_rule = buckets(scanned, View(rule="cfg", group_by="rule"))
    assert list(by_rule) and all(key.startswith("rule:CFG") for key in by_rule)
    worst = [min(f.severity.rank for f in found) for found in by_rule.values()]
    assert worst == sorted(worst), "the worst rules first"
    by_file = buckets(scanned, View(file="billing", group_by="file"))
    assert by_file and all("billing" in key for key in by_file)


async def test_filter_to_critical_untriaged_in_the_app(scanned, data_dir):
    app = ReviewApp(scanned.repo, data_dir, "alice", scan=False, clock=fixed_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("v")
        await pilot.pause()
        await pilot.press("space")  # states: untriaged is the first
        await pilot.press("tab", "space")  # severities: critical is the first
        await pilot.press("ctrl+s")
        await pilot.pause()
        tree = app.query_one(ChecklistTree)
        critical = {f.fingerprint for f in scanned.findings.values() if f.severity == "critical"}
        assert set(tree.finding_order()) == critical
        assert "critical untriaged: " in str(app.main.status.render())
        assert not any(k.startswith(("question:", "doc:")) for k in tree.by_id), "only what leads to a finding"
        await pilot.press("n")
        await pilot.pause()
        assert tree.current.key in critical
        await pilot.press("c")  # confirmed, and on to the next critical one
        await pilot.pause()
        assert tree.current.key in critical

        await pilot.press("v", "ctrl+r")  # everything again
        await pilot.pause()
        assert len(tree.finding_order()) == len(scanned.findings)


async def test_group_by_rule_and_a_dismissed_finding_folds_away(scanned, data_dir):
    app = ReviewApp(scanned.repo, data_dir, "alice", scan=False, clock=fixed_clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        tree = app.query_one(ChecklistTree)
        tree.populate(app.review, app.main.docs, View(group_by="rule"))
        await pilot.pause()
        assert all(n.data.kind in (NodeKind.RULE, NodeKind.ERRORS) for n in tree.root.children)
        fp = tree.finding_order()[0]
        tree.select_id(f"finding:{fp}")
        await pilot.pause()
        await pilot.press("x", "enter", "enter")  # dismissed as a false positive, no note
        await pilot.pause()
        assert app.review.findings[fp].disposition == Disposition.DISMISSED
        node = tree.by_id[f"finding:{fp}"]
        assert node.parent.data.kind == NodeKind.FOLD, "under the fold now"
        assert "1 dismissed or resolved" in str(node.parent.label)

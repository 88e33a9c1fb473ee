"""Command palette: every checklist item, question and finding by name."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui import untrusted
from tui.labels import plain
from tui.reports.sanitize import one_line


class ChecklistCommands(Provider):
    def _entries(self):
        app = self.app
        review = getattr(app, "review", None)
        if review is None:
            return
        for item in review.checklist.items:
            yield f"{item.id} {plain(item.text)}", f"item:{item.id}"
        for q in review.checklist.questions:
            yield f"{q.id} {plain(q.text)}", f"question:{q.id}"
        for f in review.findings.values():
            yield one_line(f"{f.rule_id} {f.message[:80]} ({f.path}:{f.start_line})"), f"finding:{f.fingerprint}"

    def _go(self, node_id: str) -> None:
        from tui.widgets.checklist_tree import ChecklistTree

        self.app.query_one(ChecklistTree).select_id(node_id)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, node_id in self._entries():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, untrusted.highlighted(matcher, text), partial(self._go, node_id), text=text, help="go to")

    async def discover(self) -> Hits:
        for text, node_id in list(self._entries())[:40]:
            yield DiscoveryHit(untrusted.line(text), partial(self._go, node_id), text=text, help="go to")

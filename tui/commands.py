"""Command palette: every section, group, checklist item, question and finding by name (the
actions come from the keymap, through the App's system commands)."""

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
        for section in review.checklist.sections:
            yield f"{section.number} {section.title} (section)", f"section:{section.id}"
            for group in section.groups:
                yield f"{group.title} {group.files} (section {section.number})", f"group:{section.id}.{group.key}"
        for item in review.checklist.items:
            yield f"{item.id} {plain(item.text)}", f"item:{item.id}"
        for q in review.checklist.questions:
            yield f"{q.id} {plain(q.text)}", f"question:{q.id}"
        for f in review.findings.values():
            yield one_line(f"{f.rule_id} {f.message[:80]} ({f.path}:{f.start_line})"), f"finding:{f.fingerprint}"

    def _go(self, node_id: str) -> None:
        self.app.main.goto(node_id)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, node_id in self._entries():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, untrusted.highlighted(matcher, text), partial(self._go, node_id), text=text, help="go to")

    async def discover(self) -> Hits:
        for text, node_id in list(self._entries())[:40]:
            yield DiscoveryHit(untrusted.line(text), partial(self._go, node_id), text=text, help="go to")

"""The dbreview application: the checklist on the left, the evidence on the right."""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Footer, Static, Tree
from textual.worker import Worker, WorkerState, get_current_worker

from analyzers.checklist import load_checklist
from analyzers.findings import Finding
from tui import labels, paths
from tui.commands import ChecklistCommands
from tui.review import Review
from tui.screens.dialogs import DismissDialog, TextDialog
from tui.screens.help import HelpScreen
from tui.session import ConflictError, ReviewStore, SessionStoreError
from tui.session.state import Verdict, state_of
from tui.widgets.checklist_tree import ChecklistTree, NodeRef
from tui.widgets.detail import DetailPanel, finding_detail, item_detail, question_detail
from tui.widgets.source_view import SourceView

CURSOR_SAVE_DELAY = 0.5  # seconds of stillness before the cursor position is written


class ReviewApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "dbreview"
    COMMANDS = App.COMMANDS | {ChecklistCommands}
    BINDINGS = [
        Binding("tab", "focus_next", "Pane", id="pane.next"),
        Binding("c", "confirm", "Confirm", id="finding.confirm"),
        Binding("d", "downgrade", "Downgrade", id="finding.downgrade"),
        Binding("x", "dismiss_finding", "Dismiss", id="finding.dismiss"),
        Binding("a", "annotate", "Note", id="annotate"),
        Binding("p", "verdict('pass')", "Pass", id="verdict.pass"),
        Binding("w", "verdict('warning')", "Warn", id="verdict.warning"),
        Binding("f", "verdict('fail')", "Fail", id="verdict.fail"),
        Binding("minus", "verdict('n/a')", "N/A", id="verdict.na"),
        Binding("n", "next_untriaged", "Next", id="finding.next"),
        Binding("N", "previous_untriaged", "Prev", show=False, id="finding.previous"),
        Binding("e", "edit", "Edit", show=False, id="edit"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("q", "quit", "Quit", id="quit"),
    ]
    ACTION_HELP = {
        "focus_next": "switch between the checklist and the source",
        "confirm": "confirm the finding",
        "downgrade": "downgrade the finding one severity step",
        "dismiss_finding": "dismiss the finding, with a reason",
        "annotate": "annotate the finding, note on the item, or answer the question",
        "verdict('pass')": "item verdict: pass",
        "verdict('warning')": "item verdict: warning",
        "verdict('fail')": "item verdict: fail",
        "verdict('n/a')": "item verdict: not applicable",
        "next_untriaged": "next untriaged finding",
        "previous_untriaged": "previous untriaged finding",
        "edit": "open $EDITOR at the finding's line",
        "help": "this help",
        "quit": "quit (everything is already saved)",
    }

    @dataclass
    class ScanProgressed(Message):
        stage: str
        done: int
        total: int

    @dataclass
    class FindingsFound(Message):
        findings: list[Finding]

    @dataclass
    class ScanFinished(Message):
        summary: str
        docs: list[str]

    def __init__(
        self, repo: Path, data_dir: Path, reviewer: str, checklist: str = "database", *, scan: bool = True, clock=None
    ) -> None:
        super().__init__()
        self.clock = clock  # the store's time source: fixed in snapshot tests
        self.repo = Path(repo).resolve()
        self.data_dir = data_dir
        self.reviewer = reviewer
        self.checklist = load_checklist(checklist)
        self.scan_on_start = scan
        self.review: Review | None = None
        self.docs: list[str] = []
        self._sources: dict[str, str] = {}
        self._cursor_timer = None
        self._scan_status = ""
        if _sixteen_colours():
            self.theme = "ansi-dark"

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield ChecklistTree(id="tree")
            with Vertical(id="right"):
                yield DetailPanel(id="detail")
                yield SourceView(id="source")
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = str(self.repo)
        try:
            store = ReviewStore.open(paths.session_db(self.data_dir), clock=self.clock)
        except SessionStoreError as exc:
            self.exit(message=str(exc))
            return
        self.review = Review.open(store, self.repo, self.reviewer, self.checklist)
        tree = self.query_one(ChecklistTree)
        tree.populate(self.review, self.docs)
        tree.focus()
        cursor = self.review.saved_cursor()
        if not (cursor and tree.select_id(cursor)):
            self.query_one(SourceView).show_message("Select a finding to see its code. ? shows every key.")
        self._refresh_status()
        if self.scan_on_start:
            self._scan_status = "scanning…"
            self.run_scan()

    async def action_quit(self) -> None:
        self._save_cursor()  # the debounce timer may not have fired yet
        self.exit()

    def on_unmount(self) -> None:
        if self.review is not None:
            self.review.store.close()

    # -- the scan --------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="scan", exit_on_error=False)
    def run_scan(self) -> None:
        from analyzers.engine import scan

        worker = get_current_worker()
        result = scan(
            self.repo,
            cache_dir=paths.scan_cache_dir(self.data_dir),
            progress=lambda stage, done, total: self.post_message(self.ScanProgressed(stage, done, total)),
            on_findings=lambda found: self.post_message(self.FindingsFound(found)),
            is_cancelled=lambda: worker.is_cancelled,
        )
        if worker.is_cancelled or self.review is None:
            return
        diff = self.review.apply_scan(result.result)
        errors = len(result.result.errors)
        summary = f"scanned {result.result.files_scanned} files in {result.timings['total']:.1f}s: {diff}"
        if errors:
            summary += f" · {errors} scan error(s)"
        self.post_message(self.ScanFinished(summary, [d.path for d in result.facts.docs]))

    def on_review_app_scan_progressed(self, message: ScanProgressed) -> None:
        self._scan_status = f"scanning: {message.done}/{message.total} files"
        self._refresh_status()

    def on_review_app_findings_found(self, message: FindingsFound) -> None:
        """Show findings as the rules produce them; the saved review replaces them when the scan ends."""
        tree = self.query_one(ChecklistTree)
        review = self.review
        if review is None:
            return
        for f in message.findings:
            node = tree.by_id.get(f"item:{f.item_id}")
            if node is not None and f.fingerprint not in review.findings:
                node.add_leaf(labels.finding_label(state_of(f)), NodeRef("pending", f.rule_id))

    def on_review_app_scan_finished(self, message: ScanFinished) -> None:
        assert self.review is not None
        self.review.reload()
        self.docs = message.docs
        tree = self.query_one(ChecklistTree)
        tree.populate(self.review, self.docs)
        self._scan_status = message.summary
        self._refresh_status()
        self._show(tree.current)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self._scan_status = f"scan failed: {event.worker.error}"
            self._refresh_status()
            self.notify(f"The scan failed: {event.worker.error}", severity="error", timeout=10)

    # -- showing what is selected ------------------------------------------------------------

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted) -> None:
        self._show(event.node.data)
        if self._cursor_timer is not None:
            self._cursor_timer.stop()
        self._cursor_timer = self.set_timer(CURSOR_SAVE_DELAY, self._save_cursor)

    def _save_cursor(self) -> None:
        trees = self.query(ChecklistTree)
        current = trees.first().current if trees else None
        if self.review is not None and current is not None and current.kind != "pending":
            self.review.save_cursor(current.id)

    def _show(self, ref: NodeRef | None) -> None:
        review = self.review
        if review is None or ref is None:
            return
        detail, source = self.query_one(DetailPanel), self.query_one(SourceView)
        if ref.kind == "finding" and ref.key in review.findings:
            f = review.findings[ref.key]
            detail.show(finding_detail(f, review, review.history(f.fingerprint)))
            self._show_file(f.path, f.start_line, f.end_line)
        elif ref.kind == "item":
            detail.show(item_detail(ref.key, review))
            first = next(iter(review.findings_of(ref.key)), None)
            if first is not None:
                self._show_file(first.path, first.start_line, first.end_line)
            else:
                source.show_message("No finding under this item: judge it from the code and the documents.")
        elif ref.kind == "question":
            detail.show(question_detail(ref.key, review))
        elif ref.kind == "doc":
            detail.show(Text(ref.key, "bold"))
            self._show_file(ref.key)
        elif ref.kind == "section":
            section = review.checklist.section(ref.key)
            detail.show(Text.assemble((f"{section.number} {section.title}", "bold"), f"\n{section.scope}", style=""))

    def _show_file(self, path: str, start: int = 0, end: int = -1) -> None:
        source = self.query_one(SourceView)
        text = self._sources.get(path)
        if text is None:
            try:
                text = (self.repo / path).read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                source.show_message(f"{path} cannot be read now: {exc.strerror or exc}")
                return
            self._sources[path] = text
        source.show(path, text, start, end)

    def _refresh_status(self) -> None:
        progress = str(self.review.progress()) if self.review else ""
        self.query_one("#status", Static).update(Text.assemble((progress, "bold"), "  ", (self._scan_status, "dim")))

    # -- acting ------------------------------------------------------------------------------

    def _current_finding(self) -> str | None:
        ref = self.query_one(ChecklistTree).current
        if ref is not None and ref.kind == "finding" and self.review and ref.key in self.review.findings:
            return ref.key
        self.notify("Select a finding first (n jumps to the next untriaged one).", severity="warning")
        return None

    def _current_item(self) -> str | None:
        ref = self.query_one(ChecklistTree).current
        if ref is not None and ref.kind == "item":
            return ref.key
        if ref is not None and ref.kind == "finding" and self.review and ref.key in self.review.findings:
            return self.review.findings[ref.key].item_id
        self.notify("Select a checklist item (or one of its findings) first.", severity="warning")
        return None

    def _decide(self, fingerprint: str, act) -> None:
        """Run one decision; a lost race shows the other reviewer's change instead."""
        assert self.review is not None
        try:
            act()
        except ConflictError as exc:
            self.review.findings[fingerprint] = exc.current
            self.notify(f"Someone changed this finding first: {exc}", severity="warning", timeout=8)
        except ValueError as exc:
            self.notify(str(exc), severity="warning")
        self._after_change(fingerprint)

    def _after_change(self, fingerprint: str | None = None) -> None:
        assert self.review is not None
        tree = self.query_one(ChecklistTree)
        if fingerprint is not None:
            tree.relabel(self.review, finding=fingerprint)
        else:
            tree.relabel(self.review)
        self._show(tree.current)
        self._refresh_status()

    def action_confirm(self) -> None:
        fp = self._current_finding()
        if fp:
            self._decide(fp, lambda: self.review.confirm(fp))

    def action_downgrade(self) -> None:
        fp = self._current_finding()
        if fp:
            self._decide(fp, lambda: self.review.downgrade(fp))

    def action_dismiss_finding(self) -> None:
        fp = self._current_finding()
        if not fp:
            return

        def done(answer: tuple[str, str] | None) -> None:
            if answer is not None:
                reason, note = answer
                self._decide(fp, lambda: self.review.dismiss(fp, reason, note or None))

        self.push_screen(DismissDialog(self.review.findings[fp].message[:60]), done)

    def action_annotate(self) -> None:
        ref = self.query_one(ChecklistTree).current
        review = self.review
        if ref is None or review is None:
            return
        if ref.kind == "finding" and ref.key in review.findings:
            self.push_screen(TextDialog("Note on this finding"), lambda text: text and self._decide(ref.key, lambda: review.annotate(ref.key, text)))
        elif ref.kind == "item":
            state = review.item(ref.key)

            def save_notes(text: str | None) -> None:
                if text is not None:
                    review.set_verdict(ref.key, Verdict(state.verdict), text)
                    self._after_change()

            self.push_screen(TextDialog(f"Notes on item {ref.key}", state.notes), save_notes)
        elif ref.kind == "question":
            answer = review.answer(ref.key)

            def save_answer(text: str | None) -> None:
                if text is not None:
                    review.set_answer(ref.key, text)
                    self._after_change()

            question = review.checklist.question(ref.key)
            self.push_screen(TextDialog(f"{question.id} {question.text}", answer.text or answer.drafted), save_answer)
        else:
            self.notify("Select a finding, an item or a question to write on.", severity="warning")

    def action_verdict(self, verdict: str) -> None:
        item = self._current_item()
        if item and self.review:
            self.review.set_verdict(item, Verdict(verdict))
            self._after_change()

    def _jump(self, forward: bool) -> None:
        tree = self.query_one(ChecklistTree)
        fp = tree.next_untriaged(self.review, forward) if self.review else None
        if fp is None:
            self.notify("Every finding is triaged.")
        else:
            tree.select_id(f"finding:{fp}")

    def action_next_untriaged(self) -> None:
        self._jump(True)

    def action_previous_untriaged(self) -> None:
        self._jump(False)

    def action_edit(self) -> None:
        fp = self._current_finding()
        if not fp:
            return
        f = self.review.findings[fp]
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        try:
            with self.suspend():
                subprocess.run([*shlex.split(editor), f"+{f.start_line}", str(self.repo / f.path)], check=False)
        except Exception as exc:  # noqa: BLE001 - no terminal to hand over (tests, web), or no editor
            self.notify(f"Cannot open the editor: {exc}", severity="error")
        self._sources.pop(f.path, None)
        self._show(self.query_one(ChecklistTree).current)

    def action_help(self) -> None:
        rows = [(b.key_display or b.key, self.ACTION_HELP.get(b.action, b.description)) for b in self.BINDINGS]  # type: ignore[union-attr]
        rows += [("j / k, ↑ / ↓", "move"), ("enter / space", "open or close a node"), ("ctrl+p", "command palette")]
        self.push_screen(HelpScreen(rows))

    def get_system_commands(self, screen):
        yield from super().get_system_commands(screen)
        for binding in self.BINDINGS:
            if binding.action in ("focus_next", "help", "quit"):
                continue
            yield SystemCommand(binding.description, self.ACTION_HELP.get(binding.action, ""), _runner(self, binding.action))


def _runner(app: App, action: str):
    return lambda: app.run_action(action)


def _sixteen_colours() -> bool:
    """A terminal that promises no more than 16 colours gets the ANSI theme (its own palette)."""
    term = os.environ.get("TERM", "")
    return os.environ.get("DBREVIEW_THEME") == "ansi" or (
        "256" not in term and os.environ.get("COLORTERM", "") not in ("truecolor", "24bit") and term not in ("", "dumb")
    )

"""The dbreview application: the checklist on the left, the evidence on the right."""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import ContentSwitcher, Footer, Static, Tree
from textual.worker import Worker, WorkerState, get_current_worker

from analyzers.checklist import load_checklist
from analyzers.findings import Finding
from tui import labels, paths
from tui.commands import ChecklistCommands
from tui.reports.sanitize import one_line
from tui.review import Review, files_changed_since
from tui.screens.dialogs import DismissDialog, TextDialog
from tui.screens.help import HelpScreen
from tui.session import ConflictError, ReviewStore, SessionStoreError
from tui.session.state import Disposition, FindingState, Verdict, state_of
from tui.walkthrough import Doc, context_docs, current_step, next_target, steps
from tui.widgets.checklist_tree import ChecklistTree, NodeRef
from tui.widgets.detail import DetailPanel, finding_detail, item_detail, question_detail
from tui.widgets.source_view import SourceView

CURSOR_SAVE_DELAY = 0.5  # seconds of stillness before the cursor position is written
DOC_READ_AFTER = 1.5  # seconds a document stays open before it counts as read
POLL_EVERY = 0.5  # seconds between looks for other reviewers' changes
HEARTBEAT_EVERY = 20.0  # seconds between "still here" cursor writes
PRESENT_WITHIN = timedelta(seconds=60)  # a reviewer seen this recently is in the review


class ReviewApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "dbreview"
    doc_read_after = DOC_READ_AFTER
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
        Binding("space", "next_step", "Next", id="walk.next"),
        Binding("n", "next_untriaged", "Untriaged", show=False, id="finding.next"),
        Binding("N", "previous_untriaged", "Prev", show=False, id="finding.previous"),
        Binding("m", "mark", "Mark", show=False, id="bulk.mark"),
        Binding("M", "mark_rule", "Mark rule", show=False, id="bulk.mark-rule"),
        Binding("slash", "search", "Search", show=False, id="search"),
        Binding("s", "summary", "Summary", show=False, id="summary"),
        Binding("y", "copy_location", "Copy file:line", show=False, id="copy.location"),
        Binding("Y", "copy_markdown", "Copy as Markdown", show=False, id="copy.markdown"),
        Binding("F", "follow", "Follow", show=False, id="pair.follow"),
        Binding("e", "edit", "Edit", show=False, id="edit"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("q", "quit", "Quit", id="quit"),
    ]
    ACTION_HELP = {
        "focus_next": "switch between the checklist and the source",
        "confirm": "confirm the finding (or every marked one)",
        "downgrade": "downgrade the finding one severity step (or every marked one)",
        "dismiss_finding": "dismiss the finding with a reason (or every marked one)",
        "annotate": "note on the finding or item, or answer the question",
        "verdict('pass')": "item verdict: pass",
        "verdict('warning')": "item verdict: warning",
        "verdict('fail')": "item verdict: fail",
        "verdict('n/a')": "item verdict: not applicable",
        "next_step": "go to the next unfinished thing of the review",
        "next_untriaged": "next untriaged finding",
        "previous_untriaged": "previous untriaged finding",
        "mark": "mark the finding for bulk triage",
        "mark_rule": "mark every open finding of this rule",
        "search": "search the checklist, the findings and their source",
        "summary": "progress summary and the Executive Summary",
        "copy_location": "copy file:line to the clipboard (OSC 52, works over SSH)",
        "copy_markdown": "copy the finding as Markdown",
        "follow": "follow the other reviewer's cursor (pair review)",
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
        changed: str | None

    def __init__(
        self, repo: Path, data_dir: Path, reviewer: str, checklist: str = "database", *, scan: bool = True, clock=None
    ) -> None:
        super().__init__()
        self.repo = Path(repo).resolve()
        self.data_dir = data_dir
        self.reviewer = reviewer
        self.checklist = load_checklist(checklist)
        self.scan_on_start = scan
        self.clock = clock  # the store's time source: fixed in snapshot tests
        self.review: Review | None = None
        self.docs: list[Doc] = []
        self.following: str | None = None
        self._present: list[str] = []  # the other reviewers in this review now
        self._sources: dict[str, str] = {}
        self._cursor_timer = None
        self._doc_timer = None
        self._scan_status = ""
        if _sixteen_colours():
            self.theme = "ansi-dark"

    def compose(self) -> ComposeResult:
        # Kept as attributes: a modal on top must not hide them from timers and callbacks.
        self.checklist_tree, self.detail, self.source = ChecklistTree(id="tree"), DetailPanel(id="detail"), SourceView(id="source")
        self.viewer, self.status = ContentSwitcher(initial="source", id="viewer"), Static(id="status")
        self.doc_view = None  # made when a document is first opened: Markdown costs ~35 ms to import
        with Horizontal(id="main"):
            yield self.checklist_tree
            with Vertical(id="right"):
                yield self.detail
                with self.viewer:
                    yield self.source
        yield self.status
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = str(self.repo)
        try:
            store = ReviewStore.open(paths.session_db(self.data_dir), clock=self.clock)
        except SessionStoreError as exc:
            self.exit(message=str(exc))
            return
        self.review = Review.open(store, self.repo, self.reviewer, self.checklist)
        tree = self.checklist_tree
        tree.populate(self.review, self.docs)
        tree.focus()
        cursor = self.review.saved_cursor()
        if not (cursor and tree.select_id(cursor)):
            self.source.show_message("space: the next thing to do · ? every key")
        self._refresh_status()
        self.set_interval(POLL_EVERY, self._poll)
        self.set_interval(HEARTBEAT_EVERY, self._save_cursor)
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
        from analyzers.settings import Settings, SettingsError, load_settings

        worker = get_current_worker()
        try:
            settings = load_settings(self.repo)
        except SettingsError as exc:  # someone else's typo must not block a review: say so, use the defaults
            settings = Settings()
            message = f"{one_line(str(exc))}. Scanning with the default settings."
            self.call_from_thread(self.notify, message, title="Settings not used", severity="warning", timeout=15, markup=False)
        result = scan(
            self.repo,
            settings=settings,
            cache_dir=paths.scan_cache_dir(self.data_dir),
            progress=lambda stage, done, total: self.post_message(self.ScanProgressed(stage, done, total)),
            on_findings=lambda found: self.post_message(self.FindingsFound(found)),
            is_cancelled=lambda: worker.is_cancelled,
        )
        if worker.is_cancelled or self.review is None:
            return
        before = self.review.info.commit
        had_findings = bool(self.review.findings)
        diff = self.review.apply_scan(result.result)
        errors = len(result.result.errors)
        summary = f"scanned {result.result.files_scanned} files: {diff}"
        if errors:
            summary += f" · {errors} scan error(s)"
        changed = None
        if had_findings and (diff.moved or diff.edited or diff.resolved or diff.new or diff.regressed):
            files = files_changed_since(self.repo, before)
            lead = f"{files} files changed since this review was last saved; " if files is not None else ""
            changed = f"{lead}{diff.moved + diff.edited} findings moved, {diff.resolved} resolved, {diff.new + diff.regressed} new"
        self.post_message(self.ScanFinished(summary, [d.path for d in result.facts.docs], changed))

    def on_review_app_scan_progressed(self, message: ScanProgressed) -> None:
        self._scan_status = f"scanning: {message.done}/{message.total} files"
        self._refresh_status()

    def on_review_app_findings_found(self, message: FindingsFound) -> None:
        """Show findings as the rules produce them; the saved review replaces them when the scan ends."""
        tree = self.checklist_tree
        if self.review is None:
            return
        for f in message.findings:
            node = tree.by_id.get(f"item:{f.item_id}")
            if node is not None and f.fingerprint not in self.review.findings:
                node.add_leaf(labels.finding_label(state_of(f)), NodeRef("pending", f.rule_id))

    def on_review_app_scan_finished(self, message: ScanFinished) -> None:
        assert self.review is not None
        self.review.reload()
        self.docs = context_docs(self.checklist, message.docs)
        tree = self.checklist_tree
        tree.populate(self.review, self.docs)
        self._scan_status = message.summary
        if message.changed:
            self.notify(message.changed, title="The code moved on", timeout=12)
        self._refresh_status()
        self._show(tree.current)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self._scan_status = f"scan failed: {event.worker.error}"
            self._refresh_status()
            self.notify(f"The scan failed: {event.worker.error}", severity="error", timeout=10)

    # -- pair review: other reviewers' changes and whereabouts ---------------------------------

    def _poll(self) -> None:
        review = self.review
        if review is None or not self.checklist_tree.is_mounted:
            return
        events = review.changes()
        theirs = [e for e in events if e.reviewer != self.reviewer]
        tree = self.checklist_tree
        if theirs:
            review.reload()
            if any(e.kind == "scan" for e in theirs):
                tree.populate(review, self.docs)
            e = theirs[-1]
            self.notify(f"{e.reviewer}: {e.kind} {e.new or ''}".strip(), timeout=3)
        now = self.clock() if self.clock else datetime.now(timezone.utc)
        present = {
            who: cursor for who, (cursor, when) in review.store.cursors(review.info.id).items()
            if who != self.reviewer and now - when <= PRESENT_WITHIN
        }
        others: dict[str, str] = {}
        for who, cursor in present.items():
            others[cursor] = ", ".join(filter(None, [others.get(cursor), who]))
        if theirs or others != tree.others:
            tree.others = others
            tree.relabel(review)
            self._show(tree.current)
        self._present = sorted(present)
        if self.following and self.following in present and (tree.current is None or tree.current.id != present[self.following]):
            tree.select_id(present[self.following])
        self._refresh_status()

    def action_follow(self) -> None:
        present = self._present
        if self.following:
            self.notify(f"No longer following {self.following}.")
            self.following = None
        elif not present:
            self.notify("Nobody else is in this review right now.", severity="warning")
        else:
            self.following = present[0]
            self.notify(f"Following {self.following}'s cursor (F stops).")
        self._refresh_status()

    # -- showing what is selected ------------------------------------------------------------

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted) -> None:
        self._show(event.node.data)
        if self._cursor_timer is not None:
            self._cursor_timer.stop()
        self._cursor_timer = self.set_timer(CURSOR_SAVE_DELAY, self._save_cursor)

    def _save_cursor(self) -> None:
        current = self.checklist_tree.current if self.checklist_tree.is_mounted else None
        if self.review is not None and current is not None and current.kind != "pending":
            self.review.save_cursor(current.id)

    def _show(self, ref: NodeRef | None) -> None:
        review = self.review
        if review is None or ref is None:
            return
        detail, source = self.detail, self.source
        if self._doc_timer is not None:
            self._doc_timer.stop()
        if ref.kind == "doc":
            doc = next((d for d in self.docs if d.path == ref.key), Doc(ref.key, None))
            cited = f"  (the checklist cites lines {doc.lines[0]}-{doc.lines[1]})" if doc.lines else ""
            detail.show(Text.assemble((ref.key, "bold"), (cited, "dim"), ("\nread" if ref.key in review.docs_read else "", "green")))
            self.run_worker(self._show_doc(doc), exclusive=True, group="doc")
            self._doc_timer = self.set_timer(self.doc_read_after, lambda: self._read(ref.key))
            return
        self.viewer.current = "source"
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
        elif ref.kind == "section":
            section = review.checklist.section(ref.key)
            detail.show(Text.assemble((f"{section.number} {section.title}", "bold"), (f"\n{section.scope}", "dim")))

    async def _show_doc(self, doc: Doc) -> None:
        try:
            text = (self.repo / doc.path).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            text = f"*{doc.path} cannot be read: {exc.strerror or exc}*"
        if self.doc_view is None:
            from tui.widgets.markdown_view import MarkdownView

            self.doc_view = MarkdownView(id="doc")
            await self.viewer.mount(self.doc_view)
        self.viewer.current = "doc"
        await self.doc_view.show(doc.path, text, doc.lines)

    def _read(self, path: str) -> None:
        if self.review is not None:
            self.review.mark_read(path)
            self.checklist_tree.relabel(self.review)
            self._refresh_status()

    def source_text(self, path: str) -> str:
        """A file of the repository, read once (OSError when it cannot be read)."""
        if path not in self._sources:
            self._sources[path] = (self.repo / path).read_text(encoding="utf-8", errors="replace")
        return self._sources[path]

    def _show_file(self, path: str, start: int = 0, end: int = -1) -> None:
        try:
            text = self.source_text(path)
        except OSError as exc:
            self.source.show_message(f"{path} cannot be read now: {exc.strerror or exc}")
            return
        self.source.show(path, text, start, end)

    def _refresh_status(self) -> None:
        review = self.review
        if review is None:
            return
        all_steps = steps(review, self.docs, review.docs_read)
        step = current_step(all_steps)
        text = Text()
        present = self._present
        if present:  # first: the line is cut at the terminal's edge
            text.append(f"with {', '.join(present)}", "bold magenta")
            text.append(f" (following {self.following})" if self.following else "", "magenta")
            text.append(" · ")
        if self._scan_status.startswith("scanning") and not review.findings:
            text.append("Scanning the code for the first time…", "bold")  # no step can be judged yet
        elif step is None:
            text.append("Review complete", "bold green")
        else:
            text.append(f"Step {step.number}/4 {step.title}: {step.left} of {step.total} left", "bold")
        marked = self.checklist_tree.marked
        if marked:
            text.append(f" · {len(marked)} marked", "bold magenta")
        text.append(f" · {review.progress()}")
        if self._scan_status:
            text.append(f" · {self._scan_status}", "dim")
        self.status.update(text)

    # -- acting ------------------------------------------------------------------------------

    def _current_finding(self, quiet: bool = False) -> str | None:
        ref = self.checklist_tree.current
        if ref is not None and ref.kind == "finding" and self.review and ref.key in self.review.findings:
            return ref.key
        if not quiet:
            self.notify("Select a finding first (space or n goes to the next untriaged one).", severity="warning")
        return None

    def _targets(self) -> list[str]:
        """The marked findings, else the selected one."""
        marked = self.checklist_tree.marked
        if marked:
            return sorted(marked)
        fp = self._current_finding()
        return [fp] if fp else []

    def _current_item(self) -> str | None:
        ref = self.checklist_tree.current
        if ref is not None and ref.kind == "item":
            return ref.key
        if ref is not None and ref.kind == "finding" and self.review and ref.key in self.review.findings:
            return self.review.findings[ref.key].item_id
        self.notify("Select a checklist item (or one of its findings) first.", severity="warning")
        return None

    def _decide(self, fingerprints: list[str], act) -> None:
        """Run one decision per finding; a lost race shows the other reviewer's change instead."""
        assert self.review is not None
        for fp in fingerprints:
            try:
                act(fp)
            except ConflictError as exc:
                self.review.findings[fp] = exc.current
                self.notify(f"Someone changed this finding first: {exc}", severity="warning", timeout=8)
            except ValueError as exc:
                self.notify(str(exc), severity="warning")
        self._after_change(fingerprints)

    def _after_change(self, fingerprints: list[str] | None = None) -> None:
        assert self.review is not None
        tree = self.checklist_tree
        if fingerprints and len(fingerprints) == 1 and not tree.marked:
            tree.relabel(self.review, finding=fingerprints[0])
        else:
            tree.marked.clear()
            tree.relabel(self.review)
        self._show(tree.current)
        self._refresh_status()

    def _bulk_note(self, fps: list[str], then) -> None:
        """For several findings, ask once for the note that goes with all of them."""
        if len(fps) == 1:
            then(None)
        else:
            self.push_screen(TextDialog(f"One note for these {len(fps)} findings (optional)"), lambda note: note is not None and then(note or None))

    def action_confirm(self) -> None:
        fps = self._targets()
        if len(fps) > 1:
            self._bulk_note(fps, lambda note: self._bulk(fps, Disposition.CONFIRMED, None, note))
        elif fps:
            self._decide(fps, self.review.confirm)

    def action_downgrade(self) -> None:
        fps = self._targets()
        if fps:
            self._bulk_note(fps, lambda note: self._decide(fps, lambda fp: self.review.downgrade(fp, note)))

    def action_dismiss_finding(self) -> None:
        fps = self._targets()
        if not fps:
            return

        def done(answer: tuple[str, str] | None) -> None:
            if answer is not None:
                reason, note = answer
                if len(fps) > 1:
                    self._bulk(fps, Disposition.DISMISSED, reason, note or None)
                else:
                    self._decide(fps, lambda fp: self.review.dismiss(fp, reason, note or None))

        what = self.review.findings[fps[0]].message[:60] if len(fps) == 1 else f"{len(fps)} marked findings"
        self.push_screen(DismissDialog(what), done)

    def _bulk(self, fps: list[str], disposition: Disposition, reason: str | None, note: str | None) -> None:
        try:
            self.review.bulk(fps, disposition, reason=reason, note=note)
        except (ConflictError, ValueError) as exc:
            self.review.reload()
            self.notify(f"Nothing was changed: {exc}", severity="warning", timeout=8)
        self._after_change(fps)

    def action_mark(self) -> None:
        fp = self._current_finding()
        if fp:
            tree = self.checklist_tree
            tree.marked.symmetric_difference_update({fp})
            tree.relabel(self.review, finding=fp)
            self._refresh_status()

    def action_mark_rule(self) -> None:
        fp = self._current_finding()
        if fp:
            rule = self.review.findings[fp].rule_id
            tree = self.checklist_tree
            tree.marked.update(f.fingerprint for f in self.review.findings.values() if f.rule_id == rule and f.is_open)
            tree.relabel(self.review)
            self._refresh_status()

    def action_annotate(self) -> None:
        ref = self.checklist_tree.current
        review = self.review
        if ref is None or review is None:
            return
        if ref.kind == "finding" and ref.key in review.findings:
            def save_note(text: str | None) -> None:
                if text:
                    self._decide([ref.key], lambda fp: review.annotate(fp, text))

            self.push_screen(TextDialog("Note on this finding"), save_note)
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
            self.push_screen(TextDialog(f"{question.id} {labels.plain(question.text)}", answer.text or answer.drafted), save_answer)
        else:
            self.notify("Select a finding, an item or a question to write on.", severity="warning")

    def action_verdict(self, verdict: str) -> None:
        item = self._current_item()
        if item and self.review:
            self.review.set_verdict(item, Verdict(verdict))
            self._after_change()

    def action_next_step(self) -> None:
        if self.review is None:
            return
        tree = self.checklist_tree
        target = next_target(self.review, self.docs, self.review.docs_read, tree.finding_order())
        if target is None:
            self.notify("Every step is done: export the report with `dbreview export`.", title="Review complete")
        elif tree.current is not None and tree.current.id == target.node_id:
            self.notify(f"Next: {target.what}", timeout=4)
        else:
            tree.select_id(target.node_id)

    def _jump(self, forward: bool) -> None:
        tree = self.checklist_tree
        fp = tree.next_untriaged(self.review, forward) if self.review else None
        if fp is None:
            self.notify("Every finding is triaged.")
        else:
            tree.select_id(f"finding:{fp}")

    def action_next_untriaged(self) -> None:
        self._jump(True)

    def action_previous_untriaged(self) -> None:
        self._jump(False)

    def action_search(self) -> None:
        from tui.screens.search import SearchScreen

        if self.review is None:
            return

        def go(target: str | None) -> None:
            if not target:
                return
            if target.startswith("source:"):
                path, line = target[7:].rsplit(":", 1)
                self.viewer.current = "source"
                self._show_file(path, int(line), int(line))
            else:
                self.checklist_tree.select_id(target)

        self.push_screen(SearchScreen(self.review, self.source_text), go)

    def action_summary(self) -> None:
        from tui.screens.summary import SummaryScreen

        if self.review is not None:
            self.push_screen(SummaryScreen(self.review))

    def action_copy_location(self) -> None:
        fp = self._current_finding()
        if fp:
            f = self.review.findings[fp]
            self.copy_to_clipboard(f.location)
            self.notify(f"Copied {f.location}")

    def action_copy_markdown(self) -> None:
        fp = self._current_finding()
        if fp:
            self.copy_to_clipboard(finding_markdown(self.review.findings[fp]))
            self.notify("Copied the finding as Markdown")

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
        self._show(self.checklist_tree.current)

    def action_help(self) -> None:
        rows = [(b.key_display or b.key, self.ACTION_HELP.get(b.action, b.description)) for b in self.BINDINGS]  # type: ignore[union-attr]
        rows += [("j / k, ↑ / ↓", "move"), ("enter", "open or close a node"), ("ctrl+p", "command palette")]
        self.push_screen(HelpScreen(rows))

    def get_system_commands(self, screen):
        yield from super().get_system_commands(screen)
        for binding in self.BINDINGS:
            if binding.action in ("focus_next", "help", "quit"):
                continue
            yield SystemCommand(binding.description, self.ACTION_HELP.get(binding.action, ""), _runner(self, binding.action))


def finding_markdown(f: FindingState) -> str:
    """A finding as a reviewer pastes it into a ticket or a chat."""
    from tui.reports.mdtext import code_block, language
    from tui.reports.sanitize import printable

    lines = [f"**{f.severity.upper()}** {f.rule_id}: {printable(f.message)}", f"`{f.location}`", ""]
    if f.evidence:
        lines += code_block(f.evidence, language(f.path))
    return "\n".join(lines)


def _runner(app: App, action: str):
    return lambda: app.run_action(action)


def _sixteen_colours() -> bool:
    """A terminal that promises no more than 16 colours gets the ANSI theme (its own palette)."""
    term = os.environ.get("TERM", "")
    return os.environ.get("DBREVIEW_THEME") == "ansi" or (
        "256" not in term and os.environ.get("COLORTERM", "") not in ("truecolor", "24bit") and term not in ("", "dumb")
    )

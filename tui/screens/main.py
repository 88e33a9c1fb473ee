"""The review screen: the checklist on the left, what is selected on the right, the status line.

It decides what each key does and what the right pane shows; the scan worker and the pair presence
are controllers of their own (tui/controllers), the review's data lives in tui.review.Review."""

from __future__ import annotations

import gc
import os
import shlex
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from textwrap import shorten

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Static
from textual.worker import Worker, WorkerState

from analyzers import confine
from tui import keymap, labels, paths, untrusted
from tui.about import Place
from tui.controllers.presence import HEARTBEAT_EVERY, POLL_EVERY, PresenceController
from tui.controllers.scan import ScanController
from tui.controllers.loader import Loader
from tui.controllers.verify import VerifyController
from tui.gate import Exit
from tui.reports.secrets import mask, masked_event, masked_finding
from tui.review import Review
from tui.session.reading import ConflictError, OpeningReview, SavedReview, SessionStoreError
from tui.session.state import Disposition, FindingState, Verdict, state_of
from tui.walkthrough import Doc, context_docs, current_step, next_target, steps
from tui.widgets.checklist_tree import ChecklistTree, NodeKind, NodeRef
from tui.widgets.detail import (
    DetailPanel,
    Prepared,
    bucket_detail,
    citations,
    findings_overview,
    finding_detail,
    item_detail,
    items_overview,
    question_detail,
    questions_overview,
    section_detail,
)
from tui.widgets.key_footer import KeyFooter
from tui.widgets.source_view import SourceView

CURSOR_SAVE_DELAY = 0.5  # seconds of stillness before the cursor position is written
# The actions that change the review (or write what it holds): disabled until the store has made it.
_CHANGES = frozenset(
    "confirm downgrade dismiss_finding reopen undo annotate verdict verify export".split()
)


class MainScreen(Screen[None]):
    BINDINGS = keymap.bindings(keymap.REVIEW)

    def __init__(self) -> None:
        super().__init__()
        self.review: Review | None = None
        self.presence: PresenceController | None = None
        self.docs: list[Doc] = []
        self._docs_known = False  # the scan names the context documents: until it ends, step 1 cannot be judged
        self.about: dict[str, list[Place]] = {}  # item id -> the code it is about (from the last scan)
        self._sources: dict[str, str] = {}
        self.repository_text = None  # what `/` searches: made on the first search (tui/screens/search.py)
        self._cursor_timer = None
        self._doc_timer = None
        self._scan_status = ""
        self._status_text = Text()  # what the status line shows
        self.not_saving: str | None = None  # why the review can no longer be saved, once it cannot
        self._masking = False  # what the right pane shows was masked (the review was shared)
        self._loader: Loader | None = None  # until the store is open (behind the first screen)
        self._opening = False  # a new review, or a file to migrate: the store makes it behind the first screen
        self._scan: ScanController | None = None  # the running scan, or the last one
        self._held: list[tuple[list[int], Callable[[list[str]], None]]] = []  # decisions waiting for the matching
        self._rules_read = False  # the rules' documentation is loaded: finding details show it
        self._unwritten: list[Callable[[], None]] = []  # decisions shown, written right after their frame
        self._cursor_at: NodeRef | None = None  # the node the cursor was last seen on (_cursor_moved)
        self._ahead: tuple[tuple, Prepared] | None = None  # the next untriaged finding's detail, made ahead (_prefetch)

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
                    yield self.source  # the code, or an overview in its place
        yield self.status
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        """The first screen from the saved review as sqlite3 reads it; the store (SQLAlchemy) opens
        after it is drawn (tui/controllers/loader.py). A new review, or a file to migrate, shows the
        checklist alone until the store has made it (_opening)."""
        app = self.app
        self._docs_known = not app.scan_on_start
        db = paths.session_db(app.data_dir)
        try:
            saved = SavedReview.open(db, app.clock)
            self.review = saved and Review.read(saved, app.repo, app.reviewer, app.checklist)
        except SessionStoreError as exc:
            app.exit(return_code=Exit.BAD_INPUT, message=untrusted.line(str(exc)))
            return
        if self.review is None:
            if saved is not None:
                saved.close()
            self._opening = True
            self.review = Review.read(OpeningReview(clock=app.clock), app.repo, app.reviewer, app.checklist)
        self._loader = loader = Loader(self, db, app.clock)
        self.watch(self.checklist_tree, "cursor_line", self._cursor_moved, init=False)
        self.checklist_tree.focus()
        self._fill()
        if self._opening:
            self._started()  # the scan first: it waits for the store to match its findings (review_to_match)
        else:
            self.call_after_refresh(self._present)  # with sqlite3: colleagues see each other from the first frame
        self.call_after_refresh(loader.start)

    def _fill(self) -> None:
        """The tree from the review, the cursor where the reviewer left it."""
        tree = self.checklist_tree
        tree.populate(self.review, self.docs)
        cursor = self.review.saved_cursor()
        if not (cursor and tree.select_id(cursor)) and tree.root.children:
            tree.select_id(tree.root.children[0].data.id)  # something is always selected, and shown
        self._refresh_status()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While the store makes the review, the keys that change it are shown disabled (None)."""
        return None if self._opening and action in _CHANGES else True

    def on_loader_store_opened(self) -> None:
        try:
            self._attached()
        except SessionStoreError as exc:  # `dbreview open` checked the file; what only opening it could tell
            self.app.exit(return_code=Exit.BAD_INPUT, message=untrusted.line(str(exc)))
            return
        if self._unwritten:  # decided while it opened: written now, and the status line's note goes
            self._write_unwritten()
            self._refresh_status()

    def on_loader_rules_read(self) -> None:
        self._rules_read = True
        current = self.checklist_tree.current
        if current is not None and current.kind == NodeKind.FINDING:
            self._show(current)

    def on_loader_loaded(self) -> None:
        """The modules, the review's findings and this screen live as long as the app: out of the
        garbage collector's reach, a full collection no longer walks their ~100,000 objects (~50-130 ms
        of CPU every few dozen keys, landing on one). Undone when the screen goes (on_unmount)."""
        gc.freeze()

    def _attached(self) -> None:
        """The store in place, waited for if it is still opening (SessionStoreError if it cannot be)."""
        if self._loader is not None:
            store = self._loader.store()
            self._loader = None
            if self._opening:
                app = self.app
                self.review = Review.open(store, app.repo, app.reviewer, app.checklist)
                self.call_later(self._opened)  # whoever asked for the store first: the loader, the scan, a quit
            else:
                self.review.attach(store)
            self._started()

    def _opened(self) -> None:
        """The review the store made shown, and its keys at work."""
        self._opening = False
        self._fill()
        self._show(self.checklist_tree.current)
        self.refresh_bindings()
        self._present()

    def review_to_match(self) -> Review:
        """For the scan's thread (through call_from_thread): the review its findings are matched to,
        the store open, waited for (a scan started with a new review or a file to migrate may end first)."""
        self._attached()
        return self.review

    def _present(self) -> None:
        """Pair review, read and written with sqlite3 (the cursor), the store open or not."""
        self.presence = PresenceController(self.review, self.app.clock)
        self.save_cursor()  # present at once: a colleague in the review sees us within a poll
        self.poll()  # and we see them at once, not half a second later
        self._refresh_status()
        self.set_interval(POLL_EVERY, self.poll)
        self.set_interval(HEARTBEAT_EVERY, self.save_cursor)

    def _started(self) -> None:
        """The scan, once: started with the store, or at once when the store makes the review."""
        app = self.app
        if app.scan_on_start and self._scan is None:
            self._scan_status = "scanning…"
            self._refresh_status()
            self._scan = ScanController(self, self.review, paths.scan_cache_dir())
            self._scan.start()

    def on_unmount(self) -> None:
        if self.review is not None:
            try:
                self._attached()  # a store still opening is waited for, so that leaving is written
            except SessionStoreError:
                pass  # it could not be opened (the app ended saying so): nothing was written, nothing to leave
            else:
                with self._saving(background=True):
                    self.review.leave()  # a colleague stops seeing us at once, not after PRESENT_WITHIN
            self.review.store.close()
        gc.unfreeze()  # what was frozen can be collected again (a test's next app)

    # -- the scan --------------------------------------------------------------------------

    def on_scan_controller_progressed(self, message: ScanController.Progressed) -> None:
        self._scan_status = f"scanning: {message.done}/{message.total} files"
        self._refresh_status()

    def on_scan_controller_findings_found(self, message: ScanController.FindingsFound) -> None:
        """Show findings as the rules produce them; the saved review replaces them when the scan ends."""
        tree = self.checklist_tree
        if self.review is None:
            return
        for f in message.findings:
            node = tree.by_id.get(f"item:{f.item_id}")
            if node is not None and f.fingerprint not in self.review.findings:
                node.add_leaf(labels.finding_label(state_of(f)), NodeRef(NodeKind.PENDING, f.rule_id))

    def on_scan_controller_matching(self) -> None:
        self._scan_status = "matching the findings to the saved review…"
        self._refresh_status()

    def on_scan_controller_finished(self, message: ScanController.Finished) -> None:
        assert self.review is not None
        self.review.reload()
        self.docs = context_docs(self.review.checklist, message.docs)
        self._docs_known = True
        self.about = message.about
        tree = self.checklist_tree
        tree.populate(self.review, self.docs)
        self._scan_status = message.summary
        if message.git_refused:
            self._scan_status += " · git refuses this checkout (another account's)"
            self.notify(message.git_refused, title="No commit recorded", severity="warning", timeout=20, markup=False)
        if message.changed:
            self.notify(message.changed, title="The code moved on", timeout=12, markup=False)
        self._refresh_status()
        self._show(tree.current)
        self._matched()

    def _matched(self) -> None:
        """The matched review is loaded: the decisions held meanwhile are made, on the findings they
        were aimed at (by row: a finding keeps its row when the scan gives it a new fingerprint)."""
        if self._scan is not None:
            with self._scan.lock:
                self._scan.matching = False
        held, self._held = self._held, []
        fingerprint_of = {f.id: fp for fp, f in self.review.findings.items()}
        for rows, decide in held:
            fps = [fingerprint_of[row] for row in rows if row in fingerprint_of]
            if len(fps) == len(rows):
                decide(fps)
            else:
                self.notify("A decision made while the findings were matched was not made: its finding is no "
                            "longer in the review.", severity="warning", timeout=8)

    @contextmanager
    def _unless_matching(self, fingerprints: list[str], decide: Callable[[list[str]], None]) -> Iterator[bool]:
        """True: go ahead (and matching cannot start until the block is done). False: the re-scan is
        matching findings, so the decision is held, said on screen, and made by _matched()."""
        scan = self._scan
        with scan.lock if scan is not None else nullcontext():
            if scan is None or not scan.matching:
                yield True
                return
            self._held.append(([self.review.findings[fp].id for fp in fingerprints], decide))
            self.notify("The re-scan is matching the findings to the saved ones: this decision is made as soon "
                        "as it is done.", title="Held for a moment", timeout=4)
            yield False

    # -- verify: the proofs on a throwaway PostgreSQL ------------------------------------------

    def action_verify(self) -> None:
        if self.review is None:
            return
        with self._saving():  # it writes its proofs through the store
            pass
        if self._loader is not None:
            return
        self._scan_status = "verify: starting"
        self._refresh_status()
        self.notify("Running the migrations on a throwaway PostgreSQL: the review stays open meanwhile.", title="Verify")
        VerifyController(self, self.review, self.app.data_dir).start()

    def on_verify_controller_progressed(self, message: VerifyController.Progressed) -> None:
        self._scan_status = message.what
        self._refresh_status()

    def on_verify_controller_refused(self, message: VerifyController.Refused) -> None:
        self._scan_status = "verify: not run"
        self._refresh_status()
        self.notify(message.reason, title="Verify did not run", severity="warning", timeout=20, markup=False)

    def on_verify_controller_finished(self, message: VerifyController.Finished) -> None:
        assert self.review is not None
        self.review.reload()
        tree = self.checklist_tree
        tree.populate(self.review, self.docs)
        self._scan_status = f"verify: {message.outcome}"
        self.notify(message.outcome, title="Verified on PostgreSQL", timeout=12, markup=False)
        self._refresh_status()
        self._show(tree.current)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "verify":
            self._scan_status = "verify failed"
            self._refresh_status()
            self.notify(f"verify failed: {event.worker.error}", severity="error", timeout=15, markup=False)
        if event.state == WorkerState.ERROR and event.worker.group == "scan":
            self.review.reload()
            self._matched()  # a failed matching holds nothing back
            self._scan_status = f"scan failed: {event.worker.error}"
            self._docs_known = True  # none will come
            self._refresh_status()
            self.notify(f"The scan failed: {event.worker.error}", severity="error", timeout=10, markup=False)

    # -- pair review: other reviewers' changes and whereabouts ---------------------------------

    def poll(self) -> None:
        review, presence, tree = self.review, self.presence, self.checklist_tree
        if review is None or presence is None or not tree.is_mounted:
            return
        with self._saving(background=True, wait=False):
            review.store.check_file()  # deleted or replaced: say so before anything else is lost
            self._poll(review, presence, tree)

    def _poll(self, review: Review, presence: PresenceController, tree: ChecklistTree) -> None:
        seen = presence.poll()
        if seen.theirs:
            if any(e.kind == "scan" for e in seen.theirs):
                tree.populate(review, self.docs)
            self.notify(labels.change_said(seen.theirs[-1], review), timeout=3, markup=False)
        if seen.theirs or seen.moved or self.shared != self._masking:
            if self.shared != self._masking:  # someone came or left: show the file again, masked or not
                self._masking = self.shared
                self.source.path = None
            tree.others = presence.others_at()
            tree.relabel(review)
            self._show(tree.current)
        followed = presence.followed_cursor()
        if followed and (tree.current is None or tree.current.id != followed):
            tree.select_id(followed)
        self._refresh_status()

    def action_follow(self) -> None:
        if self.presence is not None:
            message, done = self.presence.toggle_follow()
            self.notify(message, severity="information" if done else "warning")
            self._refresh_status()

    # -- showing what is selected ------------------------------------------------------------

    def _cursor_moved(self) -> None:
        """The right pane follows the tree's cursor in the same turn as the cursor moves, so that one
        frame shows both: Textual's NodeHighlighted message comes round after a frame that shows
        the cursor alone, and frames are a 60th of a second apart (two or three a key)."""
        node = self.checklist_tree.cursor_node
        ref = node.data if node is not None else None
        if ref is None or ref == self._cursor_at:
            return  # the tree rebuilt under the same node: whoever rebuilt it shows it again
        self._cursor_at = ref
        self._show(ref)
        if self._cursor_timer is not None:
            self._cursor_timer.stop()
        self._cursor_timer = self.set_timer(CURSOR_SAVE_DELAY, self.save_cursor)

    def save_cursor(self) -> None:
        if self.review is None or not self.checklist_tree.is_mounted:
            return
        current = self.checklist_tree.current
        with self._saving(background=True, wait=False):
            if current is None or current.kind == NodeKind.PENDING:
                saved = self.review.saved_cursor()
                self.review.save_cursor(saved or "start")  # here, though nowhere in particular yet
            else:
                self.review.save_cursor(current.id)

    @contextmanager
    def _saving(self, background: bool = False, wait: bool = True) -> Iterator[None]:
        """Around every write of the review: when the store cannot save (a full disk, the file
        deleted or replaced), the reviewer is told what was not saved and why, and the app stays up.
        A background write (cursor, poll) tells it once; a reviewer's own action every time.
        `wait` False: what does without the store (the cursor, the poll) does not wait for it."""
        try:
            if wait or self._loader is None:
                self._attached()  # a write in the first moments waits for the store
                self._write_unwritten()  # a decision shown a moment ago is written first
            yield
        except SessionStoreError as exc:
            problem = str(exc)
            if not background or problem != self.not_saving:
                lead = "" if background else "Your last change was NOT saved: "
                self.notify(f"{lead}{problem}", title="Not saved", severity="error", timeout=30)
            self.not_saving = problem
            self._refresh_status()
        else:
            if self.not_saving and not background:  # the disk has room again
                self.not_saving = None
                self._refresh_status()

    def _show(self, ref: NodeRef | None) -> None:
        """The right pane shows what the left has selected, whatever kind of node it is."""
        review = self.review
        if review is None or ref is None:
            return
        if self._doc_timer is not None:
            self._doc_timer.stop()
        kind, key, detail = ref.kind, ref.key, self.detail
        detail.set_class(kind in (NodeKind.DOC, NodeKind.DOCS), "-brief")  # a layout only between kinds
        if kind == NodeKind.DOC:
            doc = next((d for d in self.docs if d.path == key), Doc(key, None))
            cited = f"  (the checklist cites lines {doc.lines[0]}-{doc.lines[1]})" if doc.lines else ""
            detail.show(Text.assemble(untrusted.line(key, "bold"), (cited, "dim"), ("\nread" if key in review.docs_read else "", "green")))
            self.run_worker(self._show_doc(doc), exclusive=True, group="doc")
            self._doc_timer = self.set_timer(self.app.doc_read_after, lambda: self._read(key))
        elif kind == NodeKind.FINDING and key in review.findings:
            f, ahead = review.findings[key], self._ahead
            detail.show(ahead[1] if ahead is not None and ahead[0] == self._shown_as(key) else self._finding_detail(key))
            self._show_file(f.path, f.start_line, f.end_line)
        elif kind == NodeKind.ITEM:
            places = self.about.get(key, [])
            detail.show(item_detail(key, review, places))
            first = next(iter(review.findings_of(key)), None)
            if first is not None:
                self._show_file(first.path, first.start_line, first.end_line)
            elif places:
                self._show_file(places[0].path, places[0].start, places[0].end)
            else:
                self._overview(Text("No code located for this item: judge it from the code and the documents.", "italic"))
        elif kind == NodeKind.QUESTION:
            detail.show(question_detail(key, review))
            answer = review.answer(key)
            cited = citations(answer.text) or citations(answer.drafted)
            if cited:
                self._show_file(*cited[0])
            else:
                self._overview(Text("The draft cites no place in the code.", "italic"))
        elif kind == NodeKind.SECTION:
            section = review.checklist.section(key)
            detail.show(section_detail(section, review))  # its last line says what - does here
            self._overview(items_overview(section.items, review))
        elif kind == NodeKind.GROUP:
            section_id, group_key = key.split(".", 1)
            section = review.checklist.section(section_id)
            group = next(g for g in section.groups if g.key == group_key)
            detail.show(Group(Text.assemble((group.title, "bold"), (f"  {group.files}", "dim")),
                              Text("- marks every item without a verdict n/a, with one note", "dim italic")))
            self._overview(items_overview([i for i in section.items if i.group == group_key], review))
        elif kind == NodeKind.QUESTIONS:
            section = review.checklist.section(key)
            answered = sum(1 for q in section.questions if review.answer(q.id).text.strip())
            detail.show(Text.assemble((f"Questions to answer, section {section.number}", "bold"),
                                      (f"  {answered}/{len(section.questions)} answered", "dim")))
            self._overview(questions_overview(section, review))
        elif kind == NodeKind.DOCS:
            docs = [d for d in self.docs if bool(d.cited) == (key == "docs")]
            read = sum(1 for d in docs if d.path in review.docs_read)
            title = "Context documents the checklist names" if key == "docs" else "Other documents"
            detail.show(Text.assemble((title, "bold"), (f"  {read}/{len(docs)} read", "dim"),
                                      ("\nspace walks the review: documents, findings, verdicts, answers · ? every key", "dim italic")))
            self._overview(untrusted.text("\n".join(("✓ " if d.path in review.docs_read else "? ") + d.path for d in docs)))
        elif kind == NodeKind.ERRORS:
            detail.show(Text.assemble((f"{len(review.scan_errors)} scan errors", "bold red"),
                                      ("  files the scan could not read, or rules that failed", "dim")))
            self._overview(untrusted.text("\n".join(str(e) for e in review.scan_errors)))
        elif kind == NodeKind.ERROR:
            error = review.scan_errors[int(key)]
            detail.show(untrusted.text(str(error), "red"))
            if error.line and not error.path.startswith("<"):
                self._show_file(error.path, error.line, error.line)
            else:
                self._overview(Text("No line to show.", "italic"))
        elif kind in (NodeKind.RULE, NodeKind.FILE, NodeKind.FOLD, NodeKind.OTHERS):
            found = self.checklist_tree.findings_under(ref.id)
            detail.show(bucket_detail(ref, found, review))
            if kind == NodeKind.FILE and found:
                self._show_file(key, found[0].start_line, found[0].end_line)
            else:
                self._overview(findings_overview(found))
        else:  # a finding the running scan reported, or one a colleague's re-scan removed
            detail.show(Text("The scan is still running: this finding can be decided once it is done.", "italic"))
            self._overview(Text(""))

    def _finding_detail(self, fp: str) -> RenderableType:
        review = self.review
        f, history = review.findings[fp], lambda: review.history(fp)
        if self.shared:
            f, history = masked_finding(f), lambda: [masked_event(e) for e in review.history(fp)]
        return finding_detail(f, review, history, self._rules_read)

    def _shown_as(self, fp: str) -> tuple:
        """All that a finding's detail is made from (its history aside, read when it is drawn)."""
        review = self.review
        return fp, review.findings[fp], review.proofs.get(fp), review.info.commit, self._rules_read, self.shared

    def _prefetch(self) -> None:
        """After the frame of a jump (n, N, or c, d, x with auto-advance): the next untriaged finding,
        where the next of these keys goes, made ahead, its detail rendered and its code's lines
        drawn, so that the key shows them without making them (issue 13). Not after j or k: a key
        held down would pay for findings it passes by."""
        review, tree = self.review, self.checklist_tree
        if review is None or self._opening or not tree.is_mounted:
            return
        fp = tree.next_untriaged(review, True)
        if fp is None or (self._ahead is not None and self._ahead[0] == self._shown_as(fp)):
            return  # made already (the source view makes its lines again if their colours come)
        prepared = self.detail.prepare(self._finding_detail(fp))
        if prepared is None:  # not laid out yet
            return
        self._ahead = (self._shown_as(fp), prepared)
        f = review.findings[fp]
        try:
            self.source.prefetch(f.path, self.shown_text(f.path), f.start_line, f.end_line)
        except OSError:
            pass  # shown as unreadable when it is shown

    def _overview(self, renderable) -> None:
        self.source.show_overview(renderable)
        self.viewer.current = "source"

    async def _show_doc(self, doc: Doc) -> None:
        try:
            text = confine.read_text(str(self.app.repo), doc.path)
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
            with self._saving():
                self.review.mark_read(path)
            self.checklist_tree.relabel(self.review)
            self._refresh_status()

    def source_text(self, path: str) -> str:
        """A file of the repository, read once (OSError when it cannot be read)."""
        if path not in self._sources:
            self._sources[path] = confine.read_text(str(self.app.repo), path)
        return self._sources[path]

    @property
    def shared(self) -> bool:
        """Someone else is in this review (a pair review, a shared terminal): secrets in the code,
        the findings and the notes are masked on screen while they are."""
        return bool(self.presence and self.presence.present)

    def shown_text(self, path: str) -> str:
        """A file as the screen may show it now: secrets masked while the review is shared."""
        text = self.source_text(path)
        return mask(text) if self.shared else text

    def _show_file(self, path: str, start: int = 0, end: int = -1) -> None:
        self.viewer.current = "source"
        try:
            text = self.shown_text(path)
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
        if self.not_saving:  # first and loud: nothing the reviewer does is kept
            text.append("NOT SAVING", "bold reverse red")
            text.append(" · ")
        elif self._unwritten and self._loader is not None:
            text.append("opening the review file to save your decision…", "bold yellow")
            text.append(" · ")
        present = self.presence.present if self.presence else []
        if present:  # first: the line is cut at the terminal's edge
            text.append_text(Text.assemble("with ", untrusted.line(", ".join(present)), style="bold magenta"))
            following = self.presence.following
            if following:
                text.append_text(Text.assemble(" (following ", untrusted.line(following), ")", style="magenta"))
            text.append(" · ")
        view = self.checklist_tree.view
        if view.filtered or view.group_by != "item":
            text.append(f"{view.describe()}: {self.checklist_tree.shown()} of {len(review.findings)}", "bold cyan")
            text.append(" · ")
        if self._opening:
            text.append("Opening the review file…", "bold")
        elif self._scan_status.startswith("scanning") and not review.findings:
            text.append("Scanning the code for the first time…", "bold")  # no step can be judged yet
        elif not self._docs_known:  # a step shown now could go back to 1 when the documents are found
            text.append("Step 1/4: finding the context documents", "bold")
        elif step is None:
            text.append("Review complete", "bold green")
        else:
            text.append(f"Step {step.number}/4: {step.left} {step.todo}", "bold")  # short: 80 columns hold the counts too
        if review.marked:
            text.append(f" · {len(review.marked)} marked", "bold magenta")
        text.append(f" · {review.progress()}")
        if self._scan_status:
            text.append_text(Text.assemble(" · ", untrusted.line(self._scan_status), style="dim"))
        if text != self._status_text:  # the poll asks twice a second: an update lays out the screen again
            self._status_text = text
            self.status.update(text, layout=False)  # one line, whatever it says: no layout of the screen

    # -- acting ------------------------------------------------------------------------------

    def _current_finding(self, quiet: bool = False) -> str | None:
        ref = self.checklist_tree.current
        if ref is not None and ref.kind == NodeKind.FINDING and self.review and ref.key in self.review.findings:
            return ref.key
        if not quiet:
            self.notify("Select a finding first (space or n goes to the next untriaged one).", severity="warning")
        return None

    def _targets(self) -> list[str]:
        """The marked findings, else the selected one."""
        assert self.review is not None
        return self.review.targets(self._current_finding(quiet=bool(self.review.marked)))

    def _current_item(self) -> str | None:
        ref = self.checklist_tree.current
        if ref is not None and ref.kind == NodeKind.ITEM:
            return ref.key
        if ref is not None and ref.kind == NodeKind.FINDING and self.review and ref.key in self.review.findings:
            item_id = self.review.findings[ref.key].item_id
            if f"item:{item_id}" in self.checklist_tree.by_id:  # not one of the other findings, under no item
                return item_id
        self.notify("Select a checklist item (or one of its findings) first.", severity="warning")
        return None

    def _decide(self, fingerprints: list[str], act, advance: bool = False, shown: FindingState | None = None) -> None:
        """Run one decision per finding; a lost race shows the other reviewer's change instead.
        With `advance` (a triage key) and the preference on, go on to the next untriaged finding.
        `shown`: the one finding as the decision leaves it, shown at once and written right after
        this frame (_write_shown), so that the key's frame does not wait for the transaction."""
        assert self.review is not None
        done = False
        if shown is not None and not (self._scan is not None and self._scan.matching):
            before = self.review.findings[shown.fingerprint]
            self.review.keep(shown)
            self._unwritten.append(lambda: self._write_shown(shown, before, act))
            self.call_after_refresh(self._write_after_frame)
            done = now = True
        else:
            with self._unless_matching(fingerprints, lambda fps: self._decide(fps, act, advance)) as now, self._saving():
                if now:
                    done = self._decide_each(fingerprints, act)
        if not now:
            return
        advancing = advance and done and self.app.prefs.auto_advance
        self._after_change(fingerprints, show=not advancing)  # the next finding is shown instead
        if advancing and not self._jump(True):
            self._show(self.checklist_tree.current)

    def _write_after_frame(self, again: bool = True) -> None:
        """Right after the frame that shows the decision and where the cursor went: one frame more
        when the cursor was still on its way to a node made for it (select_id)."""
        if again and self.checklist_tree.moving:
            self.call_after_refresh(self._write_after_frame, False)
        elif self._loader is None:
            self._write_unwritten()
        # else the store is still opening: written when it is (on_loader_store_opened), the status line says so

    def _write_unwritten(self) -> None:
        """The decisions shown but not written yet, in the order they were made: right after their
        frame, and before anything else is written or read from the store (_saving), or the app
        quits (on_unmount): every action is still saved at once, one frame later."""
        unwritten, self._unwritten = self._unwritten, []
        for write in unwritten:
            write()

    def _write_shown(self, shown: FindingState, before: FindingState, act) -> None:
        fp, review = shown.fingerprint, self.review
        review.keep(before)  # what the store has: the decision is made on it, as if just typed
        written = False
        with self._unless_matching([fp], lambda fps: self._decide(fps, act)) as now, self._saving():
            if now:
                written = self._decide_each([fp], act)
        tree = self.checklist_tree
        if not now or not written:  # held for the matching, refused, or not saved: show what is saved
            tree.relabel(review, finding=fp)
            tree.refold(fp)
            self._refresh_status()
        if tree.current is not None and tree.current.key == fp:  # auto-advance off: its history too
            self._show(tree.current)

    def _decide_each(self, fingerprints: list[str], act) -> bool:
        done = True
        for fp in fingerprints:
            try:
                act(fp)
            except ConflictError as exc:
                self.review.keep(exc.current)
                self.notify(str(exc), title="Someone was faster", severity="warning", timeout=8, markup=False)
                done = False
            except ValueError as exc:
                self.notify(str(exc), severity="warning", markup=False)
                done = False
        return done

    def _after_change(self, fingerprints: list[str] | None = None, show: bool = True) -> None:
        assert self.review is not None
        tree = self.checklist_tree
        if fingerprints and len(fingerprints) == 1 and not self.review.marked:
            tree.relabel(self.review, finding=fingerprints[0])
            tree.refold(fingerprints[0])
        elif fingerprints:
            self.review.marked.clear()
            tree.populate(self.review, self.docs)  # many moved into (or out of) their folds
        else:
            tree.relabel(self.review)
        if show:
            self._show(tree.current)
        self._refresh_status()

    def _bulk_note(self, fps: list[str], then) -> None:
        """For several findings, ask once for the note that goes with all of them."""
        from tui.screens.dialogs import TextDialog  # imported after the first screen (Loader)

        if len(fps) == 1:
            then(None)
        else:
            self.app.push_screen(TextDialog(f"One note for these {len(fps)} findings (optional)"), lambda note: note is not None and then(note or None))

    def action_confirm(self) -> None:
        fps = self._targets()
        if len(fps) > 1:
            self._bulk_note(fps, lambda note: self._bulk(fps, Disposition.CONFIRMED, None, note))
        elif fps:
            self._decide(fps, self.review.confirm, advance=True, shown=self.review.decided(fps[0], Disposition.CONFIRMED))

    def action_downgrade(self) -> None:
        fps = self._targets()
        if len(fps) > 1:
            self._bulk_note(fps, lambda note: self._decide(fps, lambda fp: self.review.downgrade(fp, note)))
        elif fps:
            self._decide(fps, self.review.downgrade, advance=True, shown=self.review.decided(fps[0], Disposition.DOWNGRADED))

    def action_dismiss_finding(self) -> None:
        from tui.screens.dialogs import DismissDialog  # imported after the first screen (Loader)

        fps = self._targets()
        if not fps:
            return

        def done(answer: tuple[str, str] | None) -> None:
            if answer is not None:
                reason, note = answer
                if len(fps) > 1:
                    self._bulk(fps, Disposition.DISMISSED, reason, note or None)
                else:
                    self._decide(fps, lambda fp: self.review.dismiss(fp, reason, note or None), advance=True,
                                 shown=self.review.decided(fps[0], Disposition.DISMISSED, reason))

        # The message whole when it fits three lines of the dialog at 80 columns, else to a word and "…"
        what = shorten(self.review.findings[fps[0]].message, 180, placeholder=" …") if len(fps) == 1 else f"{len(fps)} marked findings"
        self.app.push_screen(DismissDialog(what), done)

    def _bulk(self, fps: list[str], disposition: Disposition, reason: str | None, note: str | None) -> None:
        try:
            with self._unless_matching(fps, lambda fps: self._bulk(fps, disposition, reason, note)) as now, self._saving():
                if now:
                    self.review.bulk(fps, disposition, reason=reason, note=note)
            if not now:
                return
        except (ConflictError, ValueError) as exc:
            self.review.reload()
            self.notify(f"Nothing was changed: {exc}", severity="warning", timeout=8, markup=False)
        except KeyError:  # a colleague's new scan merged or removed some of them
            self.review.reload()
            self.notify("Some of these findings are no longer in the review (a new scan); nothing was changed.",
                        severity="warning", timeout=8)
        self._after_change(fps)

    def action_reopen(self) -> None:
        ref = self.checklist_tree.current
        review = self.review
        if review is None:
            return
        if ref is not None and ref.kind == NodeKind.ITEM and not review.marked:
            with self._saving():
                review.set_verdict(ref.key, Verdict.UNREVIEWED)
            self._after_change()
            return
        fps = [fp for fp in self._targets() if review.findings[fp].disposition != Disposition.UNTRIAGED]
        if len(fps) > 1:
            self._bulk_note(fps, lambda note: self._bulk(fps, Disposition.UNTRIAGED, None, note))
        elif fps:
            self._decide(fps, review.reopen)
        elif self._current_finding(quiet=True):
            self.notify("This finding is untriaged already.")

    def action_undo(self) -> None:
        from tui.session import UndoError

        if self.review is None:
            return
        said = None
        try:
            with self._saving():
                said = self.review.undo()
        except UndoError as exc:
            self.notify(str(exc), title="Nothing was undone", severity="warning", timeout=8, markup=False)
        if said is None:
            return
        self.notify(said, timeout=4, markup=False)
        self.checklist_tree.populate(self.review, self.docs)
        self._show(self.checklist_tree.current)
        self._refresh_status()

    def action_mark(self) -> None:
        fp = self._current_finding()
        if fp:
            self.review.toggle_mark(fp)
            self.checklist_tree.relabel(self.review, finding=fp)
            self._refresh_status()

    def action_mark_rule(self) -> None:
        fp = self._current_finding()
        if fp:
            self.review.mark_rule(self.review.findings[fp].rule_id)
            self.checklist_tree.relabel(self.review)
            self._refresh_status()

    def action_annotate(self) -> None:
        from tui.screens.dialogs import TextDialog  # imported after the first screen (Loader)

        ref = self.checklist_tree.current
        review = self.review
        if ref is None or review is None:
            return
        if ref.kind == NodeKind.FINDING and ref.key in review.findings:
            def save_note(text: str | None) -> None:
                if text:
                    self._decide([ref.key], lambda fp: review.annotate(fp, text))

            self.app.push_screen(TextDialog("Note on this finding"), save_note)
        elif ref.kind == NodeKind.ITEM:
            state = review.item(ref.key)

            def save_notes(text: str | None) -> None:
                if text is not None:
                    with self._saving():
                        review.set_verdict(ref.key, Verdict(state.verdict), text)
                    self._after_change()

            self.app.push_screen(TextDialog(f"Notes on item {ref.key}", state.notes), save_notes)
        elif ref.kind == NodeKind.QUESTION:
            answer = review.answer(ref.key)

            def save_answer(text: str | None) -> None:
                if text is not None:
                    with self._saving():
                        review.set_answer(ref.key, text)
                    self._after_change()

            question = review.checklist.question(ref.key)
            self.app.push_screen(TextDialog(f"{question.id} {labels.plain(question.text)}", answer.text or answer.drafted), save_answer)
        else:
            self.notify("Select a finding, an item or a question to write on.", severity="warning")

    def action_verdict(self, verdict: str) -> None:
        ref, review = self.checklist_tree.current, self.review
        if review is None:
            return
        if ref is not None and ref.kind in (NodeKind.SECTION, NodeKind.GROUP):
            self._verdict_in_bulk(ref, Verdict(verdict))
            return
        item = self._current_item()
        if item:
            with self._saving():
                review.set_verdict(item, Verdict(verdict))
            self._after_change()

    def _verdict_in_bulk(self, ref: NodeRef, verdict: Verdict) -> None:
        """`-` on a section or a group: every item in it still without a verdict is n/a, one note."""
        from tui.screens.dialogs import TextDialog  # imported after the first screen (Loader)

        review = self.review
        if verdict != Verdict.NA:
            self.notify("p, w and f judge one item at a time; - marks a whole section or group n/a.", severity="warning")
            return
        if ref.kind == NodeKind.SECTION:
            section = review.checklist.section(ref.key)
            items, what = list(section.items), f"section {section.number} {section.title}"
        else:
            section_id, group_key = ref.key.split(".", 1)
            section = review.checklist.section(section_id)
            items = [i for i in section.items if i.group == group_key]
            what = next(g.title for g in section.groups if g.key == group_key)
        todo = [i.id for i in items if review.item(i.id).verdict == Verdict.UNREVIEWED]
        if not todo:
            self.notify(f"Every item of {what} has a verdict already.")
            return

        def mark(note: str | None) -> None:
            if note is None:
                return
            with self._saving():
                review.set_verdicts(todo, Verdict.NA, note or None)
            kept = len(items) - len(todo)
            self.notify(f"{len(todo)} items of {what} are n/a" + (f"; {kept} with a verdict kept it." if kept else "."))
            self._after_change()

        self.app.push_screen(TextDialog(f"Not applicable: {len(todo)} items of {what}. One note for all (optional)"), mark)

    def action_next_step(self) -> None:
        if self.review is None:
            return
        tree = self.checklist_tree
        target = next_target(self.review, self.docs, self.review.docs_read, tree.finding_order())
        if target is None:
            self.notify("Every step is done: export the report with `dbreview export`.", title="Review complete")
        elif tree.current is not None and tree.current.id == target.node_id:
            self.notify(f"Next: {target.what}", timeout=4, markup=False)
        else:
            tree.select_id(target.node_id)

    def _jump(self, forward: bool) -> bool:
        """To the next (or previous) untriaged finding; False when there is none to go to."""
        tree = self.checklist_tree
        fp = tree.next_untriaged(self.review, forward) if self.review else None
        if fp is None:
            self.notify("Every finding is triaged.")
            return False
        moved = tree.select_id(f"finding:{fp}")
        self.call_after_refresh(self._prefetch)  # where the next n, or c with auto-advance, goes
        return moved

    def action_next_untriaged(self) -> None:
        self._jump(True)

    def action_previous_untriaged(self) -> None:
        self._jump(False)

    def action_filter(self) -> None:
        from tui.screens.view_dialog import ViewDialog

        def apply(view) -> None:
            if view is not None and self.review is not None:
                self.checklist_tree.populate(self.review, self.docs, view)
                if view.filtered and not self.checklist_tree.shown():
                    self.notify("No finding is like that: v changes the filter, ctrl+r in it shows all.", severity="warning")
                self._refresh_status()
                self._show(self.checklist_tree.current)

        self.app.push_screen(ViewDialog(self.checklist_tree.view), apply)

    def goto(self, node_id: str) -> None:
        """Select a node for a search, the palette or a colleague; say so when the view hides it."""
        if not self.checklist_tree.select_id(node_id) and self.checklist_tree.view.filtered:
            self.notify("The filter hides it: v changes the filter, ctrl+r in it shows all.", severity="warning")

    def action_search(self) -> None:
        from tui.screens.search import RepositoryText, SearchScreen

        if self.review is None:
            return

        def go(target: str | None) -> None:
            if not target:
                return
            if target.startswith("source:"):
                path, line = target[7:].rsplit(":", 1)
                self.detail.show(Text.assemble((f"{path}:{line}", "bold underline"), ("  a search result; the tree's selection is unchanged", "dim")))
                self._show_file(path, int(line), int(line))
            else:
                self.goto(target)

        if self.repository_text is None:
            self.repository_text = RepositoryText(self.app.repo)
        self.app.push_screen(SearchScreen(self.review, self.repository_text, mask if self.shared else None), go)

    def action_export(self) -> None:
        from tui.screens.export import ExportDialog

        if self.review is not None:
            self.app.push_screen(ExportDialog(Path.cwd(), f"dbreview-{self.app.repo.name}"), self._export)

    def _export(self, chosen: tuple[str, Path] | None) -> None:
        """Write the review as the reviewer chose, from the state saved now (secrets masked)."""
        from analyzers.settings import within_repository
        from tui import output
        from tui.reports import render

        if chosen is None or self.review is None:
            return
        fmt, path = chosen
        text = render(fmt, self.review.checklist, self.review.snapshot(), path_prefix=within_repository(self.app.repo))
        try:
            output.write(text, str(path))  # whole or not at all, as `dbreview export -o` writes
        except output.NotWritten as exc:
            self.notify(str(exc), title="Not exported", severity="error")
            return
        self.notify(f"Wrote the review ({fmt}) to {path}")

    def action_summary(self) -> None:
        from tui.screens.summary import SummaryScreen

        if self.review is not None:
            self.app.push_screen(SummaryScreen(self.review))

    def action_copy_location(self) -> None:
        fp = self._current_finding()
        if fp:
            f = self.review.findings[fp]
            self.app.copy_to_clipboard(f.location)
            self.notify(f"Copied {f.location}", markup=False)

    def action_copy_markdown(self) -> None:
        fp = self._current_finding()
        if fp:
            self.app.copy_to_clipboard(finding_markdown(masked_finding(self.review.findings[fp])))  # an export: masked
            self.notify("Copied the finding as Markdown")

    def action_edit(self) -> None:
        fp = self._current_finding()
        if not fp:
            return
        f = self.review.findings[fp]
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        try:
            with self.app.suspend():
                subprocess.run([*shlex.split(editor), f"+{f.start_line}", str(self.app.repo / f.path)], check=False)
        except Exception as exc:  # noqa: BLE001 - no terminal to hand over (tests, web), or no editor
            self.notify(f"Cannot open the editor: {exc}", severity="error", markup=False)
        self._sources.pop(f.path, None)
        self._show(self.checklist_tree.current)

    def action_toggle_auto_advance(self) -> None:
        self.app.set_preferences(auto_advance=not self.app.prefs.auto_advance)
        state = "on: c, d and x go on to the next untriaged finding" if self.app.prefs.auto_advance else "off"
        self.notify(f"Auto-advance is {state}.")

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        where = self.app.prefs_file
        self.app.push_screen(HelpScreen(self.app.keys, str(where) if where else None))


def finding_markdown(f: FindingState) -> str:
    """A finding as a reviewer pastes it into a ticket or a chat."""
    from tui.reports.mdtext import code_block, language
    from tui.reports.sanitize import printable

    lines = [f"**{f.severity.upper()}** {f.rule_id}: {printable(f.message)}", f"`{f.location}`", ""]
    if f.evidence:
        lines += code_block(f.evidence, language(f.path))
    return "\n".join(lines)

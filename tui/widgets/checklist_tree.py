"""The left pane: sections -> items -> findings, plus questions, context documents, scan errors; or,
grouped by rule or by file, the findings alone (tui/view.py says which and which findings).

A finding's node is made when its parent is first opened, so a review with thousands of findings
opens as fast as an empty one; order and navigation come from the review's data, not the nodes.
Dismissed and resolved findings fold away under a closed node at the end of their parent."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from analyzers.rules import rule_info
from tui import keymap, labels, untrusted
from tui.review import Review
from tui.session.state import Detection, Disposition, FindingState, Verdict
from tui.view import OTHERS, View, buckets, parent_key
from tui.walkthrough import Doc
from tui.widgets.content_size import content_resized


class NodeKind(StrEnum):
    SECTION = "section"
    GROUP = "group"  # a part of a section (models by file)
    ITEM = "item"
    RULE = "rule"  # grouped by rule: the findings of one rule
    FILE = "file"  # grouped by file: the findings in one file
    FOLD = "fold"  # the dismissed and resolved findings of the node above
    OTHERS = "others"  # findings under no item of the checklist (unused suppression comments)
    FINDING = "finding"
    QUESTIONS = "questions"  # a section's "Questions to answer"
    QUESTION = "question"
    DOCS = "docs"
    DOC = "doc"
    ERRORS = "errors"
    ERROR = "error"
    PENDING = "pending"  # a finding the running scan has reported, not yet saved


@dataclass(frozen=True, slots=True)
class NodeRef:
    kind: NodeKind
    key: str

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.key}"


class ChecklistTree(Tree[NodeRef]):
    BINDINGS = keymap.bindings(keymap.TREE)

    def __init__(self, **kwargs) -> None:
        super().__init__("Review", **kwargs)
        self.show_root = False
        self.auto_expand = False  # enter opens and closes nodes itself (action_select_cursor)
        self.guide_depth = 2
        self.by_id: dict[str, TreeNode[NodeRef]] = {}
        self.others: dict[str, list[str]] = {}  # node id -> the other reviewers there
        self.docs: list[Doc] = []
        self.review: Review | None = None
        self.view = View()
        self._buckets: dict[str, list[str]] = {}  # parent node id -> its findings' fingerprints in this view
        self._order: list[str] = []  # the fingerprints of all buckets, in the tree's order
        self._position: dict[str, int] = {}  # fingerprint -> its place in _order
        self._known: set[str] = set()  # the checklist's item ids
        self._filled: set[str] = set()  # parents whose finding nodes exist
        self._fixed: dict[str, Text] = {}  # labels that only change by who is there: groups, folders
        self._pending: TreeNode[NodeRef] | None = None  # where the cursor is going (keys act on it)
        self._pass_style: Style | None = None  # the tree's style during one render_lines pass

    def refresh(self, *regions, repaint: bool = True, layout: bool = False, recompose: bool = False) -> ChecklistTree:
        """Textual's tree asks for a layout of the whole screen whenever its lines change (a node
        added, opened or closed; an item opened by `n` adds ~20): this tree's size never depends on
        its lines (its width and height are fixed in app.tcss), so a repaint and the scrollbar's new
        length do. A scrollbar that comes or goes still lays the screen out."""
        if layout and self.size and not recompose:
            content_resized(self)
            layout = False
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def render_lines(self, crop: Region) -> list[Strip]:
        """Textual's tree works out its style (a walk up the whole DOM, blending every ancestor's
        colours) once per line it draws: a scrolled tree redraws all its lines on every `j`. Once
        per pass is enough: nothing changes the styles while a frame is drawn."""
        self._pass_style = self.rich_style
        try:
            return super().render_lines(crop)
        finally:
            self._pass_style = None

    def render_line(self, y: int) -> Strip:
        if self._pass_style is None:
            return super().render_line(y)
        scroll_x, scroll_y = self.scroll_offset
        return self._render_line(y + scroll_y, scroll_x, scroll_x + self.size.width, self._pass_style)

    @property
    def moving(self) -> bool:
        """The cursor is on its way to a node (select_id): it lands after the next refresh."""
        return self._pending is not None

    @property
    def current(self) -> NodeRef | None:
        node = self._pending or self.cursor_node
        return node.data if node is not None else None

    # -- building --------------------------------------------------------------------------

    def populate(self, review: Review, docs: list[Doc], view: View | None = None) -> None:
        """(Re)build the nodes from the review, keeping what was open and where the cursor was."""
        regrouped = view is not None and view.group_by != self.view.group_by
        was_expanded = set() if regrouped else {key for key, node in self.by_id.items() if node.is_expanded}
        # Where the cursor was, and what held it: the nearest of them still shown gets the cursor.
        node = self._pending or self.cursor_node
        was_at = []
        while node is not None and node.data is not None:
            was_at.append(node.data.id)
            node = node.parent
        self.clear()
        self.by_id, self._filled, self._fixed, self._pending = {}, set(), {}, None
        self.review, self.docs, self.view = review, docs, view or self.view
        self._known = {item.id for item in review.checklist.items}
        self._buckets = {key: [f.fingerprint for f in found] for key, found in buckets(review, self.view).items()}
        self._order = [fp for found in self._buckets.values() for fp in found]
        self._position = {fp: i for i, fp in enumerate(self._order)}
        root = self.root
        if self.view.group_by == "item":
            self._by_item(review, docs)
        else:
            kind = NodeKind.RULE if self.view.group_by == "rule" else NodeKind.FILE
            for key in self._buckets:
                root.add(Text(""), NodeRef(kind, key.split(":", 1)[1]))
                self.by_id[key] = root.children[-1]
        if review.scan_errors:
            err_node = self._add(root, NodeRef(NodeKind.ERRORS, "errors"), Text(f"Scan errors ({len(review.scan_errors)})", "bold red"))
            for i, err in enumerate(review.scan_errors):
                self._add(err_node, NodeRef(NodeKind.ERROR, str(i)), untrusted.line(str(err)), leaf=True)
        self.relabel(review)
        opened = {n.data.id for n in root.children if n.data.kind == NodeKind.SECTION}
        for key in was_expanded or opened:
            self._expand(key)
        if not any(self.select_id(node_id) for node_id in was_at):
            self._pending = None
            self.move_cursor(self.get_node_at_line(0))  # not the node the old tree had there

    def _by_item(self, review: Review, docs: list[Doc]) -> None:
        """The checklist's own shape; under a filter only what leads to a finding shown."""
        root, filtered = self.root, self.view.filtered
        if not filtered:
            for title, style, key, shown in (("Context documents", "bold", "docs", [d for d in docs if d.cited]),
                                             ("Other documents", "italic", "other", [d for d in docs if not d.cited])):
                if shown:
                    node = self._add(root, NodeRef(NodeKind.DOCS, key), Text(f"{title} ({len(shown)})", style))
                    for doc in shown:
                        self._add(node, NodeRef(NodeKind.DOC, doc.path), Text(""), leaf=True)
        for section in review.checklist.sections:
            items = [i for i in section.items if not filtered or f"item:{i.id}" in self._buckets]
            if not items:
                continue
            node = self._add(root, NodeRef(NodeKind.SECTION, section.id), Text(""))
            groups = {
                g.key: self._add(node, NodeRef(NodeKind.GROUP, f"{section.id}.{g.key}"), Text.assemble((g.title, "italic"), (f"  {g.files}", "dim")))
                for g in section.groups
                if any(i.group == g.key for i in items)
            }
            for item in items:
                parent = groups.get(item.group or "", node)
                parent.add(Text(""), NodeRef(NodeKind.ITEM, item.id), allow_expand=f"item:{item.id}" in self._buckets)
                self.by_id[f"item:{item.id}"] = parent.children[-1]
            if section.questions and not filtered:
                q_node = self._add(node, NodeRef(NodeKind.QUESTIONS, section.id), Text("Questions to answer", "italic"))
                for q in section.questions:
                    self._add(q_node, NodeRef(NodeKind.QUESTION, q.id), Text(""), leaf=True)
        strays = self._buckets.get(OTHERS, [])
        if strays:
            self._add(root, NodeRef(NodeKind.OTHERS, "others"), Text(f"Other findings ({len(strays)})", "italic"))

    def _add(self, parent: TreeNode[NodeRef], ref: NodeRef, label: Text, leaf: bool = False) -> TreeNode[NodeRef]:
        node = parent.add_leaf(label, ref) if leaf else parent.add(label, ref)
        self.by_id[ref.id] = node
        if label.plain:
            self._fixed[ref.id] = label
        return node

    def _fill(self, parent_id: str) -> None:
        """Make the finding nodes under a parent (once): the open ones, then a closed fold with the
        dismissed and resolved ones."""
        if parent_id in self._filled or self.review is None or parent_id not in self._buckets:
            return
        self._filled.add(parent_id)
        node, review = self.by_id[parent_id], self.review
        found = self._found(parent_id)
        folded = [f for f in found if self.view.folds(f)]
        for f in found:
            if f not in folded:
                self._add_finding(node, f)
        if folded:
            fold = self._add(node, NodeRef(NodeKind.FOLD, parent_id), Text(f"⊘ {len(folded)} dismissed or resolved", "dim italic"))
            for f in folded:
                self._add_finding(fold, f)
        if review.marked or self.others:
            self.relabel(review)

    def _found(self, parent_id: str) -> list[FindingState]:
        assert self.review is not None
        return [self.review.findings[fp] for fp in self._buckets.get(parent_id, ()) if fp in self.review.findings]

    def refold(self, fingerprint: str) -> None:
        """A finding dismissed (or reopened) moves into (or out of) its parent's fold."""
        node, review = self.by_id.get(f"finding:{fingerprint}"), self.review
        if node is None or review is None or node.parent is None:
            return
        folded = node.parent.data is not None and node.parent.data.kind == NodeKind.FOLD
        if folded == self.view.folds(review.findings[fingerprint]):
            return
        parent_id = parent_key(review.findings[fingerprint], self.view, self._known)
        parent = self.by_id[parent_id]
        cursor = self.current.id if self.current else None
        for child in list(parent.children):
            self._forget(child)
        parent.remove_children()
        self._filled.discard(parent_id)
        self._fill(parent_id)
        if cursor and cursor in self.by_id:
            self.select_id(cursor)
        elif cursor:
            self.select_id(parent_id)

    def _forget(self, node: TreeNode[NodeRef]) -> None:
        for child in node.children:
            self._forget(child)
        if node.data is not None:
            self.by_id.pop(node.data.id, None)
            self._fixed.pop(node.data.id, None)

    def _add_finding(self, parent: TreeNode[NodeRef], f: FindingState) -> None:
        assert self.review is not None
        parent.add_leaf(self._finding_label(self.review, f.fingerprint), NodeRef(NodeKind.FINDING, f.fingerprint))
        self.by_id[f"finding:{f.fingerprint}"] = parent.children[-1]

    def _expand(self, node_id: str) -> None:
        self._fill(node_id)
        node = self.by_id.get(node_id)
        if node is not None:
            node.expand()

    def action_select_cursor(self) -> None:
        """enter opens or closes the node at once (Textual's own does it when its message comes
        round, after a key typed next: j would then land where the opened node was not yet)."""
        node = self.cursor_node
        if node is None:
            return
        if node.data is not None:
            self._fill(node.data.id)
        if node.allow_expand:
            node.toggle()
        self.post_message(self.NodeSelected(node))

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[NodeRef]) -> None:
        if event.node.data is not None:
            self._fill(event.node.data.id)
        if self.others and self.review is not None:
            self.relabel(self.review)  # a colleague's marker moves down to where they are

    def on_tree_node_collapsed(self, event: Tree.NodeCollapsed[NodeRef]) -> None:
        if self.others and self.review is not None:
            self.relabel(self.review)  # and up to the node that now hides them

    # -- labels ----------------------------------------------------------------------------

    def relabel(self, review: Review, finding: str | None = None) -> None:
        """Refresh labels: all of them, or only one finding's and its ancestors'."""
        if finding is not None:
            node = self.by_id.get(f"finding:{finding}")
            if node is not None:
                self._set_label(node, self._finding_label(review, finding))
            f = review.findings[finding]
            self._relabel_parent(review, parent_key(f, self.view, self._known))
            if f"item:{f.item_id}" in self.by_id:  # not one of the other findings, under no item
                self._relabel_section(review, review.checklist.item(f.item_id).section_id)
            return
        for doc in self.docs:
            if f"doc:{doc.path}" in self.by_id:
                read = doc.path in review.docs_read
                label = Text.assemble(("✓ " if read else "? ", "green" if read else "dim"), untrusted.line(doc.path))
                if doc.lines:
                    label.append(f"  lines {doc.lines[0]}-{doc.lines[1]}", "dim")
                self._set_label(self.by_id[f"doc:{doc.path}"], self._with_others(label, f"doc:{doc.path}"))
        for key, node in self.by_id.items():
            if key.startswith("finding:") and key[8:] in review.findings:
                self._set_label(node, self._finding_label(review, key[8:]))
            elif key.startswith(("item:", "rule:", "file:")):
                self._relabel_parent(review, key)
            elif key.startswith("question:"):
                q = review.checklist.question(key[9:])
                a = review.answer(q.id)
                self._set_label(node, self._with_others(labels.question_label(q.id, q.text, bool(a.text.strip()), bool(a.drafted)), key))
        for key, label in self._fixed.items():
            self._set_label(self.by_id[key], self._with_others(label, key))
        for section in review.checklist.sections:
            self._relabel_section(review, section.id)

    def _set_label(self, node: TreeNode[NodeRef], label: Text) -> None:
        """A node's label, when it changed: Textual repaints the node and every line below it (their
        cached lines depend on their ancestors'), and a confirmation, say, leaves its item's and
        section's labels as they were."""
        shown, new = node.label, self.process_label(label)
        if new != shown or new.style != shown.style:
            node.set_label(new)

    def _finding_label(self, review: Review, fingerprint: str) -> Text:
        label = labels.finding_label(
            review.findings[fingerprint], fingerprint in review.marked, review.rescanned, review.proof_label(fingerprint)
        )
        return self._with_others(label, f"finding:{fingerprint}")

    def _with_others(self, label: Text, node_id: str) -> Text:
        """Who else is here (or somewhere below, while this node is closed), first: long labels are
        cut at the pane's edge."""
        names = self._shown_others.get(node_id)
        if names:
            return Text.assemble(("▸", "bold magenta"), untrusted.line(", ".join(names), "bold magenta"), " ", label)
        return label

    @property
    def _shown_others(self) -> dict[str, list[str]]:
        """The other reviewers by the node that shows them: theirs, or the nearest open ancestor."""
        shown: dict[str, list[str]] = {}
        for node_id, names in self.others.items():
            node = self._visible(node_id)
            if node is not None and node.data is not None:
                shown.setdefault(node.data.id, []).extend(names)
        return shown

    def _visible(self, node_id: str) -> TreeNode[NodeRef] | None:
        node = self.by_id.get(node_id)
        if node is None and node_id.startswith("finding:") and self.review is not None:
            f = self.review.findings.get(node_id[8:])
            node = self.by_id.get(parent_key(f, self.view, self._known)) if f else None
        if node is None:
            return None
        shown = node
        parent = node.parent
        while parent is not None and parent.data is not None:
            if not parent.is_expanded:
                shown = parent
            parent = parent.parent
        return shown

    def _relabel_parent(self, review: Review, key: str) -> None:
        """An item, a rule's or a file's node."""
        node = self.by_id.get(key)
        if node is None:
            return
        kind, name = key.split(":", 1)
        if kind == "item":
            item = review.checklist.item(name)
            label = labels.item_label(item.id, item.text, review.item(item.id), review.findings_of(item.id), item.id in review.not_applicable)
        elif kind == "rule":
            info = rule_info(name)
            label = Text.assemble((name, "bold"), labels.counts(self._found(key)), f" {info.title if info else ''}")
        else:
            label = Text.assemble(untrusted.line(name, "bold"), labels.counts(self._found(key)))
        self._set_label(node, self._with_others(label, key))

    def _relabel_section(self, review: Review, section_id: str) -> None:
        node = self.by_id.get(f"section:{section_id}")
        if node is None:
            return
        section = review.checklist.section(section_id)
        findings = [f for item in section.items for f in review.findings_of(item.id)]
        done = sum(1 for item in section.items if review.item(item.id).verdict != Verdict.UNREVIEWED)
        label = labels.section_label(section.number, section.title, done, len(section.items), findings)
        self._set_label(node, self._with_others(label, f"section:{section_id}"))

    # -- moving ----------------------------------------------------------------------------

    def node(self, node_id: str) -> TreeNode[NodeRef] | None:
        """The node of an id, making a finding's node (and its siblings) if its parent was never
        opened; None when the view hides it."""
        if node_id.startswith("finding:") and node_id not in self.by_id and self.review is not None:
            f = self.review.findings.get(node_id[8:])
            if f is not None:
                self._fill(parent_key(f, self.view, self._known))
        return self.by_id.get(node_id)

    def select_id(self, node_id: str) -> bool:
        """Move the cursor to a node, opening what holds it. Keys pressed before the next repaint
        already act on that node."""
        lines_before = len(self.by_id)
        node = self.node(node_id)
        if node is None:
            return False
        closed = []
        parent = node.parent
        while parent is not None:
            if parent.data is not None and not parent.is_expanded:
                closed.append(parent.data.id)
            parent = parent.parent
        for key in reversed(closed):
            self._expand(key)
        if closed or len(self.by_id) != lines_before or node.line < 0:
            self.get_node_at_line(0)  # Textual numbers the lines lazily: have it do so now
        if node.line >= 0:
            self._pending = None  # on its line now: keys typed next act from here
            self._move_to(node)
            return True
        self._pending = node
        self.call_after_refresh(self._move_to, node)
        return True

    def _move_to(self, node: TreeNode[NodeRef]) -> None:
        if self._pending is not None and self._pending is not node:
            return  # the reviewer went elsewhere since
        self._pending = None
        self.move_cursor(node)
        self.scroll_to_node(node, animate=False)

    def action_cursor_down(self) -> None:
        self._arrive()
        super().action_cursor_down()

    def action_cursor_up(self) -> None:
        self._arrive()
        super().action_cursor_up()

    def _arrive(self) -> None:
        """A move typed before the cursor reached where it was sent starts from there."""
        if self._pending is not None:
            node = self._pending
            self.get_node_at_line(0)
            self._pending = None
            if node.line >= 0:
                self.move_cursor(node)

    def finding_order(self) -> list[str]:
        """Fingerprints in the order the tree shows them, in this view."""
        return self._order

    def findings_under(self, node_id: str) -> list[FindingState]:
        """The findings of a rule's, a file's or a fold's node, in the tree's order."""
        if node_id.startswith("fold:"):
            return [f for f in self._found(node_id[5:]) if self.view.folds(f)]
        return self._found(node_id)

    def shown(self) -> int:
        return sum(len(found) for found in self._buckets.values())

    def next_untriaged(self, review: Review, forward: bool = True) -> str | None:
        """The nearest untriaged finding after (or before) the cursor, round the end; from the cursor
        on, so that a key pays for the findings it passes, not for all of them."""
        order = self._order
        here = self.current.key if self.current and self.current.kind == NodeKind.FINDING else None
        start = self._position.get(here) if here is not None else None
        step = 1 if forward else -1
        if start is None:
            start = -1 if forward else len(order)
        for k in range(1, len(order) + 1):
            fp = order[(start + step * k) % len(order)]
            f = review.findings.get(fp)
            if f is not None and f.disposition == Disposition.UNTRIAGED and f.detection != Detection.ABSENT:
                return fp
        return None

"""The left pane: sections -> items -> findings, plus questions, context documents, scan errors.

A finding's node is made when its item is first opened, so a review with thousands of findings
opens as fast as an empty one; order and navigation come from the review's data, not the nodes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from tui import keymap, labels, untrusted
from tui.review import Review
from tui.session.state import Disposition
from tui.walkthrough import Doc


class NodeKind(StrEnum):
    SECTION = "section"
    GROUP = "group"  # a part of a section (models by file)
    ITEM = "item"
    FINDING = "finding"
    QUESTIONS = "questions"  # a section's "Questions to answer"
    QUESTION = "question"
    DOCS = "docs"
    DOC = "doc"
    ERRORS = "errors"
    ERROR = "error"
    PENDING = "pending"  # a finding the running scan has reported, not yet saved
    OTHERS = "others"  # findings under no item of the checklist (unused suppression comments)


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
        self.guide_depth = 2
        self.by_id: dict[str, TreeNode[NodeRef]] = {}
        self.others: dict[str, list[str]] = {}  # node id -> the other reviewers there
        self.docs: list[Doc] = []
        self.review: Review | None = None
        self._filled: set[str] = set()  # items whose finding nodes exist
        self._fixed: dict[str, Text] = {}  # labels that only change by who is there: groups, folders
        self._pending: TreeNode[NodeRef] | None = None  # where the cursor is going (keys act on it)

    @property
    def current(self) -> NodeRef | None:
        node = self._pending or self.cursor_node
        return node.data if node is not None else None

    # -- building --------------------------------------------------------------------------

    def populate(self, review: Review, docs: list[Doc]) -> None:
        """(Re)build the nodes from the review, keeping what was open and where the cursor was."""
        was_expanded = {key for key, node in self.by_id.items() if node.is_expanded}
        cursor = self.current.id if self.current else None
        self.clear()
        self.by_id, self._filled, self._fixed, self._pending = {}, set(), {}, None
        self.review, self.docs = review, docs
        root = self.root
        cited = [d for d in docs if d.cited]
        if cited:
            docs_node = self._add(root, NodeRef(NodeKind.DOCS, "docs"), Text(f"Context documents ({len(cited)})", "bold"))
            for doc in cited:
                self._add(docs_node, NodeRef(NodeKind.DOC, doc.path), Text(""), leaf=True)
        others = [d for d in docs if not d.cited]
        if others:
            more = self._add(root, NodeRef(NodeKind.DOCS, "other"), Text(f"Other documents ({len(others)})", "italic"))
            for doc in others:
                self._add(more, NodeRef(NodeKind.DOC, doc.path), Text(""), leaf=True)
        for section in review.checklist.sections:
            node = self._add(root, NodeRef(NodeKind.SECTION, section.id), Text(""))
            groups = {
                g.key: self._add(node, NodeRef(NodeKind.GROUP, f"{section.id}.{g.key}"), Text.assemble((g.title, "italic"), (f"  {g.files}", "dim")))
                for g in section.groups
            }
            for item in section.items:
                parent = groups.get(item.group or "", node)
                item_node = parent.add(Text(""), NodeRef(NodeKind.ITEM, item.id), allow_expand=bool(review.findings_of(item.id)))
                self.by_id[f"item:{item.id}"] = item_node
            if section.questions:
                q_node = self._add(node, NodeRef(NodeKind.QUESTIONS, section.id), Text("Questions to answer", "italic"))
                for q in section.questions:
                    self._add(q_node, NodeRef(NodeKind.QUESTION, q.id), Text(""), leaf=True)
        known = {item.id for item in review.checklist.items}
        strays = sorted((f for f in review.findings.values() if f.item_id not in known), key=lambda f: (f.path, f.start_line))
        if strays:
            other = self._add(root, NodeRef(NodeKind.OTHERS, "others"), Text(f"Other findings ({len(strays)})", "italic"))
            for f in strays:
                node = other.add_leaf(self._finding_label(review, f.fingerprint), NodeRef(NodeKind.FINDING, f.fingerprint))
                self.by_id[f"finding:{f.fingerprint}"] = node
        if review.scan_errors:
            err_node = self._add(root, NodeRef(NodeKind.ERRORS, "errors"), Text(f"Scan errors ({len(review.scan_errors)})", "bold red"))
            for i, err in enumerate(review.scan_errors):
                self._add(err_node, NodeRef(NodeKind.ERROR, str(i)), untrusted.line(str(err)), leaf=True)
        self.relabel(review)
        for key in was_expanded or {n.data.id for n in root.children if n.data.kind == NodeKind.SECTION}:
            self._expand(key)
        if cursor:
            self.select_id(cursor)

    def _add(self, parent: TreeNode[NodeRef], ref: NodeRef, label: Text, leaf: bool = False) -> TreeNode[NodeRef]:
        node = parent.add_leaf(label, ref) if leaf else parent.add(label, ref)
        self.by_id[ref.id] = node
        if label.plain:
            self._fixed[ref.id] = label
        return node

    def _fill(self, item_id: str) -> None:
        """Make the finding nodes of an item (once)."""
        if item_id in self._filled or self.review is None:
            return
        self._filled.add(item_id)
        node = self.by_id[f"item:{item_id}"]
        for f in self.review.findings_of(item_id):
            child = node.add_leaf(self._finding_label(self.review, f.fingerprint), NodeRef(NodeKind.FINDING, f.fingerprint))
            self.by_id[f"finding:{f.fingerprint}"] = child

    def _expand(self, node_id: str) -> None:
        if node_id.startswith("item:"):
            self._fill(node_id[5:])
        node = self.by_id.get(node_id)
        if node is not None:
            node.expand()

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[NodeRef]) -> None:
        if event.node.data is not None and event.node.data.kind == NodeKind.ITEM:
            self._fill(event.node.data.key)
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
                node.set_label(self._finding_label(review, finding))
            item_id = review.findings[finding].item_id
            if f"item:{item_id}" in self.by_id:  # not one of the other findings, under no item
                self._relabel_item(review, item_id)
                self._relabel_section(review, review.checklist.item(item_id).section_id)
            return
        for doc in self.docs:
            read = doc.path in review.docs_read
            label = Text.assemble(("✓ " if read else "? ", "green" if read else "dim"), untrusted.line(doc.path))
            if doc.lines:
                label.append(f"  lines {doc.lines[0]}-{doc.lines[1]}", "dim")
            self.by_id[f"doc:{doc.path}"].set_label(self._with_others(label, f"doc:{doc.path}"))
        for key, node in self.by_id.items():
            if key.startswith("finding:") and key[8:] in review.findings:
                node.set_label(self._finding_label(review, key[8:]))
        for key, label in self._fixed.items():
            self.by_id[key].set_label(self._with_others(label, key))
        for section in review.checklist.sections:
            for item in section.items:
                self._relabel_item(review, item.id)
            for q in section.questions:
                a = review.answer(q.id)
                label = labels.question_label(q.id, q.text, bool(a.text.strip()), bool(a.drafted))
                self.by_id[f"question:{q.id}"].set_label(self._with_others(label, f"question:{q.id}"))
            self._relabel_section(review, section.id)

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
            node = self.by_id.get(f"item:{f.item_id}") if f else None
        if node is None:
            return None
        shown = node
        parent = node.parent
        while parent is not None and parent.data is not None:
            if not parent.is_expanded:
                shown = parent
            parent = parent.parent
        return shown

    def _relabel_item(self, review: Review, item_id: str) -> None:
        item = review.checklist.item(item_id)
        label = labels.item_label(item.id, item.text, review.item(item.id), review.findings_of(item.id))
        self.by_id[f"item:{item_id}"].set_label(self._with_others(label, f"item:{item_id}"))

    def _relabel_section(self, review: Review, section_id: str) -> None:
        section = review.checklist.section(section_id)
        findings = [f for item in section.items for f in review.findings_of(item.id)]
        done = sum(1 for item in section.items if review.item(item.id).verdict != "unreviewed")
        label = labels.section_label(section.number, section.title, done, len(section.items), findings)
        self.by_id[f"section:{section_id}"].set_label(self._with_others(label, f"section:{section_id}"))

    # -- moving ----------------------------------------------------------------------------

    def node(self, node_id: str) -> TreeNode[NodeRef] | None:
        """The node of an id, making a finding's node (and its siblings) if its item was never opened."""
        if node_id.startswith("finding:") and node_id not in self.by_id and self.review is not None:
            f = self.review.findings.get(node_id[8:])
            if f is not None:
                self._fill(f.item_id)
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
        if not closed and len(self.by_id) == lines_before and node.line >= 0:
            self._pending = None  # already on screen: no need to wait for a repaint
            self._move_to(node)
            return True
        self._pending = node
        self.call_after_refresh(self._move_to, node)
        return True

    def _move_to(self, node: TreeNode[NodeRef]) -> None:
        if self._pending is node:
            self._pending = None
        self.move_cursor(node)
        self.scroll_to_node(node, animate=False)

    def action_cursor_down(self) -> None:
        self._pending = None
        super().action_cursor_down()

    def action_cursor_up(self) -> None:
        self._pending = None
        super().action_cursor_up()

    def finding_order(self) -> list[str]:
        """Fingerprints in the order the tree shows them (checklist order, then worst first)."""
        if self.review is None:
            return []
        return [f.fingerprint for item in self.review.checklist.items for f in self.review.findings_of(item.id)]

    def next_untriaged(self, review: Review, forward: bool = True) -> str | None:
        order = self.finding_order()
        position = {fp: i for i, fp in enumerate(order)}
        pending = [fp for fp in order if review.findings[fp].disposition == Disposition.UNTRIAGED and review.findings[fp].detection != "absent"]
        if not pending:
            return None
        here = self.current.key if self.current and self.current.kind == NodeKind.FINDING else None
        if here not in position:
            return pending[0] if forward else pending[-1]
        pos = position[here]
        after = [fp for fp in pending if (position[fp] > pos if forward else position[fp] < pos)]
        if after:
            return after[0] if forward else after[-1]
        return pending[0] if forward else pending[-1]  # wrap around

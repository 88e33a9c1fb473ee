"""The prompt's Review Process as the spine of a review: read the context documents, inspect the
code (triage findings), validate the checklist (verdicts), answer the key questions. Knows where
the review stands and what the next unfinished thing is. No Textual here."""

from __future__ import annotations

import re
from dataclasses import dataclass

from analyzers.checklist import Checklist, ContextDocument
from tui.review import Review
from tui.session.state import Disposition, Verdict


@dataclass(frozen=True, slots=True)
class Step:
    number: int
    title: str
    left: int  # unfinished things in this step
    total: int
    todo: str = ""  # what is left, for a short status line: "documents to read"

    @property
    def done(self) -> bool:
        return self.left == 0


@dataclass(frozen=True, slots=True)
class Target:
    node_id: str
    what: str


@dataclass(frozen=True, slots=True)
class Doc:
    path: str  # relative to the repository
    cited: ContextDocument | None  # the checklist's entry for it, if the checklist names it

    @property
    def lines(self) -> tuple[int, int] | None:
        return self.cited.lines if self.cited else None


def context_docs(checklist: Checklist, found: list[str]) -> list[Doc]:
    """The documents found in the target: those the checklist names first, in its order (they are
    step 1's reading), then every other document (browsable, not required)."""
    cited: dict[str, Doc] = {}
    for entry in checklist.context_documents:
        for path in found:
            if _names(entry, path) and (path not in cited or (entry.lines and not cited[path].lines)):
                cited[path] = Doc(path, entry)
    return list(cited.values()) + [Doc(p, None) for p in found if p not in cited]


_EPIC_NUMBERS = re.compile(r"\d+")


def _names(entry: ContextDocument, path: str) -> bool:
    """Does the checklist's entry name this file? Exact paths, or an epic by its number
    ("Epic 2: Backend Core" names epic-02-backend-core/*.md and "Epic 2 - Backend Core.md")."""
    wanted = entry.path.strip("/")
    if wanted.endswith(".md"):
        return path == wanted or path.endswith("/" + wanted)
    if not entry.title.lower().startswith("epic") or not ("/" + path).startswith(("/" + wanted, "/" + wanted.split("/")[-1])) and wanted not in path:
        return False
    numbers = {int(n) for n in _EPIC_NUMBERS.findall(entry.title)}
    match = re.search(r"epic[-_ ]?0*(\d+)", path.lower())
    return bool(match) and int(match.group(1)) in numbers


def steps(review: Review, docs: list[Doc], read: set[str]) -> list[Step]:
    items = review.checklist.items
    questions = review.checklist.questions
    return [
        Step(1, "Read the context documents", sum(1 for d in docs if d.cited and d.path not in read), sum(1 for d in docs if d.cited),
             "documents to read"),
        Step(2, "Inspect the code", review.untriaged, review.present, "findings to triage"),  # kept as findings change
        Step(3, "Validate the checklist", sum(1 for i in items if review.item(i.id).verdict == Verdict.UNREVIEWED), len(items),
             "items to judge"),
        Step(4, "Answer the key questions", sum(1 for q in questions if not review.answer(q.id).text.strip()), len(questions),
             "questions to answer"),
    ]


def current_step(all_steps: list[Step]) -> Step | None:
    return next((s for s in all_steps if not s.done), None)


def next_target(review: Review, docs: list[Doc], read: set[str], finding_order: list[str]) -> Target | None:
    """The next unfinished thing, in the order of the Review Process."""
    for d in docs:
        if d.cited and d.path not in read:
            return Target(f"doc:{d.path}", f"read {d.path}")
    for fp in finding_order:
        f = review.findings.get(fp)
        if f is not None and f.detection != "absent" and f.disposition == Disposition.UNTRIAGED:
            return Target(f"finding:{fp}", f"triage {f.rule_id} at {f.location}")
    for item in review.checklist.items:
        if review.item(item.id).verdict == Verdict.UNREVIEWED:
            return Target(f"item:{item.id}", f"give item {item.id} a verdict")
    for q in review.checklist.questions:
        if not review.answer(q.id).text.strip():
            return Target(f"question:{q.id}", f"answer {q.id}")
    return None

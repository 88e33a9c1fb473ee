"""The right pane's upper part: what is selected, in words (finding, item, question, document)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from analyzers.advice import advice
from analyzers.rules import rule_info
from tui import labels, untrusted
from tui.review import Review
from tui.session.state import Detection, Disposition, Event, FindingState


def _line(head: str, body: str | Text, style: str = "") -> Text:
    shown = body if isinstance(body, Text) else untrusted.text(body, style)
    return Text.assemble(untrusted.line(head, "bold"), (": ", "bold"), shown)


def finding_detail(f: FindingState, review: Review, history: list[Event]) -> RenderableType:
    glyph, style = labels.SEVERITY_GLYPH[f.severity]
    head = Text.assemble((f"{glyph} {f.severity.upper()}", style), "  ", (f.rule_id, "bold"), "  ", untrusted.line(f.location, "underline"))
    if f.severity != f.original_severity:
        head.append(f"  (was {f.original_severity})", "dim")
    parts: list[RenderableType] = [head, untrusted.text(f.message)]
    glyph = labels.DISPOSITION_GLYPH[Disposition(f.disposition)][0].strip()
    state = Text.assemble(("Decision: ", "bold"), f"{glyph} " if glyph else "", str(f.disposition))
    if f.dismiss_reason:
        state.append_text(Text.assemble(" (", untrusted.line(f.dismiss_reason), ")"))
    if f.detection != Detection.NEW:
        state.append(f" · {f.detection}", "italic")
    if f.needs_second_look:
        state.append(" · the code moved or changed since the decision: look again", "yellow")
    parts.append(state)
    proof = review.proofs.get(f.fingerprint)
    if proof is not None:
        head = f"{review.proof_label(f.fingerprint).capitalize()} on {proof.postgres}"
        parts.append(_line(head, Text(printable(proof.evidence), labels.PROOF_STYLE.get(proof.status, ""))))
    try:
        item = review.checklist.item(f.item_id)
        parts.append(_line("Checklist", f"{item.id} {labels.plain(item.text)}"))
    except LookupError:  # a suppression comment that suppresses nothing, a rule of another checklist
        parts.append(_line("Checklist", "under no item of this checklist"))
    info = rule_info(f.rule_id)
    if info:
        parts.append(_line("Rule", info.title))
        parts.append(_line("Why", info.why, "dim"))
        parts.append(_line("Instead", advice(f.rule_id, f.anchor, f.message) or info.instead, "dim"))
    for note in f.notes:
        parts.append(_line(f"Note by {note.reviewer}", note.text, "italic"))
    if history:
        parts.append(Text("History:", "bold"))
        for e in history[-6:]:
            change = f"{e.old or '-'} -> {e.new or '-'}" if e.kind != "note" else "note"
            said = untrusted.line(f"{e.at:%Y-%m-%d %H:%M} {e.reviewer} {e.kind}: {change}" + (f" ({e.note})" if e.note and e.kind != "note" else ""))
            parts.append(Text.assemble("  ", said, style="dim"))
    return Group(*parts)


def item_detail(item_id: str, review: Review) -> RenderableType:
    item = review.checklist.item(item_id)
    section = review.checklist.section(item.section_id)
    state = review.item(item_id)
    glyph, style = labels.VERDICT_GLYPH[state.verdict]
    parts: list[RenderableType] = [
        Text.assemble((f"{section.number} {section.title}", "bold"), ("  " + section.scope if section.scope else "", "dim")),
        Text.assemble((item.id, "bold"), " ", labels.plain(item.text)),
        Text.assemble(("Verdict: ", "bold"), (f"{glyph} {state.verdict}", style), Text.assemble("  by ", untrusted.line(state.reviewer), style="dim") if state.reviewer else ""),
    ]
    if state.notes:
        parts.append(_line("Notes", state.notes, "italic"))
    findings = review.findings_of(item_id)
    open_ = [f for f in findings if f.is_open]
    parts.append(Text(f"{len(open_)} open finding(s), {len(findings) - len(open_)} dismissed or resolved", "dim"))
    parts.append(Text("p pass · w warning · f fail · - n/a · a notes", "dim italic"))
    return Group(*parts)


def question_detail(question_id: str, review: Review) -> RenderableType:
    q = review.checklist.question(question_id)
    a = review.answer(question_id)
    parts: list[RenderableType] = [Text.assemble((q.id, "bold"), " ", labels.plain(q.text))]
    if a.text.strip():
        parts.append(_line(f"Answer ({a.reviewer})", a.text))
    else:
        parts.append(Text("Not answered yet: press a to answer.", "yellow"))
    if a.drafted:
        parts.append(_line("Drafted from the code", a.drafted, "dim"))
    return Group(*parts)


class DetailPanel(VerticalScroll, can_focus=False):
    def compose(self):
        yield Static(id="detail-body")

    def show(self, renderable: RenderableType) -> None:
        self.query_one("#detail-body", Static).update(renderable)
        self.scroll_home(animate=False)

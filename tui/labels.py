"""How states look: one-cell glyphs (no emoji, no U+FE0F, so panes stay aligned in tmux) and the
tree's label texts. Rich Text only, never markup: messages quote code with brackets in it."""

from __future__ import annotations

import re

from rich.text import Text

from tui.reports.sanitize import printable
from tui.session.state import Detection, Disposition, FindingState, ItemState, Verdict

SEVERITY_GLYPH = {"critical": ("✗", "bold red"), "warning": ("!", "bold yellow"), "info": ("i", "cyan")}
DISPOSITION_GLYPH = {
    Disposition.UNTRIAGED: (" ", ""),
    Disposition.CONFIRMED: ("✓", "green"),
    Disposition.DOWNGRADED: ("v", "yellow"),
    Disposition.DISMISSED: ("⊘", "dim"),
}
VERDICT_GLYPH = {
    Verdict.UNREVIEWED: ("?", "dim"),
    Verdict.PASS: ("✓", "bold green"),
    Verdict.WARNING: ("!", "bold yellow"),
    Verdict.FAIL: ("✗", "bold red"),
    Verdict.NA: ("-", "dim"),
}
SUGGESTED_NA = ("~", "italic cyan")  # no verdict yet; the scan says the item does not apply
_MARKDOWN = re.compile(r"\*\*|`")


def plain(markdown: str) -> str:
    """Checklist text without its Markdown emphasis, for one-line labels."""
    return _MARKDOWN.sub("", markdown)


def counts(findings: list[FindingState]) -> Text:
    """' ✗2 !3 i1' for the open findings; empty when there are none."""
    text = Text()
    for sev in ("critical", "warning", "info"):
        n = sum(1 for f in findings if f.severity == sev and f.is_open)
        if n:
            glyph, style = SEVERITY_GLYPH[sev]
            text.append(f" {glyph}{n}", style)
    return text


PROOF_STYLE = {"proven": "bold red", "refuted": "green"}


def finding_label(f: FindingState, marked: bool = False, rescanned: bool = False, proof: str | None = None) -> Text:
    glyph, style = SEVERITY_GLYPH[f.severity]
    disp, disp_style = DISPOSITION_GLYPH[Disposition(f.disposition)]
    label = Text.assemble((glyph, style), (disp, disp_style), ("*", "bold magenta") if marked else " ")
    message = printable(f.message).replace("\n", " ")
    if f.detection == Detection.ABSENT:
        label.append(f"(resolved) {message}", "dim strike")
    else:
        label.append(message, "dim" if f.disposition == Disposition.DISMISSED else "")
        if f.needs_second_look:
            label.append(" (moved: look again)", "italic yellow")
        elif f.detection == Detection.REGRESSED or (f.detection == Detection.NEW and rescanned):
            label.append(f" ({f.detection})", "italic")  # on a first scan everything is new: say nothing
        if proof:  # `dbreview verify` showed it on a real PostgreSQL (or showed it wrong)
            label.append(f" [{proof}]", PROOF_STYLE.get(proof.split()[0], "italic"))
    return label


def item_label(item_id: str, text: str, state: ItemState, findings: list[FindingState], suggested_na: bool = False) -> Text:
    glyph, style = VERDICT_GLYPH[Verdict(state.verdict)]
    if suggested_na and state.verdict == Verdict.UNREVIEWED:
        glyph, style = SUGGESTED_NA
    label = Text.assemble((glyph, style), " ", (item_id, "bold"))
    label.append_text(counts(findings))
    label.append(" " + plain(text))
    return label


def section_label(number: int, title: str, done: int, total: int, findings: list[FindingState]) -> Text:
    label = Text.assemble((f"{number:>2}", "bold"), (f" {done}/{total}", "dim"))
    label.append_text(counts(findings))
    label.append(f" {title}", "bold")
    return label


def question_label(question_id: str, text: str, answered: bool, drafted: bool) -> Text:
    glyph = ("✓", "green") if answered else ("~", "yellow") if drafted else ("?", "dim")
    return Text.assemble(glyph, " ", (question_id, "bold"), " ", plain(text))


_DECIDED = {
    Disposition.CONFIRMED: "confirmed",
    Disposition.DOWNGRADED: "downgraded",
    Disposition.DISMISSED: "dismissed",
    Disposition.UNTRIAGED: "reopened",
}
_VERDICT_SAID = {
    Verdict.PASS: "passed", Verdict.WARNING: "gave a warning to", Verdict.FAIL: "failed",
    Verdict.NA: "marked not applicable", Verdict.UNREVIEWED: "cleared the verdict of",
}


def finding_named(fingerprint: str, findings: dict[str, FindingState]) -> str:
    """A finding as a person names it: its rule and place."""
    f = findings.get(fingerprint)
    return f"{f.rule_id} at {f.location}" if f else "a finding"


def change_said(event, review) -> str:
    """One event in words, for a colleague's screen: who did what to which thing (no ids)."""
    who, kind = printable(event.reviewer), event.kind
    if kind == "disposition":
        what = _DECIDED.get(Disposition(event.new), str(event.new))
        reason = f" ({event.note.split(':', 1)[0]})" if event.new == Disposition.DISMISSED and event.note else ""
        return f"{who} {what} {finding_named(event.target, review.findings)}{reason}"
    if kind == "severity":
        return f"{who} downgraded {finding_named(event.target, review.findings)} to {event.new}"
    if kind == "note":
        return f"{who} added a note on {finding_named(event.target, review.findings)}"
    if kind == "verdict":
        return f"{who} {_VERDICT_SAID.get(Verdict(event.new), 'changed')} item {event.target}"
    if kind == "answer":
        return f"{who} answered {event.target}"
    if kind == "doc_read":
        return f"{who} read {printable(event.target)}"
    if kind == "scan":
        return f"{who} scanned the code again"
    return f"{who} changed the review"

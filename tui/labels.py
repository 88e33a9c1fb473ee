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


def finding_label(f: FindingState, marked: bool = False, rescanned: bool = False) -> Text:
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
    return label


def item_label(item_id: str, text: str, state: ItemState, findings: list[FindingState]) -> Text:
    glyph, style = VERDICT_GLYPH[Verdict(state.verdict)]
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

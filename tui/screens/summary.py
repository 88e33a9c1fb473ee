"""The progress summary: per section, findings by severity and decision, verdicts and answers;
then the Executive Summary as the report will have it."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown, Static

from tui import keymap
from tui.reports.markdown import executive_summary
from tui import untrusted
from tui.review import Review
from tui.session.state import Disposition, Verdict


def section_table(review: Review) -> Table:
    table = Table(show_edge=False, box=None, pad_edge=False, header_style="bold")
    # The numbers first, the title last and wrapped: on a narrow terminal nothing is cut.
    for head in ("✗", "!", "i", "todo", "decided", "verdicts", "answers"):
        table.add_column(head, justify="right", no_wrap=True, min_width=max(len(head), 2))
    table.add_column("section", overflow="fold", ratio=1)  # wraps on a narrow terminal: a title is never cut
    for section in review.checklist.sections:
        findings = [f for item in section.items for f in review.findings_of(item.id) if f.detection != "absent"]
        open_ = [f for f in findings if f.is_open]

        def n(pred) -> str:
            count = sum(1 for f in findings if pred(f))
            return str(count) if count else "·"

        verdicts = sum(1 for i in section.items if review.item(i.id).verdict != Verdict.UNREVIEWED)
        answers = sum(1 for q in section.questions if review.answer(q.id).text.strip())
        table.add_row(
            str(sum(1 for f in open_ if f.severity == "critical") or "·"),
            str(sum(1 for f in open_ if f.severity == "warning") or "·"),
            str(sum(1 for f in open_ if f.severity == "info") or "·"),
            n(lambda f: f.disposition == Disposition.UNTRIAGED),
            n(lambda f: f.disposition != Disposition.UNTRIAGED),
            f"{verdicts}/{len(section.items)}",
            f"{answers}/{len(section.questions)}" if section.questions else "",
            f"{section.number} {section.title}",
        )
    return table


class SummaryScreen(ModalScreen[None]):
    BINDINGS = keymap.bindings(keymap.SUMMARY)

    def __init__(self, review: Review) -> None:
        super().__init__()
        self.review = review

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide"):
            yield Static(untrusted.line(f"Review of {self.review.repo.name}: {self.review.progress()}"), classes="dialog-title")
            yield Static(section_table(self.review))
            yield Static("✗ ! i: open findings by severity · todo: untriaged · decided: confirmed, downgraded or dismissed", classes="dialog-help")
            yield Markdown(executive_summary(self.review.checklist, self.review.snapshot()))
            keys = self.app.keys
            yield Static(f"{keymap.hint('summary.close', keys)} closes, then {keymap.hint('export', keys)} exports the whole report "
                         "(or dbreview export PATH from a shell)", classes="dialog-help")

    def action_close(self) -> None:
        self.dismiss(None)

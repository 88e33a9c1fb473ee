"""The right pane in words: what is selected on the left (finding, item, question, section, group,
document, scan error), and for the nodes that hold others, an overview of what they hold."""

from __future__ import annotations

import re
from collections.abc import Callable

from rich.console import Group, RenderableType
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from analyzers.advice import advice
from analyzers.checklist import Section
from analyzers.rules import rule_info
from tui import labels, untrusted
from tui.about import Place
from tui.review import Review
from tui.session.state import Detection, Disposition, Event, FindingState, Verdict
from tui.widgets.content_size import set_content_size
from tui.widgets.source_view import Rows

RENDER_REST_AFTER = 0.1  # seconds a pane's content rests before what is below its edge is rendered
CITATION = re.compile(r"([\w./-]+\.\w+):(\d+)(?:-(\d+))?")  # file:line or file:line-line in a drafted answer


def _line(head: str, body: str | Text, style: str = "") -> Text:
    shown = body if isinstance(body, Text) else untrusted.text(body, style)
    return Text.assemble(untrusted.line(head, "bold"), (": ", "bold"), shown)


class Later:
    """A part of a pane's content made only when it is drawn: a RenderedPane draws the parts in
    view before the frame and the rest right after it, so that what the rest needs (a finding's
    history, read from the store) is not on a key's path."""

    def __init__(self, make: Callable[[], RenderableType | None]) -> None:
        self.make = make

    def __rich_console__(self, console, options):
        made = self.make()
        if made is not None:
            yield made


def _history(events: list[Event]) -> RenderableType | None:
    if not events:
        return None
    lines: list[RenderableType] = [Text("History:", "bold")]
    for e in events[-6:]:
        change = f"{e.old or '-'} -> {e.new or '-'}" if e.kind != "note" else "note"
        said = untrusted.line(f"{e.at:%Y-%m-%d %H:%M} {e.reviewer} {e.kind}: {change}" + (f" ({e.note})" if e.note and e.kind != "note" else ""))
        lines.append(Text.assemble("  ", said, style="dim"))
    return Group(*lines)


def finding_detail(f: FindingState, review: Review, history: Callable[[], list[Event]], rules: bool = True) -> RenderableType:
    """What a reviewer needs first comes first (at 80x24 the pane shows about eight lines): the
    severity and place, the decision, the evidence line whole, the message, what to do instead;
    the history last, read when it is drawn (Later).
    `rules` False: the rules are not imported yet (the first screen), their documentation is left out."""
    glyph, style = labels.SEVERITY_GLYPH[f.severity]
    head = Text.assemble((f"{glyph} {f.severity.upper()}", style), " ", (f.rule_id, "bold"), " ", untrusted.line(f.location, "underline"))
    if f.severity != f.original_severity:
        head.append(f" (was {f.original_severity})", "dim")
    glyph = labels.DISPOSITION_GLYPH[Disposition(f.disposition)][0].strip()
    state = Text.assemble(("Decision: ", "bold"), f"{glyph} " if glyph else "", str(f.disposition))
    if f.dismiss_reason:
        state.append_text(Text.assemble(" (", untrusted.line(f.dismiss_reason), ")"))
    if f.detection != Detection.NEW:
        state.append(f" · {f.detection}", "italic")
    if f.needs_second_look:
        state.append(" · the code moved or changed since the decision: look again", "yellow")
    parts: list[RenderableType] = [head, state]
    if f.evidence:  # whole, wrapped: the code pane beside a narrow tree cuts long lines
        number, first = next(((n, line) for n, line in enumerate(f.evidence, f.start_line) if line.strip()), (f.start_line, ""))
        parts.append(Text.assemble((f"▸{number} ", "bold yellow"), untrusted.line(first.strip(), "bold")))
    parts.append(untrusted.text(f.message))
    info = rule_info(f.rule_id) if rules else None
    instead = advice(f.rule_id, f.anchor, f.message) or (info.instead if info else "")
    if instead:
        parts.append(_line("Instead", instead, "dim"))
    proof = review.proofs.get(f.fingerprint)
    if proof is not None:
        head = f"{review.proof_label(f.fingerprint).capitalize()} on {proof.postgres}"
        parts.append(_line(head, untrusted.text(proof.evidence, labels.PROOF_STYLE.get(proof.status, ""))))
    try:
        item = review.checklist.item(f.item_id)
        parts.append(_line("Checklist", f"{item.id} {labels.plain(item.text)}"))
    except LookupError:  # a suppression comment that suppresses nothing, a rule of another checklist
        parts.append(_line("Checklist", "under no item of this checklist"))
    if info:
        parts.append(_line("Rule", info.title))
        parts.append(_line("Why", info.why, "dim"))
    for note in f.notes:
        parts.append(_line(f"Note by {note.reviewer}", note.text, "italic"))
    parts.append(Later(lambda: _history(history())))
    return Group(*parts)


def item_detail(item_id: str, review: Review, places: list[Place]) -> RenderableType:
    item = review.checklist.item(item_id)
    state = review.item(item_id)
    glyph, style = labels.VERDICT_GLYPH[state.verdict]
    parts: list[RenderableType] = [
        Text.assemble((item.id, "bold"), " ", labels.plain(item.text)),
        Text.assemble(("Verdict: ", "bold"), (f"{glyph} {state.verdict}", style), Text.assemble("  by ", untrusted.line(state.reviewer), style="dim") if state.reviewer else ""),
    ]
    suggested = review.not_applicable.get(item_id)
    if suggested and state.verdict == Verdict.UNREVIEWED:
        parts.append(_line("The scan suggests n/a", suggested, "italic"))
    if state.notes:
        parts.append(_line("Notes", state.notes, "italic"))
    findings = review.findings_of(item_id)
    open_ = [f for f in findings if f.is_open]
    if findings:
        parts.append(Text(f"{len(open_)} open finding(s), {len(findings) - len(open_)} dismissed or resolved", "dim"))
    elif places:
        parts.append(Text("No finding. The code it is about:", "dim"))
        parts += [Text.assemble("  ", untrusted.line(f"{p.path}:{p.start}  {p.what}"), style="dim") for p in places]
    else:
        parts.append(Text("No finding, and no code the scan located names it: judge it from the code and the documents.", "dim"))
    parts.append(Text("p pass · w warning · f fail · - n/a · a notes", "dim italic"))
    return Group(*parts)


def citations(text: str) -> list[tuple[str, int, int]]:
    """The file:line places a drafted answer cites, in order, once each."""
    seen: dict[tuple[str, int, int], None] = {}
    for m in CITATION.finditer(text):
        start = int(m.group(2))
        seen.setdefault((m.group(1), start, int(m.group(3) or start)), None)
    return list(seen)


def question_detail(question_id: str, review: Review) -> RenderableType:
    q = review.checklist.question(question_id)
    a = review.answer(question_id)
    parts: list[RenderableType] = [Text.assemble((q.id, "bold"), " ", labels.plain(q.text))]
    if a.text.strip():
        parts.append(_line(f"Answer ({a.reviewer})", a.text))
    else:
        parts.append(Text("Not answered yet: a answers (it starts from the draft).", "yellow"))
    if a.drafted:
        parts.append(_line("Drafted from the code", a.drafted, "dim"))
        cited = citations(a.drafted)
        if cited:
            parts.append(Text(f"Cites {len(cited)} place(s); the first is shown below.", "dim italic"))
    return Group(*parts)


def section_detail(section: Section, review: Review) -> RenderableType:
    findings = [f for item in section.items for f in review.findings_of(item.id)]
    done = sum(1 for i in section.items if review.item(i.id).verdict != Verdict.UNREVIEWED)
    answered = sum(1 for q in section.questions if review.answer(q.id).text.strip())
    line = Text.assemble((f"{section.number} {section.title}", "bold"), (f"  {section.scope}" if section.scope else "", "dim"))
    counts = Text(f"{done}/{len(section.items)} items with a verdict", "dim")
    if section.questions:
        counts.append(f" · {answered}/{len(section.questions)} questions answered")
    untriaged = sum(1 for f in findings if f.is_open and f.disposition == Disposition.UNTRIAGED)
    counts.append(f" · {untriaged} findings untriaged")
    open_ = labels.counts(findings)
    if open_:
        counts.append(" · open:")
        counts.append_text(open_)
    return Group(line, counts, Text("- marks every item without a verdict n/a, with one note", "dim italic"))


def items_overview(items, review: Review) -> Rows:
    """One row per item: its verdict, its open findings, its text."""
    counts = [labels.counts(review.findings_of(item.id)) for item in items]
    width, wide = max((len(item.id) for item in items), default=0), max((c.cell_len for c in counts), default=0)
    rows = []
    for item, open_ in zip(items, counts, strict=True):  # in columns, as a table would
        state = review.item(item.id)
        glyph, style = labels.VERDICT_GLYPH[state.verdict]
        if state.verdict == Verdict.UNREVIEWED and item.id in review.not_applicable:
            glyph, style = labels.SUGGESTED_NA
        open_.pad_right(wide - open_.cell_len)
        rows.append(Text.assemble((glyph, style), " ", (item.id.ljust(width), "bold"), open_, "  ", labels.plain(item.text)))
    return Rows(rows)


def questions_overview(section: Section, review: Review) -> Rows:
    rows = []
    for q in section.questions:
        a = review.answer(q.id)
        rows.append(labels.question_label(q.id, q.text, bool(a.text.strip()), bool(a.drafted)))
    return Rows(rows)


def bucket_detail(ref, found: list[FindingState], review: Review) -> RenderableType:
    """A rule's, a file's or a fold's node: what it is, and how many of what."""
    open_ = labels.counts(found)
    untriaged = sum(1 for f in found if f.is_open and f.disposition == Disposition.UNTRIAGED)
    counts = Text(f"{len(found)} findings, {untriaged} untriaged", "dim")
    if open_:
        counts.append(" · open:")
        counts.append_text(open_)
    if ref.kind == "rule":
        info = rule_info(ref.key)
        parts: list[RenderableType] = [Text.assemble((ref.key, "bold"), f" {info.title}" if info else ""), counts]
        if info:
            item = review.checklist.item(info.item_id)
            parts += [_line("Checklist", f"{item.id} {labels.plain(item.text)}"), _line("Why", info.why, "dim"),
                      _line("Instead", info.instead, "dim")]
        return Group(*parts)
    if ref.kind == "file":
        return Group(untrusted.line(ref.key, "bold underline"), counts)
    if ref.kind == "others":
        return Group(Text("Other findings: under no item of this checklist", "bold"), counts,
                     Text("such as a suppression comment that suppresses nothing", "dim italic"))
    return Group(Text("Dismissed or resolved", "bold"), counts, Text("r reopens one · u undoes your last action", "dim italic"))


def findings_overview(found: list[FindingState]) -> Rows:
    """One row per finding: severity and decision, rule, place, message."""
    rows = []
    for f in found:
        glyph, style = labels.SEVERITY_GLYPH[f.severity]
        rows.append(Text.assemble((glyph, style), " ", (f.rule_id, "bold"), " ", untrusted.line(f"{f.location} {f.message}")))
    return Rows(rows)


class Prepared:
    """A pane's content rendered ahead at a width: its first lines, and the parts still to render."""

    def __init__(self, content: RenderableType, width: int, styled: int) -> None:
        self.content, self.width, self.styled, self.strips = content, width, styled, []
        self.rest: list[RenderableType] = list(content.renderables) if isinstance(content, Group) else [content]


class RenderedPane(ScrollView, can_focus=False):
    """A pane of fixed size (app.tcss) that shows one Rich renderable, scrolled with the mouse: new
    content is rendered at the pane's width and repainted, and never lays out the screen (a
    Static in a VerticalScroll, `height: auto`, did on every key that changed it). Of a Group,
    the parts that fill the pane are rendered at once, the rest once the selection rests
    (RENDER_REST_AFTER): keys that come fast never pay for what is below the pane's edge."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.content: RenderableType = Text("")
        self._strips: list[Strip] = []
        self._width = 0
        self._rest: list[RenderableType] = []  # the parts not rendered yet, below the pane's edge
        self._rest_timer = None
        self._styled = 0  # style updates so far: what was prepared before one is not shown

    def show(self, renderable: RenderableType | Prepared) -> None:
        """Show `renderable`, or content prepared ahead (prepare) if it was prepared at this width."""
        self.content = renderable.content if isinstance(renderable, Prepared) else renderable
        self._render(renderable if isinstance(renderable, Prepared) else None)
        self.scroll_to(0, 0, animate=False)

    def prepare(self, renderable: RenderableType) -> Prepared | None:
        """`renderable` rendered ahead of being shown (the finding a key goes to next, while the
        app is idle): the parts that fill the pane, up to the first part made when drawn (Later:
        a finding's history is read when it is shown, not when it might be). None before layout."""
        width = self.scrollable_content_region.width
        if not width:
            return None
        prepared, style = Prepared(renderable, width, self._styled), self.rich_style
        until = self.scrollable_content_region.height + 1
        while prepared.rest and len(prepared.strips) < until and not isinstance(prepared.rest[0], Later):
            prepared.strips += self._render_part(prepared.rest.pop(0), width, style)
        return prepared

    def _render(self, prepared: Prepared | None = None) -> None:
        width = self.scrollable_content_region.width
        self._width = width
        if not width:  # not laid out yet: on_resize renders it
            return
        content = self.content
        if prepared is not None and (prepared.width, prepared.styled) == (width, self._styled):  # no new theme since
            self._strips, self._rest = list(prepared.strips), list(prepared.rest)
        else:
            self._strips = []
            self._rest = list(content.renderables) if isinstance(content, Group) else [content]
        # One line more than the pane holds: the scrollbar is shown now if it will be at the end.
        self._render_parts(until=self.scrollable_content_region.height + 1)
        self.refresh()
        if self._rest_timer is not None:
            self._rest_timer.stop()
        if self._rest:
            self._rest_timer = self.set_timer(RENDER_REST_AFTER, lambda: self._render_rest(content))

    def _render_rest(self, content: RenderableType) -> None:
        """Below the pane's edge: only the scrollbar changes on screen (unless it was scrolled)."""
        if content is self.content and self._rest:  # not replaced since
            self._render_parts()
            if self.scroll_offset.y:
                self.refresh()

    def _render_parts(self, until: int | None = None) -> None:
        width, style = self._width, None
        while self._rest and (until is None or len(self._strips) < until):
            style = style or self.rich_style  # a walk up the DOM: once a pass
            self._strips += self._render_part(self._rest.pop(0), width, style)
        set_content_size(self, Size(width, len(self._strips)), repaint=False)

    def _render_part(self, part: RenderableType, width: int, style) -> list[Strip]:
        console = self.app.console
        lines = console.render_lines(part, console.options.update_width(width), style=style, pad=True)
        return [Strip(line, width) for line in lines]

    def on_resize(self) -> None:
        if self.scrollable_content_region.width != self._width:
            self._render()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styled += 1
        if self.is_mounted:
            self._render()

    def render_line(self, y: int) -> Strip:
        number = int(self.scroll_offset.y) + y
        if number < len(self._strips):
            return self._strips[number]
        return Strip.blank(self.scrollable_content_region.width, self.rich_style)


class DetailPanel(RenderedPane):
    """The upper right pane: what is selected, in words."""

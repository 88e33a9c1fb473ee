"""The review as one self-contained HTML page: the Markdown report's content (the seed prompt's
Output Format), with pictures where a reader would rather look: findings per section and severity,
decided against untriaged, and the evidence lines highlighted.

Self-contained and inert: styles inline, charts as inline SVG, no script, no font, no image from
elsewhere; a Content-Security-Policy forbids the page to load or run anything. Every text from the
code, the reviewers or the file system goes through `_text` (control characters shown, then HTML
escaped), so a finding, a note or a file name is only ever text."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer, SqlLexer, TextLexer

from analyzers.findings import Severity
from tui.reports.assess import Assessment, Status, is_decided, is_untriaged
from tui.reports.markdown import NO_COMMIT, VERDICT_WORD, overall_text, passing_sections
from tui.reports.mdtext import language
from tui.reports.sanitize import printable
from tui.session.state import IN_SOURCE, Detection, Disposition, FindingState, ReviewSnapshot, Verdict

if TYPE_CHECKING:
    from analyzers.checklist import Checklist, Section  # noqa: F401

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
SEVERITY_COLOUR = {Severity.CRITICAL: "#c62828", Severity.WARNING: "#ef8f00", Severity.INFO: "#1e6fb8"}
# Words, not emoji: a browser without an emoji font shows those as empty boxes; the colour says the rest.
STATUS_LABEL = {Status.PASS: "Pass", Status.WARNING: "Pass with Warnings", Status.FAIL: "Fail", Status.NOT_REVIEWED: "Not reviewed"}
STATUS_CLASS = {Status.PASS: "pass", Status.WARNING: "warning", Status.FAIL: "fail", Status.NOT_REVIEWED: "none"}
_LEXERS = {"python": PythonLexer, "sql": SqlLexer}
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_FORMATTER_STYLE = "default"

STYLE = """
:root { color-scheme: light; --muted: #5f6368; --line: #dadce0; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #202124; margin: 0 auto;
       max-width: 1100px; padding: 24px; }
h1 { font-size: 26px; margin-bottom: 4px; } h2 { border-bottom: 2px solid var(--line); padding-bottom: 4px; margin-top: 40px; }
h3 { margin-top: 32px; } code { background: #f1f3f4; padding: 1px 4px; border-radius: 3px; font-size: 90%; }
.meta { color: var(--muted); margin: 0; padding: 0; list-style: none; } .meta li { display: inline-block; margin-right: 18px; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 12px; font-weight: 600; }
.pass { background: #e6f4ea; color: #137333; } .warning { background: #fef7e0; color: #b06000; }
.fail { background: #fce8e6; color: #c5221f; } .none { background: #f1f3f4; color: var(--muted); }
table { border-collapse: collapse; margin: 8px 0 16px; } td, th { border: 1px solid var(--line); padding: 4px 10px; text-align: left; }
th { background: #f8f9fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.charts { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; } figure { margin: 0; }
figcaption { font-weight: 600; margin-bottom: 6px; }
.issue { border: 1px solid var(--line); border-left: 5px solid var(--sev); border-radius: 4px; padding: 8px 12px; margin: 10px 0; }
.issue.untriaged { border-style: dashed; border-left-style: solid; background: #fcfcfc; }
.issue h5 { margin: 0 0 4px; font-size: 15px; } .issue dl { margin: 4px 0; display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; }
.issue dt { color: var(--muted); } .issue dd { margin: 0; }
.sev { display: inline-block; color: #fff; background: var(--sev); border-radius: 3px; padding: 0 6px; font-size: 12px;
       text-transform: uppercase; margin-right: 6px; }
.evidence { margin: 6px 0 0; border: 1px solid var(--line); border-radius: 4px; overflow-x: auto; background: #fffbe6; }
.evidence table { margin: 0; border: 0; } .evidence td { border: 0; padding: 0 8px; vertical-align: top; }
.evidence pre { margin: 0; font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; white-space: pre; }
.evidence .lineno { color: var(--muted); text-align: right; user-select: none; background: #fff3c4; }
.note { white-space: pre-wrap; background: #f8f9fa; border-radius: 4px; padding: 6px 10px; margin: 4px 0; }
.drafted { color: var(--muted); font-style: italic; } .muted { color: var(--muted); }
ul.results { padding-left: 20px; } .group-title { font-weight: 600; margin: 14px 0 4px; }
"""


# -- text -----------------------------------------------------------------------------------------


def _text(value: object) -> str:
    """Untrusted text as HTML text: control characters made visible, then escaped (quotes too)."""
    return html.escape(printable(str(value)), quote=True)


def _rich(value: str) -> str:
    """Escaped text whose `code spans` become <code>: for messages and advice, which use them."""
    return _CODE_SPAN.sub(lambda m: f"<code>{m.group(2)}</code>", _text(" ".join(value.split())))


def _id(*parts: str) -> str:
    return "-".join(re.sub(r"[^A-Za-z0-9_.-]", "_", p) for p in parts)


def _status(status: Status, text: str | None = None) -> str:
    return f'<span class="badge {STATUS_CLASS[status]}">{_text(text or STATUS_LABEL[status])}</span>'


# -- charts ---------------------------------------------------------------------------------------


def _bar_chart(a: Assessment) -> str:
    """Findings per section and severity: decided solid, untriaged striped, one bar per section."""
    sections = a.checklist.sections
    rows = []
    for s in sections:
        found = a.section_findings(s.id)
        rows.append((s, [(sev, sum(1 for f in found if is_decided(f) and f.severity == sev), sum(1 for f in found if is_untriaged(f) and f.severity == sev)) for sev in Severity]))
    largest = max((sum(d + u for _, d, u in counts) for _, counts in rows), default=0) or 1
    label_w, bar_w, row_h = 250, 420, 22
    height = row_h * len(rows) + 58
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{label_w + bar_w + 60}" height="{height}" '
        f'aria-labelledby="chart-sections-title"><title id="chart-sections-title">Open findings per section and severity</title>',
        "<defs>",
        *(
            f'<pattern id="stripe-{sev.value}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
            f'<rect width="6" height="6" fill="#fff"/><rect width="3" height="6" fill="{SEVERITY_COLOUR[sev]}"/></pattern>'
            for sev in Severity
        ),
        "</defs>",
    ]
    for i, (section, counts) in enumerate(rows):
        y = i * row_h
        title = f"{section.number} {section.title}"
        out.append(f'<text x="0" y="{y + 15}" font-size="12">{_text(title[:38])}</text>')
        x = float(label_w)
        total = 0
        for sev, decided, untriaged in counts:
            for n, fill, kind in ((decided, SEVERITY_COLOUR[sev], "decided"), (untriaged, f"url(#stripe-{sev.value})", "untriaged")):
                if not n:
                    continue
                w = bar_w * n / largest
                out.append(
                    f'<rect class="bar" data-section="{_text(section.id)}" data-severity="{sev.value}" data-kind="{kind}" data-count="{n}" '
                    f'x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" fill="{fill}" stroke="{SEVERITY_COLOUR[sev]}">'
                    f"<title>{_text(title)}: {n} {kind} {sev.value}</title></rect>"
                )
                x += w
                total += n
        out.append(f'<text x="{x + 6:.1f}" y="{y + 15}" font-size="12" fill="#5f6368">{total or ""}</text>')
    legend_y = row_h * len(rows) + 18
    for i, sev in enumerate(Severity):
        for j, (kind, fill) in enumerate((("decided", SEVERITY_COLOUR[sev]), ("untriaged", f"url(#stripe-{sev.value})"))):
            x, y = i * 170, legend_y + 18 * j
            out.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{fill}" stroke="{SEVERITY_COLOUR[sev]}"/>')
            out.append(f'<text x="{x + 16}" y="{y}" font-size="12">{sev.value}, {kind}</text>')
    out.append("</svg>")
    return "".join(out)


def _split_chart(a: Assessment) -> str:
    """Where every finding stands: confirmed, downgraded, dismissed, untriaged (and resolved)."""
    parts = [
        ("confirmed", sum(1 for f in a.decided if f.disposition == Disposition.CONFIRMED), "#137333"),
        ("downgraded", sum(1 for f in a.decided if f.disposition == Disposition.DOWNGRADED), "#7cb342"),
        ("dismissed", len(a.dismissed), "#9aa0a6"),
        ("untriaged", len(a.untriaged), "#f9ab00"),
        ("resolved", len(a.resolved), "#d2e3fc"),
    ]
    total = sum(n for _, n, _ in parts) or 1
    width, height = 420, 28
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height + 24 * len(parts) + 8}" '
        'aria-labelledby="chart-split-title"><title id="chart-split-title">Decided and untriaged findings</title>'
    ]
    x = 0.0
    for name, n, colour in parts:
        if n:
            w = width * n / total
            out.append(f'<rect class="split" data-kind="{name}" data-count="{n}" x="{x:.1f}" y="0" width="{w:.1f}" height="{height}" fill="{colour}"><title>{n} {name}</title></rect>')
            x += w
    for i, (name, n, colour) in enumerate(parts):
        y = height + 12 + 24 * i
        out.append(f'<rect x="0" y="{y}" width="12" height="12" fill="{colour}"/><text x="18" y="{y + 11}" font-size="13">{n} {name}</text>')
    out.append("</svg>")
    return "".join(out)


# -- the page -------------------------------------------------------------------------------------


def render_html(checklist: Checklist, snapshot: ReviewSnapshot) -> str:
    a = Assessment(checklist, snapshot)
    review = snapshot.review
    name = PurePath(review.repo_path).name or review.repo_path
    formatter = HtmlFormatter(style=_FORMATTER_STYLE, nowrap=True)
    body: list[str] = [
        f"<header><h1>Database Code Review: {_text(name)}</h1>",
        '<ul class="meta">',
        f"<li><b>Date:</b> {_text(review.updated_at.date().isoformat())}</li>",
        f"<li><b>Commit:</b> {f'<code>{_text(review.commit)}</code>' if review.commit else _text(NO_COMMIT)}</li>",
        f"<li><b>Reviewers:</b> {_text(', '.join(review.reviewers)) if review.reviewers else 'none yet'}</li>",
        f"<li><b>Repository:</b> <code>{_text(review.repo_path)}</code></li>",
        f"<li><b>Checklist:</b> {_text(checklist.title)} (version {_text(checklist.version)})</li>",
        *(
            [f"<li><b>Proof on PostgreSQL:</b> {_text(v.outcome)} ({_text(v.postgres)}"
             f"{f', commit <code>{_text(v.commit[:12])}</code>' if v.commit else ''})</li>"]
            if (v := snapshot.verification) else []
        ),
        "</ul></header>",
        *_summary(a),
        '<section id="detailed-findings"><h2>Detailed Findings</h2>',
    ]
    for section in checklist.sections:
        body += _section(a, section)
    if a.unplaced:
        body += ['<section class="section" id="section-other"><h3>Other Findings</h3>', *_issues(a, a.unplaced), "</section>"]
    body.append("</section>")
    body += _compliance(a)
    body += _recommendations(a)
    body += _positive(a)
    body += _verification(a)
    if a.scan_errors:
        body += ['<section id="scan-errors"><h2>Scan Errors</h2><ul>', *(f"<li><code>{_text(e)}</code></li>" for e in a.scan_errors), "</ul></section>"]
    style = STYLE + formatter.get_style_defs(".evidence pre")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="dbreview">'
        f"<title>Database Code Review: {_text(name)}</title><style>{style}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def _summary(a: Assessment) -> list[str]:
    done, total = a.reviewed_count()
    status = a.overall()
    verdicts = [a.snapshot.item(i.id).verdict for i in a.checklist.items]
    rows = [
        ("Critical issues", a.count(Severity.CRITICAL)),
        ("Warning issues", a.count(Severity.WARNING)),
        ("Info", a.count(Severity.INFO)),
        ("Untriaged findings", a.untriaged_count()),
        ("Dismissed findings", len(a.dismissed)),
        ("Resolved since the review began", len(a.resolved)),
    ]
    out = [
        '<section id="executive-summary"><h2>Executive Summary</h2>',
        f'<p id="overall"><b>Overall assessment:</b> {_status(status, overall_text(a, STATUS_LABEL))}</p>',
        '<div class="charts"><div><table id="counts">',
        *(f'<tr><th>{label}</th><td class="num">{n}</td></tr>' for label, n in rows),
        f'<tr><th>Checklist items reviewed</th><td class="num">{done} of {total}</td></tr>',
        *(f'<tr><th>… marked {word}</th><td class="num">{n}</td></tr>' for v, word in VERDICT_WORD.items() if (n := verdicts.count(v))),
        "</table>",
        '<p class="muted">Issue counts are of findings a reviewer confirmed or downgraded; untriaged findings are the analyzers\' alone.</p></div>',
        f'<figure id="chart-split"><figcaption>Decided and untriaged</figcaption>{_split_chart(a)}</figure>',
        "</div>",
        f'<figure id="chart-sections"><figcaption>Open findings per section and severity</figcaption>{_bar_chart(a)}</figure>',
        "<p><b>Key strengths observed:</b></p><ul>",
    ]
    strengths = [f"<li>Section {s.number}: {_text(s.title)}: every reviewed item passes, no issue open</li>" for s in passing_sections(a)]
    passed = sum(1 for v in verdicts if v == Verdict.PASS)
    if passed:
        strengths.append(f'<li>{passed} checklist item{"s" if passed != 1 else ""} marked pass (see Positive Observations)</li>')
    return [*out, *(strengths or ["<li>None.</li>"]), "</ul></section>"]


def _section(a: Assessment, section: Section) -> list[str]:
    status = a.section_status(section)
    reviewed = sum(1 for item in section.items if a.snapshot.item(item.id).verdict != Verdict.UNREVIEWED)
    untriaged = sum(1 for f in a.section_findings(section.id) if is_untriaged(f))
    out = [
        f'<section class="section" id="section-{_id(section.id)}"><h3>Section {section.number}: {_text(section.title)}</h3>',
        f"<p><b>Status:</b> {_status(status)} <span class=\"muted\">{reviewed} of {len(section.items)} items reviewed"
        f"{f'; {untriaged} untriaged finding' + ('s' if untriaged != 1 else '') if untriaged else ''}</span></p>",
        "<h4>Checklist Results</h4>",
        '<ul class="results">',
    ]
    listed = 0
    for item in section.items:
        state, item_status = a.snapshot.item(item.id), a.item_status(item.id)
        if state.verdict == Verdict.UNREVIEWED and item_status == Status.NOT_REVIEWED:
            continue
        listed += 1
        verdict = VERDICT_WORD.get(state.verdict, "not yet reviewed")
        by = f" ({_text(state.reviewer)})" if state.reviewer else ""
        out.append(f'<li id="item-{_id(item.id)}" data-verdict="{state.verdict.value}">{_status(item_status, verdict)} <b>{_text(item.id)}</b> {_rich(item.text)}{by}')
        if state.notes.strip():
            out.append(f'<div class="note">{_text(state.notes.strip())}</div>')
        out.append("</li>")
    left = len(section.items) - reviewed
    if left:
        out.append(f'<li class="muted">{left} item{"s" if left != 1 else ""} not yet reviewed</li>')
    for item in section.items:
        if why := a.suggested_na(item.id):
            out.append(f'<li class="suggested-na"><b>{_text(item.id)}</b> {_rich(item.text)}: not applicable, as the scan suggests ({_rich(why)})</li>')
    if not listed and not left:
        out.append("<li>None.</li>")
    out += ["</ul>", "<h4>Key Question Answers</h4>", "<ul>"]
    for q in section.questions:
        answer = a.snapshot.answer(q.id)
        out.append(f"<li><b>{_rich(q.text)}</b>")
        if answer.text.strip():
            out.append(f'<div class="note">{_text(answer.text.strip())}</div><span class="muted">— {_text(answer.reviewer or "")}</span>')
        elif answer.drafted.strip():
            out.append(f'<div class="drafted">(drafted, not yet confirmed)</div><div class="note">{_text(answer.drafted.strip())}</div>')
        else:
            out.append('<div class="muted">Unanswered.</div>')
        out.append("</li>")
    if not section.questions:
        out.append("<li>No questions for this section.</li>")
    out.append("</ul>")
    out += _issues(a, a.section_findings(section.id))
    return [*out, "</section>"]


def _issues(a: Assessment, findings: Sequence[FindingState]) -> list[str]:
    out = ["<h4>Issues Found</h4>"]
    for severity in Severity:
        group = [f for f in findings if is_decided(f) and f.severity == severity]
        out.append(f'<div class="group-title">{severity.value.capitalize()}</div>')
        out += [_issue(a, f) for f in group] or ['<p class="muted">None.</p>']
    untriaged = [f for f in findings if is_untriaged(f)]
    if untriaged:
        out.append('<div class="group-title">Untriaged <span class="muted">(reported by the analyzers; no reviewer has looked at these yet)</span></div>')
        out += [_issue(a, f) for f in untriaged]
    dismissed = [f for f in findings if f.detection != Detection.ABSENT and f.disposition == Disposition.DISMISSED]
    if dismissed:
        out.append('<div class="group-title">Dismissed</div><ul>')
        out += [f"<li><code>{_text(f.location)}</code>: {_rich(f.message)} (<code>{_text(f.rule_id)}</code>): dismissed as {_text(f.dismiss_reason or 'no reason given')}{_by_decision(a, f)}</li>" for f in dismissed]
        out.append("</ul>")
    resolved = [f for f in findings if f.detection == Detection.ABSENT]
    if resolved:
        out.append('<div class="group-title">Resolved since the review began</div><ul>')
        out += [f"<li><code>{_text(f.location)}</code>: {_rich(f.message)} (<code>{_text(f.rule_id)}</code>, was {f.severity.value}, {f.disposition.value}){_notes(f)}</li>" for f in resolved]
        out.append("</ul>")
    return out


def _by_decision(a: Assessment, f: FindingState) -> str:
    decision = a.decision(f)
    if decision is None:
        source = [n.text for n in f.notes if n.reviewer == IN_SOURCE]
        return f" by a source comment: {_text(source[0])}" if source else ""
    return f" by {_text(decision.reviewer)}" + (f": {_text(decision.note)}" if decision.note else "")


def _notes(f: FindingState) -> str:
    if not f.notes:
        return ""
    notes = sorted(f.notes, key=lambda n: (n.at, n.reviewer, n.text))
    return "".join(f'<div class="note"><b>{_text(n.reviewer)}</b>, {_text(n.at.isoformat(sep=" ", timespec="minutes"))}: {_text(n.text)}</div>' for n in notes)


def _evidence(f: FindingState) -> str:
    """The evidence lines, highlighted by language, numbered from the finding's first line."""
    if not f.evidence:
        return ""
    lexer = _LEXERS.get(language(f.path), TextLexer)()
    code = highlight(printable("\n".join(f.evidence)), lexer, HtmlFormatter(nowrap=True)).rstrip("\n")
    numbers = "\n".join(str(max(1, f.start_line) + i) for i in range(len(f.evidence)))
    return f'<div class="evidence"><table><tr><td class="lineno"><pre>{numbers}</pre></td><td><pre>{code}</pre></td></tr></table></div>'


def _issue(a: Assessment, f: FindingState) -> str:
    info = a.rule(f.rule_id)
    kind = "untriaged" if is_untriaged(f) else "decided"
    severity = f.severity.value if f.severity == f.original_severity else f"{f.severity.value} (downgraded from {f.original_severity.value})"
    triage = f.disposition.value + (_by_decision(a, f) if f.disposition != Disposition.UNTRIAGED else "")
    if f.needs_second_look:
        triage += "; the decision wants a second look"
    related = ", ".join(f"<code>{_text(r.location)}</code>" + (f" ({_text(r.note)})" if r.note else "") for r in f.related)
    rows = [
        ("Location", f"<code>{_text(f.location)}</code> (rule <code>{_text(f.rule_id)}</code>, item {_text(f.item_id)})"),
        *([("Also at", related)] if related else []),
        ("Severity", _text(severity)),
        ("Triage", triage),
        *_proof(a, f),
        *([("Impact", _rich(info.why))] if info is not None and info.why else []),
        ("Recommendation", _rich(a.recommendation(f))),
    ]
    return (
        f'<article class="issue {kind}" id="finding-{_id(f.fingerprint)}" data-rule="{_text(f.rule_id)}" data-kind="{kind}" '
        f'style="--sev: {SEVERITY_COLOUR[f.severity]}"><h5><span class="sev">{f.severity.value}</span>{_rich(f.message)}</h5>'
        f"<dl>{''.join(f'<dt>{k}</dt><dd>{v}</dd>' for k, v in rows)}</dl>{_evidence(f)}{_notes(f)}</article>"
    )


def _proof(a: Assessment, f: FindingState) -> list[tuple[str, str]]:
    proof = a.snapshot.proofs.get(f.fingerprint)
    if proof is None:
        return []
    label = proof.label(a.snapshot.review.commit)
    return [(f"{_text(label.capitalize())} on {_text(proof.postgres)}", _text(proof.evidence))]


def _verification(a: Assessment) -> list[str]:
    """What `dbreview verify` proved, as its own report wrote it (Markdown, shown as text)."""
    run = a.snapshot.verification
    if run is None:
        return []
    return ['<section id="proof-on-postgresql"><h2>Proof on PostgreSQL</h2>', f"<pre>{_text(run.report)}</pre>", "</section>"]


def _compliance(a: Assessment) -> list[str]:
    out = ['<section id="compliance"><h2>Compliance Assessment</h2>']
    for area, rows in a.compliance_areas():
        out += [f"<h4>{_text(area)}</h4>", "<table>"]
        for row in rows:
            items = ", ".join(_text(i) for i in row.items)
            out.append(f'<tr><th>{_text(row.label)}</th><td>{_status(a.compliance_status(row))}</td><td class="muted">items {items}</td></tr>')
        out.append("</table>")
    return [*out, "</section>"]


def _entry(a: Assessment, f: FindingState) -> str:
    return (
        f'<li><a href="#finding-{_id(f.fingerprint)}"><code>{_text(f.location)}</code></a>: {_rich(f.message)} '
        f"(<code>{_text(f.rule_id)}</code>). <b>Recommendation:</b> {_rich(a.recommendation(f))}</li>"
    )


def _items_marked(a: Assessment, verdict: Verdict) -> Iterable[str]:
    for item in a.checklist.items:
        state = a.snapshot.item(item.id)
        if state.verdict == verdict:
            notes = f": {_text(state.notes.strip())}" if state.notes.strip() else ""
            yield f'<li>Checklist item <a href="#item-{_id(item.id)}"><b>{_text(item.id)}</b></a> ({_rich(item.text)}) marked {verdict.value}{notes}</li>'


def _recommendations(a: Assessment) -> list[str]:
    perf = a.performance_section()
    groups = [
        ("Critical (Must Fix)", [*(_entry(a, f) for f in a.decided if f.severity == Severity.CRITICAL), *_items_marked(a, Verdict.FAIL)]),
        ("High Priority (Should Fix)", [*(_entry(a, f) for f in a.decided if f.severity == Severity.WARNING), *_items_marked(a, Verdict.WARNING)]),
        ("Medium Priority (Nice to Have)", [_entry(a, f) for f in a.decided if f.severity == Severity.INFO]),
        ("Performance Optimizations", [_entry(a, f) for f in a.section_findings(perf.id) if is_decided(f)] if perf else []),
    ]
    out = ['<section id="recommendations"><h2>Recommendations</h2><ol>']
    for label, entries in groups:
        out += [f"<li><b>{label}:</b><ul>", *(entries or ["<li>None.</li>"]), "</ul></li>"]
    out.append("</ol>")
    if a.untriaged:
        out.append('<div id="awaiting-triage"><p><b>Awaiting triage</b> <span class="muted">(what the analyzers advise for the findings no reviewer has decided on yet)</span></p>')
        for severity in Severity:
            group = [f for f in a.untriaged if f.severity == severity]
            if group:
                out += [f"<p>{severity.value.capitalize()}:</p><ul>", *(_entry(a, f) for f in group), "</ul>"]
        out.append("</div>")
    return [*out, "</section>"]


def _positive(a: Assessment) -> list[str]:
    out = ['<section id="positive"><h2>Positive Observations</h2><ul>']
    entries = [f"<li><b>Section {s.number}: {_text(s.title)}</b>: every reviewed item passes and no issue is open.</li>" for s in passing_sections(a)]
    for item in a.checklist.items:
        state = a.snapshot.item(item.id)
        if state.verdict != Verdict.PASS:
            continue
        by = f" ({_text(state.reviewer)})" if state.reviewer else ""
        notes = f'<div class="note">{_text(state.notes.strip())}</div>' if state.notes.strip() else ""
        entries.append(f'<li class="passed" data-item="{_text(item.id)}">✓ <b>{_text(item.id)}</b> {_rich(item.text)}{by}{notes}</li>')
    return [*out, *(entries or ["<li>None.</li>"]), "</ul></section>"]

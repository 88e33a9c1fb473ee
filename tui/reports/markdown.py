"""The review as a Markdown document, in exactly the structure of the seed prompt's "Output Format":
Executive Summary, Detailed Findings (one part per checklist section), Compliance Assessment,
Recommendations, Positive Observations; then Scan Errors when there are any."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import PurePath
from typing import TYPE_CHECKING

from analyzers.findings import Severity
from tui.reports.assess import Assessment, Status, is_decided, is_untriaged
from tui.reports.mdtext import block, code_block, code_span, inline, language
from tui.session.state import IN_SOURCE, Detection, Disposition, FindingState, ReviewSnapshot, Verdict
from tui.words import counted

if TYPE_CHECKING:
    from analyzers.checklist import Checklist, Item, Section

STATUS_LABEL = {
    Status.PASS: "✅ Pass",
    Status.WARNING: "⚠️ Pass with Warnings",
    Status.FAIL: "❌ Fail",
    Status.NOT_REVIEWED: "Not reviewed",
}
GLYPH = {Status.PASS: "✅", Status.WARNING: "⚠️", Status.FAIL: "❌"}
_GROUPS = ((Severity.CRITICAL, "Critical"), (Severity.WARNING, "Warning"), (Severity.INFO, "Info"))
_NONE = "None."
NO_COMMIT = "none: not a git checkout"
VERDICT_WORD = {Verdict.PASS: "pass", Verdict.NA: "n/a", Verdict.WARNING: "warning", Verdict.FAIL: "fail"}


def render_markdown(checklist: Checklist, snapshot: ReviewSnapshot) -> str:
    a = Assessment(checklist, snapshot)
    out: list[str] = []
    out += _header(a)
    out += _summary(a)
    out += ["## Detailed Findings", ""]
    for section in checklist.sections:
        out += _section(a, section)
    if a.unplaced:
        out += ["### Other Findings", "", "Findings under no item of this checklist: suppression comments that suppress nothing, rules of another checklist.", ""]
        out += _issues(a, a.unplaced)
    out += _compliance(a)
    out += _recommendations(a)
    out += _positive(a)
    if snapshot.verification is not None:
        out += [snapshot.verification.report.rstrip("\n"), ""]
    if a.scan_errors:
        out += ["## Scan Errors", "", *(f"- {code_span(str(e))}" for e in a.scan_errors), ""]
    return "\n".join(out).rstrip("\n") + "\n"


# -- header and summary ---------------------------------------------------------------------------


def _when(at: datetime) -> str:
    return at.isoformat(sep=" ", timespec="minutes")


def _header(a: Assessment) -> list[str]:
    review = a.snapshot.review
    name = PurePath(review.repo_path).name or review.repo_path
    date = review.updated_at.date().isoformat()
    if review.created_at.date() != review.updated_at.date():
        date += f" (review started {review.created_at.date().isoformat()})"
    return [
        f"# Database Code Review: {inline(name)}",
        "",
        f"- **Date:** {date}",
        f"- **Commit:** {code_span(review.commit) if review.commit else NO_COMMIT}",
        f"- **Reviewers:** {inline(', '.join(review.reviewers)) if review.reviewers else 'none yet'}",
        f"- **Repository:** {code_span(review.repo_path)}",
        f"- **Checklist:** {inline(a.checklist.title)} (version {inline(str(a.checklist.version))})",
        "",
    ]


def overall_text(a: Assessment, labels: dict[Status, str] = STATUS_LABEL) -> str:
    """The overall assessment, and whether it is final."""
    status = a.overall()
    text = labels[status] if status != Status.NOT_REVIEWED else "Not assessed yet: no verdict and no decided finding"
    items_left, untriaged = a.unfinished()
    if items_left or untriaged:
        text += f" (not final: {items_left} of {len(a.checklist.items)} checklist items without a verdict, {counted(untriaged, 'finding')} untriaged)"
    return text


def _by_severity(counts: Iterable[tuple[Severity, int]]) -> str:
    return ", ".join(f"{n} {sev.value}" for sev, n in counts if n)


def _verdict_counts(a: Assessment) -> str:
    verdicts = [a.snapshot.item(item.id).verdict for item in a.checklist.items]
    return ", ".join(f"{n} {word}" for verdict, word in VERDICT_WORD.items() if (n := verdicts.count(verdict)))


def _summary(a: Assessment) -> list[str]:
    done, total = a.reviewed_count()
    untriaged = a.untriaged_count()
    breakdown = _by_severity((sev, a.untriaged_count(sev)) for sev in Severity)
    verdicts = _verdict_counts(a)
    out = [
        "## Executive Summary",
        "",
        f"- **Overall assessment:** {overall_text(a)}",
        f"- **Critical issues:** {a.count(Severity.CRITICAL)}",
        f"- **Warning issues:** {a.count(Severity.WARNING)}",
        f"- **Info:** {a.count(Severity.INFO)}",
        f"- **Untriaged findings:** {untriaged}" + (f" ({breakdown}): reported by the analyzers, not yet looked at by a reviewer; listed apart" if untriaged else ""),
        f"- **Checklist items reviewed:** {done} of {total}" + (f" ({verdicts})" if verdicts else ""),
        f"- **Dismissed findings:** {len(a.dismissed)}",
        f"- **Resolved since the review began:** {len(a.resolved)}",
        *_proof_summary(a.snapshot),
        "- **Key strengths observed:**",
    ]
    strengths = [
        f"  - Section {s.number}: {inline(s.title)}: every reviewed item passes, no issue open" for s in passing_sections(a)
    ]
    passed = len(_passed_items(a))
    if passed:
        strengths.append(f"  - {counted(passed, 'checklist item')} marked pass (see Positive Observations)")
    out += strengths or [f"  - {_NONE}"]
    out += ["", "Issue counts are of findings a reviewer confirmed or downgraded; the overall assessment comes from those and the item verdicts."]
    return [*out, ""]


def passing_sections(a: Assessment) -> list[Section]:
    """Sections that pass with at least one item marked pass (not only n/a), and no critical or
    warning finding open in them, decided or not: a strength the report can stand behind."""
    return [
        s
        for s in a.checklist.sections
        if a.section_status(s) == Status.PASS
        and any(a.snapshot.item(i.id).verdict == Verdict.PASS for i in s.items)
        and not any(f.is_open and f.severity != Severity.INFO for f in a.section_findings(s.id))
    ]


def _passed_items(a: Assessment) -> list[Item]:
    """Every item a reviewer marked pass."""
    return [item for item in a.checklist.items if a.snapshot.item(item.id).verdict == Verdict.PASS]


# -- detailed findings ----------------------------------------------------------------------------


def _section(a: Assessment, section: Section) -> list[str]:
    status = a.section_status(section)
    reviewed = sum(1 for item in section.items if a.snapshot.item(item.id).verdict != Verdict.UNREVIEWED)
    untriaged = sum(1 for f in a.section_findings(section.id) if is_untriaged(f))
    notes = [f"{reviewed} of {len(section.items)} items reviewed"] if status != Status.NOT_REVIEWED else []
    notes += [f"{counted(untriaged, 'finding')} untriaged"] if untriaged else []
    progress = f" ({'; '.join(notes)})" if notes else ""
    out = [
        f"### Section {section.number}: {inline(section.title)}",
        "",
        f"**Status:** {STATUS_LABEL[status]}{progress}",
        "",
    ]
    out += _checklist_results(a, section)
    out += _answers(a, section)
    out += _issues(a, a.section_findings(section.id))
    return out


def _checklist_results(a: Assessment, section: Section) -> list[str]:
    """Every item with a verdict or a decided issue, in checklist order; then how many are left."""
    out = ["**Checklist Results:**", ""]
    titles = {g.key: g.title for g in section.groups}
    listed = [
        item for item in section.items
        if a.snapshot.item(item.id).verdict != Verdict.UNREVIEWED or a.item_status(item.id) != Status.NOT_REVIEWED
    ]  # fmt: skip
    for item in listed:
        status, state = a.item_status(item.id), a.snapshot.item(item.id)
        group = f" ({inline(titles.get(item.group, item.group))})" if item.group else ""
        verdict = VERDICT_WORD.get(state.verdict, "not yet reviewed") + _by(state.reviewer)
        mark = f"{GLYPH[status]} " if status in GLYPH and state.verdict != Verdict.NA else ""
        out.append(f"- {mark}**{item.id}**{group} {inline(item.text)}: {verdict}")
        findings = a.item_findings(item.id)
        decided = _open_counts(f for f in findings if is_decided(f))
        untriaged = _open_counts(f for f in findings if is_untriaged(f))
        if decided:
            out.append(f"  - Decided issues open: {decided}")
        if untriaged:
            out.append(f"  - Untriaged findings: {untriaged}")
        if state.notes.strip():
            out += ["  - Notes:", "", *block(state.notes, "    ")]
    left = len(section.items) - sum(1 for item in section.items if a.snapshot.item(item.id).verdict != Verdict.UNREVIEWED)
    if left:
        out.append(f"- {counted(left, 'item')} not yet reviewed.")
    for item in section.items:
        why = a.suggested_na(item.id)
        if why:
            out.append(f"- **{item.id}** {inline(item.text)}: not applicable, as the scan suggests ({inline(why)})")
    return [*out, ""]


def _open_counts(findings: Iterable[FindingState]) -> str:
    found = list(findings)
    return _by_severity((sev, sum(1 for f in found if f.severity == sev)) for sev, _ in _GROUPS)


def _by(reviewer: str | None) -> str:
    return f" ({inline(reviewer)})" if reviewer else ""


def _answers(a: Assessment, section: Section) -> list[str]:
    out = ["**Key Question Answers:**", ""]
    for question in section.questions:
        answer = a.snapshot.answer(question.id)
        out.append(f"- **{inline(question.text)}**")
        if answer.text.strip():
            out += ["", *block(answer.text, "  ")]
            if answer.reviewer:
                out.append(f"  — {inline(answer.reviewer)}")
        elif answer.drafted.strip():
            out += ["", "  *(drafted, not yet confirmed)*", "", *block(answer.drafted, "  ")]
        else:
            out.append("  Unanswered.")
        out.append("")
    if not section.questions:
        out += ["- No questions for this section.", ""]
    return out


def _issues(a: Assessment, findings: tuple[FindingState, ...]) -> list[str]:
    """Decided issues by severity; then the untriaged findings, apart; then dismissed and resolved."""
    out = ["**Issues Found:**", ""]
    for severity, label in _GROUPS:
        group = [f for f in findings if is_decided(f) and f.severity == severity]
        out += [f"**{label}**", ""]
        for f in group:
            out += _issue(a, f)
        if not group:
            out += [f"- {_NONE}", ""]
    untriaged = [f for f in findings if is_untriaged(f)]
    if untriaged:
        out += ["**Untriaged** (reported by the analyzers; no reviewer has looked at these yet)", ""]
        for f in untriaged:
            out += _issue(a, f)
    present = [f for f in findings if f.detection != Detection.ABSENT]
    dismissed = [f for f in present if f.disposition == Disposition.DISMISSED]
    if dismissed:
        out += ["**Dismissed**", ""]
        out += [f"- {_where(f)} ({code_span(f.rule_id)}): {_dismissal(a, f)}" for f in dismissed]
        out.append("")
    resolved = [f for f in findings if f.detection == Detection.ABSENT]
    if resolved:
        out += ["**Resolved since the review began**", ""]
        for f in resolved:
            decided = _dismissal(a, f) if f.disposition == Disposition.DISMISSED else f.disposition.value
            out.append(f"- {_where(f)} ({code_span(f.rule_id)}, was {f.severity.value}, {decided})")
            out += _notes(f, "  ")  # what the reviewer wrote outlives the code it was about
        out.append("")
    return out


def _notes(f: FindingState, indent: str) -> list[str]:
    if not f.notes:
        return []
    out = [f"{indent}- **Notes:**"]
    for note in sorted(f.notes, key=lambda n: (n.at, n.reviewer, n.text)):
        out += [f"{indent}  - {inline(note.reviewer)}, {_when(note.at)}:", "", *block(note.text, indent + "    ")]
    return out


def _where(f: FindingState) -> str:
    return f"{code_span(f.location)}: {inline(f.message)}"


def _decided_by(a: Assessment, f: FindingState) -> str:
    """" by NAME: note" from the event that set the finding's disposition, if the history has it."""
    decision = a.decision(f)
    if decision is None:
        return ""
    return f" by {inline(decision.reviewer)}" + (f": {inline(decision.note)}" if decision.note else "")


def _dismissal(a: Assessment, f: FindingState) -> str:
    by = _decided_by(a, f)
    source_notes = [n.text for n in f.notes if n.reviewer == IN_SOURCE]
    if not by and source_notes:  # a headless scan: the comment's words are the only record
        by = f" by a {IN_SOURCE}: {inline(source_notes[0])}"
    return f"dismissed as {inline(f.dismiss_reason or 'no reason given')}{by}"


def _severity_text(a: Assessment, f: FindingState) -> str:
    if f.severity == f.original_severity:
        return f.severity.value
    return f"{f.severity.value}, downgraded from {f.original_severity.value}{_decided_by(a, f)}"


def _triage(a: Assessment, f: FindingState) -> str:
    text = f.disposition.value
    decision = a.decision(f)
    if f.disposition == Disposition.CONFIRMED and decision is not None:
        text += f" by {inline(decision.reviewer)}"
    if f.detection == Detection.REGRESSED:
        text += "; regressed: it was gone from the code and came back"
    elif f.detection == Detection.UPDATED:
        text += "; moved or edited since the last scan"
    if f.needs_second_look:
        text += "; the decision wants a second look"
    return text


def _related(f: FindingState) -> list[str]:
    if not f.related:
        return []
    places = ", ".join(code_span(str(r.location)) + (f" ({inline(r.note)})" if r.note else "") for r in f.related)
    return [f"  - **Also at:** {places}"]


def _issue(a: Assessment, f: FindingState) -> list[str]:
    info = a.rule(f.rule_id)
    out = [
        f"- {inline(f.message)}",
        f"  - **Location:** {code_span(f.location)} (rule {code_span(f.rule_id)}, item {inline(f.item_id)})",
        *_related(f),
        f"  - **Severity:** {_severity_text(a, f)}",
        f"  - **Triage:** {_triage(a, f)}",
        *_proof(a.snapshot, f),
    ]
    if info is not None and info.why:
        out.append(f"  - **Impact:** {inline(info.why)}")
    out.append(f"  - **Recommendation:** {inline(a.recommendation(f))}")
    if f.evidence:
        out += ["  - **Code:**", "", *code_block(f.evidence, language(f.path), "    ")]
    out += _notes(f, "  ")
    return [*out, ""]


def _proof_summary(snapshot: ReviewSnapshot) -> list[str]:
    run = snapshot.verification
    if run is None:
        return []
    commit = f", commit {code_span(run.commit[:12])}" if run.commit else ""
    return [f"- **Proof on PostgreSQL:** {inline(run.outcome)} ({inline(run.postgres)}{commit}; see Proof on PostgreSQL)"]


def _proof(snapshot: ReviewSnapshot, f: FindingState) -> list[str]:
    proof = snapshot.proofs.get(f.fingerprint)
    if proof is None:
        return []
    label = proof.label(snapshot.review.commit)
    return [f"  - **{label.capitalize()} on {inline(proof.postgres)}:** {inline(proof.evidence)}"]


# -- compliance, recommendations, strengths -------------------------------------------------------


def _compliance(a: Assessment) -> list[str]:
    out = ["## Compliance Assessment", ""]
    for area, rows in a.compliance_areas():
        out += [f"**{inline(area)}:**", ""]
        for row in rows:
            status = a.compliance_status(row)
            mark = GLYPH[status] if status != Status.NOT_REVIEWED else STATUS_LABEL[status]
            out.append(f"- {inline(row.label)}: {mark} (items {', '.join(inline(i) for i in row.items)})")
        out.append("")
    return out


def _entry(a: Assessment, f: FindingState, indent: str = "   ") -> str:
    return f"{indent}- {_where(f)} ({code_span(f.rule_id)}). Recommendation: {inline(a.recommendation(f))}"


def _entries(a: Assessment, severity: Severity, verdict: Verdict | None = None) -> list[str]:
    """The decided findings of a severity, then the items a reviewer gave `verdict` (their own
    finding, with their notes as the recommendation)."""
    out = [_entry(a, f) for f in a.decided if f.severity == severity]
    if verdict is None:
        return out
    for item in a.checklist.items:
        state = a.snapshot.item(item.id)
        if state.verdict == verdict:
            notes = f": {inline(state.notes)}" if state.notes.strip() else ""
            marked = f"marked {verdict.value}{_by(state.reviewer)}{notes}"
            out.append(f"   - Checklist item **{item.id}** ({inline(item.text)}) {marked}")
    return out


def _recommendations(a: Assessment) -> list[str]:
    perf = a.performance_section()
    groups = [
        ("Critical (Must Fix)", _entries(a, Severity.CRITICAL, Verdict.FAIL)),
        ("High Priority (Should Fix)", _entries(a, Severity.WARNING, Verdict.WARNING)),
        ("Medium Priority (Nice to Have)", _entries(a, Severity.INFO)),
        ("Performance Optimizations", [_entry(a, f) for f in a.section_findings(perf.id) if is_decided(f)] if perf else []),
    ]
    out = ["## Recommendations", ""]
    for n, (label, entries) in enumerate(groups, 1):
        out += [f"{n}. **{label}:**", *(entries or [f"   - {_NONE}"])]
    if a.untriaged:
        out += ["", "**Awaiting triage** (what the analyzers advise for the findings no reviewer has decided on yet):"]
        for severity, label in _GROUPS:
            group = [f for f in a.untriaged if f.severity == severity]
            if group:
                out += [f"- {label}:", *(_entry(a, f, "  ") for f in group)]
    return [*out, ""]


def _positive(a: Assessment) -> list[str]:
    out = ["## Positive Observations", ""]
    for section in passing_sections(a):
        title = f"Section {section.number}: {inline(section.title)}"
        out.append(f"- **{title}**: every reviewed item passes and no issue is open.")
    for item in _passed_items(a):
        state = a.snapshot.item(item.id)
        still = _open_counts(f for f in a.item_findings(item.id) if is_decided(f))
        caveat = f" (decided issues still open on it: {still})" if still else ""
        out.append(f"- ✅ **{item.id}** {inline(item.text)}{_by(state.reviewer)}{caveat}")
        if state.notes.strip():
            out += ["", *block(state.notes, "  "), ""]
    if len(out) == 2:
        out.append(f"- {_NONE}")
    return [*out, ""]


def executive_summary(checklist: Checklist, snapshot: ReviewSnapshot) -> str:
    """The Executive Summary exactly as the exported report will have it (for the progress screen)."""
    return "\n".join(_summary(Assessment(checklist, snapshot)))

"""Handing a review over: `dbreview import FILE PATH` takes what `dbreview export --format json`
wrote on another machine into this machine's review of PATH.

The exported findings are matched to this scan's findings exactly as a saved review matches a new
scan (tui/session/identity.py: same fingerprint, then same rule and code, then same rule and anchor),
so the code may have moved on in between. Decisions, notes, verdicts and answers are written in the
name of whoever made them. Nothing decided here is overwritten: where the two disagree, this
review keeps its own and the disagreement is reported. No Textual here."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analyzers.findings import Finding, Severity
from tui.reports.sanitize import name_problem
from tui.review import Review
from tui.session.identity import match
from tui.session.state import IN_SOURCE, Detection, Disposition, FindingState, Note, Verdict
from tui.words import counted

READABLE_VERSIONS = (1, 2)
GENERATED = {IN_SOURCE, "dbreview"}  # notes a scan writes by itself: the scan here writes its own


class HandoverError(Exception):
    """The file cannot be imported: one line saying why (exit status 2)."""


@dataclass(slots=True)
class Imported:
    decisions: int = 0
    notes: int = 0
    verdicts: int = 0
    answers: int = 0
    same: int = 0  # already so here
    not_here: int = 0  # decided findings of the file that this code no longer has
    conflicts: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"Imported {counted(self.decisions, 'decision')}, {counted(self.notes, 'note')}, "
            f"{counted(self.verdicts, 'verdict')} and {counted(self.answers, 'answer')}"
            f" ({self.same} already so here)."
        ]
        if self.not_here:
            out.append(f"{self.not_here} decided findings of the file are not in this code (resolved, or the code changed too much).")
        if self.conflicts:
            out.append(f"{len(self.conflicts)} differ from this review, which keeps its own:")
            out += [f"  {c}" for c in self.conflicts]
        return out


def read_export(path: Path) -> dict[str, Any]:
    """The JSON document `dbreview export --format json` wrote, checked whole before anything of it
    is written (HandoverError)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise HandoverError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise HandoverError(f"{path}: not a JSON export of dbreview ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != "dbreview-review":
        raise HandoverError(f"{path}: not a JSON export of dbreview (`dbreview export PATH --format json` writes one)")
    if document.get("format_version") not in READABLE_VERSIONS:
        raise HandoverError(f"{path}: written by a newer dbreview (format {document.get('format_version')}); upgrade dbreview")
    _check(document, path)
    return document


def exported_findings(document: dict[str, Any]) -> list[FindingState]:
    try:
        return [_state(f) for f in document.get("findings", [])]
    except (KeyError, TypeError, ValueError) as exc:
        raise HandoverError(f"a finding of the file cannot be read ({type(exc).__name__}: {exc})") from None


def _state(f: dict[str, Any]) -> FindingState:
    return FindingState(
        id=0,
        fingerprint=str(f["fingerprint"]),
        rule_id=str(f["rule_id"]),
        item_id=str(f.get("item_id", "")),
        severity=Severity(f["severity"]),
        original_severity=Severity(f.get("original_severity", f["severity"])),
        message=str(f.get("message", "")),
        path=str(f["path"]),
        start_line=int(f.get("start_line", 0)),
        end_line=int(f.get("end_line", f.get("start_line", 0))),
        anchor=str(f.get("anchor", "")),
        evidence=(),
        code_hash=str(f.get("code_hash", "")),
        detection=Detection(f.get("detection", "new")),
        disposition=Disposition(f.get("disposition", "untriaged")),
        dismiss_reason=f.get("dismiss_reason"),
        notes=tuple(Note(str(n["reviewer"]), None, str(n["text"])) for n in f.get("notes", [])),  # type: ignore[arg-type]
    )


def import_review(review: Review, findings: list[Finding], document: dict[str, Any]) -> Imported:
    """Bring the file's decisions, notes, verdicts and answers into `review`, whose latest scan
    gave `findings`."""
    checklist = document.get("review", {}).get("checklist", {}).get("id", review.checklist.id)
    if checklist != review.checklist.id:
        raise HandoverError(f"the file is a review against the {checklist!r} checklist, this one against {review.checklist.id!r}")
    done = Imported()
    deciders = _deciders(document.get("events", []))
    theirs = exported_findings(document)
    matching = match(findings, theirs)
    matched = set()
    for m in matching.matches:
        if m.saved is None:
            continue
        matched.add(m.saved.fingerprint)
        ours = review.findings.get(m.finding.fingerprint)
        if ours is not None:
            _finding(review, ours, m.saved, deciders, done)
    done.not_here = sum(
        1 for f in theirs if f.fingerprint not in matched and f.disposition != Disposition.UNTRIAGED
    )
    for row in document.get("items", []):
        _verdict(review, row, done)
    for row in document.get("answers", []):
        _answer(review, row, done)
    review.reload()
    return done


def _check(document: dict[str, Any], path: Path) -> None:
    """What of the file will be written, checked before anything is: a file another machine (or
    someone) wrote that would fail half-way, or would store a reviewer's name that does not show as
    itself, is refused whole."""
    try:
        document.get("review", {}).get("checklist", {}).get("id")
        for f in document.get("findings", []):
            _state(f)
        names = [e.get("reviewer") for e in document.get("events", [])]
        names += [n["reviewer"] for f in document.get("findings", []) for n in f.get("notes", [])]
        for key in ("items", "answers"):
            names += [row.get("reviewer") for row in document.get(key, [])]
        for row in document.get("items", []):
            Verdict(row.get("verdict", "unreviewed"))
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise HandoverError(f"{path}: not a JSON export of dbreview ({type(exc).__name__}: {exc}); nothing was imported") from None
    for name in filter(None, names):
        problem = name_problem(str(name))
        if problem:
            raise HandoverError(f"{path}: a reviewer's name in it cannot be used: {problem}; nothing was imported")


def _deciders(events: list[dict[str, Any]]) -> dict[str, tuple[str, str | None]]:
    """fingerprint -> (who last decided it, the note of that decision)."""
    out: dict[str, tuple[str, str | None]] = {}
    for e in events:
        if e.get("kind") in ("disposition", "severity", "undo"):
            out[str(e.get("target"))] = (str(e.get("reviewer") or "imported"), e.get("note"))
    return out


def _decision(f: FindingState) -> tuple:
    return (f.disposition, f.severity if f.disposition == Disposition.DOWNGRADED else None, f.dismiss_reason)


def _said(f: FindingState) -> str:
    if f.disposition == Disposition.DISMISSED:
        return f"dismissed ({f.dismiss_reason})"
    if f.disposition == Disposition.DOWNGRADED:
        return f"downgraded to {f.severity}"
    return str(f.disposition)


def _finding(review: Review, ours: FindingState, theirs: FindingState, deciders, done: Imported) -> None:
    store, rid = review.store, review.info.id
    who, note = deciders.get(theirs.fingerprint, ("imported", None))
    if theirs.disposition != Disposition.UNTRIAGED:
        if ours.disposition == Disposition.UNTRIAGED:
            reason = theirs.dismiss_reason
            if note and reason and note.startswith(reason):
                note = note[len(reason):].lstrip(": ") or None
            if theirs.disposition == Disposition.DOWNGRADED:
                state = ours
                while state.severity != theirs.severity and state.severity.lower() != state.severity:
                    state = store.downgrade(rid, ours.fingerprint, who, note=note)
            else:
                store.set_disposition(rid, ours.fingerprint, theirs.disposition, who, reason=reason, note=note)
            done.decisions += 1
        elif _decision(ours) == _decision(theirs):
            done.same += 1
        else:
            done.conflicts.append(
                f"{ours.rule_id} at {ours.location}: {_said(ours)} here, {_said(theirs)} by {who} in the file"
            )
    have = {(n.reviewer, n.text) for n in ours.notes}
    for n in theirs.notes:
        if n.reviewer not in GENERATED and (n.reviewer, n.text) not in have:
            store.annotate(rid, ours.fingerprint, n.reviewer, n.text)
            done.notes += 1


def _verdict(review: Review, row: dict[str, Any], done: Imported) -> None:
    item_id, verdict = str(row.get("item_id")), Verdict(row.get("verdict", "unreviewed"))
    if verdict == Verdict.UNREVIEWED or item_id not in {i.id for i in review.checklist.items}:
        return
    ours = review.item(item_id)
    notes = str(row.get("notes") or "")
    if ours.verdict == Verdict.UNREVIEWED:
        review.store.set_verdict(review.info.id, item_id, verdict, str(row.get("reviewer") or "imported"), notes)
        done.verdicts += 1
    elif ours.verdict == verdict:
        done.same += 1
    else:
        done.conflicts.append(f"item {item_id}: {ours.verdict} here, {verdict} by {row.get('reviewer')} in the file")


def _answer(review: Review, row: dict[str, Any], done: Imported) -> None:
    question_id, text = str(row.get("question_id")), str(row.get("text") or "")
    if not text.strip() or question_id not in {q.id for q in review.checklist.questions}:
        return
    ours = review.answer(question_id).text
    if not ours.strip():
        review.store.set_answer(review.info.id, question_id, text, str(row.get("reviewer") or "imported"))
        done.answers += 1
    elif ours.strip() == text.strip():
        done.same += 1
    else:
        done.conflicts.append(f"question {question_id}: answered differently here and by {row.get('reviewer')} in the file")

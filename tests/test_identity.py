"""A reviewer's decision follows a finding across re-scans: unchanged, moved, edited, new, absent,
regressed (tui/session/identity.py, and through the store for what must survive on disk)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from analyzers.findings import Finding, Location, ScanResult, Severity, with_identity
from tui.session import ReviewStore
from tui.session.identity import How, match
from tui.session.state import Detection, Disposition, FindingState, state_of

DOB = ("dob = Column(DateTime)",)


def scan(*findings: Finding) -> list[Finding]:
    return with_identity(list(findings))


def naive_dt(path="app/models/patient.py", line=12, anchor="app.models.patient.Patient.dob", code=DOB) -> Finding:
    return Finding(
        rule_id="DT001",
        item_id="2.3",
        severity=Severity.WARNING,
        message="naive DateTime column",
        location=Location(path, line, line + len(code) - 1),
        anchor=anchor,
        evidence=tuple(code),
    )


def saved(*findings: Finding, **changes: object) -> list[FindingState]:
    return [replace(state_of(f, i + 1), **changes) for i, f in enumerate(findings)]


def test_same_fingerprint_is_unchanged_even_when_the_line_moves():
    before = scan(naive_dt(line=12))
    after = scan(naive_dt(line=40))
    m = match(after, saved(*before, detection=Detection.NEW))
    (only,) = m.matches
    assert only.how is How.SAME and only.change == "unchanged"
    assert only.detection == Detection.UNCHANGED and not only.needs_second_look
    assert m.unmatched == ()
    assert (m.diff().unchanged, m.diff().files_changed) == (1, 0)


def test_same_code_elsewhere_is_moved_and_a_decision_on_it_wants_a_second_look():
    before = scan(naive_dt(path="app/models/patient.py", line=12))
    after = scan(naive_dt(path="app/people/patient.py", line=80, anchor="app.people.patient.Patient.dob"))
    assert before[0].fingerprint != after[0].fingerprint
    m = match(after, saved(*before, disposition=Disposition.DISMISSED))
    (only,) = m.matches
    assert only.how is How.MOVED and only.detection == Detection.UPDATED
    assert only.needs_second_look
    diff = m.diff()
    assert (diff.moved, diff.new, diff.resolved, diff.files_changed) == (1, 0, 0, 2)


def test_same_anchor_other_code_is_edited():
    before = scan(naive_dt(path="app/models.py"))
    after = scan(naive_dt(path="app/models/patient.py", code=("dob = Column(DateTime(timezone=False))",)))
    m = match(after, saved(*before, disposition=Disposition.CONFIRMED))
    (only,) = m.matches
    assert only.how is How.EDITED and only.change == "edited" and only.needs_second_look
    assert m.diff().edited == 1


def test_same_fingerprint_other_code_counts_as_edited():
    before = scan(naive_dt())
    after = scan(naive_dt(code=("dob = Column(DateTime, nullable=False)",)))
    (only,) = match(after, saved(*before, disposition=Disposition.CONFIRMED)).matches
    assert only.how is How.SAME and only.change == "edited"
    assert only.detection == Detection.UPDATED and only.needs_second_look


def test_untriaged_findings_carry_no_decision_to_look_at_again():
    before = scan(naive_dt(path="a.py"))
    after = scan(naive_dt(path="b.py"))
    (only,) = match(after, saved(*before)).matches
    assert only.how is How.MOVED and not only.needs_second_look


def test_unknown_finding_is_new_and_a_vanished_one_is_unmatched():
    before = scan(naive_dt(anchor="table:patients.dob"))
    after = scan(naive_dt(anchor="table:visits.at", code=("at = Column(DateTime)", "# visit time")))
    m = match(after, saved(*before))
    assert [x.how for x in m.matches] == [How.NEW]
    assert m.matches[0].detection == Detection.NEW
    assert [s.anchor for s in m.unmatched] == ["table:patients.dob"]
    assert (m.diff().new, m.diff().resolved) == (1, 1)


def test_an_absent_finding_that_comes_back_is_regressed():
    before = scan(naive_dt())
    m = match(scan(naive_dt()), saved(*before, detection=Detection.ABSENT))
    (only,) = m.matches
    assert only.change == "regressed" and only.detection == Detection.REGRESSED
    assert (m.diff().regressed, m.diff().unchanged) == (1, 0)
    # already absent and still gone: not resolved a second time
    assert match([], saved(*before, detection=Detection.ABSENT)).diff().resolved == 0


def test_an_exact_match_wins_over_a_looser_one_found_earlier():
    """A (first in order) has the same code as saved S, but B has S's fingerprint: B gets S."""
    s = scan(naive_dt(path="app/a.py", anchor="x"))
    a = naive_dt(path="app/0.py", anchor="y")  # same code hash as s, sorts first
    b = naive_dt(path="app/a.py", anchor="x", code=("dob = Column(DateTime(timezone=False))",))
    new = scan(a, b)
    assert new[0].location.path == "app/0.py"
    m = match(new, saved(*s))
    assert [(x.finding.location.path, x.how) for x in m.matches] == [("app/0.py", How.NEW), ("app/a.py", How.SAME)]


def test_findings_without_evidence_never_match_as_moved():
    before = scan(naive_dt(path="a.py", anchor="table:a", code=()))
    after = scan(naive_dt(path="b.py", anchor="table:b", code=()))
    assert [x.how for x in match(after, saved(*before)).matches] == [How.NEW]


def test_among_equal_candidates_the_same_file_and_nearest_line_win():
    before = scan(
        naive_dt(path="a.py", line=10, anchor="p"),
        naive_dt(path="b.py", line=90, anchor="q"),
        naive_dt(path="b.py", line=20, anchor="r"),
    )
    after = scan(naive_dt(path="b.py", line=25, anchor="s"))
    (only,) = match(after, saved(*before)).matches
    assert (only.how, only.saved.anchor) == (How.MOVED, "r")


# -- through the store: what a reviewer wrote survives the finding's absence ----------------------


def test_notes_and_decision_on_an_absent_finding_survive_and_return_with_it(tmp_path):
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with ReviewStore.open(tmp_path / "r.sqlite3", clock=lambda: when) as store:
        review = store.start_review("/repo", "database", "alice")
        found = scan(naive_dt(), naive_dt(anchor="table:visits", code=("x",)))
        store.apply_scan(review.id, ScanResult("/repo", found), "alice")
        fp = found[0].fingerprint
        store.annotate(review.id, fp, "alice", "UTC is assumed by the ORM")
        store.set_disposition(review.id, fp, Disposition.DISMISSED, "alice", reason="accepted risk")

        gone = store.apply_scan(review.id, ScanResult("/repo", found[1:]), "bob")
        assert gone.resolved == 1
        absent = store.finding(review.id, fp)
        assert absent.detection == Detection.ABSENT and not absent.is_open
        assert absent.disposition == Disposition.DISMISSED and absent.dismiss_reason == "accepted risk"
        assert [n.text for n in absent.notes] == ["UTC is assumed by the ORM"]

        back = store.apply_scan(review.id, ScanResult("/repo", found), "bob")
        assert (back.regressed, back.unchanged) == (1, 1)
        again = store.finding(review.id, fp)
        assert again.detection == Detection.REGRESSED and again.disposition == Disposition.DISMISSED
        assert [n.text for n in again.notes] == ["UTC is assumed by the ORM"]


def test_a_moved_finding_keeps_its_decision_notes_and_history_under_its_new_fingerprint(tmp_path):
    with ReviewStore.open(tmp_path / "r.sqlite3") as store:
        review = store.start_review("/repo", "database", "alice")
        (old,) = scan(naive_dt(path="app/models.py", line=3))
        store.apply_scan(review.id, ScanResult("/repo", [old]), "alice")
        store.set_disposition(review.id, old.fingerprint, Disposition.CONFIRMED, "alice")
        store.annotate(review.id, old.fingerprint, "alice", "fix with timezone=True")

        (new,) = scan(naive_dt(path="app/models/patient.py", line=30))
        diff = store.apply_scan(review.id, ScanResult("/repo", [new]), "alice")
        assert (diff.moved, diff.new, diff.resolved) == (1, 0, 0)
        moved = store.finding(review.id, new.fingerprint)
        assert moved.detection == Detection.UPDATED and moved.needs_second_look
        assert moved.disposition == Disposition.CONFIRMED
        assert (moved.path, moved.start_line) == ("app/models/patient.py", 30)
        assert [n.text for n in moved.notes] == ["fix with timezone=True"]
        assert [e.kind for e in store.events(review.id, new.fingerprint)] == ["disposition", "note"]

        looked = store.set_disposition(review.id, new.fingerprint, Disposition.CONFIRMED, "alice")
        assert not looked.needs_second_look


def _per_table(table: str, line: int) -> Finding:
    return naive_dt(path="app/models.py", line=line, anchor=f"table:{table}:rls", code=(f"class {table.title()}(Base):",))


def _one_for_all(*tables: str) -> Finding:
    """What replaced the per-table findings: one finding for the fact, on the first table's line."""
    return replace(
        _per_table(tables[0], 10), anchor="tenancy:no-rls", covers=tuple(f"DT001 table:{t}:rls" for t in tables)
    )


def test_a_finding_that_replaced_several_takes_all_of_them_even_on_one_of_their_lines():
    before = scan(_per_table("projects", 10), _per_table("tickets", 20), _per_table("notes", 30))
    after = scan(_one_for_all("projects", "tickets", "notes"))
    m = match(after, saved(*before, disposition=Disposition.CONFIRMED))
    (only,) = m.matches
    assert only.how is How.MERGED and only.agreed and only.needs_second_look
    assert {s.anchor for s in (only.saved, *only.absorbed)} == {"table:projects:rls", "table:tickets:rls", "table:notes:rls"}
    assert m.unmatched == ()
    diff = m.diff()
    assert (diff.resolved, diff.new, diff.merged) == (0, 0, 2)


def test_a_covered_finding_that_still_exists_is_left_to_itself():
    before = scan(_per_table("projects", 10), _per_table("tickets", 20))
    after = scan(_one_for_all("projects", "tickets"), _per_table("tickets", 20))
    m = match(after, saved(*before))
    merged, kept = m.matches
    assert merged.how is How.MERGED and merged.saved.anchor == "table:projects:rls" and merged.absorbed == ()
    assert kept.how is How.SAME


def test_a_merge_keeps_an_agreed_decision_moves_notes_and_records_it(tmp_path):
    with ReviewStore.open(tmp_path / "r.sqlite3") as store:
        review = store.start_review("/repo", "database", "alice")
        before = scan(_per_table("projects", 10), _per_table("tickets", 20))
        store.apply_scan(review.id, ScanResult("/repo", before), "alice")
        store.bulk_set_disposition(review.id, [f.fingerprint for f in before], Disposition.DISMISSED, "alice",
                                   reason="won't fix", note="RLS comes in Q1")
        store.annotate(review.id, before[1].fingerprint, "bob", "tickets first")

        (after,) = scan(_one_for_all("projects", "tickets"))
        diff = store.apply_scan(review.id, ScanResult("/repo", [after]), "bob")
        assert (diff.merged, diff.resolved, diff.new) == (1, 0, 0)
        (state,) = store.snapshot(review.id).findings
        assert state.fingerprint == after.fingerprint and state.anchor == "tenancy:no-rls"
        assert (state.disposition, state.dismiss_reason) == (Disposition.DISMISSED, "won't fix")
        assert state.needs_second_look
        assert [n.text for n in state.notes] == ["tickets first"]
        kinds = [e.kind for e in store.events(review.id)]
        assert kinds.count("merged") == 1


def test_a_merge_of_differing_decisions_asks_again_and_says_what_they_were(tmp_path):
    with ReviewStore.open(tmp_path / "r.sqlite3") as store:
        review = store.start_review("/repo", "database", "alice")
        before = scan(_per_table("projects", 10), _per_table("tickets", 20))
        store.apply_scan(review.id, ScanResult("/repo", before), "alice")
        store.set_disposition(review.id, before[0].fingerprint, Disposition.CONFIRMED, "alice")
        store.set_disposition(review.id, before[1].fingerprint, Disposition.DISMISSED, "bob", reason="false positive")

        (after,) = scan(_one_for_all("projects", "tickets"))
        store.apply_scan(review.id, ScanResult("/repo", [after]), "alice")
        (state,) = store.snapshot(review.id).findings
        assert state.disposition == Disposition.UNTRIAGED and not state.needs_second_look
        (note,) = state.notes
        assert note.reviewer == "dbreview"
        assert "app/models.py:10: confirmed" in note.text and "app/models.py:20: dismissed (false positive)" in note.text


def test_related_locations_are_kept_with_the_finding(tmp_path):
    from analyzers.findings import Related

    also = (Related(Location("app/models.py", 20, 20), "tickets"), Related(Location("app/b.py", 3, 4), ""))
    with ReviewStore.open(tmp_path / "r.sqlite3") as store:
        review = store.start_review("/repo", "database", "alice")
        (f,) = scan(replace(_one_for_all("projects", "tickets"), related=also))
        store.apply_scan(review.id, ScanResult("/repo", [f]), "alice")
        assert store.snapshot(review.id).findings[0].related == also

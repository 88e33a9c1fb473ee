"""TEN016 (issue 8, checklist 6.1): a query of a tenant's table scoped to the tenant only when an optional argument
is given, on a fixture of our own (tests/fixtures/tenant_scoping): each finding pinned with its severity, each place
that is right on purpose silent."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzers.advice import advice
from analyzers.engine import scan
from tests.expected_findings import assert_exactly

FIXTURE = Path(__file__).parent / "fixtures" / "tenant_scoping"
P = "app/projects.py"

# Silent on purpose: a None refused before the query (required_after_all), an ownership check on the column (owned),
# an else branch that scopes the other path (shared_or_own), labels (the project reads them unscoped: no convention),
# the admin's report (app/admin/), and the functions that filter on every path; in app/notes.py, the tenant handed on
# after the query to a filter (list_notes_filtered_after) or before it on every path (list_notes_checked_first); a
# function named for every organization's rows (get_all_active); and the functions every call of which passes the
# tenant (search_projects, fetch_one called as a method with it by position, the closure `load` in rename_project).
EXPECTED = {
    ("app/notes.py:37", "function:app/notes.py:list_notes:notes:tenant-optional",
     "`list_notes` checks the caller's tenant (`actor`, handed to `check_project` at line 38) only when `project_id` is "
     "given (line 37), and never filters Note (table notes) by organization_id; without it the query built at line 36 "
     "is not scoped to a tenant: the one call of `list_notes` leaves it out (app/views.py:21). The project scopes its "
     "reads of notes: 4 of 7 functions that read it filter by Note.organization_id. Filter by Note.organization_id on "
     "every path, or refuse a missing `project_id`."),
    (f"{P}:23", f"function:{P}:find_by_name:projects:tenant-optional",
     "`find_by_name` filters Project (table projects) by organization_id only when `organization_id` is given (line "
     "23); without it the query built at line 22 is not scoped to a tenant: the one call of `find_by_name` leaves it "
     "out (app/views.py:7). The project scopes its reads of projects: 15 of 15 functions that read it filter by "
     "Project.organization_id."),
    (f"{P}:96", f"function:{P}:by_name_legacy:projects:tenant-optional",  # filter_by: the model the query is built from
     "`by_name_legacy` filters Project (table projects) by organization_id only when `organization_id` is given (line "
     "96); without it the query built at line 95 is not scoped to a tenant: the calls of `by_name_legacy` that leave it "
     "out are in admin code or background jobs (app/jobs/reindex.py:7), which may read every tenant on purpose"),
    (f"{P}:105", f"function:{P}:notes_in:projects:tenant-optional",  # the tenant filter on a joined table
     "`notes_in` filters Project (table projects) by organization_id only when `organization_id` is given (line 105); "
     "without it the query of Note built at line 104 is not scoped to a tenant"),
    ("app/repository.py:17", "function:app/repository.py:lookup_by_name:projects:tenant-optional",  # two functions of the name
     "dbreview does not tell the calls of `lookup_by_name` from those of other functions of that name"),
    (f"{P}:120", f"function:{P}:locate:projects:tenant-optional",  # a one-word name: a library's methods have it too
     "dbreview does not tell the calls of `locate` from those of other functions of that name"),
}


@pytest.fixture(scope="module")
def findings():
    return [f for f in scan(FIXTURE).result.findings if f.rule_id == "TEN016"]


def test_each_optional_tenant_filter_is_found_and_nothing_else(findings) -> None:
    assert_exactly(findings, EXPECTED)
    for f in findings:
        assert f.item_id == "6.1"


def test_a_caller_that_leaves_the_tenant_out_makes_it_a_warning(findings) -> None:
    severity = {f.anchor.split(":")[2]: f.severity.value for f in findings}
    assert severity == {"find_by_name": "warning", "list_notes": "warning",
                        "by_name_legacy": "info", "notes_in": "info", "lookup_by_name": "info",
                        "locate": "info"}
    find = next(f for f in findings if ":find_by_name:" in f.anchor)
    assert [(r.location.path, r.location.start_line, r.note) for r in find.related] == [
        (P, 22, "the query, unscoped on the other path"), ("app/views.py", 7, "called without `organization_id`")]


def test_the_advice_names_the_function_the_argument_and_the_column(findings) -> None:
    find = next(f for f in findings if ":find_by_name:" in f.anchor)
    assert advice(find.rule_id, find.anchor, find.message).startswith(
        "In `find_by_name`, make `organization_id` a required argument and filter by organization_id on every path")


def test_a_table_under_forced_row_level_security_is_scoped_by_the_database(tmp_path: Path) -> None:
    """RLS enabled, forced and with a policy on notes: the optional filter of list_notes leaves no tenant's rows
    open (the database refuses them), so only the findings on projects stay."""
    import shutil

    root = tmp_path / "repo"
    shutil.copytree(FIXTURE, root)
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    (versions / "0001_rls.py").write_text(
        'from alembic import op\nrevision = "0001"\ndown_revision = None\n\ndef upgrade():\n'
        '    op.execute("ALTER TABLE notes ENABLE ROW LEVEL SECURITY")\n'
        '    op.execute("ALTER TABLE notes FORCE ROW LEVEL SECURITY")\n'
        '    op.execute("CREATE POLICY notes_tenant ON notes USING '
        '(organization_id = current_setting(\'app.org_id\')::int)")\n\ndef downgrade():\n    pass\n')
    found = [f for f in scan(root).result.findings if f.rule_id == "TEN016"]
    assert found and not [f for f in found if f.location.path == "app/notes.py"]

"""CFG024 (issue 8, checklist 1.5): "the latest" row taken from a descending sort on a nullable column, which
PostgreSQL heads with the NULLs, on a fixture of our own (tests/fixtures/null_ordering): each finding pinned, and the
shapes that are not this defect silent (NULLS LAST said, NULL filtered out or compared, a key or a NOT NULL column, a query pinned to one row by a key, a key sorted before, a
column the migrations make NOT NULL though the model allows NULL, every row read, a query handed back, another
class of the same name, raw SQL with NULLS LAST, a condition on the column or no LIMIT 1)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from analyzers.advice import advice
from analyzers.engine import scan
from tests.expected_findings import assert_exactly

FIXTURE = Path(__file__).parent / "fixtures" / "null_ordering"
H = "function:app/harvests.py"
FIRST = "PostgreSQL sorts NULL first in a descending order"

EXPECTED = {
    ("app/harvests.py:10", f"{H}:latest_harvest:harvests.picked_on",
     "`Harvest.picked_on.desc()` sorts by `harvests.picked_on`, which may be NULL (as the migrations build it), and "
     "the query takes the top row with `.first()`: " + FIRST),
    ("app/harvests.py:15", f"{H}:last_batch:harvests.batch_number",
     "`desc(Harvest.batch_number)` sorts by `harvests.batch_number`, which may be NULL (as the migrations build it), "
     "and the query takes the top row with `.limit(1)`"),
    ("app/harvests.py:21", f"{H}:<module>:harvests.picked_on", "takes the top row of each group with DISTINCT ON"),
    ("app/harvests.py:27", f"{H}:newest_through_name:harvests.batch_number",
     "`models.Harvest.batch_number.desc()` sorts by `harvests.batch_number`"),
    ("app/harvests.py:33", f"{H}:newest_alias:harvests.picked_on", "`h.picked_on.desc()` sorts by `harvests.picked_on`"),
    ("app/harvests.py:37", "column:harvests.logged_at:defaulted",
     "func.now()`: rows get a value unless the code writes NULL there, which dbreview did not follow) (the same in 1 "
     "other query sorting by `harvests.logged_at`, listed)"),
    ("app/harvests.py:41", f"{H}:newest_orchard_sql:orchards.planted_on",
     "`planted_on DESC` sorts by `orchards.planted_on`, which may be NULL (as the migrations build it), and the SQL "
     "takes the top row with LIMIT 1"),
    ("app/harvests.py:45", f"{H}:latest_season_sql:harvests.season",
     "`h.season DESC` sorts by `harvests.season`, which may be NULL (as the migrations build it), and the SQL takes "
     "the top row of each group with DISTINCT ON"),
    ("app/harvests.py:52", f"{H}:latest_of_orchard:harvests.picked_on", "with `.first()`"),
    ("app/harvests.py:58", f"{H}:latest_per_orchard_ranked:harvests.picked_on",
     "takes the top row ranked first by `row_number()` (`rank == 1`)"),
    ("app/harvests.py:65", f"{H}:last_sold:harvests.sold_at",
     "(the query also filters on `Harvest.status`: if that state implies the column is set, no NULL reaches the sort; "
     "dbreview cannot tell)"),
    ("app/harvests.py:70", f"{H}:current_or_last:harvests.revoked_at",
     "(NULL in `revoked_at` may mean the row is still in force"),
    ("app/harvests.py:75", f"{H}:last_sold_not_spoiled:harvests.sold_at", "comes back as the latest/highest; write"),
    ("app/cli/report.py:5", "function:app/cli/report.py:main:harvests.picked_on", FIRST),
}


@pytest.fixture(scope="module")
def findings():
    return [f for f in scan(FIXTURE).result.findings if f.rule_id == "CFG024"]


def test_each_latest_row_from_a_nulls_first_sort_is_found_and_nothing_else(findings) -> None:
    assert_exactly(findings, EXPECTED)
    assert all(f.item_id == "1.5" for f in findings)


def test_info_everywhere_saying_what_dbreview_did_not_follow(findings) -> None:
    """Judged: most such sorts are harmless where every writer sets the column, which dbreview does not follow."""
    assert {f.severity.value for f in findings} == {"info"}
    unfollowed = {f"{f.location.path}:{f.location.start_line}" for f in findings
                  if "whether any code leaves it NULL, dbreview did not follow" in f.message}
    assert "app/harvests.py:10" in unfollowed and "app/harvests.py:37" not in unfollowed  # a default says its own


def test_a_defaulted_column_sorted_in_several_queries_is_one_info(findings) -> None:
    f = next(f for f in findings if f.anchor == "column:harvests.logged_at:defaulted")
    assert [(r.location.path, r.location.start_line) for r in f.related] == [("app/harvests.py", 80)]
    assert len(f.covers) == 2


def test_the_advice_says_nulls_last(findings) -> None:
    f = next(f for f in findings if f.anchor.endswith(":latest_harvest:harvests.picked_on"))
    text = advice(f.rule_id, f.anchor, f.message)
    assert "nulls_last()" in text and "`harvests.picked_on`" in text


def _copy(tmp_path: Path, compose: str | None) -> Path:
    target = tmp_path / "t"
    shutil.copytree(FIXTURE, target)
    if compose is None:
        (target / "docker-compose.yml").unlink()
    else:
        (target / "docker-compose.yml").write_text(compose, encoding="utf-8")
    return target


def test_unknown_database_lowers_every_finding_to_info_and_says_so(tmp_path: Path) -> None:
    found = [f for f in scan(_copy(tmp_path, None)).result.findings if f.rule_id == "CFG024"]
    assert len(found) == len(EXPECTED)
    assert {f.severity.value for f in found} == {"info"}
    assert all("could not tell which database the application runs on" in f.message for f in found)


def test_nothing_on_mysql(tmp_path: Path) -> None:
    target = _copy(tmp_path, "services:\n  db:\n    image: mysql:8\n")
    assert not [f for f in scan(target).result.findings if f.rule_id == "CFG024"]

"""PERF004: rows counted by loading them (len(...all())). A query that compares a unique key loads one row at most,
and a function nothing calls runs for nobody: both info, saying why. Each case a small repository of our own."""

from __future__ import annotations

from analyzers.findings import Severity
from analyzers.rules.examples_common import HEADER
from tests.test_precision import found

_MODELS = HEADER + '''
class Domain(Base):
    __tablename__ = "domains"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    zone: Mapped[str]
'''

_CODE = '''
from app.models import Domain

def domain_exists(session, name):
    found = session.query(Domain).filter(Domain.{column} == name)
    return len(found.all()) > 0
'''

_ROUTE = '''
from app.domains import domain_exists

@router.get("/domains/{name}/exists")
def exists(name: str, session=Depends(get_session)):
    return domain_exists(session, name)
'''


def _files(column: str, *, called: bool = True) -> dict[str, str]:
    files = {"app/models.py": _MODELS, "app/domains.py": _CODE.format(column=column)}
    return {**files, "app/routes.py": _ROUTE} if called else files


def test_a_count_over_rows_that_grow_is_a_warning(tmp_path):
    (f,) = found(tmp_path, _files("zone"), "PERF004")
    assert (f.severity, f.location.path, f.location.start_line) == (Severity.WARNING, "app/domains.py", 6)
    assert f.anchor == "function:app/domains.py:domain_exists:len-all"
    assert "every matching row is loaded to be counted" in f.message


def test_a_query_pinned_to_a_unique_key_loads_one_row_at_most(tmp_path):
    for column, key in (("name", "name"), ("id", "id")):
        (f,) = found(tmp_path, _files(column), "PERF004")
        assert (f.severity, f.anchor) == (Severity.INFO, "function:app/domains.py:domain_exists:len-all")
        assert f"compares the unique key of domains ({key}) with ==, so it loads one row at most" in f.message


def test_a_count_in_a_function_nothing_calls_is_info_that_says_so(tmp_path):
    (f,) = found(tmp_path, _files("zone", called=False), "PERF004")
    assert f.severity == Severity.INFO
    assert f.message.endswith("(it is in domain_exists(), which dbreview found no call of in the application's code "
                              "outside tests: nothing runs it yet)")

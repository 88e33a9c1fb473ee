"""CFG009 (a sort column named by a value) follows a parameter past its module: to the calls of its function (a
method's, by its name) in the project's other modules, through a helper of the caller's module that builds the
value from a literal list, a couple of calls deep. Where every caller passes a literal or an item of a literal
list or dict, no finding; where one passes what cannot be followed, the finding says what it says today."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.test_precision import found
from tests.test_secrets_and_time import SHOP

STORE = """
from dataclasses import dataclass
from sqlalchemy import select
from app.models import Shelf


@dataclass
class Sorting:
    field: str
    ascending: bool


class Store:
    def shelves_page(self, session, start, sorting: list[Sorting], *, text=None):
        keys = [getattr(Shelf, s.field) if s.ascending else getattr(Shelf, s.field).desc() for s in sorting]
        return session.scalars(select(Shelf).order_by(*keys).offset(start)).all()
"""

PAGES = """
from app.store import Sorting, Store

store = Store()
COLUMNS = {"0": "label", "1": "id"}


def _sorting(params, names):
    sorting = []
    for i in range(3):
        name = names[int(params.get(f"order[{i}]", 0))]
        if name:
            sorting.append(Sorting(field=name, ascending=params.get(f"dir[{i}]") == "asc"))
    return sorting


def shelves_table(session, params):
    return store.shelves_page(session, 0, _sorting(params, ["label", None, "id"]))


def shelves_by_column(session, params):
    return store.shelves_page(session, 0, [Sorting(COLUMNS[params["column"]], True)])
"""

API = """
from app.store import Sorting, Store


def first_shelves(session):
    return Store().shelves_page(session, 0, sorting=[Sorting("label", True)])
"""


def _files(pages: str = PAGES, api: str = API) -> dict[str, str]:
    return {"app/models.py": SHOP, "app/store.py": STORE, "app/pages.py": pages, "app/api.py": api}


def test_every_caller_in_other_modules_picks_the_name_from_literals(tmp_path):
    assert found(tmp_path, _files(), "CFG009") == []


def test_a_caller_that_passes_a_name_not_followed_keeps_the_finding(tmp_path):
    given = PAGES + """

def shelves_sorted_by(session, params):
    return store.shelves_page(session, 0, [Sorting(params["sort"], True)])
"""
    (f,) = found(tmp_path, _files(pages=given), "CFG009")
    assert f.anchor == "sort:app/store.py:shelves_page:s.field" and f.severity == Severity.INFO
    assert ("and where that name comes from was not followed (`sorting` is a parameter of `shelves_page`, whose "
            "callers are not in this module)") in f.message


def test_a_helper_whose_own_callers_pass_what_is_not_followed_keeps_the_finding(tmp_path):
    given = PAGES.replace('_sorting(params, ["label", None, "id"])', '_sorting(params, params["names"])')
    (f,) = found(tmp_path, _files(pages=given), "CFG009")
    assert f.anchor == "sort:app/store.py:shelves_page:s.field"


def test_no_caller_found_keeps_the_finding(tmp_path):
    (f,) = found(tmp_path, {"app/models.py": SHOP, "app/store.py": STORE}, "CFG009")
    assert "whose callers are not in this module" in f.message

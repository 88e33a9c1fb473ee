"""TEN017 (issue 8, checklist 6.1): a route handler that loads a tenant's row by the id in its path alone, in a project
that scopes its other reads of the table; each case a small repository of our own."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.test_precision import HEADER, found

MODELS = HEADER + """
class Vault(Base):
    __tablename__ = "vaults"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(Integer, index=True)
    name: Mapped[str] = mapped_column(String(80))

    @classmethod
    def from_id(cls, session, vault_id):
        return session.query(Vault).filter(Vault.id == vault_id).first()
"""

# The project's way: its reads of vaults filter by the tenant.
SCOPED = """
from fastapi import APIRouter, Depends
from app.models import Vault

router = APIRouter()


@router.get("/vaults")
def list_vaults(session, organisation=Depends(get_user_organisation)):
    return session.query(Vault).filter(Vault.organisation_id == organisation.id).all()


@router.get("/vaults/by-name/{name}")
def vault_by_name(session, name: str, organisation=Depends(get_user_organisation)):
    return session.query(Vault).filter(Vault.name == name, Vault.organisation_id == organisation.id).first()
"""


def files(route: str) -> dict[str, str]:
    return {"app/__init__.py": "", "app/models.py": MODELS, "app/routes.py": SCOPED + route}


def test_a_handler_that_loads_a_tenants_row_by_its_path_id_alone_is_a_warning(tmp_path):
    """SuperAGI: `delete_vector_db(vector_db_id)` and `get_user_knowledge_details(knowledge_id)` load by the id in the
    path with no organisation filter, while the project's other reads of those tables filter by organisation_id."""
    route = '\n\n@router.get("/vaults/{vault_id}")\ndef get_vault(session, vault_id: int):\n    return session.get(Vault, vault_id)\n'
    (f,) = found(tmp_path, files(route), "TEN017")
    assert (f.severity, f.location.path, f.location.start_line) == (Severity.WARNING, "app/routes.py", 20)
    assert f.anchor == "function:app/routes.py:get_vault:vaults:key-alone"
    assert f.message == (
        "`get_vault` (`@router.get('/vaults/{vault_id}')`) loads Vault (table vaults) by `vault_id` from the request "
        "alone (line 20): nothing in it filters by organisation_id or compares the row's organisation_id with the "
        "caller's, while 2 of the 3 functions that read vaults filter by Vault.organisation_id. A caller who sends "
        "another tenant's id reaches that tenant's row, unless a dependency or middleware dbreview does not follow "
        "checks it")


def test_a_load_through_a_function_of_the_project_is_followed_one_call_deep(tmp_path):
    route = ('\n\n@router.post("/vaults/delete/{vault_id}")\ndef delete_vault(session, vault_id: int):\n'
             '    vault = Vault.from_id(session, vault_id)\n    session.delete(vault)\n')
    (f,) = found(tmp_path, files(route), "TEN017")
    assert "by `vault_id` from the request alone (line 20 through `from_id` (app/models.py:19))" in f.message
    assert [r.location.start_line for r in f.related] == [19]


def test_a_handler_that_checks_the_row_or_names_the_caller_is_left_alone(tmp_path):
    checked = ('\n\n@router.get("/vaults/{vault_id}")\ndef get_vault(session, vault_id: int, organisation=Depends(get_user_organisation)):\n'
               '    vault = session.get(Vault, vault_id)\n    if vault.organisation_id != organisation.id:\n'
               '        raise HTTPException(404)\n    return vault\n')
    assert found(tmp_path, files(checked), "TEN017") == []
    admin = '\n\n@router.get("/admin/vaults/{vault_id}")\ndef get_vault(session, vault_id: int):\n    return session.get(Vault, vault_id)\n'
    assert found(tmp_path / "admin", files(admin), "TEN017") == []


def test_a_project_that_does_not_scope_its_reads_of_the_table_is_not_judged(tmp_path):
    """notifications-api: services carry organisation_id, but 2 of 30 reads filter by it; the service is the unit
    there, and a lookup by its id is the design."""
    route = '\n\n@router.get("/vaults/{vault_id}")\ndef get_vault(session, vault_id: int):\n    return session.get(Vault, vault_id)\n'
    loose = files(route)
    loose["app/routes.py"] = loose["app/routes.py"].replace(", Vault.organisation_id == organisation.id", "")
    assert found(tmp_path, loose, "TEN017") == []


def test_a_module_that_spells_no_decorator_and_no_load_is_not_parsed(tmp_path, monkeypatch):
    """TEN017 reads every application module; one that cannot define a route handler (no `@`) nor a loader (no `get`,
    `filter`, `where`), or has no `def` at all, is not parsed for it, and the finding is the same."""
    from analyzers.rules import s06_app_scoping

    parsed = []
    parse = s06_app_scoping.python_tree
    monkeypatch.setattr(s06_app_scoping, "python_tree", lambda facts, path: parsed.append(path) or parse(facts, path))
    route = '\n\n@router.get("/vaults/{vault_id}")\ndef get_vault(session, vault_id: int):\n    return session.get(Vault, vault_id)\n'
    more = {"app/schemas.py": "class VaultIn:\n    name: str\n", "app/sums.py": "def add(a, b):\n    return a + b\n"}
    (f,) = found(tmp_path, {**files(route), **more}, "TEN017")
    assert f.location.start_line == 20
    assert "app/routes.py" in parsed and "app/models.py" in parsed
    assert "app/schemas.py" not in parsed and "app/sums.py" not in parsed


def test_functions_and_own_nodes_are_those_of_a_walk_of_every_node():
    """functions_in enters statements only and own_nodes takes walk.children: the same nodes, in the same order, as a
    recursive walk of every child (functions under if/else, try/except/finally, with, loops, match cases, classes,
    other functions; lambdas and comprehensions, which are not functions)."""
    import ast

    from analyzers.rules.s06_app_scoping import functions_in, own_nodes

    source = '''
@decorate(lambda x: [y for y in x])
def first(a, b=lambda: 1):
    def inner():
        class Local:
            def method(self):
                return [lambda: z for z in range(3)]
        return Local
    try:
        pass
    except ValueError:
        def handler(): pass
    else:
        async def other(): pass
    finally:
        def last(): pass
    return inner

if flag:
    def chosen(): pass
else:
    with context() as c:
        for i in c:
            def looped(): pass
        else:
            while True:
                def waited(): pass
match value:
    case [1, *rest]:
        def matched(): pass
    case _:
        class Fallback:
            async def run(self): await go(lambda q: q)
'''
    tree = ast.parse(source)

    def every(node, outer):  # the walk it replaces
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield child, outer
                yield from every(child, (*outer, child))
            else:
                yield from every(child, outer)

    def every_own(func):
        todo = list(ast.iter_child_nodes(func))
        while todo:
            node = todo.pop()
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                yield node
                todo.extend(ast.iter_child_nodes(node))

    expected = list(every(tree, ()))
    assert [f.name for f, _ in expected] == ["first", "inner", "method", "handler", "other", "last", "chosen", "looped",
                                              "waited", "matched", "run"]
    assert list(functions_in(tree, ())) == expected
    assert all(list(own_nodes(f)) == list(every_own(f)) for f, _ in expected)

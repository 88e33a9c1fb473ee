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

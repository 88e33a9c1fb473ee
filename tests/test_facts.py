"""The facts layer reads each shape of real code right: tables and columns as the database will see
them, across mixins and modules, and the schema the migrations build. The fixtures under
tests/fixtures/ are small projects written for these tests, one per shape met on real backends."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzers.engine import scan
from analyzers.examples import facts_from_sources
from analyzers.rules.schema import rls_by_table

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def flask_legacy():
    return scan(FIXTURES / "flask_legacy")


@pytest.fixture(scope="module")
def sqlmodel_app():
    return scan(FIXTURES / "sqlmodel_app")


@pytest.fixture(scope="module")
def typed_mixins():
    return scan(FIXTURES / "typed_mixins")


@pytest.fixture(scope="module")
def migration_graph():
    return scan(FIXTURES / "migration_graph")


def test_fixtures_scan_without_errors(flask_legacy, sqlmodel_app, typed_mixins, migration_graph):
    for s in (flask_legacy, sqlmodel_app, typed_mixins, migration_graph):
        assert s.result.errors == [], [(e.path, e.message) for e in s.result.errors]


# -- Flask-SQLAlchemy, legacy Column style, one models module -------------------------------------


def test_flask_models_are_tables_with_their_columns(flask_legacy):
    tables = flask_legacy.facts.tables
    assert set(tables) == {"accounts", "tags", "orders", "order_tags"}  # Staff: single-table, no table of its own
    accounts = tables["accounts"]
    assert accounts.class_name == "Account" and accounts.span.path == "shop/models.py"
    email = accounts.column("email")
    assert (email.type_name, email.type_args["length"], email.unique, email.is_nullable) == ("String", "255", True, False)
    assert accounts.column("id").primary_key and not accounts.column("id").is_nullable
    assert accounts.column("password").is_nullable  # db.Column without nullable=False
    created = accounts.column("created")
    assert created.timezone is False and created.default == "datetime.datetime.utcnow"


def test_flask_table_args_relationships_and_hooks(flask_legacy):
    orders = flask_legacy.facts.tables["orders"]
    fk = orders.column("account_id").foreign_keys[0]
    assert (fk.target, fk.table, fk.ondelete) == ("accounts.id", "accounts", "RESTRICT")
    assert orders.column("placed_at").timezone is True and orders.column("placed_at").server_default == "db.func.now()"
    (ix,) = orders.indexes
    assert (ix.name, ix.columns, ix.where, ix.unique) == ("ix_orders_open", ("account_id",), "closed_at IS NULL", False)
    kinds = {(c.kind, c.name, c.columns, c.expression) for c in orders.constraints}
    assert ("unique", "uq_orders_account_reference", ("account_id", "reference"), None) in kinds
    assert ("check", "ck_orders_total", (), "total_cents >= 0") in kinds
    rels = {r.attr: r for r in orders.relationships}
    assert rels["tags"].secondary == "order_tags" and rels["tags"].lazy == "dynamic"
    assert rels["account"].target == "Account"
    account = next(c for m in flask_legacy.facts.modules for c in m.classes if c.name == "Account")
    assert account.validated == ["password"] and account.polymorphic_on == "kind" and account.hashes_passwords


def test_flask_association_table(flask_legacy):
    tags = flask_legacy.facts.tables["order_tags"]
    assert tags.class_name is None
    assert [c.name for c in tags.columns.values() if c.primary_key] == ["order_id", "tag_id"]
    assert {fk.ondelete for c in tags.columns.values() for fk in c.foreign_keys} == {"CASCADE"}


def test_batch_alter_table_and_keyword_ops_are_replayed(flask_legacy):
    facts = flask_legacy.facts
    orders = facts.migration_tables["orders"]
    assert "closed_at" in orders.columns and orders.columns["closed_at"].timezone is True
    names = {i.name for i in orders.indexes}
    assert names == {"ix_orders_open"}  # op.f("ix_orders_reference") created, then dropped in batch mode
    assert next(i for i in orders.indexes if i.name == "ix_orders_open").where == "closed_at IS NULL"
    assert {c.name for c in orders.constraints if c.kind in ("unique", "check")} == {"uq_orders_account_reference", "ck_orders_total"}
    status = orders.columns["status"]  # op.alter_column(table_name=..., column_name=..., nullable=False)
    assert status.nullable is False and status.server_default == "'OPEN'"
    accounts = facts.migration_tables["accounts"]
    # the unnamed UniqueConstraint("email") is PostgreSQL's accounts_email_key: dropped, then made again by name
    assert [(c.name, c.columns) for c in accounts.constraints if c.kind == "unique"] == [("uq_accounts_email", ("email",))]
    assert "must_change_password" in accounts.columns


# -- SQLModel ---------------------------------------------------------------------------------------


def test_sqlmodel_tables_take_fields_from_their_bases(sqlmodel_app):
    tables = sqlmodel_app.facts.tables
    assert set(tables) == {"team", "hero", "hero_profiles"}  # TeamPublic is no table
    team = tables["team"]
    assert set(team.columns) == {"name", "is_active", "motto", "id", "created_at"}  # `registry` is a ClassVar
    assert team.column("is_active").default == "True" and not team.column("is_active").is_nullable
    assert team.column("motto").is_nullable and team.column("name").index
    assert team.column("created_at").timezone is True  # sa_type=DateTime(timezone=True)
    assert team.column("id").primary_key and team.column("id").default == "uuid.uuid4"


def test_sqlmodel_fields_foreign_keys_and_relationships(sqlmodel_app):
    hero = sqlmodel_app.facts.tables["hero"]
    fk = hero.column("team_id").foreign_keys[0]
    assert (fk.target, fk.ondelete) == ("team.id", "CASCADE")
    assert hero.column("team_id").nullable is False
    assert hero.column("seen_at").timezone is False and hero.column("seen_at").is_nullable
    assert hero.column("name").type_name == "String" and not hero.column("name").is_nullable
    rels = {r.attr: r for t in sqlmodel_app.facts.tables.values() for r in t.relationships}
    assert (rels["heroes"].target, rels["heroes"].uselist) == ("Hero", True)
    assert (rels["team"].target, rels["team"].uselist) == ("Team", False)
    assert sqlmodel_app.facts.migration_tables["hero"].columns["seen_at"].timezone is False


# -- SQLAlchemy 2.0: mixins across modules, declared_attr, Table(), declarative_base(cls=) ----------


def test_mixins_resolved_across_modules(typed_mixins):
    patients = typed_mixins.facts.tables["patients"]
    assert patients.mixins == ("KeyMixin", "StampMixin", "TenantMixin")
    assert patients.column("id").declared_in == "KeyMixin" and "ULID" in patients.column("id").default
    org = patients.column("organization_id")  # a declared_attr column of TenantMixin
    assert org.declared_in == "TenantMixin" and org.index and org.foreign_keys[0].ondelete == "RESTRICT"
    assert patients.column("deleted_at").is_nullable  # bare `Mapped[datetime | None]` in the mixin
    # the base's type_annotation_map makes every annotated datetime timezone-aware
    assert {c.name for c in patients.columns.values() if c.timezone} == {"created_at", "updated_at", "deleted_at", "last_seen"}


def test_bare_mapped_annotations_and_typed_columns(typed_mixins):
    patients = typed_mixins.facts.tables["patients"]
    assert patients.column("dob").type_name == "Date" and not patients.column("dob").is_nullable
    assert patients.column("nickname").type_name == "String" and patients.column("nickname").is_nullable
    assert patients.column("tags").type_name == "JSONB" and patients.column("tags").py_type == "list"
    indexes = {i.name: i for i in patients.indexes}
    assert indexes["ix_patients_tags"].using == "gin"
    assert indexes["ix_patients_active"].where == "deleted_at IS NULL"
    assert [(c.kind, c.columns) for c in patients.constraints] == [("unique", ("organization_id", "mrn"))]
    rels = {r.attr: r for r in patients.relationships}
    assert rels["visits"].target == "Visit" and rels["visits"].cascade == "all, delete-orphan" and rels["visits"].uselist
    assert rels["allergies"].secondary == "patient_allergies"


def test_declared_attr_table_names(typed_mixins):
    tables = typed_mixins.facts.tables
    assert tables["allergy"].class_name == "Allergy"  # Base.__tablename__ derives snake_case names
    assert tables["allergy"].column("label").type_name == "String"
    allergies = tables["patient_allergies"]
    assert allergies.class_name is None and allergies.column("allergy_id").foreign_keys[0].target == "allergy.id"


def test_declarative_base_with_cls(typed_mixins):
    tables = typed_mixins.facts.tables
    audit = tables["auditentry"]  # LegacyBase: `cls.__name__.lower()`
    assert set(audit.columns) == {"id", "created_at", "action"} and audit.column("created_at").timezone is False
    batch = tables["importbatch"]  # `id = None` takes the inherited key away
    assert set(batch.columns) == {"created_at", "name"} and batch.column("name").primary_key


def test_rls_from_a_loop_over_a_constant_list(typed_mixins):
    rls = rls_by_table(typed_mixins.facts)
    assert set(rls) == {"patients"}
    state = rls["patients"]
    assert state.enabled and state.forced
    (policy,) = state.policies
    assert policy.details["name"] == "tenant_isolation" and "app.current_tenant_id" in policy.details["using"]
    assert policy.span.path.endswith("0001_clinic.py") and policy.span.start == 44  # the line the SQL string starts on


def test_naming_convention_metadata_is_a_call(typed_mixins):
    (metadata,) = typed_mixins.facts.calls_named("MetaData")
    assert "naming_convention" in metadata.kwargs and metadata.span.path == "clinic/models/base.py"


# -- The revision graph: two trees, branches and a merge, SQL in its forms ------------------------


def test_two_trees_keep_their_own_revisions(migration_graph):
    revs = migration_graph.facts.revisions
    assert len(revs) == 8
    roots = [r.path for r in revs if r.revision == "0001"]
    assert roots == ["db/core/versions/0001_core.py", "db/tenant/versions/0001_tenant_root.py"]
    merge = next(r for r in revs if r.revision == "0003")
    assert merge.down_revisions == ("0002a", "0002b") and merge.downgrade_empty and not merge.upgrade
    order = [r.revision for r in revs if r.path.startswith("db/tenant")]
    assert order.index("0001") < order.index("0002a") < order.index("0003") < order.index("0004")
    assert order.index("0002b") < order.index("0003")


def test_a_rename_on_one_branch_and_a_column_on_the_other(migration_graph):
    tables = migration_graph.facts.migration_tables
    assert set(tables) == {"accounts", "products"}  # items renamed; item_events created and dropped in SQL
    products = tables["products"]
    assert set(products.columns) == {"id", "name", "org_id", "price_cents"}
    assert [i.name for i in products.indexes] == ["ix_products_org"]


def test_sql_forms_of_row_level_security(migration_graph):
    rls = rls_by_table(migration_graph.facts)
    products = rls["products"]
    assert products.enabled and products.forced  # ENABLE from an f-string loop, FORCE from EXECUTE format() in DO
    assert [p.details["name"] for p in products.policies] == ["products_tenant"]  # str.format with constants
    assert rls["item_events"].forced


def test_create_table_in_sql_and_downgrade_kinds(migration_graph):
    revs = {r.path.rsplit("/", 1)[1]: r for r in migration_graph.facts.revisions}
    root = revs["0001_tenant_root.py"]
    created = [st for op in root.upgrade if op.sql for st in op.sql.statements if st.kind == "create_table"]
    assert [(st.table, st.details["columns"]) for st in created] == [("item_events", ["id", "item_id", "happened_at"])]
    assert revs["0005_backfill.py"].downgrade_empty
    assert revs["0006_drop_events.py"].downgrade_raises and not revs["0006_drop_events.py"].downgrade_empty


# -- small sources: what real code showed ---------------------------------------------------------


def test_op_f_names_and_dropped_default_constraints():
    facts = facts_from_sources({"migrations/versions/0001_a.py": '''
from alembic import op
import sqlalchemy as sa
revision = "0001"
down_revision = None
def upgrade():
    op.create_table("providers", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("user_id", sa.Integer, unique=True), sa.Column("npi", sa.String(10)),
                    sa.UniqueConstraint("npi"))
    op.create_index("ix_providers_org_npi", "providers", ["npi"], unique=True, postgresql_where=sa.text("npi IS NOT NULL"))
    op.drop_index(op.f("ix_providers_org_npi"), table_name="providers")
    op.drop_constraint("providers_user_id_key", "providers", type_="unique")
    op.drop_constraint("providers_npi_key", "providers", type_="unique")
def downgrade():
    pass
'''})
    providers = facts.migration_tables["providers"]
    assert providers.indexes == []
    assert not providers.columns["user_id"].unique
    assert [c for c in providers.constraints if c.kind == "unique"] == []


def test_execute_format_in_a_do_block_and_json_queries():
    facts = facts_from_sources({
        "migrations/versions/0001_a.py": '''
from alembic import op
revision = "0001"
down_revision = None
def upgrade():
    op.execute("""
    DO $$
    DECLARE t text; tables text[] := ARRAY['a_notes', 'b_notes'];
    BEGIN
        FOREACH t IN ARRAY tables LOOP
            EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        END LOOP;
        EXECUTE format('GRANT SELECT ON %I TO app', unknown_var);
    END $$;
    """)
def downgrade():
    pass
''',
        "queries.py": '''
from sqlalchemy import select
from models import Org
def by_plan(plan):
    return select(Org).where(Org.settings["plan"].astext == plan, Org.tags.contains(["vip"]))
''',
    })
    statements = facts.migration_sql
    assert [(st.kind, st.table) for st in statements] == [
        ("enable_rls", "a_notes"), ("enable_rls", "b_notes"), ("dynamic_sql", None)]
    uses = {(u.owner, u.attr, u.operation) for u in facts.json_uses}
    assert uses == {("Org", "settings", "[]"), ("Org", "tags", "contains")}


def test_session_delete_resolved_to_its_model():
    facts = facts_from_sources({"api.py": '''
from sqlalchemy import select
async def remove(db, contact_id):
    result = await db.execute(select(ContactMethod).where(ContactMethod.id == contact_id))
    contact = result.scalar_one_or_none()
    await db.delete(contact)

def remove_task(task_id):
    task = Task.query.filter_by(id=task_id).first_or_404()
    db.session.delete(task)
'''})
    deletes = {c.target: c.kwargs.get("model") for c in facts.calls if c.name == "session.delete"}
    assert deletes == {"contact": "ContactMethod", "task": "Task"}


def test_python_evaluated_partial_index_predicate():
    facts = facts_from_sources({"models.py": '''
from sqlalchemy import Index, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase):
    pass
class Assignment(Base):
    __tablename__ = "assignments"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int]
    removed_at: Mapped[int | None]
    __table_args__ = (
        Index("ix_bad", "patient_id", postgresql_where=(removed_at is None)),
        Index("ix_good", "patient_id", postgresql_where=text("removed_at IS NULL")),
    )
'''})
    flags = {i.name: i.where_python for i in facts.tables["assignments"].indexes}
    assert flags == {"ix_bad": True, "ix_good": False}


def test_only_sqlalchemys_text_is_sql():
    """A template library's text("Set Organization ...") is a label, not SQL that sets session state."""
    facts = facts_from_sources({"app/views.py": '''
from sqlalchemy import text as sql_text
from tagflow import text

def page(session):
    text("Set Organization Under Review")
    session.execute(sql_text("SET LOCAL app.current_tenant_id = :t"), {"t": 1})
'''})
    assert [u.text for u in facts.sql] == ["SET LOCAL app.current_tenant_id = :t"]

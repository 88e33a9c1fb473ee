"""Linking follows names across modules the way Python binds them: a `db` made from a subclass of
Flask-SQLAlchemy and re-exported through packages, declarative bases made by helpers, bases and
types from libraries dbreview cannot read (recorded as unknown, never guessed). Each fixture under
tests/fixtures/ is a small project written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzers.engine import scan

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def flask_reexport():
    return scan(FIXTURES / "flask_reexport")


def test_flask_reexport_scans_clean(flask_reexport):
    assert flask_reexport.result.errors == []


def test_db_from_a_subclass_of_flask_sqlalchemy_reexported_through_packages(flask_reexport):
    tables = {t.name: (t.class_name, t.path) for t in flask_reexport.facts.tables.values()}
    assert tables == {
        "user": ("User", "portal/models/users.py"),  # db.Model through portal.core.db's __init__
        "http_log": ("HTTPLog", "portal/models/users.py"),  # Flask-SQLAlchemy's own naming rule
        "posts": ("BlogPost", "portal/blog/models.py"),  # db imported from portal.models (a re-export)
        "comment": ("Comment", "portal/blog/models.py"),  # `Model = db.Model` in another module
        "moderator": ("Moderator", "portal/blog/models.py"),  # joined inheritance: a key of its own
    }
    # not models: Admin (single-table, no key), Note (no base), Document (its `db` is a search index)


def test_single_table_subclass_columns_live_in_the_parent_table(flask_reexport):
    user = flask_reexport.facts.tables["user"]
    assert set(user.columns) == {"id", "email", "kind", "can_ban"}
    assert user.column("can_ban").declared_in == "Admin"
    assert set(flask_reexport.facts.tables["moderator"].columns) == {"id"}  # the parent's stay in `user`


def test_library_bases_are_recorded_as_unknown(flask_reexport):
    tables = flask_reexport.facts.tables
    # flask_login.UserMixin is known (a stub: no columns); audit_trail is a library dbreview cannot read
    assert tables["user"].unknown_bases == ("audit_trail.mixins.TrackedMixin",)
    assert tables["moderator"].unknown_bases == ()  # TrackedMixin's columns, if any, are in `user`
    assert tables["posts"].unknown_bases == ()


def test_the_base_is_where_db_is_made(flask_reexport):
    (site,) = flask_reexport.facts.bases
    assert (site.path, site.start) == ("portal/core/db/alchemy.py", 11)


@pytest.fixture(scope="module")
def base_helpers():
    return scan(FIXTURES / "base_helpers")


def test_bases_made_by_helpers_registries_and_subclasses(base_helpers):
    assert base_helpers.result.errors == []
    tables = {t.name: t.class_name for t in base_helpers.facts.tables.values()}
    assert tables == {
        "products": "Product",  # Base = make_base(), a helper returning declarative_base(cls=Audited)
        "suppliers": "Supplier",  # mapper_registry.generate_base(), through `from shop.db import registry as reg`
        "reports": "Report",  # registry().generate_base()
        "warehouses": "Warehouse",  # a DeclarativeBase subclass in another module
        "shipments": "Shipment",  # a helper that defines the base class inside itself
    }
    # not tables: Draft (abstract), Thing (its Base is a plain class of tools/, whatever its name)


def test_cls_of_declarative_base_gives_every_model_its_columns(base_helpers):
    products = base_helpers.facts.tables["products"]
    assert set(products.columns) == {"id", "name", "created_at"} and products.mixins == ("Audited",)
    created = products.column("created_at")
    assert created.declared_in == "Audited" and created.timezone is True and not created.is_nullable


def test_bases_are_listed_where_they_are_made(base_helpers):
    sites = [(s.path, s.start) for s in base_helpers.facts.bases]
    assert sites == [
        ("backend/shop/db/base.py", 13),
        ("backend/shop/db/registry.py", 4),
        ("backend/shop/db/registry.py", 5),
        ("backend/shop/db/typed.py", 4),
    ]


@pytest.fixture(scope="module")
def typed_columns():
    return scan(FIXTURES / "typed_columns")


def _col(scanned, table, name):
    return scanned.facts.tables[table].columns[name]


def test_annotated_alias_from_another_module_is_the_column(typed_columns):
    assert typed_columns.result.errors == []
    meta = _col(typed_columns, "products", "user_metadata")  # `user_metadata: Mapped[MetadataColumn]` in a mixin
    assert (meta.type_name, meta.nullable, meta.default, meta.declared_in) == ("JSONB", False, "dict", "MetadataMixin")
    name = _col(typed_columns, "products", "name")  # `name: Mapped[str_255]`
    assert (name.type_name, name.type_args, name.is_nullable) == ("String", {"length": "255"}, False)


def test_enums_type_annotation_map_and_type_decorators(typed_columns):
    assert _col(typed_columns, "products", "status").type_name == "Enum"  # Mapped[Status], a StrEnum
    assert _col(typed_columns, "products", "created_at").timezone is True  # the base maps datetime to aware
    seen = _col(typed_columns, "products", "seen_at")  # impl = DateTime: naive
    assert (seen.type_name, seen.type_args, seen.timezone) == ("NaiveDateTime", {"impl": "DateTime"}, False)
    assert _col(typed_columns, "products", "paid_at").timezone is True  # impl = DateTime(timezone=True)


def test_types_dbreview_cannot_follow_say_so(typed_columns):
    ref = _col(typed_columns, "products", "ref")  # load_dialect_impl: the stored type depends on the database
    assert ref.type_args == {"unresolved": "shop.kit.types.Guid"} and ref.timezone is None
    assert _col(typed_columns, "products", "tax_id").type_args == {"unresolved": "taxlib.TaxIdType"}


def test_library_mixins_with_a_stub_give_their_columns_and_table_name(typed_columns):
    tables = typed_columns.facts.tables
    issued = tables["oauth_clients"].columns["client_id_issued_at"]
    assert (issued.nullable, issued.default, issued.from_library) == (False, "0", "authlib.integrations.sqla_oauth2.OAuth2ClientMixin")
    assert (issued.span.path, issued.span.start) == ("shop/models.py", 32)  # shown on the model, not in the library
    assert tables["oauth_clients"].unknown_bases == ()
    user = tables["user"]  # FastAPI Users names the table
    assert user.class_name == "Account" and set(user.columns) == {
        "id", "email", "hashed_password", "is_active", "is_superuser", "is_verified"}
    assert tables["suppliers"].unknown_bases == ("vendorlib.VendorMixin",)


def _findings(scanned, rule):
    return [(f.severity.value, f.location.start_line, f.message) for f in scanned.result.findings if f.rule_id == rule]


def test_naive_type_decorator_is_reported_and_aware_ones_are_not(typed_columns):
    (finding,) = _findings(typed_columns, "TZ001")
    assert finding[:2] == ("warning", 26)
    assert finding[2].startswith("products.seen_at is NaiveDateTime, a TypeDecorator over DateTime without timezone=True")


def test_drift_is_not_claimed_on_what_could_not_be_read(typed_columns):
    # Library columns map the migrations' NOT NULL columns; the unknown mixin may map vendor_code: no claim, one info
    (finding,) = _findings(typed_columns, "MIG006")
    assert finding[:2] == ("info", 41)
    assert finding[2].startswith("1 model table(s) have NOT NULL columns without a default in the migrations")
    assert "whether the models map them is not checked (suppliers: vendor_code (bases vendorlib.VendorMixin))" in finding[2]


# -- What is not the application's PostgreSQL ------------------------------------------------------


@pytest.fixture(scope="module")
def other_databases():
    return scan(FIXTURES / "other_databases")


def test_tables_of_other_databases_are_kept_apart(other_databases):
    assert other_databases.result.errors == []
    assert set(other_databases.facts.tables) == {"accounts", "audit", "legacy_imports"}  # not tests/' probe
    others = {name: (t.path, t.database) for name, t in other_databases.facts.other_tables.items()}
    assert others == {
        "page_views": ("analytics/events.py", "imports clickhouse_sqlalchemy.engines"),
        "cache_entries": ("cache/local.py", "makes an engine for sqlite"),
    }


def test_other_databases_tests_scripts_and_examples_are_no_evidence(other_databases):
    rules = {f.rule_id for f in other_databases.result.findings}
    assert not {"TZ001", "BIL001", "PERF002", "CFG005", "CFG006"} & rules  # ClickHouse, SQLite, the script's query
    paths = {f.location.path for f in other_databases.result.findings}
    assert paths <= {"app/models.py"}  # the app's own models only (organization_id names no table: not guessed at)
    assert other_databases.facts.json_uses == []  # the query lives in scripts/


def test_qa_scenarios_and_end_to_end_suites_are_not_the_application():
    """A QA scenario's `session.delete` or an e2e suite's query is no evidence of what the service does."""
    from analyzers.facts.paths import is_test_path

    assert is_test_path("qa/scenarios/bigquery_with_data.py") and is_test_path("web/e2e/helpers.py")
    assert not is_test_path("app/quality/models.py")

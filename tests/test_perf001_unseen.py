"""PERF001 on code nobody tuned it for (issue 7, session 24's classes, each rebuilt as a small repository of our own):
raw SQL that finds a table's rows by the key is a read as an ORM query is; SQL that only names the table and the
column is none; a join in SQL to a table it narrows is one whose plan dbreview cannot tell; a resolver of a type whose
`class Meta: model = X` reads X's relationship on `self`; and a key to a lookup the application never adds rows to nor
deletes from (statuses, types) is no finding where nothing else scans the table by it."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.growing import found_growing
from tests.test_perf001_reads import calls
from tests.test_precision import HEADER, found, revision

MODELS = HEADER + """
from sqlalchemy.orm import relationship

class Role(Base):
    __tablename__ = "roles"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String)
    tokens = relationship("Token")

class Token(Base):
    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id"))
    label: Mapped[str] = mapped_column(String)
"""


def _role_id(findings):
    (f,) = [f for f in findings if f.anchor == "table:tokens.role_id"]
    return f


def _sql(tmp_path, statement: str):
    views = f'from sqlalchemy import text\n\ndef listed(session, role):\n    return session.execute(text("{statement}"), {{"r": role}})\n'
    files = {"app/models.py": MODELS, "app/views.py": views, **calls("views", "listed")}
    return [f for f in found_growing(tmp_path, files, "PERF001") if f.anchor == "table:tokens.role_id"]


def test_sql_that_finds_rows_by_the_key_is_a_read(tmp_path):
    """`WHERE role_id = :r` in a text() the application sends scans tokens: a warning, as an ORM query's is."""
    f = _role_id(_sql(tmp_path, "SELECT id FROM tokens WHERE role_id = :r"))
    assert f.severity == Severity.WARNING and f.location.start_line == 22
    assert f.message.startswith("tokens.role_id is a foreign key with no index: the SQL at app/views.py:4 filters on it, "
                                "so each such read scans tokens")
    g = _role_id(_sql(tmp_path / "b", "DELETE FROM tokens t USING roles r WHERE t.role_id = :r AND r.id = t.role_id"))
    assert g.severity == Severity.WARNING and "the SQL at app/views.py:4 filters on it" in g.message


def test_sql_that_names_the_column_of_another_table_is_no_read(tmp_path):
    """`roles.id = :r` beside `tokens` and a role_id in the select list: nothing finds tokens rows by role_id; the info
    says so, and does not name the SQL as something it did not follow."""
    f = _role_id(_sql(tmp_path, "SELECT tokens.role_id, roles.name FROM tokens, roles WHERE roles.id = :r"))
    assert f.severity == Severity.INFO
    assert "the relationship Role.tokens loads its rows by it, but dbreview found no code that reads Role.tokens" in f.message
    assert "not followed" not in f.message and "SQL" not in f.message


def test_sql_under_or_is_named_as_not_followed(tmp_path):
    """A test of the key in an OR is not weighed as a read: the info names the SQL and why."""
    f = _role_id(_sql(tmp_path, "SELECT id FROM tokens WHERE role_id = :r OR label = 'x'"))
    assert f.severity == Severity.INFO
    assert ("(not followed: SQL naming tokens and role_id at app/views.py:4, which it could not parse or which tests "
            "role_id under OR or NOT or not by equality: it does not weigh that as a read)") in f.message


def test_sql_joining_to_a_table_it_narrows_is_a_plan_dbreview_cannot_tell(tmp_path):
    """`JOIN tokens t ON t.role_id = r.id WHERE r.name = :r`: a plan that finds roles first looks tokens up by
    role_id; an info that says which way the plan goes dbreview cannot tell."""
    f = _role_id(_sql(tmp_path, "SELECT t.id FROM roles r JOIN tokens t ON t.role_id = r.id WHERE r.name = :r"))
    assert f.severity == Severity.INFO
    assert ("the SQL at app/views.py:4 joins tokens to roles on it, and narrows roles by another column: a plan that "
            "finds roles rows first looks tokens rows up by role_id") in f.message
    # a column of the other table dbreview does not know (declared by a helper it cannot read) is a join all the same
    g = _role_id(_sql(tmp_path / "b", "SELECT t.id FROM roles r JOIN tokens t ON t.role_id = r.ident WHERE r.name = :r"))
    assert "the SQL at app/views.py:4 joins tokens to roles on it" in g.message


def test_a_resolver_of_a_meta_model_type_reads_the_relationship_on_self(tmp_path):
    """graphene-sqlalchemy's `class Meta: model = Role`: `self.tokens` in its resolver is Role.tokens, read on every
    query of the field (a warning that says where); in a class with no such Meta, `self.tokens` is its own."""
    schema = ("class RoleType(SQLAlchemyObjectType):\n    class Meta:\n        model = Role\n\n"
              "    def resolve_tokens(self, info):\n        return self.tokens\n")
    f = _role_id(found_growing(tmp_path, {"app/models.py": MODELS, "app/schema.py": schema}, "PERF001"))
    assert f.severity == Severity.WARNING
    assert "the relationship Role.tokens loads its rows by it (the code reads it at app/schema.py:6)" in f.message
    other = schema.replace("        model = Role\n", "        fields = ()\n")
    g = _role_id(found_growing(tmp_path / "b", {"app/models.py": MODELS, "app/schema.py": other}, "PERF001"))
    assert g.severity == Severity.INFO and "app/schema.py:6" not in g.message


LOOKUP = HEADER + """
class KeyType(Base):
    __tablename__ = "key_types"
    name: Mapped[str] = mapped_column(String, primary_key=True)

class ApiKey(Base):
    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_type: Mapped[str] = mapped_column(ForeignKey("key_types.name"))
"""


SEED = {"migrations/versions/0001_key_types.py": revision(
    'op.bulk_insert(sa.table("key_types", sa.column("name")), [{"name": "normal"}, {"name": "test"}])')}


def _key_type(tmp_path, files):
    return [f for f in found(tmp_path, {"app/models.py": LOOKUP, **files}, "PERF001") if f.anchor == "table:api_keys.key_type"]


def test_a_key_to_a_lookup_the_application_keeps_as_made_is_no_finding(tmp_path):
    """key_types: the migrations seed it, no code of the application adds a row or deletes one, and no read scans
    api_keys by the key: the key check never runs in the application, so no finding. Where the code deletes a key
    type, or the migrations do not seed the table (its rows come from elsewhere: not a lookup), the info stays."""
    adds = "def issue(session):\n    session.add(ApiKey(key_type='normal'))\n"
    assert _key_type(tmp_path / "a", {"app/keys.py": adds, **SEED}) == []
    drop = ("from sqlalchemy import delete\n" + adds
            + "\ndef retire(session, kind):\n    session.execute(delete(KeyType).where(KeyType.name == kind))\n")
    (f,) = _key_type(tmp_path / "b", {"app/keys.py": drop, **calls("keys", "retire"), **SEED})
    assert f.severity == Severity.INFO and f.location.start_line == 18
    assert ("the only scan of api_keys by key_type that dbreview can show is the foreign key check on deleting (or changing "
            "the key of) a row of key_types") in f.message
    (g,) = _key_type(tmp_path / "c", {"app/keys.py": adds})
    assert g.severity == Severity.INFO and ("dbreview found no code of the application that deletes a row of key_types, "
                                            "so that check runs only on a delete made outside it") in g.message


PLANS = HEADER + """
from sqlalchemy import Index, PrimaryKeyConstraint

class Owner(Base):
    __tablename__ = "owners"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Plan(Base):
    __tablename__ = "plans"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"), index=True)

class Meter(Base):
    __tablename__ = "meters"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Usage(Base):
    __tablename__ = "usages"
    __table_args__ = (PrimaryKeyConstraint("plan_id", "meter_id"),)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id"))
    used: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String, index=True)
"""


def test_a_condition_in_a_query_that_joins_to_a_table_it_narrows_is_no_scan_said(tmp_path):
    """reana-db (PERF001 warning judged wrong): `.filter(Usage.meter_id == m).join(Plan, Usage.plan_id == Plan.id)
    .filter(Plan.owner_id == o)`: a plan that finds the owner's plans first looks usages up by the primary key
    (plan_id, meter_id); the reading of the query's values alone no longer hides its joins."""
    reads = ("from sqlalchemy import func\nfrom app.models import Plan, Usage\n\n"
             "def used(session, meter, owners):\n    for owner in owners:\n"
             "        total = (\n            session.query(func.sum(Usage.used))\n"
             "            .filter(Usage.meter_id == meter.id)\n"
             "            .join(Plan, Usage.plan_id == Plan.id)\n"
             "            .filter(Plan.owner_id == owner.id)\n            .scalar()\n        )\n")
    files = {"app/models.py": PLANS, "app/reads.py": reads, **calls("reads", "used")}
    (f,) = [f for f in found_growing(tmp_path, files, "PERF001") if f.anchor == "table:usages.meter_id"]
    assert f.severity == Severity.INFO and "through its join on plan_id" in f.message


MIXED = HEADER + """
from sqlalchemy import Index

class Org(Base):
    __tablename__ = "orgs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Thread(Base):
    __tablename__ = "threads"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class OrgMixin:
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"))

class Post(OrgMixin, Base):
    __tablename__ = "posts"
    __table_args__ = (Index("ix_posts_thread", "thread_id", "position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"))
    position: Mapped[int] = mapped_column(Integer)
"""


def test_a_mixins_key_whose_reads_also_test_a_column_another_index_leads_is_served(tmp_path):
    """letta (PERF001 warning judged wrong): every read of posts by the mixin's org_id also tests thread_id, which
    ix_posts_thread leads: that index finds the rows, as for a column the table declares itself."""
    reads = ("from sqlalchemy import select\nfrom app.models import Post\n\n"
             "def posts(session, org, thread):\n"
             "    return session.scalars(select(Post).where(Post.org_id == org, Post.thread_id == thread)).all()\n")
    files = {"app/models.py": MIXED, "app/reads.py": reads, **calls("reads", "posts")}
    (f,) = [f for f in found_growing(tmp_path, files, "PERF001") if "org_id" in f.anchor]
    assert f.severity == Severity.INFO and "thread_id" in f.message

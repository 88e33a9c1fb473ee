"""Every rule's own examples: each VALID example yields none of its findings, each INVALID one at least one."""

import pytest

from analyzers.examples import example_files, facts_from_sources
from analyzers.rules import all_rules
from analyzers.rules.base import describe

CASES = [
    pytest.param(rule, kind, i, example, id=f"{rule.ID}-{kind}-{i}")
    for rule in all_rules()
    for kind, examples in (("valid", rule.VALID), ("invalid", rule.INVALID))
    for i, example in enumerate(examples)
]


@pytest.mark.parametrize(("rule", "kind", "index", "example"), CASES)
def test_rule_examples(rule, kind, index, example):
    facts = facts_from_sources(example_files(example))
    found = [f for f in rule(facts).check() if f.rule_id == rule.ID]
    if kind == "valid":
        assert found == [], [f.message for f in found]
    else:
        assert found, f"{rule.ID} found nothing in its invalid example {index}"
        for f in found:
            assert f.location.start_line >= 1 and f.location.end_line >= f.location.start_line
            assert f.evidence, "a finding carries the lines it points at"


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.ID)
def test_rule_is_declared(rule):
    from analyzers.checklist import load_checklist

    info = describe(rule)
    assert rule.VALID and rule.INVALID, "a rule needs examples of both kinds"
    assert info.title and info.what and info.why and info.instead
    load_checklist("database").item(rule.ITEM)  # names a real checklist item


# -- the shared look-ups of schema.py, as the rules that use them see them ----------------------------------

_HEADER = '''
import uuid
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass
'''


def _migration(body: str) -> str:
    return f'''
from alembic import op
import sqlalchemy as sa
revision = "0001"
down_revision = None
def upgrade():
{body}
def downgrade():
    pass
'''


_USERS = _HEADER + '''
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255))
    email_hash: Mapped[str] = mapped_column(String(64))
'''
_USERS_TABLE = '    op.create_table("users", sa.Column("id", sa.Integer, primary_key=True), sa.Column("email", sa.String(255)), sa.Column("email_hash", sa.String(64)))\n'
_PROVIDERS = _HEADER + '''
class Provider(Base):
    __tablename__ = "providers"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    removed_at: Mapped[str | None] = mapped_column(String(20))
'''
_MEMBERSHIPS = _HEADER + '''
class OrganizationMembership(Base):
    __tablename__ = "organization_memberships"
    __table_args__ = (UniqueConstraint("user_id", "organization_id", "role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    role: Mapped[str] = mapped_column(String(20))
'''
_CONSENT = _HEADER + '''
class ConsentDocument(Base):
    __tablename__ = "consent_documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    document_type: Mapped[str] = mapped_column(String(20))
    version: Mapped[str] = mapped_column(String(20))
'''
_BILLING = _HEADER + '''
class BillingTransaction(Base):
    __tablename__ = "billing_transactions"
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    owner_type: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[uuid.UUID] = mapped_column()
'''
_BILLING_TABLE = '    op.create_table("billing_transactions", sa.Column("id", sa.Integer, primary_key=True))\n'

SHARED = [
    # unique_over(exact): an expression index over the column counts, an index over another column does not
    pytest.param("MOD003", {"models.py": _USERS, "migrations/versions/0001_a.py": _migration(
        _USERS_TABLE + '    op.execute("CREATE UNIQUE INDEX uq_users_email ON users (lower(email))")')}, False,
        id="MOD003-unique-lower-email-in-sql"),
    pytest.param("MOD003", {"models.py": _USERS, "migrations/versions/0001_a.py": _migration(
        _USERS_TABLE + '    op.create_index("uq_users_email_hash", "users", ["email_hash"], unique=True)')}, True,
        id="MOD003-unique-email_hash-is-not-email"),
    # an index whose predicate Python evaluated to a bool enforces nothing (INT007)
    pytest.param("REL001", {"models.py": _PROVIDERS.replace(
        '    removed_at:', '    __table_args__ = (Index("uq_user", "user_id", unique=True, postgresql_where=(removed_at is None)),)\n    removed_at:')},
        True, id="REL001-python-predicate-enforces-nothing"),
    pytest.param("REL001", {"models.py": _PROVIDERS, "migrations/versions/0001_a.py": _migration(
        '    op.create_table("providers", sa.Column("id", sa.Integer, primary_key=True), sa.Column("user_id", sa.Integer, unique=True))')},
        False, id="REL001-unique-in-migration"),
    # unique_over(at least): a unique key over more columns counts for a pair (as REL002 always read it)
    pytest.param("REL002", {"models.py": _MEMBERSHIPS}, False, id="REL002-wider-unique-constraint"),
    pytest.param("REL002", {"models.py": _MEMBERSHIPS.replace(', "role"', "").replace('"user_id", "organization_id"', '"user_id", "role"')},
                 True, id="REL002-other-pair"),
    # HIP006 now reads unique indexes the migrations create, as the other uniqueness rules do
    pytest.param("HIP006", {"models.py": _CONSENT, "migrations/versions/0001_a.py": _migration(
        '    op.create_table("consent_documents", sa.Column("id", sa.Integer, primary_key=True), sa.Column("document_type", sa.String(20)), sa.Column("version", sa.String(20)))\n'
        '    op.create_index("uq_consent_version", "consent_documents", ["document_type", "version"], unique=True)')},
        False, id="HIP006-unique-index-in-migration"),
    pytest.param("HIP006", {"models.py": _CONSENT}, True, id="HIP006-nothing-unique"),
    # has_check: a CHECK in migration SQL names the column, for INT005 and BIL003 alike
    pytest.param("BIL003", {"models.py": _BILLING, "migrations/versions/0001_a.py": _migration(
        _BILLING_TABLE + '''    op.execute("ALTER TABLE billing_transactions ADD CONSTRAINT ck_owner CHECK (owner_type IN ('PATIENT', 'ORGANIZATION'))")''')},
        False, id="BIL003-check-in-sql"),
    pytest.param("BIL003", {"models.py": _BILLING, "migrations/versions/0001_a.py": _migration(
        _BILLING_TABLE + '''    op.execute("ALTER TABLE billing_transactions ADD CONSTRAINT ck_status CHECK (status IN ('OPEN', 'PAID'))")''')},
        True, id="BIL003-check-on-another-column"),
    pytest.param("INT005", {"models.py": _BILLING, "migrations/versions/0001_a.py": _migration(
        _BILLING_TABLE + '''    op.create_check_constraint("ck_status", "billing_transactions", "status IN ('OPEN', 'PAID')")''')},
        False, id="INT005-check-in-migration"),
    pytest.param("INT005", {"models.py": _BILLING, "migrations/versions/0001_a.py": _migration(
        _BILLING_TABLE + '''    op.execute("ALTER TABLE billing_transactions ADD CONSTRAINT ck_owner CHECK (owner_type IN ('PATIENT'))")''')},
        True, id="INT005-check-on-another-column"),
]


@pytest.mark.parametrize(("rule_id", "files", "expected"), SHARED)
def test_shared_lookups(rule_id, files, expected):
    (rule,) = [r for r in all_rules() if r.ID == rule_id]
    found = [f for f in rule(facts_from_sources(files)).check() if f.rule_id == rule_id]
    assert bool(found) == expected, [f.message for f in found]

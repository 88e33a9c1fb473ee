"""MIG010 and MIG011 read the column as the earlier revisions left it: a SET NOT NULL on a column already
NOT NULL scans nothing, a varchar widened without existing_type or an enum set to the enum it already is
rewrites nothing; where the earlier steps cannot be read the finding says so."""

from __future__ import annotations

from analyzers.rules.s03_migration_safety import TableRewrite, ValidatedUnderLock
from tests.test_migration_safety import found, revision


def history(create: str, *upgrades: str) -> dict[str, str]:
    files = {"migrations/versions/r00.py": revision("r00", None, create)}
    for i, up in enumerate(upgrades, start=1):
        files[f"migrations/versions/r{i:02}.py"] = revision(f"r{i:02}", f"r{i - 1:02}", up)
    return files


ACCOUNTS = ('op.create_table("accounts", sa.Column("id", sa.Integer, primary_key=True), '
            'sa.Column("muted", sa.Boolean(), nullable=False), sa.Column("quota", sa.BigInteger(), nullable=True), '
            'sa.Column("secret", sa.String(length=128)), sa.Column("mode", sa.Enum("ON", "OFF", "AUTO", name="accountmode")), '
            'sa.Column("code", sa.VARCHAR(12)), sa.Column("ref", sa.VARCHAR(**REF_TYPE)))')


def test_set_not_null_on_a_column_the_earlier_revisions_made_not_null_is_no_finding():
    assert found(ValidatedUnderLock, history(ACCOUNTS, 'op.alter_column("accounts", "muted", existing_type=sa.Boolean(), nullable=False)')) == []
    sql = history(ACCOUNTS, 'op.alter_column("accounts", "quota", nullable=False)',
                  'op.execute("ALTER TABLE accounts ALTER COLUMN quota SET NOT NULL")')
    (f,) = found(ValidatedUnderLock, sql)  # r01 made it NOT NULL: r02's SQL scans nothing
    assert f.anchor == "migration:r01:set-not-null:accounts.quota" and f.severity.value == "info"
    assert "every row is scanned under an ACCESS EXCLUSIVE lock" in f.message and "could not read" not in f.message


def test_set_not_null_on_a_column_made_by_sql_says_it_could_not_read_it():
    made_by_sql = history('op.execute("CREATE TABLE accounts (id integer, muted boolean NOT NULL)")',
                          'op.alter_column("accounts", "muted", nullable=False)')
    (f,) = found(ValidatedUnderLock, made_by_sql)
    assert f.anchor == "migration:r01:set-not-null:accounts.muted" and f.location.start_line == 8
    assert "could not read whether the earlier revisions already made it NOT NULL (then PostgreSQL skips the scan)" in f.message


def test_set_not_null_on_a_table_older_than_the_migrations_reads_the_steps_that_added_the_column():
    model = ("from sqlalchemy import Boolean, Column, Integer\nfrom sqlalchemy.orm import DeclarativeBase\n\n"
             "class Base(DeclarativeBase):\n    pass\n\nclass Legacy(Base):\n    __tablename__ = 'legacy'\n"
             "    id = Column(Integer, primary_key=True)\n    seen = Column(Boolean, nullable=False)\n")
    added = 'op.add_column("legacy", sa.Column("seen", sa.Boolean()))'
    made_not_null = history(added + '\nop.alter_column("legacy", "seen", nullable=False)',
                            'op.alter_column("legacy", "seen", nullable=False)')
    assert found(ValidatedUnderLock, {**made_not_null, "app/models.py": model}) == []  # r01 scans nothing
    (f,) = found(ValidatedUnderLock, {**history(added, 'op.alter_column("legacy", "seen", nullable=False)'), "app/models.py": model})
    assert f.anchor == "migration:r01:set-not-null:legacy.seen" and "could not read" not in f.message
    assert "every row is scanned under an ACCESS EXCLUSIVE lock" in f.message


def test_a_varchar_widened_without_existing_type_is_read_from_the_earlier_revisions():
    assert found(TableRewrite, history(ACCOUNTS, 'op.alter_column("accounts", "secret", type_=sa.String(256))')) == []
    assert found(TableRewrite, history(ACCOUNTS, 'op.alter_column("accounts", "secret", type_=sa.Text())')) == []
    (narrow,) = found(ValidatedUnderLock, history(ACCOUNTS, 'op.alter_column("accounts", "secret", type_=sa.String(64))'))
    assert narrow.anchor == "migration:r01:narrow:accounts.secret" and "narrows accounts.secret from String(128) to sa.String(64)" in narrow.message
    assert found(TableRewrite, history(ACCOUNTS, 'op.alter_column("accounts", "secret", type_=sa.String(64))')) == []
    # a VARCHAR's positional length is read too
    assert found(TableRewrite, history(ACCOUNTS, 'op.alter_column("accounts", "code", type_=sa.String(20))')) == []


def test_a_type_change_whose_old_type_cannot_be_read_says_so():
    # VARCHAR(**REF_TYPE): its length is not known, so whether String(20) widens it is not known
    (f,) = found(TableRewrite, history(ACCOUNTS, 'op.alter_column("accounts", "ref", type_=sa.String(20))'))
    assert f.anchor == "migration:r01:type:accounts.ref" and f.severity.value == "info"
    assert "dbreview could not read its type before" in f.message and "unless it is a character type this only widens" in f.message
    (known,) = found(TableRewrite, history(ACCOUNTS, 'op.alter_column("accounts", "quota", type_=sa.Numeric(20, 0))'))
    assert "from BigInteger to sa.Numeric(20, 0)" in known.message and "PostgreSQL rewrites it and its indexes" in known.message


def test_an_enum_set_to_the_enum_it_already_is_is_no_rewrite():
    same = 'op.alter_column("accounts", "mode", existing_type=sa.VARCHAR(length=4), type_=sa.Enum("ON", "OFF", name="accountmode"))'
    assert found(TableRewrite, history(ACCOUNTS, same)) == []
    other = 'op.alter_column("accounts", "mode", existing_type=sa.VARCHAR(length=4), type_=sa.Enum("ON", "OFF", name="newmode"))'
    (f,) = found(TableRewrite, history(ACCOUNTS, other))
    assert f.anchor == "migration:r01:type:accounts.mode" and "PostgreSQL rewrites it" in f.message


LEGACY = ("from sqlalchemy import Column, Integer, Unicode\nfrom sqlalchemy.orm import DeclarativeBase\n\n"
          "class Base(DeclarativeBase):\n    pass\n\nclass Member(Base):\n    __tablename__ = 'members'\n"
          "    id = Column(Integer, primary_key=True)\n    locale = Column(Unicode(8))\n    score = Column(Integer)\n")


def test_a_column_an_earlier_revision_added_to_a_table_older_than_the_migrations_has_a_known_type():
    # members is made outside the migrations; r01 adds locale as Unicode(3), so r02 only widens a varchar
    added = 'with op.batch_alter_table("members") as batch_op:\n    batch_op.add_column(sa.Column("locale", sa.Unicode(length=3)))'
    widened = 'with op.batch_alter_table("members") as batch_op:\n    batch_op.alter_column("locale", type_=sa.Unicode(length=8))'
    assert found(TableRewrite, {**history('op.execute("SELECT 1")', added, widened), "app/models.py": LEGACY}) == []
    # judged as for a table the migrations made: a change of kind rewrites, and says from what
    to_int = 'op.alter_column("members", "locale", type_=sa.Integer())'
    (f,) = found(TableRewrite, {**history('op.execute("SELECT 1")', added, to_int), "app/models.py": LEGACY})
    assert f.anchor == "migration:r02:type:members.locale"
    assert "changes the type of members.locale from Unicode(3) to sa.Integer(); members exists from before the migrations" in f.message
    # a column no revision added keeps today's wording: its type before is not known
    (g,) = found(TableRewrite, {**history('op.execute("SELECT 1")', 'op.alter_column("members", "score", type_=sa.String(20))'),
                                "app/models.py": LEGACY})
    assert "dbreview could not read its type before" in g.message

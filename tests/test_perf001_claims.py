"""PERF001 (a foreign key with no index): claims kept to what dbreview checked (issue 7, round 13's classes), each
rebuilt as a small repository of our own: what it could not follow is named, a schema's scalar field is no read of a
relationship, a value given by a call leaves the test readable."""

from __future__ import annotations

from analyzers.findings import Severity
from analyzers.rules.s08_performance import UNRULED
from tests.test_perf001_reads import calls
from tests.growing import found_growing as found
from tests.test_precision import HEADER, revision

KENNEL = HEADER + """
from sqlalchemy.orm import relationship

class Owner(Base):
    __tablename__ = "owners"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Dog(Base):
    __tablename__ = "dogs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"))
    name: Mapped[str] = mapped_column(String)
"""


def _dog(findings):
    (f,) = [f for f in findings if f.anchor == "table:dogs.owner_id"]
    return f


def test_no_read_found_says_what_was_not_followed(tmp_path):
    """With no read by the key, the claim is about the queries dbreview could follow, and it names a query whose
    filter it could not read and SQL that tests the column in a way it does not weigh (under OR)."""
    plain = _dog(found(tmp_path / "a", {"app/models.py": KENNEL}, "PERF001"))
    assert plain.severity == Severity.INFO
    assert ("dbreview found no query of the application that filters or joins dogs on it, and no relationship that "
            "loads dogs rows by it, so the only scan of dogs by owner_id that dbreview can show is the foreign key check"
            ) in plain.message
    assert plain.message.endswith(UNRULED)  # it says what it found, not that no other read exists
    assert "not followed" not in plain.message
    hidden = """
from sqlalchemy import select, text
from app.models import Dog
from app.filters import visible
def dogs(session, who):
    return session.scalars(select(Dog).where(visible(who))).all()
def raw(session, owner):
    return session.execute(text("SELECT id FROM dogs WHERE owner_id = :o OR name = :o"), {"o": owner}).all()
"""
    f = _dog(found(tmp_path / "b", {"app/models.py": KENNEL, "app/reads.py": hidden, "app/filters.py": "def visible(w):\n    return w\n",
                                    **calls("reads", "dogs", "raw")}, "PERF001"))
    assert f.severity == Severity.INFO and f.anchor == plain.anchor
    assert ("(not followed: 1 query of Dog with a filter it could not read or built elsewhere, the first at "
            "app/reads.py:6; SQL naming dogs and owner_id at app/reads.py:8, which it could not parse or which tests owner_id "
            "under OR or NOT or not by equality: it does not weigh that as a read)") in f.message


PARK = KENNEL.replace('''    id: Mapped[int] = mapped_column(Integer, primary_key=True)
''', '''    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dogs = relationship("Dog")
''', 1)


def test_a_schema_field_of_a_scalar_type_is_no_read_of_a_relationship(tmp_path):
    """`dogs: str` on a pydantic schema holds a string, not Owner.dogs's rows: no read; `dogs: list[DogOut]` on
    OwnerOut, a read model named after Owner (in a module of schemas), is one: serializing it reads the relationship."""
    scalar = "from pydantic import BaseModel\nclass Summary(BaseModel):\n    dogs: str\n    total: int | None = None\n"
    f = _dog(found(tmp_path / "a", {"app/models.py": PARK, "app/schemas.py": scalar}, "PERF001"))
    assert f.severity == Severity.INFO
    assert "the relationship Owner.dogs loads its rows by it, but dbreview found no code that reads Owner.dogs" in f.message
    rows = "from pydantic import BaseModel\nclass DogOut(BaseModel):\n    name: str\nclass OwnerOut(BaseModel):\n    dogs: list[DogOut]\n"
    g = _dog(found(tmp_path / "b", {"app/models.py": PARK, "app/schemas.py": rows}, "PERF001"))
    assert g.severity == Severity.WARNING
    assert ("the relationship Owner.dogs loads its rows by it (the read model OwnerOut serializes it at "
            "app/schemas.py:5)") in g.message


def test_a_value_given_by_a_call_leaves_the_test_readable(tmp_path):
    """`Dog.owner_id == current(user).id`: the call gives the value the key is compared with, so the read by owner_id
    is read (not "a condition dbreview could not read") and scans; a call that is the condition itself stays unread."""
    reads = """
from sqlalchemy import delete
from app.models import Dog
from app.who import current
def forget(session, user):
    session.execute(delete(Dog).where(Dog.owner_id == current(user).id, Dog.name == "rex"))
"""
    f = _dog(found(tmp_path / "a", {"app/models.py": KENNEL, "app/reads.py": reads, "app/who.py": "def current(u):\n    return u\n",
                                    **calls("reads", "forget")}, "PERF001"))
    assert f.severity == Severity.WARNING
    assert ("the bulk delete at app/reads.py:6 filters on it (that read also compares name with a value, which no index "
            "leads either: an index led by it would serve it too), so each such read scans dogs") in f.message


BLOG = HEADER + """
from sqlalchemy import Column, PrimaryKeyConstraint, Table
from sqlalchemy.orm import relationship

post_tags = Table(
    "post_tags",
    Base.metadata,
    Column("post_id", Integer, ForeignKey("posts.id")),
    Column("tag_id", Integer, ForeignKey("tags.id")),
    PrimaryKeyConstraint("post_id", "tag_id"),
)

class Tag(Base):
    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Post(Base):
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tags = relationship("Tag", secondary=post_tags)
"""


def test_a_join_through_a_link_table_filtered_by_the_other_side_reads_it_by_that_key(tmp_path):
    """`.join(Post.tags).filter(Tag.id == t)`: the join makes post_tags.tag_id equal to tags.id, which the query
    compares with a value, so it finds post_tags rows by tag_id, which the primary key (post_id, tag_id) does not
    serve; filtered by the post instead, it reads them by post_id, which the key serves."""
    reads = """
from sqlalchemy.orm import Session
from app.models import Post, Tag
def tagged(session, tag_id):
    return session.query(Post).join(Post.tags).filter(Tag.id == tag_id).all()
"""
    f = [f for f in found(tmp_path / "a", {"app/models.py": BLOG, "app/reads.py": reads, **calls("reads", "tagged")}, "PERF001")
         if f.anchor == "table:post_tags.tag_id"]
    assert [g.severity for g in f] == [Severity.WARNING]
    assert ("the query at app/reads.py:5 finds post_tags rows by it: its joins make it equal to tags.id, which it "
            "compares with a value, so each such read scans post_tags") in f[0].message
    mine = reads.replace("Tag.id == tag_id", "Post.id == tag_id")
    g = [f for f in found(tmp_path / "b", {"app/models.py": BLOG, "app/reads.py": mine, **calls("reads", "tagged")}, "PERF001")
         if f.anchor == "table:post_tags.tag_id"]
    assert [x.severity for x in g] == [Severity.INFO]


TEAMS = HEADER + """
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String, unique=True)

class Org(Base):
    __tablename__ = "orgs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Member(Base):
    __tablename__ = "members"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), primary_key=True)

class Review(Base):
    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"))

class Ticket(Base):
    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"), index=True)
"""

TEAMS_MIGRATED = revision("""
op.create_table("users", sa.Column("id", sa.Integer, primary_key=True), sa.Column("email", sa.String, unique=True))
op.create_table("orgs", sa.Column("id", sa.Integer, primary_key=True))
op.create_table(
    "members",
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("org_id", sa.Integer, sa.ForeignKey("orgs.id"), primary_key=True),
)
op.create_table("reviews", sa.Column("id", sa.Integer, primary_key=True), sa.Column("org_id", sa.Integer, sa.ForeignKey("orgs.id")))
op.create_table("tickets", sa.Column("id", sa.Integer, primary_key=True), sa.Column("review_id", sa.Integer, sa.ForeignKey("reviews.id"), index=True))
""")


def _members(tmp_path, reads: str, *functions: str):
    files = {"app/models.py": TEAMS, "migrations/versions/0001_init.py": TEAMS_MIGRATED, "app/reads.py": reads,
             **calls("reads", *functions)}
    return {f.anchor: f for f in found(tmp_path, files, "PERF001")}


def test_a_join_condition_gives_the_leading_column_only_from_a_side_found_first(tmp_path):
    """`.join(User, User.id == Member.user_id).where(Member.org_id == o)`: nothing gives user_id a value, so the primary
    key (user_id, org_id) does not find the members of an org: the read scans. Where the query also narrows users
    by another column, whether the plan finds users first dbreview cannot tell; where it compares users.id with a
    value, the join gives user_id that value and the key serves the read."""
    listing = """
from sqlalchemy import select
from app.models import Member, User
def members(session, org_id):
    return session.scalars(select(Member).join(User, User.id == Member.user_id).where(Member.org_id == org_id)).all()
"""
    f = _members(tmp_path / "a", listing, "members")["table:members.org_id"]
    assert f.severity == Severity.WARNING
    assert "the query at app/reads.py:5 filters on it, so each such read scans members" in f.message
    by_mail = listing.replace("Member.org_id == org_id)", "Member.org_id == org_id, User.email == org_id)")
    g = _members(tmp_path / "b", by_mail, "members")["table:members.org_id"]
    assert g.severity == Severity.INFO
    assert ("whether it finds members rows through its join on user_id from a table it narrows by another column, so "
            "that the primary key (user_id, org_id) serves it, dbreview cannot tell") in g.message
    pinned = listing.replace("Member.org_id == org_id)", "Member.org_id == org_id, User.id == org_id)")
    h = _members(tmp_path / "c", pinned, "members")["table:members.org_id"]
    assert h.severity == Severity.INFO and "also tests user_id, which the primary key (user_id, org_id) is led by" in h.message


def test_a_join_reads_the_table_it_joins_to_not_the_one_it_starts_from(tmp_path):
    """`.outerjoin(Review, Ticket.review_id == Review.id).join(Org, Org.id == Review.org_id)` looks reviews up by their
    primary key and orgs by theirs: no read of reviews by org_id. `.join(Review, Review.org_id == Org.id)` from orgs
    looks reviews up by org_id."""
    out = """
from sqlalchemy import select
from app.models import Org, Review, Ticket
def tickets(session):
    return session.execute(select(Ticket, Org).outerjoin(Review, Ticket.review_id == Review.id).join(Org, Org.id == Review.org_id)).all()
"""
    f = _members(tmp_path / "a", out, "tickets")["table:reviews.org_id"]
    assert f.severity == Severity.INFO and "dbreview found no query of the application that filters or joins reviews" in f.message
    into = """
from sqlalchemy import select
from app.models import Org, Review
def reviews(session):
    return session.execute(select(Org, Review).join(Review, Review.org_id == Org.id)).all()
"""
    g = _members(tmp_path / "b", into, "reviews")["table:reviews.org_id"]
    assert g.severity == Severity.WARNING and "the query at app/reads.py:5 joins reviews through it" in g.message


def test_the_files_not_read_are_listed_in_one_order_whatever_the_hash_seed():
    """The files the scan did not read (they name no SQLAlchemy) are searched for mentions in the order Symbols lists
    them: sorted, not a set's order, so a finding that cites the first call it meets cites the same one every run."""
    from analyzers.facts.symbols import Symbols

    paths = ["app/views/zeta.py", "app/api/alpha.py", "app/views/beta.py", "app/core/delta.py"]
    assert list(Symbols([], paths).unread.values()) == sorted(paths)
    assert list(Symbols([], reversed(paths)).unread.values()) == sorted(paths)


def test_a_module_named_relationships_is_no_walk_of_the_mappers_relationships(tmp_path):
    """`from app.graph.relationships import link` names a module: no code that walks every relationship of a mapper, so
    Owner.dogs, which nothing reads, stays unread (info); `inspect(obj).relationships` walks them (may read it, which
    dbreview cannot tell: an info that says so)."""
    graph = "from app.graph.relationships import link\ndef run():\n    return link()\n"
    f = _dog(found(tmp_path / "a", {"app/models.py": PARK, "app/jobs.py": graph}, "PERF001"))
    assert f.severity == Severity.INFO and "dbreview found no code that reads Owner.dogs" in f.message
    walk = "from sqlalchemy import inspect\ndef dump(obj):\n    return [r.key for r in inspect(obj).relationships]\n"
    g = _dog(found(tmp_path / "b", {"app/models.py": PARK, "app/dump.py": walk}, "PERF001"))
    assert g.severity == Severity.INFO
    assert ("dbreview found no code it can tell reads Owner.dogs (the code walks the mapper's relationships at "
            "app/dump.py:3)") in g.message


def test_a_filter_built_from_names_is_named_as_not_followed(tmp_path):
    """A filter spec that names the model and the key in strings (`{"model": "Dog", "field": "owner_id"}`) may read the
    table by it at run time: the info says so; a help text that mentions a relationship's name is no read of it."""
    spec = '''
FILTERS = [{"model": "Dog", "field": "owner_id", "op": "=="}]
HELP = "the 'dogs' of an owner"
'''
    f = _dog(found(tmp_path / "a", {"app/models.py": PARK, "app/filters.py": spec}, "PERF001"))
    assert f.severity == Severity.INFO and "dbreview found no code that reads Owner.dogs" in f.message
    assert ("(not followed: 'Dog' and 'owner_id' named in strings at app/filters.py:2 (a filter built from names at run "
            "time may read it))") in f.message


def test_what_was_not_followed_bounds_the_conclusion(tmp_path):
    """Where something was not followed, "only the foreign key check scans" holds only for what dbreview followed, and
    the finding says so; a generic repository that looks the key up by name on whatever model it is handed
    (`getattr(self.model, "owner_id")`, then compares it) is named as such; a lookup on a log record is not."""
    crud = """
class Repository:
    def __init__(self, model):
        self.model = model
    def filters(self, owner):
        if hasattr(self.model, "owner_id"):
            return [getattr(self.model, "owner_id") == owner.id]
        return []
def log_fields(record):
    return getattr(record, "owner_id", None)
"""
    f = _dog(found(tmp_path / "a", {"app/models.py": KENNEL, "app/crud.py": crud}, "PERF001"))
    assert f.severity == Severity.INFO
    assert ("the code names owner_id where it may filter dogs in shapes dbreview does not follow (not followed: 'owner_id' "
            "looked up by name on an object whose class dbreview cannot tell at app/crud.py:6 (a generic helper that filters "
            "any model by it may read it)): if it does, each such read scans dogs without an index, so the only scan of dogs "
            "by owner_id that dbreview can show is the foreign key check on deleting (or changing the key of) a row of "
            "owners") in f.message
    assert f.message.endswith(UNRULED)
    logged = _dog(found(tmp_path / "b", {"app/models.py": KENNEL, "app/log.py": crud.split("class Repository")[0]
                                         + "def log_fields(record):\n    return getattr(record, 'owner_id', None) == 1\n"},
                        "PERF001"))
    assert "not followed" not in logged.message


def test_a_test_in_an_or_says_so_and_one_in_a_negated_subquery_is_a_read(tmp_path):
    """`(Dog.name == n) | (Dog.owner_id == o)`: an index on owner_id serves that branch only if name has one too, which
    the finding says; `~exists(select(Dog.id).where(Dog.owner_id == Owner.id))` looks dogs up by owner_id inside the
    subquery (the NOT is of the EXISTS, not of the test)."""
    either = """
from sqlalchemy import select
from app.models import Dog
def dogs(session, n, o):
    cond = (Dog.name == n) | (Dog.owner_id == o)
    return session.scalars(select(Dog).where(cond)).all()
"""
    f = _dog(found(tmp_path / "a", {"app/models.py": KENNEL, "app/reads.py": either, **calls("reads", "dogs")}, "PERF001"))
    assert ("the condition at app/reads.py:5 filters on it (in an OR: an index serves that test only if every branch of "
            "the OR has one)") in f.message
    lonely = """
from sqlalchemy import exists, select
from app.models import Dog, Owner
def lonely(session):
    return session.scalars(select(Owner).where(~exists(select(Dog.id).where(Dog.owner_id == Owner.id)))).all()
"""
    g = _dog(found(tmp_path / "b", {"app/models.py": KENNEL, "app/reads.py": lonely, **calls("reads", "lonely")}, "PERF001"))
    assert g.severity == Severity.WARNING and "app/reads.py:5" in g.message


NAMED = KENNEL.replace('    name: Mapped[str] = mapped_column(String)', '    name: Mapped[str] = mapped_column(String, index=True)')


def test_a_query_with_a_filter_it_cannot_read_on_a_table_with_another_index_is_one_it_cannot_tell_about(tmp_path):
    """`.where(Dog.owner_id == o)` then `.where(extra)`, a filter made elsewhere: whether the read also tests name, which
    an index leads, dbreview cannot tell, so it does not claim the read scans; a condition built apart (`conds = [...]`)
    is weighed by what it tests, as before."""
    reads = """
from sqlalchemy import select
from app.models import Dog
def dogs(session, o, extra):
    stmt = select(Dog).where(Dog.owner_id == o)
    stmt = stmt.where(extra)
    return session.scalars(stmt).all()
"""
    f = _dog(found(tmp_path / "a", {"app/models.py": NAMED, "app/reads.py": reads, **calls("reads", "dogs")}, "PERF001"))
    assert f.severity == Severity.INFO
    assert ("filters on it, with a condition dbreview could not read: whether it also tests a column another index leads "
            "(the index (name)") in f.message


POLICY = revision("""
op.create_table("owners", sa.Column("id", sa.Integer, primary_key=True))
op.create_table(
    "dogs",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("owner_id", sa.Integer, sa.ForeignKey("owners.id")),
    sa.Column("name", sa.String),
)
op.create_index("ix_dogs_name", "dogs", ["name"])
op.execute("ALTER TABLE dogs ENABLE ROW LEVEL SECURITY")
op.execute("CREATE POLICY dog_owner ON dogs USING (owner_id = current_setting('app.owner')::int)")
""")


def test_a_policys_test_is_no_scan_where_every_query_compares_an_indexed_column(tmp_path):
    """The policy adds `owner_id = ...` to every query of dogs; where every query dbreview follows also compares name,
    which an index leads, those queries find their rows through it: info, naming the index; a query that compares
    no indexed column leaves the policy's test to find its rows: warning."""
    named = """
from sqlalchemy import select
from app.models import Dog
def by_name(session, n):
    return session.scalars(select(Dog).where(Dog.name == n)).all()
"""
    files = {"app/models.py": NAMED, "migrations/versions/0001_init.py": POLICY, **calls("reads", "by_name")}
    f = _dog(found(tmp_path / "a", {**files, "app/reads.py": named}, "PERF001"))
    assert f.severity == Severity.INFO
    assert ("but the one query of dogs that dbreview could follow also compares with a value a column an index "
            "leads (name, which the index (name) is led by, or another)") in f.message
    every = named + "def every(session):\n    return session.scalars(select(Dog)).all()\n"
    g = _dog(found(tmp_path / "b", {**files, "app/reads.py": every, **calls("reads", "by_name", "every")}, "PERF001"))
    assert g.severity == Severity.WARNING and "the policy dog_owner on dogs adds a test of it" in g.message


def test_a_test_in_an_or_with_another_tables_column_or_a_flag_is_no_read_an_index_on_the_key_serves(tmp_path):
    """`(Owner.city == c) | (Dog.owner_id == o)`: the other branch tests another table's column, so no index of dogs
    finds the rows of that OR (nor one beside a flag most rows share): an index on owner_id would not change that
    read, and the finding says so (info); beside a column of dogs an index may lead, the OR is a read as before."""
    model = KENNEL.replace("from sqlalchemy import DateTime,", "from sqlalchemy import Boolean, DateTime,").replace(
        "    name: Mapped[str] = mapped_column(String)\n",
        "    name: Mapped[str] = mapped_column(String)\n    shown: Mapped[bool] = mapped_column(Boolean)\n")
    model = model.replace('    __tablename__ = "owners"\n', '    __tablename__ = "owners"\n    city: Mapped[str] = mapped_column(String)\n')
    either = """
from sqlalchemy import or_, select
from app.models import Dog, Owner
def dogs(session, c, o):
    return session.scalars(select(Dog).join(Owner).where((Owner.city == c) | (Dog.owner_id == o))).all()
def shown(session, o):
    return session.scalars(select(Dog).where(or_(Dog.owner_id == o, Dog.shown.is_(True)))).all()
"""
    f = _dog(found(tmp_path / "a", {"app/models.py": model, "app/reads.py": either, **calls("reads", "dogs", "shown")}, "PERF001"))
    assert f.severity == Severity.INFO
    assert ("the condition at app/reads.py:5 filters on it in an OR with `Owner.city == c` (and 1 more such): that branch "
            "finds no dogs row through an index of dogs (another table's column, or a test no index narrows), so an index "
            "on owner_id would not keep that read from scanning") in f.message
    assert ("so of the reads an index on it would serve, the only scan of dogs by owner_id that dbreview can show is the "
            "foreign key check") in f.message
    named = either.replace("(Owner.city == c) | (Dog.owner_id == o)", "(Dog.name == c) | (Dog.owner_id == o)")
    g = _dog(found(tmp_path / "b", {"app/models.py": model, "app/reads.py": named, **calls("reads", "dogs", "shown")}, "PERF001"))
    assert g.severity == Severity.WARNING and "(in an OR: an index serves that test only if every branch" in g.message


GROUPS = HEADER + """
class GroupKind(Base):
    __tablename__ = "group_kinds"
    name: Mapped[str] = mapped_column(String(16), primary_key=True)

class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)

class Group(Base):
    __tablename__ = "groups"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(ForeignKey("group_kinds.name"))

class Membership(Base):
    __tablename__ = "memberships"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
"""


def test_a_key_tested_beside_a_join_chain_from_a_narrowed_table_is_no_sure_scan(tmp_path):
    """User by name, its memberships by user_id, their groups by id, and groups.kind == "user" beside: a plan
    finds the groups through that chain of indexes, so "each such read scans groups" is not what dbreview can say."""
    reads = """
from app.models import Group, Membership, User
def user_groups(session, name):
    return session.query(Group).filter(
        User.name == name, Membership.user_id == User.id, Membership.group_id == Group.id, Group.kind == "user").all()
"""
    (f,) = [f for f in found(tmp_path, {"app/models.py": GROUPS, "app/reads.py": reads, **calls("reads", "user_groups")},
                             "PERF001") if f.anchor == "table:groups.kind"]
    assert f.severity == Severity.INFO and "scans groups" not in f.message.split(";")[0]
    assert "through its join on id" in f.message

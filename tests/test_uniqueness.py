"""Business-rule uniqueness and one-row lookups (issue 8, recall family 1): each case a small repository of our
own, with the exact finding (or its absence) pinned."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.test_precision import HEADER, found, revision

# -- a unique key with a nullable column (INT012) --------------------------------------------------------------

_TAGS = HEADER + """
from sqlalchemy import Index, UniqueConstraint, text

class Vocabulary(Base):
    __tablename__ = "vocabularies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Tag(Base):
    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("name", "vocabulary_id"),{extra})
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    vocabulary_id: Mapped[int | None] = mapped_column(ForeignKey("vocabularies.id"))
"""

_FREE_TAG = """
from sqlalchemy.orm import Session
from app.models import Tag

def free_tag(session, name):
    return session.query(Tag).filter(Tag.name == name).filter(Tag.vocabulary_id.is_(None)).first()
"""


def test_a_key_looked_up_with_its_nullable_column_null_is_reported(tmp_path):
    (f,) = found(tmp_path, {"app/models.py": _TAGS.format(extra=""), "app/tags.py": _FREE_TAG}, "INT012")
    assert f.severity == Severity.WARNING and f.anchor == "table:tags:nulls-distinct:name,vocabulary_id"
    assert f.location.path == "app/models.py" and f.location.start_line == 19
    assert f.message == (
        "The unique constraint on tags (name, vocabulary_id) does not hold for rows whose vocabulary_id is NULL: SQL "
        "counts no two NULLs equal, so any number of tags rows with the same name and no vocabulary_id can be "
        "inserted; yet free_tag looks a row up by name with vocabulary_id IS NULL (app/tags.py:6), as if there "
        "were one. A partial unique index on (name) WHERE vocabulary_id IS NULL beside it holds it")


def test_a_partial_index_or_nulls_not_distinct_holds_the_null_case(tmp_path):
    partial = ' Index("uq_free", "name", unique=True, postgresql_where=text("vocabulary_id IS NULL")),'
    assert found(tmp_path / "1", {"app/models.py": _TAGS.format(extra=partial), "app/tags.py": _FREE_TAG}, "INT012") == []
    distinct = _TAGS.format(extra="").replace('UniqueConstraint("name", "vocabulary_id")',
                                              'UniqueConstraint("name", "vocabulary_id", postgresql_nulls_not_distinct=True)')
    assert found(tmp_path / "2", {"app/models.py": distinct, "app/tags.py": _FREE_TAG}, "INT012") == []
    # tracecat (judged wrong): a partial index WHERE vocabulary_id IS NULL over the other columns and one more
    scoped = _TAGS.format(extra=' Index("uq_free", "owner", "name", unique=True, postgresql_where=text("vocabulary_id IS NULL")),')
    scoped = scoped.replace("    name: Mapped[str]", "    owner: Mapped[str] = mapped_column(String(40))\n    name: Mapped[str]")
    assert found(tmp_path / "3", {"app/models.py": scoped, "app/tags.py": _FREE_TAG}, "INT012") == []


def test_without_a_lookup_of_the_null_case_nothing_is_said(tmp_path):
    """A nullable column in a key may be an optional part nobody treats as a key when it is NULL: no finding."""
    code = _FREE_TAG.replace("Tag.vocabulary_id.is_(None)", "Tag.vocabulary_id == 3")
    assert found(tmp_path, {"app/models.py": _TAGS.format(extra=""), "app/tags.py": code}, "INT012") == []


def test_the_migrations_nullability_wins_over_the_models(tmp_path):
    """The table the migrations build has vocabulary_id NOT NULL: the NULL case never happens there."""
    migration = revision("""
        op.create_table("vocabularies", sa.Column("id", sa.Integer(), primary_key=True))
        op.create_table(
            "tags",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("name", sa.String(100), nullable=False),
            sa.Column("vocabulary_id", sa.Integer(), sa.ForeignKey("vocabularies.id"), nullable=False),
            sa.UniqueConstraint("name", "vocabulary_id"),
        )
    """)
    files = {"app/models.py": _TAGS.format(extra=""), "app/tags.py": _FREE_TAG, "migrations/versions/0001_a.py": migration}
    assert found(tmp_path, files, "INT012") == []


def test_a_soft_delete_time_in_a_key_never_compares_live_rows(tmp_path):
    model = HEADER + """
from sqlalchemy import UniqueConstraint

class Member(Base):
    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("email", "deleted_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(255))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
"""
    (f,) = found(tmp_path, {"app/models.py": model}, "INT012")
    assert f.severity == Severity.WARNING and f.anchor == "table:members:nulls-distinct:email,deleted_at"
    assert f.message.startswith(
        "The unique constraint on members (email, deleted_at) never compares two live rows: a live row's deleted_at is "
        "NULL and SQL counts no two NULLs equal, so any number of live members rows with the same email can be inserted")
    assert f.message.endswith("A partial unique index on (email) WHERE deleted_at IS NULL in its place holds it")


# -- a lookup that fetches exactly one row (INT010) ------------------------------------------------------------

def test_one_on_a_pair_no_key_covers_is_reported(tmp_path):
    """`.one()` raises MultipleResultsFound on two rows, as one_or_none() does."""
    model = HEADER + """
class Link(Base):
    __tablename__ = "links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(Integer)
    tag_id: Mapped[int] = mapped_column(Integer)
"""
    code = """
from sqlalchemy.orm import Session
from app.models import Link

def unlink(session, post_id, tag_id):
    link = session.query(Link).filter(Link.post_id == post_id).filter(Link.tag_id == tag_id).one()
    session.delete(link)

HANDLERS = {"unlink": unlink}
"""
    (f,) = found(tmp_path, {"app/models.py": model, "app/links.py": code}, "INT010")
    assert f.severity == Severity.WARNING and f.anchor == "function:app/links.py:unlink:Link:one-or-none"
    assert f.message.startswith("unlink fetches Link with one() by post_id, tag_id, which no unique constraint or index "
                                "of links covers: when two rows match it raises MultipleResultsFound")


# -- a lookup, then an insert of the same values, with no unique key (INT013) ----------------------------------

_MEMBERS = HEADER + """
from sqlalchemy import UniqueConstraint

class Member(Base):
    __tablename__ = "members"
    {args}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    ref_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20))
"""

_ADD_MEMBER = """
from sqlalchemy.orm import Session
from app import models

def add_member(session, group, kind, obj):
    member = session.query(models.Member).\\
        filter(models.Member.kind == kind).\\
        filter(models.Member.ref_id == obj.id).\\
        filter(models.Member.group_id == group.id).first()
    if member:
        member.state = "active"
    else:
        member = models.Member(kind=kind, ref_id=obj.id, group_id=group.id, state="active")
    session.add(member)
"""


def test_an_insert_in_the_else_of_a_lookup_with_the_same_values_is_reported(tmp_path):
    (f,) = found(tmp_path, {"app/models.py": _MEMBERS.format(args=""), "app/members.py": _ADD_MEMBER}, "INT013")
    assert f.severity == Severity.INFO and f.anchor == "function:app/members.py:add_member:Member:check-then-insert"
    assert f.location.start_line == 6
    assert f.message == (
        "add_member looks Member up by group_id, kind, ref_id and, when it finds none, creates one with the same "
        "group_id, kind, ref_id (app/members.py:13); no unique constraint or index of members covers (group_id, kind, "
        "ref_id), so two calls at once can both find nothing and both insert, and the table keeps both: this lookup's "
        "`first()` then returns one of them, which one is not defined, and nothing fails")


def test_a_lookup_that_raises_on_a_second_row_keeps_the_warning(tmp_path):
    """`one_or_none()` fails once the duplicate is there: the race turns into errors on this lookup."""
    code = _ADD_MEMBER.replace("filter(models.Member.group_id == group.id).first()",
                               "filter(models.Member.group_id == group.id).one_or_none()")
    (f,) = found(tmp_path, {"app/models.py": _MEMBERS.format(args=""), "app/members.py": code}, "INT013")
    assert f.severity == Severity.WARNING
    assert f.message.endswith("and the next run of this lookup raises on the two rows (`one_or_none()`)")


def test_a_lookup_after_the_function_locks_the_parent_row_is_not_reported(tmp_path):
    """The function locks the group's row first (`with_for_update()`): a second caller waits on it, then its lookup
    sees the row the first one made; a lock named only in a comment does not count."""
    locked = _ADD_MEMBER.replace("def add_member(session, group, kind, obj):\n",
                                 "def add_member(session, group, kind, obj):\n"
                                 "    session.query(models.Group).filter_by(id=group.id).with_for_update().one()\n")
    assert found(tmp_path / "a", {"app/models.py": _MEMBERS.format(args=""), "app/members.py": locked}, "INT013") == []
    said = _ADD_MEMBER.replace("def add_member(session, group, kind, obj):\n",
                               "def add_member(session, group, kind, obj):\n    # no with_for_update() here\n")
    (f,) = found(tmp_path / "b", {"app/models.py": _MEMBERS.format(args=""), "app/members.py": said}, "INT013")
    assert f.anchor == "function:app/members.py:add_member:Member:check-then-insert"


_KEYED = '__table_args__ = (UniqueConstraint("group_id", "kind", "ref_id"),)'


def test_a_unique_key_over_the_looked_up_columns_turns_the_race_into_an_integrity_error(tmp_path):
    """The key holds the duplicate out, so the second of two calls at once fails on its INSERT: nothing in the
    function meets that, so it is a failed request instead of the row the first call made."""
    (f,) = found(tmp_path, {"app/models.py": _MEMBERS.format(args=_KEYED), "app/members.py": _ADD_MEMBER}, "INT013")
    assert f.severity == Severity.INFO and f.anchor == "function:app/members.py:add_member:Member:unguarded-insert"
    assert (f.location.start_line, f.related[0].location.start_line) == (6, 13)
    assert f.message == (
        "add_member looks Member up by group_id, kind, ref_id and, when it finds none, inserts one with the same "
        "group_id, kind, ref_id (app/members.py:13); the unique key (group_id, kind, ref_id) of members holds the "
        "duplicate out, but nothing in add_member meets it (no ON CONFLICT, no lock, no savepoint, no `except "
        "IntegrityError`): when two calls run at once both find nothing and the second's INSERT fails with "
        "IntegrityError, a failed request or job instead of the row the first one made, unless a caller catches it")


def test_a_primary_key_lookup_then_insert_is_named_as_the_primary_key(tmp_path):
    model = HEADER + """
class Day(Base):
    __tablename__ = "days"
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
"""
    code = """
from sqlalchemy import select
from app.models import Day

def day_row(session, day):
    row = session.scalars(select(Day).where(Day.day == day)).first()
    if row is None:
        row = Day(day=day, hits=0)
        session.add(row)
    return row
"""
    (f,) = found(tmp_path, {"app/models.py": model, "app/days.py": code}, "INT013")
    assert "the primary key (day) of days holds the duplicate out" in f.message


def test_a_keyed_insert_the_function_meets_is_not_reported(tmp_path):
    """An upsert, a merge, a savepoint, a lock, a serializable transaction or an except that catches the error (by
    name or any exception) anywhere in the function: the second call's failure is met (a comment does not count)."""
    body = ("    if member:\n        member.state = \"active\"\n    else:\n"
            "        member = models.Member(kind=kind, ref_id=obj.id, group_id=group.id, state=\"active\")\n"
            "    session.add(member)\n")
    guards = {
        "nested": "    with session.begin_nested():\n        session.flush()\n",
        "merged": "    session.merge(member)\n",
        "caught": "    try:\n        session.commit()\n    except exc.IntegrityError:\n        session.rollback()\n",
        "broad": "    try:\n        session.commit()\n    except Exception:\n        session.rollback()\n        raise\n",
        "serial": "    session.connection(execution_options={\"isolation_level\": \"SERIALIZABLE\"})\n",
        "locked": "    session.execute(text(\"SELECT pg_advisory_xact_lock(1)\"))\n",
    }
    models = _MEMBERS.format(args=_KEYED)
    for name, guard in guards.items():
        code = _ADD_MEMBER.replace(body, body + guard)
        assert code != _ADD_MEMBER
        assert found(tmp_path / name, {"app/models.py": models, "app/members.py": code}, "INT013") == [], name
    said = _ADD_MEMBER.replace(body, body + "    # IntegrityError cannot happen here, see begin_nested() elsewhere\n")
    (f,) = found(tmp_path / "said", {"app/models.py": models, "app/members.py": said}, "INT013")
    assert f.anchor.endswith(":unguarded-insert")


_PERSONA = HEADER + """
class Persona(Base):
    __tablename__ = "personas"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(20), unique=True)

    def create(self, session):
        try:
            session.add(self)
            session.commit()
        except IntegrityError:
            session.rollback()
            return False
        return True
""".replace("import uuid", "import uuid\nfrom sqlalchemy.exc import IntegrityError")

_NAMED = """
from app.models import Persona

def named(session, name):
    persona = session.query(Persona).filter(Persona.name == name).first()
    if persona is None:
        persona = Persona(name=name)
        {save}
    return persona
"""


def test_a_row_saved_by_a_helper_that_meets_the_refused_insert_is_not_reported(tmp_path):
    """`persona.create(session)` adds, commits and catches the IntegrityError itself: the race fails no request.
    A helper that does not catch it leaves the finding as it was."""
    code = _NAMED.format(save="persona.create(session)")
    assert found(tmp_path / "met", {"app/models.py": _PERSONA, "app/personas.py": code}, "INT013") == []
    bare = _PERSONA.replace("except IntegrityError", "except ValueError")
    (f,) = found(tmp_path / "bare", {"app/models.py": bare, "app/personas.py": code}, "INT013")
    assert f.anchor == "function:app/personas.py:named:Persona:unguarded-insert" and f.location.start_line == 5


def test_a_row_built_and_returned_that_nothing_saves_is_not_reported(tmp_path):
    """A default built for display (`return Persona(name=name)` to a caller that only shows it) is never
    inserted: no race. Where a caller adds it, the finding stays."""
    code = _NAMED.format(save="persona.name = name.title()")
    shown = "from app.personas import named\n\ndef show(session, name):\n    return {'name': named(session, name).name}\n"
    assert found(tmp_path / "shown", {"app/models.py": _PERSONA, "app/personas.py": code, "app/views.py": shown},
                 "INT013") == []
    kept = shown.replace("    return", "    row = named(session, name)\n    session.add(row)\n    return")
    (f,) = found(tmp_path / "kept", {"app/models.py": _PERSONA, "app/personas.py": code, "app/views.py": kept}, "INT013")
    assert f.rule_id == "INT013" and f.severity == Severity.INFO


def test_callers_that_catch_the_integrity_error_are_named(tmp_path):
    """Every caller wraps the call in `try: ... except IntegrityError`: nothing fails. Where only some do, the
    finding stays and names which do and which do not; a caller's broad `except Exception` is not taken."""
    code = _NAMED.format(save="session.add(persona)")
    retry = ("from sqlalchemy.exc import IntegrityError\nfrom app.personas import named\n\n"
             "def lookup(session, name):\n    for _ in range(3):\n        try:\n            return named(session, name)\n"
             "        except IntegrityError:\n            session.rollback()\n")
    files = {"app/models.py": _PERSONA, "app/personas.py": code, "app/api.py": retry}
    assert found(tmp_path / "all", files, "INT013") == []
    system = "\ndef system_user(session):\n    return named(session, 'system')\n"
    (f,) = found(tmp_path / "some", {**files, "app/api.py": retry + system}, "INT013")
    assert f.message.endswith("instead of the row the first one made: lookup catches it around its call; "
                              "system_user does not")
    assert [r.location.start_line for r in f.related] == [7, 7]
    retried = ("import pyramid_retry\nfrom sqlalchemy.exc import IntegrityError\n\ndef includeme(config):\n"
               "    pyramid_retry.mark_error_retryable(IntegrityError)\n")
    assert found(tmp_path / "retried", {**files, "app/api.py": retry + system, "app/app.py": retried}, "INT013") == []
    broad = retry.replace("except IntegrityError", "except Exception")
    (f,) = found(tmp_path / "broad", {**files, "app/api.py": broad}, "INT013")
    assert f.message.endswith("unless a caller catches it")


def test_a_command_line_command_is_one_writer_and_start_up_code_is_said(tmp_path):
    """A click command (or a function only the command-line tooling calls) runs when an operator types it: no
    race worth a finding. A function run only as the application starts (`init_db`) keeps the finding, which
    says that two calls at once need two processes starting together."""
    code = _NAMED.format(save="session.add(persona)")
    command = "import click\n" + code.replace("def named(", "@click.command()\ndef named(")
    assert found(tmp_path / "cmd", {"app/models.py": _PERSONA, "app/personas.py": command}, "INT013") == []
    cli = "from app.personas import named\n\ndef main(session):\n    named(session, 'admin')\n"
    assert found(tmp_path / "cli", {"app/models.py": _PERSONA, "app/personas.py": code, "app/cli/admin.py": cli},
                 "INT013") == []
    start = code.replace("def named(", "def init_db(")
    (f,) = found(tmp_path / "start", {"app/models.py": _PERSONA, "app/personas.py": start}, "INT013")
    assert f.anchor == "function:app/personas.py:init_db:Persona:unguarded-insert"
    assert f.message.endswith("unless a caller catches it; but init_db runs only as the application starts: two calls "
                              "at once need two processes starting together on one database")


def test_a_lookup_by_a_surrogate_id_or_in_test_set_up_is_not_reported(tmp_path):
    """`get(id)` then `Model(id=id)` is an upsert whose id is None for a new row; fixtures run one at a time."""
    model = HEADER + """
class Persona(Base):
    __tablename__ = "personas"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(20), unique=True)
"""
    code = """
from app.models import Persona

def upsert(session, persona_id, name):
    persona = session.query(Persona).filter(Persona.id == persona_id).first()
    if persona is None:
        persona = Persona(id=persona_id, name=name)
        session.add(persona)
    return persona
"""
    assert found(tmp_path / "id", {"app/models.py": model, "app/personas.py": code}, "INT013") == []
    named = code.replace("Persona.id == persona_id", "Persona.name == name").replace("id=persona_id, ", "")
    assert found(tmp_path / "fix", {"app/models.py": model, "app/functional_tests_fixtures/p.py": named}, "INT013") == []
    assert found(tmp_path / "deploy", {"app/models.py": model, "deploy/docker/seed.py": named}, "INT013") == []
    (f,) = found(tmp_path / "app", {"app/models.py": model, "app/personas.py": named}, "INT013")
    assert "the unique key (name) of personas" in f.message


def test_a_key_narrower_than_the_lookup_is_no_race(tmp_path):
    """A key over part of what the lookup compares refuses the insert whenever another row shares that part, race or
    not: another defect, not this one."""
    args = '__table_args__ = (UniqueConstraint("group_id", "kind"),)'
    assert found(tmp_path, {"app/models.py": _MEMBERS.format(args=args), "app/members.py": _ADD_MEMBER}, "INT013") == []


def test_other_values_in_the_constructor_are_no_check_then_insert(tmp_path):
    code = _ADD_MEMBER.replace("group_id=group.id, state", "group_id=group.parent_id, state")
    assert found(tmp_path, {"app/models.py": _MEMBERS.format(args=""), "app/members.py": code}, "INT013") == []


def test_an_insert_that_catches_the_integrity_error_is_left_alone(tmp_path):
    code = """
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from app.models import Member

def join(session, group_id, kind, ref_id):
    found = session.scalars(select(Member).filter_by(group_id=group_id, kind=kind, ref_id=ref_id)).first()
    if found is not None:
        return found
    try:
        session.add(Member(group_id=group_id, kind=kind, ref_id=ref_id, state="active"))
        session.flush()
    except IntegrityError:
        session.rollback()
"""
    assert found(tmp_path / "1", {"app/models.py": _MEMBERS.format(args=""), "app/m.py": code}, "INT013") == []
    plain = code.replace("    try:\n        session.add", "    if True:\n        session.add").replace(
        "    except IntegrityError:\n        session.rollback()\n", "")
    (f,) = found(tmp_path / "2", {"app/models.py": _MEMBERS.format(args=""), "app/m.py": plain}, "INT013")
    assert f.message.startswith("join looks Member up by group_id, kind, ref_id and, when it finds none, creates one")


def test_a_classmethod_that_looks_up_and_makes_cls_is_reported(tmp_path):
    """`cls.query.filter_by(...)` then `cls(...)` in a @classmethod of the model: the lookup and the insert of the
    class itself, as `Member(...)` after `Member.query` would be."""
    model = _MEMBERS.format(args="") + """
    @classmethod
    def get_or_create(cls, session, group_id, kind, ref_id):
        member = cls.query.filter_by(group_id=group_id, kind=kind, ref_id=ref_id).first()
        if not member:
            member = cls(group_id=group_id, kind=kind, ref_id=ref_id, state="new")
            session.add(member)
        return member

    @staticmethod
    def make(cls, group_id):
        found = Member.query.filter_by(group_id=group_id).first()
        if not found:
            found = cls(group_id=group_id)
        return found
"""
    (f,) = found(tmp_path, {"app/models.py": model}, "INT013")
    assert f.severity == Severity.INFO and f.anchor == "function:app/models.py:get_or_create:Member:check-then-insert"
    assert (f.location.path, f.location.start_line) == ("app/models.py", 24)
    assert f.message.startswith("get_or_create looks Member up by group_id, kind, ref_id and, when it finds none, creates "
                                "one with the same group_id, kind, ref_id (app/models.py:26)")


# -- a table without a primary key (INT014) -------------------------------------------------------------------

_LINKS = HEADER + """
from sqlalchemy import Column, Table, UniqueConstraint

class Post(Base):
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Tag(Base):
    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

post_tags = Table(
    "post_tags", Base.metadata,
    Column("post_id", ForeignKey("posts.id"){post}),
    Column("tag_id", ForeignKey("tags.id"), nullable=False),{extra}
)
"""


def test_a_core_link_table_without_a_key_is_reported(tmp_path):
    (f,) = found(tmp_path, {"app/models.py": _LINKS.format(post="", extra="")}, "INT014")
    assert f.severity == Severity.WARNING and f.anchor == "table:post_tags:no-primary-key"
    assert f.location.start_line == 21
    assert f.message == ("post_tags has no primary key in its Table definition and no unique key: "
                         "the same (post_id, tag_id) can be stored twice, and one of two equal rows cannot be deleted alone")


def test_a_unique_key_keeps_rows_apart(tmp_path):
    extra = '\n    UniqueConstraint("post_id", "tag_id"),'
    assert found(tmp_path / "1", {"app/models.py": _LINKS.format(post="", extra=extra)}, "INT014") == []


def test_a_mapped_class_whose_key_dbreview_does_not_see_is_left_alone(tmp_path):
    """A class's key from a helper dbreview cannot read (`id = primary_key_column()`): the mapper has one."""
    model = HEADER + """
from app.keys import primary_key_column

class Report(Base):
    __tablename__ = "reports"
    id = primary_key_column()
    title: Mapped[str] = mapped_column(String(100))
"""
    keys = "from sqlalchemy import Column, Integer\ndef primary_key_column():\n    return Column(Integer, primary_key=True)\n"
    assert found(tmp_path, {"app/models.py": model, "app/keys.py": keys}, "INT014") == []


def test_the_table_the_migrations_build_without_the_key_the_model_maps(tmp_path):
    model = HEADER + """
class Summary(Base):
    __tablename__ = "summaries"
    url: Mapped[str] = mapped_column(String(500), primary_key=True)
    day: Mapped[datetime] = mapped_column(DateTime)
    count: Mapped[int] = mapped_column(Integer)
"""
    migration = revision("""
        op.create_table(
            "summaries",
            sa.Column("url", sa.String(500), nullable=False),
            sa.Column("day", sa.DateTime(), nullable=False),
            sa.Column("count", sa.Integer(), nullable=False),
        )
    """)
    (f,) = found(tmp_path, {"app/models.py": model, "migrations/versions/0001_a.py": migration}, "INT014")
    assert f.severity == Severity.WARNING and (f.location.path, f.location.start_line) == ("migrations/versions/0001_a.py", 7)
    assert f.message == ("summaries has no primary key as the migrations build it and no unique key: "
                         "the model maps (url) as its key, which the database does not "
                         "keep unique: two rows with the same url load as one object")


def test_a_table_of_events_without_a_key_is_info(tmp_path):
    migration = revision("""
        op.create_table("hits", sa.Column("url", sa.Text(), nullable=False), sa.Column("at", sa.DateTime()))
    """)
    (f,) = found(tmp_path, {"app/models.py": HEADER, "migrations/versions/0001_a.py": migration}, "INT014")
    assert f.severity == Severity.INFO
    assert f.message.endswith("nothing keeps two equal rows apart (one cannot be updated or deleted alone), and logical "
                              "replication refuses UPDATE and DELETE on it without a replica identity")


def test_a_flag_tested_with_is_false_is_part_of_the_key_it_looks_up(tmp_path):
    """`is_list.is_(False)` compares is_list with a value, as `== False` does: (key, is_list) is a unique key."""
    model = HEADER + """
from sqlalchemy import Boolean, UniqueConstraint

class Label(Base):
    __tablename__ = "labels"
    __table_args__ = (UniqueConstraint("key", "is_list"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(50))
    is_list: Mapped[bool] = mapped_column(Boolean)
"""
    code = """
from sqlalchemy import select
from app.models import Label

def label(session, key):
    return session.execute(select(Label).where(Label.key == key, Label.is_list.is_(False))).scalar_one()

HANDLERS = [label]
"""
    assert found(tmp_path, {"app/models.py": model, "app/labels.py": code}, "INT010") == []


def test_a_row_built_for_the_reply_and_kept_in_a_local_list_is_no_insert(tmp_path):
    """security_monkey (INT013 judged wrong): a GET view builds a placeholder row where none is found, appends it to
    the list it renders and saves nothing: no INSERT to race on. Where the function adds the list, the finding stays."""
    listed = """
from app import models

def listing(session, groups, kind, obj):
    members = []
    for group in groups:
        member = session.query(models.Member).filter(models.Member.kind == kind).filter(
            models.Member.ref_id == obj.id).filter(models.Member.group_id == group.id).first()
        if member is None:
            member = models.Member(kind=kind, ref_id=obj.id, group_id=group.id, state="new")
        members.append(member)
    reply = {"items": [m.state for m in members]}
    return reply
"""
    files = {"app/models.py": _MEMBERS.format(args=_KEYED), "app/members.py": listed}
    assert found(tmp_path, files, "INT013") == []
    files["app/members.py"] = listed.replace("    return reply", "    session.add_all(members)\n    return reply")
    (f,) = found(tmp_path / "added", files, "INT013")
    assert f.anchor == "function:app/members.py:listing:Member:unguarded-insert"


# -- a lookup of `cls` on a polymorphic model, run on its subclasses (INT010) ---------------------------------

_LABELS = HEADER + """
from sqlalchemy import UniqueConstraint
from app.db import Session

class Label(Base):
    __tablename__ = "labels"
    __table_args__ = (UniqueConstraint("tag", "kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tag: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(40))
    __mapper_args__ = {"polymorphic_on": kind, "polymorphic_identity": "label"}

    @classmethod
    def by_tag(cls, tag):
        return Session.query(cls).filter(cls.tag == tag).one()

class KeepLabel(Label):
    __mapper_args__ = {"polymorphic_identity": "keep"}
"""


def _labels(caller: str) -> dict[str, str]:
    return {"app/models.py": _LABELS, "app/jobs.py": f"""
from app.models import Label, KeepLabel

def retention(tag):
    return {caller}.by_tag(tag)
"""}


def test_a_lookup_run_on_a_subclass_is_covered_by_a_unique_key_with_the_discriminator(tmp_path):
    """beaker (INT010, judged wrong): `by_tag` of the base, unique on (tag, type) with `polymorphic_on: type`, called
    only as `RetentionTag.by_tag(...)`: SQLAlchemy fixes type to the subclass's identity, the key covers the lookup.
    Called on the base class, every identity's rows are searched: two can share the tag."""
    assert found(tmp_path / "sub", _labels("KeepLabel"), "INT010") == []
    (f,) = found(tmp_path / "base", _labels("Label"), "INT010")
    assert f.severity == Severity.WARNING and "by_tag fetches Label with one() by tag" in f.message
    files = _labels("KeepLabel")  # `cls.by_tag` in the base's own body runs on whichever class calls it
    files["app/models.py"] = files["app/models.py"].replace(
        "class KeepLabel(Label):", "    @classmethod\n    def ensure(cls, tag):\n        return cls.by_tag(tag)\n\nclass KeepLabel(Label):")
    assert [f.anchor for f in found(tmp_path / "within", files, "INT010")] == [f.anchor]

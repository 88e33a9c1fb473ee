"""INT020 (issue 8): a mapped model built with a keyword it does not have, which SQLAlchemy's default constructor
refuses with a TypeError. A fixture of our own: literal keywords, literal `**{...}`, pydantic schemas spread into
the model; and the shapes that must stay silent (attributes from mixins, properties, backrefs, late assignments,
a custom __init__, a library base, dataclass and SQLModel mapping, a shadowed name, unseen **kwargs)."""

from __future__ import annotations

from analyzers.examples import facts_from_sources
from analyzers.findings import Severity
from analyzers.rules.s05_model_keywords import ModelBuiltWithUnknownKeyword

MODELS = '''
from sqlalchemy import ForeignKey, String
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, synonym

class Base(DeclarativeBase):
    pass

class Stamped:
    created_by: Mapped[str | None] = mapped_column(String(40))

class Member(Stamped, Base):
    __tablename__ = "members"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200))
    _handle: Mapped[str] = mapped_column("handle", String(40))
    alias = synonym("email")
    club_id: Mapped[int] = mapped_column(ForeignKey("clubs.id"))
    club = relationship("Club", backref="members")

    @hybrid_property
    def handle(self):
        return self._handle

    @property
    def display(self):
        return self.email

    @display.setter
    def display(self, value):
        self.email = value

class Club(Base):
    __tablename__ = "clubs"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(80))

Club.motto = "none"
'''

SCHEMAS = '''
from pydantic import BaseModel, Field

class MemberBase(BaseModel):
    email: str

class MemberIn(MemberBase):
    club_id: int
    nickname: str | None = None
    secret: str = Field(default="", exclude=True)
'''


def _found(files: dict[str, str]):
    facts = facts_from_sources({"app/models.py": MODELS, "app/schemas.py": SCHEMAS, **files})
    return list(ModelBuiltWithUnknownKeyword(facts).check())


def test_a_literal_keyword_the_model_does_not_have() -> None:
    found = _found({"app/members.py": '''
from app.models import Member

def join(session, email):
    member = Member(email=email, nickname="x")
    session.add(member)
'''})
    assert len(found) == 1
    f = found[0]
    assert (f.location.path, f.location.start_line, f.severity) == ("app/members.py", 5, Severity.WARNING)
    assert "`nickname=`" in f.message and "Member has no attribute `nickname`" in f.message
    assert "on every call" in f.message and f.anchor == "call:app/members.py:join:Member:nickname"


def test_every_attribute_kind_is_taken() -> None:
    """Columns (by attribute, not column name), a mixin's column, a synonym, a hybrid, a property with a setter,
    a relationship, a backref another model adds, an attribute set after the class: none is reported."""
    assert _found({"app/members.py": '''
from app.models import Club, Member

def join(session, email, club):
    session.add(Member(email=email, _handle="h", created_by="me", alias=email, handle="h", display=email, club=club))
    session.add(Club(title="t", members=[], motto="m", metadata=None))
'''}) == []


def test_the_column_name_is_not_the_attribute() -> None:
    found = _found({"app/members.py": '''
from app import models

def join(email):
    return models.Member(email=email, handle_x="h", **{"emails": email})
'''})
    assert sorted(f.message.split("has no attribute `")[1].split("`")[0] for f in found) == ["emails", "handle_x"]


def test_a_pydantic_schema_spread_into_the_model() -> None:
    found = _found({"app/members.py": '''
from app.models import Member
from app.schemas import MemberIn

def join(session, payload: MemberIn):
    session.add(Member(**payload.model_dump()))

def join_some(session, payload: MemberIn):
    session.add(Member(**payload.dict(exclude={"nickname"})))

def join_unset(session, payload: MemberIn):
    session.add(Member(**payload.model_dump(exclude_unset=True)))

def join_built(session, data):
    payload = MemberIn.model_validate(data)
    session.add(Member(**dict(payload)))
'''})
    by_function = {f.anchor.split(":")[2]: f for f in found}
    assert sorted(by_function) == ["join", "join_built", "join_unset"]
    assert "field `nickname`" in by_function["join"].message and "on every call" in by_function["join"].message
    assert "when `nickname` is given (exclude_unset=True)" in by_function["join_unset"].message
    assert all("secret" not in f.message for f in found)  # Field(exclude=True) is not dumped


def test_what_cannot_be_known_is_not_reported() -> None:
    assert _found({"app/members.py": '''
from app.models import Member
from app.schemas import MemberIn

def shadowed(session, Member):
    session.add(Member(nickname="x"))

def local(session):
    from app.other import Member
    session.add(Member(nickname="x"))

def unseen(session, extra: dict, payload):
    session.add(Member(email="e", **extra))
    session.add(Member(**payload.dict()))          # untyped: what it holds is not known

def aliased(session, payload: MemberIn):
    session.add(Member(**payload.model_dump(by_alias=True)))

def lowercase(session, make):
    session.add(make(nickname="x"))
'''}) == []


LIBRARY_BASE = '''
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedAsDataclass, mapped_column
from somewhere_else import AuditMixin
from sqlmodel import Field, SQLModel

class Base(DeclarativeBase):
    pass

class DataBase(MappedAsDataclass, DeclarativeBase):
    pass

class Audited(AuditMixin, Base):
    __tablename__ = "audited"
    id: Mapped[int] = mapped_column(primary_key=True)

class Framed(DataBase):
    __tablename__ = "framed"
    id: Mapped[int] = mapped_column(primary_key=True, init=False)

class Hero(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)

class Own(Base):
    __tablename__ = "own"
    id: Mapped[int] = mapped_column(primary_key=True)

    def __init__(self, **kw):
        self.extra = kw.pop("extra", None)
        super().__init__(**kw)
'''


def test_models_whose_constructor_is_not_the_default_are_left_alone() -> None:
    facts = facts_from_sources({"app/models.py": LIBRARY_BASE, "app/use.py": '''
from app.models import Audited, Framed, Hero, Own

def build():
    return [Audited(actor="x"), Framed(nickname="x"), Hero(nickname="x"), Own(extra=1)]
'''})
    assert list(ModelBuiltWithUnknownKeyword(facts).check()) == []


def test_a_custom_constructor_on_the_base_is_left_alone() -> None:
    facts = facts_from_sources({"app/models.py": '''
from sqlalchemy import Column, Integer
from sqlalchemy.orm import declarative_base

def build(self, **kw):
    for k, v in kw.items():
        setattr(self, k, v)

Base = declarative_base(constructor=build)

class Thing(Base):
    __tablename__ = "things"
    id = Column(Integer, primary_key=True)
''', "app/use.py": '''
from app.models import Thing

def make():
    return Thing(anything=1)
'''})
    assert list(ModelBuiltWithUnknownKeyword(facts).check()) == []


def test_flask_sqlalchemy_models_are_read() -> None:
    facts = facts_from_sources({"app/db.py": '''
from flask_sqlalchemy import SQLAlchemy
db = SQLAlchemy()
''', "app/models.py": '''
from app.db import db

class Post(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    body = db.Column(db.Text)
''', "app/views.py": '''
from app.models import Post

def create(body):
    return Post(body=body, title="t")
''', "tests/test_posts.py": '''
from app.models import Post

def test_it():
    Post(nope=1)
'''})
    found = list(ModelBuiltWithUnknownKeyword(facts).check())
    assert [(f.location.path, f.location.start_line) for f in found] == [("app/views.py", 5)]
    assert "`title=`" in found[0].message


def test_attributes_added_by_name_unknown_silence_the_rule() -> None:
    """setattr(cls, name, ...) in a hook: the class may have any attribute."""
    assert _found({"app/hooks.py": '''
from sqlalchemy import event
from app.models import Base

@event.listens_for(Base, "instrument_class", propagate=True)
def add_fields(mapper, cls):
    for n in cls.__extra__:
        setattr(cls, n, None)
''', "app/members.py": '''
from app.models import Member

def join(email):
    return Member(email=email, nickname="x")
'''}) == []


def test_a_setattr_on_other_classes_does_not_silence_it() -> None:
    """setattr on an instance, or on a form class by name, says nothing of the models."""
    found = _found({"app/forms.py": '''
class SettingsForm:
    pass

def build(settings, user):
    for s in settings:
        setattr(SettingsForm, s.key, None)
        setattr(user, s.key, s.value)
''', "app/members.py": '''
from app.models import Member

def join(email):
    return Member(email=email, nickname="x")
'''})
    assert [f.anchor for f in found] == ["call:app/members.py:join:Member:nickname"]


def test_a_setattr_by_unknown_name_on_the_model_silences_it_for_that_model() -> None:
    found = _found({"app/extend.py": '''
from app.models import Member

def extend(names):
    for n in names:
        setattr(Member, n, None)
''', "app/members.py": '''
from app.models import Club, Member

def join(email):
    return Member(email=email, nickname="x"), Club(title="t", colour="red")
'''})
    assert [f.anchor for f in found] == ["call:app/members.py:join:Club:colour"]


def test_a_setattr_over_listed_library_classes_does_not_silence_it() -> None:
    found = _found({"app/instrument.py": '''
from sqlalchemy.orm.strategies import JoinedLoader, LazyLoader

def restore(saved):
    for name, method in saved.items():
        for cls in [JoinedLoader, LazyLoader]:
            setattr(cls, name, method)
''', "app/members.py": '''
from app.models import Member

def join(email):
    return Member(email=email, nickname="x")
'''})
    assert [f.anchor for f in found] == ["call:app/members.py:join:Member:nickname"]


def test_a_declarative_mixin_decorator_is_read_and_other_decorators_are_not() -> None:
    models = '''
from sqlalchemy.orm import DeclarativeBase, Mapped, declarative_mixin, mapped_column
from somewhere import register

class Base(DeclarativeBase):
    pass

@declarative_mixin
class Stamped:
    stamp: Mapped[int] = mapped_column(default=0)

class Note(Stamped, Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)

@register
class Tag(Base):
    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(primary_key=True)
'''
    facts = facts_from_sources({"app/models.py": models, "app/use.py": '''
from app.models import Note, Tag

def make():
    return Note(stamp=1, colour="red"), Tag(colour="red")
'''})
    found = list(ModelBuiltWithUnknownKeyword(facts).check())
    assert [f.anchor for f in found] == ["call:app/use.py:make:Note:colour"]

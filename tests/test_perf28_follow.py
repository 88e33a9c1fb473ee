"""PERF001 and PERF005 on shapes of code nobody tuned them for (issue 7, session 28): what a relationship says in
SQLModel's `sa_relationship_kwargs` and a `secondary` given as relationship()'s second positional argument, each
rebuilt as a small repository of our own."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.growing import found_growing
from tests.test_precision import HEADER, found

_ASYNC_DB = '''
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
engine = create_async_engine("postgresql+asyncpg://app@db/app", pool_pre_ping=True)
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
'''

_GARDEN = '''
from sqlmodel import Field, Relationship, SQLModel


class Garden(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    beds: list["Bed"] = Relationship(sa_relationship_kwargs={"cascade": "all, delete-orphan"})


class Bed(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    garden_id: int = Field(foreign_key="garden.id")
    garden: Garden = Relationship(sa_relationship_kwargs=dict(lazy=LAZY))
'''

_BEDS_READ = '''
from sqlalchemy import select
from app.models import Bed


async def garden_of(session, bed_id):
    bed = (await session.execute(select(Bed).where(Bed.id == bed_id))).scalar_one()
    return bed.garden
'''


def _garden_lazy(tmp_path, lazy: str):
    files = {"app/models.py": _GARDEN.replace("LAZY", lazy), "app/db.py": _ASYNC_DB, "app/beds.py": _BEDS_READ}
    return found(tmp_path, files, "PERF005")


def test_sqlmodel_lazy_given_in_sa_relationship_kwargs_is_read(tmp_path):
    """`Relationship(sa_relationship_kwargs=dict(lazy="selectin"))` loads eagerly: reading it under AsyncSession
    raises nothing; with SQLAlchemy's default lazy loading it does."""
    assert _garden_lazy(tmp_path / "selectin", '"selectin"') == []
    assert _garden_lazy(tmp_path / "joined", '"joined"') == []
    (f,) = _garden_lazy(tmp_path / "select", '"select"')
    assert f.location.path == "app/beds.py" and f.location.start_line == 8 and f.severity == Severity.WARNING
    assert "reads Bed.garden" in f.message and "MissingGreenlet" in f.message


def test_sqlmodel_cascade_given_in_sa_relationship_kwargs_is_a_delete(tmp_path):
    """A delete-orphan cascade in sa_relationship_kwargs deletes the children through the ORM: deleting a garden
    deletes its beds, so a table keyed to bed is no longer said to be one no code deletes from."""
    models = _GARDEN.replace("LAZY", '"selectin"') + '''

class Plant(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    bed_id: int | None = Field(foreign_key="bed.id", ondelete="SET NULL")
'''
    delete = '''
from app.models import Garden


async def remove(session, garden_id):
    await session.delete(await session.get(Garden, garden_id))
'''
    no_delete = found(tmp_path / "a", {"app/models.py": models.replace('"cascade": "all, delete-orphan"', ""),
                                        "app/gardens.py": delete, "app/views.py": "from app.gardens import remove\n"}, "PERF001")
    cascaded = found(tmp_path / "b", {"app/models.py": models, "app/gardens.py": delete,
                                      "app/views.py": "from app.gardens import remove\n"}, "PERF001")
    (before,) = [f for f in no_delete if f.anchor == "table:plant.bed_id"]
    (after,) = [f for f in cascaded if f.anchor == "table:plant.bed_id"]
    assert "no code of the application that deletes a row of bed" in before.message
    assert "deletes a row of bed" not in after.message and after.severity == Severity.INFO


_WORKFLOWS = HEADER + '''
from sqlalchemy import Column, PrimaryKeyConstraint, Table
from sqlalchemy.orm import relationship

workflow_tags = Table(
    "workflow_tag", Base.metadata,
    Column("tag_id", Integer, ForeignKey("tags.id")),
    Column("workflow_id", Integer, ForeignKey("workflows.id")),
    PrimaryKeyConstraint("tag_id", "workflow_id"),
)


class Tag(Base):
    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class Workflow(Base):
    __tablename__ = "workflows"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tags = relationship("Tag", workflow_tags)
'''


def test_secondary_given_positionally_is_the_link_table(tmp_path):
    """relationship("Tag", workflow_tags): the second positional argument is `secondary`, so Workflow.tags loads
    workflow_tag rows by workflow_id, which comes second in its primary key."""
    reads = '''
from app.models import Workflow


def tag_ids(session, workflow_id):
    workflow = session.get(Workflow, workflow_id)
    return [t.id for t in workflow.tags]
'''
    files = {"app/models.py": _WORKFLOWS, "app/reads.py": reads, "app/views.py": "from app.reads import tag_ids\nPAGES = [tag_ids]\n"}
    (f,) = [f for f in found_growing(tmp_path, files, "PERF001") if f.anchor == "table:workflow_tag.workflow_id"]
    assert "the relationship Workflow.tags loads its rows through it (secondary workflow_tag)" in f.message
    assert "no relationship that loads" not in f.message


_CLINIC = HEADER + '''
from sqlalchemy.orm import relationship


def without_nulls(obj):
    return {k: v for k, v in obj.items() if v is not None}


class Provider(Base):
    __tablename__ = "providers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appointments = relationship("Appointment")


class Appointment(Base):
    __tablename__ = "appointments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
'''


def test_a_model_after_a_module_function_is_in_no_function(tmp_path):
    """A relationship declared in a class body after an uncalled module-level helper is not "in" that helper: the
    class statement ends the function, so the read is not set aside as dead code."""
    reads = '''
from app.models import Provider


def agenda(session, provider_id):
    provider = session.get(Provider, provider_id)
    return [a.id for a in provider.appointments]
'''
    files = {"app/models.py": _CLINIC, "app/reads.py": reads, "app/views.py": "from app.reads import agenda\nPAGES = [agenda]\n"}
    (f,) = [f for f in found_growing(tmp_path, files, "PERF001") if f.anchor == "table:appointments.provider_id"]
    assert "without_nulls" not in f.message
    assert f.severity == Severity.WARNING and "the relationship Provider.appointments loads its rows by it" in f.message
    assert f.location.path == "app/models.py" and f.location.start_line == 27


_TOKENS = HEADER + '''
from sqlalchemy import UniqueConstraint


class Instance(Base):
    __tablename__ = "instances"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guid: Mapped[str] = mapped_column(String)


class Person(Base):
    __tablename__ = "people"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String)


class Token(Base):
    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"))
    service: Mapped[str] = mapped_column(String)
    __table_args__ = (UniqueConstraint("person_id", "instance_id", "service"),)
'''


def _token_finding(tmp_path, reads: str):
    files = {"app/models.py": _TOKENS, "app/reads.py": reads,
             "app/views.py": "from app import reads\ndef page(s):\n    reads.find(s, 1, 2)\n"}
    (f,) = [f for f in found_growing(tmp_path, files, "PERF001") if f.anchor == "table:tokens.instance_id"]
    return f


def test_a_join_on_the_key_and_its_leading_column_from_narrowed_tables_is_no_scan(tmp_path):
    """`JOIN tokens ON tokens.person_id = people.id AND tokens.instance_id = instances.id WHERE people.email = :e`: the
    join gives the key and the column the unique constraint leads, from tables the query narrows by a value, so a plan
    looks tokens up through that constraint: not cited as a scan. Joined to a table it does not narrow while a value
    gives the key, the read does scan."""
    joined = '''
from sqlalchemy import and_, select
from app.models import Instance, Person, Token


def find(session, email, guid):
    stmt = (select(Person, Instance)
            .join(Token, and_(Token.person_id == Person.id, Token.instance_id == Instance.id))
            .filter(Person.email == email).filter(Instance.guid == guid))
    return session.scalars(stmt).first()
'''
    f = _token_finding(tmp_path / "joined", joined)
    assert f.severity == Severity.INFO and "scans tokens" not in f.message.split(", so the only scan")[0]
    assert ("also tests person_id, which the unique constraint (person_id, instance_id, service) is led by, so it finds "
            "their rows through that index, not by a scan of tokens") in f.message
    by_value = '''
from sqlalchemy import select
from app.models import Person, Token


def find(session, instance_id, _):
    return session.scalars(select(Token).filter(Token.instance_id == instance_id).join(Person, Token.person_id == Person.id)).all()
'''
    g = _token_finding(tmp_path / "value", by_value)
    assert g.severity == Severity.WARNING and "the query at app/reads.py:7 filters on it, so each such read scans tokens" in g.message


_TRACKER = HEADER + '''
from sqlalchemy import Column, Table
from sqlalchemy.orm import WriteOnlyMapped, relationship

tracker = Table(
    "tracker", Base.metadata,
    Column("person_id", Integer, ForeignKey("people.id"), nullable=False),
    Column("topic_id", Integer, ForeignKey("topics.id"), nullable=False),
)


class Topic(Base):
    __tablename__ = "topics"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class Person(Base):
    __tablename__ = "people"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tracked: WriteOnlyMapped["Topic"] = relationship(secondary=tracker, primaryjoin=(tracker.c.person_id == id))

    def is_tracking(self, session, topic):
        return session.execute(self.tracked.select().where(tracker.c.topic_id == topic.id).exists()).scalar()
'''


def test_a_core_tables_column_tested_in_a_relationships_select_is_a_read(tmp_path):
    """`self.tracked.select().where(tracker.c.topic_id == topic.id)`: a condition on the Core table's column, in a
    write-only relationship's statement, reads tracker by topic_id."""
    reads = "from app.models import Person\ndef find(session, a, b):\n    return session.get(Person, a).is_tracking(session, b)\n"
    files = {"app/models.py": _TRACKER, "app/reads.py": reads, "app/views.py": "from app import reads\ndef page(s):\n    reads.find(s, 1, 2)\n"}
    (f,) = [f for f in found_growing(tmp_path, files, "PERF001") if f.anchor == "table:tracker.topic_id"]
    assert f.severity == Severity.WARNING
    assert "the condition at app/models.py:32 filters on it, so each such read scans tracker" in f.message


_ROLES = HEADER + '''
from sqlalchemy import UniqueConstraint


class Space(Base):
    __tablename__ = "spaces"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class SpaceRole(Base):
    __tablename__ = "space_roles"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id"))
    other_space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id"))
    __table_args__ = (UniqueConstraint("space_id", "other_space_id"),)
'''


def test_an_aliased_class_names_its_columns(tmp_path):
    """`role = aliased(SpaceRole)` then `.filter(role.other_space_id == space.id)`: a read of space_roles by
    other_space_id, which comes second in the unique constraint."""
    reads = '''
from sqlalchemy.orm import aliased
from app import models


def find(session, space, _):
    role = aliased(models.SpaceRole)
    return session.query(role.id).filter(role.other_space_id == space.id).all()
'''
    files = {"app/models.py": _ROLES, "app/reads.py": reads, "app/views.py": "from app import reads\ndef page(s):\n    reads.find(s, 1, 2)\n"}
    (f,) = [f for f in found_growing(tmp_path, files, "PERF001") if f.anchor == "table:space_roles.other_space_id"]
    assert "the condition at app/reads.py:8 filters on it" in f.message and f.severity == Severity.WARNING


_GRADING = HEADER + '''
from sqlalchemy.orm import relationship


class GradingConfig(Base):
    __tablename__ = "grading_configs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grading_config_id: Mapped[int | None] = mapped_column(ForeignKey("grading_configs.id", ondelete="SET NULL"))
    grading_config = relationship("GradingConfig")
'''


def test_deleting_the_object_a_relationship_holds_deletes_a_row_of_its_class(tmp_path):
    """`self._db.delete(task.grading_config)`: the object a many-to-one relationship loads is a GradingConfig, so the
    application deletes grading_configs rows and the key check on tasks runs in it; and a delete helper given the class
    on the line after its call (`worker.delete(\\n GradingConfig, ...)`) is a delete of it too."""
    service = '''
class TaskService:
    def __init__(self, db):
        self._db = db

    def clear(self, task):
        self._db.delete(task.grading_config)
        task.grading_config = None
'''
    worker = '''
from sqlalchemy import select
from app.models import GradingConfig


class Purger:
    def purge(self, config_id):
        return self.worker.delete(
            GradingConfig, select(GradingConfig.id).where(GradingConfig.id == config_id)
        )
'''
    views = "from app.service import TaskService\ndef page(db, t):\n    TaskService(db).clear(t)\n"
    for name, code in (("relationship", service), ("helper", worker)):
        files = {"app/models.py": _GRADING, "app/service.py": code, "app/views.py": views}
        (f,) = [f for f in found_growing(tmp_path / name, files, "PERF001") if f.anchor == "table:tasks.grading_config_id"]
        assert "deletes a row of grading_configs" not in f.message and f.severity == Severity.INFO, name
        assert "what that costs depends on the table's size" in f.message, name
    bare = {"app/models.py": _GRADING, "app/views.py": "def page(db, t):\n    pass\n"}
    (f,) = [f for f in found_growing(tmp_path / "none", bare, "PERF001") if f.anchor == "table:tasks.grading_config_id"]
    assert "dbreview found no code of the application that deletes a row of grading_configs" in f.message


_SETS = HEADER + '''
from sqlalchemy.orm import relationship


class Dated(Base):
    __abstract__ = True

    def delete(self):
        session.delete(self)


class Collection(Dated):
    __tablename__ = "collections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class Folder(Dated):
    __tablename__ = "folders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("collections.id"))
    items = relationship("Item", backref="folder")

    def delete(self):
        self.deleted = True

    @classmethod
    def find(cls, folder_id):
        return session.get(cls, folder_id)


class Item(Dated):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    folder_id: Mapped[int] = mapped_column(ForeignKey("folders.id"))

    @classmethod
    def latest(cls, folder_id):
        return session.get(cls, folder_id)

    @classmethod
    def replace(cls, folder_id):
        for existing in Folder.find(folder_id).items:
            pass
        existing = cls.latest(folder_id)
        existing.delete()
'''


def test_a_delete_is_of_the_class_the_name_holds_last_and_reaches_no_overridden_helper(tmp_path):
    """`existing` bound to a Folder, then to `cls.latest(...)` (an Item) before `existing.delete()`: that call deletes
    an Item, not a Folder; and Folder.delete() is its own soft delete, which never reaches the base class's
    session.delete(self): no code is said to delete a folder and so load Folder.items."""
    files = {"app/models.py": _SETS, "app/views.py": "from app.models import Item\ndef page(s):\n    Item.replace(1)\n"}
    (f,) = [f for f in found_growing(tmp_path, files, "PERF001") if f.anchor == "table:items.folder_id"]
    assert "existing.delete()" not in f.message and "deleting a Folder loads it" not in f.message
    assert "dbreview found no code it can tell reads Folder.items (app/models.py:51 names items" in f.message


_SEARCHES = HEADER + '''
from sqlalchemy import Column
from sqlalchemy.orm import backref, relationship


class Search(Base):
    __tablename__ = "searches"
    id = Column(Integer, primary_key=True)
    parent_id = Column(Integer, ForeignKey(id))
    children = relationship("Search", cascade="all, delete-orphan", backref=backref("parent", remote_side=id))
'''


def test_a_foreign_key_to_the_class_own_column_by_name_is_self_referential(tmp_path):
    """`ForeignKey(id)` in a class body references the class's own `id`: Search.children loads searches rows by
    parent_id (the parent is searches, not a table named "id")."""
    reads = "from app.models import Search\ndef find(session, a, b):\n    search = session.get(Search, a)\n    return search.children\n"
    files = {"app/models.py": _SEARCHES, "app/reads.py": reads, "app/views.py": "from app import reads\ndef page(s):\n    reads.find(s, 1, 2)\n"}
    (f,) = [f for f in found_growing(tmp_path, files, "PERF001") if f.anchor == "table:searches.parent_id"]
    assert "the relationship Search.children loads its rows by it" in f.message and "a row of id" not in f.message

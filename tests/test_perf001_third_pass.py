"""PERF001: a composite foreign key is one key, reported once; a read model that serializes a relationship reads it
(small repositories of our own, after the judges' verdicts on dispatch and osparc)."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.growing import found_growing as found

# A Core table whose (release_name, release_tag) references releases (name, tag) through one constraint.
CATALOG = """
import sqlalchemy as sa
metadata = sa.MetaData()
releases = sa.Table(
    "releases", metadata,
    sa.Column("name", sa.String, primary_key=True),
    sa.Column("tag", sa.String, primary_key=True),
)
downloads = sa.Table(
    "downloads", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("release_name", sa.String, nullable=False),
    sa.Column("release_tag", sa.String, nullable=False),
    sa.ForeignKeyConstraint(["release_name", "release_tag"], ["releases.name", "releases.tag"]),
)
"""


def test_a_composite_foreign_key_is_reported_once_naming_its_columns(tmp_path):
    """(release_name, release_tag) is one key: one finding, at its first column's anchor, naming both."""
    perf = [f for f in found(tmp_path, {"app/tables.py": CATALOG}, "PERF001")]
    assert [f.anchor for f in perf] == ["table:downloads.release_name"]
    assert str(perf[0].location) == "app/tables.py:12" and perf[0].severity == Severity.INFO
    assert "composite foreign key (release_name, release_tag)" in perf[0].message
    assert "release_tag is a foreign key" not in perf[0].message


def test_a_composite_foreign_key_led_by_an_index_is_quiet(tmp_path):
    indexed = CATALOG.replace('sa.Column("release_name", sa.String, nullable=False)',
                              'sa.Column("release_name", sa.String, nullable=False, index=True)')
    assert found(tmp_path, {"app/tables.py": indexed}, "PERF001") == []


def test_a_read_by_a_later_column_alone_keeps_its_own_finding(tmp_path):
    """A query by release_tag alone is no read an index led by the key serves: that column keeps its finding."""
    reads = """
import sqlalchemy as sa
from app.tables import downloads
def by_tag(conn, tag):
    return conn.execute(sa.select(downloads).where(downloads.c.release_tag == tag)).all()
"""
    perf = {f.anchor: f for f in found(tmp_path, {"app/tables.py": CATALOG, "app/reads.py": reads}, "PERF001")}
    assert set(perf) == {"table:downloads.release_name", "table:downloads.release_tag"}
    assert "app/reads.py:5" in perf["table:downloads.release_tag"].message


# A backref whose name the code reads only on objects dbreview cannot type, and a read model of the class that
# serializes it: every list call loads it.
TEAMS = """
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Column, ForeignKey, Integer
from sqlalchemy.orm import DeclarativeBase, relationship


class Base(DeclarativeBase):
    pass


class Team(Base):
    __tablename__ = "teams"
    id = Column(Integer, primary_key=True)


class Person(Base):
    __tablename__ = "people"
    id = Column(Integer, primary_key=True)
    team_id = Column(Integer, ForeignKey("teams.id"))
    team = relationship("Team", backref="people")


class ApiBase(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PersonRead(ApiBase):
    id: int


class TeamRead(ApiBase):
    id: int
    people: list[PersonRead] = []
"""

TEAM_USE = """
def names(thing):
    return [p.id for p in thing.people]
"""


def test_a_read_model_of_the_class_that_serializes_the_relationship_reads_it(tmp_path):
    """TeamRead.people serializes Team.people on every response: a read of people by team_id, not 'nothing'."""
    perf = {f.anchor: f for f in found(tmp_path, {"app/models.py": TEAMS, "app/use.py": TEAM_USE}, "PERF001")}
    f = perf["table:people.team_id"]
    assert f.severity == Severity.WARNING
    assert "the read model TeamRead serializes it at app/models.py:33" in f.message
    assert "no code it can tell reads" not in f.message


def test_a_schema_dbreview_cannot_tie_to_the_model_is_no_read_it_claims(tmp_path):
    """The same field on a schema whose name ties it to no model: dbreview cannot tell, and says so."""
    untied = TEAMS.replace("TeamRead", "RosterRead")
    f = {f.anchor: f for f in found(tmp_path, {"app/models.py": untied, "app/use.py": TEAM_USE}, "PERF001")}["table:people.team_id"]
    assert f.severity == Severity.INFO
    assert "app/models.py:33 is a field people of RosterRead, a schema dbreview cannot tie to Team" in f.message

"""PERF001 warns only on a read the application really performs (issue 7, session 23's classes, each rebuilt as a
small repository of our own): a relationship's name read on an object dbreview cannot type is no such read (an info
that says where the name is read), a mixin's method reading `self.<name>` runs on the model's rows (a read), and a
warning on a relationship's read says where the code reads it."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.growing import found_growing as found
from tests.test_perf001_reads import calls
from tests.test_precision import HEADER

KEYS = HEADER + """
from sqlalchemy.orm import relationship

class Role(Base):
    __tablename__ = "roles"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tokens = relationship("Token")

class Zone(Base):
    __tablename__ = "zones"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tokens = relationship("Token", secondary="zone_tokens")

class Token(Base):
    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id"))

class ZoneToken(Base):
    __tablename__ = "zone_tokens"
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"), primary_key=True, index=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("tokens.id"), primary_key=True, index=True)
"""


def _role_id(findings):
    (f,) = [f for f in findings if f.anchor == "table:tokens.role_id"]
    return f


def test_a_name_read_on_an_object_dbreview_cannot_type_is_no_read(tmp_path):
    """`item.tokens` where `item` may be a Zone (which has its own `tokens`): no read of Role.tokens that dbreview can
    show, so no warning; the info names where the name is read. `role.tokens` reads it: a warning that says where."""
    other = "def listed(item):\n    return [t.id for t in item.tokens]\n"
    f = _role_id(found(tmp_path / "a", {"app/models.py": KEYS, "app/views.py": other, **calls("views", "listed")}, "PERF001"))
    assert f.severity == Severity.INFO and f.location.start_line == 26
    assert ("the relationship Role.tokens loads its rows by it, but dbreview found no code it can tell reads Role.tokens "
            "(app/views.py:2 names tokens, on an object dbreview cannot tell)") in f.message
    mine = "def listed(role):\n    return [t.id for t in role.tokens]\n"
    g = _role_id(found(tmp_path / "b", {"app/models.py": KEYS, "app/views.py": mine, **calls("views", "listed")}, "PERF001"))
    assert g.severity == Severity.WARNING and g.anchor == f.anchor
    assert g.message.startswith("tokens.role_id is a foreign key with no index: the relationship Role.tokens loads its "
                                "rows by it (the code reads it at app/views.py:2), so each such read scans tokens")


def test_a_mixins_method_reads_the_relationship_of_the_model_it_is_mixed_into(tmp_path):
    """`self.tokens` in a method of a mixin that Role inherits runs on Role rows: a read (a warning), shown where."""
    mixin = "class Counted:\n    def count(self):\n        return len(self.tokens)\n"
    models = KEYS.replace("class Role(Base):", "from app.counted import Counted\n\nclass Role(Base, Counted):")
    f = _role_id(found(tmp_path, {"app/models.py": models, "app/counted.py": mixin}, "PERF001"))
    assert f.severity == Severity.WARNING
    assert "the relationship Role.tokens loads its rows by it (the code reads it at app/counted.py:3)" in f.message

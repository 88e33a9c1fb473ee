"""A soft delete is the model's whose object is written: `event.deleted_at = now` deletes an Event, not an
EventType or an EventInvoice whose names also hold the word; where the name fits several models and none
exactly, dbreview does not pick one."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.test_precision import HEADER, SOFT_DELETED, found

_MODELS = HEADER + """
class Event(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)


class EventType(Base):
    __tablename__ = "event_types"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)
"""

_CODE = """
from datetime import datetime
from sqlalchemy import select
from models import Event, EventType

def events_named(session, name):
    return session.scalars(select(Event).where(Event.name == name)).all()

def types_named(session, name):
    return session.scalars(select(EventType).where(EventType.name == name)).all()

def remove(session, event):
    event.deleted_at = datetime.now()
"""


def test_a_soft_delete_of_an_event_is_no_soft_delete_of_event_types(tmp_path):
    (f,) = found(tmp_path, {"models.py": _MODELS, "app/events.py": _CODE}, "MOD007")
    assert f.anchor == "model:Event:soft-delete-unfiltered" and f.severity == Severity.INFO
    assert f.message.startswith("Event is soft deleted (deleted_at, set at app/events.py:13)")


def test_a_name_that_fits_several_models_in_part_ties_the_write_to_none(tmp_path):
    code = _CODE.replace("event.deleted_at", "event_row.deleted_at").replace("(session, event)", "(session, event_row)")
    models = _MODELS.replace("class Event(Base)", "class EventSeries(Base)").replace('"events"', '"event_series"')
    code = code.replace("Event,", "EventSeries,").replace("(Event)", "(EventSeries)").replace("Event.name", "EventSeries.name")
    findings = found(tmp_path, {"models.py": models, "app/events.py": code}, "MOD007")
    assert sorted(f.anchor for f in findings) == ["model:EventSeries:soft-delete-unfiltered", "model:EventType:soft-delete-unfiltered"]
    assert all("cannot tie to a model (`event_row` at app/events.py:13)" in f.message for f in findings)


def test_a_soft_delete_column_the_client_sets_or_clears_is_set_by_the_code(tmp_path):
    """`team.deleted_at = data.get("deleted_at")` in an update handler deletes or restores as the request says: the
    code does set the column (INT008 must not say nothing does), and brings deleted rows back."""
    patch = """
def update_team(team, data):
    team.deleted_at = data.get("deleted_at")
"""
    assert found(tmp_path / "a", {"app/models.py": SOFT_DELETED, "app/service.py": patch}, "INT008") == []
    indexed = patch.replace('data.get("deleted_at")', 'data["deleted_at"]')
    assert found(tmp_path / "b", {"app/models.py": SOFT_DELETED, "app/service.py": indexed}, "INT008") == []

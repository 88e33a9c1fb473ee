"""TZ001 on one naive column: "unlike the project's other timestamps" only where it is so (a few naive among many
aware), and code that strips the zone from UTC on purpose (`.replace(tzinfo=None)`) where the column is handled is
naive UTC by design: info that says so. Our own fixtures."""

from __future__ import annotations

from analyzers.findings import Severity
from analyzers.rules.examples_common import HEADER
from tests.test_precision import found


def _models(naive: int, aware: int) -> str:
    columns = [f"    naive_{i}: Mapped[datetime] = mapped_column(DateTime)" for i in range(naive)]
    columns += [f"    aware_{i}: Mapped[datetime] = mapped_column(DateTime(timezone=True))" for i in range(aware)]
    return HEADER + '''
class Upload(Base):
    __tablename__ = "uploads"
    id: Mapped[int] = mapped_column(primary_key=True)
''' + "\n".join(columns) + "\n"


_EXPIRE = '''
from datetime import UTC, datetime
from sqlalchemy import select
from app.models import Upload

def expire(session):
    now = datetime.now(UTC){strip}
    return session.scalars(select(Upload).where(Upload.naive_0 < now)).all()
'''


def test_unlike_is_said_only_of_a_few_naive_columns_among_many_aware(tmp_path):
    (f,) = found(tmp_path, {"app/models.py": _models(1, 4)}, "TZ001")
    assert "is DateTime without timezone=True, unlike the project's other timestamps,:" in f.message
    fs = found(tmp_path / "mixed", {"app/models.py": _models(2, 3)}, "TZ001")
    assert [f.anchor for f in fs] == ["table:uploads.naive_0", "table:uploads.naive_1"]
    assert all("without timezone=True (as 2 of the project's 5 timestamp columns are):" in f.message for f in fs)


def test_a_column_handled_by_code_that_strips_the_zone_from_utc_is_info(tmp_path):
    files = {"app/models.py": _models(1, 4), "app/expiry.py": _EXPIRE.format(strip=".replace(tzinfo=None)")}
    (f,) = found(tmp_path, files, "TZ001")
    assert (f.severity, f.anchor) == (Severity.INFO, "table:uploads.naive_0")
    assert ("; but code that handles naive_0 (app/expiry.py:7) strips the zone from a UTC value (`.replace(tzinfo=None)`): "
            "naive UTC on purpose, consistent while every writer and comparison does the same") in f.message
    files["app/expiry.py"] = _EXPIRE.format(strip="")
    (f,) = found(tmp_path / "aware", files, "TZ001")
    assert f.severity == Severity.WARNING and "strips" not in f.message


def test_a_mixins_naive_column_counts_once_for_each_table_that_carries_it(tmp_path):
    """heat (TZ001 "20 of 20" where its tables hold 34): a mixin's created_at is a column of every table it is on."""
    model = HEADER + '''
class Stamped:
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Stack(Stamped, Base):
    __tablename__ = "stacks"
    id: Mapped[int] = mapped_column(primary_key=True)


class Event(Stamped, Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    finished_at: Mapped[datetime] = mapped_column(DateTime)


class Lock(Stamped, Base):
    __tablename__ = "locks"
    id: Mapped[int] = mapped_column(primary_key=True)
'''
    (f,) = found(tmp_path, {"app/models.py": model}, "TZ001")
    assert f.message.startswith("4 of 4 timestamp columns have no time zone (")

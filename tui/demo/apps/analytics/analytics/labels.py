"""Labels the analytics team puts on its reports (a label may belong to a scope, such as a dashboard, or to
none: a global label), and the page hits it counts."""

from __future__ import annotations

import os
import time
from datetime import date

from sqlalchemy import Column, DateTime, String, Table, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from analytics.models import Base, DailyCount


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_ulid() -> str:
    """A ULID: 48 bits of milliseconds, then 80 random bits, in Crockford base 32 (keys sort by creation)."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


class ReportLabel(Base):
    __tablename__ = "report_labels"
    __table_args__ = (UniqueConstraint("name", "scope"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_ulid)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    scope: Mapped[str | None] = mapped_column(String(64), nullable=True)


page_hits = Table(
    "page_hits",
    Base.metadata,
    Column("path", Text, nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


def global_label(session: Session, name: str) -> ReportLabel:
    """The global label of that name, made on first use."""
    label = session.scalars(select(ReportLabel).where(ReportLabel.name == name, ReportLabel.scope.is_(None))).first()
    if label is None:
        label = ReportLabel(name=name)
        session.add(label)
    return label


def count_for(session: Session, day: date) -> DailyCount:
    """The day's row, made on first use: `day` is the primary key, so a second insert of it fails."""
    row = session.scalars(select(DailyCount).where(DailyCount.day == day)).first()
    if row is None:
        row = DailyCount(day=day)
        session.add(row)
    return row

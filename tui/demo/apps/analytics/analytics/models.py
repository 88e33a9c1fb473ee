"""The analytics service's one table: how many appointments the platform had each day, all clinics
together (no tenant, no patient data)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Integer, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class DailyCount(Base):
    __tablename__ = "daily_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    appointments: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    cancelled: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    no_shows: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    computed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), server_default=func.now())

"""Patient-list searches a user saves and pins (front desk, billing)."""

from __future__ import annotations

import uuid

from sqlalchemy import Boolean, ForeignKey, Index, SmallInteger, String, false, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base
from .mixins import SoftDeleteMixin, TimestampMixin, UUIDMixin


class SavedSearch(UUIDMixin, TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "saved_searches"
    __table_args__ = (
        Index("uq_saved_searches_owner_name_live", "owner_id", "name", unique=True, postgresql_where=text("deleted_at IS NULL")),
    )

    owner_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    filters: Mapped[dict] = mapped_column(JSONB, nullable=False)
    external_ref: Mapped[str] = mapped_column(String(36), nullable=False)
    pinned: Mapped[bool] = mapped_column(Boolean, nullable=False)
    label: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    shared: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0)
    archived: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())

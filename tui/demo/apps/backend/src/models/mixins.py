"""Columns shared by most tables: ULID-based keys, timestamps and soft deletes."""

import uuid
from datetime import datetime

from sqlalchemy import DateTime, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column
from ulid import ULID


def ulid_to_uuid(value: ULID | None = None) -> uuid.UUID:
    """Return the 128-bit ULID as a UUID; a new ULID is generated when none is given.

    ULIDs sort by creation time, so B-tree inserts stay append-mostly while the
    column keeps PostgreSQL's native ``uuid`` type.
    """
    if value is None:
        value = ULID()
    return uuid.UUID(bytes=value.bytes)


class UUIDMixin:
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=lambda: ulid_to_uuid())


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=datetime.utcnow, onupdate=datetime.utcnow, nullable=False
    )


class SoftDeleteMixin:
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

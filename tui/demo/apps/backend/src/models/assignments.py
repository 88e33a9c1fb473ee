"""Proxy access to a patient's record, with per-area permissions and a validity window."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, UniqueConstraint, false, func, true
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .mixins import SoftDeleteMixin, TimestampMixin, UUIDMixin

if TYPE_CHECKING:
    from .profiles import Patient, Proxy


class PatientProxyAssignment(UUIDMixin, TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "patient_proxy_assignments"
    __table_args__ = (
        UniqueConstraint("patient_id", "proxy_id"),
        CheckConstraint("expires_at IS NULL OR expires_at > granted_at", name="expiry_after_grant"),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("patients.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    proxy_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("proxies.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    granted_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL"), index=True
    )

    can_view_profile: Mapped[bool] = mapped_column(Boolean, server_default=true(), nullable=False)
    can_view_appointments: Mapped[bool] = mapped_column(Boolean, server_default=false(), nullable=False)
    can_schedule_appointments: Mapped[bool] = mapped_column(Boolean, server_default=false(), nullable=False)
    can_view_clinical_notes: Mapped[bool] = mapped_column(Boolean, server_default=false(), nullable=False)
    can_view_billing: Mapped[bool] = mapped_column(Boolean, server_default=false(), nullable=False)
    can_message_providers: Mapped[bool] = mapped_column(Boolean, server_default=false(), nullable=False)

    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    patient: Mapped[Patient] = relationship(back_populates="proxy_assignments")
    proxy: Mapped[Proxy] = relationship(back_populates="assignments")

    def is_active(self, now: datetime) -> bool:
        if self.revoked_at is not None and self.revoked_at <= now:
            return False
        return self.expires_at is None or self.expires_at > now

"""Which providers look after which patient, and in what role."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, Enum, ForeignKey, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .mixins import SoftDeleteMixin, TimestampMixin, UUIDMixin

if TYPE_CHECKING:
    from .profiles import Patient, Provider


class CareTeamRole(str, enum.Enum):
    PRIMARY = "PRIMARY"
    SPECIALIST = "SPECIALIST"
    CONSULTANT = "CONSULTANT"


class CareTeamAssignment(UUIDMixin, TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "care_team_assignments"
    __table_args__ = (UniqueConstraint("patient_id", "provider_id"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id"), nullable=False, index=True
    )
    patient_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("patients.id", ondelete="CASCADE"), nullable=False, index=True
    )
    provider_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("providers.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    role: Mapped[CareTeamRole] = mapped_column(Enum(CareTeamRole, name="care_team_role"), nullable=False)
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    patient: Mapped[Patient] = relationship(back_populates="care_team")
    provider: Mapped[Provider] = relationship(back_populates="care_team_assignments")

"""Phone numbers and e-mail addresses of a patient."""

from __future__ import annotations

import enum
import uuid

from sqlalchemy import Boolean, Enum, ForeignKey, Index, String, false
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base
from .mixins import SoftDeleteMixin, TimestampMixin, UUIDMixin


class ContactType(str, enum.Enum):
    MOBILE = "MOBILE"
    HOME = "HOME"
    WORK = "WORK"
    EMAIL = "EMAIL"


class ContactMethod(UUIDMixin, TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "contact_methods"
    __table_args__ = (Index("ix_contact_methods_patient_id_is_primary", "patient_id", "is_primary"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id"), nullable=False, index=True
    )
    patient_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("patients.id", ondelete="CASCADE"), nullable=False, index=True
    )
    type: Mapped[ContactType] = mapped_column(Enum(ContactType, name="contact_type"), nullable=False)
    value: Mapped[str] = mapped_column(String(255), nullable=False)
    label: Mapped[str | None] = mapped_column(String(64))
    is_primary: Mapped[bool] = mapped_column(Boolean, server_default=false(), nullable=False)
    # Staff may only leave details on this number's voicemail when this is true
    is_safe_for_voicemail: Mapped[bool] = mapped_column(Boolean, server_default=false(), nullable=False)

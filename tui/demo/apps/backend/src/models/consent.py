"""Versioned legal documents (TOS, HIPAA notice, privacy policy) and each user's signature."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import DateTime, Enum, ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import INET, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .mixins import TimestampMixin, UUIDMixin


class ConsentDocumentType(str, enum.Enum):
    TOS = "TOS"
    HIPAA = "HIPAA"
    PRIVACY = "PRIVACY"


class ConsentDocument(UUIDMixin, TimestampMixin, Base):
    __tablename__ = "consent_documents"
    __table_args__ = (UniqueConstraint("document_type", "version"),)

    document_type: Mapped[ConsentDocumentType] = mapped_column(
        Enum(ConsentDocumentType, name="consent_document_type"), nullable=False
    )
    version: Mapped[str] = mapped_column(String(32), nullable=False)
    title: Mapped[str] = mapped_column(String(255), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    effective_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class UserConsent(UUIDMixin, TimestampMixin, Base):
    __tablename__ = "user_consents"
    __table_args__ = (UniqueConstraint("user_id", "consent_document_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    consent_document_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("consent_documents.id", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    )
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
    ip_address: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str | None] = mapped_column(String(512))

    document: Mapped[ConsentDocument] = relationship()

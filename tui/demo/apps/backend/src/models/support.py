"""Support desk tickets. Written before the move to typed mappings; still on Column()."""

from sqlalchemy import Boolean, Column, DateTime, Enum, ForeignKey, Integer, String, Text, false, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import relationship

from .base import Base
from .mixins import ulid_to_uuid

TICKET_CATEGORIES = ("ACCOUNT", "BILLING", "TECHNICAL", "CLINICAL", "OTHER")
TICKET_PRIORITIES = ("LOW", "NORMAL", "HIGH", "URGENT")
TICKET_STATUSES = ("OPEN", "PENDING", "RESOLVED", "CLOSED")


class SupportTicket(Base):
    __tablename__ = "support_tickets"

    id = Column(Integer, primary_key=True, autoincrement=True)
    user_id = Column(UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL"), index=True)
    organization_id = Column(UUID(as_uuid=True), ForeignKey("organizations.id"), index=True)
    subject = Column(String(255), nullable=False)
    category = Column(Enum(*TICKET_CATEGORIES, name="ticket_category"), nullable=False)
    priority = Column(Enum(*TICKET_PRIORITIES, name="ticket_priority"), server_default="NORMAL", nullable=False)
    status = Column(Enum(*TICKET_STATUSES, name="ticket_status"), server_default="OPEN", nullable=False)
    created_at = Column(DateTime(timezone=True), server_default=func.now(), nullable=False)
    updated_at = Column(DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False)
    resolved_at = Column(DateTime(timezone=True))

    messages = relationship("SupportMessage", back_populates="ticket", order_by="SupportMessage.created_at")


class SupportMessage(Base):
    __tablename__ = "support_messages"

    id = Column(UUID(as_uuid=True), primary_key=True, default=lambda: ulid_to_uuid())
    ticket_id = Column(Integer, ForeignKey("support_tickets.id", ondelete="CASCADE"), nullable=False, index=True)
    author_id = Column(UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL"), index=True)
    body = Column(Text, nullable=False)
    # Internal notes are visible to support staff only, never to the requester
    is_internal = Column(Boolean, server_default=false(), nullable=False)
    created_at = Column(DateTime(timezone=True), server_default=func.now(), nullable=False)

    ticket = relationship("SupportTicket", back_populates="messages")

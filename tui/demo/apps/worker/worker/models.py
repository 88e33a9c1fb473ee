"""The worker's own tables: reminders it sends and Stripe events it has applied.

They live in the clinic database and on the backend's declarative base, whose tables their foreign
keys point at, but they are migrated by the worker's own Alembic environment (apps/worker/migrations).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Enum, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from src.models import Base


class WorkerRecord:
    """Key and insertion time of every worker table."""

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default="now()", nullable=False)


class ReminderChannel(str, enum.Enum):
    SMS = "SMS"
    EMAIL = "EMAIL"
    PUSH = "PUSH"


class ReminderDelivery(WorkerRecord, Base):
    """One reminder of one appointment on one channel; patients and proxies see theirs in the app."""

    __tablename__ = "reminder_deliveries"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id"), nullable=False, index=True
    )
    appointment_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("appointments.id", ondelete="RESTRICT"), nullable=False
    )
    recipient_user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    channel: Mapped[ReminderChannel] = mapped_column(Enum(ReminderChannel, name="reminder_channel"), nullable=False)
    send_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    provider_message_id: Mapped[str | None] = mapped_column(String(128))  # Twilio SID or SES message id
    last_error: Mapped[str | None] = mapped_column(Text)

    # One live reminder per appointment and channel, however often the scheduling job runs
    __table_args__ = (
        Index(
            "uq_reminder_deliveries_live",
            "appointment_id",
            "channel",
            unique=True,
            postgresql_where=(cancelled_at is None),
        ),
    )


class StripeEvent(WorkerRecord, Base):
    """A Stripe webhook event, stored before it is applied so that a redelivery is applied once."""

    __tablename__ = "stripe_events"

    stripe_event_id: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    event_type: Mapped[str] = mapped_column(String(64), nullable=False)  # e.g. invoice.paid
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    replay_token: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), server_default=text("gen_random_uuid()"), unique=True, nullable=False
    )

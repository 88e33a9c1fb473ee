"""Payments (organization subscriptions and patient self-pay) and manual billing overrides."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Enum, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base
from .mixins import TimestampMixin, UUIDMixin


class OverrideType(str, enum.Enum):
    FREE = "FREE"
    TRIAL_EXTENSION = "TRIAL_EXTENSION"
    DISCOUNT = "DISCOUNT"


class BillingTransaction(UUIDMixin, TimestampMixin, Base):
    __tablename__ = "billing_transactions"
    __table_args__ = (Index("ix_billing_transactions_owner", "owner_type", "owner_id"),)

    # "PATIENT" or "ORGANIZATION"; owner_id is the id of the patient or organization row
    owner_type: Mapped[str] = mapped_column(String(16), nullable=False)
    owner_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)

    amount: Mapped[float] = mapped_column(Float, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), server_default="usd", nullable=False)
    status: Mapped[str] = mapped_column(String(32), default="PENDING", nullable=False)
    description: Mapped[str | None] = mapped_column(String(255))

    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_invoice_id: Mapped[str | None] = mapped_column(String(255), index=True)
    managed_by_proxy_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))

    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refunded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SubscriptionOverride(UUIDMixin, TimestampMixin, Base):
    __tablename__ = "subscription_overrides"
    __table_args__ = (
        CheckConstraint("num_nonnulls(organization_id, patient_id) = 1", name="exactly_one_target"),
        CheckConstraint(
            "override_type <> 'DISCOUNT' OR (discount_percent BETWEEN 1 AND 100)",
            name="discount_percent_range",
        ),
        CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name="ends_after_start"),
    )

    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    patient_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("patients.id", ondelete="RESTRICT"), index=True
    )
    override_type: Mapped[OverrideType] = mapped_column(Enum(OverrideType, name="override_type"), nullable=False)
    discount_percent: Mapped[int | None] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    granted_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL"), index=True
    )

"""clinical, operations, messaging, billing and support tables

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-08 14:03:10.772019+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

appointment_status = sa.Enum(
    "SCHEDULED", "CONFIRMED", "CHECKED_IN", "COMPLETED", "CANCELLED", "NO_SHOW", name="appointment_status"
)
document_status = sa.Enum("PENDING_UPLOAD", "UPLOADED", "SCANNING", "AVAILABLE", "QUARANTINED", name="document_status")
contact_type = sa.Enum("MOBILE", "HOME", "WORK", "EMAIL", name="contact_type")
call_direction = sa.Enum("INBOUND", "OUTBOUND", name="call_direction")
call_status = sa.Enum("COMPLETED", "MISSED", "VOICEMAIL", name="call_status")
task_priority = sa.Enum("LOW", "MEDIUM", "HIGH", "URGENT", name="task_priority")
task_status = sa.Enum("OPEN", "IN_PROGRESS", "DONE", "CANCELLED", name="task_status")
notification_type = sa.Enum("APPOINTMENT", "MESSAGE", "SYSTEM", "BILLING", name="notification_type")
override_type = sa.Enum("FREE", "TRIAL_EXTENSION", "DISCOUNT", name="override_type")
ticket_category = sa.Enum("ACCOUNT", "BILLING", "TECHNICAL", "CLINICAL", "OTHER", name="ticket_category")
ticket_priority = sa.Enum("LOW", "NORMAL", "HIGH", "URGENT", name="ticket_priority")
ticket_status = sa.Enum("OPEN", "PENDING", "RESOLVED", "CLOSED", name="ticket_status")


def upgrade() -> None:
    op.create_table(
        "appointments",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("organization_id", sa.UUID(), sa.ForeignKey("organizations.id"), nullable=False, index=True),
        sa.Column(
            "patient_id", sa.UUID(), sa.ForeignKey("patients.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column("provider_id", sa.UUID(), sa.ForeignKey("providers.id"), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), server_default="30", nullable=False),
        sa.Column("status", appointment_status, server_default="SCHEDULED", nullable=False),
        sa.Column("appointment_type", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("cancelled_at", sa.DateTime(timezone=True)),
        sa.Column("cancellation_reason", sa.String(255)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("duration_minutes > 0 AND duration_minutes <= 480", name="ck_appointments_duration_range"),
    )
    op.create_index("ix_appointments_organization_id_scheduled_at", "appointments", ["organization_id", "scheduled_at"])

    op.create_table(
        "documents",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("organization_id", sa.UUID(), sa.ForeignKey("organizations.id"), nullable=False, index=True),
        sa.Column(
            "patient_id", sa.UUID(), sa.ForeignKey("patients.id", ondelete="RESTRICT"), nullable=False, index=True
        ),
        sa.Column("uploaded_by_user_id", sa.UUID(), sa.ForeignKey("users.id", ondelete="SET NULL"), index=True),
        sa.Column("document_type", sa.String(64), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(127), nullable=False),
        sa.Column("size_bytes", sa.BigInteger()),
        sa.Column("s3_bucket", sa.String(63), nullable=False),
        sa.Column("s3_key", sa.String(1024), nullable=False, unique=True),
        sa.Column("status", document_status, server_default="PENDING_UPLOAD", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), index=True),
    )

    op.create_table(
        "contact_methods",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("organization_id", sa.UUID(), sa.ForeignKey("organizations.id"), nullable=False, index=True),
        sa.Column(
            "patient_id", sa.UUID(), sa.ForeignKey("patients.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column("type", contact_type, nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        sa.Column("label", sa.String(64)),
        sa.Column("is_primary", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("is_safe_for_voicemail", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), index=True),
    )

    op.create_table(
        "calls",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("organization_id", sa.UUID(), sa.ForeignKey("organizations.id"), nullable=False, index=True),
        sa.Column("patient_id", sa.UUID(), sa.ForeignKey("patients.id", ondelete="RESTRICT"), index=True),
        sa.Column("handled_by_user_id", sa.UUID(), sa.ForeignKey("users.id", ondelete="SET NULL"), index=True),
        sa.Column("direction", call_direction, nullable=False),
        sa.Column("status", call_status, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("duration_seconds", sa.Integer()),
        sa.Column("notes", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), index=True),
    )

    op.create_table(
        "tasks",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("organization_id", sa.UUID(), sa.ForeignKey("organizations.id"), nullable=False, index=True),
        sa.Column("patient_id", sa.UUID(), sa.ForeignKey("patients.id", ondelete="RESTRICT"), index=True),
        sa.Column("assignee_id", sa.UUID(), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("created_by_id", sa.UUID(), sa.ForeignKey("users.id", ondelete="SET NULL"), index=True),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("priority", task_priority, server_default="MEDIUM", nullable=False),
        sa.Column("status", task_status, server_default="OPEN", nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True)),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), index=True),
    )
    op.create_index("ix_tasks_assignee_id_status", "tasks", ["assignee_id", "status"])

    op.create_table(
        "notifications",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("user_id", sa.UUID(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("type", notification_type, nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("body", sa.Text()),
        sa.Column("data", postgresql.JSONB()),
        sa.Column("read_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_notifications_user_id_read_at", "notifications", ["user_id", "read_at"])

    op.create_table(
        "message_threads",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("organization_id", sa.UUID(), sa.ForeignKey("organizations.id"), nullable=False, index=True),
        sa.Column("patient_id", sa.UUID(), sa.ForeignKey("patients.id", ondelete="RESTRICT"), index=True),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("last_message_at", sa.DateTime(timezone=True), index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), index=True),
    )

    op.create_table(
        "message_participants",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("thread_id", sa.UUID(), sa.ForeignKey("message_threads.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.UUID(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("last_read_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("thread_id", "user_id"),
    )

    op.create_table(
        "messages",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column(
            "thread_id", sa.UUID(), sa.ForeignKey("message_threads.id", ondelete="RESTRICT"), nullable=False, index=True
        ),
        sa.Column("sender_id", sa.UUID(), sa.ForeignKey("users.id", ondelete="SET NULL"), index=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), index=True),
    )

    op.create_table(
        "billing_transactions",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("owner_type", sa.String(16), nullable=False),
        sa.Column("owner_id", sa.UUID(), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("currency", sa.String(3), server_default="usd", nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("description", sa.String(255)),
        sa.Column("stripe_payment_intent_id", sa.String(255), unique=True),
        sa.Column("stripe_invoice_id", sa.String(255), index=True),
        sa.Column("managed_by_proxy_id", sa.UUID()),
        sa.Column("processed_at", sa.DateTime(timezone=True)),
        sa.Column("refunded_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_billing_transactions_owner", "billing_transactions", ["owner_type", "owner_id"])

    op.create_table(
        "subscription_overrides",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("organization_id", sa.UUID(), sa.ForeignKey("organizations.id", ondelete="RESTRICT"), index=True),
        sa.Column("patient_id", sa.UUID(), sa.ForeignKey("patients.id", ondelete="RESTRICT"), index=True),
        sa.Column("override_type", override_type, nullable=False),
        sa.Column("discount_percent", sa.Integer()),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True)),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("granted_by_user_id", sa.UUID(), sa.ForeignKey("users.id", ondelete="SET NULL"), index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "num_nonnulls(organization_id, patient_id) = 1", name="ck_subscription_overrides_exactly_one_target"
        ),
        sa.CheckConstraint(
            "override_type <> 'DISCOUNT' OR (discount_percent BETWEEN 1 AND 100)",
            name="ck_subscription_overrides_discount_percent_range",
        ),
        sa.CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name="ck_subscription_overrides_ends_after_start"),
    )

    op.create_table(
        "support_tickets",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.UUID(), sa.ForeignKey("users.id", ondelete="SET NULL"), index=True),
        sa.Column("organization_id", sa.UUID(), sa.ForeignKey("organizations.id"), index=True),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("category", ticket_category, nullable=False),
        sa.Column("priority", ticket_priority, server_default="NORMAL", nullable=False),
        sa.Column("status", ticket_status, server_default="OPEN", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
    )

    op.create_table(
        "support_messages",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("support_tickets.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("author_id", sa.UUID(), sa.ForeignKey("users.id", ondelete="SET NULL"), index=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("is_internal", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "support_messages", "support_tickets", "subscription_overrides", "billing_transactions", "messages",
        "message_participants", "message_threads", "notifications", "tasks", "calls", "contact_methods",
        "documents", "appointments",
    ):
        op.drop_table(table)
    for enum_type in (
        ticket_status, ticket_priority, ticket_category, override_type, notification_type, task_status,
        task_priority, call_status, call_direction, contact_type, document_status, appointment_status,
    ):
        enum_type.drop(op.get_bind(), checkfirst=True)

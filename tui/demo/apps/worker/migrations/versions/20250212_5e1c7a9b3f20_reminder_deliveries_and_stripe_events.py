"""reminder_deliveries and stripe_events

Revision ID: 5e1c7a9b3f20
Revises: 0007
Create Date: 2025-02-12 15:47:03.218840+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "5e1c7a9b3f20"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

reminder_channel = sa.Enum("SMS", "EMAIL", "PUSH", name="reminder_channel")


def upgrade() -> None:
    op.create_table(
        "reminder_deliveries",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("organization_id", sa.UUID(), sa.ForeignKey("organizations.id"), nullable=False, index=True),
        sa.Column(
            "appointment_id", sa.UUID(), sa.ForeignKey("appointments.id", ondelete="RESTRICT"), nullable=False
        ),
        sa.Column(
            "recipient_user_id",
            sa.UUID(),
            sa.ForeignKey("users.id", ondelete="RESTRICT"),
            nullable=False,
            index=True,
        ),
        sa.Column("channel", reminder_channel, nullable=False),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("cancelled_at", sa.DateTime(timezone=True)),
        sa.Column("provider_message_id", sa.String(128)),
        sa.Column("last_error", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )
    op.create_index(
        "uq_reminder_deliveries_live",
        "reminder_deliveries",
        ["appointment_id", "channel"],
        unique=True,
        postgresql_where=sa.text("false"),
    )

    op.create_table(
        "stripe_events",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("stripe_event_id", sa.String(255), nullable=False, unique=True),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("stripe_events")
    op.drop_index("uq_reminder_deliveries_live", table_name="reminder_deliveries")
    op.drop_table("reminder_deliveries")
    reminder_channel.drop(op.get_bind(), checkfirst=True)

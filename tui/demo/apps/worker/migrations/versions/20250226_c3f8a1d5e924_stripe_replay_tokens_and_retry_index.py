"""stripe_events.replay_token for the replay endpoint; reminder_deliveries.sent_at indexed for the retry job

Revision ID: c3f8a1d5e924
Revises: 9a4d2e6c8b17
Create Date: 2025-02-26 16:03:12.480921+00:00

The sent_at index was first created by hand on production during the February backlog; this revision adds it
where it is missing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "c3f8a1d5e924"
down_revision: str | Sequence[str] | None = "9a4d2e6c8b17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "stripe_events",
        sa.Column("replay_token", postgresql.UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()"), nullable=False),
    )
    op.create_unique_constraint(None, "stripe_events", ["replay_token"])
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("reminder_deliveries")}
    if "sent_at" in columns:
        op.create_index("ix_reminder_deliveries_sent_at", "reminder_deliveries", ["sent_at"], postgresql_concurrently=True)


def downgrade() -> None:
    op.drop_index("ix_reminder_deliveries_sent_at", table_name="reminder_deliveries")
    op.drop_constraint(None, "stripe_events", type_="unique")
    op.drop_column("stripe_events", "replay_token")

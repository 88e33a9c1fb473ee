"""SQLAlchemy-Utils 0.43: its Timestamp mixin (naive UTC times, set by Python)."""
from datetime import datetime, timezone

import sqlalchemy as sa


class Timestamp:
    created = sa.Column(sa.DateTime, default=lambda: datetime.now(tz=timezone.utc).replace(tzinfo=None), nullable=False)
    updated = sa.Column(sa.DateTime, default=lambda: datetime.now(tz=timezone.utc).replace(tzinfo=None), nullable=False)

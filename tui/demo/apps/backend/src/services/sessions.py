"""Login sessions: every authenticated request marks its session as seen (the idle timeout, models/sessions.py)."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.ext.asyncio import AsyncSession

from ..models import UserSession


async def mark_seen(session: AsyncSession, user_session: UserSession) -> None:
    user_session.last_seen_at = datetime.now(timezone.utc)
    await session.flush()

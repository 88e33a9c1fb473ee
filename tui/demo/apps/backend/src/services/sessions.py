"""Login sessions: every authenticated request marks its session as seen (the idle timeout, models/sessions.py)."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import User, UserSession


async def user_for_login(session: AsyncSession, email: str) -> User | None:
    """The account a login form names; people type their address in any case."""
    stmt = select(User).where(func.lower(User.email) == email.strip().lower(), User.deleted_at.is_(None))
    return (await session.execute(stmt)).scalars().first()


async def mark_seen(session: AsyncSession, user_session: UserSession) -> None:
    user_session.last_seen_at = datetime.now(timezone.utc)
    await session.flush()

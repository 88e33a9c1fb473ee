"""The notification inbox, message read markers and signing out, in raw SQL (the statements the mobile team tuned
by hand)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def mark_all_read(session: AsyncSession, user_id: uuid.UUID, before: datetime) -> None:
    """The user's notifications up to `before` are read."""
    await session.execute(
        text("UPDATE notifications SET read_at = now() WHERE notifications.user_id = user_id AND created_at <= :before"),
        {"user_id": user_id, "before": before},
    )


async def unread_count(session: AsyncSession, user_id: uuid.UUID) -> int:
    result = await session.execute(
        text("SELECT count(*) FROM notifications WHERE notifications.user_id = :user_id AND read_at IS NULL"),
        {"user_id": user_id},
    )
    return result.scalar_one()


async def read_thread(session: AsyncSession, thread_id: uuid.UUID) -> None:
    """Every participant has seen the thread up to its last message (the thread was closed)."""
    await session.execute(
        text("UPDATE message_participants SET last_read_at = t.last_message_at FROM message_threads t WHERE t.id = :thread_id"),
        {"thread_id": thread_id},
    )


async def read_thread_for(session: AsyncSession, thread_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """One participant has seen the thread up to its last message."""
    await session.execute(
        text(
            "UPDATE message_participants p SET last_read_at = t.last_message_at FROM message_threads t "
            "WHERE t.id = :thread_id AND p.thread_id = t.id AND p.user_id = :user_id"
        ),
        {"thread_id": thread_id, "user_id": user_id},
    )


async def sign_out_everywhere(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Every session of the user ends (after a password change)."""
    await session.execute(text("UPDATE user_sessions SET revoked_at = now()"), {"user_id": user_id})


async def sign_out(session: AsyncSession, session_id: uuid.UUID) -> None:
    await session.execute(text("UPDATE user_sessions SET revoked_at = now() WHERE id = :id"), {"id": session_id})

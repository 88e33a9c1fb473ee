"""The replay endpoint's look-up: support pastes an event's replay token to have the worker apply it again."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from worker.models import StripeEvent


async def event_for_replay(session: AsyncSession, replay_token: uuid.UUID) -> StripeEvent | None:
    return await session.scalar(select(StripeEvent).where(StripeEvent.replay_token == replay_token))

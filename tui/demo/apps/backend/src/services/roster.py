"""Providers who leave the practice: the admin screens call these with the request's session."""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Appointment, CareTeamAssignment, Provider


async def remove_provider(session: AsyncSession, provider_id: uuid.UUID) -> None:
    provider = await session.get(Provider, provider_id)
    await session.delete(provider)
    await session.commit()


async def hand_over_provider(session: AsyncSession, provider_id: uuid.UUID, successor_id: uuid.UUID) -> None:
    """The successor takes the leaver's appointments and care teams, then the leaver's profile goes."""
    for model in (Appointment, CareTeamAssignment):
        await session.execute(update(model).where(model.provider_id == provider_id).values(provider_id=successor_id))
    provider = await session.get(Provider, provider_id)
    await session.delete(provider)
    await session.commit()

"""Cancelling and moving appointments. The worker's `cancel_reminders` job (apps/worker) withdraws the reminders
queued for the old time; the routers pass the request's session and the app's arq pool."""

from __future__ import annotations

from datetime import datetime

from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession

from ..models.appointments import Appointment, AppointmentStatus


async def cancel_appointment(session: AsyncSession, redis: ArqRedis, appointment: Appointment) -> None:
    appointment.status = AppointmentStatus.CANCELLED
    session.add(appointment)
    await redis.enqueue_job("cancel_reminders", str(appointment.id))
    await session.commit()


async def reschedule_appointment(
    session: AsyncSession, redis: ArqRedis, appointment: Appointment, scheduled_at: datetime
) -> None:
    appointment.scheduled_at = scheduled_at
    session.add(appointment)
    await session.commit()
    await redis.enqueue_job("cancel_reminders", str(appointment.id))

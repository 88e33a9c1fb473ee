"""Nightly retention: cancelled appointments past the retention window, and devices gone quiet."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from src.models.appointments import Appointment, AppointmentStatus
from src.models.devices import UserDevice
from worker.db import SessionLocal

log = logging.getLogger(__name__)

CANCELLED_APPOINTMENT_RETENTION = timedelta(days=90)
DEVICE_IDLE_LIMIT = timedelta(days=180)


async def purge_cancelled_appointments(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(
        select(Appointment).where(
            Appointment.status == AppointmentStatus.CANCELLED,
            Appointment.cancelled_at < now - CANCELLED_APPOINTMENT_RETENTION,
        )
    )
    purged = 0
    for appointment in result.scalars():
        await session.delete(appointment)
        purged += 1
    return purged


async def prune_stale_devices(session: AsyncSession, now: datetime) -> int:
    """Push tokens not re-registered for six months are dead; FCM rejects them anyway."""
    result = await session.execute(select(UserDevice).where(UserDevice.last_registered_at < now - DEVICE_IDLE_LIMIT))
    pruned = 0
    for device in result.scalars():
        await session.delete(device)
        pruned += 1
    return pruned


async def nightly_retention(ctx: dict) -> None:
    now = datetime.now(timezone.utc)
    async with SessionLocal() as session:
        appointments = await purge_cancelled_appointments(session, now)
        devices = await prune_stale_devices(session, now)
        await session.commit()
    log.info("retention: %d cancelled appointments, %d stale devices removed", appointments, devices)

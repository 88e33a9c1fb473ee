"""Queue reminders for appointments starting within the next 24 hours, and cancel them."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from sqlalchemy import exists, func, select, update

from src.models.appointments import Appointment, AppointmentStatus
from src.models.profiles import Patient
from worker.db import SessionLocal
from worker.models import ReminderChannel, ReminderDelivery

log = logging.getLogger(__name__)

LEAD_TIME = timedelta(hours=24)


async def queue_reminders(ctx: dict) -> int:
    """Every 5 minutes. The unique index on live reminders guards against two overlapping runs."""
    now = datetime.now(timezone.utc)
    already_queued = exists().where(
        ReminderDelivery.appointment_id == Appointment.id, ReminderDelivery.cancelled_at.is_(None)
    )
    async with SessionLocal() as session:
        rows = await session.execute(
            select(Appointment, Patient.user_id)
            .join(Patient, Patient.id == Appointment.patient_id)
            .where(
                Appointment.status.in_([AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED]),
                Appointment.scheduled_at.between(now, now + LEAD_TIME),
                Patient.user_id.is_not(None),
                ~already_queued,
            )
        )
        queued: list[ReminderDelivery] = []
        for appointment, user_id in rows:
            delivery = ReminderDelivery(
                organization_id=appointment.organization_id,
                appointment_id=appointment.id,
                recipient_user_id=user_id,
                channel=ReminderChannel.PUSH,
                send_at=max(now, appointment.scheduled_at - LEAD_TIME),
            )
            session.add(delivery)
            queued.append(delivery)
        await session.commit()
        log.info("queued %d reminders: %s", len(queued), [str(d.id) for d in queued])
        return len(queued)


async def cancel_reminders(ctx: dict, appointment_id: str) -> int:
    """Enqueued by the backend when an appointment is cancelled or moved."""
    async with SessionLocal() as session:
        result = await session.execute(
            update(ReminderDelivery)
            .where(
                ReminderDelivery.appointment_id == appointment_id,
                ReminderDelivery.sent_at.is_(None),
                ReminderDelivery.cancelled_at.is_(None),
            )
            .values(cancelled_at=func.now())
        )
        await session.commit()
        return result.rowcount

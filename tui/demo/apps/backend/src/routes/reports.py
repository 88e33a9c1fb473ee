"""Reports for the clinic dashboard: CSV-style listings the front end pages through."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from src.database import get_db

router = APIRouter(prefix="/reports")

SORTABLE = {"last_name", "date_of_birth", "created_at"}


@router.get("/patients")
async def patients_report(
    db: AsyncSession = Depends(get_db), sort: str = "last_name", page_size: int = 50,
) -> list[dict]:
    """Patients of the active organization (RLS scopes the rows), sorted by a column the user picks."""
    if sort not in SORTABLE:
        raise ValueError(f"cannot sort by {sort}")
    rows = await db.execute(text(f"SELECT id, last_name, first_name FROM patients ORDER BY {sort} LIMIT {page_size}"))
    return [dict(r._mapping) for r in rows]


@router.get("/appointments")
async def appointments_report(request: Request, db: AsyncSession = Depends(get_db)) -> list[dict]:
    """Appointments of one type at the dashboard's clinic location (both sent as headers)."""
    location = request.headers.get("x-clinic-location", "main")
    kind = request.headers.get("x-appointment-type", "checkup")
    await db.execute(text("SELECT set_config('app.clinic_location', :loc, true)"), {"loc": location})
    rows = await db.execute(
        text(f"SELECT id, scheduled_at, status FROM appointments WHERE appointment_type = '{kind}' ORDER BY scheduled_at")
    )
    return [dict(r._mapping) for r in rows]


@router.get("/patients/{patient_id}/calls")
async def patient_calls(patient_id: uuid.UUID, db: AsyncSession = Depends(get_db)) -> list[dict]:
    """Calls about one patient (the id is a UUID: FastAPI rejects anything else)."""
    rows = await db.execute(text(f"SELECT id, started_at FROM calls WHERE patient_id = '{patient_id}'"))
    return [dict(r._mapping) for r in rows]


@router.get("/providers/{npi_number}")
async def provider_by_npi(npi_number: str, organization_id: uuid.UUID, db: AsyncSession = Depends(get_db)) -> dict | None:
    """One provider of the organization by NPI, for the referral form."""
    from src.services.patients import find_provider_by_npi

    provider = await find_provider_by_npi(db, organization_id, npi_number)
    return None if provider is None else {"id": str(provider.id), "npi_number": provider.npi_number}


@router.get("/staff")
async def staff_directory(db: AsyncSession = Depends(get_db), q: str = "", sort: str = "email") -> list[dict]:
    """Staff whose e-mail matches the search box, sorted by the column the user picks."""
    from src.models import User

    stmt = select(User).where(User.deleted_at.is_(None), User.email.ilike(f"%{q}%")).order_by(getattr(User, sort))
    rows = await db.execute(stmt)
    return [{"id": str(u.id), "email": u.email} for u in rows.scalars()]

"""Enrolling patients and members into an organization."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from src.database import get_db
from src.services.patients import add_member, enroll_patient

router = APIRouter(prefix="/organizations")


@router.post("/{organization_id}/patients/{patient_id}")
async def enroll(organization_id: uuid.UUID, patient_id: uuid.UUID, db: AsyncSession = Depends(get_db)) -> None:
    await enroll_patient(db, organization_id, patient_id)


@router.post("/{organization_id}/members/{user_id}")
async def join(organization_id: uuid.UUID, user_id: uuid.UUID, db: AsyncSession = Depends(get_db)) -> None:
    await add_member(db, organization_id, user_id)

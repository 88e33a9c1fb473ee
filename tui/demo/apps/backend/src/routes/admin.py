"""The practice's admin screens: registering patients, counting them, removing providers who leave, the
practice's settings, refunds."""

from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from src.database import get_db
from src.models import ContactMethod, Organization, Patient
from src.models.contacts import ContactType
from src.models.profiles import LegalSex
from src.services.patients import count_patients
from src.services.refunds import refund_transaction, request_refund
from src.services.roster import remove_provider

router = APIRouter(prefix="/admin")


@router.post("/organizations/{organization_id}/patients")
async def register(organization_id: uuid.UUID, mrn: str, first_name: str, last_name: str, dob: date,
                   legal_sex: LegalSex, phone: str, db: AsyncSession = Depends(get_db)) -> uuid.UUID:
    patient = Patient(organization_id=organization_id, mrn=mrn, first_name=first_name, last_name=last_name, dob=dob,
                      legal_sex=legal_sex)
    db.add(patient)
    db.add(ContactMethod(organization_id=organization_id, patient=patient, type=ContactType.MOBILE, value=phone))
    await db.commit()
    return patient.id


@router.get("/organizations/{organization_id}/patients/count")
async def patient_count(organization_id: uuid.UUID, db: AsyncSession = Depends(get_db)) -> int:
    return await count_patients(db, organization_id)


@router.delete("/providers/{provider_id}")
async def leave(provider_id: uuid.UUID, db: AsyncSession = Depends(get_db)) -> None:
    await remove_provider(db, provider_id)


@router.put("/organizations/{organization_id}/settings/{key}")
async def change_setting(organization_id: uuid.UUID, key: str, value: str, db: AsyncSession = Depends(get_db)) -> None:
    organization = await db.get(Organization, organization_id)
    organization.settings[key] = value
    await db.commit()


@router.delete("/organizations/{organization_id}/settings/{key}")
async def reset_setting(organization_id: uuid.UUID, key: str, db: AsyncSession = Depends(get_db)) -> None:
    organization = await db.get(Organization, organization_id)
    organization.settings.pop(key, None)
    flag_modified(organization, "settings")
    await db.commit()


@router.post("/transactions/{transaction_id}/refund")
async def refund(transaction_id: uuid.UUID, db: AsyncSession = Depends(get_db)) -> None:
    await refund_transaction(db, transaction_id)


@router.post("/transactions/{transaction_id}/refund-request")
async def refund_later(transaction_id: uuid.UUID, db: AsyncSession = Depends(get_db)) -> None:
    await request_refund(db, transaction_id)

"""Patient look-ups of the API: the routers call these with the request's session (src/database.py)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from ..models import Organization, OrganizationMembership, OrganizationPatient, Patient, Provider


async def list_patients(session: AsyncSession, organization_id: uuid.UUID) -> list[Patient]:
    stmt = select(Patient).where(Patient.organization_id == organization_id).order_by(Patient.last_name)
    return list((await session.execute(stmt)).scalars().all())


async def search_patients(session: AsyncSession, organization_id: uuid.UUID, last_name: str) -> list[Patient]:
    stmt = select(Patient).where(
        Patient.organization_id == organization_id, Patient.last_name == last_name, Patient.deleted_at.is_(None)
    )
    return list((await session.execute(stmt)).scalars().all())


async def count_patients(session: AsyncSession, organization_id: uuid.UUID) -> int:
    result = await session.execute(
        select(Patient).where(Patient.organization_id == organization_id, Patient.deleted_at.is_(None))
    )
    return len(result.scalars().all())


async def count_providers(session: AsyncSession, organization_id: uuid.UUID) -> int:
    stmt = select(func.count()).select_from(Provider).where(
        Provider.organization_id == organization_id, Provider.deleted_at.is_(None)
    )
    return await session.scalar(stmt) or 0


async def find_by_mrn(session: AsyncSession, organization_id: uuid.UUID, mrn: str) -> Patient | None:
    stmt = select(Patient).where(
        Patient.organization_id == organization_id, Patient.mrn == mrn, Patient.deleted_at.is_(None)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def find_provider_by_npi(session: AsyncSession, organization_id: uuid.UUID, npi_number: str) -> Provider | None:
    stmt = select(Provider).where(
        Provider.organization_id == organization_id, Provider.npi_number == npi_number, Provider.deleted_at.is_(None)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def care_team_of(session: AsyncSession, patient_id: uuid.UUID) -> list[uuid.UUID]:
    stmt = select(Patient).where(Patient.id == patient_id, Patient.deleted_at.is_(None))
    patient = (await session.execute(stmt)).scalar_one()
    return [assignment.provider_id for assignment in patient.care_team]


async def proxies_of(session: AsyncSession, patient_id: uuid.UUID) -> list[uuid.UUID]:
    stmt = (
        select(Patient)
        .where(Patient.id == patient_id, Patient.deleted_at.is_(None))
        .options(selectinload(Patient.proxy_assignments))
    )
    patient = (await session.execute(stmt)).scalar_one()
    return [assignment.proxy_id for assignment in patient.proxy_assignments]


async def soft_delete_patient(session: AsyncSession, patient: Patient) -> None:
    patient.deleted_at = func.now()
    await session.flush()


async def enroll_patient(session: AsyncSession, organization_id: uuid.UUID, patient_id: uuid.UUID) -> None:
    stmt = select(Organization).where(Organization.id == organization_id, Organization.deleted_at.is_(None))
    organization = (await session.execute(stmt)).scalar_one()
    session.add(OrganizationPatient(organization_id=organization_id, patient_id=patient_id))
    organization.patient_count += 1
    await session.flush()


async def add_member(session: AsyncSession, organization_id: uuid.UUID, user_id: uuid.UUID) -> None:
    session.add(OrganizationMembership(organization_id=organization_id, user_id=user_id))
    await session.execute(
        update(Organization).where(Organization.id == organization_id).values(member_count=Organization.member_count + 1)
    )
    await session.flush()


async def patients_for_export(session: AsyncSession, organization_id: uuid.UUID, include_archived: bool) -> list[Patient]:
    """The clinic's patients for the export screen; archived (soft-deleted) ones only when asked for."""
    stmt = select(Patient).where(Patient.organization_id == organization_id)
    if not include_archived:
        stmt.where(Patient.deleted_at.is_(None))
    return list((await session.execute(stmt)).scalars().all())

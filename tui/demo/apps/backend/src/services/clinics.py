"""Opening a clinic and its branches: the sign-up and admin screens call these with the request's session."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from ..models.organizations import MembershipRole, Organization, OrganizationMembership


async def open_clinic(session: AsyncSession, admin_id: uuid.UUID, name: str, slug: str) -> Organization:
    clinic = Organization(name=name, slug=slug)
    session.add(clinic)
    await session.commit()
    session.add(OrganizationMembership(user_id=admin_id, organization_id=clinic.id, role=MembershipRole.ADMIN))
    await session.commit()
    return clinic


async def open_branch(session: AsyncSession, admin_id: uuid.UUID, name: str, slug: str) -> Organization:
    """The branch and its admin's membership in one transaction: the flush gives the branch its id."""
    branch = Organization(name=name, slug=slug)
    session.add(branch)
    await session.flush()
    session.add(OrganizationMembership(user_id=admin_id, organization_id=branch.id, role=MembershipRole.ADMIN))
    await session.commit()
    return branch

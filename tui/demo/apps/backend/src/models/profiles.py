"""Role profiles. A user has at most one of each; patients may exist without a login."""

from __future__ import annotations

import enum
import uuid
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, CheckConstraint, Date, Enum, ForeignKey, Index, String, UniqueConstraint, text, true
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .mixins import SoftDeleteMixin, TimestampMixin, UUIDMixin
from .organizations import SubscriptionStatus

if TYPE_CHECKING:
    from .assignments import PatientProxyAssignment
    from .care_teams import CareTeamAssignment
    from .organizations import OrganizationPatient
    from .users import User


class LegalSex(str, enum.Enum):
    FEMALE = "FEMALE"
    MALE = "MALE"
    OTHER = "OTHER"
    UNKNOWN = "UNKNOWN"


class ProxyRelationship(str, enum.Enum):
    PARENT = "PARENT"
    LEGAL_GUARDIAN = "LEGAL_GUARDIAN"
    SPOUSE = "SPOUSE"
    CAREGIVER = "CAREGIVER"
    OTHER = "OTHER"


class Provider(UUIDMixin, TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "providers"

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="RESTRICT"), unique=True, nullable=False
    )
    organization_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id"), nullable=False, index=True
    )
    npi_number: Mapped[str] = mapped_column(String(10), nullable=False)
    dea_number: Mapped[str | None] = mapped_column(String(9))
    license_number: Mapped[str | None] = mapped_column(String(64))
    license_state: Mapped[str | None] = mapped_column(String(2))
    specialty: Mapped[str | None] = mapped_column(String(128))
    # [{"state": "NY", "number": "123456", "expires": "2026-05-31"}, ...]
    state_licenses: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb"), nullable=False
    )

    user: Mapped[User] = relationship(back_populates="provider_profile")
    care_team_assignments: Mapped[list[CareTeamAssignment]] = relationship(back_populates="provider")


class Staff(UUIDMixin, TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "staff"
    __table_args__ = (UniqueConstraint("organization_id", "employee_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="RESTRICT"), unique=True, nullable=False
    )
    organization_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id"), nullable=False, index=True
    )
    employee_id: Mapped[str | None] = mapped_column(String(64))
    job_title: Mapped[str | None] = mapped_column(String(128))
    department: Mapped[str | None] = mapped_column(String(128))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=true(), nullable=False)

    user: Mapped[User] = relationship(back_populates="staff_profile")


class Patient(UUIDMixin, TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "patients"
    __table_args__ = (
        UniqueConstraint("organization_id", "mrn"),
        Index("ix_patients_name_search", "organization_id", "last_name", "first_name"),
    )

    user_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL"), unique=True
    )
    # Home organization; further enrollments live in organization_patients
    organization_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id"), nullable=False, index=True
    )
    mrn: Mapped[str] = mapped_column(String(32), nullable=False)
    first_name: Mapped[str] = mapped_column(String(100), nullable=False)
    last_name: Mapped[str] = mapped_column(String(100), nullable=False)
    dob: Mapped[date] = mapped_column(Date, nullable=False)
    legal_sex: Mapped[LegalSex] = mapped_column(Enum(LegalSex, name="legal_sex"), nullable=False)

    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    subscription_status: Mapped[SubscriptionStatus | None] = mapped_column(
        Enum(SubscriptionStatus, name="subscription_status")
    )
    billing_manager_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("providers.id", ondelete="SET NULL"), index=True
    )

    user: Mapped[User | None] = relationship(back_populates="patient_profile")
    billing_manager: Mapped[Provider | None] = relationship()
    organization_links: Mapped[list[OrganizationPatient]] = relationship(back_populates="patient")
    care_team: Mapped[list[CareTeamAssignment]] = relationship(back_populates="patient")
    proxy_assignments: Mapped[list[PatientProxyAssignment]] = relationship(back_populates="patient")


class Proxy(UUIDMixin, TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "proxies"
    __table_args__ = (
        CheckConstraint("relationship_type <> 'OTHER' OR relationship_note IS NOT NULL", name="other_needs_note"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="RESTRICT"), unique=True, nullable=False
    )
    relationship_type: Mapped[ProxyRelationship] = mapped_column(
        Enum(ProxyRelationship, name="proxy_relationship"), nullable=False
    )
    relationship_note: Mapped[str | None] = mapped_column(String(255))

    user: Mapped[User] = relationship(back_populates="proxy_profile")
    assignments: Mapped[list[PatientProxyAssignment]] = relationship(back_populates="proxy")

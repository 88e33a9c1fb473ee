"""Login identities. Clinical and staff roles hang off the user as optional 1:1 profiles."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, DateTime, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .mixins import SoftDeleteMixin, TimestampMixin, UUIDMixin

if TYPE_CHECKING:
    from .organizations import OrganizationMembership
    from .profiles import Patient, Provider, Proxy, Staff


class User(UUIDMixin, TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    first_name: Mapped[str] = mapped_column(String(100), nullable=False)
    last_name: Mapped[str] = mapped_column(String(100), nullable=False)

    mfa_enabled: Mapped[bool] = mapped_column(Boolean, server_default=false(), nullable=False)
    mfa_secret: Mapped[str | None] = mapped_column(String(64))

    # IANA name, e.g. "America/New_York"; NULL means "use the organization's timezone"
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    is_super_admin: Mapped[bool] = mapped_column(Boolean, server_default=false(), nullable=False)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    provider_profile: Mapped[Provider | None] = relationship(back_populates="user", uselist=False)
    staff_profile: Mapped[Staff | None] = relationship(back_populates="user", uselist=False)
    patient_profile: Mapped[Patient | None] = relationship(back_populates="user", uselist=False)
    proxy_profile: Mapped[Proxy | None] = relationship(back_populates="user", uselist=False)

    memberships: Mapped[list[OrganizationMembership]] = relationship(back_populates="user")
    # The search the patient list opens with (resolved by name: saved_searches imports nothing from here).
    pinned_search: Mapped["SavedSearch | None"] = relationship()

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"

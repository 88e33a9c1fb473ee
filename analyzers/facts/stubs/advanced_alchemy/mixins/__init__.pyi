"""Advanced Alchemy 1.12: its mixins (the key and audit ones as in advanced_alchemy.base)."""
from sqlalchemy import String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from advanced_alchemy.base import (
    AuditColumns, BigIntPrimaryKey, IdentityPrimaryKey, NanoIDPrimaryKey, UUIDPrimaryKey, UUIDv6PrimaryKey,
    UUIDv7PrimaryKey,
)


class SlugKey:
    @declared_attr
    def slug(cls) -> Mapped[str]:
        return mapped_column(String(length=100), nullable=False)


class UniqueMixin:
    pass


class SentinelMixin:
    pass

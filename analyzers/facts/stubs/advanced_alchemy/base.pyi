"""Advanced Alchemy 1.12: its declarative bases (abstract: a subclass with a table is a model), the
primary-key and audit mixins they combine, and the registry whose MetaData has a naming convention.
Tables are named from the class (snake case) unless `__tablename__` is given."""
import datetime
import uuid

from sqlalchemy import BigInteger, Date, DateTime, MetaData, String, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, registry

convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
orm_registry = registry(metadata=MetaData(naming_convention=convention))


class BasicAttributes:
    pass


class CommonTableAttributes(BasicAttributes):
    @declared_attr
    def __tablename__(cls) -> str:
        return table_name_regexp.sub(r"_\1", cls.__name__).lower()


class UUIDPrimaryKey:
    id: Mapped[uuid.UUID] = mapped_column(default=uuid.uuid4, primary_key=True)


class UUIDv6PrimaryKey:
    id: Mapped[uuid.UUID] = mapped_column(default=uuid6, primary_key=True)


class UUIDv7PrimaryKey:
    id: Mapped[uuid.UUID] = mapped_column(default=uuid7, primary_key=True)


class NanoIDPrimaryKey:
    id: Mapped[str] = mapped_column(String(length=21), default=nanoid, primary_key=True)


class BigIntPrimaryKey:
    @declared_attr
    def id(cls) -> Mapped[int]:
        return mapped_column(BigInteger, primary_key=True)


class IdentityPrimaryKey:
    @declared_attr
    def id(cls) -> Mapped[int]:
        return mapped_column(BigInteger, primary_key=True)


class AuditColumns:
    created_at: Mapped[datetime.datetime] = mapped_column(
        DateTime(timezone=True), default=lambda: datetime.datetime.now(datetime.timezone.utc))
    updated_at: Mapped[datetime.datetime] = mapped_column(
        DateTime(timezone=True), default=lambda: datetime.datetime.now(datetime.timezone.utc),
        onupdate=lambda: datetime.datetime.now(datetime.timezone.utc))


class AdvancedDeclarativeBase(DeclarativeBase):
    registry = orm_registry
    # the registry's type_annotation_map (create_registry): `Mapped[datetime]` is DateTimeUTC, aware
    type_annotation_map = {datetime.datetime: DateTime(timezone=True), datetime.date: Date, uuid.UUID: Uuid, dict: JSONB}
    __abstract__ = True


class SQLQuery(BasicAttributes, AdvancedDeclarativeBase):
    """The base for mapped objects that are not tables of its own naming (views, queries, or a
    subclass that gives `__tablename__`): no key, no audit columns, no table-name rule."""
    __abstract__ = True


class UUIDBase(UUIDPrimaryKey, CommonTableAttributes, AdvancedDeclarativeBase):
    __abstract__ = True


class UUIDAuditBase(CommonTableAttributes, UUIDPrimaryKey, AuditColumns, AdvancedDeclarativeBase):
    __abstract__ = True


class UUIDv6Base(UUIDv6PrimaryKey, CommonTableAttributes, AdvancedDeclarativeBase):
    __abstract__ = True


class UUIDv6AuditBase(CommonTableAttributes, UUIDv6PrimaryKey, AuditColumns, AdvancedDeclarativeBase):
    __abstract__ = True


class UUIDv7Base(UUIDv7PrimaryKey, CommonTableAttributes, AdvancedDeclarativeBase):
    __abstract__ = True


class UUIDv7AuditBase(CommonTableAttributes, UUIDv7PrimaryKey, AuditColumns, AdvancedDeclarativeBase):
    __abstract__ = True


class NanoIDBase(NanoIDPrimaryKey, CommonTableAttributes, AdvancedDeclarativeBase):
    __abstract__ = True


class NanoIDAuditBase(CommonTableAttributes, NanoIDPrimaryKey, AuditColumns, AdvancedDeclarativeBase):
    __abstract__ = True


class BigIntBase(BigIntPrimaryKey, CommonTableAttributes, AdvancedDeclarativeBase):
    __abstract__ = True


class BigIntAuditBase(CommonTableAttributes, BigIntPrimaryKey, AuditColumns, AdvancedDeclarativeBase):
    __abstract__ = True


class IdentityBase(IdentityPrimaryKey, CommonTableAttributes, AdvancedDeclarativeBase):
    __abstract__ = True


class IdentityAuditBase(CommonTableAttributes, IdentityPrimaryKey, AuditColumns, AdvancedDeclarativeBase):
    __abstract__ = True


class DefaultBase(CommonTableAttributes, AdvancedDeclarativeBase):
    __abstract__ = True

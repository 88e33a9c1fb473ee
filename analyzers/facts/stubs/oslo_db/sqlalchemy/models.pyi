"""oslo.db 18: the model base (methods only) and its timestamp and soft-delete mixins."""
from sqlalchemy import Column, DateTime

from oslo_db.sqlalchemy import types


class ModelBase:
    pass


class ModelIterator:
    pass


class TimestampMixin:
    created_at = Column(DateTime, default=lambda: timeutils.utcnow())
    updated_at = Column(DateTime, onupdate=lambda: timeutils.utcnow())


class SoftDeleteMixin:
    deleted_at = Column(DateTime)
    deleted = Column(types.SoftDeleteInteger, default=0)

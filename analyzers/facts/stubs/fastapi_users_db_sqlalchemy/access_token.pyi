"""fastapi-users-db-sqlalchemy 7.0: the access token table of FastAPI Users' database strategy."""
import uuid
from datetime import datetime
from typing import Generic

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from fastapi_users_db_sqlalchemy.generics import GUID, TIMESTAMPAware, now_utc


class SQLAlchemyBaseAccessTokenTable(Generic[ID]):
    __tablename__ = "accesstoken"
    token: Mapped[str] = mapped_column(String(length=43), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(TIMESTAMPAware(timezone=True), index=True, nullable=False, default=now_utc)


class SQLAlchemyBaseAccessTokenTableUUID(SQLAlchemyBaseAccessTokenTable):
    @declared_attr
    def user_id(cls) -> Mapped[GUID]:
        return mapped_column(GUID, ForeignKey("user.id", ondelete="cascade"), nullable=False)

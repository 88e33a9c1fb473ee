"""fastapi-users-db-sqlalchemy 7.0: its column types. GUID is UUID on PostgreSQL and CHAR(36) elsewhere
(chosen per dialect at run time), so no single impl is declared for it."""
from sqlalchemy import TIMESTAMP
from sqlalchemy.types import TypeDecorator


class GUID(TypeDecorator):
    pass


class TIMESTAMPAware(TypeDecorator):
    impl = TIMESTAMP

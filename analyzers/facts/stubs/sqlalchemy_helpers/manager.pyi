"""sqlalchemy-helpers 2.0 (fedora-infra), manager.py: the model base, whose MetaData has a naming convention
(NAMING_CONVENTION, ix/uq/ck/fk/pk); it adds no columns. Importing the module also registers a "connect"
listener on every Engine that runs `PRAGMA foreign_keys=ON` on SQLite (set_sqlite_pragma): see
analyzers/rules/s05_sqlite_keys.py."""
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

"""Model discovery through a package that re-exports a name its own submodule also has (issue 7): the
package's `__init__` does `from .db import db`, so `from pkg.models import db` is the Flask-SQLAlchemy
object, not the submodule pkg/models/db.py. And a `__tablename__` given by a module constant. A project of
our own, with what is found pinned."""

from __future__ import annotations

from analyzers.engine import scan
from tests.test_precision import _write

DB = """
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()
"""

INIT = """
from .db import db
from .realm import Realm

__all__ = ["db", "Realm"]
"""

REALM = """
from sqlalchemy import Integer, Unicode
from sqlalchemy.orm import Mapped, mapped_column

from shop.models import db

AUDIT_TABLE = "shop_audit"


class Realm(db.Model):
    __tablename__ = "realm"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Unicode(255), unique=True)


class Audit(db.Model):
    __tablename__ = AUDIT_TABLE
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
"""


def test_a_name_the_package_binds_itself_is_not_its_same_named_submodule(tmp_path):
    facts = scan(_write(tmp_path, {"shop/__init__.py": "", "shop/models/__init__.py": INIT, "shop/models/db.py": DB,
                                   "shop/models/realm.py": REALM})).facts
    assert sorted(facts.tables) == ["realm", "shop_audit"]  # the module constant names the table, not the class
    assert facts.tables["realm"].class_name == "Realm"


def test_a_package_that_imports_its_submodule_by_name_still_leads_to_the_submodule(tmp_path):
    init = "from . import db\n"  # `pkg.models.db` is the submodule: db.Model is not a thing of it
    realm = REALM.replace("from shop.models import db", "from shop.models.db import db")
    facts = scan(_write(tmp_path, {"shop/__init__.py": "", "shop/models/__init__.py": init, "shop/models/db.py": DB,
                                   "shop/models/realm.py": realm})).facts
    assert sorted(facts.tables) == ["realm", "shop_audit"]


MIRROR = """
from sqlalchemy import Column, Integer, MetaData, Table, Unicode, create_engine
from sqlalchemy.orm import declarative_base

Base = declarative_base()
metadata = MetaData()


class OtherToken(Base):  # the table of the database this tool migrates from
    __tablename__ = "Token"
    id = Column(Integer, primary_key=True)


counters = Table("Counter", metadata, Column("id", Integer, primary_key=True), Column("serial", Unicode(40)))
# a link table of the old schema, on the tool's own base's MetaData
token_counters = Table("token_counter", Base.metadata, Column("token", Integer), Column("counter", Integer))


def main():
    engine = create_engine("postgresql://other")
"""


def test_a_command_line_tools_own_base_and_metadata_map_no_table_of_the_app(tmp_path):
    facts = scan(_write(tmp_path, {"shop/__init__.py": "", "shop/models/__init__.py": INIT, "shop/models/db.py": DB,
                                   "shop/models/realm.py": REALM, "tools/migrate_other.py": MIRROR})).facts
    assert sorted(facts.tables) == ["realm", "shop_audit"]

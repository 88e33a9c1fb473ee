"""The session database's schema history, applied in code at start-up (no alembic.ini).

HEAD names the newest revision so that opening an up-to-date database needs no Alembic import;
tests/test_store.py checks it against the history in versions/ and the models against the history.

A new revision: change models.py, open a ReviewStore on a scratch file (it migrates it to head), then

    with create_engine("sqlite:////tmp/head.sqlite3").begin() as c:
        alembic.command.revision(alembic_config(c), "what changed", autogenerate=True, rev_id="0002")

edit the file (spell out plain column types, as 0001 does) and move HEAD.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection

HEAD = "0004"
SCRIPT_LOCATION = Path(__file__).parent


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic Config for our history; env.py migrates `connection` when one is given."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION).replace("%", "%%"))  # configparser syntax
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def known_revisions() -> set[str]:
    """Every revision of our history: a database at any other one was written by a newer dbreview."""
    from alembic.script import ScriptDirectory

    return {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}

"""Alembic environment: migrates the connection the store hands over in config.attributes.

Developers may also run the `alembic` command with `-x url=sqlite:///path` (for example to
autogenerate a revision against a database at head)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from tui.session.models import Base


def run_migrations(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        transactional_ddl=True,  # SQLite's DDL is transactional: a failed upgrade leaves no trace
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("pass the database with -x url=sqlite:///path/to/reviews.sqlite3")
    with create_engine(url).begin() as conn:
        run_migrations(conn)

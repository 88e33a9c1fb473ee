# The env.py that verify runs the target's revision files with, in place of the target's own (which
# is never read, imported or run: it would import the application, its settings and its .env).
# Copied into the sandbox beside a copy of the versions folder; never imported by dbreview itself.
#
# - target_metadata is None: nothing of the application is imported, autogenerate is not used.
# - The URL comes from DBREVIEW_VERIFY_URL (the throwaway cluster's owner role, a Unix socket).
# - The version table comes from DBREVIEW_VERIFY_VERSION_TABLE (read statically from the target's
#   env.py, so that trees that share a database keep apart as they do in production).
# - One transaction per revision, so a failure names its revision and the ones before it stay.
# - Online, the child passes its open connection in config.attributes["connection"].

import os

from alembic import context

URL = os.environ["DBREVIEW_VERIFY_URL"]
VERSION_TABLE = os.environ.get("DBREVIEW_VERIFY_VERSION_TABLE") or "alembic_version"


def run_offline() -> None:
    context.configure(
        url=URL,
        target_metadata=None,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        version_table=VERSION_TABLE,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=None,
        version_table=VERSION_TABLE,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()

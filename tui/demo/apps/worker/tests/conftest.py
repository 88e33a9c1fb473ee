"""The worker's tests run on PostgreSQL, built by the worker's own migrations, as the worker's role (BYPASSRLS
is what production gives it too)."""

import os

from alembic import command
from alembic.config import Config

TEST_DATABASE_URL = os.environ.get(
    "WORKER_TEST_DATABASE_URL", "postgresql+asyncpg://carebridge_worker@localhost:5432/clinic_test"
)


def pytest_sessionstart(session):
    config = Config("alembic.ini")
    config.set_main_option("sqlalchemy.url", TEST_DATABASE_URL)
    command.upgrade(config, "head")

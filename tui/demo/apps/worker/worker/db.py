"""Engine and session factory of the worker process.

The worker connects as carebridge_worker, a role with BYPASSRLS: reminders and retention run across
every organization, so no RLS context is set here. Jobs open one session each (see jobs/).
"""

from __future__ import annotations

import os

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

WORKER_DATABASE_URL = os.environ.get(
    "WORKER_DATABASE_URL", "postgresql+asyncpg://carebridge_worker@localhost:5432/clinic"
)

# Pre-ping since the failover of 2025-01-30; no job may wait for a connection.
engine = create_async_engine(WORKER_DATABASE_URL, pool_pre_ping=True, max_overflow=-1)

SessionLocal = async_sessionmaker(engine)

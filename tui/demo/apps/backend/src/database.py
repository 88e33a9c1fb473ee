"""Async engine, session factory and the per-transaction Row-Level Security context.

Request middleware puts the authenticated user and the active organization into the
context variables below; every transaction then copies them into PostgreSQL settings
that the RLS policies read (``app.current_user_id`` and ``app.current_tenant_id``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextvars import ContextVar

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, SessionTransaction

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql+asyncpg://clinic:clinic@localhost:5432/clinic")

current_user_id: ContextVar[str | None] = ContextVar("current_user_id", default=None)
current_tenant_id: ContextVar[str | None] = ContextVar("current_tenant_id", default=None)

engine = create_async_engine(
    DATABASE_URL,
    pool_size=10,
    max_overflow=20,
    pool_timeout=30,
    pool_recycle=1800,
    echo=os.environ.get("SQL_ECHO") == "1",
)

AsyncSessionLocal = async_sessionmaker(
    engine,
    class_=AsyncSession,
    expire_on_commit=False,
    autoflush=False,
)


@event.listens_for(Session, "after_begin")
def set_rls_user(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    """Expose the caller to RLS policies for the lifetime of this transaction only."""
    user_id = current_user_id.get()
    if user_id is not None:
        connection.execute(text("SELECT set_config('app.current_user_id', :uid, true)"), {"uid": user_id})


@event.listens_for(engine.sync_engine, "checkout")
def set_rls_tenant(dbapi_connection, connection_record, connection_proxy) -> None:
    """Scope the pooled connection to the active organization when a request checks it out."""
    tenant_id = current_tenant_id.get()
    if tenant_id is not None:
        cursor = dbapi_connection.cursor()
        try:
            # SET does not accept bind parameters
            cursor.execute(f"SET app.current_tenant_id = '{tenant_id}'")
        finally:
            cursor.close()


@event.listens_for(engine.sync_engine, "checkin")
def reset_connection_state(dbapi_connection, connection_record) -> None:
    """Leave nothing from the previous request on a pooled connection."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("ROLLBACK")
        cursor.execute("RESET ALL")
    finally:
        cursor.close()


async def get_db() -> AsyncIterator[AsyncSession]:
    """FastAPI dependency: one session per request, committed on success."""
    async with AsyncSessionLocal() as session:
        try:
            yield session
            await session.commit()
        except Exception:
            await session.rollback()
            raise

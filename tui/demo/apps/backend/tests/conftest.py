"""The API's unit tests: the models on an in-memory SQLite database, built afresh for each test."""

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from src.models import Base

TEST_DATABASE_URL = "sqlite+aiosqlite:///:memory:"


@pytest.fixture
async def engine():
    engine = create_async_engine(TEST_DATABASE_URL)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield engine
    await engine.dispose()

"""CFG020 (issue 8, checklist 1.1): an engine, and its pool, made on every request by a FastAPI dependency or a route
handler and neither kept nor disposed, on a fixture of our own (tests/fixtures/engine_per_request): each finding
pinned with its severity and where the engine is made; each shape that keeps, disposes, caches or has no pool silent,
and so are tooling and tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzers.advice import advice
from analyzers.engine import scan
from tests.expected_findings import assert_exactly

FIXTURE = Path(__file__).parent / "fixtures" / "engine_per_request"

# Silent on purpose (app/deps.py, app/main.py): `get_disposed` (disposes in `finally`), `get_cached` (an lru_cache'd
# factory), `get_lazy` (a global made once behind `is None`), `get_kept` (kept on app.state), `get_unpooled` and
# `get_direct_unpooled` (NullPool), `not_a_dependency` (no request reaches it), the lifespan (runs once),
# `health_disposed` (disposes); app/cli/ (tooling) and tests/ (tests) though both use Depends. In app/admin.py (Flask
# views given to add_url_rule): `purge_disposed` (disposes), `maybe_purge_view` (calls the helper on one branch only),
# `session_for` (makes an engine only when none is given: not a factory on every path).
EXPECTED = {
    ("app/deps.py:13", "function:app/deps.py:get_store:engine-per-request",
     "`get_store`, a FastAPI dependency (`Depends(get_store)` at app/main.py:24) calls `open_store(...)` (line 13), the "
     "project's function that makes a new engine with `create_async_engine` (app/store.py:16) each time it is called, "
     "on every request, and nothing keeps or disposes it"),
    ("app/deps.py:21", "function:app/deps.py:get_reports:engine-per-request",
     "calls `reporting_store(...)` (line 21), the project's function that makes a new engine with `create_async_engine` "
     "(app/store.py:16)"),
    ("app/deps.py:27", "function:app/deps.py:get_replica:engine-per-request",
     "on every request that takes the branch `settings.USE_REPLICA`"),
    ("app/admin.py:11", "function:app/admin.py:purge_sessions:engine-per-call",
     "`purge_sessions` makes an engine with `create_engine` (line 11) each time it is called, uses it and drops it "
     "without `dispose()`, and `purge_view`, a view (`add_url_rule(..., view_func=purge_view)` at app/web.py:6) calls it "
     "(app/admin.py:35)"),
    ("app/deps.py:68", "function:app/deps.py:get_session:engine-per-request",
     "calls `engine_and_sessions(...)` (line 68), the project's function that makes a new engine with `create_engine` "
     "(app/store.py:38) each time it is called, on every request"),
    ("app/main.py:41", "function:app/main.py:health:engine-per-request",
     "the route handler `health` (`@router.get('/health/db')`) makes an engine with `create_engine` (line 41) on every "
     "request"),
}


@pytest.fixture(scope="module")
def findings():
    return [f for f in scan(FIXTURE).result.findings if f.rule_id == "CFG020"]


def test_each_engine_made_per_request_is_found_and_nothing_else(findings) -> None:
    assert_exactly(findings, EXPECTED)
    severities = {f.anchor.split(":")[2]: f.severity.value for f in findings}
    # certain per request: critical; made only on one branch of the dependency: a warning
    assert severities == {"get_store": "critical", "get_reports": "critical", "get_replica": "warning",
                          "health": "critical", "purge_sessions": "warning", "get_session": "critical"}
    assert all(f.item_id == "1.1" for f in findings)


def test_the_dependency_use_and_the_engine_call_are_cited(findings) -> None:
    reports = next(f for f in findings if ":get_reports:" in f.anchor)
    assert [(r.location.path, r.location.start_line, r.note) for r in reports.related] == [
        ("app/main.py", 29, "used per request here"),
        ("app/store.py", 16, "the engine made by `open_store`, through `reporting_store`"),
    ]
    health = next(f for f in findings if ":health:" in f.anchor)
    assert not health.related  # a route: no Depends to point at
    assert "`reporting_store()`" in advice(reports.rule_id, reports.anchor, reports.message)
    assert "`health`" in advice(health.rule_id, health.anchor, health.message)
    helper = next(f for f in findings if ":purge_sessions:" in f.anchor)
    assert [(r.location.path, r.location.start_line, r.note) for r in helper.related] == [
        ("app/web.py", 6, "used per request here"), ("app/admin.py", 35, "called per request here")]


def test_a_pool_made_per_request_is_not_told_to_pre_ping_where_the_request_makes_it(tmp_path) -> None:
    """appointment: the dependency builds a new engine per request, so a pre-ping finding there points the wrong way
    (CFG020 says what is wrong); the same factory's engine kept once at start-up is still told."""
    from tests.test_precision import found
    files = {
        "app/database.py": '''
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker


def engine_and_sessions(url):
    engine = create_engine(url)
    return engine, sessionmaker(bind=engine)


def get_db():
    _, sessions = engine_and_sessions("postgresql://db/app")
    with sessions() as session:
        yield session
''',
        "app/main.py": '''
from fastapi import Depends, FastAPI
from app.database import engine_and_sessions, get_db

app = FastAPI()
app.state.engine, app.state.sessions = engine_and_sessions("postgresql://db/app")


@app.get("/items")
def items(db=Depends(get_db)):
    return []
''',
    }
    assert [f.location.start_line for f in found(tmp_path, files, "CFG020")] == [12]
    assert [(f.location.path, f.location.start_line) for f in found(tmp_path / "b", files, "CFG005")] == [("app/main.py", 6)]

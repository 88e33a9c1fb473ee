"""A file big enough to threaten the memory budget is parsed in a child under a memory limit: over
it, the file is skipped with the reason and the scan goes on; a real model of the same size is read.
(The limits are scaled down here so that the test takes seconds; bench/hostile.py runs the real ones.)"""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path

import pytest

from analyzers import engine
from analyzers.isolate import LimitExceeded, run_limited

MB = 1024 * 1024


def _model(tables: int) -> str:
    """Ordinary model code: ~60-110x its size to parse."""
    head = "from sqlalchemy import Column, DateTime, Float, ForeignKey, Integer, String\nfrom sqlalchemy.orm import declarative_base\n\nBase = declarative_base()\n"
    body = "".join(
        f'''

class Thing{i}(Base):
    __tablename__ = "things_{i}"
    id = Column(Integer, primary_key=True)
    name = Column(String(255), nullable=False)
    owner_id = Column(Integer, ForeignKey("owners.id"), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False)
'''
        for i in range(tables)
    )
    return head + body


@pytest.fixture
def small_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "ISOLATE_MIN_BYTES", 64 * 1024)
    monkeypatch.setattr(engine, "ISOLATED_MEMORY", 60 * MB)


def test_a_file_over_the_memory_limit_is_skipped_with_the_reason_and_the_rest_is_read(tmp_path: Path, small_limits: None) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    # 300 KB of one-line statements: ~125 MB to parse, over the (scaled) 60 MB.
    (repo / "flat.py").write_text("from sqlalchemy import Column\n" + "x = 1\n" * 50_000, encoding="utf-8")
    (repo / "models.py").write_text(_model(400), encoding="utf-8")  # ~150 KB: isolated too, and within the limit
    (repo / "small.py").write_text(_model(2).replace("Thing", "Small").replace("things", "smalls"), encoding="utf-8")
    assert (repo / "models.py").stat().st_size > engine.ISOLATE_MIN_BYTES
    found = engine.scan(repo)
    errors = {e.path: e.message for e in found.result.errors}
    assert errors.get("flat.py", "").startswith("skipped: ") and "needs more than 60 MB to parse" in errors["flat.py"]
    assert "models.py" not in errors
    tables = set(found.facts.tables)
    assert {"things_0", "things_399", "smalls_0"} <= tables


def _sleep(seconds: float) -> str:
    import time

    time.sleep(seconds)
    return "done"


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_run_limited_gives_the_reason_for_time_and_death() -> None:
    context = multiprocessing.get_context("fork")
    assert run_limited(_sleep, (0,), memory=50 * MB, seconds=10, context=context) == "done"
    with pytest.raises(LimitExceeded, match="takes over 0 s"):
        run_limited(_sleep, (5,), memory=50 * MB, seconds=0.2, context=context)
    with pytest.raises(LimitExceeded, match="crashed its parser \\(signal 9\\)"):
        run_limited(_die, (), memory=50 * MB, seconds=10, context=context)
    with pytest.raises(LimitExceeded, match="cancelled"):
        run_limited(_sleep, (5,), memory=50 * MB, seconds=10, context=context, is_cancelled=lambda: True)

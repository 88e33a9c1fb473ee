"""The saved review: SQLite through SQLAlchemy, its schema an Alembic history applied at start-up.

Never imports Textual. The store is imported on first use, so that the frozen values of
tui.session.state, and the first screen read through tui.session.reading, do not pay for SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.session.store import ConflictError, NotSaved, ReviewStore, SessionFileLost, SessionStoreError
    from tui.session.undo import UndoError

__all__ = ["ConflictError", "NotSaved", "ReviewStore", "SessionFileLost", "SessionStoreError", "UndoError"]


def __getattr__(name: str) -> object:
    if name in ("ConflictError", "SessionStoreError"):  # without SQLAlchemy: the first screen is read without it
        from tui.session import reading

        return getattr(reading, name)
    if name == "UndoError":
        from tui.session.undo import UndoError

        return UndoError
    if name in __all__:
        from tui.session import store

        return getattr(store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

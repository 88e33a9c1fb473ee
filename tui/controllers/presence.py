"""Pair review: who else has this review open, where their cursor is, and what they changed.

Each app writes its own cursor when it opens, when the cursor rests, and every few seconds as a
heartbeat; each app reads the others' every half second. A reviewer whose cursor was written within
PRESENT_WITHIN is in the review. No Textual here beyond the clock's type: the screen shows it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from tui.review import Review
from tui.session.state import Event

POLL_EVERY = 0.5  # seconds between looks for other reviewers' changes and cursors
HEARTBEAT_EVERY = 5.0  # seconds between "still here" cursor writes
PRESENT_WITHIN = timedelta(seconds=20)  # a reviewer seen this recently is in the review


@dataclass(frozen=True, slots=True)
class Seen:
    """What one poll found."""

    theirs: list[Event] = field(default_factory=list)  # the others' changes since the last poll
    moved: bool = False  # someone arrived, left or moved their cursor


class PresenceController:
    def __init__(self, review: Review, clock: Callable[[], datetime] | None = None) -> None:
        self.review = review
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.where: dict[str, str] = {}  # the other reviewers present -> their cursor's node id
        self.following: str | None = None

    @property
    def present(self) -> list[str]:
        return sorted(self.where)

    def poll(self) -> Seen:
        review = self.review
        theirs = [e for e in review.changes() if e.reviewer != review.reviewer]
        if theirs:
            review.reload()
        now = self.clock()
        where = {
            who: cursor
            for who, (cursor, when) in review.store.present(review.info.id).items()
            if who != review.reviewer and now - when <= PRESENT_WITHIN
        }
        moved, self.where = where != self.where, where
        if self.following and self.following not in where:
            self.following = None
        return Seen(theirs, moved)

    def others_at(self) -> dict[str, list[str]]:
        """node id -> who is there."""
        out: dict[str, list[str]] = {}
        for who, node_id in sorted(self.where.items()):
            out.setdefault(node_id, []).append(who)
        return out

    def toggle_follow(self) -> tuple[str, bool]:
        """Start following the first other reviewer, or stop: what to tell the user, and whether
        it is what they asked for."""
        if self.following:
            said, self.following = f"No longer following {self.following}.", None
            return said, True
        if not self.where:
            return "Nobody else is in this review right now.", False
        self.following = self.present[0]
        return f"Following {self.following}'s cursor (F stops).", True

    def followed_cursor(self) -> str | None:
        return self.where.get(self.following) if self.following else None

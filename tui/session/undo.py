"""Undo, and what the history says in words.

Every reviewer action is one transaction, and its events share an action id; each event keeps the
state of its target before and after the change. Undoing a reviewer's last action restores the
"before" of each of its events, as new events of kind "undo" that name the action they reverse (the
history keeps both). It is refused, changing nothing, when anything it touched is no longer as the
action left it: someone changed it since. No Textual here; the store calls these inside its
transactions."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tui.session.models import Answer, EventRow, FindingRow, ItemVerdict

DECIDING = ("disposition", "severity", "undo", "verdict", "answer")  # kinds that change a target's state
UNDOABLE = ("disposition", "severity", "note", "verdict", "answer")  # kinds a reviewer can undo
FINDING_KINDS = ("disposition", "severity", "note")


class UndoError(Exception):
    """Nothing was undone; the message says why, for the reviewer."""


def finding_decision(row: Any) -> dict[str, Any]:
    return {"disposition": row.disposition, "severity": row.severity, "dismiss_reason": row.dismiss_reason}


def item_decision(row: Any) -> dict[str, Any]:
    return {"verdict": row.verdict, "notes": row.notes}


# -- the reviewer's last action ------------------------------------------------------------------


def _action_id() -> Any:
    return func.coalesce(EventRow.action, EventRow.id)  # events from before 0003 are one action each


def last_action(s: Session, review_id: int, reviewer: str) -> list[EventRow]:
    """The events of the reviewer's last action not undone yet, oldest first."""
    undone = select(EventRow.undoes).where(EventRow.review_id == review_id, EventRow.undoes.is_not(None))
    latest = s.scalar(
        select(_action_id())
        .where(
            EventRow.review_id == review_id,
            EventRow.reviewer == reviewer,
            EventRow.kind.in_(UNDOABLE),
            EventRow.undoes.is_(None),
            _action_id().not_in(undone),
        )
        .order_by(EventRow.id.desc())
        .limit(1)
    )
    if latest is None:
        raise UndoError("Nothing of yours to undo in this review.")
    return list(
        s.scalars(
            select(EventRow)
            .where(EventRow.review_id == review_id, _action_id() == latest, EventRow.kind.in_(UNDOABLE))
            .order_by(EventRow.id)
        )
    )


def states(event: EventRow) -> tuple[dict[str, Any], dict[str, Any]]:
    if event.states is None:
        raise UndoError("That change was saved by an earlier dbreview, which did not keep enough to undo it.")
    both = json.loads(event.states)
    return both["before"], both["after"]


def target_row(s: Session, review_id: int, event: EventRow) -> Any:
    """The finding, item verdict or answer an event changed (None when it is gone)."""
    if event.kind in FINDING_KINDS:
        return s.get(FindingRow, event.finding_id) if event.finding_id is not None else None
    if event.kind == "verdict":
        return s.get(ItemVerdict, (review_id, event.target))
    return s.get(Answer, (review_id, event.target))


def current(event: EventRow, row: Any) -> dict[str, Any]:
    if event.kind in FINDING_KINDS:
        return finding_decision(row)
    if event.kind == "verdict":
        return item_decision(row)
    return {"text": row.text}


def check(s: Session, review_id: int, events: list[EventRow], now: datetime) -> None:
    """Refuse (UndoError) when something the action changed is no longer as it left it."""
    for event in events:
        if event.kind == "note":
            continue  # withdrawing one's own note needs nothing to be as it was
        _, after = states(event)
        row = target_row(s, review_id, event)
        if row is None:
            raise UndoError(f"{thing(event, None)} is no longer in the review; nothing was undone.")
        if current(event, row) != after:
            raise UndoError(f"{changed_since(s, event, now)}; nothing was undone.")


def changed_since(s: Session, event: EventRow, now: datetime) -> str:
    """Who changed the action's target after it, in words."""
    same = (EventRow.finding_id == event.finding_id) if event.kind in FINDING_KINDS else (EventRow.target == event.target)
    later = s.scalars(
        select(EventRow)
        .where(EventRow.review_id == event.review_id, same, EventRow.id > event.id, EventRow.kind.in_(DECIDING))
        .order_by(EventRow.id.desc())
    ).first()
    if later is None:
        return f"{thing(event, None)} changed since"
    verb, tail = said(later.kind, later.new, later.note)
    return f"{later.reviewer} {verb} {thing(event, None, lower=True)} {ago(later.at, now)}{tail}"


# -- words ----------------------------------------------------------------------------------------


def thing(event: EventRow, row: Any, lower: bool = False) -> str:
    """What an event is about: "this finding", "item 1.3", "question q1.1"."""
    if event.kind in FINDING_KINDS:
        name = f"{row.rule_id} at {row.path}:{row.start_line}" if row is not None else "this finding"
    elif event.kind == "verdict":
        name = f"item {event.target}"
    else:
        name = f"question {event.target}"
    return name if lower or not name.startswith("this") else name[0].upper() + name[1:]


_DECISION_VERB = {"confirmed": "confirmed", "downgraded": "downgraded", "dismissed": "dismissed", "untriaged": "reopened"}


def said(kind: str, new: str | None, note: str | None) -> tuple[str, str]:
    """An event as a verb and a tail: ("dismissed", " as a false positive")."""
    if kind == "disposition":
        verb = _DECISION_VERB.get(new or "", "changed")
        reason = (note or "").split(":", 1)[0] if new == "dismissed" else ""
        return verb, f" as {'an' if reason[:1] in 'aeiou' else 'a'} {reason}" if reason else ""
    if kind == "severity":
        return "downgraded", f" to {new}"
    if kind == "verdict":
        return "changed the verdict of", f" to {new}"
    if kind == "answer":
        return "changed the answer to", ""
    if kind == "undo":
        return "undid a change to", ""
    return "changed", ""


_ATTEMPT = {"confirmed": "confirmation", "downgraded": "downgrade", "dismissed": "dismissal", "untriaged": "reopening"}


def attempt_said(kind: str, attempted: str | None) -> str:
    """What a reviewer tried, as a noun: "downgrade", "dismissal"."""
    if kind == "severity":
        return "downgrade"
    if kind == "note":
        return "note"
    return _ATTEMPT.get(attempted or "", "change")


def done_said(events: list[EventRow], rows: list[Any]) -> str:
    """"Undid your dismissal of 5 findings." / "Undid your verdict on item 1.3."."""
    first = events[0]
    if first.kind == "note":
        return f"Withdrew your note on {thing(first, rows[0])}."
    if first.kind in ("verdict", "answer"):
        noun = "verdict on" if first.kind == "verdict" else "answer to"
        many = f" and {len(events) - 1} more" if len(events) > 1 else ""
        return f"Undid your {noun} {thing(first, rows[0], lower=True)}{many}."
    what = attempt_said(first.kind, first.new)
    if len(events) > 1:
        return f"Undid your {what} of {len(events)} findings."
    return f"Undid your {what} of {thing(first, rows[0])}."


def ago(at: datetime, now: datetime) -> str:
    seconds = (now - at).total_seconds()
    if seconds < 90:
        return "a moment ago"
    if seconds < 3600:
        return f"{round(seconds / 60)} minutes ago"
    local = at.astimezone()
    return f"at {local:%H:%M}" if local.date() == now.astimezone().date() else f"on {local:%Y-%m-%d} at {local:%H:%M}"

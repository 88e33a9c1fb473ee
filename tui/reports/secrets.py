"""Secrets out of everything a review shows or exports.

Findings copy source lines into every report, and SARIF is uploaded to code-scanning services: a
database URL with its password, a key or a token in those lines would travel with them. `mask`
replaces the secret part with MASK and keeps the rest, so a reader still sees what the line does
(`postgresql://app:****@db/clinic`). Identity (fingerprints, code hashes) is computed from the
source as it is and does not change.

What counts as a secret: the password of a URL (`scheme://user:password@host`), of a libpq
keyword string (`password=...`) and of SQL's `PASSWORD '...'`; a string literal assigned to a name
that says password, secret, token or key, or given as the default of such an environment variable;
and tokens of well-known formats (AWS, Stripe, GitHub, Slack, Google, JWTs, private
key blocks), wherever they are.
"""

from __future__ import annotations

import re
from dataclasses import replace

from tui.session.state import AnswerState, Event, FindingState, ItemState, ReviewSnapshot

MASK = "****"

_NAME = r"[\w.-]*(?:passw(?:or)?d|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|auth[_-]?key|credentials?)[\w.-]*"
_PATTERNS = (
    # scheme://user:password@host: the password, up to the last @ before the host
    re.compile(r"(?P<keep>\b[a-zA-Z][\w+.-]*://[^\s:/@'\"]*:)(?P<secret>[^\s'\"]+?)(?=@[^\s@'\"/]+(?:[/:?\s'\"]|$))"),
    # libpq keyword strings and query parameters: password=..., &password=...
    re.compile(r"(?P<keep>(?i:\b(?:password|passwd|pwd|sslpassword)\s*=\s*))(?P<secret>[^\s&;'\",)]+)"),
    # NAME = "literal", NAME: type = 'literal', "NAME": "literal", NAME="literal" in calls
    re.compile(rf"(?P<keep>(?i:\b{_NAME})['\"]?\s*(?::\s*[\w\[\]|. ]+?)?\s*[:=]\s*[rRbBuU]?(?P<q>['\"]))(?P<secret>[^'\"\s]{{4,}})(?=(?P=q))"),
    # SQL: CREATE / ALTER ROLE ... PASSWORD 'literal'
    re.compile(r"(?P<keep>(?i:\bPASSWORD\s+)(?P<q>'))(?P<secret>[^']+)(?=')"),
    # a default for a secret from the environment: os.getenv("DB_PASSWORD", "literal")
    re.compile(rf"(?P<keep>(?i:['\"]{_NAME}['\"])\s*,\s*(?:default\s*=\s*)?(?P<q>['\"]))(?P<secret>[^'\"\s]{{4,}})(?=(?P=q))"),
    # tokens that are secrets by their form
    re.compile(
        r"(?P<keep>)(?P<secret>\bAKIA[0-9A-Z]{16}\b|\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{10,}|\bgh[pousr]_[A-Za-z0-9]{30,}"
        r"|\bxox[abprs]-[A-Za-z0-9-]{10,}|\bAIza[0-9A-Za-z_-]{35}|\beyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,})"
    ),
    re.compile(r"(?P<keep>-----BEGIN [A-Z ]*PRIVATE KEY-----)(?P<secret>[\s\S]*?)(?=-----END|$)"),
)


def _hide(match: re.Match[str]) -> str:
    return match.group("keep") + MASK


def mask(text: str) -> str:
    """`text` with every secret it holds replaced by MASK."""
    if not text:
        return text
    for pattern in _PATTERNS:
        text = pattern.sub(_hide, text)
    return text


def _optional(text: str | None) -> str | None:
    return None if text is None else mask(text)


def masked_finding(f: FindingState) -> FindingState:
    return replace(
        f,
        message=mask(f.message),
        evidence=tuple(mask(line) for line in f.evidence),
        notes=tuple(replace(n, text=mask(n.text)) for n in f.notes),
    )


def masked_event(e: Event) -> Event:
    return replace(e, old=_optional(e.old), new=_optional(e.new), note=_optional(e.note))


def masked(snapshot: ReviewSnapshot) -> ReviewSnapshot:
    """The snapshot with every text a person or the code wrote masked: findings (message, code,
    notes), item notes, answers, the history's values and notes, scan errors."""
    items: dict[str, ItemState] = {k: replace(v, notes=mask(v.notes)) for k, v in snapshot.items.items()}
    answers: dict[str, AnswerState] = {k: replace(v, text=mask(v.text), drafted=mask(v.drafted)) for k, v in snapshot.answers.items()}
    events: tuple[Event, ...] = tuple(masked_event(e) for e in snapshot.events)
    return replace(
        snapshot,
        findings=tuple(masked_finding(f) for f in snapshot.findings),
        items=items,
        answers=answers,
        events=events,
        scan_errors=tuple(replace(e, message=mask(e.message)) for e in snapshot.scan_errors),
    )


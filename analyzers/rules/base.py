"""How a rule is declared: one class per rule, with its checklist item, severity, documentation and
examples. The examples are small repositories (path -> source) that one test runs for every rule."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Iterable, Sequence

from analyzers.findings import Finding, Location, Related, Severity, identity_key

if TYPE_CHECKING:
    from analyzers.facts.model import Facts, Span, Unread

# An example is one file's source (placed at models.py) or a mapping of relative path -> source.
Example = str | dict[str, str]


class Rule:
    ID: ClassVar[str]
    ITEM: ClassVar[str]
    SEVERITY: ClassVar[Severity]
    VALID: ClassVar[tuple[Example, ...]] = ()
    INVALID: ClassVar[tuple[Example, ...]] = ()
    # Whether its findings on a model whose table the migrations drop are kept (drift.stale_models): only the rule
    # that says the model is stale; what any other says of a table the database no longer has is noise.
    ON_STALE_MODELS: ClassVar[bool] = False

    def __init__(self, facts: Facts) -> None:
        self.facts = facts

    def check(self) -> Iterable[Finding]:
        raise NotImplementedError

    def finding(
        self,
        message: str,
        span: Span,
        anchor: str,
        *,
        severity: Severity | None = None,
        item: str | None = None,
        related: Iterable[tuple[Span, str]] = (),
        covers: Iterable[str] = (),
        unsure: Sequence[Unread] = (),
    ) -> Finding:
        """`unsure`: the parts that could not be read and that the finding may rest on (a finding about
        the whole: the revision graph, "no migration creates X"). With any, it is info, says what could
        not be read and why, and points at each part (related locations)."""
        if unsure:
            first = unsure[0]
            more = f", and {len(unsure) - 1} more part(s) that could not be read" if len(unsure) > 1 else ""
            message += (f" (not certain: {first.span.path}:{first.span.start} could not be read: {first.reason}"
                        f"{more})")
            severity = Severity.INFO
            related = [*related, *((u.span, f"could not be read: {u.reason}") for u in unsure[:20])]
        return Finding(
            rule_id=self.ID,
            item_id=item or self.ITEM,
            severity=severity or self.SEVERITY,
            message=message,
            location=Location(span.path, span.start, span.end),
            anchor=anchor,
            evidence=self.facts.lines(span),
            related=tuple(Related(Location(s.path, s.start, s.end), note) for s, note in related),
            covers=tuple(covers),
        )


    def grouped(
        self, message: str, sites: list[tuple[Span, str, str]], anchor: str, *, severity: Severity | None = None,
        unsure: Sequence[Unread] = (), also: Sequence[tuple[Span, str]] = (),
    ) -> Finding:
        """One finding for one fact seen in many places (a convention, a design): at the first site, the
        others as related locations. `sites` are (span, the anchor a finding of its own would have, a
        note); a saved review's decisions on such findings follow this one (Finding.covers). `also`: more
        related locations (what the message names besides the sites), which cover no finding."""
        (span, _, _), rest = sites[0], sites[1:]
        return self.finding(
            message, span, anchor, severity=severity, related=[(s, note) for s, _, note in rest] + list(also),
            covers=[identity_key(self.ID, a) for _, a, _ in sites], unsure=unsure,
        )


@dataclass(frozen=True, slots=True)
class RuleInfo:
    id: str
    item_id: str
    severity: Severity
    title: str
    what: str
    why: str
    example: str
    instead: str

    @property
    def help_text(self) -> str:
        parts = [("What it checks", self.what), ("Why it matters", self.why), ("Instead", self.instead)]
        return "\n\n".join(f"{head}: {body}" for head, body in parts if body)


_HEADING = re.compile(r"^\s*(What it checks|Why it matters|Example|Instead)\s*:?\s*$", re.M)


def describe(rule: type[Rule]) -> RuleInfo:
    """Split a rule's docstring into its title line and its headed parts."""
    doc = (rule.__doc__ or "").strip()
    title, _, rest = doc.partition("\n")
    parts: dict[str, str] = {}
    pieces = _HEADING.split(rest)
    for head, body in zip(pieces[1::2], pieces[2::2]):
        parts[head] = " ".join(line.strip() for line in body.strip().splitlines()) if head != "Example" else _dedent(body)
    return RuleInfo(
        id=rule.ID,
        item_id=rule.ITEM,
        severity=rule.SEVERITY,
        title=title.strip(),
        what=parts.get("What it checks", ""),
        why=parts.get("Why it matters", ""),
        example=parts.get("Example", ""),
        instead=parts.get("Instead", ""),
    )


def _dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text).strip("\n")

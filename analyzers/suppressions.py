"""`# dbreview: ignore[RULE, ...] reason`: a decision written in the source, next to the code.

Three forms:
- a Python comment at the end of a statement's first line, or alone on the lines just above it,
  covers the whole statement (for a class or a function, everything in it). Read with libcst:
  comments are not in Python's ast, and libcst knows which statement a comment belongs to
  (analyzers/statement_comments.py, imported only for a file that mentions "dbreview:");
- `-- dbreview: ignore[RULE] reason` inside SQL in a string (`op.execute('''...''')`) covers the SQL
  statement it ends, or, alone on its line, the statement that follows;
- `# dbreview: ignore-file[RULE] reason` anywhere in a file covers the whole file.
Without `[...]` a comment covers every rule. A comment that suppresses nothing is reported (rule
SUP001, info), as ruff's RUF100 reports an unused `noqa`: it hides nothing today, and would hide a
future finding nobody has looked at. Only files that mention "dbreview:" are parsed.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from analyzers.findings import Finding, Location, Severity
from analyzers.rules.base import RuleInfo

MARKER = "dbreview:"
_RULES = r"(?:\[([^\]]*)\])?"
_COMMENT = re.compile(rf"#\s*dbreview:\s*ignore(?!-){_RULES}\s*(.*)$", re.I)
_FILE = re.compile(rf"#\s*dbreview:\s*ignore-file{_RULES}\s*(.*)$", re.I)
_SQL = re.compile(rf"--\s*dbreview:\s*ignore(?!-){_RULES}\s*(.*)$", re.I)
_QUOTES = re.compile(r"(?is)^[a-z]*('''|\"\"\"|'|\")")
WHOLE_FILE = 10**9

UNUSED = RuleInfo(
    id="SUP001",
    item_id="",
    severity=Severity.INFO,
    title="Suppression comment that suppresses nothing",
    what="`dbreview: ignore` comments (in Python, in SQL strings, file-level) that covered no finding of the rules they "
    "name in this scan, or that name a rule dbreview does not have. Reported under the named rule's checklist item.",
    why="A stale suppression hides nothing today and would silently hide a new finding of that rule on those lines "
    "tomorrow, one nobody has looked at.",
    example="amount = Column(Numeric(12, 2))  # dbreview: ignore[BIL001] a ratio, not money",
    instead="Remove the comment, or correct the rule it names.",
)


@dataclass(slots=True)
class Suppression:
    rules: frozenset[str]  # empty: every rule
    reason: str
    start: int  # the lines it covers, 1-based
    end: int
    line: int = 0  # where the comment is
    text: str = ""  # the comment, as written
    used: set[str] = field(default_factory=set)  # the rules it suppressed a finding of, this scan

    def covers(self, finding: Finding) -> bool:
        overlaps = finding.location.start_line <= self.end and finding.location.end_line >= self.start
        return overlaps and (not self.rules or finding.rule_id in self.rules)


def _parsed(match: re.Match[str], start: int, end: int, line: int, text: str) -> Suppression:
    rules = frozenset(r.strip().upper() for r in (match.group(1) or "").split(",") if r.strip())
    return Suppression(rules, match.group(2).strip(), start, end, line, text.strip())


def suppressions(text: str) -> list[Suppression]:
    """Every suppression comment of a module, of the three forms; statement comments only when the
    module parses (the scan reports when it does not)."""
    if MARKER not in text:
        return []
    return [*_statement_comments(text), *_tokens(text)]


def _statement_comments(text: str) -> list[Suppression]:
    from analyzers.statement_comments import statement_comments

    return [
        _parsed(match, start, end, start, comment)
        for start, end, comment in statement_comments(text)
        if (match := _COMMENT.search(comment))
    ]


def _tokens(text: str) -> list[Suppression]:
    """File-level comments, and comments in the SQL of string literals."""
    found: list[Suppression] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if MARKER not in tok.string:
                continue
            if tok.type == tokenize.COMMENT and (match := _FILE.search(tok.string)):
                found.append(_parsed(match, 1, WHOLE_FILE, tok.start[0], tok.string))
            elif tok.type == tokenize.STRING:
                found += _in_sql(tok.string, tok.start[0])
    except (tokenize.TokenError, SyntaxError, RecursionError):
        pass  # a module that does not tokenize does not parse either: the scan says so
    return found


def _in_sql(literal: str, first_line: int) -> list[Suppression]:
    """The `-- dbreview: ignore` comments of the SQL in one string literal, each covering its
    statement: the one it ends (after `;` or code on its line) or, alone on a line, the next one."""
    opening = _QUOTES.match(literal)
    if opening is None:
        return []
    body = literal[opening.end() : len(literal) - len(opening.group(1))]
    found: list[Suppression] = []
    start: int | None = None  # the first line of the statement being read
    waiting: list[tuple[re.Match[str], int, str]] = []  # comments for the statement being read or the next
    for n, line in enumerate(body.split("\n"), first_line):
        code, _, comment = line.partition("--")
        match = _SQL.search(line)
        if code.strip():
            start = n if start is None else start
        if match:
            waiting.append((match, n, "--" + comment))
        if code.rstrip().endswith(";") or (match and code.strip()):
            if start is not None:  # the statement ends here: its comments cover it
                found += [_parsed(m, start, n, at, text) for m, at, text in waiting]
                waiting, start = [], None
    if waiting and start is not None:  # the last statement, without a `;`
        found += [_parsed(m, start, first_line + body.count("\n"), at, text) for m, at, text in waiting]
    return found


# -- applying them --------------------------------------------------------------------------------


def apply(
    findings: list[Finding],
    source_of: Callable[[str], str],
    also: Iterable[str] = (),
    rule_item: Callable[[str], str | None] = lambda rule_id: None,
    enabled: Callable[[str], bool] = lambda rule_id: True,
) -> list[Finding]:
    """Mark the findings that a comment in their file suppresses (`source_of(path)` gives the text),
    and add a SUP001 finding for each comment, in those files and in `also`, that suppressed
    nothing of a rule that ran (`enabled`), or that names a rule `rule_item` does not know."""
    by_path: dict[str, list[Suppression]] = {path: suppressions(source_of(path)) for path in {*also}}
    out = []
    for f in findings:
        path = f.location.path
        if path not in by_path:
            by_path[path] = suppressions(source_of(path))
        hits = [s for s in by_path[path] if s.covers(f)]
        for s in hits:
            s.used.add(f.rule_id)
        out.append(replace(f, suppressed=hits[0].reason or "no reason given") if hits else f)
    if enabled(UNUSED.id):
        out += [u for path, found in sorted(by_path.items()) for s in found for u in _unused(path, s, rule_item, enabled)]
    return out


def _unused(path: str, s: Suppression, rule_item: Callable[[str], str | None], enabled: Callable[[str], bool]) -> Iterable[Finding]:
    where = Location(path, s.line or s.start, s.line or s.start)
    form = "ignore-file" if s.end == WHOLE_FILE else "ignore"
    if not s.rules:
        if not s.used:
            yield Finding(UNUSED.id, "", Severity.INFO, f"`dbreview: {form}` covers no finding: remove it", where, "suppression:*", (s.text,))
        return
    for rule in sorted(s.rules - s.used):
        item = rule_item(rule)
        if item is None:
            message = f"`dbreview: {form}[{rule}]` names {rule}, which is no rule of dbreview: correct it or remove it"
        elif not enabled(rule):
            continue  # the settings turned the rule off: the comment is not to blame
        else:
            message = f"`dbreview: {form}[{rule}]` suppresses nothing: no {rule} finding on the lines it covers; remove it"
        yield Finding(UNUSED.id, item or "", Severity.INFO, message, where, f"suppression:{rule}", (s.text,))

"""What dbreview can see of a column besides the ORM's writes: inserts into its table that do not go
through the ORM (INSERT/COPY in migrations or SQL strings, `op.bulk_insert`), and the comment that
documents the column (on its line, right above it, or in the comment block of its group that names it)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from analyzers.facts.effects import effects
from analyzers.facts.model import ColumnFact, Facts, MigrationOp, Span
from analyzers.facts.paths import is_test_path

_INSERT = re.compile(r"\b(?:INSERT\s+INTO|COPY)\s+(?:\"?\w+\"?\.)?\"?(\w+)\"?\s*(?:\(([^)]*)\))?", re.I)


@dataclass(frozen=True, slots=True)
class Insert:
    span: Span
    what: str  # "an INSERT INTO events (...)", "op.bulk_insert"
    columns: tuple[str, ...] | None  # the columns it names; None: every column, by position, or a list spliced in
    by_database: bool = False  # in the body of a function or trigger the SQL creates: the database runs it on writes


_IDENTIFIER = re.compile(r"\w+")
_ROUTINE = re.compile(r"\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:FUNCTION|PROCEDURE|TRIGGER|RULE)\b", re.I)


def outside_inserts(facts: Facts) -> dict[str, list[Insert]]:
    """Table -> the inserts into it that do not go through the ORM, in the code outside tests."""
    cached = facts.derived.get("outside_inserts")
    if cached is not None:
        return cached  # type: ignore[return-value]
    out: dict[str, list[Insert]] = {}
    seen: set[tuple[str, int]] = set()
    texts = [(u.span, u.text) for u in facts.sql if u.text] + [(st.span, st.text) for st in facts.migration_sql]
    for span, text in texts:
        if is_test_path(span.path) or (span.path, span.start) in seen:
            continue
        seen.add((span.path, span.start))
        routine = bool(_ROUTINE.search(text))
        for m in _INSERT.finditer(text):
            cols = tuple(c.strip().strip('"').lower() for c in m.group(2).split(",")) if m.group(2) else None
            if cols is not None and not all(_IDENTIFIER.fullmatch(c) for c in cols):
                cols = None  # `({fields})`: a list the code builds, not read here; it may name any column
            verb = "a COPY" if m.group(0).upper().startswith("COPY") else "an INSERT"
            out.setdefault(m.group(1).lower(), []).append(Insert(span, f"{verb} into {m.group(1)}", cols, routine))
    for rev in facts.revisions:
        for op in rev.upgrade:
            if op.name == "bulk_insert" and (table := bulk_insert_table(facts, op)):
                text = "\n".join(facts.lines(op.span))
                cols = tuple(re.findall(r"""["'](\w+)["']\s*:""", text)) or None
                # the Table op.create_table returned: SQLAlchemy fills its columns' Python defaults on the insert
                made = next((o for o in rev.upgrade if o.name == "create_table" and o.table == table), None)
                if cols is not None and made is not None:
                    cols += tuple(c.name.lower() for c in made.columns if c.default)
                out.setdefault(table.lower(), []).append(Insert(op.span, f"op.bulk_insert into {table}", cols))
    facts.derived["outside_inserts"] = out
    return out


_LIGHT_TABLE = re.compile(r"""\btable\(\s*["'](\w+)["']""")


def bulk_insert_table(facts: Facts, op: MigrationOp) -> str | None:
    """The table an `op.bulk_insert` fills: the one the replay names, else `sa.table("t", ...)` in the call or
    bound to the variable it passes earlier in the revision file (or what `op.create_table("t", ...)` returned)."""
    if op.table:
        return op.table
    text = "\n".join(facts.lines(op.span))
    m = _LIGHT_TABLE.search(text)
    if m is None and (arg := re.search(r"bulk_insert\(\s*(\w+)", text)) is not None:
        source = "\n".join(facts.lines(Span(op.span.path, 1, op.span.start)))
        m = re.search(rf"\b{arg.group(1)}\s*=\s*(?:\w+\.)*(?:create_)?table\(\s*[\"'](\w+)[\"']", source)
    return m.group(1) if m is not None else None


def inserts_without(facts: Facts, table: str, column: str) -> list[Insert]:
    """The inserts into `table`, outside the ORM, that name their columns and leave `column` out; not those of a
    revision that runs before the one that adds the column (the row got what the added column gave it)."""
    inserts = [i for i in outside_inserts(facts).get(table.lower(), []) if i.columns is not None and column.lower() not in i.columns]
    if not inserts:
        return []
    order = {r.path: n for n, r in enumerate(facts.revisions)}
    born = _column_born(facts, table.lower(), column.lower())
    return [i for i in inserts if born is None or order.get(i.span.path, born) >= born]


def _column_born(facts: Facts, table: str, column: str) -> int | None:
    """The place, in revision order, of the first revision that gives `table` the column (created with it or
    added); None when no revision does."""
    for n, rev in enumerate(facts.revisions):
        for e in effects(rev.upgrade):
            if (e.table or "").lower() != table:
                continue
            if e.kind == "create_table" and column in (c.lower() for c in e.columns) or (
                    e.kind == "add_column" and (e.name or "").lower() == column):
                return n
    return None


_TOOL_COMMENT = re.compile(r"(noqa|type:|pragma|pylint|mypy|dbreview|TODO|FIXME|XXX)\b", re.I)
# A comment that says the column holds another object's time: "for the document", "copied from the source".
_ELSEWHERE = re.compile(r"\b(?:for|of|from)\s+(?:the|a|an|its|their)\b|\bcopied\b|\bsource\b|\bupstream\b|\bexternal\b|"
                        r"\bremote\b|\bnot (?:this|the) row\b", re.I)


@dataclass(frozen=True, slots=True)
class Note:
    span: Span
    text: str

    @property
    def elsewhere(self) -> bool:
        """It says the column holds the time of something else than its row (as far as its words tell)."""
        return _ELSEWHERE.search(self.text) is not None

    @property
    def not_its_row(self) -> bool:
        """It says in so many words that the column is not its row's own time ("for the document, not this row")."""
        return re.search(r"\bnot (?:for )?(?:this|the|its) row\b|\bnot (?:this|the) row's\b", self.text, re.I) is not None

    @property
    def on_null(self) -> bool:
        """It says the column is NULL, or may be, on purpose."""
        return re.search(r"\bnull\b|\bnullable\b|\bNone\b", self.text, re.I) is not None


def column_note(facts: Facts, col: ColumnFact) -> Note | None:
    """The comment that documents `col`: `comment=`/`doc=` or a `#` comment on its lines, the comment lines
    right above it, or the comment block of its group (up to a blank line) where that names it."""
    lines = facts.lines(Span(col.span.path, 1, col.span.end))
    if len(lines) < col.span.start:
        return None
    own = "\n".join(lines[col.span.start - 1:])
    m = re.search(r"""\b(?:comment|doc)\s*=\s*(?:[rbuf]*)(["'])(.+?)\1""", own) or re.search(r"#\s*(\S.*)", own)
    if m is not None and not _TOOL_COMMENT.match(m.group(m.lastindex or 0)):
        return Note(col.span, m.group(m.lastindex or 0).strip())
    above: list[tuple[int, str]] = []
    n = col.span.start - 1
    while n >= 1 and lines[n - 1].strip():
        text = lines[n - 1].strip()
        if text.startswith("#"):
            above.append((n, text.lstrip("# ")))
        elif above and n + len(above) == col.span.start - 1:
            break  # the comment right above it has ended
        n -= 1
    if not above:
        return None
    above = [(n, t) for n, t in above if not _TOOL_COMMENT.match(t)]
    if not above:
        return None
    name = re.compile(rf"\b{re.escape(col.attr or col.name)}\b")
    about = [(n, t) for n, t in above if name.search(t)]  # a block about several columns: the lines about it
    if not about and above[0][0] != col.span.start - 1:
        return None
    lines_of = about or above
    return Note(Span(col.span.path, lines_of[-1][0], lines_of[0][0]), " ".join(t for _, t in reversed(lines_of)))

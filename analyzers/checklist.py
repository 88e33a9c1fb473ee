"""Checklist packs: the checklist a review follows, read from TOML into frozen values.

A pack (analyzers/checklists/<name>.toml) holds what a reviewer decides and answers: sections of
items and questions, the documents to read first, the review steps, and the compliance rows a
report fills in. Every entry has a stable id that findings, verdicts and answers refer to; ids are
unique across the whole pack, an item's id begins with its section's ("2.users.3" in section "2"),
a question's with "q" and its section's ("q3.1").

tomllib keeps no positions, so a malformed pack is located by a light scan of its text: the line of
the offending entry's `id = "..."`, of the offending key, or of the entry's table header.
ChecklistError names the file and that 1-based line.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

PACKS_DIR = Path(__file__).parent / "checklists"
_CONDITION = re.compile(r"[a-z_]+(?: (?:and|or) [a-z_]+)*")


class ChecklistError(Exception):
    """A pack that cannot be used. Reads "<file>:<line>: <problem>"."""

    def __init__(self, problem: str, *, file: str = "", line: int | None = None) -> None:
        self.problem, self.file, self.line = problem, file, line
        where = f"{file}:{line}" if file and line else file
        super().__init__(f"{where}: {problem}" if where else problem)


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    section_id: str
    text: str


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    section_id: str
    text: str
    group: str | None = None  # the key of its Group, in sections that have groups
    applies_when: str = ""  # when the item applies to a target (analyzers/rules/applicability.py); "" always


@dataclass(frozen=True, slots=True)
class Group:
    key: str
    title: str
    files: str  # where its models live, e.g. "audit.py, consent.py"


@dataclass(frozen=True, slots=True)
class Section:
    id: str
    number: int
    title: str
    scope: str  # the code it covers, e.g. "apps/backend/src/database.py"; "" when the seed names none
    groups: tuple[Group, ...]
    items: tuple[Item, ...]
    questions: tuple[Question, ...]


@dataclass(frozen=True, slots=True)
class ContextDocument:
    id: str
    title: str
    path: str
    notes: tuple[str, ...]
    lines: tuple[int, int] | None = None  # 1-based, inclusive


@dataclass(frozen=True, slots=True)
class ProcessStep:
    id: str
    number: int
    title: str
    bullets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ComplianceRow:
    id: str
    area: str  # e.g. "HIPAA Compliance"
    label: str  # e.g. "Audit logging"
    items: tuple[str, ...]  # the item ids whose verdicts and findings decide the row


class _Index(NamedTuple):
    sections: dict[str, Section]
    items: dict[str, Item]
    questions: dict[str, Question]


@dataclass(frozen=True, slots=True)
class Checklist:
    id: str
    version: int
    title: str
    objective: str
    context_documents: tuple[ContextDocument, ...]
    steps: tuple[ProcessStep, ...]
    sections: tuple[Section, ...]
    compliance: tuple[ComplianceRow, ...]
    success_criteria: tuple[str, ...]
    notes: tuple[str, ...]
    _index: _Index = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = _Index(
            {s.id: s for s in self.sections},
            {i.id: i for s in self.sections for i in s.items},
            {q.id: q for s in self.sections for q in s.questions},
        )
        object.__setattr__(self, "_index", index)

    def section(self, section_id: str) -> Section:
        return self._index.sections[section_id]

    def item(self, item_id: str) -> Item:
        return self._index.items[item_id]

    def question(self, qid: str) -> Question:
        return self._index.questions[qid]

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(self._index.items.values())

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(self._index.questions.values())

    @property
    def compliance_areas(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(row.area for row in self.compliance))


_BARE_NAME = re.compile(r"[A-Za-z0-9_-]+")


def load_checklist(source: str | Path = "database") -> Checklist:
    """A bare name ("database") loads analyzers/checklists/<name>.toml; anything else is a path.
    The result is cached until the file changes."""
    if isinstance(source, str) and _BARE_NAME.fullmatch(source):
        path = PACKS_DIR / f"{source}.toml"
        shown = path.name
    else:
        path, shown = Path(source), str(source)
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise ChecklistError(f"cannot read the checklist pack: {exc.strerror}", file=shown) from None
    return _load(path.resolve(), shown, mtime)


_TOML_AT = re.compile(r"\s*\((?:at line (\d+), column \d+|at end of document)\)\s*$")


@functools.lru_cache(maxsize=32)
def _load(path: Path, shown: str, mtime_ns: int) -> Checklist:
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ChecklistError(f"cannot read the checklist pack: {exc}", file=shown) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        at = _TOML_AT.search(message)
        line = int(at[1]) if at and at[1] else max(1, len(text.splitlines()))
        problem = message[: at.start()] if at else message
        raise ChecklistError(f"invalid TOML: {problem}", file=shown, line=line) from None
    return _Parser(shown, text).checklist(data)


# ---- reading the parsed TOML, with positions for the messages ----------------------------------

_HEADER = re.compile(r"^\s*\[\[?([^\[\]]+)\]\]?\s*(?:#.*)?$")


_TOML_TYPES = ((bool, "a boolean"), (int, "an integer"), (float, "a float"), (str, "a string"), (list, "an array"),
               (dict, "a table"))


def _toml_type(value: object) -> str:
    """What a parsed value was in the TOML, in its words; a type stands for its values."""
    for kind, name in _TOML_TYPES:
        if value is kind or isinstance(value, kind):
            return name
    return "a date or time"


class _Entry:
    """One table of the pack (the top level, a [[header]] table or an inline { ... } table) and the
    line it starts at."""

    __slots__ = ("src", "data", "what", "line", "name")

    def __init__(self, src: _Source, data: dict[str, Any], what: str, line: int, name: str) -> None:
        self.src, self.data, self.what, self.line, self.name = src, data, what, line, name

    def fail(self, problem: str, key: str | None = None) -> NoReturn:
        line = (self.src.key_line(self.line, key) if key else None) or self.line
        raise ChecklistError(problem, file=self.src.file, line=line)

    def allow(self, *keys: str) -> None:
        for key in self.data:
            if key not in keys:
                self.fail(f"{self.what} has an unknown key '{key}'", key)

    def _get(self, key: str, kind: type, required: bool) -> Any:
        value = self.data.get(key)
        if value is None:
            if required:
                self.fail(f"{self.what} has no {key}")
            return None
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.fail(f"{key} of {self.what} must be {_toml_type(kind)}, not {_toml_type(value)}", key)
        return value

    def text(self, key: str, required: bool = True) -> str:
        value = self._get(key, str, required) or ""
        if required and not value.strip():
            self.fail(f"{self.what} has no {key}", key)
        return value

    def number(self, key: str) -> int:
        value = self._get(key, int, True)
        if value < 1:
            self.fail(f"{key} of {self.what} must be 1 or more, not {value}", key)
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        values = self._get(key, list, False) or []
        for value in values:
            if not isinstance(value, str):
                self.fail(f"{key} of {self.what} must hold strings, not {_toml_type(value)}", key)
        return tuple(values)

    def children(self, key: str, kind: str, id_key: str = "id") -> list[_Entry]:
        values = self._get(key, list, False) or []
        out = []
        for index, value in enumerate(values):
            if not isinstance(value, dict):
                self.fail(f"{key} of {self.what} must hold tables, not {_toml_type(value)}", key)
            out.append(self.src.child(self, key, index, value, kind, id_key))
        return out


_ASSIGNMENT = re.compile(r"""(?:^|[{,])\s*([A-Za-z0-9_-]+)\s*=\s*(["'])(.*?)\2""")


class _Source:
    """The pack's text, scanned lightly to put a line on what tomllib parsed."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.lines = text.splitlines()
        self.headers = [
            (n, "".join(m[1].split())) for n, line in enumerate(self.lines, 1) if (m := _HEADER.match(line))
        ]
        self.id_counts: dict[str, int] = {}
        self._assignments: dict[tuple[str, str], list[int]] | None = None

    def _next_header(self, line: int, outside: str = "") -> int:
        """The first header after line (if outside is given: that is not a sub-table of it)."""
        for n, name in self.headers:
            if n > line and not (outside and name.startswith(outside + ".")):
                return n
        return len(self.lines) + 1

    def _first(self, pattern: re.Pattern[str], start: int, stop: int | None = None, nth: int = 0) -> int | None:
        for n in range(max(start, 1), min(stop or len(self.lines) + 1, len(self.lines) + 1)):
            if pattern.search(self.lines[n - 1]):
                if nth == 0:
                    return n
                nth -= 1
        return None

    def key_line(self, line: int, key: str) -> int | None:
        """Where key is set in the table that starts at line."""
        pattern = re.compile(rf"(?:^|[{{,])\s*{re.escape(key)}\s*=")
        return self._first(pattern, line, self._next_header(line))

    def value_line(self, key: str, value: str, start: int = 1, nth: int = 0) -> int | None:
        """Where the nth `key = "value"` stands, from line start on."""
        if self._assignments is None:  # one pass over the text, not one per entry
            self._assignments = {}
            for n, line in enumerate(self.lines, 1):
                for m in _ASSIGNMENT.finditer(line):
                    self._assignments.setdefault((m[1], m[3]), []).append(n)
        lines = [n for n in self._assignments.get((key, value), ()) if n >= start]
        return lines[nth] if nth < len(lines) else None

    def string_line(self, value: str, start: int) -> int | None:
        return self._first(re.compile(rf"""(["']){re.escape(value)}\1"""), start)

    def child(self, parent: _Entry, key: str, index: int, data: dict, kind: str, id_key: str) -> _Entry:
        name = f"{parent.name}.{key}" if parent.name else key
        ident = data.get(id_key)
        if isinstance(ident, str) and ident:
            what = f"{kind} '{ident}'"
            nth = self.id_counts.get(ident, 0) if id_key == "id" else 0
            start = 1 if id_key == "id" else parent.line
            line = self.value_line(id_key, ident, start, nth) or self._position(parent, name, key, index)
        else:
            what = f"{kind} #{index + 1}" + (f" of {parent.what}" if parent.name else "")
            line = self._position(parent, name, key, index)
        entry = _Entry(self, data, what, line, name)
        if id_key == "id":
            entry.text("id")
            self._claim(entry, ident)
        return entry

    def _position(self, parent: _Entry, name: str, key: str, index: int) -> int:
        """The index-th [[name]] header inside parent, else the index-th inline table of its key."""
        stop = self._next_header(parent.line, parent.name) if parent.name else len(self.lines) + 1
        headers = [n for n, header in self.headers if header == name and parent.line <= n < stop]
        if index < len(headers):
            return headers[index]
        start = self.key_line(parent.line, key)
        if start:
            braces = [n for n in range(start, self._next_header(start)) if "{" in self.lines[n - 1]]
            if index < len(braces):
                return braces[index]
        return parent.line

    def _claim(self, entry: _Entry, ident: str) -> None:
        seen = self.id_counts.get(ident, 0)
        self.id_counts[ident] = seen + 1
        if seen:
            first = self.value_line("id", ident)
            entry.fail(f"duplicate id '{ident}'" + (f" (first at line {first})" if first else ""))


class _Parser(_Source):
    def checklist(self, data: dict[str, Any]) -> Checklist:
        top = _Entry(self, data, "the pack", 1, "")
        top.allow(
            "id", "version", "title", "objective", "context_documents", "steps", "sections", "compliance",
            "success_criteria", "notes",
        )
        pack_id, version, title = top.text("id"), top.number("version"), top.text("title")
        documents: list[ContextDocument] = []
        for entry in top.children("context_documents", "context document"):
            documents.append(self._document(entry))
            documents.extend(self._document(sub) for sub in entry.children("documents", "context document"))
        steps = [self._step(entry) for entry in top.children("steps", "step")]
        sections = [self._section(entry) for entry in top.children("sections", "section")]
        if not sections:
            top.fail("the pack has no sections")
        item_ids = {item.id for section in sections for item in section.items}
        compliance = [self._row(entry, item_ids) for entry in top.children("compliance", "compliance row")]
        return Checklist(
            id=pack_id,
            version=version,
            title=title,
            objective=top.text("objective", required=False),
            context_documents=tuple(documents),
            steps=tuple(steps),
            sections=tuple(sections),
            compliance=tuple(compliance),
            success_criteria=top.texts("success_criteria"),
            notes=top.texts("notes"),
        )

    def _document(self, e: _Entry) -> ContextDocument:
        e.allow("id", "title", "path", "notes", "lines", "documents")
        lines = e._get("lines", list, False)
        if lines is not None:
            if not (len(lines) == 2 and all(type(n) is int for n in lines) and 1 <= lines[0] <= lines[1]):
                e.fail(f"lines of {e.what} must be [first, last], two line numbers from 1 up", "lines")
            lines = (lines[0], lines[1])
        return ContextDocument(e.text("id"), e.text("title"), e.text("path"), e.texts("notes"), lines)

    def _step(self, e: _Entry) -> ProcessStep:
        e.allow("id", "number", "title", "bullets")
        return ProcessStep(e.text("id"), e.number("number"), e.text("title"), e.texts("bullets"))

    def _section(self, e: _Entry) -> Section:
        e.allow("id", "number", "title", "scope", "items", "questions", "groups")
        sid = e.text("id")
        number, title, scope = e.number("number"), e.text("title"), e.text("scope", required=False)
        items = [self._item(sub, sid, None) for sub in e.children("items", "item")]
        groups: list[Group] = []
        for g in e.children("groups", "group", id_key="key"):
            g.allow("key", "title", "files", "items")
            group = Group(g.text("key"), g.text("title"), g.text("files", required=False))
            if any(other.key == group.key for other in groups):
                g.fail(f"section '{sid}' has two groups '{group.key}'")
            groups.append(group)
            members = [self._item(sub, sid, group.key) for sub in g.children("items", "item")]
            if not members:
                g.fail(f"{g.what} has no items")
            items.extend(members)
        questions = []
        for q in e.children("questions", "question"):
            q.allow("id", "text")
            questions.append(Question(self._prefixed(q, f"q{sid}.", sid), sid, q.text("text")))
        if not items and not questions:
            e.fail(f"{e.what} has no items and no questions")
        return Section(sid, number, title, scope, tuple(groups), tuple(items), tuple(questions))

    def _item(self, e: _Entry, sid: str, group: str | None) -> Item:
        e.allow("id", "text", "applies_when")
        iid = self._prefixed(e, f"{sid}.{group}." if group else f"{sid}.", sid)
        when = e.text("applies_when", required=False)
        if when and not _CONDITION.fullmatch(when):
            e.fail(f"{e.what}: applies_when must be names joined by 'and' / 'or', not {when!r}", "applies_when")
        return Item(iid, sid, e.text("text"), group, when)

    @staticmethod
    def _prefixed(e: _Entry, prefix: str, sid: str) -> str:
        ident = e.text("id")
        if not ident.startswith(prefix) or ident == prefix:
            e.fail(f"{e.what} is in section '{sid}': its id must begin with '{prefix}'")
        return ident

    def _row(self, e: _Entry, item_ids: set[str]) -> ComplianceRow:
        e.allow("id", "area", "label", "items")
        items = e.texts("items")
        if not items:
            e.fail(f"{e.what} names no items", "items")
        for item in items:
            if item not in item_ids:
                line = self.string_line(item, e.line) or e.line
                raise ChecklistError(f"{e.what} names an unknown item '{item}'", file=self.file, line=line)
        return ComplianceRow(e.text("id"), e.text("area"), e.text("label"), items)

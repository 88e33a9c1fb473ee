"""The SQLAlchemy version a project declares: read as text from its lock files (uv.lock, poetry.lock,
Pipfile.lock: the version installed), else from its requirement declarations (pyproject.toml,
requirements*.txt, setup.cfg, setup.py, Pipfile: the range it allows). Nothing is resolved or guessed:
where nothing names SQLAlchemy, the version is unknown and the rules say so."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass

from analyzers import confine
from analyzers.discover import skipped_dir

_LOCKS = ("uv.lock", "poetry.lock", "Pipfile.lock")
_DECLARATIONS = re.compile(r"^(pyproject\.toml|setup\.cfg|setup\.py|Pipfile|(dev-|base-|prod-)?requirements[\w.-]*\.(txt|in))$")
# Folders whose requirements are not the application's: tests, docs, examples, CI, a developer's set-up.
_NOT_APP = re.compile(r"(^|/)(tests?|docs?|examples?|\.github|ci|dev|scripts|benchmarks?)(/|$)", re.I)
# `sqlalchemy` as a whole name (not sqlalchemy-utils, flask_sqlalchemy), its extras, then what follows.
_NAME = re.compile(r"""(?<![\w.-])["']?sqlalchemy(\[[^\]]*\])?["']?(?![\w.-])""", re.I)
_CLAUSE = re.compile(r"(===|==|>=|<=|~=|!=|>|<|\^|~)?\s*v?(\d+(?:\.\d+)*)(\.\*)?")
_MAJOR_2 = (2,)


@dataclass(frozen=True, slots=True)
class Requirement:
    """Where SQLAlchemy is declared and what that says about version 2.x: 'requires' (every version it
    allows is 2.x or later, or the lock installs one), 'allows' (some are, some are not), 'excludes'
    (none is)."""

    path: str
    line: int
    text: str
    verdict: str
    locked: str | None = None  # the version a lock file installs

    @property
    def where(self) -> str:
        return f"`{self.text}` ({self.path}:{self.line})"


def sqlalchemy_requirement(root: str, near: str = "", sources: dict[str, list[str]] | None = None) -> Requirement | None:
    """The declaration nearest to `near` (a file of the repository: a revision), its folder's first, then
    its parents' up to the repository's root. In one folder a lock file wins, then an exact pin
    (`==`, as pip-compile writes), then a range; requirements of development, tests, docs and linting
    are not the application's."""
    candidates = _files(root) if sources is None else sorted(p for p in sources if _wanted(p))
    folder = near.rsplit("/", 1)[0] if "/" in near else ""
    while True:
        found = [r for p in candidates if _folder(p) == folder for r in [_read(root, p, sources)] if r is not None]
        if found:
            return min(found, key=lambda r: (r.locked is None, "==" not in r.text, r.path))
        if not folder:
            return None
        folder = folder.rsplit("/", 1)[0] if "/" in folder else ""


def _folder(path: str) -> str:
    """The folder a declaration speaks for: requirements/main.txt speaks for the folder above it."""
    parts = path.split("/")[:-1]
    if parts and parts[-1] == "requirements":
        parts = parts[:-1]
    return "/".join(parts)


def _files(root: str) -> list[str]:
    out: list[str] = []
    for directory, dirs, files in os.walk(root):
        rel = os.path.relpath(directory, root).replace(os.sep, "/")
        rel = "" if rel == "." else rel
        dirs[:] = sorted(d for d in dirs if not skipped_dir(os.path.join(directory, d), d)
                         and not _NOT_APP.search(f"{rel}/{d}" if rel else d))
        out += [p for f in sorted(files) for p in [f"{rel}/{f}" if rel else f] if _wanted(p)]
    return out


def _wanted(path: str) -> bool:
    """A lock file or a declaration of the application's requirements (not of its tests, docs, linting)."""
    folder, _, f = path.rpartition("/")
    if _NOT_APP.search(folder):
        return False
    wanted = f in _LOCKS or _DECLARATIONS.match(f) or folder.rsplit("/", 1)[-1] == "requirements" and re.search(r"\.(txt|in)$", f)
    return bool(wanted) and not _OTHER_USE.search(f.rsplit(".", 1)[0].removeprefix("requirements"))


_OTHER_USE = re.compile(r"dev|test|doc|lint|type|ci\b|bench|example", re.I)


def _read(root: str, path: str, sources: dict[str, list[str]] | None = None) -> Requirement | None:
    try:
        text = confine.read_text(root, path) if sources is None else "\n".join(sources[path])
    except (OSError, ValueError, KeyError):
        return None
    name = path.rsplit("/", 1)[-1]
    if name in _LOCKS:
        return _locked(text, path, name)
    if name == "pyproject.toml":
        return _pyproject(text, path)
    for number, line in enumerate(text.splitlines(), 1):
        code = line.split("#", 1)[0]
        match = _NAME.search(code)
        if match is None:
            continue
        poetry = name == "Pipfile" and re.match(r"""\s*=\s*(\{[^}]*version\s*=\s*)?["']([^"']*)["']""", code[match.end():])
        # a comma before another clause belongs to the specifier (`>=1.2.0,<1.4.0`); before anything else it ends it
        spec = poetry.group(2) if poetry else re.split(r"""["';\]\\]|,(?!\s*(?:===|==|>=|<=|~=|!=|>|<))""", code[match.end():],
                                                       maxsplit=1)[0]
        if poetry:
            spec = "" if spec.strip() == "*" else spec
        elif not re.match(r"\s*(===|==|>=|<=|~=|!=|>|<|@|$)", spec):
            continue  # `sqlalchemy` in prose or another key: not a requirement
        shown = " ".join((match.group(0).strip("\"'") + spec.strip()).split())
        return Requirement(path, number, shown, _verdict(spec, False))
    return None


def _pyproject(text: str, path: str) -> Requirement | None:
    """[project] dependencies (PEP 508 strings) and [tool.poetry.dependencies] (a table), not the
    optional or development groups."""
    import tomllib

    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError):
        return None
    lines = text.splitlines()

    def line_of(pattern: str) -> int:
        return next((i for i, x in enumerate(lines, 1) if re.search(pattern, x.split("#", 1)[0], re.I)), 1)

    for entry in (data.get("project") or {}).get("dependencies") or ():
        match = _NAME.match(str(entry).strip())
        if match:
            spec = re.split(r";", str(entry)[match.end():], maxsplit=1)[0]
            shown = " ".join(str(entry).split(";")[0].split())
            return Requirement(path, line_of(r"""["']sqlalchemy[\[\]\w,\s]*(===|==|>=|<=|~=|!=|>|<|["'])"""), shown, _verdict(spec, False))
    poetry = ((data.get("tool") or {}).get("poetry") or {}).get("dependencies") or {}
    for key, value in poetry.items():
        if key.lower() == "sqlalchemy":
            spec = value.get("version", "") if isinstance(value, dict) else str(value)
            spec = "" if spec.strip() == "*" else spec
            return Requirement(path, line_of(r"^\s*sqlalchemy\s*="), f"sqlalchemy = \"{spec}\"", _verdict(spec, True))
    return None


def _locked(text: str, path: str, name: str) -> Requirement | None:
    if name == "Pipfile.lock":
        try:
            data = json.loads(text)
        except ValueError:
            return None
        for section in ("default", "develop"):
            version = str((data.get(section) or {}).get("sqlalchemy", {}).get("version", "")).lstrip("=")
            if version:
                line = next((i for i, x in enumerate(text.splitlines(), 1) if '"sqlalchemy"' in x.lower()), 1)
                return Requirement(path, line, f"sqlalchemy=={version}", _version_verdict(version), version)
        return None
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        if re.fullmatch(r"""\s*name\s*=\s*["']sqlalchemy["']\s*""", line, re.I):
            for later in lines[number:number + 4]:
                version = re.fullmatch(r"""\s*version\s*=\s*["']([^"']+)["']\s*""", later)
                if version:
                    return Requirement(path, number, f"sqlalchemy {version.group(1)}", _version_verdict(version.group(1)),
                                       version.group(1))
    return None


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def _version_verdict(version: str) -> str:
    return "requires" if _version(version) >= _MAJOR_2 else "excludes"


def _pad(v: tuple[int, ...]) -> tuple[int, ...]:
    return (v + (0, 0, 0))[:3]


def _bump(v: tuple[int, ...], at: int) -> tuple[int, ...]:
    """The first version after every `v` with the same first `at + 1` parts: (1, 4) at 1 -> (1, 5)."""
    v = _pad(v)
    return v[:at] + (v[at] + 1,) + (0,) * (2 - at)


def _verdict(spec: str, poetry: bool) -> str:
    """What a specifier says of 2.x, from the lowest version it allows and the first it refuses."""
    low: tuple[int, ...] = (0, 0, 0)
    high: tuple[int, ...] | None = None  # the first version refused
    for clause in (c.strip() for c in re.split(r"[,|]|\s+(?=[<>=~^!])", spec)):
        m = _CLAUSE.fullmatch(clause)
        if m is None:
            continue
        op, given, wildcard = m.group(1) or ("==" if poetry else ""), _version(m.group(2)), bool(m.group(3))
        if not op or op == "!=":
            continue
        v, upper = _pad(given), None
        if op in ("==", "===") and wildcard:
            upper = _bump(given, len(given) - 1)
        elif op in ("==", "==="):
            upper = _bump(given, 2)
        elif op == "~=":
            upper = _bump(given, max(len(given) - 2, 0))
        elif op == "~":
            upper = _bump(given, 1 if len(given) > 1 else 0)
        elif op == "^":
            upper = _bump(given, next((i for i, p in enumerate(given) if p), len(given) - 1))
        elif op == "<":
            upper = v
        elif op == "<=":
            upper = _bump(given, 2)
        if op not in ("<", "<="):
            low = max(low, v)
        if upper is not None:
            high = upper if high is None else min(high, upper)
    if low >= (2, 0, 0):
        return "requires"
    if high is not None and high <= (2, 0, 0):
        return "excludes"
    return "allows"

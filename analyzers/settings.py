"""A target's own settings: `[tool.dbreview]` of a pyproject.toml, or a `.dbreview.toml`.

Looked up as ruff does: from the scanned folder upward, the nearest folder holding either file wins
(`.dbreview.toml` before pyproject.toml in one folder; a pyproject.toml without `[tool.dbreview]`
does not count), and never above the repository's root (the folder with `.git`; without one, only
the scanned folder itself). Paths and globs in it are relative to the file's folder.

Keys are kebab-case. Anything not understood (an unknown key, a wrong type, a rule that does not
exist, a file that cannot be read or parsed) is a SettingsError with one line saying where and
what: `scan` and `verify` stop on it (exit 2); the app shows it and goes on with the defaults.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from fnmatch import fnmatch
from pathlib import Path
from types import MappingProxyType
from typing import Any

from analyzers import confine
from analyzers.findings import Severity

FILES = (".dbreview.toml", "pyproject.toml")
MAX_BYTES = 1024 * 1024  # settings are a few lines; a bigger file is not meant as settings
LEVELS = tuple(s.value for s in Severity)
FAIL_ON = (*LEVELS, "never")
DEFAULT_TENANT_COLUMNS = ("organization_id", "organisation_id", "tenant_id", "org_id")
KEYS = ("exclude", "include", "docs", "enable", "disable", "severity", "fail-on", "tenant-columns")


class SettingsError(Exception):
    """Settings that cannot be used: the message is one line naming the file and the key."""


@dataclass(frozen=True, slots=True)
class Settings:
    """What a target pins; the defaults when it pins nothing."""

    exclude: tuple[str, ...] = ()  # globs of paths never read
    include: tuple[str, ...] = ()  # globs of paths read even without a database marker
    docs: tuple[str, ...] = ()  # the context documents (files or folders); default: Markdown under docs/
    enable: tuple[str, ...] = ()  # only these rules (ids, or an id's letters for a family); empty: all
    disable: tuple[str, ...] = ()  # never these rules
    severity: Mapping[str, Severity] = field(default_factory=lambda: MappingProxyType({}))  # rule id -> severity
    fail_on: str | None = None  # None: the command's default
    tenant_columns: tuple[str, ...] = DEFAULT_TENANT_COLUMNS  # the columns that say which tenant a row is of
    source: str | None = None  # the file, as the user would name it: ".dbreview.toml", "../pyproject.toml"
    prefix: str = ""  # the scanned folder relative to the file's folder, with a trailing "/" (or "")

    # -- paths: the scanner's paths are relative to the scanned folder, the patterns to the file's --

    def excluded(self, rel: str) -> bool:
        return bool(self.exclude) and any(fnmatch(self.prefix + rel, p) for p in self.exclude)

    def included(self, rel: str) -> bool:
        return bool(self.include) and any(fnmatch(self.prefix + rel, p) for p in self.include)

    def pinned_doc(self, rel: str) -> bool:
        path = self.prefix + rel
        return any(path == p or path.startswith(p.rstrip("/") + "/") for p in self.docs)

    # -- rules ------------------------------------------------------------------------------------

    def rule_enabled(self, rule_id: str) -> bool:
        chosen = not self.enable or any(_names(entry, rule_id) for entry in self.enable)
        return chosen and not any(_names(entry, rule_id) for entry in self.disable)


def _names(entry: str, rule_id: str) -> bool:
    """`entry` is the rule's id, or its family: the letters before the number (TEN for TEN002)."""
    return rule_id == entry or (rule_id.startswith(entry) and rule_id[len(entry) :].isdigit())


# -- finding and reading the file -----------------------------------------------------------------


def repository_root(path: Path) -> Path:
    """The nearest folder at or above `path` holding `.git` (a folder, or a worktree's file); `path`
    itself when there is none, so that settings are never looked up outside what was asked for."""
    for folder in (path, *path.parents):
        if (folder / ".git").exists():
            return folder
    return path


def within_repository(path: Path) -> str:
    """`path` relative to its repository's root, as a prefix for the repository's own paths
    ("apps/backend/"); "" at the root, or outside any repository."""
    rel = Path(os.path.relpath(path, repository_root(path))).as_posix()
    return "" if rel == "." else rel + "/"


def load_settings(root: Path, *, known_rules: Iterable[str] | None = None) -> Settings:
    """The settings that apply to the folder `root` (see the module docstring); the defaults when
    no file pins any. `known_rules` are the rule ids that `enable`, `disable` and `severity` may
    name (default: every rule the analyzers have)."""
    root = root.resolve()
    top = repository_root(root)
    for folder in (root, *root.parents):
        for name in FILES:
            source = os.path.relpath(folder / name, root)
            found = _read(folder / name, source, top, pyproject=name == "pyproject.toml")
            if found is not None:
                rel = Path(os.path.relpath(root, folder)).as_posix()
                prefix = "" if rel == "." else rel + "/"
                return _settings(found, source, prefix, set(known_rules if known_rules is not None else _rule_ids()))
        if folder == top:
            break
    return Settings()


def _read(path: Path, where: str, top: Path, *, pyproject: bool) -> dict[str, Any] | None:
    """The dbreview table of one file (`where`, as messages name it); None when the file is not
    there, or is a pyproject.toml without [tool.dbreview]."""
    if not os.path.lexists(path):
        return None
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):  # a broken link, a link loop
        raise SettingsError(f"{where}: cannot be read: a broken or looping symbolic link") from None
    if not real.is_relative_to(top):
        raise SettingsError(f"{where}: a symbolic link to {real}, outside the repository: settings are read only from inside it")
    try:  # through the one reader of targets: a FIFO or a device is refused, not waited on
        data = confine.read_bytes(str(top), real.relative_to(top).as_posix(), MAX_BYTES + 1)
    except OSError as exc:
        raise SettingsError(f"{where}: cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise SettingsError(f"{where}: over {MAX_BYTES // 1024} KiB, too large to be settings")
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise SettingsError(f"{where}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{where}: not valid TOML: {exc}") from None
    except RecursionError:
        raise SettingsError(f"{where}: not usable TOML: values nested too deeply") from None
    if not pyproject:
        return _checked_table(document, where, ".dbreview.toml")
    tool = document.get("tool")
    if tool is None:
        return None
    tool = _checked_table(tool, where, "[tool]")
    if "dbreview" not in tool:
        return None
    return _checked_table(tool["dbreview"], where, "[tool.dbreview]")


def _checked_table(value: object, where: str, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SettingsError(f"{where}: {what} must be a table, not {_kind(value)}")
    return value


# -- checking the values --------------------------------------------------------------------------


def _kind(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "an array", dict: "a table"}
    return names.get(type(value), f"a {type(value).__name__} value")


def _strings(data: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        shown = _kind(value) if not isinstance(value, list) else "an array holding " + _kind(next(x for x in value if not isinstance(x, str)))
        raise SettingsError(f"{where}: `{key}` must be a list of strings, not {shown}")
    return tuple(value)


def _rule_ids() -> list[str]:
    from analyzers.rules import rule_infos  # every rule module: only once a file pins something

    return [info.id for _, info in rule_infos()]


def _rules(entries: tuple[str, ...], key: str, where: str, known: set[str]) -> tuple[str, ...]:
    out = []
    for entry in entries:
        wanted = entry.strip().upper()
        if not any(_names(wanted, rule_id) for rule_id in known):
            named = key if key.startswith("--") else f"`{key}`"
            raise SettingsError(f"{where}: {named} names {entry!r}, which is no rule id or family (`dbreview rules` lists them)")
        out.append(wanted)
    return tuple(out)


def _settings(data: dict[str, Any], source: str, prefix: str, known: set[str]) -> Settings:
    where = source
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        key = unknown[0]
        close = difflib.get_close_matches(key.replace("_", "-"), KEYS, n=1)
        hint = f" (did you mean `{close[0]}`?)" if close else f"; known keys: {', '.join(KEYS)}"
        raise SettingsError(f"{where}: unknown key `{key}`{hint}")
    severity = data.get("severity", {})
    if not isinstance(severity, dict):
        raise SettingsError(f"{where}: `severity` must be a table of rule id = \"critical\" | \"warning\" | \"info\", not {_kind(severity)}")
    levels: dict[str, Severity] = {}
    for rule_id, level in severity.items():
        if rule_id.upper() not in known:
            raise SettingsError(f"{where}: `severity` names {rule_id!r}, which is no rule id (`dbreview rules` lists them)")
        if level not in LEVELS:
            shown = repr(level) if isinstance(level, str) else _kind(level)
            raise SettingsError(f"{where}: `severity.{rule_id}` must be one of {', '.join(LEVELS)}, not {shown}")
        levels[rule_id.upper()] = Severity(level)
    fail_on = data.get("fail-on")
    if fail_on is not None and fail_on not in FAIL_ON:
        shown = repr(fail_on) if isinstance(fail_on, str) else _kind(fail_on)
        raise SettingsError(f"{where}: `fail-on` must be one of {', '.join(FAIL_ON)}, not {shown}")
    tenant = _strings(data, "tenant-columns", where) if "tenant-columns" in data else DEFAULT_TENANT_COLUMNS
    if not tenant or not all(c.isidentifier() for c in tenant):
        raise SettingsError(f"{where}: `tenant-columns` must list column names, not {list(tenant)!r}")
    return Settings(
        exclude=_strings(data, "exclude", where),
        include=_strings(data, "include", where),
        docs=_strings(data, "docs", where),
        enable=_rules(_strings(data, "enable", where), "enable", where, known),
        disable=_rules(_strings(data, "disable", where), "disable", where, known),
        severity=MappingProxyType(levels),
        fail_on=fail_on,
        tenant_columns=tenant,
        source=source,
        prefix=prefix,
    )



def with_flags(settings: Settings, *, fail_on: str | None = None, enable: Iterable[str] = (), disable: Iterable[str] = ()) -> Settings:
    """`settings` with what the command line gave over them (flags win); SettingsError for a rule
    the analyzers do not have."""
    known = set(_rule_ids())
    changes: dict[str, Any] = {}
    if fail_on is not None:
        changes["fail_on"] = fail_on
    if enable := tuple(enable):
        changes["enable"] = _rules(enable, "--enable", "the command line", known)
    if disable := tuple(disable):
        changes["disable"] = settings.disable + _rules(disable, "--disable", "the command line", known)
    return replace(settings, **changes) if changes else settings

"""The reviewer's own preferences: auto-advance, theme and keys, in a TOML file in their config
folder (tui/paths.config_file), never in the repository under review.

    auto_advance = true          # after c, d or x, go on to the next untriaged finding
    theme = "ansi-dark"          # any theme of the palette's "Change theme"; unset: chosen by the terminal
    [keys]                       # key ids from `?` (tui/keymap.py) -> Textual key names
    "finding.confirm" = "c,enter"

A file that cannot be read keeps the defaults and says why, once, when the app starts.
No Textual here: the CLI and tests read preferences without the app."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Preferences:
    auto_advance: bool = True
    theme: str | None = None
    keys: dict[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()  # what was wrong with the file, in words

    def with_(self, **changes) -> Preferences:
        return replace(self, problems=(), **changes)


def load(path: Path) -> Preferences:
    """The preferences in `path`; the defaults when it does not exist."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Preferences()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return Preferences(problems=(f"{path} cannot be read ({exc}); using the default preferences",))
    problems: list[str] = []
    prefs = Preferences()
    auto = data.get("auto_advance", True)
    if isinstance(auto, bool):
        prefs = replace(prefs, auto_advance=auto)
    else:
        problems.append(f"auto_advance in {path} must be true or false")
    theme = data.get("theme")
    if theme is None or isinstance(theme, str):
        prefs = replace(prefs, theme=theme or None)
    else:
        problems.append(f"theme in {path} must be a theme's name")
    keys = data.get("keys", {})
    if isinstance(keys, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in keys.items()):
        prefs = replace(prefs, keys=dict(keys))
    else:
        problems.append(f"[keys] in {path} must map key ids to key names, such as \"finding.confirm\" = \"c\"")
    unknown = sorted(set(data) - {"auto_advance", "theme", "keys"})
    if unknown:
        problems.append(f"{path} has settings dbreview does not know: {', '.join(unknown)}")
    return replace(prefs, problems=tuple(problems))


def save(path: Path, prefs: Preferences) -> None:
    """Write the preferences (0600 in a 0700 folder: they are the user's own), replacing the file
    in one step so that a crash never leaves half of it."""
    lines = [
        "# dbreview preferences (see `?` in the app for the key ids)",
        f"auto_advance = {'true' if prefs.auto_advance else 'false'}",
    ]
    if prefs.theme:
        lines.append(f"theme = {_quote(prefs.theme)}")
    if prefs.keys:
        lines += ["", "[keys]"] + [f"{_quote(k)} = {_quote(v)}" for k, v in sorted(prefs.keys.items())]
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    os.replace(temporary, path)


def _quote(text: str) -> str:
    """A TOML basic string."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in escaped) + '"'

"""The dbreview application: the review screen over one repository, with the reviewer's preferences.

The App holds what the whole run shares (the repository, the data dir, the reviewer, the checklist,
the preferences, the clock); the review itself is MainScreen's (tui/screens/main.py)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from collections.abc import Callable

from rich.text import Text
from textual.app import App, SystemCommand
from textual.screen import Screen

from analyzers.checklist import load_checklist
from tui import keymap, prefs
from tui.commands import ChecklistCommands
from tui.reports.sanitize import one_line, printable
from tui.screens.main import MainScreen

DOC_READ_AFTER = 1.5  # seconds a document stays open before it counts as read


class ReviewApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "dbreview"
    doc_read_after = DOC_READ_AFTER
    COMMANDS = App.COMMANDS | {ChecklistCommands}
    MODES = {"review": MainScreen}  # a mode, not a pushed screen: mounted before the first key or test step
    DEFAULT_MODE = "review"

    def __init__(
        self,
        repo: Path,
        data_dir: Path,
        reviewer: str,
        checklist: str = "database",
        *,
        scan: bool = True,
        clock: Callable[[], datetime] | None = None,
        preferences: prefs.Preferences | None = None,
        preferences_file: Path | None = None,
    ) -> None:
        super().__init__()
        self.repo = Path(repo).resolve()
        self.data_dir = data_dir
        self.reviewer = reviewer
        self.checklist = load_checklist(checklist)
        self.scan_on_start = scan
        self.clock = clock  # the store's time source: fixed in snapshot tests
        self.prefs = preferences or prefs.Preferences()
        self.prefs_file = preferences_file  # where changed preferences are saved; None: not saved
        self._keys_problems = keymap.clashes(self.prefs.keys, builtin_keys())
        if not self._keys_problems:
            self.set_keymap(self.prefs.keys)
        self._automatic_theme: str | None = STARTING
        self._theme_from_prefs = self.prefs.theme in self.available_themes
        if self._theme_from_prefs:
            self.theme = self.prefs.theme
        elif _sixteen_colours():
            self.theme = "ansi-dark"
        self._automatic_theme = self.theme  # the terminal's or the saved one, not a new choice: never saved

    def notify(self, message: str, *, title: str = "", severity="information", timeout=None, markup: bool = False) -> None:
        """Every notification (screens and widgets notify through here): what it quotes (names, paths,
        messages) shows as text, never as markup, with control characters as placeholders."""
        super().notify(printable(message), title=one_line(title), severity=severity, timeout=timeout, markup=False)

    @property
    def keys(self) -> dict[str, str]:
        """The user's keys in use (key id -> keys): none while they clash, as then they are refused."""
        return {} if self._keys_problems else dict(self.prefs.keys)

    @property
    def review(self):
        return self.main.review

    @property
    def main(self) -> MainScreen:
        """The review screen, under any dialog."""
        return self.screen_stack[0]  # type: ignore[return-value]

    def on_mount(self) -> None:
        self.sub_title = str(self.repo)
        for problem in self.prefs.problems:
            self.notify(problem, title="Preferences", severity="warning", timeout=10, markup=False)
        if self._keys_problems:
            self.notify(
                "; ".join(self._keys_problems) + ". Your [keys] are not used until this is fixed.",
                title=f"Keys in {self.prefs_file or 'your preferences'}",
                severity="warning",
                timeout=15,
                markup=False,
            )
        if self.prefs.theme and not self._theme_from_prefs:
            self.notify(f"There is no theme {self.prefs.theme!r}; ctrl+p, then \"theme\" lists them.", severity="warning", markup=False)

    def watch_theme(self, theme: str) -> None:
        """A theme picked in the palette is the user's preference from now on."""
        if self._automatic_theme in (STARTING, theme):
            return  # the start-up's choice (Textual reports it again once mounted), not the user's
        self._automatic_theme = None
        if theme != self.prefs.theme and self.prefs_file is not None:
            self.set_preferences(theme=theme)

    def set_preferences(self, **changes) -> None:
        self.prefs = self.prefs.with_(**changes)
        if self.prefs_file is not None:
            try:
                prefs.save(self.prefs_file, self.prefs)
            except OSError as exc:
                self.notify(f"Your preferences could not be saved to {self.prefs_file}: {exc.strerror or exc}",
                            severity="warning", markup=False)

    async def action_quit(self) -> None:
        self.main.save_cursor()  # the debounce timer may not have fired yet
        problem = self.main.not_saving  # said again on the terminal, where it stays after the app
        self.exit(return_code=2 if problem else 0, message=Text(f"dbreview: {one_line(problem)}") if problem else None)

    def get_system_commands(self, screen):
        yield from super().get_system_commands(screen)
        if not isinstance(screen, MainScreen):
            return
        for key in keymap.in_scope(keymap.REVIEW):
            if key.palette:
                shown = keymap.shown(key, self.keys)
                yield SystemCommand(key.label, f"{key.help}" + (f"  ({shown})" if shown else ""), _runner(screen, key.action))


def builtin_keys() -> dict[str, dict[str, str]]:
    """The keys Textual's own classes bind where ours work (for keymap.clashes)."""
    from textual.scroll_view import ScrollView
    from textual.widgets import Tree

    return keymap.builtin_keys({keymap.REVIEW: [Screen], keymap.TREE: [Tree], keymap.SOURCE: [ScrollView]})


def _runner(screen: Screen, action: str):
    return lambda: screen.run_action(action)


STARTING = "(starting)"  # while the App is built, a theme set is its own choice, not the user's


def _sixteen_colours() -> bool:
    """A terminal that promises no more than 16 colours gets the ANSI theme (its own palette)."""
    term = os.environ.get("TERM", "")
    return os.environ.get("DBREVIEW_THEME") == "ansi" or (
        "256" not in term and os.environ.get("COLORTERM", "") not in ("truecolor", "24bit") and term not in ("", "dumb")
    )

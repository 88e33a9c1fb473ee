"""The help screen: every key of the review, from the keymap, as bound now (remapped keys show as
remapped), with the id a user's preferences name it by."""

from __future__ import annotations

from collections.abc import Mapping

from rich.table import Table
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui import keymap

PARTS = (
    (keymap.REVIEW, "Reviewing"),
    (keymap.TREE, "In the checklist (also ↑ ↓, enter opens or closes)"),
    (keymap.SOURCE, "In the source (tab to get there)"),
)


def key_table(overrides: Mapping[str, str]) -> Table:
    table = Table(show_edge=False, box=None, pad_edge=False, show_header=False)
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("does", ratio=1)
    table.add_column("id", style="dim", no_wrap=True)
    for n, (scope, title) in enumerate(PARTS):
        if n:
            table.add_row("", "")
        table.add_row("", title, style="bold underline")
        for key in keymap.in_scope(scope):
            table.add_row(keymap.shown(key, overrides) or "ctrl+p", key.help, key.id)
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = keymap.bindings(keymap.HELP)

    def __init__(self, overrides: Mapping[str, str], where: str | None = None) -> None:
        super().__init__()
        self.overrides, self.where = overrides, where

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide tall"):
            yield Static("dbreview keys", classes="dialog-title")
            yield Static(key_table(self.overrides))
            yield Static(
                "ctrl+p: every action and every checklist item by name · remap a key by its id under [keys] "
                f"in {self.where or 'your preferences file'} · {keymap.hint('help.close', self.overrides)} closes",
                classes="dialog-help",
            )

    def action_close(self) -> None:
        self.dismiss(None)

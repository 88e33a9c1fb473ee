"""The help screen: every key the app answers to, as bound (so remapped keys show as remapped)."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close", id="help.close")]

    def __init__(self, bindings: list[tuple[str, str]]) -> None:
        super().__init__()
        self.rows = bindings

    def compose(self) -> ComposeResult:
        table = Table(title="dbreview keys", show_edge=False, box=None, pad_edge=False)
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("does")
        for key, description in self.rows:
            table.add_row(key, description)
        with VerticalScroll(classes="dialog"):
            yield Static(table)
            yield Static("ctrl+p: every action and every checklist item by name · esc closes", classes="dialog-help")

    def action_close(self) -> None:
        self.dismiss(None)

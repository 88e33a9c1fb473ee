"""The export dialog: which report, and where. The review screen writes it."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from tui import keymap
from tui.output import STDOUT
from tui.reports import EXTENSIONS, FORMATS

WHAT = {
    "markdown": "the review prompt's Output Format, for people",
    "html": "the same as one page to send, with charts",
    "sarif": "SARIF 2.1.0, for code-scanning tools",
    "json": "the whole review, for machines (docs/json-report.md)",
    "github": "GitHub Actions annotations, one line a finding",
    "gitlab": "a GitLab Code Quality report",
}


class ExportDialog(ModalScreen[tuple[str, Path] | None]):
    """A format (↑/↓, enter), then the path to write it to (enter); the path's extension follows
    the format until the reviewer edits it."""

    BINDINGS = keymap.bindings(keymap.EXPORT)

    def __init__(self, folder: Path, stem: str) -> None:
        super().__init__()
        self.folder, self.stem = folder, stem

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label("Export the review", classes="dialog-title")
            yield OptionList(*[Option(f"{fmt:<9} {WHAT[fmt]}", id=fmt) for fmt in FORMATS], id="formats")
            yield Input(str(self._default(FORMATS[0])), id="path")
            yield Label(f"↑/↓ format · enter · the path · enter to write · {keymap.hint('export.cancel', self.app.keys)} cancel",
                        classes="dialog-help")

    def _default(self, fmt: str) -> Path:
        return self.folder / f"{self.stem}{EXTENSIONS[fmt]}"

    @property
    def _format(self) -> str:
        return FORMATS[self.query_one("#formats", OptionList).highlighted or 0]

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        path = self.query_one("#path", Input)
        if any(path.value == str(self._default(fmt)) for fmt in FORMATS):  # not edited: follow the format
            path.value = str(self._default(FORMATS[event.option_index]))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.query_one("#path", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if not value or value in STDOUT:  # standard output is the screen the app is drawing
            self.notify("Give the path of a file to write the report to.", severity="warning")
            return
        self.dismiss((self._format, Path(value).expanduser()))

    def action_cancel(self) -> None:
        self.dismiss(None)

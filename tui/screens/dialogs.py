"""Modal dialogs: each returns its answer through dismiss(), or None when cancelled."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, TextArea
from textual.widgets.option_list import Option

from tui import keymap, untrusted
from tui.reports.sanitize import printable
from tui.session.state import DISMISS_REASONS


class DismissDialog(ModalScreen[tuple[str, str] | None]):
    """Dismissing needs a reason; a note is optional."""

    BINDINGS = keymap.bindings(keymap.DISMISS)

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what
        self._reason_chosen = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(untrusted.line(f"Dismiss: {self.what}"), classes="dialog-title")
            yield OptionList(*[Option(r, id=r) for r in DISMISS_REASONS], id="reasons")
            yield Input(placeholder="note (optional), enter to dismiss", id="note")
            yield Label(f"↑/↓ reason · enter · {keymap.hint('dismiss.cancel', self.app.keys)} cancel", classes="dialog-help")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if self._reason_chosen:  # a second enter typed before the note field took focus: no note
            self.dismiss((DISMISS_REASONS[event.option_index], ""))
            return
        self._reason_chosen = True
        self.query_one("#note", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        options = self.query_one("#reasons", OptionList)
        reason = DISMISS_REASONS[options.highlighted or 0]
        self.dismiss((reason, event.value.strip()))

    def action_cancel(self) -> None:
        self.dismiss(None)


class TextDialog(ModalScreen[str | None]):
    """A note, an annotation or an answer: multi-line, ctrl+s saves, esc cancels."""

    BINDINGS = keymap.bindings(keymap.NOTE)

    def __init__(self, title: str, initial: str = "") -> None:
        super().__init__()
        self.title_text, self.initial = title, initial

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(untrusted.line(self.title_text), classes="dialog-title")
            # What another reviewer wrote is edited as it is shown: control characters as placeholders.
            yield TextArea(printable(self.initial), id="text", soft_wrap=True, tab_behavior="focus")
            keys = self.app.keys
            yield Label(f"{keymap.hint('note.save', keys)} save · {keymap.hint('note.cancel', keys)} cancel", classes="dialog-help")

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    def action_save(self) -> None:
        self.dismiss(self.query_one(TextArea).text.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)

"""`v`: what the tree shows of the findings. States and severities to keep (none ticked: all),
a rule and a part of a path, and the grouping: by checklist item, by rule, by file."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, RadioButton, RadioSet, SelectionList

from analyzers.findings import Severity
from tui import keymap
from tui.session.state import Disposition
from tui.view import GROUPINGS, View


class ViewDialog(ModalScreen[View | None]):
    BINDINGS = keymap.bindings(keymap.VIEW)

    def __init__(self, view: View) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        view = self.view
        with Vertical(classes="dialog"):
            yield Label("Show findings that are… (nothing ticked: all)", classes="dialog-title")
            with Horizontal(id="view-lists"):
                yield SelectionList[str](
                    *[(str(d), str(d), d in view.states) for d in Disposition], id="states", compact=True
                )
                yield SelectionList[str](
                    *[(str(s), str(s), s in view.severities) for s in Severity], id="severities", compact=True
                )
                with RadioSet(id="group-by", compact=True):
                    for how in GROUPINGS:
                        yield RadioButton(f"by {how}", value=how == view.group_by, compact=True)
            yield Input(view.rule, placeholder="rule id or its start: CFG003, HIP", id="rule", compact=True)
            yield Input(view.file, placeholder="part of a path: models/, billing.py", id="file", compact=True)
            keys = self.app.keys
            yield Label(
                f"space ticks · tab moves · {keymap.hint('view.apply', keys)} (enter in a field) shows · "
                f"{keymap.hint('view.clear', keys)} shows all · {keymap.hint('view.cancel', keys)}",
                classes="dialog-help",
            )

    def on_mount(self) -> None:
        self.query_one("#states").focus()

    def _chosen(self) -> View:
        group_by = self.query_one("#group-by", RadioSet).pressed_index
        return View(
            states=frozenset(self.query_one("#states", SelectionList).selected),
            severities=frozenset(self.query_one("#severities", SelectionList).selected),
            rule=self.query_one("#rule", Input).value.strip(),
            file=self.query_one("#file", Input).value.strip(),
            group_by=GROUPINGS[group_by] if group_by >= 0 else "item",
        )

    def on_input_submitted(self) -> None:
        self.action_apply()

    def action_apply(self) -> None:
        self.dismiss(self._chosen())

    def action_clear(self) -> None:
        self.dismiss(View())

    def action_cancel(self) -> None:
        self.dismiss(None)

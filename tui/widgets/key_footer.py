"""The footer: Textual's, rebuilt only when the keys it shows change.

Textual rebuilds its Footer (a widget per key) whenever the screen's bindings may have changed: every
focus change, every screen pushed or popped, eight times while the review opens, though the keys
shown stay the same. And it makes its keys only after the screen's first frame: a second layout and
repaint of the whole screen right after the review is shown, which the first key pressed waited for.
This one makes them when it is mounted, in the first frame."""

from __future__ import annotations

from textual.widgets import Footer


class KeyFooter(Footer):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._shown: tuple | None = None  # the keys shown now, as _keys() gives them
        self._bindings_ready = True  # Textual's Footer composes nothing until the screen's bindings change

    def on_mount(self) -> None:
        super().on_mount()
        self._shown = self._keys()

    async def recompose(self) -> None:
        shown = self._keys()
        if self.children and shown == self._shown:  # no children yet: Textual's bindings were not ready
            return
        await super().recompose()
        self._shown = shown

    def _keys(self) -> tuple:
        return tuple(
            (binding.key, binding.action, binding.description, enabled, tooltip)
            for _, binding, enabled, tooltip in self.screen.active_bindings.values()
            if binding.show
        )

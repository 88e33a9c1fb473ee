"""A scrolling view's content size changed without laying out the screen.

Textual's `virtual_size` is a reactive that asks for a layout of the whole screen on every change,
though a view of fixed size (the detail pane, the code pane) stays where it is: ~a third of a key's
time on a 2,000-finding review. Here only the view's scrollbars are updated, and a layout is asked
for only when one of them comes or goes. It calls Textual's own private step for that
(`Widget._scroll_update`, what Textual runs for a size change without layout);
tests/test_content_size.py fails if Textual renames or changes it."""

from __future__ import annotations

from textual.geometry import Size
from textual.widget import Widget


def set_content_size(view: Widget, size: Size, repaint: bool = True) -> None:
    """`view.virtual_size = size` for a view whose own size does not depend on its content;
    `repaint` False: the lines in view stay as they are (more content was added below them)."""
    if size == view.virtual_size:
        return
    if not view.size:  # not laid out yet: the first layout sizes it
        view.virtual_size = size
        return
    view.set_reactive(Widget.virtual_size, size)
    view._scroll_update(size)  # scrollbars shown or hidden (a layout then), their lengths, the offsets clamped
    if repaint:
        view.refresh()


def content_resized(view: Widget) -> None:
    """The scrollbars of a view whose `virtual_size` Textual has just set (and asked a layout of the
    screen for, which the view declined: see ChecklistTree.refresh)."""
    if view.size:
        view._scroll_update(view.virtual_size)

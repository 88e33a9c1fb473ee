"""A scrolling view's content size changed without laying out the screen.

Textual's `virtual_size` is a reactive that asks for a layout of the whole screen on every change,
though a view of fixed size (the detail pane, the code pane) stays where it is: ~a third of a key's
time on a 2,000-finding review. Here only the view's scrollbars are updated, and a layout is asked
for only when one of them comes or goes. It is Textual's own step for a size change without layout
(`Widget._scroll_update`) less its repaint of both scrollbars whatever changed: a scrollbar is
repainted (every line of it) when its length or its window changed, as its reactives do, not on
every new finding or tree node. It calls Textual's private `Widget._refresh_scrollbars` (which shows
or hides them); tests/test_content_size.py fails if Textual renames or changes it."""

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
    _update_scrollbars(view, size)
    if repaint:
        view.refresh()


def content_resized(view: Widget) -> None:
    """The scrollbars of a view whose `virtual_size` Textual has just set (and asked a layout of the
    screen for, which the view declined: see ChecklistTree.refresh)."""
    if view.size:
        _update_scrollbars(view, view.virtual_size)


def _update_scrollbars(view: Widget, size: Size) -> None:
    """Scrollbars shown or hidden (a layout then), their lengths, the offsets clamped."""
    view._refresh_scrollbars()
    width, height = view.container_size
    if view.show_vertical_scrollbar and view.styles.scrollbar_size_vertical:
        bar = view.vertical_scrollbar
        bar.window_virtual_size, bar.window_size = size.height, height - view.scrollbar_size_horizontal
    if view.show_horizontal_scrollbar and view.styles.scrollbar_size_horizontal:
        bar = view.horizontal_scrollbar
        bar.window_virtual_size, bar.window_size = size.width, width - view.scrollbar_size_vertical
    view.scroll_x = view.validate_scroll_x(view.scroll_x)
    view.scroll_y = view.validate_scroll_y(view.scroll_y)

"""set_content_size (tui/widgets/content_size.py) leans on Textual's private
Widget._refresh_scrollbars: these fail when Textual changes it. A new content size scrolls at once
and shows the scrollbar it needs, with no layout of the screen unless a scrollbar comes or goes, and
no repaint of a scrollbar whose length did not change."""

from __future__ import annotations

from textual.app import App
from textual.geometry import Size
from textual.scroll_view import ScrollView

from tui.widgets.content_size import set_content_size


class Pane(ScrollView):
    DEFAULT_CSS = "Pane { height: 10; scrollbar-gutter: stable; overflow-x: hidden; }"


class Host(App[None]):
    def compose(self):
        yield Pane()


def _layouts(screen) -> list[object]:
    seen: list[object] = []
    original = screen._refresh_layout

    def counted(*args, **kwargs):
        seen.append(args)
        return original(*args, **kwargs)

    screen._refresh_layout = counted
    return seen


async def test_a_new_content_size_scrolls_at_once_without_a_layout():
    app = Host()
    async with app.run_test(size=(40, 20)) as pilot:
        pane = app.query_one(Pane)
        set_content_size(pane, Size(30, 50))
        await pilot.pause()
        assert pane.show_vertical_scrollbar and pane.max_scroll_y == 40
        layouts = _layouts(app.screen)
        set_content_size(pane, Size(30, 80))
        assert pane.max_scroll_y == 70, "the new size holds before the next frame"
        pane.scroll_to(y=60, animate=False)
        assert pane.scroll_y == 60, "and a scroll to it lands at once"
        assert pane.vertical_scrollbar.window_virtual_size == 80
        set_content_size(pane, Size(30, 30))
        assert pane.scroll_y == 20, "a shorter content clamps the offset"
        await pilot.pause()
        assert layouts == [], "the screen is not laid out while the scrollbar stays"
        set_content_size(pane, Size(30, 5))
        await pilot.pause()
        assert not pane.show_vertical_scrollbar and pane.scroll_y == 0
        assert layouts, "a scrollbar that goes lays the screen out"


async def test_a_scrollbar_is_repainted_only_when_its_length_changes():
    app = Host()
    async with app.run_test(size=(40, 20)) as pilot:
        pane = app.query_one(Pane)
        set_content_size(pane, Size(30, 50))
        await pilot.pause()
        bar, repaints = pane.vertical_scrollbar, []
        original = bar.refresh
        bar.refresh = lambda *args, **kwargs: repaints.append(args) or original(*args, **kwargs)
        set_content_size(pane, Size(20, 50))
        assert repaints == [], "a new width, the same number of lines: the vertical scrollbar stays as it is"
        set_content_size(pane, Size(20, 60))
        assert repaints and bar.window_virtual_size == 60, "a new number of lines: it is repainted"

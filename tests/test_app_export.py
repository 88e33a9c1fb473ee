"""Exporting from the app (a key and the palette, any format, a path the reviewer chooses), and
secrets masked on screen while another reviewer is in the review."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, OptionList

from tui.app import ReviewApp
from tui.controllers.presence import POLL_EVERY
from tui.widgets.checklist_tree import ChecklistTree
from tui.widgets.source_view import SourceView

SECRET = "Hunter2-pw"
DB = f'''from sqlalchemy.ext.asyncio import create_async_engine

engine = create_async_engine("postgresql://app:{SECRET}@db/c")
'''


async def _results(app: ReviewApp, pilot) -> list[str]:
    """The search dialog's results once its worker has shown them."""
    for _ in range(40):
        await pilot.pause(0.1)
        options = app.screen.query_one(OptionList)
        if options.option_count:
            return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
    return []


def shown(app: ReviewApp) -> str:
    """The text the source pane shows now, line by line."""
    source = app.query_one(SourceView)
    return "\n".join(source.render_line(y).text for y in range(source.size.height))


async def test_export_from_the_app_in_the_chosen_format_to_the_chosen_path(scanned, data_dir, tmp_path: Path) -> None:
    app = ReviewApp(scanned.repo, data_dir, "alice", scan=False)
    target = tmp_path / "out" / "review.html"
    target.parent.mkdir()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("n", "c")  # one decision, so the report has a decided finding
        await pilot.press("E")
        await pilot.pause()
        await pilot.press("down", "enter")  # html
        await pilot.pause()
        path = app.screen.query_one("#path")
        assert path.value.endswith(".html"), "the extension follows the format"
        path.value = str(target)
        await pilot.press("enter")
        await pilot.pause()
    text = target.read_text()
    assert text.startswith("<!DOCTYPE html>") and 'data-kind="confirmed" data-count="1"' in text


async def test_export_is_in_the_palette(scanned, data_dir) -> None:
    from tui.keymap import BY_ID

    key = BY_ID["export"]
    assert key.keys == "E" and key.palette and "path you choose" in key.help


async def test_secrets_are_masked_on_screen_while_someone_else_is_in_the_review(tmp_path: Path, data_dir: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "db.py").write_text(DB)
    alice = ReviewApp(repo, data_dir, "alice")
    async with alice.run_test(size=(120, 30)) as pa:
        await alice.workers.wait_for_complete()
        await pa.pause()
        tree = alice.query_one(ChecklistTree)
        fp = next(f.fingerprint for f in alice.review.findings.values() if f.path == "db.py")
        tree.select_id(f"finding:{fp}")
        await pa.pause()
        assert SECRET in shown(alice), "alone, the reviewer sees the code as it is"
        bob = ReviewApp(repo, data_dir, "bob", scan=False)
        async with bob.run_test(size=(120, 30)) as pb:
            await pb.pause(POLL_EVERY * 3)
            await pa.pause(POLL_EVERY * 3)
            assert SECRET not in shown(alice) and "app:****@db/c" in shown(alice), "bob is here: masked"
            bob.query_one(ChecklistTree).select_id(f"finding:{fp}")
            await pb.pause()
            assert SECRET not in shown(bob) and "app:****@db/c" in shown(bob)
            await pb.press("slash")
            await pb.pause()
            bob.screen.query_one(Input).value = "create_async_engine("
            found = await _results(bob, pb)
            assert found and SECRET not in "\n".join(found) and "app:****@db/c" in "\n".join(found), "search results masked"

"""One keymap for the whole app: no key means two things, every key does something, users remap by
id in their own preferences file."""

from __future__ import annotations

import pytest

from tui import keymap, prefs
from tui.app import ReviewApp, builtin_keys
from tui.screens.dialogs import DismissDialog, TextDialog
from tui.screens.export import ExportDialog
from tui.screens.help import HelpScreen, key_table
from tui.screens.main import MainScreen
from tui.screens.search import SearchScreen
from tui.screens.summary import SummaryScreen
from tui.screens.view_dialog import ViewDialog
from tui.session.state import Disposition
from tui.widgets.checklist_tree import ChecklistTree
from tui.widgets.source_view import SourceView

CLASSES = {
    keymap.REVIEW: MainScreen,
    keymap.TREE: ChecklistTree,
    keymap.SOURCE: SourceView,
    keymap.NOTE: TextDialog,
    keymap.DISMISS: DismissDialog,
    keymap.HELP: HelpScreen,
    keymap.SUMMARY: SummaryScreen,
    keymap.SEARCH: SearchScreen,
    keymap.VIEW: ViewDialog,
    keymap.EXPORT: ExportDialog,
}


def test_no_two_bindings_clash():
    assert keymap.clashes(None, builtin_keys()) == []


@pytest.mark.parametrize(
    ("overrides", "said"),
    [
        ({"finding.confirm": "d"}, "'d' is bound twice in the review keys: finding.confirm and finding.downgrade"),
        ({"finding.confirm": "j"}, "'j' means tree.down where tree has the focus, so finding.confirm cannot be reached there"),
        ({"finding.confirm": "enter"}, "'enter' means the widget's own select_cursor where tree has the focus"),
        ({"finding.confirm": "ctrl+q"}, "'ctrl+q' (finding.confirm) is Textual's own key for quit"),
        ({"finding.confrim": "c"}, "there is no key with the id 'finding.confrim'"),
    ],
)
def test_a_clash_is_said_in_words(overrides, said):
    problems = keymap.clashes(overrides, builtin_keys())
    assert any(p.startswith(said) for p in problems), problems


def test_every_key_has_an_action_where_it_is_bound():
    """A key declared in the keymap without the action on its class would do nothing."""
    for key in keymap.KEYS:
        if key.action.startswith("app."):
            owner, name = ReviewApp, key.action[4:]
        elif key.action.startswith("screen."):
            owner, name = MainScreen, key.action[7:]
        else:
            owner, name = CLASSES[key.scope], key.action
        assert hasattr(owner, f"action_{name.split('(')[0]}"), f"{key.id}: {owner.__name__} has no action {name}"


def test_bindings_carry_ids_and_the_classes_use_them():
    assert len(keymap.BY_ID) == len(keymap.KEYS), "ids are unique"
    for scope, cls in CLASSES.items():
        ids = {b.id for b in cls.BINDINGS}
        assert ids == {k.id for k in keymap.in_scope(scope) if k.keys}, scope


def test_keys_are_handled_only_through_the_keymap():
    """One place for keys: no module of the app binds or reads a key by its name but keymap.py."""
    import re
    from pathlib import Path

    import tui

    outside = re.compile(r"def on_key\(|event\.key\b|Binding\(|BINDINGS = \[|BINDINGS = \(")
    found = [
        f"{path.name}:{n}: {line.strip()}"
        for path in Path(tui.__file__).parent.rglob("*.py")
        if path.name != "keymap.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if outside.search(line)
    ]
    assert found == []


async def test_the_dialogs_name_the_keys_as_remapped(demo_repo, data_dir):
    app = ReviewApp(demo_repo, data_dir, "alice", preferences=prefs.Preferences(keys={"note.save": "ctrl+w"}))
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("n", "a")  # a note on the first untriaged finding
        await pilot.pause()
        hints = [str(label.render()) for label in app.screen.query(".dialog-help")]
        assert any("ctrl+w save" in h and "esc cancel" in h for h in hints), hints


def test_help_lists_every_key_as_remapped():
    table = key_table({"finding.confirm": "o"})
    ids = list(table.columns[2].cells)
    keys = list(table.columns[0].cells)
    for key in keymap.in_scope(keymap.REVIEW) + keymap.in_scope(keymap.TREE) + keymap.in_scope(keymap.SOURCE):
        assert key.id in ids
    assert keys[ids.index("finding.confirm")] == "o"
    assert keys[ids.index("verdict.na")] == "-"


async def test_a_remapped_key_works_and_the_old_one_does_not(demo_repo, data_dir):
    app = ReviewApp(demo_repo, data_dir, "alice", preferences=prefs.Preferences(keys={"finding.confirm": "o"}))
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        here = app.query_one(ChecklistTree).current.key
        await pilot.press("c")
        await pilot.pause()
        assert app.review.findings[here].disposition == Disposition.UNTRIAGED
        await pilot.press("o")
        await pilot.pause()
        assert app.review.findings[here].disposition == Disposition.CONFIRMED


async def test_a_clashing_keymap_is_refused_with_a_message(demo_repo, data_dir):
    app = ReviewApp(demo_repo, data_dir, "alice", scan=False, preferences=prefs.Preferences(keys={"finding.confirm": "d"}))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        said = [n.message for n in app._notifications]
        assert any("'d' is bound twice" in m and "not used until this is fixed" in m for m in said), said


async def test_the_palette_offers_every_review_action(demo_repo, data_dir):
    app = ReviewApp(demo_repo, data_dir, "alice", scan=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for key in keymap.in_scope(keymap.REVIEW):
            if key.palette:
                assert key.label in titles


async def test_the_terminal_s_theme_is_not_saved_as_a_preference(demo_repo, data_dir, tmp_path, monkeypatch):
    """On a 16-colour terminal the ANSI theme is chosen for it, not by the user: the preferences stay
    unwritten (and no start says that theme does not exist); a theme the user picks is saved."""
    monkeypatch.setenv("TERM", "xterm")
    config = tmp_path / "conf" / "config.toml"
    for _ in range(2):
        app = ReviewApp(demo_repo, data_dir, "alice", scan=False, preferences=prefs.load(config), preferences_file=config)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            assert app.theme == "ansi-dark"
            assert not [n for n in app._notifications if "theme" in n.message], "no complaint about the theme"
        assert not config.exists()
    app = ReviewApp(demo_repo, data_dir, "alice", scan=False, preferences=prefs.load(config), preferences_file=config)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.theme = "ansi-light"
        await pilot.pause()
    assert prefs.load(config).theme == "ansi-light"


def test_preferences_round_trip(tmp_path):
    path = tmp_path / "conf" / "config.toml"
    assert prefs.load(path) == prefs.Preferences()
    wanted = prefs.Preferences(auto_advance=False, theme="ansi-light", keys={"finding.confirm": "o", 'we"ird': "\\"})
    prefs.save(path, wanted)
    assert prefs.load(path) == wanted
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_bad_preferences_file_keeps_the_defaults_and_says_why(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("auto_advance = 'yes'\ncolour = 1\n[keys]\n'finding.confirm' = 3\n")
    loaded = prefs.load(path)
    assert loaded.auto_advance is True and loaded.keys == {}
    assert len(loaded.problems) == 3
    path.write_text("auto_advance = \n")
    assert "cannot be read" in prefs.load(path).problems[0]

"""Every key of the app, in one table: its id, where it works, what it does, and its help text.

The review screen's bindings, each widget's and dialog's bindings, the footer, the help screen and
the command palette are all built from KEYS, so a key is declared once. Users remap keys by id in
their preferences (tui/prefs.py); `clashes()` checks the defaults (a test) and a user's keymap (at
start-up) the same way: no key may mean two things where both could answer it.

To add a key: one Key(...) line below, in the scope where it works, and an `action_<name>` on that
scope's class. Ids are stable (`area.verb`): users' keymaps name them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from textual.binding import Binding

# Where a key works. A widget scope answers only while that widget has the focus, in front of the
# review screen's keys; a dialog scope is a modal screen, in front of the app's own keys only.
REVIEW = "review"  # the review screen (the checklist and the source side by side)
TREE = "tree"  # the checklist tree, when it has the focus
SOURCE = "source"  # the source view, when it has the focus
NOTE = "note"  # the note and answer dialog
DISMISS = "dismiss"  # the dismiss dialog (a reason, a note)
HELP = "help"
SUMMARY = "summary"
SEARCH = "search"
VIEW = "view"  # the filter and grouping dialog
EXPORT = "export"  # the export dialog (a format, a path)

# What answers while each scope is in front, nearest first (Textual's own bindings included).
LAYERS: dict[str, tuple[str, ...]] = {
    TREE: (TREE, REVIEW),
    SOURCE: (SOURCE, REVIEW),
    REVIEW: (REVIEW,),
    NOTE: (NOTE,),
    DISMISS: (DISMISS,),
    HELP: (HELP,),
    SUMMARY: (SUMMARY,),
    SEARCH: (SEARCH,),
    VIEW: (VIEW,),
    EXPORT: (EXPORT,),
}

VERDICT = Binding.Group("Verdict", compact=True)


@dataclass(frozen=True, slots=True)
class Key:
    id: str  # stable, for users' keymaps: "finding.confirm"
    scope: str
    keys: str  # Textual key names, comma-separated; "" for a palette-only command
    action: str  # the action on the scope's class ("confirm", "verdict('pass')")
    label: str  # short, for the footer and the palette
    help: str  # a line for the help screen
    footer: bool = False
    display: str | None = None  # how the help screen and footer spell the key, when not as bound
    group: Binding.Group | None = None  # keys shown together in the footer
    palette: bool = True  # offered in the command palette (review scope only)


KEYS: tuple[Key, ...] = (
    # -- the review screen ------------------------------------------------------------------------
    Key("finding.confirm", REVIEW, "c", "confirm", "Confirm", "confirm the finding (or every marked one)", footer=True),
    Key("finding.downgrade", REVIEW, "d", "downgrade", "Downgrade",
        "downgrade the finding one severity step (or every marked one)", footer=True),
    Key("finding.dismiss", REVIEW, "x", "dismiss_finding", "Dismiss",
        "dismiss the finding with a reason (or every marked one)", footer=True),
    Key("finding.reopen", REVIEW, "r", "reopen", "Reopen",
        "reopen the finding (or every marked one): untriaged again; on an item, clear its verdict"),
    Key("undo", REVIEW, "u", "undo", "Undo",
        "undo your last action, a bulk one whole (again for the one before); kept across restarts", footer=True),
    Key("annotate", REVIEW, "a", "annotate", "Note", "note on the finding or item, or answer the question"),
    Key("verdict.pass", REVIEW, "p", "verdict('pass')", "Pass", "item verdict: pass", footer=True, group=VERDICT),
    Key("verdict.warning", REVIEW, "w", "verdict('warning')", "Warn", "item verdict: warning", footer=True, group=VERDICT),
    Key("verdict.fail", REVIEW, "f", "verdict('fail')", "Fail", "item verdict: fail", footer=True, group=VERDICT),
    Key("verdict.na", REVIEW, "minus", "verdict('n/a')", "N/A",
        "item verdict: not applicable; on a section or group, every item in it without a verdict (one note)",
        footer=True, display="-", group=VERDICT),
    Key("walk.next", REVIEW, "space", "next_step", "Next step",
        "go to the next unfinished thing: document, finding, verdict, answer"),
    Key("finding.next", REVIEW, "n", "next_untriaged", "Next untriaged", "next untriaged finding"),
    Key("finding.previous", REVIEW, "N", "previous_untriaged", "Previous untriaged", "previous untriaged finding"),
    Key("bulk.mark", REVIEW, "m", "mark", "Mark", "mark the finding for bulk triage (again to unmark)"),
    Key("bulk.mark-rule", REVIEW, "M", "mark_rule", "Mark rule", "mark every open finding of this rule"),
    Key("view.filter", REVIEW, "v", "filter", "Filter",
        "filter the findings by state, severity, rule or file; group them by item, rule or file"),
    Key("search", REVIEW, "slash", "search", "Search", "search the checklist, the findings and the repository's files",
        display="/"),
    Key("summary", REVIEW, "s", "summary", "Summary", "progress summary and the Executive Summary"),
    Key("copy.location", REVIEW, "y", "copy_location", "Copy file:line",
        "copy file:line to the clipboard (OSC 52: works over SSH)"),
    Key("copy.markdown", REVIEW, "Y", "copy_markdown", "Copy as Markdown", "copy the finding as Markdown"),
    Key("pair.follow", REVIEW, "F", "follow", "Follow", "follow the other reviewer's cursor (pair review); again to stop"),
    Key("edit", REVIEW, "e", "edit", "Edit", "open $VISUAL / $EDITOR at the finding's line"),
    Key("verify", REVIEW, "V", "verify", "Verify on PostgreSQL",
        "prove the findings on a throwaway PostgreSQL: the migrations in a sandbox, the catalog, two tenants' rows"),
    Key("export", REVIEW, "E", "export", "Export",
        "write the review as a report (Markdown, HTML, SARIF, JSON, GitHub or GitLab lines) to a path you choose"),
    Key("pane.next", REVIEW, "tab", "app.focus_next", "Pane", "switch between the checklist and the source", palette=False),
    Key("prefs.auto-advance", REVIEW, "", "toggle_auto_advance", "Auto-advance on/off",
        "after c, d or x, go on to the next untriaged finding (saved in your preferences)"),
    Key("help", REVIEW, "question_mark", "help", "Help", "every key, as bound now", footer=True, display="?", palette=False),
    Key("quit", REVIEW, "q", "app.quit", "Quit", "quit (everything is already saved)", footer=True, palette=False),
    # -- the checklist tree, when it has the focus -----------------------------------------------
    Key("tree.down", TREE, "j", "cursor_down", "Down", "move down (↓ too)", display="j ↓"),
    Key("tree.up", TREE, "k", "cursor_up", "Up", "move up (↑ too)", display="k ↑"),
    Key("tree.next-step", TREE, "space", "screen.next_step", "Next step",
        "go to the next unfinished thing (in place of the tree's own open/close)"),
    # -- the source view, when it has the focus ---------------------------------------------------
    Key("source.down", SOURCE, "j,down", "scroll_down", "Down", "scroll down"),
    Key("source.up", SOURCE, "k,up", "scroll_up", "Up", "scroll up"),
    Key("source.left", SOURCE, "h,left", "scroll_left", "Left", "scroll left, half the pane at a time"),
    Key("source.right", SOURCE, "l,right", "scroll_right", "Right", "scroll right, half the pane at a time"),
    Key("source.top", SOURCE, "g", "scroll_home", "Top", "to the top of the file"),
    Key("source.bottom", SOURCE, "G", "scroll_end", "Bottom", "to the end of the file"),
    # -- dialogs ----------------------------------------------------------------------------------
    Key("note.save", NOTE, "ctrl+s", "save", "Save", "save the note or answer"),
    Key("note.cancel", NOTE, "escape", "cancel", "Cancel", "close without saving"),
    Key("dismiss.cancel", DISMISS, "escape", "cancel", "Cancel", "close without dismissing"),
    Key("help.close", HELP, "escape,q,question_mark", "close", "Close", "close the help"),
    Key("summary.close", SUMMARY, "escape,q,s", "close", "Close", "close the summary"),
    Key("search.results", SEARCH, "down", "results", "Results", "from the query down to the results"),
    Key("search.cancel", SEARCH, "escape", "cancel", "Cancel", "close the search"),
    Key("view.apply", VIEW, "ctrl+s", "apply", "Show", "show the findings so filtered and grouped"),
    Key("view.clear", VIEW, "ctrl+r", "clear", "Show all", "every finding, by checklist item"),
    Key("view.cancel", VIEW, "escape", "cancel", "Cancel", "close without changing the view"),
    Key("export.cancel", EXPORT, "escape", "cancel", "Cancel", "close without writing"),
)

BY_ID: dict[str, Key] = {k.id: k for k in KEYS}

# Keys Textual itself binds on the App, which answer everywhere (never remapped here).
APP_KEYS = {"ctrl+q": "quit", "ctrl+c": "help_quit", "ctrl+p": "command_palette"}


def bindings(scope: str) -> list[Binding]:
    """The Textual bindings of a scope, with their ids: what a class puts in BINDINGS."""
    return [
        Binding(k.keys, k.action, k.label, show=k.footer, key_display=k.display, id=k.id, group=k.group)
        for k in KEYS
        if k.scope == scope and k.keys
    ]


def keys_of(key: Key, overrides: Mapping[str, str] | None = None) -> list[str]:
    """The keys that trigger it now: the user's, else the default."""
    chosen = (overrides or {}).get(key.id, key.keys)
    return [k.strip() for k in chosen.split(",") if k.strip()]


def shown(key: Key, overrides: Mapping[str, str] | None = None) -> str:
    """How the help screen spells the keys: `?`, `j ↓`, `ctrl+s`."""
    if key.display and not (overrides and key.id in overrides):
        return key.display
    names = {"minus": "-", "slash": "/", "question_mark": "?", "space": "space"}
    return " ".join(names.get(k, k) for k in keys_of(key, overrides))


def hint(key_id: str, overrides: Mapping[str, str] | None = None) -> str:
    """How a dialog's line of hints names one of our keys: the first one bound to it now."""
    bound = keys_of(BY_ID[key_id], overrides)
    return HINT_NAMES.get(bound[0], bound[0]) if bound else ""


HINT_NAMES = {"escape": "esc", "minus": "-", "slash": "/", "question_mark": "?", "down": "↓"}


def in_scope(scope: str) -> list[Key]:
    return [k for k in KEYS if k.scope == scope]


def _normal(action: str) -> str:
    """The same action whoever names it: `screen.next_step` and `next_step` are one."""
    return action.split(".", 1)[1] if action.startswith(("screen.", "app.")) else action


def clashes(overrides: Mapping[str, str] | None = None, builtin: Mapping[str, Mapping[str, str]] | None = None) -> list[str]:
    """Every place where one key would mean two things, in words; empty when there is none.

    `builtin`: per scope, the keys the widget's Textual class binds itself (key -> action); ours
    replace them in the same scope, but must not hide a key of a scope behind it."""
    overrides = overrides or {}
    problems = [f"there is no key with the id {kid!r}" for kid in overrides if kid not in BY_ID]
    for scope, layers in LAYERS.items():
        seen: dict[str, tuple[str, str]] = {}  # key -> (what, action), nearest layer first
        for depth, layer in enumerate(layers):
            mine: dict[str, tuple[str, str]] = {}
            for key in in_scope(layer):
                for name in keys_of(key, overrides):
                    if name in mine:
                        problems.append(f"{name!r} is bound twice in the {layer} keys: {mine[name][0]} and {key.id}")
                    elif name in APP_KEYS:
                        problems.append(f"{name!r} ({key.id}) is Textual's own key for {APP_KEYS[name]}")
                    mine[name] = (key.id, _normal(key.action))
            if depth == 0:
                for name, action in (builtin or {}).get(layer, {}).items():
                    mine.setdefault(name, (f"the widget's own {action}", _normal(action)))
            for name, (what, action) in mine.items():
                if name in seen and seen[name][1] != action and depth > 0:
                    problems.append(
                        f"{name!r} means {seen[name][0]} where {scope} has the focus, so {what} cannot be reached there"
                    )
                seen.setdefault(name, (what, action))
    return list(dict.fromkeys(problems))


def builtin_keys(widget_classes: Mapping[str, Iterable[type]]) -> dict[str, dict[str, str]]:
    """Per scope, the keys Textual's own classes bind (from their BINDINGS), for clashes()."""
    out: dict[str, dict[str, str]] = {}
    for scope, classes in widget_classes.items():
        found: dict[str, str] = {}
        for cls in classes:
            for klass in reversed(cls.__mro__):
                for b in klass.__dict__.get("BINDINGS", ()):
                    b = b if isinstance(b, Binding) else Binding(*b)
                    for name in b.key.split(","):
                        found[name.strip()] = b.action
        ours = {name for key in in_scope(scope) for name in keys_of(key)}
        out[scope] = {name: action for name, action in found.items() if name not in ours}
    return out

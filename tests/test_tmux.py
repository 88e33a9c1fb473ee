"""`dbreview demo` in a real terminal: a private tmux server at 80x24, as a reviewer over SSH sees it.

Issue 4: it renders correctly at 80x24 under tmux with TERM=xterm, screen-256color and
tmux-256color. Read from tmux's own screen (capture-pane), so a glyph that the terminal draws two
cells wide, or an emoji variation selector (U+FE0F), shows up as a border out of line.
The tmux test is skipped where tmux is not installed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import unicodedata
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import require

COLS, ROWS = 80, 24
BODY_ROWS = ROWS - 2  # below them: the status line and the footer
BORDER = "│"  # the tree's `border-right: solid`
START_WITHIN = 30.0  # seconds: the demo is copied, scanned and shown (a loaded CI machine is slow)


def cells(text: str) -> int:
    """Terminal cells: East Asian wide and fullwidth count 2, combining marks and U+FE0F count 0."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch) or ch == "\ufe0f" or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def columns_of(row: str, glyph: str) -> set[int]:
    """The cell columns (0-based) at which `glyph` is drawn in `row`."""
    found, col = set(), 0
    for ch in row:
        if ch == glyph:
            found.add(col)
        col += cells(ch)
    return found


class Tmux:
    """One private tmux server (its own socket), one session running one command."""

    def __init__(self, command: list[str], env: dict[str, str], cwd: Path) -> None:
        self.socket = f"dbreview-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.session = "dbreview"
        # The exit status goes to a file: tmux 3.3 now and then leaves a pane's exited process
        # unreaped, and then never learns its status; a shell waiting for it always does.
        self.status_file = cwd / "exit-status"
        assignments = [f"{k}={v}" for k, v in env.items()]
        self.tmux(
            "new-session", "-d", "-s", self.session, "-x", str(COLS), "-y", str(ROWS), "-c", str(cwd),
            "env", "-u", "COLORTERM", "-u", "TMUX", "-u", "DBREVIEW_THEME", *assignments,
            "sh", "-c", 'status_file=$1; shift; "$@"; echo $? > "$status_file"', "sh", str(self.status_file), *command,
            ";", "set-option", "-t", self.session, "status", "off",
            ";", "set-option", "-t", self.session, "remain-on-exit", "on",
        )
        self.socket_path = Path(self.pane("#{socket_path}"))

    def tmux(self, *args: str, check: bool = True) -> str:
        clean = {k: v for k, v in os.environ.items() if k != "TMUX"}
        out = subprocess.run(
            ["tmux", "-f", "/dev/null", "-L", self.socket, *args], capture_output=True, text=True, env=clean, timeout=20
        )
        if check and out.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)}: {out.stderr.strip()}")
        return out.stdout

    def screen(self, colour: bool = False) -> list[str]:
        """The rows of the pane as text (with `colour`, with their escape codes too)."""
        return self.tmux("capture-pane", "-p", *(["-e"] if colour else []), "-t", self.session).split("\n")[:ROWS]

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.session, *keys)

    def pane(self, fmt: str) -> str:
        return self.tmux("display-message", "-p", "-t", self.session, fmt).strip()

    def wait_for(self, ready: Callable[[list[str]], bool], what: str, within: float = 10.0, colour: bool = False) -> list[str]:
        """The screen once `ready` holds on it and it has stopped changing."""
        end = time.monotonic() + within
        last: list[str] = []
        while time.monotonic() < end:
            screen = self.screen(colour)
            if ready(screen) and screen == last:
                return screen
            if self.exit_status() is not None:
                raise AssertionError(f"the app exited before {what}:\n" + "\n".join(screen))
            last = screen
            time.sleep(0.25)
        raise AssertionError(f"no {what} within {within:.0f} s; the screen:\n" + "\n".join(last))

    def exit_status(self) -> str | None:
        try:
            return self.status_file.read_text().strip() or None
        except FileNotFoundError:
            return None

    def kill(self) -> None:
        self.tmux("kill-server", check=False)
        self.socket_path.unlink(missing_ok=True)  # tmux leaves it behind


def check_layout(screen: list[str]) -> None:
    """Every row fits in 80 cells, the pane border is in one column on every body row, and no
    emoji variation selector is drawn anywhere."""
    text = "\n".join(screen)
    assert "\ufe0f" not in text, "U+FE0F makes a glyph two cells wide in some terminals and tmux"
    for n, row in enumerate(screen):
        assert cells(row) <= COLS, f"row {n} is {cells(row)} cells wide: {row!r}"
    body = screen[:BODY_ROWS]
    common = set.intersection(*(columns_of(row, BORDER) for row in body))
    assert common, "the tree's right border is not in one column on every row:\n" + "\n".join(
        f"{sorted(columns_of(row, BORDER))!s:>12} {row}" for row in body
    )
    border = min(common)
    assert 30 <= border <= 45, f"the border is at column {border}: the tree is 45% wide, at least 30"


def has_status(screen: list[str]) -> bool:
    return screen[BODY_ROWS].lstrip().startswith("Step")


def triaged(n: int) -> Callable[[list[str]], bool]:
    """The status line counts n triaged findings."""
    return lambda screen: re.search(rf" {n}/\d+ triaged", screen[BODY_ROWS]) is not None


def scanned(screen: list[str]) -> bool:
    """The scan has finished: the tree lists the context documents it found."""
    return has_status(screen) and any("Context documents" in row for row in screen)


@pytest.fixture
def demo_in_tmux(tmp_path, request):
    require("tmux")
    term = request.param
    app = Tmux(
        [str(Path(sys.executable).with_name("dbreview")), "demo"],
        {"TERM": term, "DBREVIEW_DATA_DIR": str(tmp_path / "data")},
        tmp_path,
    )
    try:
        assert (app.pane("#{pane_width}"), app.pane("#{pane_height}")) == (str(COLS), str(ROWS))
        yield app
    finally:
        app.kill()


def test_the_layout_check_sees_a_glyph_out_of_line():
    """check_layout fails on what a wide glyph does to a screen, so its passing means something."""
    row = "├ ▶ ? 1.1 Async PostgreSQL engine  │ detail"
    good = [row] * BODY_ROWS + ["Step 1/4", "footer"]
    check_layout(good)
    for bad in (
        [row.replace("?", "⚠\ufe0f")] + good[1:],  # an emoji: two cells, the border one to the right
        [row.replace("?", "✅")] + good[1:],  # a natively wide glyph in place of a one-cell one
        good[:-1] + ["x" * (COLS + 1)],  # a row wider than the terminal
    ):
        with pytest.raises(AssertionError):
            check_layout(bad)


@pytest.mark.parametrize("demo_in_tmux", ["xterm", "screen-256color", "tmux-256color"], indirect=True)
def test_demo_at_80x24_in_tmux(demo_in_tmux):
    """What a person sees: the checklist tree on the left with its border in one straight column
    down the screen, the status line under it, every glyph one cell, and `q` leaves the terminal."""
    app = demo_in_tmux
    app.wait_for(has_status, "status line with the review's step", START_WITHIN)
    screen = app.wait_for(scanned, "finished scan", START_WITHIN)
    check_layout(screen)
    text = "\n".join(screen)
    for glyph in ("✗", "!", "?", "▶", "▼"):  # severities in the counts, unreviewed items, tree nodes
        assert glyph in text, f"{glyph} is not on the screen"

    app.keys("n")  # the first untriaged finding: its detail, and its code with the evidence marked ▸
    screen = app.wait_for(lambda s: s != screen and "▸" in "\n".join(s), "finding's code")
    check_layout(screen)
    app.keys("c")  # confirmed: ✓ beside its severity
    screen = app.wait_for(lambda s: triaged(1)(s) and "✓" in "\n".join(s[:BODY_ROWS]), "confirmed finding")
    check_layout(screen)

    # One key at a time, each once the screen has settled: a key typed ahead of `n` lands on the
    # finding the cursor leaves (a bug reported with this test).
    app.keys("n")
    screen = app.wait_for(lambda s: s != screen, "next untriaged finding")
    app.keys("x")  # dismiss it: the dialog over the panes
    app.wait_for(lambda s: any("Dismiss:" in row for row in s), "dismiss dialog")
    before = app.screen(colour=True)
    app.keys("Enter")  # the first reason, false positive: the focus moves to the note (colours only)
    app.wait_for(lambda s: s != before, "note field in focus", colour=True)
    app.keys("Enter")  # no note
    screen = app.wait_for(lambda s: triaged(2)(s) and "⊘" in "\n".join(s[:BODY_ROWS]), "dismissed finding")
    check_layout(screen)

    app.keys("q")
    end = time.monotonic() + 10
    while (status := app.exit_status()) is None:
        assert time.monotonic() < end, "the app did not exit on q:\n" + "\n".join(app.screen())
        time.sleep(0.1)
    assert status == "0", f"exit status {status}:\n" + "\n".join(app.screen())
    after = "\n".join(app.screen())
    assert BORDER not in after and "Step" not in after, "the app left its screen behind:\n" + after


def _detail(screen: list[str]) -> str:
    """The right pane's text, row by row (what is right of the tree's border)."""
    return "\n".join(row.split(BORDER, 1)[1] if BORDER in row else "" for row in screen[:BODY_ROWS])


def _until_detail(app: Tmux, key: str, says: str, tries: int = 14) -> list[str]:
    """Press `key` until the right pane says `says` (the next node of that kind in the tree)."""
    for _ in range(tries):
        app.keys(key)
        try:
            return app.wait_for(lambda s: says in _detail(s), f"right pane saying {says!r}", within=3)
        except AssertionError:
            continue
    raise AssertionError(f"{says!r} never came on the right:\n" + "\n".join(app.screen()))


@pytest.mark.parametrize("demo_in_tmux", ["xterm"], indirect=True)
def test_a_walk_through_the_demo_at_80x24(demo_in_tmux):
    """Issue 12's walk: every kind of node selected shows its own content on the right; c goes on
    to the next finding; u undoes it; - on a section marks its items n/a; a filter narrows the tree
    to the critical untriaged findings."""
    app = demo_in_tmux
    screen = app.wait_for(scanned, "finished scan", START_WITHIN)
    app.keys("g")  # (nothing in the tree) then to the top, where the documents are
    for _ in range(30):
        app.keys("k")
    screen = app.wait_for(lambda s: "Context documents the checklist names" in _detail(s), "the documents' node")
    check_layout(screen)
    app.keys("Enter")
    _until_detail(app, "j", "Overview.md", tries=1)  # a document, rendered beside, at the part the checklist cites
    app.wait_for(lambda s: "█" in _detail(s), "the document rendered, its cited lines marked", within=START_WITHIN)
    app.keys("k", "Enter")  # close the documents again
    kinds = [
        ("j", "items with a verdict"),  # a section: its summary, its items below
        ("j", "Verdict:"),  # an item with a finding
        ("Enter", "Verdict:"),
        ("j", "Decision:"),  # its finding: the decision and the evidence line
        ("j", "The code it is about"),  # an item without a finding: the code it names
        ("j", "Questions to answer, section 1"),
        ("Enter", "Questions to answer, section 1"),
        ("j", "Drafted from the code"),  # a question: its draft; the code it cites below
        ("j", "SQLAlchemy Models"),  # the next section
        ("j", "marks every item without a verdict n/a"),  # a group (Mixins)
    ]
    for key, says in kinds:
        screen = _until_detail(app, key, says)
        check_layout(screen)

    app.keys("n")
    screen = app.wait_for(lambda s: "Decision: untriaged" in _detail(s), "an untriaged finding")
    first = _detail(screen).split("\n", 1)[0]
    app.keys("c")  # confirmed, and on to the next untriaged finding
    screen = app.wait_for(lambda s: triaged(1)(s) and _detail(s).split("\n", 1)[0] != first, "the next finding")
    app.keys("u")  # undone
    # the toast comes a frame after the status line, which no longer waits for a layout of the screen
    app.wait_for(lambda s: triaged(0)(s) and "Undid your confirmation" in "\n".join(s), "the confirmation undone, and said")

    for _ in range(40):
        app.keys("k")
    screen = _until_detail(app, "j", "1 Database Configuration")
    app.keys("-")
    app.wait_for(lambda s: any("Not applicable: 6 items" in row for row in s), "the n/a dialog for section 1")
    app.keys("C-s")
    screen = app.wait_for(lambda s: "6/97 items" in s[BODY_ROWS], "section 1's items n/a")
    assert any("1 6/6" in row for row in screen[:BODY_ROWS]), "the section counts its six verdicts"

    app.keys("v")
    app.wait_for(lambda s: any("Show findings that are" in row for row in s), "the filter dialog")
    for key in ("Space", "Tab", "Space"):  # untriaged; then critical
        app.keys(key)
        time.sleep(0.3)
    app.keys("C-s")
    screen = app.wait_for(lambda s: "critical untriaged:" in s[BODY_ROWS], "the filter in the status line")
    tree = "\n".join(row.split(BORDER, 1)[0] for row in screen[:BODY_ROWS])
    assert "Questions to answer" not in tree and "Context documents" not in tree
    app.keys("n")
    screen = app.wait_for(lambda s: "CRITICAL" in _detail(s), "a critical finding")
    check_layout(screen)
    app.keys("q")

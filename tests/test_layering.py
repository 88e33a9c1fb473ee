"""Imports go one way: tui may import analyzers, never the reverse, and the analyzers, the saved
review and the reports never need Textual (tui/__init__.py stays empty for that)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_analyzers_import_neither_textual_nor_tui():
    code = (
        "import sys, analyzers.engine, analyzers.rules, analyzers.answers, analyzers.checklist\n"
        "analyzers.rules.all_rules()\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'tui'))\n"
        "print(', '.join(bad), file=sys.stderr)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"analyzers pulled in: {result.stderr.strip()}"


def test_tui_package_init_is_empty():
    assert (ROOT / "tui" / "__init__.py").read_text().strip() == ""


def test_no_analyzer_module_mentions_tui_or_textual():
    for path in (ROOT / "analyzers").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "import textual" not in text and "from textual" not in text, path
        assert "from tui" not in text and "import tui" not in text, path

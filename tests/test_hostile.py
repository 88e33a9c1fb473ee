"""The hostile-input suite: generated malformed repositories (tests/hostile_corpus.py) through every
scan format and the app, with canaries planted outside them, escape payloads in code, file and folder
names, paths, docs, notes and reviewer names; then writers killed at random moments. Nothing may
crash or hang, nothing outside a repository may be read, nothing raw may reach an output or the
screen, no acknowledged action may be lost. (bench/hostile.py runs the same code much longer.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_hostile_corpus(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.hostile_corpus", str(tmp_path), "--repos", "16", "--files", "10", "--apps", "2",
         "--kill-cycles", "4", "--timeout", "120"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    corpus, kill = result["corpus"], result["kill"]
    assert corpus["files"] > 120 and corpus["tried"] >= 8 * corpus["repos"] and corpus["screens"] > 0
    figures = {key: corpus[key] for key in ("crashed", "hung", "read_outside", "raw_escapes")}
    assert figures == {"crashed": 0, "hung": 0, "read_outside": 0, "raw_escapes": 0}, corpus["problems"]
    assert kill["acknowledged"] > 0 and kill["lost"] == 0 and kill["unusable_after"] == 0, kill

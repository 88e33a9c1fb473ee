"""Python newer than the interpreter: every file is read whatever Python runs dbreview (3.11 up), with
the facts on the lines the file has. tests/fixtures/newer_python is written in 3.12 and 3.14 syntax."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from analyzers.engine import scan
from analyzers.facts.newer_syntax import parse_python

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "newer_python"

_SOURCE = '''type Pair[T] = tuple[T, T]
try:
    pass
except ValueError, KeyError as exc:
    pass
x = f"{", ".join(names)} é {
    total  # cents
}"
class Box[T](Base):
    def first[K](self, key: K) -> T: ...
'''


def test_each_newer_construct_becomes_what_311_has_at_its_own_place():
    tree = parse_python(_SOURCE)
    alias, attempt, assign, box = tree.body
    assert isinstance(alias, ast.Assign) and alias.targets[0].id == "Pair"  # a type alias is an assignment
    assert (alias.lineno, alias.col_offset, alias.value.col_offset, alias.end_col_offset) == (1, 5, 15, 26)
    caught = attempt.handlers[0]
    assert [e.id for e in caught.type.elts] == ["ValueError", "KeyError"] and caught.name == "exc"
    assert [e.col_offset for e in caught.type.elts] == [7, 19] and caught.type.end_col_offset == 27
    fields = [v.value for v in assign.value.values if isinstance(v, ast.FormattedValue)]
    assert ast.unparse(fields[0]) == "', '.join(names)" and (fields[0].lineno, fields[0].col_offset) == (6, 7)
    assert ast.unparse(fields[1]) == "total" and (fields[1].lineno, fields[1].col_offset) == (7, 4)
    assert (assign.value.end_lineno, assign.value.end_col_offset) == (8, 2)
    assert box.name == "Box" and box.bases[0].col_offset == 13 and box.body[0].name == "first"
    assert getattr(box, "type_params", []) == [] and getattr(box.body[0], "type_params", []) == []


def test_columns_are_bytes_after_a_rewrite_on_a_line_with_accents():
    tree = parse_python('s = f"é{"x"}"; t = 1\ntry:\n    pass\nexcept A, B:\n    pass\n')
    field = tree.body[0].value.values[1].value
    assert field.col_offset == len('s = f"é{'.encode())  # ast columns count UTF-8 bytes
    assert tree.body[1].col_offset == len('s = f"é{"x"}"; '.encode())


def test_a_file_that_is_no_python_at_all_keeps_the_interpreters_error():
    with pytest.raises(SyntaxError) as caught:
        parse_python("def broken(:\n    pass\n", "broken.py")
    assert caught.value.lineno == 1 and caught.value.filename == "broken.py"


def test_the_fixture_is_read_whole_on_its_own_lines():
    result = scan(FIXTURE)
    assert result.result.errors == []
    tables = result.facts.tables
    assert {n: sorted(t.columns) for n, t in tables.items()} == {
        "accounts": ["email", "id"], "invoices": ["account_id", "id", "issued_at", "number"]}
    assert tables["invoices"].column("issued_at").span.start == 30
    (engine,) = result.facts.calls_named("create_engine")
    assert (engine.span.path, engine.span.start) == ("billing/db.py", 6)
    statements = [(st.kind, st.table, st.span.start) for st in result.facts.migration_sql]
    assert statements == [("enable_rls", "invoices", 25), ("force_rls", "invoices", 26)]
    (revision,) = result.facts.revisions
    assert [op.name for op in revision.downgrade] == ["drop_table", "drop_table"]
    naive = [f for f in result.result.findings if f.rule_id == "TZ001"]
    assert [(f.location.path, f.location.start_line) for f in naive] == [("billing/models.py", 30)]


_CHILD = """
import json, sys
from analyzers.engine import scan
result = scan(sys.argv[1]).result
print(json.dumps({
    "version": list(sys.version_info[:2]),
    "errors": [str(e) for e in result.errors],
    "findings": sorted([f.rule_id, str(f.location), f.anchor, f.severity.value, f.message] for f in result.findings),
}))
"""


def _other_interpreters() -> list[str]:
    """Interpreters of another Python version that can run dbreview: $DBREVIEW_PYTHONS (os.pathsep
    between them) and the checkout's own virtual environments (.venv*/bin/python)."""
    found = [p for p in os.environ.get("DBREVIEW_PYTHONS", "").split(os.pathsep) if p]
    found += sorted(str(p) for p in ROOT.glob(".venv*/bin/python"))
    usable = []
    for python in dict.fromkeys(found):
        probe = subprocess.run(
            [python, "-c", "import sys, pglast, libcst, sqlalchemy; print(sys.version_info[:2])"], capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip() != str(sys.version_info[:2]):
            usable.append(python)
    return usable


def _scan_with(python: str, target: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([python, "-c", _CHILD, str(target)], capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    return json.loads(proc.stdout)


@pytest.mark.parametrize("target", [FIXTURE, ROOT / "tests" / "fixtures" / "migration_graph"], ids=lambda p: p.name)
def test_the_same_findings_on_every_python_at_hand(target):
    others = _other_interpreters()
    if not others:
        pytest.skip("no second Python with dbreview's dependencies: make one (python3.13 -m venv .venv313 && "
                    ".venv313/bin/pip install -e .) or name it in DBREVIEW_PYTHONS")
    here = _scan_with(sys.executable, target)
    for python in others:
        there = _scan_with(python, target)
        assert (there["errors"], there["findings"]) == (here["errors"], here["findings"]), there["version"]

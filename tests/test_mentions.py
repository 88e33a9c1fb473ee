"""rules/mentions.py: the lines of application code that name a word, found through a per-scan index of each
file's words; the same lines, in the same order, as a search of every line of every file."""

from __future__ import annotations

from analyzers.engine import scan
from analyzers.rules.mentions import mentions
from tests.test_precision import HEADER

_MODEL = HEADER + """
class Lead(Base):
    __tablename__ = "lead"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String)
"""

_VIEWS = """def close(lead):
    lead.status = "closed"  # status, twice on a line: once
    lead_status = lead.statuses
status = 1
\xe9status = 2
x = {"my-col": 1, "my-colour": 2}
\r\nstatus\x0cstatus\x1cstatus
"""


def _facts(tmp_path):
    for rel, text in {"app/models.py": _MODEL, "app/views.py": _VIEWS, "tests/test_views.py": "status = 1\n",
                      "app/empty.py": ""}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8", newline="")
    return scan(tmp_path).facts


def test_a_word_is_found_on_the_lines_that_name_it_alone_once_a_line_never_in_tests(tmp_path):
    found = mentions(_facts(tmp_path), {"status", "lead"})
    assert [(s.path, s.start, line) for s, line in found["status"]] == [
        ("app/models.py", 14, "    status: Mapped[str] = mapped_column(String)"),
        ("app/views.py", 2, '    lead.status = "closed"  # status, twice on a line: once'),
        ("app/views.py", 4, "status = 1"),
        ("app/views.py", 8, "status"),  # \r\n, form feed and \x1c break lines, as str.splitlines does
        ("app/views.py", 9, "status"),
        ("app/views.py", 10, "status"),
    ]
    # the table's name, then the view's `lead`s: `lead_status` and `lead.statuses` name no `status`
    assert [(s.path, s.start) for s, _ in found["lead"]] == [("app/models.py", 12)] + [("app/views.py", n) for n in (1, 2, 3)]


def test_a_name_that_is_not_a_word_is_searched_as_written_and_later_calls_reuse_what_was_found(tmp_path):
    facts = _facts(tmp_path)
    assert [s.start for s, _ in mentions(facts, {"my-col", "status"})["my-col"]] == [6]  # not "my-colour"
    assert mentions(facts, {"status"})["status"] is mentions(facts, {"status", "Lead"})["status"]
    assert [s.start for s, _ in mentions(facts, {"Lead"})["Lead"]] == [11]

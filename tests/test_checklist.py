"""The database checklist pack holds the whole seed checklist, and a broken pack is reported at its line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from analyzers.checklist import ChecklistError, load_checklist

# Counted by hand in the seed prompt (shared/seed/database-review-prompt.md): section -> (title,
# items, questions).
SEED_SECTIONS = {
    "1": ("Database Configuration", 6, 3),
    "2": ("SQLAlchemy Models", 43, 0),
    "3": ("Database Migrations", 9, 3),
    "4": ("HIPAA Compliance", 6, 3),
    "5": ("Data Integrity", 7, 3),
    "6": ("Multi-Tenancy & RLS", 5, 3),
    "7": ("Relationships & Associations", 6, 3),
    "8": ("Performance Considerations", 5, 3),
    "9": ("Timezone Handling (FR-07)", 5, 3),
    "10": ("Subscription & Billing (FR-06)", 5, 3),
}
SEED_GROUPS = {
    "mixins": 3, "users": 6, "orgs": 7, "profiles": 4, "care": 4, "clinical": 4, "comms": 2, "billing": 4,
    "audit": 5, "support": 2, "sessions": 2,
}
SEED_COMPLIANCE = {
    "HIPAA Compliance": ["Audit logging", "Data segregation (RLS)", "Soft deletes", "Consent tracking", "Session security"],
    "Data Integrity": ["Primary keys (ULID)", "Referential integrity", "Soft deletes", "Constraints"],
    "Multi-Tenancy": ["Tenant isolation", "RLS enforcement", "Cross-org access"],
}


@pytest.fixture(scope="module")
def pack():
    return load_checklist("database")


def test_the_pack_has_the_seed_sections_in_order(pack):
    assert (pack.id, pack.version) == ("database", 1)
    assert pack.objective.startswith("You are conducting a comprehensive review")
    assert [(s.id, s.number, s.title) for s in pack.sections] == [
        (sid, int(sid), title) for sid, (title, _, _) in SEED_SECTIONS.items()
    ]
    assert [s.scope for s in pack.sections[:3]] == [
        "apps/backend/src/database.py",
        "apps/backend/src/schemas/*.py",
        "apps/backend/migrations/versions/*.py",
    ]


@pytest.mark.parametrize("sid", SEED_SECTIONS)
def test_each_section_has_every_item_and_question_of_the_seed(pack, sid):
    _, items, questions = SEED_SECTIONS[sid]
    section = pack.section(sid)
    assert len(section.items) == items
    assert len(section.questions) == questions
    assert [q.id for q in section.questions] == [f"q{sid}.{n}" for n in range(1, questions + 1)]
    if sid != "2":
        assert [i.id for i in section.items] == [f"{sid}.{n}" for n in range(1, items + 1)]
        assert all(i.group is None for i in section.items)


def test_section_2_items_come_in_the_seed_groups(pack):
    models = pack.section("2")
    assert [g.key for g in models.groups] == list(SEED_GROUPS)
    assert (models.groups[0].title, models.groups[0].files) == ("Mixins", "mixins.py")
    for key, count in SEED_GROUPS.items():
        members = [i.id for i in models.items if i.group == key]
        assert members == [f"2.{key}.{n}" for n in range(1, count + 1)]
    assert pack.item("2.clinical.3").text == "**ContactMethods (`contacts.py`):** HIPAA-critical `is_safe_for_voicemail` flag"


def test_texts_keep_the_seed_markdown_without_the_check_mark(pack):
    assert pack.item("1.4").text == "Connection pool cleanup via `checkin` listener with `DISCARD ALL`"
    assert pack.item("9.2").text == 'Organization has `timezone` field (IANA format, e.g., "America/New_York")'
    assert pack.question("q6.1").text == "Can a user from Organization A access Organization B's data?"
    assert not any("✅" in i.text for i in pack.items)


def test_every_id_is_unique_and_lookups_fail_loudly(pack):
    ids = [d.id for d in pack.context_documents] + [s.id for s in pack.steps] + [s.id for s in pack.sections]
    ids += [i.id for i in pack.items] + [q.id for q in pack.questions] + [r.id for r in pack.compliance]
    assert len(ids) == len(set(ids)) == 12 + 4 + 10 + 97 + 27 + 12
    with pytest.raises(KeyError):
        pack.item("2.users.7")
    with pytest.raises(KeyError):
        pack.question("q2.1")
    with pytest.raises(KeyError):
        pack.section("11")


def test_compliance_rows_follow_the_output_format_and_name_real_items(pack):
    assert pack.compliance_areas == tuple(SEED_COMPLIANCE)
    for area, labels in SEED_COMPLIANCE.items():
        assert [r.label for r in pack.compliance if r.area == area] == labels
    for row in pack.compliance:
        assert row.items and all(pack.item(i) for i in row.items)
    rows = {r.id: r for r in pack.compliance}
    assert {"4.2", "2.audit.1", "2.audit.2", "2.audit.3"} <= set(rows["hipaa.audit"].items)
    assert "5.1" in rows["integrity.pk"].items and "6.1" in rows["tenancy.isolation"].items


def test_documents_steps_criteria_and_notes(pack):
    docs = {d.id: d for d in pack.context_documents}
    assert len(docs) == 12
    assert docs["doc.3"].lines == (92, 159) and docs["doc.1"].lines is None
    assert docs["doc.2.global"].path == "/docs/implementation-plan/AA - Global Instructions.md"
    assert docs["doc.2.epic15-22"].title == "Epic 15 & 22: Billing"
    assert [s.title for s in pack.steps] == [
        "Read Documentation", "Code Inspection", "Checklist Validation", "Answer Key Questions",
    ]
    assert len(pack.success_criteria) == 6 and len(pack.notes) == 5
    assert pack.notes[1] == "**Be Specific:** Always cite file paths and line numbers for findings"


def test_a_path_loads_like_a_name_and_is_cached(pack):
    path = Path(__file__).parents[1] / "analyzers" / "checklists" / "database.toml"
    assert load_checklist(path) == pack
    assert load_checklist("database") is pack


# ---- malformed packs ---------------------------------------------------------------------------

MINI = """\
id = "mini"
version = 1
title = "Mini"

[[sections]]
id = "1"
number = 1
title = "One"
items = [
  { id = "1.1", text = "First" },
  { id = "1.2", text = "Second" },
]
questions = [{ id = "q1.1", text = "Why?" }]

[[sections]]
id = "2"
number = 2
title = "Two"

[[sections.groups]]
key = "models"
title = "Models"
files = "models.py"
items = [
  { id = "2.models.1", text = "A model" },
]

[[compliance]]
id = "area.row"
area = "Area"
label = "Row"
items = ["1.1", "2.models.1"]
"""


def line_of(text: str, fragment: str, nth: int = 0) -> int:
    return [n for n, line in enumerate(text.splitlines(), 1) if fragment in line][nth]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_mini_pack_loads(tmp_path):
    mini = load_checklist(write(tmp_path, MINI))
    assert [i.id for i in mini.items] == ["1.1", "1.2", "2.models.1"]
    assert mini.item("2.models.1").group == "models"


@pytest.mark.parametrize(
    ("old", "new", "problem", "at", "nth"),
    [
        ('{ id = "1.2", text = "Second" }', '{ id = "1.2" }', "item '1.2' has no text", '"1.2"', 0),
        ('{ id = "2.models.1", text = "A model" }', '{ id = "2.models.1", text = "" }', "item '2.models.1' has no text",
         '"2.models.1"', 0),
        ('id = "1.2"', 'id = "1.1"', "duplicate id '1.1' (first at line 10)", '"1.1"', 1),
        ('id = "2"\n', 'id = "1"\n', "duplicate id '1'", 'id = "1"', 1),
        ('title = "One"', 'title = "One', "invalid TOML", 'title = "One', 0),
        ('items = ["1.1", "2.models.1"]', 'items = ["1.1", "9.9"]', "compliance row 'area.row' names an unknown item '9.9'",
         '"9.9"', 0),
        ("number = 2", 'number = "two"', "number of section '2' must be an integer, not a string", "number =", 1),
        ('id = "2"\n', "", "section #2 has no id", "[[sections]]", 1),
        ('title = "Models"', 'titel = "Models"', "group 'models' has an unknown key 'titel'", "titel", 0),
        ('{ id = "1.2"', '{ id = "2.2"', "item '2.2' is in section '1': its id must begin with '1.'", '"2.2"', 0),
        ('files = "models.py"', "files = 3", "files of group 'models' must be a string, not an integer", "files", 0),
    ],
)
def test_a_malformed_pack_names_the_file_and_the_line(tmp_path, old, new, problem, at, nth):
    assert old in MINI
    text = MINI.replace(old, new, 1)
    with pytest.raises(ChecklistError) as caught:
        load_checklist(write(tmp_path, text))
    error = caught.value
    assert error.line == line_of(text, at, nth)
    assert str(error).startswith(f"{tmp_path / 'bad.toml'}:{error.line}: ")
    assert problem in str(error)


def test_a_missing_pack_is_an_error():
    with pytest.raises(ChecklistError, match="no-such-pack.toml"):
        load_checklist("no-such-pack")


def test_an_edited_pack_is_read_again(tmp_path):
    path = write(tmp_path, MINI)
    assert load_checklist(path).title == "Mini"
    path.write_text(MINI.replace('title = "Mini"', 'title = "Edited"'), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert load_checklist(path).title == "Edited"

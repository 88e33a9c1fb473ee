"""Every rule's own examples: each VALID example yields none of its findings, each INVALID one at least one."""

import pytest

from analyzers.examples import example_files, facts_from_sources
from analyzers.rules import all_rules
from analyzers.rules.base import describe

CASES = [
    pytest.param(rule, kind, i, example, id=f"{rule.ID}-{kind}-{i}")
    for rule in all_rules()
    for kind, examples in (("valid", rule.VALID), ("invalid", rule.INVALID))
    for i, example in enumerate(examples)
]


@pytest.mark.parametrize(("rule", "kind", "index", "example"), CASES)
def test_rule_examples(rule, kind, index, example):
    facts = facts_from_sources(example_files(example))
    found = [f for f in rule(facts).check() if f.rule_id == rule.ID]
    if kind == "valid":
        assert found == [], [f.message for f in found]
    else:
        assert found, f"{rule.ID} found nothing in its invalid example {index}"
        for f in found:
            assert f.location.start_line >= 1 and f.location.end_line >= f.location.start_line
            assert f.evidence, "a finding carries the lines it points at"


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.ID)
def test_rule_is_declared(rule):
    from analyzers.checklist import load_checklist

    info = describe(rule)
    assert rule.VALID and rule.INVALID, "a rule needs examples of both kinds"
    assert info.title and info.what and info.why and info.instead
    load_checklist("database").item(rule.ITEM)  # names a real checklist item

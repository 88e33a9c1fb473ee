"""The rule registry: every Rule subclass of the section modules, run over a target's facts."""

from __future__ import annotations

import importlib
from dataclasses import replace
from functools import cache
from typing import TYPE_CHECKING, Callable

from analyzers.findings import Finding, ScanError
from analyzers.rules.base import Rule, RuleInfo, describe

if TYPE_CHECKING:
    from analyzers.facts.model import Facts

SECTION_MODULES = (
    "s01_configuration", "s01_engine_per_request", "s01_sql_strings", "s01_sql_logic", "s01_query_input", "s01_side_effects", "s01_failed_commits", "s01_json_mutation", "s01_held_locks", "s01_discarded_queries", "s01_python_conditions", "s01_connection_urls", "s01_null_ordering", "s02_models", "s02_secrets", "s02_credentials", "s02_defaults",
    "s03_migrations", "s03_migration_safety", "s03_migration_chain", "s03_migration_sqlalchemy", "s03_migration_calls", "s03_sequences", "s03_start_up", "s04_hipaa",
    "s05_integrity", "s05_model_keywords", "s05_lost_updates", "s05_guarded_transitions", "s05_consumed", "s05_uniqueness", "s05_index_arguments", "s05_case_folding", "s05_sqlite_keys", "s05_key_types", "s06_tenancy", "s06_policies", "s06_app_scoping", "s06_key_lookups",
    "s07_relationships", "s07_blocked_deletes", "s07_nulled_keys", "s07_cascades", "s08_performance", "s09_time", "s10_billing",
)


@cache
def all_rules() -> tuple[type[Rule], ...]:
    found: list[type[Rule]] = []
    for name in SECTION_MODULES:
        module = importlib.import_module(f"analyzers.rules.{name}")
        found.extend(
            obj for obj in vars(module).values()
            if isinstance(obj, type) and issubclass(obj, Rule) and obj is not Rule and obj.__module__ == module.__name__
        )
    ids = [r.ID for r in found]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise RuntimeError(f"rule ids used twice: {sorted(duplicates)}")
    return tuple(sorted(found, key=lambda r: (SECTION_MODULES.index(r.__module__.rsplit(".", 1)[1]), r.ID)))


def proof_rules() -> tuple[type[Rule], ...]:
    """The rules only `dbreview verify` raises, from a real database (analyzers/verify/proofs.py)."""
    from analyzers.verify.proofs import proof_rules as rules

    return rules()


def rule_infos() -> tuple[tuple[str, RuleInfo], ...]:
    """(name, documentation) of every rule: the rule classes, the check of the suppression comments
    themselves (analyzers/suppressions.py), which runs after them, and the rules of `dbreview verify`."""
    from analyzers.suppressions import UNUSED

    return (
        *((rule.__name__, describe(rule)) for rule in all_rules()),
        ("UnusedSuppression", UNUSED),
        *((rule.__name__, describe(rule)) for rule in proof_rules()),
    )


@cache
def rule_info(rule_id: str) -> RuleInfo | None:
    return next((info for _, info in rule_infos() if info.id == rule_id), None)


def run_rules(
    facts: Facts,
    *,
    on_findings: Callable[[list[Finding]], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> tuple[list[Finding], list[ScanError]]:
    """Every rule the target's settings enable over the facts, at the severity they set. A rule that
    fails is a scan error, never a failed scan."""
    findings: list[Finding] = []
    errors: list[ScanError] = []
    settings = facts.settings
    for rule in all_rules():
        if is_cancelled and is_cancelled():
            break
        if not settings.rule_enabled(rule.ID):
            continue
        try:
            found = list(rule(facts).check())
        except Exception as exc:  # noqa: BLE001 - one broken rule must not lose the others
            errors.append(ScanError(f"<rule {rule.ID}>", f"rule failed: {type(exc).__name__}: {exc}"))
            continue
        if not rule.ON_STALE_MODELS:
            found = [f for f in found if not _on_stale_model(f, facts)]
        if rule.ID in settings.severity:
            found = [replace(f, severity=settings.severity[rule.ID]) for f in found]
        findings.extend(found)
        if on_findings and found:
            on_findings(found)
    return findings, errors


def _on_stale_model(finding: Finding, facts: Facts) -> bool:
    """The finding is in the class (or Table) of a model whose table the migrations drop at head."""
    from analyzers.rules.drift import stale_models

    at = finding.location
    return any(t.span.path == at.path and t.span.start <= at.start_line <= t.span.end for t in stale_models(facts))

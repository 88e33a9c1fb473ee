"""Drafted answers to the checklist's questions, built from the facts (placeholder)."""

from __future__ import annotations


def draft_answers(facts) -> dict[str, str]:
    return {}

"""Facts from in-memory sources: how rule examples and tests build a small target."""

from __future__ import annotations

import textwrap

from analyzers.facts.link import link
from analyzers.facts.model import Facts
from analyzers.facts.python_module import extract_module
from analyzers.rules.base import Example


def facts_from_sources(files: dict[str, str]) -> Facts:
    facts = Facts(root="<memory>")
    modules = []
    for path, text in files.items():
        text = textwrap.dedent(text)
        facts.sources[path] = text.splitlines()
        modules.append(extract_module(path, text))
    return link(facts, modules)


def example_files(example: Example) -> dict[str, str]:
    return {"models.py": example} if isinstance(example, str) else dict(example)

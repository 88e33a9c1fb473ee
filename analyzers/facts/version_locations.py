"""Which revision files Alembic reads. Its script folder (the one with env.py) holds its revisions in
`versions/`, unless `version_locations` names other folders; a revision file in another folder beside
`versions/` (a `temp/` of parked drafts, an `old/` kept for reference) is never loaded, so it is not part
of any revision graph."""

from __future__ import annotations

import posixpath
import re

from analyzers import confine
from analyzers.facts.model import RevisionFact

_SET = re.compile(r"^\s*version_locations\s*=", re.M)  # an alembic.ini or pyproject.toml line not commented out


def parked(revisions: list[RevisionFact], paths: set[str], root: str) -> set[str]:
    """Paths of the revision files Alembic never loads: in a folder other than `versions/` of a script
    folder that has env.py and revisions in `versions/`, where nothing near it sets version_locations
    (then dbreview cannot tell which folders are read, and takes them all)."""
    out: set[str] = set()
    in_versions = {posixpath.dirname(posixpath.dirname(r.path)) for r in revisions if posixpath.basename(posixpath.dirname(r.path)) == "versions"}
    for rev in revisions:
        folder = posixpath.dirname(rev.path)
        script = posixpath.dirname(folder)
        if posixpath.basename(folder) == "versions" or script not in in_versions:
            continue
        if posixpath.join(script, "env.py") in paths and not _sets_locations(root, script):
            out.add(rev.path)
    return out


def _sets_locations(root: str, script: str) -> bool:
    """Whether env.py, an alembic.ini beside it or above it, or the repository's pyproject.toml names version_locations."""
    parent = posixpath.dirname(script)
    for rel, pattern in (
        (posixpath.join(script, "env.py"), re.compile("version_locations")),
        (posixpath.join(script, "alembic.ini"), _SET),
        (posixpath.join(parent, "alembic.ini") if parent else "alembic.ini", _SET),
        ("alembic.ini", _SET),
        ("pyproject.toml", _SET),
    ):
        try:
            text = confine.read_text(root, rel)
        except (OSError, ValueError):
            continue
        if pattern.search(text):
            return True
    return False

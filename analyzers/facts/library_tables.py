"""Tables a library makes while the mappers are configured, which no model of the target declares: dbreview does
not read the library, so it names them and what makes them, and no rule takes them for tables nothing uses.

SQLAlchemy-Continuum (`make_versioned()`, then `__versioned__` on a model or a base of it) adds `<table>_version`
for each versioned model and for each association table between them, and one `transaction` table."""

from __future__ import annotations

from analyzers.facts.classes import ClassIndex
from analyzers.facts.model import ClassFact, Facts, TableFact

_CONTINUUM = "SQLAlchemy-Continuum"


def library_tables(facts: Facts, classes: ClassIndex, of_class: dict[int, TableFact]) -> dict[str, tuple[str, str]]:
    """Table name -> (the library and where the target turns it on, what the table is for), for the libraries
    dbreview knows of (see the module's docstring)."""
    calls = [span for m in facts.modules for span in m.versioning]
    versioned = [of_class[id(c)] for c in classes.all if id(c) in of_class and _versioned(c, classes)] if calls else []
    if not versioned:
        return {}
    maker = f"{_CONTINUUM} (make_versioned() at {calls[0].path}:{calls[0].start})"
    out = {f"{t.name}_version": (maker, f"{t.class_name}, marked __versioned__") for t in versioned}
    names = {t.name for t in versioned}
    for t in facts.tables.values():
        pointed = {fk.table for c in t.columns.values() for fk in c.foreign_keys}
        if t.class_name is None and pointed and pointed <= names:  # an association table between versioned models
            out[f"{t.name}_version"] = (maker, f"the association table {t.name}")
    out["transaction"] = (maker, "one row per versioned transaction")
    return out


def _versioned(cls: ClassFact, classes: ClassIndex) -> bool:
    return cls.versioned or any(isinstance(a, ClassFact) and a.versioned for a in classes.ancestors(cls))

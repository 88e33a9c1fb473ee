"""Section 5 (data integrity): an application that runs on SQLite, whose schema relies on foreign keys that
SQLite does not enforce unless each connection turns them on."""

from __future__ import annotations

import ast
import re

from analyzers.facts.model import Span
from analyzers.facts.newer_syntax import parse_python
from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.runs_on import runs_on
from analyzers.rules.schema import all_constraints, is_test_path, python_paths

# Turning the keys on, in any form: `PRAGMA foreign_keys=ON` run on connect, `foreign_keys=1` in a URL or a
# driver's options, `pragmas={"foreign_keys": 1}` (peewee-style), oslo.db's `sqlite_fk=True`.
_TURNED_ON = re.compile(r"""pragma\s*\(?\s*["']?foreign_keys|foreign_keys["']?\s*[=:,]\s*["']?(on|1|true)\b|sqlite_fks?\s*=\s*(true|1)\b""", re.I)
# Libraries whose import turns them on for every engine: sqlalchemy-helpers (fedora-infra; read at 2.0) registers
# `@event.listens_for(Engine, "connect")` set_sqlite_pragma, `PRAGMA foreign_keys=ON`, in its manager module,
# which its package imports (analyzers/facts/stubs/sqlalchemy_helpers/manager.pyi).
_TURNS_ON_WHEN_IMPORTED = re.compile(r"^\s*(from|import)\s+sqlalchemy_helpers\b")
_ACTIONS = ("CASCADE", "SET NULL", "SET DEFAULT")
# A URL that is what the application falls back to: a default's (`DEFAULT_CONFIG`, `set_defaults(`,
# default_settings.py), an unset variable's (`os.getenv("DATABASE_URL", "sqlite://...")`, `... or "sqlite://..."`).
_DEFAULT = re.compile(r"default|getenv\(|environ\.get\(|\.get\(|\bor\b", re.I)
# Not where it stands for a developer's or a test's set-up only.
_NOT_DEPLOYED = re.compile(r"dev|test|debug|local", re.I)
_MODELS = '''
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Album(Base):
    __tablename__ = "albums"
    id: Mapped[int] = mapped_column(primary_key=True)


class Track(Base):
    __tablename__ = "tracks"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    album_id: Mapped[int] = mapped_column(ForeignKey("albums.id", ondelete="CASCADE"))
'''
_DB = '''
import os
from sqlalchemy import create_engine, event

engine = create_engine(os.environ.get("DATABASE_URL", "sqlite:///app.db"))
'''
_PRAGMA = '''

@event.listens_for(engine, "connect")
def _foreign_keys_on(dbapi_connection, connection_record):
    dbapi_connection.execute("PRAGMA foreign_keys=ON")
'''


class SqliteForeignKeysOff(Rule):
    """The application runs on SQLite, whose foreign keys are off unless each connection turns them on.

    What it checks:
        An application whose own code (not tests, scripts or migration tooling) names a SQLite database URL
        (`sqlite:///app.db`, the fallback of `DATABASE_URL`; not `sqlite://` in memory), whose models declare
        foreign keys, while nothing in its code turns SQLite's keys on: no `PRAGMA foreign_keys=ON` (in a
        "connect" event listener or a `sqlite3` connection's set-up), no `foreign_keys=1` option, no import of a
        library that turns them on for every engine (sqlalchemy-helpers). A warning
        where SQLite is the only database the application names or its default (the URL is in a defaults
        file or dict, the fallback of an unset setting, an else branch; not a development or test config);
        info where it is one option beside PostgreSQL or MySQL (the keys hold there). Cites the URL and, where
        there is one, a foreign key with an ON DELETE action.
    Why it matters:
        SQLite parses FOREIGN KEY and ON DELETE but enforces neither unless `PRAGMA foreign_keys=ON` is issued
        on every new connection: where the database is to act (a bulk `delete()`, SQL, a relationship with
        passive_deletes) the cascade never runs and SET NULL never clears, so a deleted parent leaves its
        children pointing at nothing; inserts with a parent id that does not exist are accepted. The orphans
        surface later as errors, or under a new parent that reuses the id. The ORM's own cascades still run.
    Example:
        engine = create_engine(os.environ.get("DATABASE_URL", "sqlite:///app.db"))
        ... album_id = mapped_column(ForeignKey("albums.id", ondelete="CASCADE"))
    Instead:
        Turn the keys on for every connection: `@event.listens_for(engine, "connect")` with
        `dbapi_connection.execute("PRAGMA foreign_keys=ON")` (on aiosqlite, the engine's `sync_engine`); then
        look for the orphans already there (`PRAGMA foreign_key_check`).
    """

    ID = "INT016"
    ITEM = "5.4"
    SEVERITY = Severity.WARNING
    VALID = ({"app/models.py": _MODELS, "app/db.py": _DB + _PRAGMA},)
    INVALID = ({"app/models.py": _MODELS, "app/db.py": _DB},)

    def check(self):
        known = runs_on(self.facts)
        side = {t.path for t in self.facts.other_tables.values()}  # a module with tables of its own there: a side database
        urls = [(span, place) for span in known.urls.get("SQLite", ())
                if span.path not in side and (place := self._place(span)) is not None]
        if not urls or self._turned_on():
            return
        url, default = next(((span, place) for span, place in urls if place), urls[0])
        keys = self._foreign_keys()
        if not keys:
            return
        acted = next(((span, table, action) for span, table, action in keys if action), None)
        span, table, action = acted or keys[0]
        where = f"{span.path}:{span.start}"
        key = (f"the foreign key of {table} at {where} says ON DELETE {action}, and SQLite will not run it: where the database "
               "is to do it (a bulk or SQL delete, a relationship with passive_deletes), the rows of a deleted parent stay, "
               "pointing at nothing" if action else
               f"its foreign keys (the first: {table} at {where}) are not checked: a row may name a parent that does not "
               "exist, or lose it to a bulk or SQL delete, and nothing stops it")
        others = [(name, s) for name, s in known.found.items() if name != "SQLite"]
        also = ""
        if others:
            names = ", ".join(f"{name} ({s.path}:{s.start})" for name, s in others)
            also = (f" (SQLite is its default, {default}; it also runs on {names}, which enforce them)" if default else
                    f" (SQLite is one option: it also runs on {names}, which enforce them)")
        yield self.finding(
            f"The application runs on SQLite ({url.path}:{url.start}), and nothing in its code issues "
            f"`PRAGMA foreign_keys=ON` on connect: SQLite then enforces no foreign key, so {key}{also}",
            url, "app:sqlite-foreign-keys-off", severity=Severity.INFO if others and not default else None,
            related=[(span, f"foreign key of {table}" + (f", ON DELETE {action}" if action else ""))],
        )

    def _turned_on(self) -> bool:
        """Does any code of the application (tests apart) turn SQLite's foreign keys on, in any form?"""
        return any(_TURNED_ON.search(line.partition("#")[0]) or _TURNS_ON_WHEN_IMPORTED.match(line)
                   for path in python_paths(self.facts) if not is_test_path(path)
                   for line in self.facts.lines(Span(path, 1, 1_000_000)))

    def _place(self, span: Span) -> str | None:
        """What the URL's line is: None in a docstring (an example of a library's use, not the application's
        database); why it is what the application falls back to (`the fallback of an unset variable`); "" else."""
        lines = self.facts.lines(Span(span.path, 1, 1_000_000))
        try:
            tree = parse_python("\n".join(lines), span.path)
        except (SyntaxError, ValueError):
            return ""
        around = [n for n in ast.walk(tree) if isinstance(n, ast.stmt) and n.lineno <= span.start <= (n.end_lineno or n.lineno)]
        if not around:
            return ""
        stmt = around[-1]  # ast.walk goes outside in: the last is the innermost
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
            return None
        names = [n.name for n in around if isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))]
        if any(_NOT_DEPLOYED.search(name) for name in names):
            return ""
        text = "\n".join(lines[stmt.lineno - 1:stmt.end_lineno or stmt.lineno])
        if "default" in span.path.rsplit("/", 1)[-1].lower():
            return "set in its defaults"
        if _DEFAULT.search(text):
            return "the fallback when the setting is not given"
        if any(isinstance(n, ast.If) and any(c.lineno <= span.start <= (c.end_lineno or c.lineno) for c in n.orelse)
               for n in around):
            return "the else branch of the set-up"
        return ""

    def _foreign_keys(self) -> list[tuple[Span, str, str | None]]:
        """The application's foreign keys, (where, table, its ON DELETE action if it has one that SQLite would run)."""
        out = []
        for table in sorted(self.facts.tables.values(), key=lambda t: (t.span.path, t.span.start)):
            if table.database is not None or is_test_path(table.path):
                continue
            for col in table.columns.values():
                out += [(fk.span, table.name, _action(fk.ondelete)) for fk in col.foreign_keys]
            out += [(c.span, table.name, _action(c.ondelete)) for c in all_constraints(table, self.facts) if c.kind == "foreign_key"]
        models = {t.path for t in self.facts.tables.values()}
        return sorted(out, key=lambda k: (k[0].path not in models, k[0].path, k[0].start))  # the models' first


def _action(ondelete: str | None) -> str | None:
    action = (ondelete or "").upper().strip()
    return action if action in _ACTIONS else None

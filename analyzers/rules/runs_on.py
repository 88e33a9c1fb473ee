"""Which databases the application runs on, from what its files name: the URLs its configuration falls back
to, the SQLAlchemy dialects its models and migrations import, PostgreSQL's name and
drivers, the database images its docker-compose files run, tables created with `mysql_engine=`; where none
of these names one, the URLs its set-up files (.ini, .env, a deployment script) give it. Where nothing
names one, it is unknown. Rules whose claims are PostgreSQL's (lock levels, CONCURRENTLY, its error
messages, indexes a foreign key lacks) hold nothing where the application is known not to run on it."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from analyzers.facts.model import Facts, Span
from analyzers.findings import Finding
from analyzers.rules.schema import COMPOSE_FILES, is_test_path, is_tooling_path, made_for_mysql, python_paths

# A URL in a string (`"mysql://..."`, `'sqlite:///' + path`, `f"postgresql+asyncpg://{host}"`); a scheme alone
# (`default="sqlite:///"`, a settings class's prefix) names nothing unless a path is added to it on the line; an
# in-memory SQLite database is for tests.
_URL = re.compile(r"""["'](postgres(?:ql)?|cockroachdb|mysql|mariadb|sqlite)(?:\+\w+)?://(?!/:memory:|/?["'](?!\s*[+%]))""", re.I)
# The same in a set-up file, quoted or not (`connection = mysql+pymysql://...`, `DATABASE_URL=postgresql://...`).
_CONFIG_URL = re.compile(r"""(?<![\w+.-])(postgres(?:ql)?|cockroachdb|mysql|mariadb|sqlite)(?:\+\w+)?://(?!/:memory:)""", re.I)
# PostgreSQL's name compared with the dialect's (`dialect.name == "postgresql"`, `url.startswith("postgres")`;
# "postgres" alone is no dialect's name: a proxy's or a user's maybe), or the options of its dialect
# (`postgresql_where=`), not any name that starts so (`postgresql_connection = ...`, to another database).
_PG_NAME = re.compile(r"""["'](postgresql)["']|startswith\(\s*["'](postgres)|\b(postgresql)_(?:where|using|include|ops|concurrently|not_valid|with|"""
                      r"""tablespace|partition_by|inherits|nulls_not_distinct|ignore_search_path|on_commit|prefixes|"""
                      r"""readonly|deferrable|regconfig|length)\s*=(?!=)""")
# `from sqlalchemy.dialects import mysql`, `from sqlalchemy.dialects.postgresql import JSONB`.
_DIALECT = re.compile(r"\bsqlalchemy\.dialects(?:\.|\s+import\s+)(postgresql|mysql|sqlite)\b")
# PostgreSQL's drivers required: others' prove less (a connector to a customer's MySQL needs its driver too).
_DRIVER = re.compile(r"^\s*[\"']?(psycopg2?(?:-binary)?|psycopg\[?|asyncpg|pg8000)(?![\w-])", re.I)
_DRIVERS = dict.fromkeys(("psycopg", "psycopg[", "psycopg2", "psycopg2-binary", "asyncpg", "pg8000"), "PostgreSQL")
_IMAGE = re.compile(r"^\s*image:\s*['\"]?(?:[\w.-]+/)?(postgres|postgis|mariadb|mysql)[:'\"\s]", re.I)
_NAMES = {"postgres": "PostgreSQL", "postgresql": "PostgreSQL", "cockroachdb": "PostgreSQL", "postgis": "PostgreSQL",
          "mysql": "MySQL", "mariadb": "MySQL", "sqlite": "SQLite"}
_REQUIREMENTS = ("requirements.txt", "requirements/base.txt", "requirements/prod.txt", "pyproject.toml", "setup.py", "setup.cfg")


@dataclass(frozen=True, slots=True)
class RunsOn:
    """Each database named (PostgreSQL, MySQL for MySQL and MariaDB, SQLite) with the first place that names it."""

    found: dict[str, Span]
    urls: dict[str, list[Span]]  # those a URL of the application names, with every such URL

    @property
    def not_postgres(self) -> str | None:
        """Why the application is known not to run on PostgreSQL (`MySQL (config.py:85)`), or None."""
        if not self.found or "PostgreSQL" in self.found:
            return None
        return self.others

    @property
    def mysql_only(self) -> str | None:
        """Where it is known to run on MySQL or MariaDB and nothing names PostgreSQL (`MySQL (env.py:9)`), or None:
        a deployment, unlike a SQLite file beside an engine read from the environment (a developer's fallback)."""
        return self.not_postgres if "MySQL" in self.found else None

    @property
    def others(self) -> str:
        """The databases other than PostgreSQL it runs on, each with where it is named (`SQLite (config.py:3)`)."""
        return ", ".join(f"{name} ({span.path}:{span.start})" for name, span in self.found.items() if name != "PostgreSQL")

    @property
    def also_others(self) -> bool:
        """PostgreSQL is one of several databases it runs on: a claim of PostgreSQL's says so."""
        return "PostgreSQL" in self.found and len(self.found) > 1


def runs_on(facts: Facts) -> RunsOn:
    cached = facts.derived.get("runs_on")
    if isinstance(cached, RunsOn):
        return cached
    found: dict[str, Span] = {}
    urls: dict[str, list[Span]] = {}

    def scan(path: str, pattern: re.Pattern[str], names: dict[str, str], comment: str = "#", also: dict | None = None) -> None:
        for n, line in enumerate(facts.lines(Span(path, 1, 1_000_000)), 1):
            for m in pattern.finditer(line.partition(comment)[0]):
                name = names.get(next(g for g in m.groups() if g).lower())
                if name is not None:
                    found.setdefault(name, Span(path, n, n))
                    if also is not None:
                        also.setdefault(name, []).append(Span(path, n, n))

    for path in sorted(python_paths(facts)):
        if is_test_path(path):
            continue
        text = "\n".join(facts.lines(Span(path, 1, 1_000_000)))  # each pattern's matches hold a literal: most files have none
        if not is_tooling_path(path) and "://" in text:  # a connector's or a command's URL is not the application's database
            scan(path, _URL, _NAMES, also=urls)
        if "sqlalchemy.dialects" in text:
            scan(path, _DIALECT, _NAMES)
        if "postgres" in text:
            scan(path, _PG_NAME, _NAMES)
    for path in _REQUIREMENTS:
        scan(path, _DRIVER, _DRIVERS)
    for path in COMPOSE_FILES:
        scan(path, _IMAGE, _NAMES)
    if (mysql_table := made_for_mysql(facts)) is not None:
        found.setdefault("MySQL", mysql_table)
    if not found:  # the code takes its URL from the environment: what the deployment's own files give it
        for path in facts.configs:
            scan(path, _CONFIG_URL, _NAMES)
    out = RunsOn(found, urls)
    facts.derived["runs_on"] = out
    return out


def on_postgres(facts: Facts, f: Finding) -> Finding:
    """A finding whose claim is PostgreSQL's, saying so where the application runs on others too."""
    known = runs_on(facts)
    if not known.also_others:
        return f
    return replace(f, message=f"{f.message} (on PostgreSQL; the application also runs on {known.others})")

"""Which tables are not the application's PostgreSQL: a `Table` on a MetaData of its own, in a module
that talks to another database (it imports ClickHouse's, SQLite's or MySQL's driver or dialect, or makes
an engine from such a URL). Their columns are not the schema the checklist reviews."""

from __future__ import annotations

from analyzers.facts.model import CallFact, ModuleFacts
from analyzers.facts.symbols import Symbols

# Import names of drivers and dialects of databases other than PostgreSQL.
OTHER_DATABASES = (
    "clickhouse_connect", "clickhouse_sqlalchemy", "clickhouse_driver", "asynch", "duckdb", "duckdb_engine",
    "snowflake", "sqlalchemy_bigquery", "pybigquery", "google.cloud.bigquery", "sqlalchemy_redshift", "pymysql",
    "MySQLdb", "aiomysql", "asyncmy", "mysql", "pyodbc", "aioodbc", "cx_Oracle", "oracledb", "sqlite3",
    "aiosqlite", "trino", "pyhive", "databricks", "pinotdb", "pydruid",
    "sqlalchemy.dialects.sqlite", "sqlalchemy.dialects.mysql", "sqlalchemy.dialects.mssql", "sqlalchemy.dialects.oracle",
)
OTHER_URLS = ("sqlite", "mysql", "mariadb", "mssql", "oracle", "clickhouse", "duckdb", "snowflake", "bigquery", "trino", "databricks")


def other_database(m: ModuleFacts) -> str | None:
    """Why this module talks to a database that is not PostgreSQL, or None."""
    for ref in m.bindings.values():
        if ref.kind == "name" and any(ref.name == lib or ref.name.startswith(lib + ".") for lib in OTHER_DATABASES):
            return f"imports {ref.name}"
    for call in m.calls:
        scheme = url_scheme(call.kwargs.get("url", ""))
        if scheme in OTHER_URLS:
            return f"makes an engine for {scheme}"
    return None


def engine_database(call: CallFact) -> str | None:
    """Why an engine is for another database, or None: its URL says so (`sqlite:///cache.db`), or where it is
    made names one (`AioSqliteConfiguration.engine`). What the module imports does not tell: an app that
    runs on PostgreSQL or MySQL makes both engines in one module."""
    scheme = url_scheme(call.kwargs.get("url", ""))
    if scheme in OTHER_URLS:
        return f"an engine for {scheme}"
    named = next((db for db in OTHER_URLS if db in (call.function or "").lower()), None)
    return f"made in `{call.function}`" if named else None


def url_scheme(url: str) -> str:
    """`'postgresql+asyncpg://...'` -> postgresql (the source text of a literal URL)."""
    return url.strip("'\"").split(":", 1)[0].split("+", 1)[0]


def own_metadata(symbols: Symbols, metadata: str, module: str) -> bool:
    """Is this a MetaData() of its own, rather than a declarative base's (`Base.metadata`, `db.metadata`)?"""
    value = symbols.resolve(metadata, module)
    return value.kind == "external" and value.name.endswith("MetaData()")

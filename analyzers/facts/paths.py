"""Which files of a target are the application: tests, scripts, examples and docs are never evidence of
what the application does in production (its tables, its queries, its engines)."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import re
from typing import Iterator

NOT_APP_DIRS = ("tests", "test", "testing", "qa", "e2e", "scripts", "examples", "docs", "benchmarks", "benches", "fixtures")
# A stand-in for the real thing (`drivers/noop_driver/`, `fake_tools/`, `db/sql/dummy/`): what tests and local runs
# use instead of a service; its private SQLite database or tables are not the application's.
_STANDIN_DIR = re.compile(r"^(?:noop|fake|dummy)(?:[_-]|$)")
# An example package of a plugin system (`ckanext/example_iauth`, `plugins/sqlite_example`, `cron-examples`):
# written for extension authors to copy, not run by the application.
_EXAMPLE_DIR = re.compile(r"^examples?(?:[_-]|$)|[_-]examples?$")


# A top folder of documentation (`internal_docs/`, `docs_src/`): its code samples build their own models. Only at the
# top: deeper, `connectors/google_docs/` is the application's.
_DOCS_TOP = re.compile(r"^docs?[_-]|[_-]docs?$")


# A pytest plugin's package (`packages/pytest-simcore/src/pytest_simcore/`): fixtures and helpers for the tests.
_PYTEST_PLUGIN_DIR = re.compile(r"^pytest[_-]")


# A folder named for tests or fixtures among other words (`functional_tests_fixtures/`, `test-utils/`): set-up
# that runs one at a time. Words, not letters: `latest/` and `contests/` are the application's.
_TEST_WORDS = re.compile(r"(?:^|[_-])(?:tests?|fixtures?)(?:[_-]|$)")


# The application's own packages whose names have a test word in them (`backend/test_observer/`), as discovery
# found the project declare them (discover.app_packages): set for the length of a scan, and of any later work on
# its facts (`using_app_packages`), in the thread that does it; a worker process is given them with its work.
_APP_PACKAGES: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar("dbreview_app_packages", default=frozenset())


@contextlib.contextmanager
def using_app_packages(folders: frozenset[str]) -> Iterator[None]:
    """is_test_path reads `folders` (relative paths) as the application's packages until the block ends."""
    token = _APP_PACKAGES.set(folders)
    try:
        yield
    finally:
        _APP_PACKAGES.reset(token)


def current_app_packages() -> frozenset[str]:
    """The application packages is_test_path reads now (to hand to a worker process)."""
    return _APP_PACKAGES.get()


def is_test_path(path: str) -> bool:
    """Tests, scripts, examples and docs: their tables, engines and queries are not the service's. A folder
    the project declares its application package (packaging metadata, or Alembic's env.py importing it, see
    discover.app_packages) is no test, whatever its name (`test_observer/`): inside it, test words are what the
    application is about (`test_executions/`, `test_result.py`); only `tests/`, `conftest.py` and the like
    are its tests."""
    return _is_test_path(path, _APP_PACKAGES.get())


@functools.lru_cache(maxsize=16384)  # asked for the same few thousand paths millions of times a scan (polar: 3% of it)
def _is_test_path(path: str, app: frozenset[str]) -> bool:
    parts = path.split("/")
    folders = parts[:-1]
    # how many folders lead to (and take in) the application's package the path is in, if any
    inside = next((i for i in range(len(folders), 0, -1) if "/".join(folders[:i]) in app), 0) if app else 0
    return any(p in NOT_APP_DIRS or _EXAMPLE_DIR.search(p) or _PYTEST_PLUGIN_DIR.match(p) or _STANDIN_DIR.match(p)
               or (not inside and _TEST_WORDS.search(p)) for i, p in enumerate(folders) if i != inside - 1) or \
        bool(folders and _DOCS_TOP.search(folders[0])) or parts[-1].startswith(_TEST_FILES[bool(inside)])


_TEST_FILES = (("test_", "conftest", "seed", "pytest_"), ("conftest", "seed", "pytest_"))  # outside, inside an app package


def named_for_tests(name: str) -> bool:
    """Whether a folder's name has a test word among others (`test_utils`, `test_observer`), which makes it a test's
    unless the project declares it its package; `tests/` and `fixtures/` are a test's whatever it says."""
    return name not in NOT_APP_DIRS and bool(_TEST_WORDS.search(name))


TOOLING_DIRS = ("migrations", "migration", "data_migrations", "alembic", "versions", "bin", "tools", "management", "commands", "cli", "devtools")
# `tools/` is the repository's (or a top folder's: `backend/tools/`) only above this depth; deeper it is a package of
# the application's own (`web/pgadmin/tools/sqleditor/`, `backend/onyx/tools/`: what its users run).
_PACKAGE_DEPTH = 2
# The top folder of a development environment (bodhi's `devel/ansible-podman/...`): what it runs is for a
# developer's machine, not the deployed application.
DEV_SETUP_DIRS = ("devel", "dev", ".devcontainer", "devcontainer")
# The top folder of deployment scripts (`deploy/docker/enckey-canary.py`): run once as the service is deployed.
DEPLOY_DIRS = ("deploy", "deployment")
ROOT_APP_FILES = ("app.py", "main.py", "database.py", "db.py", "wsgi.py", "asgi.py", "server.py", "application.py", "config.py")


def is_tooling_path(path: str) -> bool:
    """Migration helpers, CLI commands, one-file scripts at the top of the repository (a health check), data
    connectors: the engines they create live for one command or reach other databases, so pool settings
    and listeners do not apply."""
    return tooling_kind(path) is not None


def tooling_kind(path: str) -> str | None:
    """What kind of tooling a path is, or None for the application's code."""
    parts = path.split("/")
    if parts[-1] in ("env.py", "migrations.py", "migrate.py", "manage.py") or any(
            p in TOOLING_DIRS and (p != "tools" or i < _PACKAGE_DEPTH) for i, p in enumerate(parts[:-1])):
        return "migration or command-line tooling"
    if len(parts) > 1 and parts[0] in DEV_SETUP_DIRS:
        return "a developer's set-up (containers and scripts to run it locally)"
    if len(parts) > 1 and parts[0] in DEPLOY_DIRS:
        return "a deployment script (run once as the service is deployed)"
    if any(p in ("connectors", "connector", "integrations") for p in parts[:-1]) or parts[-1].endswith("_connector.py"):
        return "a connector to the customers' own databases or another service"
    return "a script at the top of the repository" if len(parts) == 1 and parts[0] not in ROOT_APP_FILES else None


def is_one_off_path(path: str) -> bool:
    """A backfill (`member_backfill.py`, `backfills/`): a data fix run once over the table, not a query the
    application serves, so no index is wanted for it."""
    return "backfill" in path.lower()

"""MIG023: the application migrates its database as it starts, in every worker (issue 8). Our own small
repositories: a lifespan, a Flask app factory, gunicorn hooks, create_all; and where nothing is said (an
advisory lock, a CLI command, a one-shot script, tests, an `upgrade` that is not alembic's)."""

from __future__ import annotations

from analyzers.rules.s03_start_up import MigratedAtStartUp
from tests.test_precision import found

LIFESPAN = MigratedAtStartUp.INVALID[0]["app/main.py"]  # a FastAPI lifespan that upgrades, at line 10

FACTORY = """
from flask import Flask
from flask_migrate import Migrate, upgrade

from .models import db


def create_app():
    app = Flask(__name__)
    db.init_app(app)
    Migrate(app, db)
    with app.app_context():
        upgrade()
    return app
"""


def _mig023(tmp_path, files: dict[str, str]) -> list:
    return found(tmp_path, files, "MIG023")


def test_an_upgrade_in_a_lifespan_is_a_warning_at_the_call(tmp_path):
    (f,) = _mig023(tmp_path, {"app/main.py": LIFESPAN})
    assert (f.anchor, f.severity.value, f.location.path, f.location.start_line) == ("startup:upgrade", "warning", "app/main.py", 10)
    assert f.message.startswith("lifespan runs the migrations (app/main.py:10): every worker process")
    assert "Nothing around it takes an advisory lock" in f.message


def test_followed_through_the_functions_the_start_up_calls(tmp_path):
    init_db = 'from alembic import command\nfrom alembic.config import Config\n\n\ndef main():\n    command.upgrade(Config("alembic.ini"), "head")\n'
    main = ("from contextlib import asynccontextmanager\n\nfrom app.db import init_db\n\n\n@asynccontextmanager\n"
            "async def lifespan(app):\n    init_db.main()\n    yield\n")
    (f,) = _mig023(tmp_path, {"app/db/init_db.py": init_db, "app/main.py": main})
    assert (f.location.path, f.location.start_line) == ("app/db/init_db.py", 6) and f.message.startswith("lifespan runs")


def test_flask_migrate_upgrade_in_the_app_factory(tmp_path):
    (f,) = _mig023(tmp_path, {"app/__init__.py": FACTORY, "app/models.py": "from flask_sqlalchemy import SQLAlchemy\ndb = SQLAlchemy()\n"})
    assert (f.location.path, f.location.start_line, f.severity.value) == ("app/__init__.py", 13, "warning")
    assert f.message.startswith("create_app runs the migrations")


def test_once_per_instance_and_create_all_are_info(tmp_path):
    hooks = "from alembic import command\nfrom alembic.config import Config\n\n\ndef on_starting(server):\n    command.upgrade(Config('alembic.ini'), 'head')\n"
    (f,) = _mig023(tmp_path / "gunicorn", {"app/gunicorn_conf.py": hooks})
    assert f.severity.value == "info" and "every instance of the server as it starts" in f.message
    startup = ("from fastapi import FastAPI\nfrom app.db import Base, engine\n\napp = FastAPI()\n\n\n@app.on_event('startup')\n"
               "def on_startup():\n    Base.metadata.create_all(engine)\n")
    (f,) = _mig023(tmp_path / "create_all", {"app/main.py": startup})
    assert (f.anchor, f.severity.value, f.location.start_line) == ("startup:create_all", "info", 9)
    assert "creates the models' missing tables (create_all)" in f.message


def test_an_advisory_lock_in_the_file_or_in_env_py_says_nothing(tmp_path):
    locked = LIFESPAN.replace('    command.upgrade(', '    conn.execute(text("SELECT pg_advisory_lock(1)"))\n    command.upgrade(')
    assert _mig023(tmp_path / "file", {"app/main.py": locked}) == []
    env = "from alembic import context\n\n\ndef run_migrations_online():\n    connection.execute(text('SELECT pg_try_advisory_lock(7)'))\n"
    assert _mig023(tmp_path / "env", {"app/main.py": LIFESPAN, "migrations/env.py": env}) == []


def test_commands_scripts_tests_and_other_upgrades_say_nothing(tmp_path):
    cli = "import click\nfrom alembic import command\nfrom alembic.config import Config\n\n\n@click.command()\ndef migrate():\n    command.upgrade(Config('alembic.ini'), 'head')\n"
    assert _mig023(tmp_path / "cli", {"app/cli.py": cli}) == []
    assert _mig023(tmp_path / "tests", {"tests/conftest.py": LIFESPAN}) == []
    assert _mig023(tmp_path / "scripts", {"scripts/start.py": LIFESPAN}) == []
    own = FACTORY.replace("from flask_migrate import Migrate, upgrade", "from flask_migrate import Migrate\nfrom .plans import upgrade")
    assert _mig023(tmp_path / "own", {"app/__init__.py": own}) == []


def test_a_launch_script_that_upgrades_first_makes_it_info(tmp_path):
    entrypoint = "#!/bin/sh\nset -e\nflask db upgrade\nexec gunicorn 'app:create_app()' --workers 4\n"
    (f,) = _mig023(tmp_path, {"app/__init__.py": FACTORY, "docker/entrypoint.sh": entrypoint})
    assert f.severity.value == "info"
    assert "docker/entrypoint.sh:3 runs `flask db upgrade` before gunicorn starts, so in that deployment this finds" in f.message


def test_on_sqlite_only_it_races_still_but_no_advisory_lock_is_advised(tmp_path):
    # several workers on one SQLite file race on its DDL too; SQLite has no advisory lock to take
    config = 'SQLALCHEMY_DATABASE_URI = "sqlite:///" + "app.db"\n'
    (f,) = _mig023(tmp_path, {"app/main.py": LIFESPAN, "app/config.py": config})
    assert (f.anchor, f.severity.value, f.location.start_line) == ("startup:upgrade", "warning", 10)
    assert "they race on the same DDL" in f.message and "pg_advisory_lock" not in f.message
    assert "the application runs on SQLite (app/config.py:1), not PostgreSQL" in f.message
    assert "run the upgrade once, before the workers start" in f.message


def test_on_postgresql_and_sqlite_the_lock_is_postgresqls(tmp_path):
    config = 'URLS = {"dev": "sqlite:///app.db", "prod": "postgresql://db/app"}\n'
    (f,) = _mig023(tmp_path, {"app/main.py": LIFESPAN, "app/config.py": config})
    assert f.severity.value == "warning"
    assert "advisory lock (pg_advisory_lock on PostgreSQL; the application also runs on SQLite (app/config.py:1))" in f.message


def test_a_server_started_with_one_worker_lowers_it_to_info_and_says_where(tmp_path):
    launch = "#!/bin/sh\nexec gunicorn --bind 0.0.0.0:8000 -w 1 app.main:app\n"
    (f,) = _mig023(tmp_path, {"app/main.py": LIFESPAN, "docker/entrypoint.sh": launch})
    assert (f.severity.value, f.location.start_line) == ("info", 10)
    assert f.message.endswith("; docker/entrypoint.sh:2 starts the server with one worker (`-w 1`): one process migrates "
                              "at a time, and the race needs several replicas (or more workers) started together")
    several = launch.replace("-w 1", "-w 4")
    (f,) = _mig023(tmp_path / "four", {"app/main.py": LIFESPAN, "docker/entrypoint.sh": several})
    assert f.severity.value == "warning" and "one worker" not in f.message


def test_a_setting_that_defaults_to_one_worker(tmp_path):
    settings = "class Settings:\n    UVICORN_WORKERS: int = 1\n"
    (f,) = _mig023(tmp_path, {"app/main.py": LIFESPAN, "app/settings.py": settings})
    assert f.severity.value == "info"
    assert "app/settings.py:2 starts one worker unless a deployment raises it (UVICORN_WORKERS defaults to 1)" in f.message


def test_a_setting_that_turns_the_migration_off_lowers_it_to_info_naming_it(tmp_path):
    switched = LIFESPAN.replace('    command.upgrade(Config("alembic.ini"), "head")\n',
                                '    if settings.database.automigrate:\n        command.upgrade(Config("alembic.ini"), "head")\n')
    (f,) = _mig023(tmp_path, {"app/main.py": switched})
    assert f.severity.value == "info"
    assert ("it does so only while the setting `settings.database.automigrate` is on (app/main.py:10): a deployment "
            "that runs several processes can turn it off and migrate once, before they start") in f.message

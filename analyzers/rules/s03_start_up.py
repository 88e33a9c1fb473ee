"""Section 3: Database Migrations, where they run: the application that migrates its own database as it
starts, in every process that starts it. Read as text and syntax trees (analyzers/rules/start_up.py);
nothing is run."""

from __future__ import annotations

from analyzers.findings import Severity
from analyzers.rules import start_up
from analyzers.rules.base import Rule
from analyzers.rules.runs_on import RunsOn, runs_on

_LIFESPAN = '''
from contextlib import asynccontextmanager
from alembic import command
from alembic.config import Config
from fastapi import FastAPI


@asynccontextmanager
async def lifespan(app: FastAPI):
    command.upgrade(Config("alembic.ini"), "head")
    yield

app = FastAPI(lifespan=lifespan)
'''


class MigratedAtStartUp(Rule):
    """The application migrates its database as it starts, in every worker.

    What it checks:
        alembic's `command.upgrade(...)`, Flask-Migrate's `upgrade()` or `metadata.create_all(...)` called
        from the application's start-up, a few calls away: an ASGI lifespan or startup hook, a Flask app
        factory (`create_app`), gunicorn's per-worker hooks (`post_fork`, `post_worker_init`), or for an
        upgrade gunicorn's `on_starting` / `when_ready` (once per instance, in the master). A warning for an
        upgrade every worker runs; info for one that runs once per instance, for `create_all`, where a
        launch script of the project already upgrades before the server starts (the workers then find the
        database at head), where a setting turns the upgrade off (`if settings.automigrate:`, named in the
        message), and where the project starts its server with one worker (`gunicorn -w 1` in a launch script,
        `workers = 1` in a gunicorn config, a `*WORKERS` setting whose default is 1; not where one starts more).
        Nothing is said where the file of the call, or an Alembic env.py of the project, takes a PostgreSQL
        advisory lock (`pg_advisory_lock`, `pg_try_advisory_lock`, `pg_advisory_xact_lock`), nor of a CLI
        command, a one-shot entrypoint script (`alembic upgrade head && gunicorn ...`), tests or scripts.
    Why it matters:
        Every process that starts the application (each worker of the server, each replica of the
        deployment) runs the same DDL on the same database at the same time: one waits on the other's
        locks and then fails on an object that now exists, or both apply a data migration, and a deploy
        with several workers crash-loops or ends half-migrated. A migration that takes a strong lock also
        blocks the requests of the instances already serving.
    Example:
        @asynccontextmanager
        async def lifespan(app):
            command.upgrade(Config("alembic.ini"), "head")   # in each of gunicorn's 4 workers
    Instead:
        Run the migrations once per deploy, before the new processes start: a release step, an init
        container or job, or the entrypoint before the server (`alembic upgrade head && exec gunicorn ...`).
        Where the application must migrate itself on PostgreSQL, hold `pg_advisory_lock` around the upgrade.
        SQLite has no such lock (and several workers on one SQLite file race on its DDL just the same): where
        the application runs on SQLite only, the finding does not advise one; migrate before the workers start.
    """

    ID = "MIG023"
    ITEM = "3.2"
    SEVERITY = Severity.WARNING
    VALID = ({
        "app/main.py": _LIFESPAN.replace(
            '    command.upgrade(Config("alembic.ini"), "head")\n',
            '    with engine.begin() as conn:\n        conn.execute(text("SELECT pg_advisory_xact_lock(42)"))\n'
            '        command.upgrade(Config("alembic.ini", attributes={"connection": conn}), "head")\n'),
    }, {
        "app/cli.py": "import click\nfrom alembic import command\nfrom alembic.config import Config\n\n\n"
        "@click.command()\ndef migrate():\n    command.upgrade(Config('alembic.ini'), 'head')\n",
    })
    INVALID = ({"app/main.py": _LIFESPAN},)

    def check(self):
        facts = self.facts
        for span, what, started, per_worker in start_up.migrated_at_start_up(facts):
            if start_up.guarded(facts, span):
                continue
            upgrade = what == "upgrade"
            done = "runs the migrations" if upgrade else "creates the models' missing tables (create_all)"
            who = ("every worker process that starts the application (and every replica)" if per_worker
                   else "every instance of the server as it starts (once per replica)")
            race = ("they race on the same DDL: one waits on the other's locks, then fails on what now exists, and a "
                    "deploy with a pending migration can crash-loop or end half-migrated" if upgrade else
                    "on a new database two of them race to create the same tables, and one fails")
            said = (f"{started} {done} ({span.path}:{span.start}): {who} does it at the same time on the same database; "
                    f"{race}. {_no_lock(runs_on(facts))}")
            before = start_up.launch_upgrade(facts) if upgrade else None
            if before is not None:  # the deployment migrates first: the workers' upgrade finds the database at head
                said += (f"; {before[0].path}:{before[0].start} runs {before[1]}, so in that deployment this finds the "
                         "database at head and does nothing: it races only where the application is started otherwise")
            switch = start_up.migration_switch(facts) if upgrade else None
            if switch is not None:  # a deployment that migrates apart turns it off
                said += (f"; it does so only while the setting `{switch[1]}` is on ({switch[0].path}:{switch[0].start}): "
                         "a deployment that runs several processes can turn it off and migrate once, before they start")
            single = start_up.one_worker(facts) if per_worker else None
            if single is not None:
                said += (f"; {single[0].path}:{single[0].start} starts {single[1]}: one process migrates at a time, and "
                         "the race needs several replicas (or more workers) started together")
            yield self.finding(said, span, f"startup:{what}", severity=None if upgrade and per_worker and before is None
                               and switch is None and single is None else Severity.INFO)


def _no_lock(known: RunsOn) -> str:
    """That nothing serialises the upgrade, in the terms of the databases the application runs on: PostgreSQL's
    advisory lock only where it runs on PostgreSQL (SQLite has none; MySQL's is GET_LOCK)."""
    if known.not_postgres:
        return (f"Nothing around it serialises the upgrade; the application runs on {known.not_postgres}, not PostgreSQL, "
                "so an advisory lock of PostgreSQL's does not apply: run the upgrade once, before the workers start")
    if known.also_others:
        return f"Nothing around it takes an advisory lock (pg_advisory_lock on PostgreSQL; the application also runs on {known.others})"
    return "Nothing around it takes an advisory lock (pg_advisory_lock)"

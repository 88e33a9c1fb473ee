"""The sandboxed child: runs Alembic commands on a copy of the target's revision files, as the parent
asks, one JSON line in and one JSON line out per command.

Run as `python -I -S child.py CPU_SECONDS MEMORY_BYTES` by the parent, never imported by dbreview:
it sets its limits before it reads anything, then imports only the standard library, Alembic,
SQLAlchemy and the driver (from the paths the first line of input gives), and the revision files.
Whatever the revision files print goes to stderr; answers go out on a copy of the original stdout.

Commands: {"op": "graph"}, {"op": "upgrade"|"downgrade", "target": REV, "url": DATABASE_URL},
{"op": "sql", "range": "base:heads"}.
"""

import io
import json
import os
import resource
import sys
import time
import traceback

FILE_LIMIT = 256 * 1024 * 1024


def limit(cpu_seconds: int, memory_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main() -> int:
    limit(int(sys.argv[1]), int(sys.argv[2]))
    answers = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)  # a print() in a revision file must not look like an answer
    sys.stdout = sys.stderr
    config = json.loads(sys.stdin.readline())
    sys.path[:0] = config["sys_path"]
    versions = os.path.realpath(os.path.join(config["script_location"], "versions"))
    os.environ["DBREVIEW_VERIFY_VERSION_TABLE"] = config.get("version_table") or "alembic_version"

    from alembic.config import Config
    from alembic.runtime.environment import EnvironmentContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine

    engines = {}  # url -> engine: one pooled connection per database, kept between commands
    scripts = []  # the ScriptDirectory, loaded once: every revision file is executed once, not per command

    def new_config(buffer=None) -> Config:
        cfg = Config(output_buffer=buffer) if buffer is not None else Config()
        cfg.set_main_option("script_location", config["script_location"])
        cfg.set_main_option("path_separator", "os")
        return cfg

    def script_directory() -> ScriptDirectory:
        if not scripts:
            scripts.append(ScriptDirectory.from_config(new_config()))
        return scripts[0]

    def graph() -> dict:
        script = script_directory()
        order = list(script.walk_revisions("base", "heads"))
        order.reverse()  # base first
        return {
            "revisions": [
                {
                    "revision": s.revision,
                    "down": _as_list(s.down_revision),
                    "path": os.path.relpath(os.path.realpath(s.path), versions),
                }
                for s in order
            ],
            "heads": list(script.get_heads()),
        }

    def run(cfg: Config, op: str, target: str, sql: bool = False, starting_rev=None) -> None:
        """What alembic.command.upgrade/downgrade do, with the ScriptDirectory kept."""
        script = script_directory()

        def step(rev, context):
            if op == "upgrade":
                return script._upgrade_revs(target, rev)
            return script._downgrade_revs(target, rev)

        with EnvironmentContext(cfg, script, fn=step, as_sql=sql, starting_rev=starting_rev, destination_rev=target):
            script.run_env()

    def migrate(op: str, target: str, url: str) -> dict:
        url = url.replace("+psycopg:", f"+{config.get('driver') or 'psycopg'}:", 1)
        if url not in engines:
            engines[url] = create_engine(url, pool_size=1, max_overflow=0, pool_pre_ping=True)
        cfg = new_config()
        with engines[url].connect() as connection:
            cfg.attributes["connection"] = connection
            run(cfg, op, target)
            if hasattr(connection, "commit"):  # SQLAlchemy 2 (1.4's connections commit as they go)
                connection.commit()
        return {}

    def offline(rng: str) -> dict:
        buffer = io.StringIO()
        start, _, end = rng.partition(":")
        run(new_config(buffer), "upgrade", end, sql=True, starting_rev=start or None)
        return {"sql": buffer.getvalue()}

    for line in sys.stdin:
        request = json.loads(line)
        started = time.perf_counter()
        try:
            if request["op"] == "graph":
                answer = graph()
            elif request["op"] in ("upgrade", "downgrade"):
                answer = migrate(request["op"], request["target"], request.get("url") or os.environ["DBREVIEW_VERIFY_URL"])
            elif request["op"] == "sql":
                answer = offline(request.get("range", "base:head"))
            else:
                answer = {"error": f"unknown op {request['op']!r}"}
            answer.setdefault("ok", "error" not in answer)
        except BaseException as exc:  # noqa: BLE001 - a revision file may raise anything, even SystemExit
            answer = {"ok": False, "error": _message(exc), **_where(exc, versions)}
        answer["seconds"] = round(time.perf_counter() - started, 4)
        answers.write(json.dumps(answer) + "\n")
    return 0


def _as_list(value) -> list:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _message(exc: BaseException) -> str:
    """The database's own words when there are any (psycopg's message, without SQLAlchemy's
    [SQL: ...] appendix), else the exception."""
    original = getattr(exc, "orig", None)
    if original is not None:
        text = str(original).strip()
        diag = getattr(original, "diag", None)
        detail = getattr(diag, "message_detail", None) if diag is not None else None
        return f"{type(original).__name__}: {text}" + (f" ({detail})" if detail and detail not in text else "")
    return f"{type(exc).__name__}: {exc}".strip()


def _where(exc: BaseException, versions: str) -> dict:
    """The innermost frame in a revision file: its path (relative to the versions folder) and line."""
    found = {}
    for frame, line in traceback.walk_tb(exc.__traceback__):
        path = os.path.realpath(frame.f_code.co_filename)
        if path.startswith(versions + os.sep):
            found = {"file": os.path.relpath(path, versions), "line": line}
    return found


if __name__ == "__main__":
    sys.exit(main())

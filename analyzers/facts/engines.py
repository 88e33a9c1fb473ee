"""Which engines serve the application. A target makes engines in many places: the app's own (at import,
in a factory, by Flask-SQLAlchemy from its configuration), and others that pool settings and listeners
do not concern: tests, scripts and examples, migration and command-line tooling, a setup wizard's
connection check or a backup (made, used and dropped within one call), another database (a SQLite cache,
ClickHouse). An engine kept on an object or handed to another call serves the application when a session
factory kept for it binds the engine; otherwise it may be either: dbreview cannot tell, and the rules
that read it say so."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from analyzers.facts.databases import url_scheme
from analyzers.facts.model import CallFact, Facts, Span
from analyzers.facts.paths import is_test_path, tooling_kind

ENGINES = ("create_engine", "create_async_engine", "engine_from_config", "async_engine_from_config")
FLASK_ENGINE = "flask_sqlalchemy.SQLAlchemy"  # the engine Flask-SQLAlchemy makes for `db = SQLAlchemy(app)`


@dataclass(frozen=True, slots=True)
class Engine:
    call: CallFact
    serves: bool | None  # serves the application: yes, no, or dbreview cannot tell
    why: str

    @property
    def verdict(self) -> str:
        said = {True: "serves the application", False: "not the application's", None: "cannot tell"}[self.serves]
        return f"{said}: {self.why}"


# Library engine factories that pre-ping by themselves: oslo.db's create_engine (re-exported by its session module)
# passes `"pool_pre_ping": True` in its engine_args (oslo_db/sqlalchemy/engines.py; earlier releases pinged in an
# engine_connect listener instead).
_PINGING_FACTORIES = ("oslo_db.sqlalchemy.engines.create_engine", "oslo_db.sqlalchemy.session.create_engine")


def pre_ping(call: CallFact) -> str:
    """What an engine call says of `pool_pre_ping`, read alike by CFG005 and the drafted answers: "on"
    (True, or a library factory that turns it on itself), "off" (not given, or False/None/0), "unread" (settings
    passed as **kwargs), else the expression as written (configuration that decides it at run time)."""
    if call.name in _PINGING_FACTORIES:
        return "on"
    if "**" in call.kwargs:
        return "unread"
    value = call.kwargs.get("pool_pre_ping", "False").strip()
    if value in ("False", "None", "0"):
        return "off"
    return "on" if value in ("True", "1") else value


def engines(facts: Facts) -> list[Engine]:
    """Every engine the target makes, with whether it serves the application and why. An engine returned by
    the app's own factory is made where the factory is called: it is seen there, once per call, with the
    settings each call passes (a factory nobody calls that dbreview can see stays where it is)."""
    cached = facts.derived.get("engines")
    if cached is None:
        callers: dict[str, list[CallFact]] = {}
        for c in facts.calls:
            if c.via:
                callers.setdefault(c.via, []).append(c)
        made = [c for c in facts.calls if c.name.endswith((*ENGINES, FLASK_ENGINE)) and not c.via]
        sessions = [c for c in facts.calls if c.name.endswith(("sessionmaker", "scoped_session")) and not c.via]
        cached = facts.derived["engines"] = [_for_tests(facts, _bound_elsewhere(facts, _role(e, sessions)))
                                             for c in made for e in _made_by_callers(c, callers, set())]
    return cached  # type: ignore[return-value]


def _bound_elsewhere(facts: Facts, engine: Engine) -> Engine:
    """An engine handed to the app's own function that binds it to a session factory made at import
    (`init_model(engine)` doing `Session.configure(bind=engine)`, `Session = scoped_session(...)`) serves the
    application's sessions."""
    call, symbols = engine.call, facts.derived.get("symbols")
    here = next((m for m in facts.modules if m.path == call.span.path), None) if engine.serves is None else None
    if here is None or symbols is None:
        return engine
    for callee, at in call.handed:
        found = symbols.function(callee if "." in callee else f"{here.module}.{callee}", here.module)
        if found is None:
            continue
        module, name = found
        for position, param, factory in module.session_binds.get(name, []):
            made = symbols.resolve(factory, module.module)
            if at in (str(position), param) and made.kind == "external" and made.name.endswith(("sessionmaker()", "scoped_session()")):
                return Engine(call, True, f"handed to `{name}` ({module.path}), which binds it to the session factory "
                                          f"`{factory.rsplit('.', 1)[-1]}` made at import")
    return engine


# A comment that says an engine is for tests: "only used in test modules", "test-only engine", "for tests".
_TESTS_ONLY = re.compile(r"only (used )?(in|by|for) (the )?tests?\b|tests?[- ]only|used (only )?(in|by) tests? (modules? )?only", re.I)


def _for_tests(facts: Facts, engine: Engine) -> Engine:
    """An engine the comment right above it says only tests use is not the application's."""
    call = engine.call
    if not engine.serves:
        return engine
    above = facts.lines(Span(call.span.path, max(1, call.span.start - 4), call.span.start - 1))
    comments = [line.strip() for line in above if line.strip().startswith("#")]
    if any(_TESTS_ONLY.search(c) for c in comments):
        return Engine(call, False, f"used only by tests, by the comment above it ({call.span.path}:{call.span.start})")
    return engine


def _made_by_callers(engine: CallFact, callers: dict[str, list[CallFact]], seen: set[str]) -> list[CallFact]:
    """An engine returned by a factory, as made by each of the factory's callers (and theirs, when they are
    factories too): the caller's place, lifetime and path, the engine's settings with each parameter of the
    factory replaced by what the caller passes or else by its default."""
    calls = callers.get(engine.factory or "", []) if engine.scope == "returned" and engine.factory not in seen else []
    if not calls:
        return [engine]
    out = []
    for call in calls:
        kwargs = {k: _argument(v, engine.params, call) for k, v in engine.kwargs.items()}
        made = replace(call, name=engine.name, kwargs=kwargs, via=None, origin=engine.origin or engine,
                       database=engine.database or call.database)  # a factory's SQLite branch stays SQLite's
        out.extend(_made_by_callers(made, callers, seen | {engine.factory or ""}))
    return out


def _argument(value: str, params: dict[str, str | None], call: CallFact) -> str:
    """What a factory's setting is for one call: a parameter's argument (by keyword or position), or its
    default; any other expression as written."""
    if value not in params:
        return value
    if value in call.kwargs:
        return call.kwargs[value]
    position = list(params).index(value)
    if position < len(call.args):
        return call.args[position]
    return params[value] or ("**" if "**" in call.kwargs else "None")


def serving_engines(facts: Facts) -> tuple[list[CallFact], bool]:
    """The engines the configuration rules read, and whether dbreview is sure they serve the application:
    those that do; failing any, those it cannot tell about (the rules then say they are not certain)."""
    found = engines(facts)
    sure = [e.call for e in found if e.serves]
    return (sure, True) if sure else ([e.call for e in found if e.serves is None], False)


def unsure_why(facts: Facts) -> str:
    """Why dbreview cannot tell that the engines the rules read serve the application (for a message)."""
    unsure = [e for e in engines(facts) if e.serves is None]
    return f"not certain: {unsure[0].why}, and no engine was found that surely serves requests" if unsure else ""


def _role(call: CallFact, session_factories: list[CallFact]) -> Engine:
    path, made_in = call.span.path, f" in `{call.function}`" if call.function else ""
    if is_test_path(path):
        return Engine(call, False, "tests, scripts or examples")
    if tooling_kind(path):
        return Engine(call, False, tooling_kind(path) or "")
    if call.database:
        return Engine(call, False, f"another database ({call.database})")
    target = call.target or ""
    if call.name == FLASK_ENGINE and url_scheme(call.kwargs.get("url", "")) == "sqlite":
        return Engine(call, None, "the app's configuration names only SQLite (SQLALCHEMY_DATABASE_URI)")
    if call.scope == "fallback":
        return Engine(call, None, f"a fallback made in an `except` clause{made_in}: which engine serves depends on the error")
    if call.scope == "local":
        return Engine(call, False, f"one-shot: made, used and dropped{made_in}")
    if call.scope in ("module", None):
        return Engine(call, True, "made at import" if call.name != FLASK_ENGINE else "Flask-SQLAlchemy's, made from the app's configuration")
    if call.scope == "cached":
        return Engine(call, True, f"made once by the cached factory `{call.function}`")
    if call.scope == "returned":
        return Engine(call, True, f"returned by the factory `{call.function}`")
    if call.scope == "stored" and not target.startswith("self."):
        return Engine(call, True, f"kept in `{target}`{made_in}")
    bound = next((f for f in session_factories if _binds(f, call)), None)
    if bound is not None:  # sessionmaker(bind=engine), kept for the app: the engine serves its sessions
        return Engine(call, True, f"bound to the session factory `{bound.target or bound.function}` ({bound.span.path}:{bound.span.start})")
    if call.scope != "stored" and _SETS_UP_DATABASE.search(call.function or "") and not any(
            at == "bind" or callee.endswith(("configure", "sessionmaker", "scoped_session")) for callee, at in call.handed):
        return Engine(call, False, f"used as the application starts, in `{call.function}`, and not kept")
    kept = f"kept on an object (`{target}`){made_in}" if call.scope == "stored" else f"handed to another call{made_in}"
    return Engine(call, None, kept)


# A function that sets the database up as the application starts (`init_db`, `create_tables`, `seed_data`): an
# engine it makes and hands on, binding no session factory to it, is not kept (`init_state`, `init` may make the app's).
_SETS_UP_DATABASE = re.compile(r"^(init|setup|create|initiali[sz]e|bootstrap)_(db|database|schema|tables)$|^(seed|migrate)_|"
                               r"^run_migrations")


def _binds(factory: CallFact, engine: CallFact) -> bool:
    """Does a session factory kept for the application (made at import, returned, cached, kept outside an
    object) bind this engine: made in the same function, naming it, or made inside its call?"""
    kept = factory.scope in ("module", "cached", "returned") or (
        factory.scope == "stored" and not (factory.target or "").startswith("self."))
    if not kept or factory.span.path != engine.span.path or factory.function != engine.function:
        return False
    if factory.span.start <= engine.span.start <= factory.span.end:
        return True  # sessionmaker(bind=create_engine(url))
    given = " ".join([*factory.args, *factory.kwargs.values()])
    return bool(engine.target) and re.search(rf"(?<![\w.]){re.escape(engine.target or '')}(?![\w])", given) is not None

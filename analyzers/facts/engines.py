"""Which engines serve the application. A target makes engines in many places: the app's own (at import,
in a factory, by Flask-SQLAlchemy from its configuration), and others that pool settings and listeners
do not concern: tests, scripts and examples, migration and command-line tooling, a setup wizard's
connection check or a backup (made, used and dropped within one call), another database (a SQLite cache,
ClickHouse). An engine kept on an object or handed to another call may be either: dbreview cannot tell,
and the rules that read it say so."""

from __future__ import annotations

from dataclasses import dataclass, replace

from analyzers.facts.databases import url_scheme
from analyzers.facts.model import CallFact, Facts
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
        cached = facts.derived["engines"] = [_role(e) for c in made for e in _made_by_callers(c, callers, set())]
    return cached  # type: ignore[return-value]


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


def _role(call: CallFact) -> Engine:
    path, made_in = call.span.path, f" in `{call.function}`" if call.function else ""
    if is_test_path(path):
        return Engine(call, False, "tests, scripts or examples")
    if tooling_kind(path):
        return Engine(call, False, tooling_kind(path) or "")
    if call.via:
        return Engine(call, False, f"calls the app's own factory `{call.via}`: the engine it makes is counted there")
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
    kept = f"kept on an object (`{target}`){made_in}" if call.scope == "stored" else f"handed to another call{made_in}"
    return Engine(call, None, kept)

"""Where the row a check-then-insert builds goes (INT013), when the function that builds it does not save it
alone: a helper it hands the row to saves it and meets a refused insert there (`user.create_local_user()`
with its own `except IntegrityError`), nothing saves it at all (the row is built, returned and shown), the
callers of the function catch the IntegrityError around their calls, or the application retries every request
that fails on one (`pyramid_retry.mark_error_retryable(IntegrityError)`). Helpers and callers are found by name
in the application's code, as text: what is not found is not assumed."""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass

from analyzers import confine
from analyzers.facts.model import Facts, Span
from analyzers.facts.paths import is_test_path, tooling_kind
from analyzers.rules.code_use import function_around
from analyzers.rules.mentions import mentions
from analyzers.rules.schema import python_paths
from analyzers.rules.source_trees import source_tree

_SAVES = ("add", "add_all", "merge", "save", "bulk_save_objects")
_SAVE_CALL = re.compile(r"\.(" + "|".join(_SAVES) + r")\(")
# More call sites than this and a name is too common to be followed as text (`create`, `run`).
_MAX_CALLS = 12


@dataclass(frozen=True, slots=True)
class Fate:
    kind: str  # "unsaved", "helper" (a helper saves it), "callers" (they catch the error), "retried" (app-wide)
    met: bool  # the race cannot fail a request: the row is never saved, or what saves it meets the refused insert
    text: str  # what the message says of it
    related: tuple[tuple[Span, str], ...]


def fate(facts: Facts, path: str, function: str, line: int, guarded) -> Fate | None:
    """What becomes of the row built at `path`:`line` in `function`, where the function itself does not meet a
    refused insert; `guarded(span)` tells whether the function around a line meets it. None: nothing known."""
    retried = next((span for span, text in mentions(facts, {"mark_error_retryable"})["mark_error_retryable"]
                    if _REFUSED.search(text)), None)
    if retried is not None:  # pyramid_retry runs a request that failed on it again: the retry finds the row
        return Fate("retried", True, "every request that fails on it is retried", ((retried, "retried"),))
    tree = source_tree(facts, path)
    func = _innermost(tree, line) if tree is not None else None
    if func is None:
        return None
    built = _built(func, line)
    if built is None:
        return None
    returned, helpers, saved_here = _uses(func, built, line)
    if not saved_here and helpers:
        for helper in helpers:
            defs = _definitions(facts, helper)
            if defs and all(guarded(Span(d.path, d.start + 1, d.start + 1)) for d in defs):
                return Fate("helper", True, f"{helper} saves it and meets a refused insert", tuple((d, f"{helper} meets it") for d in defs))
        return None
    if not saved_here and not helpers and not returned and not _saves_anything(func):
        return Fate("unsaved", True, "nothing saves it", ())  # built, perhaps kept in a list, and dropped
    if not saved_here and not helpers and returned and not _saves_anything(func):
        calls = _calls(facts, function)
        if calls and not any(_SAVE_CALL.search(_code(lines)) for _, _, lines in calls):
            return Fate("unsaved", True, "nothing saves it", ())
        return None
    calls = _calls(facts, function)
    if not calls:
        return None
    catching = [(span, caller) for span, caller, _ in calls if _caught_around(facts, span)]
    if len(catching) == len(calls):
        return Fate("callers", True, "every caller catches the IntegrityError", ())
    if not catching:
        return None
    others = sorted({caller for span, caller, _ in calls if (span, caller) not in catching})
    text = (f"{', '.join(sorted({c for _, c in catching}))} catches it around its call; "
            f"{', '.join(others)} {'does' if len(others) == 1 else 'do'} not")
    return Fate("callers", False, text, tuple((span, f"{caller} catches the IntegrityError") for span, caller in catching))


# A command of the project's command line: `@cli.command(...)`, `@click.command()`, `@manager.command`, `@app.cli.command`.
_COMMAND = re.compile(r"@(\w+\.)*(command|group)\b")
_CLI = re.compile(r"^\s*(import|from)\s+(click|typer|flask_script|flask\.cli)\b|\bAppGroup\b", re.M)
# A function that runs as the application starts: `init_db`, `initialize`, a start-up hook.
_START = re.compile(r"^(init|setup|bootstrap)(_|$)|^initiali[sz]e|startup|on_start|lifespan|before_first_request")


def one_writer(facts: Facts, path: str, line: int, function: str) -> tuple[bool, str] | None:
    """Does the function run where one writer is all there is: a command of the command line (or called only
    from the project's command-line tooling, True: no race to speak of), or only as the application starts
    (False: a race needs two processes starting at once, which depends on a deployment dbreview does not see)?
    With what says so; None: called from elsewhere, or nothing is known."""
    first = function_around(facts, Span(path, line, line))[0]
    if _decorated(facts, path, first, _COMMAND) and _CLI.search("\n".join(facts.lines(Span(path, 1, 10**9)))):
        return True, f"{function} is a command of the command line"
    calls = _calls(facts, function)
    # no call in the application's code (and a name that can be told apart): the tooling's, if any
    tooling = _tooling_calls(facts, function) if not calls and _distinct(facts, function) else []
    if tooling:
        span = tooling[0]
        return True, f"{function} is called only from command-line tooling ({span.path}:{span.start})"
    if calls and all(_decorated(facts, span.path, function_around(facts, span)[0], _COMMAND)
                     and _CLI.search("\n".join(facts.lines(Span(span.path, 1, 10**9)))) for span, _, _ in calls):
        return True, f"{function} is called only from commands of the command line"
    callers = sorted({caller for _, caller, _ in calls})
    if _START.search(function) or (callers and all(_START.search(c) for c in callers)):
        how = f", from {', '.join(callers)}" if callers and not _START.search(function) else ""
        return False, (f"{function} runs only as the application starts{how}: two calls at once need two processes "
                       "starting together on one database")
    return None


def _decorated(facts: Facts, path: str, first: int, pattern: re.Pattern[str]) -> bool:
    """Is the function whose `def` is at line `first` decorated as `pattern` says?"""
    above = first - 1
    while above >= 1 and (text := facts.lines(Span(path, above, above))[0].strip()).startswith("@"):
        if pattern.match(text):
            return True
        above -= 1
    return False


def _distinct(facts: Facts, function: str) -> bool:
    """Can calls of `function` be told apart by its name: not a builtin's (`set`), not called more than a few times."""
    return function not in vars(builtins) and len(mentions(facts, {function})[function]) <= _MAX_CALLS


def _tooling_calls(facts: Facts, function: str) -> list[Span]:
    """The calls of `function` in the project's command-line and migration tooling (not tests), which the
    application's mentions leave out."""
    call = re.compile(rf"(?<![\w]){re.escape(function)}\(")
    found = []
    for path in python_paths(facts):
        if is_test_path(path) or tooling_kind(path) != "migration or command-line tooling":
            continue
        try:
            text = confine.read_text(facts.root, path)
        except OSError:
            continue
        if function not in text:
            continue
        found += [Span(path, n, n) for n, ln in enumerate(text.splitlines(), 1)
                  if call.search(ln.partition("#")[0]) and not re.match(r"\s*(async\s+)?def\s", ln)]
    return found


def _caught_around(facts: Facts, span: Span) -> bool:
    """Is the call at `span` in the body of a `try` whose handler names the refused insert's error
    (IntegrityError, UniqueViolation, oslo's DBDuplicateEntry)? A broad `except Exception` of a caller is not
    taken: the row may be flushed after the `try`, at a commit outside it."""
    tree = source_tree(facts, span.path)
    if tree is None:
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and node.body and node.body[0].lineno <= span.start <= (node.body[-1].end_lineno or 0):
            if any(h.type is not None and _REFUSED.search(ast.unparse(h.type)) for h in node.handlers):
                return True
    return False


_REFUSED = re.compile(r"IntegrityError|UniqueViolation|DuplicateEntry")


def _innermost(tree: ast.Module, line: int):
    best = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.lineno <= line <= (node.end_lineno or 0):
            if best is None or node.lineno > best.lineno:
                best = node
    return best


def _built(func, line: int) -> ast.Call | None:
    return next((n for n in ast.walk(func) if isinstance(n, ast.Call) and n.lineno == line), None)


def _uses(func, call: ast.Call, line: int) -> tuple[bool, list[str], bool]:
    """Whether the function returns the built row; the helpers it is handed to (`row.save()`, `store(row)`; "?"
    where it goes somewhere not followed); whether the function saves it itself (`session.add(row)`)."""
    parents = {child: node for node in ast.walk(func) for child in ast.iter_child_nodes(node)}
    holder = parents.get(call)
    if isinstance(holder, ast.Return):
        return True, [], False
    if isinstance(holder, ast.Call) and isinstance(holder.func, ast.Attribute) and holder.func.attr in _SAVES:
        return False, [], True  # session.add(Member(...))
    targets = holder.targets if isinstance(holder, ast.Assign) else [holder.target] if isinstance(holder, ast.AnnAssign) else []
    if len(targets) != 1 or not isinstance(targets[0], ast.Name):
        return False, ["?"], False  # handed on where it is built: not followed
    name = targets[0].id
    returned, helpers, saved = False, [], False
    for node in ast.walk(func):
        if not (isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load) and node.lineno >= line):
            continue
        parent = parents.get(node)
        if isinstance(parent, ast.Return):
            returned = True
        elif isinstance(parent, ast.Attribute):
            grand = parents.get(parent)
            if isinstance(grand, ast.Call) and grand.func is parent:
                helpers.append(parent.attr)  # row.create_local_user()
        elif isinstance(parent, ast.Call) and node in (*parent.args, *(k.value for k in parent.keywords)):
            called = parent.func.attr if isinstance(parent.func, ast.Attribute) else getattr(parent.func, "id", "?")
            if called == "append" and (kept := _local_list(func, parent.func)):
                returned = returned or _returned(func, kept)  # kept in a list of its own: gone where the list goes
            elif called in _SAVES:
                saved = True
            else:
                helpers.append(called)
        elif not isinstance(parent, (ast.Compare, ast.BoolOp, ast.UnaryOp, ast.If)):
            helpers.append("?")  # put in a list, set on another object: where it goes is not followed
    return returned, helpers, saved


def _local_list(func, method: ast.expr) -> str | None:
    """`rows` of `rows.append(...)` where the function binds `rows` only to a new empty list."""
    if not (isinstance(method, ast.Attribute) and isinstance(method.value, ast.Name)):
        return None
    name = method.value.id
    values = [n.value for n in ast.walk(func) if isinstance(n, ast.Assign)
              and any(isinstance(t, ast.Name) and t.id == name for t in n.targets)]
    fresh = all(isinstance(v, ast.List) and not v.elts or isinstance(v, ast.Call) and getattr(v.func, "id", "") == "list"
                and not v.args for v in values)
    return name if values and fresh else None


def _returned(func, name: str) -> bool:
    return any(isinstance(n, ast.Return) and n.value is not None and any(
        isinstance(x, ast.Name) and x.id == name for x in ast.walk(n.value)) for n in ast.walk(func))


def _saves_anything(func) -> bool:
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in _SAVES for n in ast.walk(func))


def _definitions(facts: Facts, name: str) -> list[Span]:
    if not name.isidentifier():
        return []
    return [span for span, text in mentions(facts, {name})[name] if re.match(rf"\s*(async\s+)?def\s+{name}\b", text)]


def _calls(facts: Facts, function: str) -> list[tuple[Span, str, list[str]]]:
    """The calls of `function` in application code: (where, the function that calls it, its lines). Empty where
    the name is a builtin's or is called too often to be told apart."""
    if not _distinct(facts, function):
        return []
    call = re.compile(rf"(?<![\w]){re.escape(function)}\(")
    found = []
    for span, text in mentions(facts, {function})[function]:
        code = text.partition("#")[0]
        if not call.search(code) or re.match(rf"\s*(async\s+)?def\s", code):
            continue
        first, lines = function_around(facts, span)
        head = re.match(r"\s*(?:async\s+)?def\s+(\w+)", lines[0]) if first != span.start else None
        found.append((span, head.group(1) if head else "module code", lines))
    return found


def _code(lines: list[str]) -> str:
    return "\n".join(line.partition("#")[0] for line in lines)

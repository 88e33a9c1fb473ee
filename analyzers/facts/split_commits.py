"""One operation committed in two parts: a function commits (itself, or through a helper that commits), then
writes again with what the first part made (its id, the object) and commits a second time. A failure between
the two commits leaves the first part committed alone: a team without its members, a user without its entries.

Read with `ast`, one function at a time, in the statements' own order (as early_effects.py): the first commit,
the write that uses the first part and the second commit must each run after the one before on the same path.
Commits inside a loop (per row, per batch) are left out: those are meant to commit in parts. A helper's call
counts as the first commit only when the helper is known to commit on every path (the rule resolves it by its
qualified name among the project's `committers`)."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from analyzers.facts.columns import span_of
from analyzers.facts.early_effects import is_commit, is_write, runs_after, short, side_effect, statement_calls
from analyzers.facts.model import Span
from analyzers.facts.walk import walk

_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_ADDS = frozenset(("add", "add_all", "merge"))
_COLLECTION_ADDS = frozenset(("append", "extend", "insert"))
_SET_UPS = frozenset(("setUp", "setUpClass", "asyncSetUp", "setup_method", "setup_class"))


@dataclass(frozen=True, slots=True)
class SplitCommit:
    """In `function`: `first` commits (a commit, or a call of `helper`), then `write` (a write that uses
    `uses`, made by the first part) runs and `second` commits."""

    function: str
    first: Span
    helper: str | None  # the qualified name of the helper whose call is the first commit; None: a commit
    helper_as_written: str | None
    first_write: Span | None  # the function's own write before the first commit (None: the helper's)
    uses: str  # what of the first part the write uses, as written: `team.id`, `role`
    write: Span
    second: Span
    # The `if` the dependent write and the second commit sit under and the first commit does not: its test as it
    # must hold (`board is not None`), with its line; on the other paths the function leaves the first part alone.
    when: tuple[str, int] | None = None


def committers(functions, owners: dict[int, str], module: str) -> tuple[str, ...]:
    """The qualified names of the functions that commit on every path: a commit in their body's own block, or in
    the body of a `try` there (not under an `if`, a loop or a handler)."""
    out = []
    for func in functions:
        commit = next((s for s in func.body if _commits(s)), None)
        if commit is not None and not _hands_over(func, commit):
            out.append(f"{module}.{owners[id(func)]}.{func.name}" if id(func) in owners else f"{module}.{func.name}")
    return tuple(out)


def _hands_over(func, commit: ast.stmt) -> bool:
    """A task enqueued, mail sent or service called after the helper's commit: that commit is wanted (the task
    reads the rows from another process), so a caller going on after it does not split one operation."""
    return any(c.lineno > commit.lineno and side_effect(c) is not None for c, _ in statement_calls(func.body, ()))


def _commits(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.Try):
        return any(_commits(s) for s in stmt.body)
    if isinstance(stmt, (ast.Expr, ast.Assign)):
        value = stmt.value.value if isinstance(stmt.value, ast.Await) else stmt.value
        return isinstance(value, ast.Call) and is_commit(value)
    return False


def read_split_commits(functions, owners: dict[int, str], names, module: str, path: str) -> list[SplitCommit]:
    local = {f.name for f in functions if id(f) not in owners}
    out = []
    for func in functions:
        if _is_test(func):
            continue
        name = f"{owners[id(func)]}.{func.name}" if id(func) in owners else func.name
        out += _in_function(func, name, owners.get(id(func)), local, names, module, path)
    return out


def _is_test(func) -> bool:
    """A test (pytest's and unittest's `test*`) or its set-up, wherever its file is (`models/sketch_test.py`): it
    builds rows on a database thrown away, no operation whose half could stay."""
    return func.name.startswith("test") or func.name in _SET_UPS


def _in_function(func, name, owner, local, names, module, path) -> list[SplitCommit]:
    """One candidate for each first commit (a helper's call among them: the rule keeps those it resolves)."""
    calls = list(statement_calls(func.body, ()))
    commits = [(c, chain, None) for c, chain in calls if is_commit(c)]
    if not commits:
        return []  # the second commit is the function's own
    helpers = [(c, chain, q) for c, chain in calls if (q := _helper(c, owner, local, names, module, func.name))]
    writes = [(c, chain) for c, chain in calls if is_write(c)]
    effects = [c.lineno for c, _ in calls if side_effect(c) is not None]
    adds = [(a.id, c) for c, _ in writes if c.func.attr in _ADDS for a in c.args if isinstance(a, ast.Name)]
    out = []
    for c1, chain1, helper in sorted(commits + helpers, key=lambda x: x[0].lineno):
        if _in_loop(chain1):
            continue
        before = [w for w, _ in writes if w.lineno < c1.lineno]
        made = {n for n, w in adds if w.lineno < c1.lineno}  # the first part's objects
        if helper is not None:
            result = _assigned_from(func, c1)
            if result is not None:
                made.add(result)
        elif not before:
            continue
        later = [(c, ch) for c, ch, _ in commits if c.lineno > c1.lineno and not _in_loop(ch) and runs_after(chain1, ch)]
        if not made or not later:
            continue
        c2, chain2 = min(later, key=lambda x: x[0].lineno)
        if any(c1.lineno < line < c2.lineno for line in effects):
            continue  # committed before a task or a call elsewhere sees the rows: that first commit is wanted
        use = _dependent_write(func, made, c1, chain1, c2, chain2, calls, writes)
        if use is None:
            continue
        uses, write, chain = use
        if any(write.lineno < c.lineno < c2.lineno for c, _, _ in commits):
            continue  # a commit of a loop around the write (per row) commits it before c2: parts on purpose
        if helper is None and _creates_if_missing(func, chain1, made, write):
            continue  # a lookup row made only where none was found: committed alone, the next call finds and reuses it
        first_write = None if helper is not None else max(before, key=lambda w: w.lineno)
        out.append(SplitCommit(name, span_of(c1, path), helper, short(c1.func) if helper else None,
                               span_of(first_write, path) if first_write is not None else None, uses,
                               span_of(write, path), span_of(c2, path), _condition(chain1, chain, chain2)))
    return out


def _helper(call: ast.Call, owner, local, names, module: str, own: str) -> str | None:
    """The qualified name of a function or method this call may be (resolved later against committers)."""
    fn = call.func
    if isinstance(fn, ast.Name) and fn.id != own:
        if fn.id in local:
            return f"{module}.{fn.id}"
        q = names.imports.get(fn.id)
        return q if q and "." in q else None
    if isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Name) and fn.value.id in ("self", "cls") and owner \
            and fn.attr != own:
        return f"{module}.{owner}.{fn.attr}"
    return None


def _assigned_from(func, call: ast.Call) -> str | None:
    for node in walk(func):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = node.value.value if isinstance(node.value, ast.Await) else node.value
            if value is call:
                return node.targets[0].id
    return None


_LOOKUPS = frozenset(("first", "one_or_none", "scalar", "scalar_one_or_none", "get", "one"))


def _creates_if_missing(func, chain1: tuple, made: set[str], write: ast.AST) -> bool:
    """Get-or-create of a lookup row: the first commit sits under `if not x:` (or `x is None`), x looked up by a query
    before it and made in the branch from the looked-up values alone (`Technology(name=name)` after a lookup by name),
    and the write that uses it runs after the branch, whichever way it went; or made from literals alone, a fixed
    singleton. A row made with more than its key (an attribute's ontology, a policy's contents) is part of the
    operation: left alone, it is half of it."""
    for _, i, block in chain1[:-1]:
        stmt = block[i]
        if not isinstance(stmt, ast.If) or write.lineno <= (stmt.end_lineno or stmt.lineno):
            continue
        test = stmt.test
        name = (test.operand.id if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
                and isinstance(test.operand, ast.Name) else
                test.left.id if isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
                and isinstance(test.ops[0], ast.Is) and isinstance(test.comparators[0], ast.Constant)
                and test.comparators[0].value is None else None)
        lookups = [n.value for n in walk(func) if isinstance(n, ast.Assign) and n.lineno < stmt.lineno
                   and any(isinstance(t, ast.Name) and t.id == name for t in n.targets)
                   and any(isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute) and c.func.attr in _LOOKUPS
                           for c in ast.walk(n.value))]
        built = [n.value for n in stmt.body if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)
                 and any(isinstance(t, ast.Name) and t.id == name for t in n.targets)]
        if name in made and lookups and built and (_key_only(built[0], _looked_up_by(lookups[-1])) or _fixed(built[0])):
            return True
    return False


def _fixed(call: ast.Call) -> bool:
    """A row made from literals alone (`Client(client_id="autograder", scopes=["all"])`): the same singleton
    whichever operation makes it first, nothing of this one's inputs."""
    return not call.args and bool(call.keywords) and all(
        k.arg and all(isinstance(n, (ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.Load)) for n in ast.walk(k.value))
        for k in call.keywords)


def _looked_up_by(query: ast.expr) -> set[str]:
    """The attributes a lookup compares: `Model.name == x` in a filter, `name=x` in filter_by."""
    compared = {n.left.attr for n in ast.walk(query) if isinstance(n, ast.Compare) and isinstance(n.left, ast.Attribute)}
    return compared | {k.arg for n in ast.walk(query) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                       and n.func.attr == "filter_by" for k in n.keywords if k.arg}


def _key_only(call: ast.Call, key: set[str]) -> bool:
    return not call.args and bool(call.keywords) and all(k.arg in key for k in call.keywords)


def _in_loop(chain: tuple) -> bool:
    return any(isinstance(block[i], _LOOPS) for _, i, block in chain[:-1])


def _dependent_write(func, made: set[str], c1, chain1, c2, chain2, calls, writes):
    """(what of the first part it uses, the write) for the first write between the two commits, on their path,
    that uses an object of the first part: its id as a value (`Membership(team_id=team.id)`, `user.team_id =
    team.id`), or the object itself handed to a constructor, added to another object's collection or assigned to
    another object's attribute; directly, or through a name assigned from one of those. A name assigned again
    between the commits is no longer the first part's."""
    assigns = sorted((n for n in walk(func) if isinstance(n, ast.Assign) and c1.lineno < n.lineno < c2.lineno),
                     key=lambda n: n.lineno)
    made = made - {t.id for n in assigns for t in n.targets if isinstance(t, ast.Name)}
    derived: dict[str, str] = {}  # a name assigned from the first part -> what of it
    for node in assigns:
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and (used := _value_use(node.value, made, derived)):
            derived[node.targets[0].id] = used
    between = [(w, ch) for w, ch in [*writes, *_statement_writes(func, calls)]
               if c1.lineno < w.lineno < c2.lineno and runs_after(chain1, ch) and runs_after(ch, chain2)]
    for w, ch in sorted(between, key=lambda x: x[0].lineno):
        used = _write_use(w, made, derived)
        if used:
            return used, w, ch
    return None


def _condition(first: tuple, write: tuple, second: tuple) -> tuple[str, int] | None:
    """The test of an `if` that holds the write and the second commit and not the first commit: (its source, said
    as it must hold for the second part to run, and its line), or None."""
    shared = next((d for d, (a, b) in enumerate(zip(first, write)) if a[:2] != b[:2]), min(len(first), len(write)))
    for depth in range(shared, len(write) - 1):
        _, i, block = write[depth]
        stmt = block[i]
        if isinstance(stmt, ast.If) and len(second) > depth + 1 and second[depth][:2] == write[depth][:2] \
                and second[depth + 1][0] == write[depth + 1][0]:  # the second commit in the same branch of it
            test = ast.unparse(stmt.test)
            return (f"`{test}`" if write[depth + 1][2] is stmt.body else f"`{test}` does not hold"), stmt.lineno
    return None


def _statement_writes(func, calls):
    """Writes that are not session calls: `other.attr = ...` and `other.items.append(...)` (a loaded object made
    dirty), as (node, chain)."""
    out = [(c, chain) for c, chain in calls if isinstance(c.func, ast.Attribute) and c.func.attr in _COLLECTION_ADDS
           and isinstance(c.func.value, ast.Attribute)]
    for node in walk(func):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Attribute) for t in node.targets):
            chain = _chain_of(func, node)
            if chain is not None:
                out.append((node, chain))
    return out


def _chain_of(func, stmt: ast.stmt):
    """The (block, index) chain of a statement, as statement_calls gives it for a call."""
    def down(body, chain):
        for i, s in enumerate(body):
            here = (*chain, (id(body), i, body))
            if s is stmt:
                return here
            if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            for field in ("body", "orelse", "finalbody"):
                block = getattr(s, field, None)
                if block and (found := down(block, here)):
                    return found
            for h in getattr(s, "handlers", None) or getattr(s, "cases", None) or ():
                if found := down(h.body, here):
                    return found
        return None
    return down(func.body, ())


def _write_use(write: ast.AST, made: set[str], derived: dict[str, str]) -> str | None:
    """What of the first part a write stores: `other.attr = <use>`, `other.items.append(<use>)`,
    `session.add(<use>)` (not the first part's own object added again, nor its own attributes set: those are
    the first part changed, not a second part built on it)."""
    if isinstance(write, ast.Assign):
        if not all(isinstance(t, ast.Attribute) and not (isinstance(t.value, ast.Name) and t.value.id in made)
                   for t in write.targets):
            return None
        return _value_use(write.value, made, derived)
    session = write.func.attr not in _COLLECTION_ADDS
    for v in write.args:
        if session and isinstance(v, ast.Name) and v.id in made:
            continue
        if used := _value_use(v, made, derived):
            return used
    return None


def _value_use(value: ast.AST, made: set[str], derived: dict[str, str]) -> str | None:
    """`x` or `x.id` of the first part's `x`, a name derived from one, or a constructor given one of those."""
    if isinstance(value, ast.Await):
        value = value.value
    if isinstance(value, ast.Name):
        return value.id if value.id in made else derived.get(value.id)
    if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and value.value.id in made \
            and _is_id(value.attr):
        return f"{value.value.id}.{value.attr}"
    if isinstance(value, ast.Call) and _constructor(value):
        for v in [*value.args, *(k.value for k in value.keywords)]:
            if not isinstance(v, ast.Call) and (used := _value_use(v, made, derived)):
                return used
    return None


def _is_id(attr: str) -> bool:
    return attr in ("id", "pk", "uuid") or attr.endswith("_id")


def _constructor(call: ast.Call) -> bool:
    fn = call.func
    name = fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else ""
    return name[:1].isupper()

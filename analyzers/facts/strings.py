"""Static evaluation of the strings that become SQL: literals, f-strings, `%`, `.format`, `+`,
names bound to constants, and loops over constant lists (`for t in TABLES: op.execute(f"...{t}")`).

Nothing is executed: what cannot be known stays a `{placeholder}` and marks the SQL as formatted.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from analyzers.facts.names import Names

Env = dict[str, list[str]]  # name -> the constant strings it may hold


@dataclass(frozen=True, slots=True)
class Text:
    value: str
    formatted: bool  # something not constant was spliced in


def constant_env(body: list[ast.stmt], env: Env | None = None) -> Env:
    """Names bound to string constants or lists/tuples of them by plain assignments in `body`."""
    out: Env = dict(env or {})
    for node in body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            values = strings_of(node.value, out)
            if values is not None:
                out[node.targets[0].id] = values
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            values = strings_of(node.value, out)
            if values is not None:
                out[node.target.id] = values
    return out


def strings_of(node: ast.AST, env: Env) -> list[str] | None:
    """The constant strings an expression can be: one for a literal, several for a list."""
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        out: list[str] = []
        for elt in node.elts:
            if isinstance(elt, ast.Constant) and isinstance(elt.value, str):
                out.append(elt.value)
            elif isinstance(elt, ast.Name) and elt.id in env and len(env[elt.id]) == 1:
                out.append(env[elt.id][0])
            else:
                texts = evaluate(elt, env) if isinstance(elt, ast.Call) else None  # sa.text("lower(email)")
                if not texts or len(texts) != 1 or texts[0].formatted:
                    return None
                out.append(texts[0].value)
        return out
    if isinstance(node, ast.Name) and node.id in env:
        return env[node.id]
    texts = evaluate(node, env)
    if texts and not any(t.formatted for t in texts):
        return [t.value for t in texts]
    return None


def evaluate(node: ast.AST, env: Env, names: Names | None = None) -> list[Text] | None:
    """All the texts a string expression can take; None if it is not a string expression."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [Text(node.value, False)]
    if isinstance(node, ast.Name):
        if node.id in env:
            return [Text(v, False) for v in env[node.id]]
        return None
    if isinstance(node, ast.JoinedStr):
        results = [Text("", False)]
        for part in node.values:
            if isinstance(part, ast.Constant):
                results = [Text(r.value + str(part.value), r.formatted) for r in results]
                continue
            assert isinstance(part, ast.FormattedValue)
            known = env.get(part.value.id) if isinstance(part.value, ast.Name) else None
            if known and len(results) * len(known) <= 256:
                results = [Text(r.value + k, r.formatted) for r in results for k in known]
            else:
                hole = "{" + ast.unparse(part.value) + "}"
                results = [Text(r.value + hole, True) for r in results]
        return results
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = evaluate(node.left, env, names), evaluate(node.right, env, names)
        if left is None and right is None:
            return None
        left = left or [Text("{" + ast.unparse(node.left) + "}", True)]
        right = right or [Text("{" + ast.unparse(node.right) + "}", True)]
        return [Text(a.value + b.value, a.formatted or b.formatted) for a in left for b in right][:256]
    if isinstance(node, ast.Call) and _is_ddl(node, names):  # sa.DDL("... %(table)s ...", context={"table": t})
        context = next((k.value for k in node.keywords if k.arg == "context"), None)
        return evaluate(node.args[0] if context is None else ast.BinOp(node.args[0], ast.Mod(), context), env, names)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.right, ast.Dict):
        return _named_holes(node, env, names)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        left = evaluate(node.left, env, names)
        if left is None:
            return None
        args = node.right.elts if isinstance(node.right, ast.Tuple) else [node.right]
        known = [_one(a, env) for a in args]
        out = []
        for t in left:
            if all(k is not None for k in known) and t.value.count("%s") == len(known) and "%(" not in t.value:
                value = t.value
                for k in known:
                    value = value.replace("%s", k, 1)  # type: ignore[arg-type]
                out.append(Text(value, t.formatted))
            else:
                out.append(Text(t.value.replace("%s", "{%}").replace("%d", "{%}"), True))
        return out
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        base = evaluate(node.func.value, env, names)
        if base is None:
            return None
        positional = [_one(a, env) for a in node.args]
        keywords = {k.arg: _one(k.value, env) for k in node.keywords if k.arg}
        if any(k.arg is None for k in node.keywords) or None in positional or None in keywords.values():
            return [Text(t.value, True) for t in base]
        out = []
        for t in base:
            try:
                out.append(Text(t.value.format(*positional, **keywords), t.formatted))
            except (IndexError, KeyError, ValueError):
                out.append(Text(t.value, True))
        return out
    if isinstance(node, ast.Call) and len(node.args) == 1 and _passes_through(node, names):
        return evaluate(node.args[0], env, names)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _SAME_TEXT:
        return evaluate(node.func.value, env, names)  # text("...").bindparams(id=1): the same SQL
    return None


def _is_ddl(call: ast.Call, names: Names | None) -> bool:
    """SQLAlchemy's `DDL(statement, context=...)`: the statement, its `%(name)s` filled from the context."""
    callee = names.callee(call) if names is not None else ast.unparse(call.func)
    return callee.rsplit(".", 1)[-1] == "DDL" and len(call.args) == 1 and all(k.arg == "context" for k in call.keywords)


def _named_holes(node: ast.BinOp, env: Env, names: Names | None) -> list[Text] | None:
    """`"ALTER TABLE %(table)s ..." % {"table": t}`: each `%(key)s` the dict gives one constant for filled in,
    the others left as holes."""
    left = evaluate(node.left, env, names)
    if left is None:
        return None
    mapping = node.right
    assert isinstance(mapping, ast.Dict)
    known = {k.value: _one(v, env) for k, v in zip(mapping.keys, mapping.values) if isinstance(k, ast.Constant)}
    out = []
    for t in left:
        value, formatted = t.value, t.formatted
        for key in re.findall(r"%\((\w+)\)s", t.value):
            filled = known.get(key)
            value = value.replace(f"%({key})s", filled if filled is not None else "{%}")
            formatted |= filled is None
        out.append(Text(value.replace("%%", "%"), formatted))
    return out


_SAME_TEXT = ("bindparams", "columns", "execution_options", "strip")


def _one(node: ast.AST, env: Env) -> str | None:
    """The single constant string an argument holds (a literal, or a name bound to one value)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int)):
        return str(node.value)
    if isinstance(node, ast.Name) and len(env.get(node.id, ())) == 1:
        return env[node.id][0]
    return None


def _passes_through(call: ast.Call, names: Names | None) -> bool:
    """`text("...")`, `sa.text(...)`, Alembic's `op.f("ix_name")` and `batch_op.f(...)` (a batch's own, under
    whatever name the `with` gives it): the string inside is the value."""
    func = call.func
    if names is not None and names.callee(call).endswith(("text", "literal_column")):
        return True
    if isinstance(func, ast.Name):
        return func.id in ("text", "literal_column")
    if isinstance(func, ast.Attribute):
        owner = func.value.id if isinstance(func.value, ast.Name) else None
        return func.attr == "text" or (func.attr == "f" and owner is not None)
    return False

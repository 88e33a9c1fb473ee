"""Where the code puts a bearer secret (a reset key, an API key, an OAuth code, a session token) and how it
looks one up: the values written into attributes named like one (`user.reset_key = make_key()`,
`Token(token=secrets.token_urlsafe())`), classified as far as their function tells (the output of a random
generator, a hash, a parameter, a call of a function to follow); the comparisons of such an attribute with
a parameter of the function (`cls.code == code`, `filter_by(token=token)`, `key == user.reset_key`): a
lookup by the value presented, which only works where the column holds that very value; and the functions
that return a generator's output (`def make_key(): return os.urandom(16).hex()`). The rule (MOD008) ties
them to the model's columns."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from analyzers.facts.columns import span_of
from analyzers.facts.model import Span
from analyzers.facts.password_writes import _callee, _functions
from analyzers.facts.walk import walk

# Attributes that may hold a secret handed to a client; the rule narrows them by table and column.
SECRET_ATTR = re.compile(
    r"^((\w+_)?(token|api_?key|apikey|reset_key)|code|(\w+_)?(reset|activation|verification|verify|confirm(ation)?|"
    r"invite|invitation|magic|login|auth|authorization|recovery|refresh|session)_(key|code))$", re.I)
# A random source: what it returns is the secret itself.
GENERATORS = re.compile(r"(^|\.)(token_urlsafe|token_hex|token_bytes|urandom|uuid4|getrandbits|randbits)$")
# A one-way or keyed transformation: what is stored is no longer the value handed out.
HASHING = re.compile(r"hash|sha\d|md5|blake|digest|hmac|bcrypt|argon|scrypt|pbkdf|crypt|fernet|sign", re.I)
_NAMED_HASH = re.compile(r"(^|_)(hash|hashed|digest)(_|$)", re.I)
_SAME = frozenset(("str", "bytes", "encode", "decode", "strip", "hex", "hexlify", "lower", "upper", "replace",
                   "rstrip", "lstrip", "b64encode", "urlsafe_b64encode", "b32encode", "hexlify_and_unicode", "unicode"))


@dataclass(frozen=True, slots=True)
class SecretUse:
    """A write of a value into a secret-like attribute ("write"), or a comparison of one with a value ("lookup")."""

    what: str  # write | lookup
    target: str  # the class called or the object written to or read from (`User`, `user`, `cls`, `self`)
    attr: str
    span: Span
    # write: "generated", "hashed", "param", "call" (detail: the callee's name) or "other";
    # lookup: "param" or "local" (detail: its name: a parameter, or a local taken from the request maybe)
    value: str
    detail: str = ""
    owner: str = ""  # the class of the method, or ""
    function: str = ""


def read_secret_flow(tree: ast.Module, path: str) -> tuple[list[SecretUse], dict[str, tuple[str, str]]]:
    """(the writes and lookups, {function name: (kind, detail)} of the functions that return a generator's
    output ("generated") or only what one other function returns ("call"))."""
    uses: list[SecretUse] = []
    makers: dict[str, tuple[str, str]] = {}
    for owner, func in _functions(tree):
        assigned, returns, seen = _walked(func)
        params = {a.arg for a in (*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs)} - {"self", "cls"}
        kind = _returns(returns, params, assigned)
        if kind is not None:
            makers.setdefault(func.name, kind)
        for n in seen:
            if n.__class__ is ast.Assign:
                value, detail = classify(n.value, params, assigned)
                uses.append(SecretUse("write", ast.unparse(n.targets[0].value), n.targets[0].attr, span_of(n, path),
                                      value, detail, owner, func.name))
            elif n.__class__ is ast.Call:
                callee = _callee(n)
                for k in n.keywords:
                    if not k.arg or not SECRET_ATTR.match(k.arg):
                        continue
                    if callee[:1].isupper():
                        value, detail = classify(k.value, params, assigned)
                        uses.append(SecretUse("write", callee, k.arg, span_of(n, path), value, detail, owner, func.name))
                    elif callee == "filter_by" and _given(k.value, params, assigned):
                        uses.append(SecretUse("lookup", _queried(n), k.arg, span_of(n, path),
                                              *_given(k.value, params, assigned), owner, func.name))
            else:
                left, right = n.left, n.comparators[0]
                for column, other in ((left, right), (right, left)):
                    if isinstance(column, ast.Attribute) and SECRET_ATTR.match(column.attr) and _given(other, params, assigned):
                        uses.append(SecretUse("lookup", ast.unparse(column.value), column.attr, span_of(n, path),
                                              *_given(other, params, assigned), owner, func.name))
    return uses, makers


def _walked(func: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[dict[str, list[ast.AST]], list[ast.Return], list[ast.AST]]:
    """One walk of the function (read_secret_flow took three): what each name or attribute is assigned, in
    ast.walk's order; the returns; and, in that order too, the nodes that may write or look up a secret (an
    assignment to a secret-like attribute, a call with a secret-like keyword, an `==` of two values)."""
    assigned: dict[str, list[ast.AST]] = {}
    returns: list[ast.Return] = []
    seen: list[ast.AST] = []
    for n in walk(func):
        cls = n.__class__
        if cls is ast.Assign:
            if len(n.targets) == 1:
                target = n.targets[0]
                if target.__class__ is ast.Name:
                    assigned.setdefault(target.id, []).append(n.value)  # what ast.unparse gives for a name
                elif target.__class__ is ast.Attribute:
                    assigned.setdefault(ast.unparse(target), []).append(n.value)
                    if SECRET_ATTR.match(target.attr):
                        seen.append(n)
        elif cls is ast.Return:
            returns.append(n)
        elif cls is ast.Match:  # `case ["Bearer", token]:` binds token from the subject (the request's header)
            for case in n.cases:
                for p in walk(case.pattern):
                    if isinstance(p, (ast.MatchAs, ast.MatchStar)) and p.name:
                        assigned.setdefault(p.name, []).append(n.subject)
        elif cls is ast.Call:
            if any(k.arg and SECRET_ATTR.match(k.arg) for k in n.keywords):
                seen.append(n)
        elif cls is ast.Compare and len(n.ops) == 1 and n.ops[0].__class__ is ast.Eq:
            seen.append(n)
    return assigned, returns, seen


def classify(value: ast.AST, params: set[str], assigned: dict[str, list[ast.AST]], depth: int = 0) -> tuple[str, str]:
    calls = [n for n in walk(value) if isinstance(n, ast.Call)]
    if any(HASHING.search(ast.unparse(c.func)) for c in calls):
        return "hashed", ""
    generated = next((c for c in calls if GENERATORS.search(ast.unparse(c.func)) or _system_random(c, assigned)), None)
    if generated is not None:
        return "generated", ast.unparse(generated)[:60]
    inner = _unwrapped(value)
    if isinstance(inner, ast.Name) and inner.id in params:
        return "param", inner.id
    # `token = None` on another branch stores no value: the one other assignment says what is stored
    bound = [v for v in assigned.get(ast.unparse(inner), ()) if not (isinstance(v, ast.Constant) and v.value is None)]
    if isinstance(inner, (ast.Name, ast.Attribute)) and depth < 2 and len(bound) == 1:
        return classify(bound[0], params, assigned, depth + 1)
    if isinstance(inner, ast.Name) and _NAMED_HASH.search(inner.id):
        return "hashed", ""  # `token, token_hash = generate_token()`: a value the code itself names a hash
    if isinstance(inner, ast.Call) and not inner.args and not inner.keywords and (
            isinstance(inner.func, ast.Name) or isinstance(inner.func, ast.Attribute) and isinstance(inner.func.value, ast.Name)):
        return "call", _callee(inner)  # `make_key()`, `types.make_uuid()`: a function of the project, maybe
    return "other", ast.unparse(value)[:60]


def _system_random(call: ast.Call, assigned: dict[str, list[ast.AST]]) -> bool:
    """`rng.choice(chars)` where `rng = random.SystemRandom()`: a draw from the operating system's random source."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
        return False
    bound = assigned.get(func.value.id, [])
    return len(bound) == 1 and isinstance(bound[0], ast.Call) and ast.unparse(bound[0].func).endswith("SystemRandom")


def _unwrapped(value: ast.AST) -> ast.AST:
    """`str(x)`, `x.hex`, `x.decode()`, `x[:16]`: the same value."""
    while True:
        if isinstance(value, ast.Call) and _callee(value) in _SAME:
            if isinstance(value.func, ast.Attribute) and not value.args:
                value = value.func.value
            elif len(value.args) >= 1 and isinstance(value.func, ast.Name):
                value = value.args[0]
            elif isinstance(value.func, ast.Attribute):
                value = value.func.value
            else:
                return value
        elif isinstance(value, ast.Attribute) and value.attr in _SAME:
            value = value.value
        elif isinstance(value, ast.Subscript) and isinstance(value.slice, ast.Slice):
            value = value.value
        else:
            return value


def _returns(returns: list[ast.Return], params: set[str], assigned: dict) -> tuple[str, str] | None:
    """What every return of the function gives, where all agree on a generator's output or one callee's;
    `return None` aside."""
    kinds = {classify(r.value, params, assigned) for r in returns
             if r.value is not None and not (isinstance(r.value, ast.Constant) and r.value.value is None)}
    if len(kinds) == 1 and next(iter(kinds))[0] in ("generated", "call"):
        return next(iter(kinds))
    return None


def _given(value: ast.AST, params: set[str], assigned: dict[str, list[ast.AST]]) -> tuple[str, str] | None:
    """What a lookup compares the column with, where it is a value the function is given: ("param", its name), or
    ("local", its name) for a local bound once from something else than a constant, a hash or a generator
    (`token = request.json["token"]`); None otherwise (a fresh token checked for a clash is no reader)."""
    inner = _unwrapped(value)
    if not isinstance(inner, ast.Name):
        return None
    if inner.id in params:
        return "param", inner.id
    bound = assigned.get(inner.id, [])
    if len(bound) == 1 and not isinstance(bound[0], ast.Constant) and classify(bound[0], params, assigned)[0] in ("param", "other"):
        return "local", inner.id
    return None


def _queried(call: ast.Call) -> str:
    """`db.query(OAuthCode).filter_by(...)`, `OAuthCode.query.filter_by(...)`: the class queried, or ""."""
    node = call.func.value if isinstance(call.func, ast.Attribute) else None
    while node is not None:
        if isinstance(node, ast.Call):
            if _callee(node) in ("query", "select") and node.args:
                return ast.unparse(node.args[0])
            node = node.func.value if isinstance(node.func, ast.Attribute) else None
        elif isinstance(node, ast.Attribute):
            if node.attr == "query":
                return ast.unparse(node.value)
            node = node.value
        else:
            return ""
    return ""

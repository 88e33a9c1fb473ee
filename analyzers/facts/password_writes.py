"""What the code writes into attributes named like a password: `User(password=...)`, `user.password = ...`,
`self.password = ...` in a method, and what each value is as far as its function tells: hashed on the way
(a call of bcrypt, passlib, `hash_password()` ...), a parameter of the function (its callers decide), a field
of a typed parameter (`user_in.password` where `user_in: UserCreate`: that class's validators decide), or
something else. The rule (MOD004) ties the writes to the password column and follows what it can."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from analyzers.facts.columns import span_of
from analyzers.facts.model import Span
from analyzers.facts.walk import walk

PASSWORD_NAMES = re.compile(r"^(password|passwd|pwd|pass|\w+_password)$")
# passlib's `verify_and_update` answers (ok, new hash) whatever its context is named (`get_password_context()`)
HASHING = re.compile(r"hash|bcrypt|argon2|scrypt|pbkdf2|passlib|pwd_context|crypt|make_password|verify_and_update", re.I)
_WRAPPERS = frozenset(("bytes", "str", "encode", "decode", "strip"))  # bytes(user_in.password, "utf-8"): the same value

Func = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True, slots=True)
class PasswordWrite:
    """One write of a value into a password-like attribute."""

    target: str  # the class called (`User`), or the object written to (`user`, `self.user`; "self" in a method)
    attr: str
    span: Span
    # "hashed", "param", "field", "rehash" (hashes the value already there), "derived" (made from the value already
    # there on another object, a suffix added to lock an account), "constant" (None, or a fixed string such as
    # "!" or "OIDC": a marker, not a password) or "other"
    value: str
    owner: str = ""  # the class whose method writes (for `self`), or ""
    function: str = ""
    detail: str = ""  # param: its name; field: "ClassA|ClassB.field"; other: the value's source, shortened
    signature: Signature | None = None  # param: the writing function's, for following its callers


@dataclass(frozen=True, slots=True)
class Signature:
    """A function's parameters (self and cls aside), and how many a call must give."""

    params: tuple[str, ...]
    required: int

    def argument(self, param: str, args: tuple, keywords: dict):
        """What a call with these arguments passes for `param`, or None when the call does not fit."""
        if len(args) > len(self.params) or len(args) + len(keywords) < self.required or not set(keywords) <= set(self.params):
            return None
        if param in keywords:
            return keywords[param]
        position = self.params.index(param)
        return args[position] if position < len(args) else None


@dataclass(frozen=True, slots=True)
class PasswordPass:
    """A call of a function named like a password setter (`entry.update_password(hashed)`): what it passes,
    classified like a write, so that a setter storing the value it is given can be followed to its callers."""

    callee: str
    span: Span
    owner: str
    function: str
    signature: Signature  # the calling function's: its own callers are followed the same way
    args: tuple[tuple[str, str], ...]  # each positional argument: (value, detail) as PasswordWrite's
    keywords: tuple[tuple[str, str, str], ...]  # (name, value, detail)


# A function that stores the password it is given: set_password, update_password, change_user_password.
SETTER_NAMES = re.compile(r"^_?(set|update|change|reset|store|save|assign)_(\w+_)?(password|passwd|pwd)$", re.I)


def read_password_writes(tree: ast.Module, path: str) -> tuple[list[PasswordWrite], list[PasswordPass]]:
    out: list[PasswordWrite] = []
    passes: list[PasswordPass] = []
    for owner, func in _functions(tree):
        assigned: dict[str, list[ast.AST]] = {}
        for n in walk(func):
            if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], (ast.Name, ast.Attribute)):
                assigned.setdefault(ast.unparse(n.targets[0]), []).append(n.value)
            elif isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Tuple) and isinstance(n.value, ast.Call):
                for elt in n.targets[0].elts:  # `ok, new_hash = hasher.verify_and_update(...)`: each comes from the call
                    if isinstance(elt, ast.Name):
                        assigned.setdefault(elt.id, []).append(n.value)
        _drop_raw_when_empty(func, assigned)
        params = {a.arg: a.annotation for a in (*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs)}
        signature = _signature(func)
        for n in walk(func):
            if isinstance(n, ast.Call):
                callee = n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")
                if SETTER_NAMES.match(callee) and not any(isinstance(a, ast.Starred) for a in n.args) \
                        and all(k.arg for k in n.keywords):
                    passes.append(PasswordPass(
                        callee, span_of(n, path), owner, func.name, signature,
                        tuple(_classify(a, params, assigned, 0) for a in n.args),
                        tuple((k.arg or "", *_classify(k.value, params, assigned, 0)) for k in n.keywords)))
                if not callee[:1].isupper():
                    continue
                for k in n.keywords:
                    if k.arg and PASSWORD_NAMES.match(k.arg):
                        out.append(_write(callee, k.arg, n, k.value, owner, func, params, assigned, path))
            elif isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Attribute) \
                    and PASSWORD_NAMES.match(n.targets[0].attr):
                target = ast.unparse(n.targets[0].value)
                out.append(_write(target, n.targets[0].attr, n, n.value, owner, func, params, assigned, path))
    return out, passes


def _signature(func: Func) -> Signature:
    a = func.args
    positional = [p.arg for p in (*a.posonlyargs, *a.args)]
    skip = 1 if positional[:1] in (["self"], ["cls"]) else 0
    required = len(positional) - skip - len(a.defaults) + sum(d is None for d in a.kw_defaults)
    return Signature(tuple(positional[skip:] + [p.arg for p in a.kwonlyargs]), max(required, 0))


def _functions(tree: ast.Module):
    """(class name or "", function) for every function, methods with their class."""
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            for stmt in node.body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield node.name, stmt
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield "", node


def _drop_raw_when_empty(func: Func, assigned: dict[str, list[ast.AST]]) -> None:
    """`stored = password` then `if password: stored = encrypt(password)`: the raw value stays only when it is
    empty (None, ""), which stores no password; what a non-empty one becomes is the hashed (encrypted) value."""
    for node in walk(func):
        if not (isinstance(node, ast.If) and isinstance(node.test, ast.Name)):
            continue
        given = node.test.id
        for stmt in node.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) and any(
                    isinstance(n, ast.Call) and HASHING.search(ast.unparse(n.func))
                    and any(isinstance(a, ast.Name) and a.id == given for a in walk(n)) for n in walk(stmt.value)):
                name = stmt.targets[0].id
                if name in assigned:
                    assigned[name] = [v for v in assigned[name] if not (isinstance(v, ast.Name) and v.id == given and v.lineno < node.lineno)]


def _write(target, attr, node, value, owner, func, params, assigned, path) -> PasswordWrite:
    kind, detail = _classify(value, params, assigned, 0)
    if any(isinstance(n, ast.Attribute) and n.attr == attr and ast.unparse(n.value) == target for n in walk(value)):
        if target == "self":
            kind, detail = "rehash", ""  # a method of the class: `self.password = hashpw(self.password)`: stored raw first
        elif kind != "hashed":  # `user.password = f"{user.password}{SUFFIX}"`: the stored value changed, no new password
            kind, detail = "derived", ""
    signature = _signature(func) if kind == "param" else None
    return PasswordWrite(target, attr, span_of(node, path), kind, owner, func.name, detail, signature)


def _classify(value: ast.AST, params: dict, assigned: dict, depth: int) -> tuple[str, str]:
    if any(isinstance(n, ast.Call) and HASHING.search(ast.unparse(n.func)) for n in walk(value)):
        return "hashed", ""
    if isinstance(value, ast.Call) and len(value.args) >= 1 and _callee(value) in _WRAPPERS:
        return _classify(value.args[0], params, assigned, depth)
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and _callee(value) in _WRAPPERS:
        return _classify(value.func.value, params, assigned, depth)  # password.encode("utf-8")
    if isinstance(value, ast.Constant) and (isinstance(value.value, str) or value.value is None):
        return "constant", repr(value.value)[:30]  # "!", "OIDC": a marker that no password hashes to; None: none
    if isinstance(value, ast.Name) and value.id in params:
        return "param", value.id
    if isinstance(value, (ast.Name, ast.Attribute)) and depth < 2 and assigned.get(ast.unparse(value)):
        # `user.password = hash(...)` above; of several values (`digest = None`, then `digest = hash(...)` under
        # an if), the None stores no password: hashed when every other value is
        # `digest = codecs.decode(digest, "utf-8")` re-binds the same value: what it is, the other bindings tell
        name = ast.unparse(value)
        given = [v for v in assigned[name] if not (isinstance(v, ast.Constant) and v.value is None)
                 and ast.unparse(_unwrapped(v)) != name]
        kinds = [_classify(v, params, assigned, depth + 1) for v in given]
        if len(kinds) == 1 or (kinds and all(kind == "hashed" for kind, _ in kinds)):
            return kinds[0]
    if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and value.value.id in params:
        classes = _annotated_classes(params[value.value.id])
        if classes:
            return "field", f"{'|'.join(classes)}.{value.attr}"
    return "other", ast.unparse(value)[:60]


def _unwrapped(value: ast.AST) -> ast.AST:
    """The value under conversions that keep it (`codecs.decode(x, "utf-8")`, `x.encode()`, `str(x)`)."""
    while isinstance(value, ast.Call) and _callee(value) in _WRAPPERS:
        if value.args and not isinstance(value.args[0], ast.Constant):
            value = value.args[0]
        elif isinstance(value.func, ast.Attribute):
            value = value.func.value
        else:
            break
    return value


def _callee(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def _annotated_classes(annotation: ast.AST | None) -> list[str]:
    """`UserCreate`, `UserRegister | UserCreate`, `Optional[UserCreate]`, `(A | B)`: the class names."""
    if annotation is None:
        return []
    names = [n.id if isinstance(n, ast.Name) else n.attr for n in walk(annotation) if isinstance(n, (ast.Name, ast.Attribute))]
    return [n for n in names if n[:1].isupper() and n not in ("Optional", "Union", "None", "Annotated")]


def hashed_fields(cls: ast.ClassDef) -> list[str]:
    """Fields whose validator hashes what it is given (pydantic's `@field_validator("password")` or
    `@validator("password")` returning `hash_password(v)`): every value the class takes is hashed."""
    out: list[str] = []
    for stmt in cls.body:
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if not any(isinstance(n, ast.Call) and HASHING.search(ast.unparse(n.func)) for n in walk(stmt)):
            continue
        for deco in stmt.decorator_list:
            if isinstance(deco, ast.Call) and _callee(deco) in ("field_validator", "validator"):
                out += [a.value for a in deco.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    return out

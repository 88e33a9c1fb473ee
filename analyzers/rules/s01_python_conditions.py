"""Section 1 (queries): a query condition that Python evaluates before SQLAlchemy sees it.

`is`, `and`, `or`, `not` and `in` cannot be overloaded, so on SQL expressions they give a Python value (or one of
their operands) and the query gets `filter(False)`, `filter(True)` or half of the condition, without an error. Read
with `ast` from the arguments of the calls that take conditions (`filter`, `where`, `having`, `join`'s on clause,
`and_`, `or_`, `not_`, `case`), and from the local (or module-level) names such an argument is built in. An operand
counts as SQL only where it surely is one: an attribute of a mapped model class of the project (a column or a
relationship it declares) named through the class itself or an `aliased()` of it, `table.c.x`, or sqlalchemy's
`column()` / `literal_column()`. A name that may hold a loaded row, `self.x`, a parameter: not read."""

from __future__ import annotations

import ast
import re
from typing import Iterator

from analyzers.facts.model import Facts, ModuleFacts, Span
from analyzers.facts.names import Names, is_sqlalchemy
from analyzers.facts.paths import is_test_path, is_tooling_path
from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.examples_common import HEADER
from analyzers.rules.s06_app_scoping import module_tree

# methods whose arguments are conditions (join: the on clause after the target)
_CONDITION_METHODS = frozenset(("filter", "where", "having", "join", "outerjoin", "join_from"))
# sqlalchemy functions whose arguments are conditions
_COMBINATORS = frozenset(("and_", "or_", "not_"))
_HINT = re.compile(r"\.(?:filter|where|having|join|outerjoin|join_from)\(|\b(?:and_|or_|not_|case)\(")
_COLUMN_FUNCS = frozenset(("column", "literal_column"))
_ORDERING = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE)
_SCOPES = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.FunctionDef,
           ast.AsyncFunctionDef, ast.ClassDef)

_MODELS = {"app/models.py": HEADER + '''
class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    shop_id: Mapped[int]
    shipped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
'''}


class PythonEvaluatedCondition(Rule):
    """A query condition written with `is`, `and`, `or`, `not` or `in`, which Python evaluates instead of SQL.

    What it checks:
        In the application's code and migrations (tests and scripts left out, command-line tooling info), the conditions handed to `filter`,
        `where`, `having`, a join's on clause, `and_`, `or_`, `not_` and `case`, directly or through a local or
        module-level name they were built in: `Model.col is None` / `is not None`; `a and b` / `a or b` between SQL
        expressions; `not` of one; `Model.col in (...)` / `x in Model.col`; the same column equal to two different
        constants under one AND; a column compared with itself. Only where the operands are surely SQL: an
        attribute (column or relationship) of a mapped model class of the project, named through the class or
        an `aliased()` of it, `table.c.x`, sqlalchemy's `column()` or `literal_column()`. A variable that may hold
        a loaded row, `self.x`, a parameter or a pydantic field is not read.
    Why it matters:
        Python cannot hand these operators to SQLAlchemy. `Order.shipped_at is None` is `False`, so the query runs
        `WHERE false` and returns nothing (`is not None`: no condition, every row; as a term of an OR, the term drops
        out, or the whole OR is true). `Order.status == "paid" and
        Order.shop_id == shop_id` is the first comparison alone (`bool()` of an `==` expression is False), so
        every shop's paid orders come back. `Order.status in ("paid", "sent")` is `False`. Nothing fails: the
        query returns the wrong rows.
    Example:
        def unshipped(session, shop_id):
            return session.scalars(select(Order).where(Order.shipped_at is None, Order.shop_id == shop_id)).all()

        def paid(session, shop_id):
            return session.query(Order).filter(Order.status == "paid" and Order.shop_id == shop_id).all()
    Instead:
        `Order.shipped_at.is_(None)`, `and_(a, b)` (or `a & b`, or several arguments to `where`), `or_(a, b)`,
        `not_(a)` or `~a`, `Order.status.in_(("paid", "sent"))`.
    """

    ID = "CFG022"
    ITEM = "1.5"
    SEVERITY = Severity.WARNING
    INVALID = ({**_MODELS, "app/orders.py": '''
from sqlalchemy import and_, select
from app.models import Order

def unshipped(session, shop_id):
    return session.scalars(select(Order).where(Order.shipped_at is None, Order.shop_id == shop_id)).all()

def paid(session, shop_id):
    return session.query(Order).filter(Order.status == "paid" and Order.shop_id == shop_id).all()

def open_orders(session):
    cond = Order.status in ("new", "paid")
    return session.query(Order).filter(cond).all()

def contradictory(session):
    return session.query(Order).filter(and_(Order.status == "new", Order.status == "paid")).all()
'''},)
    VALID = ({**_MODELS, "app/orders.py": '''
from sqlalchemy import and_, or_, select
from app.models import Order

def unshipped(session, shop_id):
    return session.scalars(select(Order).where(Order.shipped_at.is_(None), Order.shop_id == shop_id)).all()

def paid(session, shop_id, order):
    if order.shipped_at is None and order.status in ("new", "paid"):
        return []
    return session.query(Order).filter(and_(Order.status == "paid", Order.shop_id == shop_id)).all()

def either(session, status, only_new):
    return session.query(Order).filter(or_(Order.status == "new", Order.status == "paid"),
                                       Order.status.in_(("new", "paid"))).all()

def by_param(session, status):
    return session.query(Order).filter(status is None or Order.status == status).all()
'''},)

    def check(self):
        facts = self.facts
        classes = _mapped_classes(facts)
        seen: set[tuple[str, int, str]] = set()
        anchors: dict[str, int] = {}
        for m, tree, names in hinted_modules(facts, _HINT):
            models = _module_models(tree, names, m.path, classes)
            module_bound = _bindings(tree.body)
            # scripts and tooling: info; a migration's data step runs on every database, so it stays a warning
            severity = Severity.INFO if is_tooling_path(m.path) and m.revision is None else None
            for scope, body, params in _scopes(tree):
                reader = _Reader(names, models, module_bound, _bindings(body), params, classes)
                for call, method in _condition_calls(body, names):
                    found = [(*problem, via) for expr, via in reader.conditions(call, method)
                             for problem in reader.problems(expr, method)]
                    found += [(*problem, False) for problem in reader.contradictions(call, method)]
                    for node, kind, message, grade, via in found:
                        if kind == "is" and reader.implied_not_null(node, call, method):
                            grade = Severity.INFO
                            message += (" (the rows are the same here: the same query compares the column, or joins "
                                        "through it, which leaves NULL out already)")
                        written = _short(ast.unparse(node))
                        if (m.path, node.lineno, written) in seen:
                            continue  # one finding a line for one expression (`x is None` twice in one filter)
                        seen.add((m.path, node.lineno, written))
                        anchor = f"function:{m.path}:{scope}:{kind}:{written}"
                        count = anchors[anchor] = anchors.get(anchor, 0) + 1
                        span = Span(m.path, node.lineno, node.end_lineno or node.lineno)
                        related = [(Span(m.path, call.lineno, call.end_lineno or call.lineno),
                                    f"the condition reaches `{method}()` here")] if via else []
                        yield self.finding(
                            f"{scope}: {message}", span,
                            anchor if count == 1 else f"{anchor}#{count}",
                            severity=severity or grade, related=related)


def _short(text: str, size: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 3] + "..."


def _mapped_classes(facts: Facts) -> dict[str, tuple[str, frozenset[str], dict[str, str]]]:
    """Class name -> (its module's path, the attributes it maps: columns and relationships, each relationship's
    target class), for class names that only one mapped class of the project has."""
    out: dict[str, tuple[str, frozenset[str], dict[str, str]]] = {}
    twice: set[str] = set()
    for table in facts.tables.values():
        name = table.class_name
        if not name:
            continue
        if name in out:
            twice.add(name)
        attrs = frozenset({c.attr for c in table.columns.values()} | {r.attr for r in table.relationships})
        out[name] = (table.path, attrs, {r.attr: r.target.rsplit(".", 1)[-1] for r in table.relationships if r.target})
    for name in twice:
        out.pop(name, None)
    return out


def _module_models(tree: ast.Module, names: Names, path: str, classes) -> dict[str, frozenset[str]]:
    """The names of the module that stand for a mapped class: defined here, or imported from the project."""
    out: dict[str, frozenset[str]] = {}
    defined = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    for name, (where, attrs, _) in classes.items():
        if name in defined and where == path:
            out[name] = attrs
    for alias, qualname in names.imports.items():
        head, _, last_part = qualname.rpartition(".")
        if not head or last_part not in classes or alias in defined or is_sqlalchemy(qualname):
            continue
        where = classes[last_part][0]
        dotted = "." + where.removesuffix(".py").removesuffix("/__init__").replace("/", ".") + "."
        if "." + head.lstrip(".") + "." not in dotted and "." + head.lstrip(".") + "." not in dotted + last_part + ".":
            continue  # a class of the same name from elsewhere (a schema, a library's)
        out[alias] = classes[last_part][1]
    return out


def _bindings(body: list[ast.stmt]) -> dict[str, list[ast.AST | None]]:
    """Each name bound in `body` (not in nested functions or classes) -> the values it is bound to: an assigned
    expression, the items appended or added to it, None for any other binding (a loop target, `with`, an import)."""
    out: dict[str, list[ast.AST | None]] = {}
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.setdefault(node.name, []).append(None)
            continue
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out.setdefault(target.id, []).append(node.value)
                else:
                    for n in ast.walk(target):
                        if isinstance(n, ast.Name):
                            out.setdefault(n.id, []).append(None)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out.setdefault(node.target.id, []).append(node.value)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            out.setdefault(node.target.id, []).append(node.value)
        elif isinstance(node, ast.NamedExpr):
            out.setdefault(node.target.id, []).append(node.value)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            for n in ast.walk(node.target):
                if isinstance(n, ast.Name):
                    out.setdefault(n.id, []).append(None)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            for n in ast.walk(node.optional_vars):
                if isinstance(n, ast.Name):
                    out.setdefault(n.id, []).append(None)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            out.setdefault(node.name, []).append(None)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                out.setdefault((a.asname or a.name).split(".")[0], []).append(None)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)
              and node.func.attr in ("append", "extend", "add", "insert") and node.args):
            out.setdefault(node.func.value.id, []).append(node.args[-1] if node.func.attr != "extend" else node.args[0])
        stack.extend(ast.iter_child_nodes(node))
    return out


def hinted_modules(facts: Facts, hint: re.Pattern) -> Iterator[tuple[ModuleFacts, ast.Module, Names]]:
    """The application's modules whose text `hint` finds, with their trees and names (the others are not parsed)."""
    for m in facts.modules:
        if is_test_path(m.path) or not m.path.endswith(".py"):
            continue
        if not hint.search("\n".join(facts.lines(Span(m.path, 1, 10**9)))):
            continue
        tree = module_tree(facts, m.path)
        if tree is not None:
            yield m, tree, Names(tree, m.module, m.path.endswith("__init__.py"))


def _scopes(tree: ast.Module):
    """(name, body, parameters) of the module's level and of each function in it, methods named `Class.method`."""
    yield "<module>", tree.body, frozenset()
    stack: list[tuple[str, ast.AST]] = [("", n) for n in tree.body]
    while stack:
        prefix, node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = node.args
            params = frozenset(x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg] if x)
            yield f"{prefix}{node.name}", node.body, params
            stack.extend((f"{prefix}{node.name}.", n) for n in node.body)
        elif isinstance(node, ast.ClassDef):
            stack.extend((f"{prefix}{node.name}.", n) for n in node.body)
        else:
            stack.extend((prefix, n) for n in ast.iter_child_nodes(node) if isinstance(n, ast.stmt))


def _condition_calls(body: list[ast.stmt], names: Names):
    """The calls of `body` (not of nested functions) that take conditions, with the method's name."""
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in _CONDITION_METHODS:
                yield node, func.attr
            else:
                qualname = names.qualname(func)
                short = qualname.rsplit(".", 1)[-1]
                if qualname and (short in _COMBINATORS or short == "case") and "." in qualname and is_sqlalchemy(qualname):
                    yield node, short
        stack.extend(ast.iter_child_nodes(node))


class _Reader:
    def __init__(self, names: Names, models: dict[str, frozenset[str]], module_bound, local_bound, params,
                 classes) -> None:
        self.names = names
        self.classes = classes
        self.module_bound = module_bound
        self.local = local_bound
        self.params = params
        # a local bound only by imports stays the module's model name; any other binding hides it
        hidden = {n for n, values in local_bound.items() if any(v is not None for v in values)} | set(params)
        self.hidden = hidden | {n for n, values in module_bound.items() if any(v is not None for v in values)}
        self.models = {n: attrs for n, attrs in models.items() if n not in hidden
                       and not (n in module_bound and any(v is not None for v in module_bound[n]))}
        # `alias = aliased(Model)`: every binding of the name in the scope
        for name, values in local_bound.items():
            if name in params or not values:
                continue
            targets = {self._aliased(v) for v in values}
            if len(targets) == 1 and None not in targets:
                self.models[name] = models[targets.pop()]

    def _aliased(self, value: ast.AST | None) -> str | None:
        if (isinstance(value, ast.Call) and self.names.qualname(value.func).rsplit(".", 1)[-1] == "aliased"
                and value.args and isinstance(value.args[0], ast.Name) and value.args[0].id in self.models):
            return value.args[0].id
        return None

    # --- what the conditions are

    def conditions(self, call: ast.Call, method: str):
        """(expression, whether it came through a name) for each condition `call` takes."""
        args: list[ast.AST] = list(call.args)
        if method in ("join", "outerjoin"):
            args = args[1:]
        elif method == "join_from":
            args = args[2:]
        args += [k.value for k in call.keywords if k.arg in ("onclause", "whereclause", "whens")]
        if method == "case":
            whens: list[ast.AST] = []
            for a in args:
                items = a.elts if isinstance(a, (ast.List, ast.Tuple)) and a.elts and all(
                    isinstance(e, ast.Tuple) for e in a.elts) else [a]
                whens += [e.elts[0] for e in items if isinstance(e, ast.Tuple) and e.elts]
            args = whens
        for arg in args:
            yield from self._through(arg, False, 0)

    def _through(self, expr: ast.AST, via: bool, depth: int):
        node = expr.value if isinstance(expr, ast.Starred) else expr
        if isinstance(node, ast.Name) and depth < 3:
            values = self._values(node.id)
            for v in values:
                if v is not None:
                    yield from self._through(v, True, depth + 1)
            return
        if isinstance(node, (ast.List, ast.Tuple)) and via:
            for e in node.elts:
                yield from self._through(e, via, depth + 1)
            return
        yield node, via

    def _values(self, name: str) -> list[ast.AST | None]:
        if name in self.params:
            return []
        if name in self.local:
            return self.local[name]
        return self.module_bound.get(name, [])

    # --- what is surely SQL

    def _model(self, node: ast.AST) -> frozenset[str] | None:
        """The mapped attributes of the model class `node` names: `Model`, or `models.Model` through an imported
        module of the project."""
        if isinstance(node, ast.Name):
            return self.models.get(node.id)
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.attr in self.classes
                and node.value.id in self.names.imports and node.value.id not in self.hidden
                and not is_sqlalchemy(self.names.imports[node.value.id])):
            where = self.classes[node.attr][0]
            dotted = "." + where.removesuffix(".py").removesuffix("/__init__").replace("/", ".") + "."
            if "." + self.names.imports[node.value.id].lstrip(".") + "." in dotted:
                return self.classes[node.attr][1]
        return None

    def orm_attribute(self, node: ast.AST) -> bool:
        """`Model.attr`: an ORM attribute, whose truth value is True (a Core column's is refused)."""
        return isinstance(node, ast.Attribute) and self.column(node) and self._model(node.value) is not None

    def column(self, node: ast.AST) -> bool:
        """A column (or relationship) expression: `Model.attr`, `table.c.x`, `column("x")`."""
        if isinstance(node, ast.Attribute):
            owner = node.value
            attrs = self._model(owner)
            if attrs is not None:
                return node.attr in attrs
            if isinstance(owner, ast.Attribute) and owner.attr == "c" and not (
                    isinstance(owner.value, ast.Name) and owner.value.id in ("self", "cls")):
                return True
            return False
        if isinstance(node, ast.Call):
            qualname = self.names.qualname(node.func)
            return qualname.rsplit(".", 1)[-1] in _COLUMN_FUNCS and "." in qualname and is_sqlalchemy(qualname)
        return False

    def sql(self, node: ast.AST) -> bool:
        """A SQL expression: a column, a comparison or a method call on one, `&`, `|`, `~` or and_()/or_() of them."""
        if self.column(node):
            return True
        if isinstance(node, ast.Compare):
            return len(node.ops) == 1 and isinstance(node.ops[0], _ORDERING) and (
                self.column(node.left) or self.column(node.comparators[0]))
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and self.column(func.value):
                return True
            qualname = self.names.qualname(func)
            return qualname.rsplit(".", 1)[-1] in _COMBINATORS and "." in qualname and is_sqlalchemy(qualname) and any(
                self.sql(a) for a in node.args)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitAnd, ast.BitOr)):
            return self.sql(node.left) or self.sql(node.right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert):
            return self.sql(node.operand)
        return False

    # --- what is wrong

    def problems(self, expr: ast.AST, method: str):
        stack = [(expr, method == "or_")]  # each node, and whether it is a term of an OR
        while stack:
            node, in_or = stack.pop()
            if isinstance(node, _SCOPES):
                continue
            if isinstance(node, ast.IfExp):
                stack += [(node.body, in_or), (node.orelse, in_or)]
                continue
            if isinstance(node, ast.Call) and self._takes_conditions(node):
                continue  # read as a call of its own, with its own AND
            found = self._problem(node, method, in_or)
            if found:
                yield (node, *found)
            ored = in_or or isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr)
            stack.extend((child, ored) for child in ast.iter_child_nodes(node))

    def _problem(self, node: ast.AST, method: str, in_or: bool = False) -> tuple[str, str, Severity | None] | None:
        written = f"`{_short(ast.unparse(node))}`"
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            op, left, right = node.ops[0], node.left, node.comparators[0]
            if isinstance(op, (ast.Is, ast.IsNot)) and (self.column(left) or self.column(right)):
                col = left if self.column(left) else right
                negated = isinstance(op, ast.IsNot)
                fix = "is_not" if negated else "is_"
                other = _short(ast.unparse(right if col is left else left))
                if method == "case":
                    outcome = ("True: its CASE branch is taken for every row" if negated
                               else "False: its CASE branch is never taken")
                elif in_or:  # or_(..., False) drops the term; a True term makes the whole OR true
                    outcome = ("True: the OR it is a term of is true for every row, so the query gets no condition "
                               "from that OR" if negated else "False: that term of the OR never matches, so the OR "
                               "selects only by its other terms")
                else:
                    outcome = ("True: the query gets no condition from it and returns the rows it was meant to leave "
                               "out" if negated else "False: the query gets `WHERE false` and returns no row")
                constant = isinstance(right if col is left else left, ast.Constant)
                instead = (f"{_short(ast.unparse(col))}.{fix}({other})" if constant
                           else f"{_short(ast.unparse(col))} {'!=' if negated else '=='} {other}")
                return "is", (f"{written} is Python's identity test, not SQL's IS: it is always {outcome}; write "
                              f"`{instead}`"), None
            if isinstance(op, (ast.In, ast.NotIn)):
                if self.column(left) and not self.column(right):
                    return "in", (f"{written} is Python's membership test, not SQL's IN: it compares the column with "
                                  f"each item in Python and is always {'True' if isinstance(op, ast.NotIn) else 'False'}"
                                  f", so SQL gets a constant; write `{_short(ast.unparse(left))}."
                                  f"{'not_in' if isinstance(op, ast.NotIn) else 'in_'}(...)`"), None
                if self.column(right):
                    return "in", (f"{written} is Python's membership test on a column, not SQL: SQLAlchemy refuses it "
                                  f"(NotImplementedError) when the query is built; write `{_short(ast.unparse(right))}"
                                  f".contains(...)` or `.in_(...)` as meant"), None
            if isinstance(op, _ORDERING) and self.column(left) and self.column(right) and ast.dump(left) == ast.dump(right):
                always = ("true on every row where the column is not NULL" if isinstance(op, (ast.Eq, ast.LtE, ast.GtE))
                          else "never true")
                return "self", (f"{written} compares a column with itself: it is {always}, so it does not relate the "
                                "rows as meant (another column, the other table's or an alias's, was meant)"), None
        if isinstance(node, ast.BoolOp) and all(self.sql(v) for v in node.values):
            word = "and" if isinstance(node.op, ast.And) else "or"
            fix = "and_" if word == "and" else "or_"
            kept = self._bool_result(node)
            if kept is None:
                outcome = ("Python asks each operand for its truth value, which SQLAlchemy refuses "
                           "(TypeError: Boolean value of this clause is not defined) when the query is built")
            else:
                dropped = ", ".join(f"`{_short(ast.unparse(v), 60)}`" for v in node.values if v is not kept)
                outcome = (f"Python returns one operand, `{_short(ast.unparse(kept))}`, and only it reaches SQL: "
                           f"{dropped} is dropped without an error")
                if all(self.orm_attribute(v) and isinstance(kept, ast.Compare) and ast.dump(v) == ast.dump(kept.left)
                       for v in node.values if v is not kept):
                    outcome += (" (here a truth test of the column the comparison kept already reads, which SQL's "
                                "comparison with NULL mostly stands for: likely the same rows, but not what it says)")
                    return word, f"{written} joins SQL conditions with Python's `{word}`: {outcome}; write `{fix}(...)`", \
                        Severity.INFO
            return word, f"{written} joins SQL conditions with Python's `{word}`: {outcome}; write `{fix}(...)`", None
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not) and self.sql(node.operand):
            operand = node.operand
            truth = True if self.orm_attribute(operand) else _truth(operand)
            if truth is not None:
                value = not truth
                outcome = f"it is always {value}, so SQL gets a constant"
            else:
                outcome = "SQLAlchemy refuses the truth value (TypeError) when the query is built"
            return "not", f"{written} negates a SQL expression with Python's `not`: {outcome}; write `~(...)` or `not_(...)`", None
        return None

    def _bool_result(self, node: ast.BoolOp) -> ast.AST | None:
        """The operand `a and b` / `a or b` evaluates to on SQL expressions, None where it raises."""
        for value in node.values[:-1]:
            truth = True if self.orm_attribute(value) else _truth(value)
            if truth is None:
                return None
            if truth is (not isinstance(node.op, ast.And)):
                return value
        return node.values[-1]

    def contradictions(self, call: ast.Call, method: str):
        """The same column equal to two different constants among the terms one AND joins: the arguments of one
        filter/where call, and_()'s, `&`'s, as written in the call (not through a name)."""
        if method not in ("filter", "where", "having", "and_"):
            return
        terms: list[ast.AST] = []
        for arg in call.args:  # as written: a list built in branches (`if a: conds.append(..) else: ...`) is not one AND
            self._conjuncts(arg, terms)
        equal: dict[str, tuple[ast.AST, object]] = {}
        for term in terms:
            if not (isinstance(term, ast.Compare) and len(term.ops) == 1 and isinstance(term.ops[0], ast.Eq)):
                continue
            col, value = term.left, term.comparators[0]
            if not self.column(col) or not isinstance(value, ast.Constant) or value.value is None:
                continue
            key = ast.dump(col)
            constant = (type(value.value), value.value)
            if key in equal and equal[key][1] != constant:
                first = equal[key][0]
                yield term, "never", (
                    f"`{_short(ast.unparse(first))}` and `{_short(ast.unparse(term))}` are joined by AND: one column "
                    f"cannot equal two different values, so the condition is never true and the query returns no row "
                    f"(`or_()` or `.in_()` was meant?)"), None
                return
            equal.setdefault(key, (term, constant))

    def _takes_conditions(self, call: ast.Call) -> bool:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in _CONDITION_METHODS:
            return True
        qualname = self.names.qualname(func)
        short = qualname.rsplit(".", 1)[-1]
        return (short in _COMBINATORS or short == "case") and "." in qualname and is_sqlalchemy(qualname)

    def implied_not_null(self, node: ast.AST, call: ast.Call, method: str) -> bool:
        """`col is not None` where the same query leaves NULL out already: another condition of its AND (the call's,
        or a filter, where or inner join's on clause earlier in the same chain) compares the column, or an inner join
        reaches through the relationship it tests."""
        if not (isinstance(node, ast.Compare) and isinstance(node.ops[0], ast.IsNot)) or method not in (
                "filter", "where", "having", "and_"):
            return False
        terms: list[ast.AST] = []
        joined: list[ast.AST] = []
        for arg in call.args:
            self._conjuncts(arg, terms)
        link = call.func.value if isinstance(call.func, ast.Attribute) else None
        while isinstance(link, ast.Call) and isinstance(link.func, ast.Attribute):
            name = link.func.attr
            if name in ("filter", "where"):
                for arg in link.args:
                    self._conjuncts(arg, terms)
            elif name == "join" and link.args and not any(k.arg in ("isouter", "full") for k in link.keywords):
                joined.append(link.args[0])
                for arg in link.args[1:]:
                    self._conjuncts(arg, terms)
            link = link.func.value
        col = ast.dump(node.left)

        def reads(side: ast.AST) -> bool:  # the column, or a function of it (`col.cast(Integer)`): NULL stays NULL
            while isinstance(side, ast.Call) and isinstance(side.func, ast.Attribute) and side.func.attr in (
                    "cast", "lower", "upper", "label"):
                side = side.func.value
            return ast.dump(side) == col

        if any(isinstance(t, ast.Compare) and len(t.ops) == 1 and isinstance(t.ops[0], _ORDERING)
               and not any(isinstance(x, ast.Constant) and x.value is None for x in (t.left, t.comparators[0]))
               and (reads(t.left) or reads(t.comparators[0])) for t in terms):
            return True
        # `Build.history is not None` beside `.join(History)` or `.join(Build.history)`: an inner join through it
        left = node.left
        if isinstance(left, ast.Attribute):
            targets = {rels[left.attr] for _, _, rels in self.classes.values() if left.attr in rels}
            for target in joined:
                if ast.dump(target) == col or (isinstance(target, (ast.Name, ast.Attribute)) and
                                               (target.id if isinstance(target, ast.Name) else target.attr) in targets):
                    return True
        return False

    def _conjuncts(self, node: ast.AST, out: list[ast.AST]) -> None:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitAnd):
            self._conjuncts(node.left, out)
            self._conjuncts(node.right, out)
        elif isinstance(node, ast.Call) and self.names.qualname(node.func).rsplit(".", 1)[-1] == "and_" and is_sqlalchemy(
                self.names.qualname(node.func)):
            for a in node.args:
                self._conjuncts(a, out)
        else:
            out.append(node)


def _truth(node: ast.AST) -> bool | None:
    """bool() of a SQL expression as SQLAlchemy gives it: an `==` of two different operands is False, a `!=` True
    (it compares their hashes); anything else raises."""
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.Eq, ast.NotEq)):
        right = node.comparators[0]
        if isinstance(right, ast.Constant) and right.value is None:
            return None  # `== None` is IS NULL, whose truth value is refused
        return isinstance(node.ops[0], ast.NotEq)
    return None

"""An Alembic revision file -> RevisionFact: its place in the graph and every operation of its
upgrade and downgrade, with the SQL inside op.execute parsed."""

from __future__ import annotations

import ast

from analyzers.facts import columns as col
from analyzers.facts.model import ColumnFact, IndexFact, MigrationOp, RevisionFact, Span
from analyzers.facts.names import Names, const_bool, const_str, kwargs, last
from analyzers.facts.strings import Env, constant_env, evaluate, strings_of

_MAX_INLINE_DEPTH = 2
# op.<name>(constraint_or_index_name, table, ...): a batch_op omits the table, second in op's signature.
# Parameter names of op.* (as Alembic spells them), so keyword calls read like positional ones.
_PARAMS = {
    "add_column": ("table_name", "column"), "drop_column": ("table_name", "column_name"),
    "drop_table": ("table_name",), "drop_index": ("index_name", "table_name"),
    "drop_constraint": ("constraint_name", "table_name"), "rename_table": ("old_table_name", "new_table_name"),
    "alter_column": ("table_name", "column_name"), "create_table": ("table_name",),
    "create_index": ("index_name", "table_name", "columns"),
    "create_unique_constraint": ("constraint_name", "table_name", "columns"),
    "create_primary_key": ("constraint_name", "table_name", "columns"),
    "create_check_constraint": ("constraint_name", "table_name", "condition"),
    "create_foreign_key": ("constraint_name", "source_table", "referent_table", "local_cols", "remote_cols"),
    "execute": ("sqltext",),
}
_NOT_OPERATIONS = {
    "get_bind", "get_context", "f", "inline_literal", "implementation_for", "register_operation", "invoke",
    "run_async", "batch_alter_table",
}
_TABLE_SECOND = (
    "create_index", "create_unique_constraint", "create_foreign_key", "create_check_constraint",
    "create_primary_key", "drop_constraint",
)


def is_migration(tree: ast.Module, path: str) -> bool:
    assigned = {
        t.id
        for n in tree.body
        if isinstance(n, (ast.Assign, ast.AnnAssign))
        for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
        if isinstance(t, ast.Name)
    }
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    return "revision" in assigned and "down_revision" in assigned and "upgrade" in defined


def read_revision(tree: ast.Module, names: Names, path: str, env: Env, errors: list) -> RevisionFact:
    values: dict[str, ast.AST] = {}
    spans: dict[str, Span] = {}
    for n in tree.body:
        if isinstance(n, (ast.Assign, ast.AnnAssign)):
            targets = n.targets if isinstance(n, ast.Assign) else [n.target]
            for t in targets:
                if isinstance(t, ast.Name) and n.value is not None:
                    values[t.id] = n.value
                    spans[t.id] = col.span_of(n, path)
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    down = values.get("down_revision")
    downs = _strings(down, env)
    reader = _OpReader(names, path, env, functions)
    upgrade, downgrade = functions.get("upgrade"), functions.get("downgrade")
    doc = ast.get_docstring(tree) or ""
    return RevisionFact(
        path=path,
        revision=const_str(values.get("revision")),
        down_revisions=downs,
        span=spans.get("revision", Span(path, 1, 1)),
        upgrade=reader.ops(upgrade) if upgrade else [],
        downgrade=reader.ops(downgrade) if downgrade else [],
        upgrade_span=col.span_of(upgrade, path) if upgrade else None,
        downgrade_span=col.span_of(downgrade, path) if downgrade else None,
        downgrade_empty=downgrade is None or _is_empty(downgrade),
        message=doc.strip().splitlines()[0] if doc.strip() else None,
        downgrade_raises=downgrade is not None and any(isinstance(s, ast.Raise) for s in downgrade.body),
        branch_labels=_strings(values.get("branch_labels"), env),
        depends_on=_strings(values.get("depends_on"), env),
    )


def _strings(node: ast.AST | None, env: Env) -> tuple[str, ...]:
    if node is None:
        return ()
    return tuple(strings_of(node, env) or ([] if const_str(node) is None else [const_str(node)]))


def _is_empty(func: ast.FunctionDef) -> bool:
    for stmt in func.body:
        if isinstance(stmt, ast.Pass):
            continue
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):  # docstring, ...
            continue
        return False
    return True


class _OpReader:
    def __init__(self, names: Names, path: str, env: Env, functions: dict[str, ast.FunctionDef]) -> None:
        self.names, self.path, self.env, self.functions = names, path, env, functions

    def ops(self, func: ast.FunctionDef) -> list[MigrationOp]:
        out: list[MigrationOp] = []
        self._body(func.body, constant_env(func.body, self.env), {}, out, 0)
        return out

    def _body(self, body: list[ast.stmt], env: Env, batch: dict[str, str], out: list[MigrationOp], depth: int) -> None:
        for stmt in body:
            if isinstance(stmt, ast.For) and isinstance(stmt.target, ast.Name):
                values = strings_of(stmt.iter, env)
                if values is not None:
                    for v in values:
                        self._body(stmt.body, {**env, stmt.target.id: [v]}, batch, out, depth)
                    continue
                self._body(stmt.body, env, batch, out, depth)
            elif isinstance(stmt, (ast.With, ast.AsyncWith)):
                inner = dict(batch)
                for item in stmt.items:
                    call = item.context_expr
                    if isinstance(call, ast.Call) and last(self.names.callee(call)) == "batch_alter_table" and call.args:
                        table = (strings_of(call.args[0], env) or [None])[0]
                        if isinstance(item.optional_vars, ast.Name) and table:
                            inner[item.optional_vars.id] = table
                self._body(stmt.body, env, inner, out, depth)
            elif isinstance(stmt, (ast.If, ast.Try)):
                for part in (stmt.body, getattr(stmt, "orelse", []), getattr(stmt, "finalbody", [])):
                    self._body(part, env, batch, out, depth)
            else:
                for node in ast.walk(stmt):
                    if isinstance(node, ast.Call):
                        self._call(node, env, batch, out, depth)

    def _call(self, call: ast.Call, env: Env, batch: dict[str, str], out: list[MigrationOp], depth: int) -> None:
        func = call.func
        if isinstance(func, ast.Name) and func.id in self.functions and depth < _MAX_INLINE_DEPTH:
            self._inline(self.functions[func.id], call, env, batch, out, depth)
            return
        if isinstance(func, ast.Name) and self.names.qualname(func).startswith("alembic.op."):
            op = self._op(func.id if func.id in _PARAMS else last(self.names.qualname(func)), call, env, None)
            if op is not None:  # from alembic.op import create_table; create_table("t", ...)
                out.append(op)
            return
        if not isinstance(func, ast.Attribute):
            return
        owner = ast.unparse(func.value)
        table_of_batch = batch.get(owner)
        if not (owner == "op" or self.names.qualname(func.value).endswith("alembic.op") or table_of_batch):
            return
        op = self._op(func.attr, call, env, table_of_batch)
        if op is not None:
            out.append(op)

    def _inline(self, func: ast.FunctionDef, call: ast.Call, env: Env, batch: dict[str, str], out: list[MigrationOp], depth: int) -> None:
        """A helper of the migration (`enable_rls("patients")`): read its body with the arguments bound."""
        inner = dict(env)
        params = [a.arg for a in func.args.args]
        for name, arg in zip(params, call.args):
            values = strings_of(arg, env)
            if values is not None:
                inner[name] = values
        for kw in call.keywords:
            values = strings_of(kw.value, env) if kw.arg else None
            if kw.arg and values is not None:
                inner[kw.arg] = values
        self._body(func.body, constant_env(func.body, inner), batch, out, depth + 1)

    def _op(self, name: str, call: ast.Call, env: Env, batch_table: str | None) -> MigrationOp | None:
        if name in _NOT_OPERATIONS:
            return None  # op.get_bind() and friends: helpers, not changes to the schema
        span = col.span_of(call, self.path)
        args = list(call.args)
        kw = kwargs(call)
        params = _PARAMS.get(name, ())
        if batch_table:
            params = tuple(p for p in params if p not in ("table_name", "source_table"))
        for pname in params[len(args):]:  # op.alter_column(table_name="users", column_name="email", ...)
            if pname not in kw:
                break
            args.append(kw[pname])
        try:
            return self._read_op(name, call, args, kw, env, batch_table, span)
        except IndexError:  # a call shaped unlike Alembic's signature: keep that it happened, not what
            return MigrationOp(name, None, span)

    def _read_op(
        self, name: str, call: ast.Call, args: list[ast.expr], kw: dict[str, ast.expr], env: Env,
        batch_table: str | None, span: Span,
    ) -> MigrationOp | None:

        def text(node: ast.AST | None) -> str | None:
            if node is None:
                return None
            values = strings_of(node, env)
            return values[0] if values else const_str(node)

        if batch_table:  # batch_op.add_column(Column(...)): the table is the batch's, where op.* takes it
            if name == "drop_index":
                kw.setdefault("table_name", ast.Constant(batch_table))
            else:
                position = 1 if name in _TABLE_SECOND else 0
                args.insert(min(position, len(args)), ast.Constant(batch_table))
        if name == "execute" and args:
            return self._execute(call, args[0], env, span)
        if name == "create_table" and args:
            table = text(args[0])
            op = MigrationOp(name, table, span)
            for arg in args[1:]:
                if isinstance(arg, ast.Call) and col.is_column_call(arg, self.names):
                    op.columns.append(self._column(arg, table, env))
                elif isinstance(arg, ast.Call):
                    item = col.read_table_item(arg, self.names, self.path, table)
                    if isinstance(item, IndexFact):
                        op.index = item
                    elif item is not None:
                        op.constraints.append(item)
            return op
        if name == "add_column" and len(args) >= 2 and isinstance(args[1], ast.Call):
            table = text(args[0])
            return MigrationOp(name, table, span, columns=[self._column(args[1], table, env)])
        if name in ("drop_column", "drop_table", "drop_index", "drop_constraint", "rename_table", "alter_column"):
            table = text(args[0]) if name != "drop_index" else text(kw.get("table_name")) or (text(args[1]) if len(args) > 1 else None)
            target = text(args[1]) if len(args) > 1 and name != "drop_index" else text(args[0]) if args else None
            if name == "drop_constraint":
                table, target = (text(args[1]) if len(args) > 1 else text(kw.get("table_name"))), text(args[0]) if args else None
            op = MigrationOp(name, table, span, target=target)
            if name == "alter_column":
                op.columns.append(self._altered(call, kw, target or "", table, env))
            return op
        if name == "create_index" and len(args) >= 2:
            table = text(args[1])
            cols = tuple(strings_of(args[2], env) or []) if len(args) > 2 else ()
            where = kw.get("postgresql_where")
            return MigrationOp(
                name,
                table,
                span,
                index=IndexFact(
                    text(args[0]),
                    table,
                    cols,
                    const_bool(kw.get("unique")) or False,
                    None if where is None else (text(where) or _text_arg(where) or ast.unparse(where)),
                    text(kw.get("postgresql_using")),
                    span,
                ),
            )
        if name in ("create_unique_constraint", "create_check_constraint", "create_foreign_key", "create_primary_key"):
            return self._constraint(name, args, kw, span, env)
        return MigrationOp(name, text(args[0]) if args else None, span)

    def _constraint(self, name: str, args: list[ast.expr], kw: dict[str, ast.expr], span: Span, env: Env) -> MigrationOp:
        from analyzers.facts.model import ConstraintFact

        def strs(node: ast.AST | None) -> tuple[str, ...]:
            return tuple(strings_of(node, env) or []) if node is not None else ()

        cname = const_str(args[0]) if args else None
        table = (strings_of(args[1], env) or [None])[0] if len(args) > 1 else None
        if name == "create_foreign_key":
            local = strs(args[3]) if len(args) > 3 else strs(kw.get("local_cols"))
            referent = (strings_of(args[2], env) or [""])[0] if len(args) > 2 else ""
            remote = strs(args[4]) if len(args) > 4 else strs(kw.get("remote_cols"))
            c = ConstraintFact("foreign_key", cname, local, None, span, const_str(kw.get("ondelete")), f"{referent}.{remote[0] if remote else 'id'}")
        elif name == "create_check_constraint":
            expr = args[2] if len(args) > 2 else kw.get("condition")
            c = ConstraintFact("check", cname, (), const_str(expr) or (ast.unparse(expr) if expr else None), span)
        else:
            kind = "unique" if name == "create_unique_constraint" else "primary_key"
            c = ConstraintFact(kind, cname, strs(args[2]) if len(args) > 2 else strs(kw.get("columns")), None, span)
        return MigrationOp(name, table, span, constraints=[c])

    def _execute(self, call: ast.Call, arg: ast.AST, env: Env, span: Span) -> MigrationOp | None:
        from analyzers.facts.python_module import sql_use

        texts = evaluate(arg, env, self.names)
        if not texts:
            return MigrationOp("execute", None, span)
        use = sql_use(texts[0].value, texts[0].formatted, False, call, _literal(arg, self.names), self.path, None)
        for extra in texts[1:]:
            more = sql_use(extra.value, extra.formatted, False, call, _literal(arg, self.names), self.path, None)
            use.statements.extend(more.statements)
        return MigrationOp("execute", use.statements[0].table if use.statements else None, span, sql=use)

    def _column(self, call: ast.Call, table: str | None, env: Env) -> ColumnFact:
        if call.args and const_str(call.args[0]) is None and isinstance(call.args[0], (ast.JoinedStr, ast.Name, ast.BinOp)):
            name = strings_of(call.args[0], env)  # sa.Column(f"{col}_new", ...) in a loop over constants
            if name and len(name) == 1:
                call = ast.Call(call.func, [ast.copy_location(ast.Constant(name[0]), call.args[0]), *call.args[1:]], call.keywords)
                ast.copy_location(call, call.args[0])
                call.end_lineno = getattr(call.args[-1], "end_lineno", call.lineno)
        return col.read_column(call, "", None, self.names, self.path, table or "")

    def _altered(self, call: ast.Call, kw: dict[str, ast.expr], column: str, table: str | None, env: Env) -> ColumnFact:
        new_name = (strings_of(kw["new_column_name"], env) or [None])[0] if "new_column_name" in kw else None
        typ = col.read_type(kw["type_"], self.names) if "type_" in kw else None
        return ColumnFact(
            name=column, attr=new_name or column, type_name=typ[0] if typ else None, type_args=typ[1] if typ else {},
            nullable=const_bool(kw.get("nullable")), implied_nullable=True, primary_key=False, unique=False,
            index=False, default=None, server_default=None if "server_default" not in kw else ast.unparse(kw["server_default"]),
            onupdate=None, foreign_keys=[], span=col.span_of(call, self.path), declared_in=table or "",
        )


def _text_arg(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call) and node.args:
        return const_str(node.args[0])
    return None


def _literal(arg: ast.AST, names: Names) -> ast.AST:
    """The string literal node inside op.execute(...) (through text(...)), for statement lines."""
    if isinstance(arg, ast.Call) and last(names.callee(arg)) == "text" and arg.args:
        return arg.args[0]
    return arg

"""SQL found in Python source, parsed with pglast into the statements rules care about."""

from __future__ import annotations

import functools
import re

from analyzers.facts.model import Span, SqlStatement

_HOLE = re.compile(r"\{[^{}]*\}")
DYNAMIC = "dbreview_dynamic"  # what stands for a value formatted into the text
# Driver-style parameters (`:name`, `%(name)s`, `%s`) are not PostgreSQL syntax; `$1` is.
_PARAM = re.compile(r"(?<![:\w]):[A-Za-z_]\w*|%\(\w+\)s|%s")
_EXPANDING = re.compile(r"\b(IN)\s+:[A-Za-z_]\w*", re.I)  # bindparam(expanding=True): a list in parentheses at run time


NO_PARSER = "SQL not read: pglast, the SQL parser dbreview needs, is not installed in this Python (reinstall dbreview)"
NO_PARSER_PATH = "<pglast>"  # the scan error that says so once, for the whole scan


_STORAGE = re.compile(r"^\s*ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?[\w.\"]+\s+(?:RE)?SET\s*\(", re.I)


def sets_storage_only(st: SqlStatement) -> bool:
    """`ALTER TABLE t SET (autovacuum_vacuum_scale_factor = 0.01)`: storage parameters only, under a SHARE UPDATE
    EXCLUSIVE lock, which neither reads nor writes of the table wait for."""
    return st.kind == "alter_table" and not st.details.get("changes") and _STORAGE.match(st.text) is not None


@functools.cache
def parser_missing() -> bool:
    """Is pglast absent? Looked up, not imported: a scan with no SQL in it never pays for the import."""
    import importlib.util

    try:
        return importlib.util.find_spec("pglast") is None
    except (ImportError, ValueError):
        return True


def parse_statements(text: str, span: Span, formatted: bool = True) -> tuple[list[SqlStatement], str | None]:
    """Statements of `text` with the line each starts on; an error message when pglast cannot parse.

    `span` is where the string literal sits; a statement's line is found from its offset in the text. `formatted`:
    the text was built with values spliced in, written `{...}`; else braces are SQL's own (`'{}'::text[]`).
    """
    try:  # imported on first SQL: most files have none
        from pglast import parse_sql
        from pglast.parser import ParseError
    except ImportError:  # a broken install: read like SQL that does not parse, never as SQL that is not there
        return [_guess(text, span)], NO_PARSER

    sql = _for_parser(text, formatted)
    try:
        raws = parse_sql(sql)
    except ParseError as exc:
        return [_guess(text, span)], f"SQL could not be parsed ({exc.args[0] if exc.args else exc})"
    out = []
    encoded = sql.encode()  # pglast reports byte offsets
    for raw in raws:
        start = raw.stmt_location or 0
        end = start + raw.stmt_len if raw.stmt_len else len(encoded)
        piece = encoded[start:end].decode(errors="replace")
        before = encoded[:start].decode(errors="replace") + piece[: len(piece) - len(piece.lstrip())]
        first = min(span.start + before.count("\n"), span.end)
        # one statement: the whole literal (implicitly joined literals have no newlines where the lines break)
        last = span.end if len(raws) == 1 else min(first + piece.strip().count("\n"), span.end)
        stmt_span = Span(span.path, first, last)
        body = _do_body(raw.stmt)
        if body is not None:
            out.extend(_inside_do(body, piece, stmt_span) or [_classify(raw.stmt, piece.strip(), stmt_span)])
        else:
            out.extend(_each_setting(_classify(raw.stmt, piece.strip().replace(DYNAMIC, "{?}"), stmt_span)))
    return out, None


def _each_setting(st: SqlStatement) -> list[SqlStatement]:
    """A SELECT of several set_config() calls sets each of them: one statement per setting, as for SETs."""
    found = _SET_CONFIG.findall(st.text) if st.kind == "set_config" else []
    if len(found) <= 1:
        return [st]
    return [SqlStatement("set_config", None, st.span, st.text, {"name": name, "value": value.strip(), "local": local.lower() == "true"})
            for name, value, local in found]


def _for_parser(text: str, formatted: bool = True) -> str:
    return _PARAM.sub("$1", _EXPANDING.sub(r"\1 ($1)", _HOLE.sub(DYNAMIC, text) if formatted else text))


@functools.lru_cache(maxsize=512)
def statement_trees(text: str, formatted: bool = True) -> tuple[object, ...] | None:
    """pglast's trees of the statements in `text` (driver parameters read as `$1`), None when it does not parse;
    for rules that read the logic of a statement rather than what it changes."""
    if parser_missing():
        return None
    from pglast import parse_sql
    from pglast.parser import ParseError

    try:
        return tuple(raw.stmt for raw in parse_sql(_for_parser(text, formatted)))
    except ParseError:
        return None


def bind_names(text: str) -> set[str]:
    """The names of the driver parameters written in `text` (`:name`, `%(name)s`)."""
    return {m.group(0).lstrip(":").removeprefix("%(").removesuffix(")s") for m in _PARAM.finditer(text) if m.group(0) != "%s"}


_PLPGSQL_CONTROL = re.compile(
    r"^\s*(?:(?:BEGIN|ELSE|DECLARE|LOOP|EXCEPTION)\b|(?:ELS)?IF\b.*?\bTHEN\b|WHEN\b.*?\bTHEN\b|"
    r"(?:FOREACH|FOR|WHILE)\b.*?\bLOOP\b)\s*",
    re.I | re.S,
)
_ARRAY_LITERAL = r"ARRAY\s*\[([^\]]*)\]"
_DECLARED_ARRAY = re.compile(r"(\w+)\s+\w+(?:\s*\[\s*\])?\s*(?::=|=|DEFAULT)\s*" + _ARRAY_LITERAL, re.I)
_LOOP_ARRAY = re.compile(
    r"FOREACH\s+(\w+)\s+IN\s+ARRAY\s+(?:" + _ARRAY_LITERAL + r"|(\w+))"
    r"|FOR\s+(\w+)\s+IN\s+SELECT\s+unnest\s*\(\s*(?:" + _ARRAY_LITERAL + r"|(\w+))",
    re.I,
)
_COMMENT = re.compile(r"--[^\n]*")
# A DO block that asks the catalog whether something is there before it changes it.
_CATALOG_GUARD = re.compile(r"\bIF\s+(NOT\s+)?EXISTS\s*\(\s*SELECT\b[^;]*?\bFROM\s+(information_schema|pg_catalog|pg_)\w*", re.I | re.S)
_EXECUTE_FORMAT = re.compile(r"^EXECUTE\s+format\s*\(\s*'((?:[^']|'')*)'\s*((?:,[^;]*)?)\)\s*$", re.I | re.S)
_EXECUTE_LITERAL = re.compile(r"^EXECUTE\s+'((?:[^']|'')*)'\s*$", re.I | re.S)


def _quoted(values: str) -> list[str]:
    return [v.replace("''", "'") for v in re.findall(r"'((?:[^']|'')*)'", values)]


def _loop_values(body: str) -> dict[str, list[str]]:
    """Loop variables of a DO block that run over constant arrays: FOREACH t IN ARRAY ARRAY['a', 'b']."""
    declared = {m.group(1).lower(): _quoted(m.group(2)) for m in _DECLARED_ARRAY.finditer(body)}
    out: dict[str, list[str]] = {}
    for m in _LOOP_ARRAY.finditer(body):
        var = m.group(1) or m.group(4)
        literal = m.group(2) if m.group(1) else m.group(5)
        named = m.group(3) if m.group(1) else m.group(6)
        values = _quoted(literal) if literal is not None else declared.get((named or "").lower())
        if var and values:
            out[var.lower()] = values
    return out


def _dynamic(text: str, loops: dict[str, list[str]]) -> list[str] | None:
    """The statements an EXECUTE runs, when its format() arguments are loop variables over constants."""
    m = _EXECUTE_LITERAL.match(text)
    if m:
        return [m.group(1).replace("''", "'")]
    m = _EXECUTE_FORMAT.match(text)
    if not m:
        return None
    template = m.group(1).replace("''", "'")
    args = [a.strip() for a in m.group(2).lstrip(",").split(",") if a.strip()]
    names = [re.sub(r"^quote_(?:ident|literal)\s*\(\s*(\w+)\s*\)$", r"\1", a, flags=re.I).lower() for a in args]
    variables = {n for n in names}
    if len(variables) != 1 or next(iter(variables)) not in loops:
        return None if args else [template]
    out = []
    for value in loops[next(iter(variables))]:
        filled = template
        for _ in names:
            filled = re.sub(r"%[ILs]|\$1", value.replace("\\", "\\\\"), filled, count=1)
        out.append(filled)
    return out


def _template(text: str) -> dict[str, object]:
    """What an EXECUTE format() that cannot be expanded runs, read from its template with the values
    unknown: `CREATE USER %I` is a role whatever %I is; {} when the template does not parse."""
    from pglast import parse_sql
    from pglast.parser import ParseError

    m = _EXECUTE_FORMAT.match(text)
    if not m:
        return {}
    sql = re.sub(r"%[Is]", DYNAMIC, m.group(1).replace("''", "'").replace("%L", f"'{DYNAMIC}'"))
    try:
        (raw,) = parse_sql(sql)
    except (ParseError, ValueError):
        return {}
    st = _classify(raw.stmt, sql.replace(DYNAMIC, "{?}"), Span("", 0, 0))
    return {"template": st.kind, "template_table": st.table, "template_text": st.text}


def _do_body(stmt: object) -> str | None:
    from pglast import ast

    if not isinstance(stmt, ast.DoStmt):
        return None
    for arg in stmt.args or ():
        if arg.defname == "as":
            return arg.arg.sval
    return None


def _inside_do(body: str, piece: str, span: Span) -> list[SqlStatement]:
    """The plain SQL statements of a PL/pgSQL DO block (`IF ... THEN ALTER TABLE ...; END IF;`).

    Control flow is peeled off each `;`-separated chunk; what then parses as SQL is kept, with the
    line it sits on. `EXECUTE format('... %I ...', t)` is expanded when `t` loops over a constant array;
    other dynamic SQL becomes a `dynamic_sql` statement: seen, not read."""
    from pglast import parse_sql
    from pglast.parser import ParseError

    stripped = piece.lstrip()  # span.start is the line of its first character
    base = stripped.find(body)
    body = _COMMENT.sub(lambda m: " " * len(m.group()), body)  # `-- check first` before an IF hides the IF
    base_line = span.start + (stripped[:base].count("\n") if base >= 0 else 0)
    out = []
    offset = 0
    loops: dict[str, list[str]] | None = None
    guarded = bool(_CATALOG_GUARD.search(body))
    for chunk in body.split(";"):
        start = offset
        offset += len(chunk) + 1
        text = chunk
        while True:
            peeled = _PLPGSQL_CONTROL.sub("", text, count=1)
            if peeled == text:
                break
            text = peeled
        text = text.strip()
        if not text:
            continue
        line = base_line + body[: start + chunk.find(text[:20])].count("\n") if text[:20] in chunk else base_line
        line = min(line, span.end)
        here = Span(span.path, line, min(line + text.count("\n"), span.end))
        if text.upper().startswith("EXECUTE"):
            if loops is None:
                loops = _loop_values(body)
            expanded = _dynamic(text, loops)
            if expanded is None:
                out.append(SqlStatement("dynamic_sql", None, here, text, _template(text)))
                continue
            for sql in expanded:
                try:
                    out.extend(_classify(raw.stmt, sql, here) for raw in parse_sql(sql))
                except ParseError:
                    out.append(SqlStatement("dynamic_sql", None, here, text))
            continue
        if text.upper().startswith(("END", "RAISE", "PERFORM", "RETURN", "NULL")):
            continue
        try:
            raws = parse_sql(text)
        except ParseError:
            continue
        for raw in raws:
            out.append(_classify(raw.stmt, text.replace(DYNAMIC, "{?}"), here))
    if guarded:  # IF [NOT] EXISTS (SELECT ... FROM pg_trigger / information_schema ...) THEN CREATE ...
        for st in out:
            st.details["guarded"] = True
    return out


def _classify(stmt: object, text: str, span: Span) -> SqlStatement:
    from pglast import ast, enums
    from pglast.stream import RawStream

    def deparse(node: object) -> str | None:
        return None if node is None else RawStream()(node)

    def rel(r: object) -> str | None:
        return getattr(r, "relname", None)

    if isinstance(stmt, ast.AlterTableStmt):
        kinds = {
            enums.AlterTableType.AT_EnableRowSecurity: "enable_rls",
            enums.AlterTableType.AT_ForceRowSecurity: "force_rls",
            enums.AlterTableType.AT_DisableRowSecurity: "disable_rls",
            enums.AlterTableType.AT_NoForceRowSecurity: "noforce_rls",
        }
        for cmd in stmt.cmds or ():
            if cmd.subtype in kinds:
                return SqlStatement(kinds[cmd.subtype], rel(stmt.relation), span, text)
        if any(_mysql_index(cmd) for cmd in stmt.cmds or ()):
            return _guess(text, span)  # not PostgreSQL: read as SQL that does not parse
        return SqlStatement("alter_table", rel(stmt.relation), span, text, _alter_details(stmt, deparse))
    if isinstance(stmt, ast.RenameStmt) and stmt.relation is not None:
        if stmt.renameType == enums.ObjectType.OBJECT_COLUMN:
            return SqlStatement("rename_column", rel(stmt.relation), span, text, {"old": stmt.subname, "new": stmt.newname})
        if stmt.renameType == enums.ObjectType.OBJECT_TABLE:
            return SqlStatement("rename_table", rel(stmt.relation), span, text, {"new": stmt.newname})
        if stmt.renameType == enums.ObjectType.OBJECT_INDEX:  # ALTER INDEX old RENAME TO new: of no table by name
            return SqlStatement("rename_index", None, span, text, {"old": rel(stmt.relation), "new": stmt.newname})
    if isinstance(stmt, ast.CreateStmt) and stmt.relation is not None:
        defs = [e for e in stmt.tableElts or () if isinstance(e, ast.ColumnDef)]
        columns = [e.colname for e in defs]
        defaults = {e.colname: deparse(c.raw_expr) for e in defs for c in e.constraints or ()
                    if c.contype == enums.ConstrType.CONSTR_DEFAULT}  # `created_at timestamptz NOT NULL DEFAULT now()`
        not_null = [e.colname for e in defs if any(c.contype in (enums.ConstrType.CONSTR_NOTNULL, enums.ConstrType.CONSTR_PRIMARY)
                                                   for c in e.constraints or ())]
        details = {"columns": columns, "defaults": defaults, "not_null": not_null,
                   "temporary": stmt.relation.relpersistence == "t", "if_exists": bool(stmt.if_not_exists),
                   "primary_key": _create_primary_key(stmt, defs)}
        if stmt.partbound is not None and stmt.inhRelations:  # CREATE TABLE ... PARTITION OF parent: dropped with it
            details["partition_of"] = rel(stmt.inhRelations[0])
        return SqlStatement("create_table", rel(stmt.relation), span, text, details)
    if isinstance(stmt, ast.CreateTableAsStmt) and stmt.into is not None and stmt.objtype == enums.ObjectType.OBJECT_TABLE:
        relation = stmt.into.rel
        return SqlStatement("create_table", rel(relation), span, text, {"columns": [], "temporary": relation.relpersistence == "t", "if_exists": bool(stmt.if_not_exists)})
    if isinstance(stmt, ast.ViewStmt) and stmt.view is not None:  # a view: no keys, defaults or checks of its own
        return SqlStatement("create_view", None, span, text, {"name": rel(stmt.view), "materialized": False})
    if isinstance(stmt, ast.CreateTableAsStmt) and stmt.into is not None and stmt.objtype == enums.ObjectType.OBJECT_MATVIEW:
        return SqlStatement("create_view", None, span, text, {"name": rel(stmt.into.rel), "materialized": True})
    if isinstance(stmt, ast.CreatePolicyStmt):
        return SqlStatement(
            "create_policy",
            rel(stmt.table),
            span,
            text,
            {
                "name": stmt.policy_name,
                "command": stmt.cmd_name,
                "permissive": bool(stmt.permissive),
                "roles": [deparse(r) for r in stmt.roles or ()],
                "using": deparse(stmt.qual),
                "with_check": deparse(stmt.with_check),
            },
        )
    if isinstance(stmt, ast.CreateTrigStmt):
        events = []
        for bit, name in ((4, "INSERT"), (8, "DELETE"), (16, "UPDATE"), (32, "TRUNCATE")):
            if stmt.events & bit:
                events.append(name)
        func = ".".join(s.sval for s in stmt.funcname)
        return SqlStatement(
            "create_trigger", rel(stmt.relation), span, text,
            {"name": stmt.trigname, "function": func, "events": events, "replace": bool(stmt.replace)},
        )
    if isinstance(stmt, ast.CreateFunctionStmt):
        name = ".".join(s.sval for s in stmt.funcname)
        return SqlStatement("create_function", None, span, text, {"name": name, **_function_options(stmt.options)} | {
            "returns": ".".join(n.sval for n in stmt.returnType.names) if stmt.returnType is not None else None,
            "replace": bool(stmt.replace),
        })
    if isinstance(stmt, ast.AlterFunctionStmt) and stmt.func is not None:
        name = ".".join(s.sval for s in stmt.func.objname)
        return SqlStatement("alter_function", None, span, text, {"name": name, **_function_options(stmt.actions)})
    if isinstance(stmt, ast.GrantStmt):
        privileges = [p.priv_name for p in stmt.privileges or ()] or ["all"]
        tables = [rel(o) for o in stmt.objects or () if rel(o)]
        kind = "grant" if stmt.is_grant else "revoke"
        return SqlStatement(kind, tables[0] if tables else None, span, text, {"privileges": privileges, "tables": tables})
    if isinstance(stmt, ast.IndexStmt):
        cols = tuple(p.name or deparse(p.expr) or "" for p in stmt.indexParams or ())
        return SqlStatement(
            "create_index",
            rel(stmt.relation),
            span,
            text,
            {"name": stmt.idxname, "unique": bool(stmt.unique), "where": deparse(stmt.whereClause), "using": stmt.accessMethod, "columns": cols,
             "concurrent": bool(stmt.concurrent), "if_exists": bool(stmt.if_not_exists)},
        )
    if isinstance(stmt, ast.VariableSetStmt):
        if stmt.kind == enums.VariableSetKind.VAR_RESET_ALL:
            return SqlStatement("reset_all", None, span, text)
        if stmt.kind == enums.VariableSetKind.VAR_RESET:
            return SqlStatement("reset", None, span, text, {"name": stmt.name})
        # SET TRANSACTION ... (READ ONLY, ISOLATION LEVEL, SNAPSHOT) ends with the transaction, as SET LOCAL does
        local = stmt.is_local or (stmt.name or "").startswith("TRANSACTION")
        return SqlStatement("set_local" if local else "set", None, span, text, {"name": stmt.name})
    if isinstance(stmt, ast.DiscardStmt):
        return SqlStatement("discard_all" if stmt.target == enums.DiscardMode.DISCARD_ALL else "discard", None, span, text)
    if isinstance(stmt, ast.TransactionStmt):
        return SqlStatement(stmt.kind.name.removeprefix("TRANS_STMT_").lower(), None, span, text)
    if isinstance(stmt, ast.DropStmt):
        objects = [_dropped(o) for o in stmt.objects or ()]
        kind = stmt.removeType.name
        if kind == "OBJECT_POLICY" and objects and len(objects[0]) >= 2:  # (schema?, table, policy)
            return SqlStatement("drop_policy", objects[0][-2], span, text, {"name": objects[0][-1], "if_exists": bool(stmt.missing_ok)})
        on = [o[-2] if len(o) >= 2 else None for o in objects] if kind in ("OBJECT_TRIGGER", "OBJECT_RULE") else []
        return SqlStatement("drop", None, span, text, {
            "type": kind, "names": [o[-1] for o in objects if o], "if_exists": bool(stmt.missing_ok),
            "schemas": [o[-2] if len(o) >= 2 else None for o in objects if o],  # a table's schema, as written (or None)
            "concurrent": bool(stmt.concurrent), "on": on,  # a trigger's table
        })
    if isinstance(stmt, (ast.UpdateStmt, ast.DeleteStmt, ast.InsertStmt)) and stmt.relation is not None:
        return SqlStatement(type(stmt).__name__, None, span, text, {"dml_table": rel(stmt.relation)})  # rows, not the schema
    if isinstance(stmt, ast.SelectStmt) and "set_config" in text.lower():
        return SqlStatement("set_config", None, span, text, _set_config_args(text))
    return SqlStatement(type(stmt).__name__, None, span, text)


def _function_options(options) -> dict[str, object]:
    """What CREATE/ALTER FUNCTION says about how the function runs: SECURITY DEFINER, the settings it pins
    (`SET search_path = public, pg_temp`), its language."""
    out: dict[str, object] = {"settings": []}
    for opt in options or ():
        if opt.defname == "security":
            out["security_definer"] = bool(getattr(opt.arg, "boolval", False))
        elif opt.defname == "set" and getattr(opt.arg, "name", None):
            out["settings"].append(opt.arg.name.lower())  # type: ignore[union-attr]
        elif opt.defname == "language":
            out["language"] = getattr(opt.arg, "sval", None)
    return out


def _dropped(o: object) -> tuple[str, ...]:
    """A dropped object's name parts: (schema?, table?, name); a function's without its arguments."""
    if isinstance(o, tuple):
        return tuple(getattr(p, "sval", "") for p in o)
    if getattr(o, "objname", None):  # ObjectWithArgs: DROP FUNCTION f(...)
        return tuple(getattr(p, "sval", "") for p in o.objname)
    if getattr(o, "names", None):  # TypeName: DROP TYPE / DROP DOMAIN
        return tuple(getattr(p, "sval", "") for p in o.names)
    return (getattr(o, "sval", ""),)


def _type_name(node: object, deparse) -> str | None:
    """`varchar(20)`, `numeric(10, 2)`, `timestamptz`: a column type as PostgreSQL spells it, no schema."""
    if node is None:
        return None
    names = [getattr(s, "sval", "") for s in node.names or ()]
    base = deparse(node) or ""
    return base.removeprefix("pg_catalog.") if names and names[0] == "pg_catalog" else base


def _constraint_columns(con: object) -> tuple[str, ...]:
    """The columns a constraint added by ALTER TABLE is on: its key, or those its CHECK expression reads."""
    from pglast import ast
    from pglast.visitors import Visitor

    keys = [getattr(k, "sval", "") for k in (con.fk_attrs or con.keys or ())]
    if con.raw_expr is not None:
        class Refs(Visitor):
            def visit_ColumnRef(self, ancestors, node):
                keys.append(getattr(node.fields[-1], "sval", ""))

        Refs()(con.raw_expr)
    return tuple(k for k in keys if k)


def _column_change(cmd: object, deparse) -> dict[str, object] | None:
    """One ALTER TABLE command that the migration-safety rules and the replay weigh: a column added (NOT
    NULL? its default?), a type changed, SET/DROP NOT NULL, a default set or dropped, a constraint added
    (NOT VALID? USING INDEX?)."""
    from pglast import ast, enums

    at = enums.AlterTableType
    if cmd.subtype == at.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
        constraints = cmd.def_.constraints or ()
        kinds = {c.contype for c in constraints}
        default = next((deparse(c.raw_expr) for c in constraints if c.contype == enums.ConstrType.CONSTR_DEFAULT), None)
        return {"what": "add_column", "column": cmd.def_.colname, "type": _type_name(cmd.def_.typeName, deparse),
                "not_null": bool(kinds & {enums.ConstrType.CONSTR_NOTNULL, enums.ConstrType.CONSTR_PRIMARY}),
                "default": default, "identity": enums.ConstrType.CONSTR_IDENTITY in kinds,
                "generated": enums.ConstrType.CONSTR_GENERATED in kinds}
    if cmd.subtype == at.AT_AlterColumnType and isinstance(cmd.def_, ast.ColumnDef):
        return {"what": "alter_type", "column": cmd.name, "type": _type_name(cmd.def_.typeName, deparse),
                "using": deparse(cmd.def_.raw_default) if cmd.def_.raw_default is not None else None}
    if cmd.subtype == at.AT_SetNotNull:
        return {"what": "set_not_null", "column": cmd.name}
    if cmd.subtype == at.AT_DropNotNull:
        return {"what": "drop_not_null", "column": cmd.name}
    if cmd.subtype == at.AT_ColumnDefault:
        if cmd.def_ is None:
            return {"what": "drop_default", "column": cmd.name}
        return {"what": "set_default", "column": cmd.name, "default": deparse(cmd.def_)}
    if cmd.subtype == at.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
        con = cmd.def_
        return {"what": "add_constraint", "kind": con.contype.name.removeprefix("CONSTR_").lower(), "name": con.conname,
                "not_valid": bool(con.skip_validation), "using_index": con.indexname, "columns": _constraint_columns(con)}
    if cmd.subtype == at.AT_ValidateConstraint:
        return {"what": "validate_constraint", "name": cmd.name}
    return None


def _mysql_index(cmd: object) -> bool:
    """MySQL's `ADD INDEX ix_name (col)` (or KEY), which PostgreSQL's grammar takes for a column `index` of a type
    `ix_name` whose modifier is a column: no type of PostgreSQL's is modified by a column."""
    from pglast import ast, enums

    return cmd.subtype == enums.AlterTableType.AT_AddColumn and getattr(cmd.def_, "typeName", None) is not None and any(
        isinstance(m, ast.ColumnRef) for m in cmd.def_.typeName.typmods or ())  # type: ignore[attr-defined]


def _alter_details(stmt: object, deparse) -> dict[str, object]:
    """Constraints an ALTER TABLE adds or drops, so the replayed schema follows SQL migrations too."""
    from pglast import enums

    added: list[dict[str, object]] = []
    dropped: list[str] = []
    kinds = {
        enums.ConstrType.CONSTR_UNIQUE: "unique", enums.ConstrType.CONSTR_CHECK: "check",
        enums.ConstrType.CONSTR_FOREIGN: "foreign_key", enums.ConstrType.CONSTR_PRIMARY: "primary_key",
    }
    table = getattr(stmt.relation, "relname", None)  # type: ignore[attr-defined]
    added_columns: list[str] = []
    dropped_columns: list[str] = []
    triggers = set()
    maybe = False
    toggles = _trigger_toggles()
    changes = [c for c in (_column_change(cmd, deparse) for cmd in stmt.cmds or ()) if c]  # type: ignore[attr-defined]
    for cmd in stmt.cmds or ():  # type: ignore[attr-defined]
        if cmd.missing_ok:  # ADD COLUMN IF NOT EXISTS, DROP COLUMN IF EXISTS: it may or may not be there before
            maybe = True
        if cmd.subtype in toggles:
            triggers.add(toggles[cmd.subtype])
        elif cmd.subtype == enums.AlterTableType.AT_AddColumn and getattr(cmd.def_, "colname", None):
            added_columns.append(cmd.def_.colname)
            added += [{"kind": kinds[c.contype], "name": c.conname or _default_name(table, kinds[c.contype], [cmd.def_.colname]),
                       "columns": [cmd.def_.colname], "expression": None}
                      for c in cmd.def_.constraints or () if c.contype in (enums.ConstrType.CONSTR_PRIMARY, enums.ConstrType.CONSTR_UNIQUE)]
        elif cmd.subtype == enums.AlterTableType.AT_DropColumn and cmd.name:
            dropped_columns.append(cmd.name)
        elif cmd.subtype == enums.AlterTableType.AT_DropConstraint and cmd.name:
            dropped.append(cmd.name)
        elif cmd.subtype == enums.AlterTableType.AT_AddConstraint and cmd.def_ is not None and cmd.def_.contype in kinds:
            con = cmd.def_
            columns = [k.sval for k in (con.keys or con.fk_attrs or ())]
            added.append({
                "kind": kinds[con.contype], "name": con.conname or _default_name(table, kinds[con.contype], columns), "columns": columns,
                "expression": deparse(con.raw_expr) if con.raw_expr is not None else None,
                **(_fk_details(con) if con.contype == enums.ConstrType.CONSTR_FOREIGN else {}),
            })
    return {"added_constraints": added, "dropped_constraints": dropped, "added_columns": added_columns,
            "dropped_columns": dropped_columns, "triggers": triggers.pop() if len(triggers) == 1 else None, "if_exists": maybe,
            "changes": changes, "replayed": all(cmd.subtype in _replayed_commands() for cmd in stmt.cmds or ())}


def _default_name(table: str | None, kind: str, columns: list[str]) -> str | None:
    """The name PostgreSQL gives a primary key, unique or foreign key written without one (`orders_pkey`,
    `orders_code_key`, `orders_customer_id_fkey`), so a later `DROP CONSTRAINT orders_pkey` is known as
    this one; None where it would choose otherwise (a name past 63 bytes is cut, a CHECK's is not fixed)."""
    suffix = {"primary_key": "pkey", "unique": "key", "foreign_key": "fkey"}.get(kind)
    if not table or not suffix or (kind != "primary_key" and not columns):
        return None
    name = "_".join([table, *(columns if kind != "primary_key" else ()), suffix])
    return name if len(name.encode()) <= 63 else None


_FK_ACTIONS = {"a": None, "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


def _fk_details(con) -> dict[str, object]:
    """A FOREIGN KEY's referenced table.column and its ON DELETE / ON UPDATE actions (None: NO ACTION)."""
    target = con.pktable.relname if con.pktable is not None else None
    remote = [k.sval for k in con.pk_attrs or ()]
    return {"target": f"{target}.{remote[0] if remote else 'id'}" if target else None,
            "ondelete": _FK_ACTIONS.get(con.fk_del_action), "onupdate": _FK_ACTIONS.get(con.fk_upd_action)}


@functools.cache
def _replayed_commands() -> frozenset[object]:
    """The ALTER TABLE commands the replay of the migrations follows (analyzers/facts/link.py): after a
    statement made only of these, the columns are known; after any other form they may not be."""
    from pglast.enums import AlterTableType as At

    return frozenset(_trigger_toggles()) | {
        At.AT_AddColumn, At.AT_DropColumn, At.AT_AlterColumnType, At.AT_SetNotNull, At.AT_DropNotNull,
        At.AT_ColumnDefault, At.AT_AddConstraint, At.AT_DropConstraint, At.AT_ValidateConstraint,
        At.AT_EnableRowSecurity, At.AT_ForceRowSecurity, At.AT_DisableRowSecurity, At.AT_NoForceRowSecurity,
    }


@functools.cache
def _trigger_toggles() -> dict[object, str]:
    """ALTER TABLE ... ENABLE/DISABLE TRIGGER: around an UPDATE, a data migration's, not a schema change."""
    from pglast.enums import AlterTableType as At

    return {
        At.AT_EnableTrig: "enable", At.AT_EnableTrigAll: "enable", At.AT_EnableTrigUser: "enable",
        At.AT_EnableAlwaysTrig: "enable", At.AT_EnableReplicaTrig: "enable",
        At.AT_DisableTrig: "disable", At.AT_DisableTrigAll: "disable", At.AT_DisableTrigUser: "disable",
    }


_SET_CONFIG = re.compile(r"set_config\s*\(\s*'([^']+)'\s*,(.*?),\s*(true|false)\s*\)", re.I | re.S)


def _set_config_args(text: str) -> dict[str, object]:
    m = _SET_CONFIG.search(text)
    if not m:
        return {}
    return {"name": m.group(1), "value": m.group(2).strip(), "local": m.group(3).lower() == "true"}


_RLS = re.compile(r"ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?([\w.\"]+)\s+(ENABLE|FORCE)\s+ROW\s+LEVEL\s+SECURITY", re.I)


def _guess(text: str, span: Span) -> SqlStatement:
    """What an unparsable statement is most likely about, so RLS facts survive odd SQL."""
    m = _RLS.search(text)
    if m:
        return SqlStatement(f"{m.group(2).lower()}_rls", m.group(1).strip('"').split(".")[-1], span, text)
    m = _TRANSACTION.fullmatch(text)
    if m:  # `COMMIT` in a migration (`op.execute("COMMIT")` to leave Alembic's transaction): nothing else it can be
        return SqlStatement(_TRANSACTION_KIND[m.group(1).split()[0].upper()], None, span, text)
    m = _DML.match(text)
    if m:  # `UPDATE users SET {set_clause} WHERE ...`: what it sets is not known, that it changes rows is
        return SqlStatement(f"{m.group(1).capitalize()}Stmt", None, span, text)
    m = _CREATE_TABLE.match(text)
    if m:  # its columns are spliced in or odd: the table is known, what is in it is not
        return SqlStatement("create_table", m.group(3).strip('"').split(".")[-1], span, text,
                            {"columns": [], "temporary": bool(m.group(1)), "unparsed": True, "if_exists": bool(m.group(2))})
    return SqlStatement("unparsed", None, span, text)


_DML = re.compile(r"\s*(UPDATE|INSERT|DELETE)\b", re.I)
_TRANSACTION = re.compile(r"\s*(COMMIT|END|ROLLBACK|ABORT|BEGIN|START\s+TRANSACTION)(?:\s+(?:WORK|TRANSACTION))?\s*;?\s*", re.I)
_TRANSACTION_KIND = {"COMMIT": "commit", "END": "commit", "ROLLBACK": "rollback", "ABORT": "rollback", "BEGIN": "begin",
                     "START": "start"}
_CREATE_TABLE = re.compile(r"\s*CREATE\s+(?:(TEMP|TEMPORARY)\s+|UNLOGGED\s+)?TABLE\s+(IF\s+NOT\s+EXISTS\s+)?([\w.\"]+)\s*\(", re.I)


def _create_primary_key(stmt: object, defs: list) -> list[str] | None:
    """The primary key a CREATE TABLE gives its table: its columns ([] for none); None when the statement may take one
    from elsewhere (LIKE another table, INHERITS, PARTITION OF)."""
    from pglast import ast, enums

    if stmt.inhRelations or stmt.partbound is not None or any(  # type: ignore[attr-defined]
            not isinstance(e, (ast.ColumnDef, ast.Constraint)) for e in stmt.tableElts or ()):  # type: ignore[attr-defined]
        return None
    keys = [e.colname for e in defs if any(c.contype == enums.ConstrType.CONSTR_PRIMARY for c in e.constraints or ())]
    for e in stmt.tableElts or ():  # type: ignore[attr-defined]
        if isinstance(e, ast.Constraint) and e.contype == enums.ConstrType.CONSTR_PRIMARY:
            keys += [k.sval for k in e.keys or ()]
    return keys

"""SQL found in Python source, parsed with pglast into the statements rules care about."""

from __future__ import annotations

import re

from analyzers.facts.model import Span, SqlStatement

_HOLE = re.compile(r"\{[^{}]*\}")
_DYNAMIC = "dbreview_dynamic"
# Driver-style parameters (`:name`, `%(name)s`, `%s`) are not PostgreSQL syntax; `$1` is.
_PARAM = re.compile(r"(?<![:\w]):[A-Za-z_]\w*|%\(\w+\)s|%s")


def parse_statements(text: str, span: Span) -> tuple[list[SqlStatement], str | None]:
    """Statements of `text` with the line each starts on; an error message when pglast cannot parse.

    `span` is where the string literal sits; a statement's line is found from its offset in the text.
    """
    from pglast import parse_sql  # imported on first SQL: most files have none
    from pglast.parser import ParseError

    sql = _PARAM.sub("$1", _HOLE.sub(_DYNAMIC, text))
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
        last = min(first + piece.strip().count("\n"), span.end)
        stmt_span = Span(span.path, first, last)
        body = _do_body(raw.stmt)
        if body is not None:
            out.extend(_inside_do(body, piece, stmt_span) or [_classify(raw.stmt, piece.strip(), stmt_span)])
        else:
            out.append(_classify(raw.stmt, piece.strip().replace(_DYNAMIC, "{?}"), stmt_span))
    return out, None


_PLPGSQL_CONTROL = re.compile(
    r"^\s*(?:(?:BEGIN|ELSE|DECLARE|LOOP|EXCEPTION)\b|(?:ELS)?IF\b.*?\bTHEN\b|WHEN\b.*?\bTHEN\b)\s*", re.I | re.S
)


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
    line it sits on. Dynamic SQL (EXECUTE format(...)) stays unread."""
    from pglast import parse_sql
    from pglast.parser import ParseError

    stripped = piece.lstrip()  # span.start is the line of its first character
    base = stripped.find(body)
    base_line = span.start + (stripped[:base].count("\n") if base >= 0 else 0)
    out = []
    offset = 0
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
        if not text or text.upper().startswith(("END", "RAISE", "PERFORM", "EXECUTE", "RETURN", "NULL")):
            continue
        try:
            raws = parse_sql(text)
        except ParseError:
            continue
        line = base_line + body[: start + chunk.find(text[:20])].count("\n") if text[:20] in chunk else base_line
        line = min(line, span.end)
        for raw in raws:
            out.append(_classify(raw.stmt, text.replace(_DYNAMIC, "{?}"), Span(span.path, line, min(line + text.count("\n"), span.end))))
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
        return SqlStatement("alter_table", rel(stmt.relation), span, text)
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
            "create_trigger", rel(stmt.relation), span, text, {"name": stmt.trigname, "function": func, "events": events}
        )
    if isinstance(stmt, ast.CreateFunctionStmt):
        name = ".".join(s.sval for s in stmt.funcname)
        return SqlStatement("create_function", None, span, text, {"name": name})
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
            {"name": stmt.idxname, "unique": bool(stmt.unique), "where": deparse(stmt.whereClause), "using": stmt.accessMethod, "columns": cols},
        )
    if isinstance(stmt, ast.VariableSetStmt):
        if stmt.kind == enums.VariableSetKind.VAR_RESET_ALL:
            return SqlStatement("reset_all", None, span, text)
        if stmt.kind == enums.VariableSetKind.VAR_RESET:
            return SqlStatement("reset", None, span, text, {"name": stmt.name})
        return SqlStatement("set_local" if stmt.is_local else "set", None, span, text, {"name": stmt.name})
    if isinstance(stmt, ast.DiscardStmt):
        return SqlStatement("discard_all" if stmt.target == enums.DiscardMode.DISCARD_ALL else "discard", None, span, text)
    if isinstance(stmt, ast.TransactionStmt):
        return SqlStatement(stmt.kind.name.removeprefix("TRANS_STMT_").lower(), None, span, text)
    if isinstance(stmt, ast.DropStmt):
        return SqlStatement("drop", None, span, text, {"type": stmt.removeType.name})
    if isinstance(stmt, ast.SelectStmt) and "set_config" in text.lower():
        return SqlStatement("set_config", None, span, text, _set_config_args(text))
    return SqlStatement(type(stmt).__name__, None, span, text)


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
    return SqlStatement("unparsed", None, span, text)

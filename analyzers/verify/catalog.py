"""What the catalog says: snapshots of every object the migrations made (compared across a
revision's up, down and up again), and the checks at head.

Every query runs on a superuser connection whose search_path is pg_catalog alone; objects that
belong to an extension are left out (they are the extension's, not the migrations')."""

from __future__ import annotations

import re
from collections import defaultdict

from analyzers.verify.result import CatalogRow, TableRls

_USER_SCHEMA = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'"
_NOT_EXTENSION = "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = {cls}::regclass AND d.objid = {oid} AND d.deptype = 'e')"
_REL = "(CASE WHEN n.nspname = 'public' THEN '' ELSE n.nspname || '.' END) || c.relname"

# Each query yields (key, definition). A key names the object as a person would; the definition is
# what must stay the same across a downgrade and a second upgrade.
_SNAPSHOT = {
    "relation": f"""
        SELECT CASE c.relkind WHEN 'r' THEN 'table ' WHEN 'p' THEN 'table ' WHEN 'v' THEN 'view ' WHEN 'm' THEN
               'materialized view ' WHEN 'S' THEN 'sequence ' ELSE 'relation ' END || {_REL},
               'rls=' || c.relrowsecurity || ' force=' || c.relforcerowsecurity || ' acl=' || coalesce(c.relacl::text, '')
               || CASE WHEN c.relkind IN ('v', 'm') THEN ' ' || pg_get_viewdef(c.oid) ELSE '' END
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {_USER_SCHEMA}
          AND {_NOT_EXTENSION.format(cls="'pg_class'", oid="c.oid")}""",
    "column": f"""
        SELECT 'column ' || {_REL} || '.' || a.attname,
               format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
               || coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), '')
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
        WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {_USER_SCHEMA}
          AND {_NOT_EXTENSION.format(cls="'pg_class'", oid="c.oid")}""",
    "constraint": f"""
        SELECT 'constraint ' || co.conname || ' on ' || {_REL}, pg_get_constraintdef(co.oid)
        FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE {_USER_SCHEMA} AND {_NOT_EXTENSION.format(cls="'pg_class'", oid="c.oid")}""",
    "index": f"""
        SELECT 'index ' || i.relname || ' on ' || {_REL}, pg_get_indexdef(x.indexrelid)
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE {_USER_SCHEMA} AND {_NOT_EXTENSION.format(cls="'pg_class'", oid="c.oid")}""",
    "trigger": f"""
        SELECT 'trigger ' || t.tgname || ' on ' || {_REL}, pg_get_triggerdef(t.oid)
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT t.tgisinternal AND {_USER_SCHEMA}""",
    "policy": f"""
        SELECT 'policy ' || p.polname || ' on ' || {_REL},
               p.polcmd::text || ' ' || p.polpermissive::text || ' ' || p.polroles::text || ' using ' ||
               coalesce(pg_get_expr(p.polqual, p.polrelid), '') || ' check ' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '')
        FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace""",
    "function": f"""
        SELECT 'function ' || CASE WHEN n.nspname = 'public' THEN '' ELSE n.nspname || '.' END || p.proname
               || '(' || pg_get_function_identity_arguments(p.oid) || ')',
               md5(pg_get_functiondef(p.oid))
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE p.prokind IN ('f', 'p') AND {_USER_SCHEMA} AND {_NOT_EXTENSION.format(cls="'pg_proc'", oid="p.oid")}""",
    "type": f"""
        SELECT 'type ' || CASE WHEN n.nspname = 'public' THEN '' ELSE n.nspname || '.' END || t.typname,
               t.typtype::text || ' ' || coalesce((SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                                             FROM pg_enum e WHERE e.enumtypid = t.oid), '')
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE t.typtype IN ('e', 'd', 'r') AND {_USER_SCHEMA} AND {_NOT_EXTENSION.format(cls="'pg_type'", oid="t.oid")}""",
    "schema": f"""
        SELECT 'schema ' || n.nspname, pg_get_userbyid(n.nspowner) FROM pg_namespace n
        WHERE {_USER_SCHEMA} AND n.nspname <> 'public' AND {_NOT_EXTENSION.format(cls="'pg_namespace'", oid="n.oid")}""",
    "extension": "SELECT 'extension ' || extname, extversion FROM pg_extension WHERE extname <> 'plpgsql'",
}


def snapshot(conn, ignore_tables: set[str]) -> dict[str, str]:
    """Every object the migrations made, by name -> definition. The version tables are left out:
    Alembic makes them, not a revision."""
    out: dict[str, str] = {}
    for query in _SNAPSHOT.values():
        for key, definition in conn.execute(query).fetchall():
            if not _about(key, ignore_tables):
                out[key] = definition or ""
    return out


def _about(key: str, tables: set[str]) -> bool:
    words = re.split(r"[ .]", key)
    return any(t in words for t in tables)


def compare(before: dict[str, str], after: dict[str, str]) -> tuple[list[str], list[str], list[str]]:
    """(only in after, only in before, changed): object names, sorted."""
    added = sorted(k for k in after if k not in before)
    removed = sorted(k for k in before if k not in after)
    changed = sorted(k for k in after if k in before and after[k] != before[k])
    return added, removed, changed


# -- checks at head ---------------------------------------------------------------------------------

_TABLES = f"""
    SELECT c.oid, {_REL}, c.relrowsecurity, c.relforcerowsecurity
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND {_USER_SCHEMA}
      AND {_NOT_EXTENSION.format(cls="'pg_class'", oid="c.oid")}
    ORDER BY 2"""
_POLICIES = """
    SELECT p.polrelid, p.polname, CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
           WHEN 'd' THEN 'DELETE' ELSE 'ALL' END, p.polpermissive,
           CASE WHEN p.polroles = '{0}' THEN ARRAY['PUBLIC']::text[] ELSE
                ARRAY(SELECT rolname::text FROM pg_roles WHERE oid = ANY (p.polroles) ORDER BY 1) END,
           pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)
    FROM pg_policy p ORDER BY p.polname"""
_FK_WITHOUT_INDEX = f"""
    SELECT {_REL}, co.conname,
           ARRAY(SELECT a.attname::text FROM unnest(co.conkey) WITH ORDINALITY k(n, i)
                 JOIN pg_attribute a ON a.attrelid = co.conrelid AND a.attnum = k.n ORDER BY k.i),
           co.confrelid::regclass::text
    FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE co.contype = 'f' AND {_USER_SCHEMA}
      AND NOT EXISTS (
        SELECT 1 FROM pg_index x WHERE x.indrelid = co.conrelid AND x.indpred IS NULL
          AND (SELECT array_agg(k ORDER BY k) FROM unnest(co.conkey) k)
              = (SELECT array_agg(k ORDER BY k) FROM unnest((x.indkey::int2[])[0:array_length(co.conkey, 1) - 1]) k))
    ORDER BY 1, 2"""
_NAIVE_TIMESTAMPS = f"""
    SELECT {_REL}, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE a.atttypid = 'timestamp'::regtype AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p')
      AND {_USER_SCHEMA} AND {_NOT_EXTENSION.format(cls="'pg_class'", oid="c.oid")}
    ORDER BY 1, 2"""
_DEFINER_WITHOUT_PATH = f"""
    SELECT CASE WHEN n.nspname = 'public' THEN '' ELSE n.nspname || '.' END || p.proname
           || '(' || pg_get_function_identity_arguments(p.oid) || ')', pg_get_userbyid(p.proowner),
           p.prorettype = 'trigger'::regtype
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE p.prosecdef AND {_USER_SCHEMA} AND {_NOT_EXTENSION.format(cls="'pg_proc'", oid="p.oid")}
      AND NOT EXISTS (SELECT 1 FROM unnest(coalesce(p.proconfig, '{{}}')) s WHERE s LIKE 'search\\_path=%')
    ORDER BY 1"""
_DUPLICATE_INDEXES = f"""
    SELECT {_REL}, array_agg(i.relname::text ORDER BY i.relname)
    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE {_USER_SCHEMA}
    GROUP BY 1, x.indrelid, x.indkey::text, x.indclass::text, coalesce(pg_get_expr(x.indexprs, x.indrelid), ''),
             coalesce(pg_get_expr(x.indpred, x.indrelid), '')
    HAVING count(*) > 1 ORDER BY 1"""
_NO_PRIMARY_KEY = f"""
    SELECT {_REL} FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND {_USER_SCHEMA}
      AND {_NOT_EXTENSION.format(cls="'pg_class'", oid="c.oid")}
      AND NOT EXISTS (SELECT 1 FROM pg_constraint co WHERE co.conrelid = c.oid AND co.contype = 'p')
    ORDER BY 1"""
_SETTING = re.compile(r"current_setting\(\s*'([^']+)'")


def rls_state(conn, ignore_tables: set[str]) -> list[TableRls]:
    """RLS enabled / forced per table, with its policies and the settings they read."""
    by_oid: dict[int, TableRls] = {}
    for oid, name, enabled, forced in conn.execute(_TABLES).fetchall():
        if name not in ignore_tables:
            by_oid[oid] = TableRls(name, enabled, forced)
    for relid, name, cmd, permissive, roles, using, check in conn.execute(_POLICIES).fetchall():
        table = by_oid.get(relid)
        if table is None:
            continue
        kind = "" if permissive else " restrictive"
        text = f"{name} ({cmd}{kind}, to {', '.join(roles)})"
        text += f" using ({using})" if using else ""
        text += f" with check ({check})" if check else ""
        table.policies.append(text)
        for setting in _SETTING.findall(f"{using or ''} {check or ''}"):
            if setting not in table.settings:
                table.settings.append(setting)
    return list(by_oid.values())


def columns(conn, ignore_tables: set[str]) -> dict[str, dict[str, str]]:
    """Table -> column -> type, at head."""
    out: dict[str, dict[str, str]] = {}
    for key, definition in conn.execute(_SNAPSHOT["column"]).fetchall():
        table, _, column = key.removeprefix("column ").rpartition(".")
        if table not in ignore_tables:
            out.setdefault(table, {})[column] = definition.split(" not null")[0].split(" default ")[0]
    return out


def checks(conn, ignore_tables: set[str], tables: list[TableRls]) -> list[CatalogRow]:
    """The catalog checks at head, one row per thing found."""
    rows: list[CatalogRow] = []
    for t in tables:
        if t.enabled and not t.policies:
            rows.append(CatalogRow("no-policy", t.table, t.table, f"{t.table}: RLS is enabled and no policy exists: only the owner sees rows"))
    for table, name, cols, ref in conn.execute(_FK_WITHOUT_INDEX).fetchall():
        if table not in ignore_tables:
            rows.append(CatalogRow("fk-index", table, ", ".join(cols), f"foreign key {name} ({', '.join(cols)}) -> {ref}: no index starts with these columns"))
    for table, col in conn.execute(_NAIVE_TIMESTAMPS).fetchall():
        if table not in ignore_tables:
            rows.append(CatalogRow("timestamp", table, col, f"{table}.{col} is timestamp without time zone"))
    for function, owner, trigger in conn.execute(_DEFINER_WITHOUT_PATH).fetchall():
        kind = "trigger function" if trigger else "function"
        rows.append(CatalogRow("security-definer", None, function, f"{kind} {function} is SECURITY DEFINER (runs as {owner}) with no search_path set"))
    for table, names in conn.execute(_DUPLICATE_INDEXES).fetchall():
        rows.append(CatalogRow("duplicate-index", table, ", ".join(names), f"indexes {', '.join(names)} on {table} are the same index"))
    for (table,) in conn.execute(_NO_PRIMARY_KEY).fetchall():
        if table not in ignore_tables:
            rows.append(CatalogRow("no-primary-key", table, table, f"{table} has no primary key"))
    return rows


def by_check(rows: list[CatalogRow]) -> dict[str, list[CatalogRow]]:
    out: dict[str, list[CatalogRow]] = defaultdict(list)
    for row in rows:
        out[row.check].append(row)
    return out

"""Proof 4: two tenants' rows in every table, read back as each role.

Seeding: one row per tenant in every table, parents before children (foreign keys point at the same
tenant's parent row), dummy values sized to the column types, the first value a CHECK's IN list or
an enum allows. It runs as the migrations' role (the owner), with FORCE lifted for the seeding's
transaction only. A table that cannot be seeded gets one line saying why.

Reading: for each tenant-scoped table (a tenant column, or policies), the rows of tenant A and of
tenant B seen by a plain non-owner role granted SELECT, by each role the policies name, and by the
owner (before and after FORCE ROW LEVEL SECURITY), with the settings the policies read set to tenant
A's values, never set, and set to ''. Seeing B's rows in any of those (but as the owner) is a leak.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from dataclasses import dataclass, field

from analyzers.verify.postgres import OWNER, Cluster
from analyzers.verify.result import Isolation, TableRls

READER = "dbreview_app"  # the plain non-owner role
TENANT_COLUMNS = (
    "organization_id", "tenant_id", "org_id", "account_id", "workspace_id", "company_id", "team_id",
    "clinic_id", "practice_id", "customer_id",
)
TENANTS = ("A", "B")
_IN_LIST = re.compile(r"\(?\(?(\w+)\)?(?:::[\w ]+)?\s*=\s*ANY\s*\(\(?ARRAY\['((?:[^']|'')*)'")
_EQUALS = re.compile(r"\(?(\w+)\)?(?:::[\w ]+)?\s*=\s*'((?:[^']|'')*)'")
_SETTING_EQ = (
    re.compile(r"(\w+)\)?\s*=\s*\(*\s*current_setting\('([^']+)'"),
    re.compile(r"current_setting\('([^']+)'[^)]*\)\)*(?:::\w+)?\)?\s*=\s*\(?(\w+)"),
)


@dataclass(slots=True)
class Column:
    name: str
    type: str  # format_type()
    base: str  # the base type's name for domains, else the type's (uuid, text, int4, ...)
    notnull: bool
    has_default: bool
    generated: bool
    length: int | None
    labels: list[str] = field(default_factory=list)  # enum labels


@dataclass(slots=True)
class Table:
    oid: int
    schema: str
    name: str
    owner: str
    columns: dict[str, Column]
    pk: list[str]
    fks: list[tuple[list[str], int, list[str]]]  # (columns, referenced table oid, referenced columns)
    checks: list[str]
    unique: list[set[str]]

    @property
    def label(self) -> str:
        return self.name if self.schema == "public" else f"{self.schema}.{self.name}"

    @property
    def qualified(self) -> str:
        return f'"{self.schema}"."{self.name}"'


def prove_isolation(pg: Cluster, db: str, rls: list[TableRls], named_roles: list[str], ignore: set[str]) -> Isolation:
    with pg.connect(db) as conn:
        tables = _tables(conn, ignore)
        if not tables:
            return Isolation(None, note="no tables at head")
        rls_of = {t.table: t for t in rls}
        tenant_col = _tenant_column(tables, rls)
        scoped = [t for t in tables.values() if (tenant_col and tenant_col in t.columns) or rls_of.get(t.label, TableRls("", False, False)).policies]
        iso = Isolation(tenant_col)
        if not scoped:
            iso.note = "no tenant-scoped table: no tenant column and no policy"
            return iso
        roles = sorted({r for t in rls for p in t.policies for r in _policy_roles(p)} - {"PUBLIC", OWNER})
        _grant_reader(conn, tables.values())
    seeded, iso.not_seeded = _seed(pg, db, tables, tenant_col, _tenant_root(tables, tenant_col))
    iso.settings = _settings(rls, tables, seeded, tenant_col)
    cases = [(READER, "A"), (READER, "unset"), (READER, "''")]
    cases += [(role, mode) for role in roles for mode in ("A", "unset", "''")]
    cases += [("owner", "A"), ("owner", "A, FORCE")]
    iso.cases = [_case_label(role, mode) for role, mode in cases]
    for table in scoped:
        iso.rows[table.label] = {}
    for role, mode in cases:
        with pg.connect(db) as conn:
            for table in scoped:
                cell = _read(conn, table, role, mode, seeded.get(table.oid), iso.settings)
                iso.rows[table.label][_case_label(role, mode)] = cell
                seen_b = cell.startswith("A ") and not cell.endswith("B 0")
                if not seen_b:
                    continue
                info = rls_of.get(table.label)
                if role != "owner":
                    iso.leaks.setdefault(table.label, []).append(_case_label(role, mode))
                elif mode == "A" and info is not None and info.enabled and not info.forced:
                    iso.owner_bypass.append(table.label)
    for table in scoped:
        if table.oid not in seeded and table.label not in iso.not_seeded:
            iso.not_seeded[table.label] = "not seeded"
    return iso


def _case_label(role: str, mode: str) -> str:
    who = "app" if role == READER else role
    return f"{who}, {'A set' if mode == 'A' else 'A set, FORCE' if mode == 'A, FORCE' else mode}"


def _policy_roles(policy: str) -> list[str]:
    match = re.search(r", to ([^)]+)\)", policy)
    return [r.strip() for r in match.group(1).split(",")] if match else []


# -- the schema ------------------------------------------------------------------------------------

_COLUMNS = """
    SELECT c.oid, n.nspname, c.relname, pg_get_userbyid(c.relowner), a.attname, format_type(a.atttypid, a.atttypmod),
           coalesce(bt.typname, t.typname), a.attnotnull, a.atthasdef OR a.attidentity <> '', a.attgenerated <> '',
           CASE WHEN a.atttypmod > 4 AND coalesce(bt.typname, t.typname) IN ('varchar', 'bpchar') THEN a.atttypmod - 4 END,
           ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = coalesce(bt.oid, t.oid) ORDER BY e.enumsortorder)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
    WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_%'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
    ORDER BY c.oid, a.attnum"""
_CONSTRAINTS = """
    SELECT co.conrelid, co.contype,
           ARRAY(SELECT a.attname::text FROM unnest(co.conkey) WITH ORDINALITY k(n, i)
                 JOIN pg_attribute a ON a.attrelid = co.conrelid AND a.attnum = k.n ORDER BY k.i),
           co.confrelid,
           ARRAY(SELECT a.attname::text FROM unnest(co.confkey) WITH ORDINALITY k(n, i)
                 JOIN pg_attribute a ON a.attrelid = co.confrelid AND a.attnum = k.n ORDER BY k.i),
           pg_get_constraintdef(co.oid)
    FROM pg_constraint co WHERE co.contype IN ('p', 'f', 'c', 'u')"""


def _tables(conn, ignore: set[str]) -> dict[int, Table]:
    tables: dict[int, Table] = {}
    for oid, schema, name, owner, col, typ, base, notnull, has_default, generated, length, labels in conn.execute(_COLUMNS):
        if name in ignore:
            continue
        table = tables.setdefault(oid, Table(oid, schema, name, owner, {}, [], [], [], []))
        table.columns[col] = Column(col, typ, base, notnull, has_default, generated, length, list(labels))
    for relid, kind, cols, ref, ref_cols, definition in conn.execute(_CONSTRAINTS):
        table = tables.get(relid)
        if table is None:
            continue
        if kind == "p":
            table.pk = list(cols)
            table.unique.append(set(cols))
        elif kind == "u":
            table.unique.append(set(cols))
        elif kind == "f":
            table.fks.append((list(cols), ref, list(ref_cols)))
        else:
            table.checks.append(definition)
    return tables


def _tenant_column(tables: dict[int, Table], rls: list[TableRls]) -> str | None:
    """The column that says whose a row is: the one the policies compare with a setting most often,
    else the commonest of the usual names."""
    compared: Counter[str] = Counter()
    for t in rls:
        for policy in t.policies:
            for col, _setting in _setting_pairs(policy):
                if col in TENANT_COLUMNS:
                    compared[col] += 1
    if compared:
        return compared.most_common(1)[0][0]
    counts = Counter(c for t in tables.values() for c in t.columns if c in TENANT_COLUMNS)
    return counts.most_common(1)[0][0] if counts else None


def _tenant_root(tables: dict[int, Table], tenant_col: str | None) -> int | None:
    """The table the tenant column points at most often (organizations, tenants ...)."""
    refs = Counter(ref for t in tables.values() for cols, ref, _ in t.fks if cols == [tenant_col] and ref in tables)
    return refs.most_common(1)[0][0] if refs else None


def _setting_pairs(text: str) -> list[tuple[str, str]]:
    pairs = [(col, setting) for col, setting in _SETTING_EQ[0].findall(text)]
    pairs += [(col, setting) for setting, col in _SETTING_EQ[1].findall(text)]
    return pairs


def _grant_reader(conn, tables) -> None:
    conn.execute(f"CREATE ROLE {READER} NOLOGIN")
    for schema in sorted({t.schema for t in tables}):
        conn.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO {READER}')
        conn.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO {READER}')


# -- seeding ---------------------------------------------------------------------------------------


def _order(tables: dict[int, Table], first: int | None) -> list[Table]:
    """Parents before children, by the foreign keys (a cycle is broken where a key may be NULL); the
    tenant root `first` of all."""
    done: list[Table] = []
    placed: set[int] = set()
    pending = sorted(tables.values(), key=lambda t: (t.oid != first, t.label))

    def parents(table: Table, required: bool) -> set[int]:
        return {
            ref for cols, ref, _ in table.fks
            if ref != table.oid and ref in tables and (not required or any(table.columns[c].notnull for c in cols))
        }

    while pending:
        ready = [t for t in pending if parents(t, False) <= placed]  # every parent first, when it can be
        if not ready:
            ready = [t for t in pending if parents(t, True) <= placed][:1]  # a cycle: leave a nullable key NULL
        if not ready:  # a cycle of NOT NULL keys: take one and let the insert say why
            ready = pending[:1]
        for table in ready:
            done.append(table)
            placed.add(table.oid)
            pending.remove(table)
    return done


def _seed(
    pg: Cluster, db: str, tables: dict[int, Table], tenant_col: str | None, root: int | None
) -> tuple[dict[int, dict[str, dict]], dict[str, str]]:
    """table oid -> tenant -> the row inserted for it (as text values); and why tables got no rows."""
    seeded: dict[int, dict[str, dict]] = {}
    failed: dict[str, str] = {}
    with pg.connect(db, OWNER, autocommit=False) as conn:
        forced = [t for (t,) in conn.execute(
            "SELECT c.oid::regclass::text FROM pg_class c WHERE c.relforcerowsecurity AND c.relkind IN ('r', 'p')"
        ).fetchall()]
        for name in forced:
            conn.execute(f"ALTER TABLE {name} NO FORCE ROW LEVEL SECURITY")
        for table in _order(tables, root):
            rows: dict[str, dict] = {}
            for n, tenant in enumerate(TENANTS):
                error = None
                for fill in _FILLS:
                    values = _values(table, tenant, n, seeded, tables, fill, tenant_col, root)
                    if isinstance(values, str):
                        error = values
                        break
                    conn.execute("SAVEPOINT seed")
                    try:
                        cols = ", ".join(f'"{c}"' for c in values)
                        marks = ", ".join(f"%s::{table.columns[c].type}" for c in values)
                        back = ", ".join(f'"{c}"::text' for c in table.columns)  # text, as the reads compare
                        head = f"INSERT INTO {table.qualified} ({cols}) VALUES ({marks})" if values else f"INSERT INTO {table.qualified} DEFAULT VALUES"
                        row = conn.execute(f"{head} RETURNING {back}", list(values.values())).fetchone()
                        rows[tenant] = dict(zip(table.columns, row))
                        conn.execute("RELEASE SAVEPOINT seed")
                        error = None
                        break
                    except Exception as exc:  # noqa: BLE001 - the database says why; try again or report it
                        conn.execute("ROLLBACK TO SAVEPOINT seed")
                        error = _first_line(exc)
                if error:
                    failed[table.label] = f"could not be seeded: {error}"
                    break
            if len(rows) == len(TENANTS):
                seeded[table.oid] = rows
        for name in forced:
            conn.execute(f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY")
        conn.commit()
    return seeded, failed


# The rows tried, in turn, until one passes the table's checks: NOT NULL columns and every foreign key
# (the same tenant's parents); NOT NULL columns, the tenant's key and NOT NULL keys only (a check that
# wants one target of several); every column.
_FILLS = ("keys", "few keys", "all")


def _values(
    table: Table, tenant: str, n: int, seeded: dict, tables: dict[int, Table], fill: str, tenant_col: str | None,
    root: int | None,
) -> dict[str, str | None] | str:
    """The row to insert for a tenant, or why there is none."""
    values: dict[str, str | None] = {}
    fill_all = fill == "all"
    for cols, ref, ref_cols in table.fks:
        parent = seeded.get(ref)
        required = any(table.columns[c].notnull for c in cols)
        if parent is None:
            if required:
                name = tables[ref].label if ref in tables else "another table"
                return f"its parent {name} could not be seeded"
            continue
        if fill == "few keys" and not required and tenant_col not in cols:
            continue
        for col, ref_col in zip(cols, ref_cols):
            values[col] = parent[tenant].get(ref_col)
    root_row = seeded.get(root, {}).get(tenant) if root is not None else None
    if tenant_col in table.columns and tenant_col not in values and root_row and tables[root].pk:
        values[tenant_col] = root_row[tables[root].pk[0]]  # a tenant column with no foreign key: the same tenant
    enum_checks = _allowed_values(table.checks)
    for col in table.columns.values():
        if col.name in values or col.generated:
            continue
        if col.has_default and not (fill_all and not col.notnull):
            continue
        if not col.notnull and not fill_all:
            continue
        value = _dummy(col, table, tenant, n, enum_checks.get(col.name))
        if value is _UNKNOWN:
            if col.notnull:
                return f"no dummy value for {col.name} ({col.type})"
            continue
        values[col.name] = value
    return values


_UNKNOWN = object()


def _allowed_values(checks: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for definition in checks:
        for col, first in _IN_LIST.findall(definition):
            out.setdefault(col, first.replace("''", "'"))
        for col, first in _EQUALS.findall(definition):
            out.setdefault(col, first.replace("''", "'"))
    return out


def _dummy(col: Column, table: Table, tenant: str, n: int, allowed: str | None):
    if allowed is not None:
        return allowed
    if col.labels:
        return col.labels[0]
    base = col.base
    tag = f"{tenant.lower()}{n + 1}"
    if base == "uuid":
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"dbreview:{table.label}.{col.name}:{tenant}"))
    if base in ("text", "varchar", "bpchar", "citext", "name"):
        text = f"{tag}@example.com" if "email" in col.name else f"{col.name}-{tag}"
        if col.length and len(text) > col.length:
            text = (tag + text)[: col.length] if col.length >= len(tag) else tag[: col.length]
        return text
    if base in ("int2", "int4", "int8", "numeric", "float4", "float8", "money", "oid"):
        return str(n + 1)
    if base == "bool":
        return "false"
    if base in ("timestamptz", "timestamp", "date"):
        # later columns get later times: `ends_at > starts_at` holds when they are declared in that order
        hour = list(table.columns).index(col.name) % 24
        return f"2026-01-0{n + 1} {hour:02d}:00:00+00"
    if base in ("time", "timetz"):
        return f"{list(table.columns).index(col.name) % 24:02d}:00:00"
    if base == "interval":
        return "1 day"
    if base in ("json", "jsonb"):
        return "{}"
    if base == "inet" or base == "cidr":
        return f"10.0.0.{n + 1}"
    if base == "macaddr":
        return f"08:00:2b:01:02:0{n + 1}"
    if base == "bytea":
        return tag
    if base.startswith("_"):  # an array
        return "{}"
    if base == "tsvector":
        return tag
    return _UNKNOWN


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


# -- settings and reading --------------------------------------------------------------------------


def _settings(rls: list[TableRls], tables: dict[int, Table], seeded: dict, tenant_col: str | None) -> dict[str, str]:
    """Each setting the policies read -> tenant A's value for it: the value of the column it is
    compared with, in A's row of that table."""
    by_label = {t.label: t for t in tables.values()}
    out: dict[str, str] = {}
    for t in rls:
        table = by_label.get(t.table)
        row = seeded.get(table.oid, {}).get("A") if table else None
        for policy in t.policies:
            for col, setting in _setting_pairs(policy):
                if setting not in out and row and row.get(col) is not None:
                    out[setting] = row[col]
    for t in rls:  # settings compared with something other than a column: by their names
        for setting in t.settings:
            if setting not in out:
                value = _by_name(setting, tables, seeded, tenant_col)
                if value is not None:
                    out[setting] = value
    return out


def _by_name(setting: str, tables: dict[int, Table], seeded: dict, tenant_col: str | None) -> str | None:
    for table in tables.values():
        row = seeded.get(table.oid, {}).get("A")
        if not row:
            continue
        if "user" in setting and table.name in ("users", "user") and table.pk:
            return row.get(table.pk[0])
        if tenant_col and ("tenant" in setting or "org" in setting) and tenant_col in row:
            return row[tenant_col]
    return None


def _read(conn, table: Table, role: str, mode: str, rows: dict | None, settings: dict[str, str]) -> str:
    if rows is None:
        return "not seeded"
    key = table.pk or [c for c in table.columns if c in rows["A"] and rows["A"][c] is not None]
    try:
        if mode == "A, FORCE":
            conn.autocommit = False
            conn.execute(f"ALTER TABLE {table.qualified} FORCE ROW LEVEL SECURITY")
        conn.execute("RESET ROLE")
        conn.execute(f'SET ROLE "{table.owner if role == "owner" else role}"')
        for setting, value in settings.items():
            if mode == "unset":
                continue
            conn.execute("SELECT set_config(%s, %s, false)", (setting, "" if mode == "''" else value))
        cols = ", ".join(f'"{c}"::text' for c in key)
        seen = {tuple(r) for r in conn.execute(f"SELECT {cols} FROM {table.qualified}").fetchall()}
        a = int(tuple(rows["A"][c] for c in key) in seen)
        b = int(tuple(rows["B"][c] for c in key) in seen)
        return f"A {a} · B {b}"
    except Exception as exc:  # noqa: BLE001 - a refusal is a result too
        text = _first_line(exc)
        return "no SELECT grant" if "permission denied" in text else f"error: {text}"
    finally:
        if not conn.autocommit:
            conn.rollback()
            conn.autocommit = True
        conn.execute("RESET ROLE")

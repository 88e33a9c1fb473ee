"""The plan, made from the static facts before anything runs: which Alembic trees, in which
throwaway database each, what extensions and roles the migrations need, and which revision files
import something beyond Alembic, SQLAlchemy and the standard library (the run stops for those
unless the user allows it). The target's env.py is only parsed, never run, to name what the
replacement env.py does not do as it does."""

from __future__ import annotations

import ast
import posixpath
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from analyzers.facts.model import Facts, RevisionFact

ALLOWED_IMPORTS = {"alembic", "sqlalchemy", "__future__"}
_EXTENSION = re.compile(r"CREATE\s+EXTENSION\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:\"([^\"]+)\"|([A-Za-z_][\w-]*))", re.I)
_CREATED_ROLE = re.compile(r"CREATE\s+(?:ROLE|USER)\s+(?:IF\s+NOT\s+EXISTS\s+)?\"?(\w+)", re.I)
# Run over one SQL statement at a time (as the facts split them), never across statements.
_NAMED_ROLES = (
    re.compile(r"^\s*GRANT\b[^;]*?\bTO\s+([\w\s,\"]+?)\s*(?:\bWITH\b|\bGRANTED\b|;|$)", re.I),
    re.compile(r"^\s*CREATE\s+POLICY\s+\S+\s+ON\s+\S+\s+(?:AS\s+\w+\s+)?(?:FOR\s+\w+\s+)?TO\s+([\w\s,\"]+?)\s*(?:\bUSING\b|\bWITH\b|;|$)", re.I),
    re.compile(r"\bOWNER\s+TO\s+\"?(\w+)", re.I),
    re.compile(r"^\s*SET\s+(?:LOCAL\s+|SESSION\s+)?ROLE\s+\"?(\w+)", re.I),
    re.compile(r"^\s*GRANT\s+(\w+)\s+TO\s+\"?\w+", re.I),  # GRANT app_user TO ...: membership
)
_SQL_COMMENT = re.compile(r"--[^\n]*")
_NOT_ROLES = {"public", "current_user", "session_user", "current_role", "group", "role", "with", "using", "all"}
_SQLITE = re.compile(r"sqlite", re.I)


@dataclass(slots=True)
class TreePlan:
    folder: str  # the versions folder, relative to the target
    revisions: list[RevisionFact]
    version_table: str = "alembic_version"
    database: str = ""
    not_reproduced: list[str] = field(default_factory=list)
    skipped: str | None = None

    @property
    def heads(self) -> tuple[str, ...]:
        ids = {r.revision for r in self.revisions if r.revision}
        parents = {d for r in self.revisions for d in r.down_revisions}
        return tuple(sorted(ids - parents))


@dataclass(slots=True)
class Plan:
    trees: list[TreePlan]
    extensions: list[str]
    roles: list[str]  # named by grants, policies and owners, and created by no migration
    imports: dict[str, list[str]]  # revision file -> modules outside the allowed ones
    local_imports: set[str] = field(default_factory=set)  # top-level names that are the target's own
    third_party: set[str] = field(default_factory=set)  # top-level names to find in dbreview's environment

    @property
    def databases(self) -> list[str]:
        return list(dict.fromkeys(t.database for t in self.trees if not t.skipped))


def make_plan(root: Path, facts: Facts, python_files: list[str]) -> Plan:
    """`python_files`: every Python file of the target (relative), to tell its own modules from others."""
    by_folder: dict[str, list[RevisionFact]] = defaultdict(list)
    for rev in facts.revisions:
        by_folder[posixpath.dirname(rev.path)].append(rev)
    trees = [TreePlan(folder, revs) for folder, revs in by_folder.items()]
    trees.sort(key=lambda t: (-len(t.revisions), t.folder))
    sources = {rev.path: _read(root, rev.path) for rev in facts.revisions}
    for tree in trees:
        _read_env(root, tree)
        if _SQLITE.search(tree.folder) or _SQLITE.search(tree.version_table):
            tree.skipped = "its folder says it is for SQLite"
    _assign_databases(trees)
    statements = [_SQL_COMMENT.sub("", t) for t in _sql_texts(facts)]
    extensions = list(dict.fromkeys(a or b for t in statements for a, b in _EXTENSION.findall(t)))
    created = {r.lower() for t in statements for r in _CREATED_ROLE.findall(t)}
    named: list[str] = []
    for pattern in _NAMED_ROLES:
        for group in (g for t in statements for g in pattern.findall(t)):
            for name in re.split(r"[\s,]+", group.replace('"', " ")):
                low = name.lower()
                if re.fullmatch(r"[a-z_][a-z0-9_]*", low) and low not in _NOT_ROLES and low not in created:
                    named.append(low)
    imports, local, third = _imports(sources, python_files)
    return Plan(trees, extensions, sorted(set(named)), imports, local, third)


def _sql_texts(facts: Facts) -> list[str]:
    """Every SQL statement the revisions send with op.execute, as the facts read them (loops and
    constants expanded), upgrade and downgrade."""
    out: list[str] = []
    for rev in facts.revisions:
        for op in (*rev.upgrade, *rev.downgrade):
            if op.sql is None:
                continue
            if op.sql.statements:
                out += [st.text for st in op.sql.statements]
            elif op.sql.text:
                out.append(op.sql.text)
    return out


def _read(root: Path, rel: str) -> str:
    from analyzers import confine

    try:
        return confine.read_text(str(root), rel)
    except OSError:
        return ""


def _assign_databases(trees: list[TreePlan]) -> None:
    """Trees with different version tables share a database, in order (the largest first: most
    often the application's own, which the others build on); a second tree with the same version
    table gets a database of its own, as it must have had in production."""
    databases: list[set[str]] = []
    for tree in trees:
        if tree.skipped:
            continue
        for i, tables in enumerate(databases):
            if tree.version_table not in tables:
                tables.add(tree.version_table)
                tree.database = f"verify_{i + 1}"
                break
        else:
            databases.append({tree.version_table})
            tree.database = f"verify_{len(databases)}"


def _read_env(root: Path, tree: TreePlan) -> None:
    """What the target's env.py configures that ours does not reproduce (parsed, never run)."""
    try:  # no env.py (or an unreadable one) is an empty module: nothing to name
        module = ast.parse(_read(root, posixpath.join(posixpath.dirname(tree.folder), "env.py")))
    except (SyntaxError, ValueError):
        return
    constants = {
        t.id: n.value.value
        for n in module.body
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    for node in ast.walk(module):
        if isinstance(node, ast.Call) and _name(node.func).endswith("configure"):
            for kw in node.keywords:
                value = kw.value.value if isinstance(kw.value, ast.Constant) else None
                if isinstance(kw.value, ast.Name):
                    value = constants.get(kw.value.id)
                if kw.arg == "version_table" and isinstance(value, str):
                    tree.version_table = value
                elif kw.arg == "version_table" :
                    tree.not_reproduced.append("a version table named at run time (the default was used)")
                elif kw.arg == "version_table_schema":
                    tree.not_reproduced.append("the version table in its own schema (version_table_schema)")
                elif kw.arg == "include_schemas" and value is not False:
                    tree.not_reproduced.append("include_schemas (several schemas: only the default was built)")
        if isinstance(node, (ast.For, ast.AsyncFor)) and any(
            isinstance(n, ast.Call) and _name(n.func).endswith("run_migrations") for n in ast.walk(node)
        ):
            tree.not_reproduced.append("migrations run once per schema or tenant in a loop (run once, in the default schema)")
        if isinstance(node, ast.Call) and _name(node.func).endswith("get_x_argument"):
            tree.not_reproduced.append("-x arguments (none were given)")
        if isinstance(node, ast.keyword) and node.arg == "schema_translate_map":
            tree.not_reproduced.append("schema_translate_map (names were left as written)")
    tree.not_reproduced = list(dict.fromkeys(tree.not_reproduced))


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


def _imports(sources: dict[str, str], python_files: list[str]) -> tuple[dict[str, list[str]], set[str], set[str]]:
    """Per revision file, the modules it imports beyond the allowed ones; and which of those are
    the target's own (a top-level folder or module in it) and which would come from elsewhere."""
    found: dict[str, list[str]] = {}
    tops: set[str] = set()
    for path, text in sources.items():
        try:
            module = ast.parse(text)
        except SyntaxError:
            continue
        names: list[str] = []
        for node in ast.walk(module):
            if isinstance(node, ast.Import):
                names += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names.append("." * node.level + (node.module or ""))
        outside = [n for n in dict.fromkeys(names) if not _allowed(n)]
        if outside:
            found[path] = outside
            tops.update(n.split(".")[0] for n in outside if not n.startswith("."))
    own = set()
    for rel in python_files:
        parts = rel.split("/")
        own.update(p for p in parts[:-1] if p in tops)
        if parts[-1].removesuffix(".py") in tops:
            own.add(parts[-1].removesuffix(".py"))
    return found, own, tops - own


def _allowed(module: str) -> bool:
    top = module.split(".")[0]
    return bool(top) and (top in ALLOWED_IMPORTS or top in sys.stdlib_module_names)

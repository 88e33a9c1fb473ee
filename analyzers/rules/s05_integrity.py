"""Section 5: Data Integrity (keys, references, business rules in the database)."""

from __future__ import annotations

import ast
import dataclasses
import functools
import re
from collections import Counter

from analyzers import confine

from analyzers.findings import Severity
from analyzers.facts.imports import read_imports
from analyzers.facts.names import module_name
from analyzers.facts.model import Span
from analyzers.rules.base import Rule
from analyzers.rules.code_use import app_queries, function_around, open_call, run_by_helper, soft_delete_column, universal_soft_delete, weighs_deleted
from analyzers.rules.examples_common import HEADER, PATIENT
from analyzers.rules.s02_secrets import random_value
from analyzers.rules.mentions import mentions
from analyzers.rules.source_trees import source_tree
from analyzers.rules.schema import (
    ARCHIVE, all_constraints, all_indexes, is_test_path, key_lookup, migration_sql, column_anchor, column_sites, fk_columns, has_check,
    migrated_column, table_sql, unique_over, views, where_declared,
)

# A schema of this many tables with not one foreign key keeps its references in code on purpose.
_NO_KEYS_AT_LEAST = 5


class SequentialPrimaryKey(Rule):
    """A table uses a sequential integer primary key.

    What it checks:
        Integer, BigInteger or SmallInteger primary keys (autoincrement, SERIAL, IDENTITY). When a third
        of the tables or more use them, they are the project's convention, a policy choice: one info
        finding lists them. Otherwise each table off the project's convention is a warning.
    Why it matters:
        The checklist requires ULID-based UUID keys: sequential ids leak record counts and growth,
        are guessable in URLs (enumeration of patients), and collide when data from several
        databases is merged.
    Example:
        id = Column(Integer, primary_key=True, autoincrement=True)
    Instead:
        Inherit the UUID mixin: `id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_ulid_uuid)`.
    """

    ID = "INT001"
    ITEM = "5.1"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
class Ticket(Base):
    __tablename__ = "tickets"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
''',)
    INVALID = (HEADER + '''
class Ticket(Base):
    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
''',)

    def check(self):
        sites = []
        for table, col in column_sites(self.facts):
            pk_cols = [c for c in table.columns.values() if c.primary_key]
            if col.primary_key and len(pk_cols) == 1 and col.type_name in ("Integer", "BigInteger", "SmallInteger", "INTEGER", "BIGINT"):
                sites.append((table, col))
        tables = len(self.facts.tables)
        if len(sites) >= 2 and len(sites) * 3 >= tables:
            # The project's own convention: a policy choice to weigh once, not a defect per table.
            names = ", ".join(t.name for t, _ in sites[:6]) + (", ..." if len(sites) > 6 else "")
            yield self.grouped(
                f"{len(sites)} of {tables} tables use sequential integer keys ({names}): the project's convention, "
                "not the checklist's ULID-based UUIDs. Ids are guessable in URLs and reveal volumes; moving off them "
                "is a migration of every foreign key, so weigh it as one decision",
                [(c.span, column_anchor(t, c), t.name) for t, c in sites], "keys:sequential-convention",
                severity=Severity.INFO,
            )
            return
        for table, col in sites:  # a few tables off the project's own convention
            unlike = ", unlike most of the project's keys" if tables > len(sites) else ""
            yield self.finding(
                f"{where_declared(table, col)} is a sequential {col.type_name} key{unlike}: not a ULID-based UUID",
                col.span, column_anchor(table, col),
            )


_EXTERNAL = re.compile(r"stripe|external|session_id|request_id|correlation|trace|idempotency|fcm|device_id|"
                       r"subscription_id|customer_id|payment|price_id|s3|object_id|message_id|provider_account|"
                       r"_sid$|twilio|sendgrid|firebase|google|apple|oauth|sub_id|tax_id|npi|dea|employee_id|job_id|task_id|"
                       # a code platform's own ids, copied from its API (gh_user_id, pr_platform_event_id, pr_src_repo_id)
                       r"(^|_)(gh|github|gitlab|bitbucket|platform|src)_")


class IdWithoutForeignKey(Rule):
    """A column that references another table has no foreign key.

    What it checks:
        `*_id` columns of a UUID or integer type with no ForeignKey in the model and no foreign key
        constraint in the migrations. Left out: ids of outside systems, like Stripe's or a code platform's
        (`gh_user_id`, `pr_platform_event_id`, `pr_src_repo_id`: GitHub's numbers, copied from its API); a row's own
        ids (`file_type_id` on file_types),
        generated by a default or by the code (`col = uuid7()`, a schema's `Field(default_factory=uuid4)`);
        columns whose comment (on the line, or the comment block right above it), `doc=` or `comment=` says
        they have no foreign key on purpose ("Ignoring a strict foreign key relationship here"), or holds one
        commented out (or the relationship that joins on them says so); columns of a model mapped onto a view the
        migrations create, and those whose relationship loads such a model (no foreign key can point at a view); columns other tables' foreign keys
        point at (a key of the row: an outside system's number); ids of tables that have no key on `id` alone
        (a composite primary key), which no foreign key on the column alone can point at;
        polymorphic ids, whose table a type column beside them picks (`owner_type`, an index over the id
        and `sync_type`, a comment listing the kinds of id); ids of items inside a JSON column of the row
        or of the row it belongs to; columns whose foreign key a migration dropped (by name, or by a DO block that
        looks the column's foreign keys up in pg_constraint and drops each it finds). When no table is named
        like the column (purpose_id and no purposes table; a table that only ends with the word, `repo_topic` keyed
        by `repo_topic_id`, does not count for `topic_id`; where only tables that end with the word do, not one named
        like it in full, `backend_key_id` on `dnssec_rollover_key` or `housekeeper_version_id` beside
        `application_version`, only the code's use of it as a reference counts), nothing is said: an outside system's id, or
        one dbreview cannot place; but a relationship that joins on the column names its target: info. Nor on a
        summary table the code's SQL fills by `INSERT INTO ... SELECT` (rebuilt from the rows that hold the ids),
        nor for a column the code sets to or compares with 0 (a sentinel, "all", that no row is). On
        a log, event or history table, which may outlive what it points at, info too (on a cache, a buffer such
        as a follower table, or a collection, the finding says that instead: the reason follows the name). Elsewhere a warning
        when the application's code uses the column as a reference (writes another row's id into it,
        compares it with an id, looks a row up by it; a field of that name on an object of another class, `ret =
        FlowRead.model_validate(row)` then `ret.version_id = v.id`, or `VersionEntry(version_id=v.id)`, is not the
        column); otherwise info, naming where SQL text joins on it (`e.package_id =
        d.package_id` with `e` the alias its FROM gives the table) or the code writes it from a value handed in
        (`{"repo_id": repo_id}` for a bulk insert, or its SQL inserts it); where dbreview ties no code to it, it says
        so of itself (a lookup through the project's own helper or cache is not followed), never that the code has
        none. The advice is ON DELETE SET NULL for a nullable column, RESTRICT or CASCADE for a NOT NULL one. Not
        reported: a column the code fills with the `id` of a payload (`"event_id": event.get("id")`, another
        system's id), or one of another kind than the key of every table it names (an Integer `tree_id` beside
        `trees` keyed by a String: another database's key). Where not one table of five or more declares a
        foreign key, each finding is info and says so: references kept in code is then the project's design.
    Why it matters:
        Nothing stops a row from pointing at a record that does not exist or was deleted: orphaned
        rows, joins that silently drop data, and no cascade rule to reason about.
    Example:
        managed_by_proxy_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    Instead:
        `mapped_column(ForeignKey("proxies.id", ondelete="SET NULL"))`.
    """

    ID = "INT002"
    ITEM = "5.4"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
class Payment(Base):
    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    stripe_customer_id: Mapped[str] = mapped_column(String(64))
''',)
    INVALID = (HEADER + PATIENT + '''
class Payment(Base):
    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
''',)

    def check(self):
        found = list(self._references())
        tables = [*self.facts.tables.values(), *self.facts.migration_tables.values()]
        if found and len(self.facts.tables) >= _NO_KEYS_AT_LEAST and not any(fk_columns(t) for t in tables):
            # not one foreign key in the whole schema: references kept in code is the project's design, said once a column
            note = (f"; none of the {len(self.facts.tables)} tables declares a foreign key, so the project keeps its "
                    "references in code by design, and this is one more of them")
            found = [dataclasses.replace(f, severity=Severity.INFO, message=f.message + note) for f in found]
        yield from found

    def _references(self):
        names = set(self.facts.tables) | set(self.facts.migration_tables)
        candidates = []  # what the schema alone leaves a reference with no foreign key: the code decides the rest
        for table, col in column_sites(self.facts):
            if not col.name.endswith("_id") or col.primary_key or col.foreign_keys or _EXTERNAL.search(col.name):
                continue
            if col.type_name not in ("UUID", "Uuid", "GUID", "Integer", "BigInteger", "SmallInteger"):
                continue
            stem = col.name[: -len("_id")]
            if _polymorphic(self.facts, table, col, stem):
                continue  # a type column beside it picks the table it points at: no foreign key can (see BIL004)
            if any(c.kind == "foreign_key" and col.name in c.columns for c in table.constraints):
                continue  # a ForeignKeyConstraint of the model
            created = _fk_created(self.facts, table, col)
            if created is not None:
                (rev, span, target) = created
                yield self.finding(
                    f"{where_declared(table, col)} has no ForeignKey in the model, but "
                    f"{f'migration {rev} creates' if rev else 'the schema the migrations build has'} a foreign key on it"
                    f"{' to ' + target if target else ''} ({span.path}:{span.start}): the database checks the "
                    "reference. The model omits it, so autogenerate will propose to drop it and create_all (tests) "
                    "builds the table without it: declare the ForeignKey in the model",
                    col.span, column_anchor(table, col), severity=Severity.INFO, related=[(span, "the foreign key created")],
                )
                continue
            if col.default or col.server_default or _said_on_purpose(self.facts, col) or _outlives_by_doc(self.facts, table):
                continue  # the row's own generated id (short_id, friendly_id), or "not a FK" by its comment or its class's
            if _inside_json(self.facts, table, stem) or _fk_dropped(self.facts, table, col):
                continue  # the id of an item inside a JSON document; a foreign key a migration removed on purpose
            if any(t == table.name or table.name.endswith("_" + t) for t in (stem, stem + "s", stem + "es")):
                continue  # child_firing_id on composite_trigger_child_firing, file_type_id on file_types: the row's own id
            if _referenced(self.facts, table, col):
                continue  # other tables' foreign keys point at it: a key of this table (bugs.bug_id), not a reference
            joined = _joined_by(self.facts, table, col)
            if joined is not None and (_said_on_purpose(self.facts, joined) or _onto_view(self.facts, joined)):
                continue  # "a relationship, but without a foreign key constraint": the comment asked for; or no key can point at a view
            if joined is not None:
                yield self.finding(
                    f"{where_declared(table, col)} has no foreign key, though the relationship `{joined.attr}` "
                    f"({joined.span.path}:{joined.span.start}) joins it to {joined.target}: the ORM treats it as a "
                    "reference and the database does not check it, so it can point at a deleted row. If the foreign "
                    "key is left out on purpose (a cycle between the tables, rows that outlive their target), say so "
                    "in a comment; if not, add it",
                    col.span, column_anchor(table, col), severity=Severity.INFO, related=[(joined.span, "the relationship")],
                )
                continue
            if not _names_a_table(self.facts, _referent(stem), names, col.name):
                continue  # no table it could point at: an outside system's id, or one dbreview cannot place
            if _unkeyed_referents(self.facts, _referent(stem)):
                continue  # the tables it may point at have no key on `id` alone: no foreign key on it alone can exist
            if _key_types_differ(self.facts, _referent(stem), col):
                continue  # an Integer beside a table keyed by text: no foreign key can join the two types
            # no table is named like it in full, only ones that end with its word (backend_key_id on
            # dnssec_rollover_key, housekeeper_version_id beside application_version, pr_id beside a
            # source_git_pr_dist_git_pr link table): said only where the code uses it as a reference
            # (resolved_cert_id on pending_certs, set from a certificate's id); parent_node_id on nodes names it in full
            loose = not _named_in_full(self.facts, _referent(stem), names, col.name)
            candidates.append((table, col, loose))
        uses = mentions(self.facts, {c.attr or c.name for _, c, _ in candidates})
        owners = Counter(c.attr or c.name for t in self.facts.tables.values() for c in t.columns.values())
        for table, col, loose in candidates:
            # `self.query_id` in another module's class is that class's attribute, not this column
            own = re.compile(rf"(?<!self)\.{re.escape(col.attr or col.name)}\b|\b{re.escape(col.attr or col.name)}\s*[=:\]'\"]")
            lines = [(span, line) for span, line in uses[col.attr or col.name]
                     if not (span.path == col.span.path and col.span.start <= span.start <= col.span.end)
                     and (span.path == col.span.path or own.search(line))]
            if _generated_in_code(col, lines):
                continue  # the code makes a fresh id for it (uuid7()): the row's own identifier, not a reference
            if _payload_id(col, uses[col.attr or col.name]) and _used_as_reference(col, lines) is None:
                continue  # `"event_id": event.get("id")`: the id a payload from another system carries
            if owners[col.attr or col.name] > 1:  # wallet_id on six tables: a line names this one's only beside it
                lines = [(span, line) for span, line in lines if _on_table(line, col.attr or col.name, table) or _names_class(line, table)
                         or _core_column(line, col.name, table)]
            stem = col.name[: -len("_id")]
            if ARCHIVE.search(table.name):
                continue  # a copy of old rows kept apart: its ids outlive what they pointed at by design
            if _rebuilt_by_select(self.facts, table.name) or _sentinel(col, lines):
                continue  # a summary rebuilt from rows that hold the ids; 0 standing for "all", which no row is
            copies = sorted(c.name for c in table.columns.values()  # not pricing_unit_cost: pricing_unit_cost_id's copy
                            if c.name.startswith(stem + "_") and not c.name.endswith("id") and not c.foreign_keys
                            and c.name + "_id" not in table.columns)
            if _OUTLIVES.search(table.name) or copies:
                why = (f"keeps {', '.join(copies[:2])} beside it, a copy of what it points at, as rows do that outlive it"
                       if copies else next(said for kind, said in _OUTLIVES_AS if kind.search(table.name)))
                yield self.finding(
                    f"{where_declared(table, col)} has no foreign key; {table.name} {why} (a foreign key would forbid "
                    "that, or delete it): if so, say so in a comment; if not, add the foreign key",
                    col.span, column_anchor(table, col), severity=Severity.INFO,
                )
                continue
            used = _used_as_reference(col, [(span, line) for span, line in lines
                                            if not _set_on_another_class(self.facts, span, line, col, table)])
            if loose and used is None:
                continue  # no table named like it in full, and never used as a reference: an outside system's id
            if used is not None:
                (span, how) = used
                yield self.finding(
                    f"{where_declared(table, col)} looks like a reference but has no foreign key: it can point at rows "
                    f"that do not exist, and the code {how} ({span.path}:{span.start})",
                    col.span, column_anchor(table, col), related=[(span, how)],
                )
                continue
            named = next((span for span, line in lines if not line.lstrip().startswith("#")), None)
            joins = _sql_join(self.facts, table, col, lines, uses[col.attr or col.name])
            handed = _written_from(col, table, lines)
            # what _used_as_reference looks for, said as such: filtering this table by the column is no use of it as a
            # reference; where dbreview ties no code to it, it says that of itself, not that the code has none (a lookup
            # through the project's own helper or a cache is not followed)
            if handed is not None:
                read = (f"{handed[1]}, with a value dbreview does not trace to the row it came from"
                        + (f", and SQL joins on it ({joins.path}:{joins.start})" if joins else ""))
            elif joins:
                read = f"SQL joins on it ({joins.path}:{joins.start}), which a dangling value drops out of"
            else:
                where = f"the code names it ({named.path}:{named.start}), but " if named else ""
                read = (f"{where}dbreview ties no lookup, join or write of another row's id to it (one through the "
                        "project's own helper or a cache, it does not follow), so what a dangling value would break, it "
                        "cannot say")
            action = "ON DELETE SET NULL for a pointer that may go stale" if col.is_nullable else (
                "ON DELETE RESTRICT, or CASCADE where its rows go with the row they point at")
            yield self.finding(
                f"{where_declared(table, col)} looks like a reference but has no foreign key, so it can point at rows "
                f"that do not exist; {read}. A foreign key ({action}) keeps it true; if it is left out on purpose, say so "
                "in a comment",
                col.span, column_anchor(table, col), severity=Severity.INFO,
                related=([(handed[0], "written")] if handed else []) + ([(joins, "joins on it")] if joins else []),
            )


def _rebuilt_by_select(facts, table: str) -> bool:
    """Does the code's SQL fill the table by `INSERT INTO table (...) SELECT ...`: a summary (a data mart, a cache of
    counts) rebuilt from other tables, whose ids are copied from rows that hold them, and which a rebuild replaces."""
    fill = re.compile(rf"""\bINSERT\s+INTO\s+(?:\w+\.)?"?{re.escape(table)}"?\s*(?:\([^)]*\))?\s*SELECT\b""", re.I)
    return any(fill.search(use.text or "") for use in facts.sql)


def _sentinel(col, lines) -> bool:
    """Does the code compare the column with 0 or set it to 0 (`e.projects_id = 0` meaning every project): a value
    no row is, which a foreign key would refuse."""
    zero = re.compile(rf"\b{re.escape(col.attr or col.name)}['\"]?\s*(?:==?|:)\s*0\b(?!\.)")
    return any(zero.search(line.partition("#")[0]) for _, line in lines)


def _polymorphic(facts, table, col, stem: str) -> bool:
    """Does a type column beside it say which table it points at: `owner_id` with `owner_type`, `entity_id`
    indexed together with `sync_type`, or a comment listing the kinds of id it holds ("a set id or a group id")?"""
    if any(f"{stem}_{kind}" in table.columns for kind in ("type", "kind", "class", "table", "model")):
        return True
    def kind_column(name: str) -> bool:
        return name != col.name and _KIND.search(name) is not None and name in table.columns
    keys = [ix.columns for ix in all_indexes(table, facts)]
    keys += [con.columns for con in all_constraints(table, facts) if con.kind == "unique"]
    if any(col.name in cols and any(kind_column(c) for c in cols) for cols in keys):
        return True
    comments = [line.partition("#")[2] for line in _said_lines(facts, col)]
    return any(len(re.findall(r"\bids?\b", c, re.I)) >= 2 and re.search(r"\bor\b", c) for c in comments)


_KIND = re.compile(r"(^|_)(type|kind)$")
# A fresh identifier made for the column in code: `event_id = uuid7()`, `"ref_id": uuid.uuid4()`, `new_ulid()`,
# or a schema's `ref_id: UUID = Field(default_factory=uuid4)`.
_MADE = r"(\w+\.)*(uuid\d?|ulid|uuid_\w+|\w*(new|gen|generate|make)_\w*(id|uuid|ulid))"
_ANOTHER_ROWS_ID = r"""['"]?\s*[:=]\s*[\w.\[\]'"]+\.id\b(?!\w)"""  # `resolved_id=cert.id`
_GENERATOR = rf"""(['"]?\]?\s*(:|=(?!=))\s*{_MADE}\(\)|\b.*\bdefault_factory\s*=\s*{_MADE}\b)"""


def _generated_in_code(col, lines) -> bool:
    """The code sets it to a freshly generated id (and never to another row's id): its own identifier."""
    name = re.escape(col.attr or col.name)
    made = any(re.search(rf"\b{name}{_GENERATOR}", line) for _, line in lines)
    return made and _used_as_reference(col, lines) is None


def _used_as_reference(col, lines) -> tuple[Span, str] | None:
    """Where and how the code uses the column as a reference to a row: writes another row's id into it
    (`resolved_id=cert.id`), compares it with an id (`Other.id == x.col`), or hands it to a lookup
    (`get(notification_id=project.col)`, `session.get(Model, x.col)`)."""
    name = re.escape(col.attr or col.name)
    patterns = (
        (rf"\b{name}{_ANOTHER_ROWS_ID}", "writes another row's id into it"),
        (rf"\.{name}\s*==\s*[\w.]+\.id\b|\bid\s*==\s*[\w.()]+\.{name}\b", "compares it with a row's id"),
        (rf"(^\s*|[(,]\s*)(?!{name}=)\w*id=(?!=)\s*[\w.()]+\.{name}\b(?!\s*[=(])", "looks a row up by it"),
        (rf"\bget\w*\([^#]*\.{name}\b", "looks a row up by it"),
    )
    for span, line in lines:
        code = line.partition("#")[0]
        for pattern, how in patterns:
            if m := re.search(pattern, code):
                if how.startswith("writes") and _API_REPLY.search(m.group(0)):
                    continue  # `hello_asso_checkout_id=response.id`: the id another system's reply carries
                if how.startswith("writes") and re.search(r"\b(ON|WHERE|AND|JOIN)\b", code[:m.start()]):
                    how = "compares it with a row's id in SQL"  # `JOIN q ON kbs.query_id = q.id`: SQL's `=`
                return span, how
    return None


# An object named for another system's reply (`response.id`, `webhook_payload.id`): its id is that system's.
_API_REPLY = re.compile(r"[:=]\s*(?:\w+\.)*(?:response|resp|reply|payload|webhook)\w*\.id\b", re.I)


def _payload_id(col, lines) -> bool:
    """Does the code write into it the `id` of a dict (`"event_id": event.get("id")`, `event_id=item["id"]`) or of
    an API's reply (`response.id`): the id a payload from another system carries, not a row's."""
    name = re.escape(col.attr or col.name)
    payload = re.compile(rf"""\b{name}['"]?\s*[:=](?!=)\s*[\w.\[\]'"]*(\.get\(\s*['"]id['"]|\[\s*['"]id['"]\s*\])""")
    reply = re.compile(rf"""\b{name}['"]?\s*[:=](?!=)\s*(?:\w+\.)*(?:response|resp|reply|payload|webhook)\w*\.id\b""", re.I)
    return any(payload.search(code) or reply.search(code) for code in (line.partition("#")[0] for _, line in lines))


def _written_from(col, table, lines) -> tuple[Span, str] | None:
    """Where the code writes the column from a value handed in (`{"repo_id": repo_id}`, a row for a bulk insert),
    or its SQL inserts it (`INSERT INTO working_commits (repos_id, ...)`): from somewhere dbreview does not follow."""
    name = re.escape(col.attr or col.name)
    handed = re.compile(rf"""['"]{name}['"]\s*:\s*(\w*id)\b\s*[,)}}]""")
    inserted = re.compile(rf"\bINSERT\s+INTO\s+(\w+\.)?\"?{re.escape(table.name)}\"?\s*\([^)]*\b{name}\b", re.I)
    for span, line in lines:
        code = line.partition("#")[0]
        if m := handed.search(code):
            return span, f"the code writes it from `{m.group(1)}` ({span.path}:{span.start})"
        if inserted.search(code):
            return span, f"the code's SQL inserts it ({span.path}:{span.start})"
    return None


def _sql_join(facts, table, col, lines, named) -> Span | None:
    """Where SQL text joins on the column (`e.package_id = d.package_id`): on a line that is this table's (its
    name or an alias), or on one of a table formatted in (`{0}.repo_id = repo.repo_id`) by a function that
    names this table in a string (`table = 'dm_repo_annual' if ...`). Python's `==` is not SQL's `=`."""
    name = re.escape(col.attr or col.name)
    side = r"[\w{}%]+\.\w+"
    join = re.compile(rf"[\w{{}}%]+\.{name}\s*(?<![=!<>])=(?!=)\s*{side}|{side}\s*(?<![=!<>])=(?!=)\s*[\w{{}}%]+\.{name}\b")
    sql = re.compile(r"\b(WHERE|AND|ON|JOIN|USING)\b")
    for span, line in lines:
        if join.search(line) and sql.search(line):
            return span
    literal = re.compile(rf"""["']{re.escape(table.name)}["']""")
    for span, line in named:
        if re.search(rf"(\{{\w*\}}|%s|%\(\w+\)s)\.{name}\b", line) and join.search(line) and sql.search(line) and any(
                literal.search(text) for text in function_around(facts, span)[1]):
            return span
        if join.search(line) and sql.search(line) and _aliased(facts, span, line, name, table.name):
            return span
    return None


def _aliased(facts, span, line: str, name: str, table: str) -> bool:
    """Is the side of the join that reads the column an alias the query's FROM gives this table (`files e`, a few
    lines around it: `e.package_id = d.package_id`)?"""
    around = " ".join(facts.lines(Span(span.path, max(1, span.start - 25), span.start + 10)))
    return any(re.search(rf"\b{re.escape(table)}\s+(AS\s+)?{re.escape(m.group(1))}\b", around, re.I)
               for m in re.finditer(rf"(\w+)\.{name}\b", line))


def _joined_by(facts, table, col):
    """The relationship of `table` whose join names `col` (`foreign(Pair.creator_id) == remote(User.id)`,
    `foreign_keys=[creator_id]`): the code's own word that the column points at another table."""
    word = re.compile(rf"(?<![\w]){re.escape(col.attr or col.name)}(?![\w])")
    for rel in table.relationships:
        if rel.target and not rel.secondary and any(word.search(line) for line in facts.lines(rel.span)):
            return rel
    return None


def _onto_view(facts, rel) -> bool:
    """Does the relationship load a model mapped onto a view (one the migrations create, or a class that says it maps
    one)? No foreign key can point at a view."""
    made = views(facts)
    return any(t.name in made for t in facts.tables.values() if rel.target in (t.class_name, t.name)) or any(
        rel.target in (v.class_name, v.name) for v in facts.views.values())


def _inside_json(facts, table, stem: str) -> bool:
    """Is `stem` (child_trigger, firing) named by a JSON column of this row, or of a row its foreign keys point
    at: the id of an item stored inside that document, which no foreign key can reference?"""
    words = stem.split("_")
    tails = {"_".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, len(words) + 1)}
    tails |= {t + "s" for t in tails}
    rows = [table] + [facts.tables[fk.table] for c in table.columns.values() for fk in c.foreign_keys
                      if fk.table in facts.tables]
    return any(c.name in tails and (c.type_args.get("impl") or c.type_name or "").upper() in ("JSON", "JSONB")
               for t in rows for c in t.columns.values())


def _fk_dropped(facts, table, col) -> bool:
    """Did an upgrade drop a foreign key on this column (`op.drop_constraint("t_col_fkey", "t")`, ALTER TABLE
    ... DROP CONSTRAINT): the history records that it is left out on purpose."""
    def fk_of_col(name: str) -> bool:
        return col.name in name and re.search(r"fk|foreign", name, re.I) is not None
    for rev in facts.revisions:
        for op in rev.upgrade:
            if op.name == "drop_constraint" and op.table == table.name and fk_of_col(op.target or ""):
                return True
            for st in op.sql.statements if op.sql else ():
                if st.kind == "alter_table" and st.table == table.name and any(
                        fk_of_col(str(c)) for c in st.details.get("dropped_constraints", ())):  # type: ignore[union-attr]
                    return True
                if st.kind == "dynamic_sql" and _drops_fks_found_by_column(op.sql.text or "", st.details, table.name, col.name):
                    return True
    return False


def _drops_fks_found_by_column(text: str, details: dict, table: str, column: str) -> bool:
    """A DO block that looks the column's foreign keys up in pg_constraint (contype 'f', the column named) and
    drops each by the name found (`EXECUTE format('ALTER TABLE t DROP CONSTRAINT %I', c)`)."""
    return (details.get("template_table") == table and "DROP CONSTRAINT" in str(details.get("template_text", "")).upper()
            and re.search(r"contype\s*=\s*'f'", text) is not None and f"'{column}'" in text)


# Tables of records that are kept after what they record is gone.
_OUTLIVES = re.compile(r"log|event|histor|audit|stat|metric|cache|follower|firing|bucket|collection|snapshot")
# What a table's name says it is, and so why its reference may not hold (the first that matches).
_OUTLIVES_AS = (
    (re.compile(r"cache"), "reads like a cache, whose rows may outlive what they point at"),
    (re.compile(r"follower|bucket|buffer"), "reads like a buffer, whose rows may point at rows not there yet or gone already"),
    (re.compile(r"collection"), "reads like a collection kept beside what it points at, which may outlive it"),
    (re.compile(""), "reads like a log, history or archive that may outlive what it points at"),
)
_ON_PURPOSE = re.compile(
    r"not (a |an )?(fk|foreign key)|no (fk|foreign key)|without (a )?(fk|foreign key)|won'?t exists?|(do|does|may|might|can)"
    r"(n'?t| not) exist|foreign_key\s*=|ForeignKey\(|"  # a foreign key commented out says it as well
    r"\b(?:do|does|did|will|should)(?:n'?t| not) (?:introduce|add|use|want|need|have|create) (?:a |an |any )?(?:fk|foreign key)|"
    r"\b(?:ignor|skip|omit|leav\w* out)\w* (?:a |an |the |any )?(?:strict |real |hard )?(?:fk|foreign key)",
    re.I)
_DOC = re.compile(r"""\b(?:doc|comment)\s*=\s*\(?\s*[rbuf]*(["'])(.+?)\1""")


def _said_on_purpose(facts, col) -> bool:
    """A comment on the column or just above it, or its `doc=` / `comment=`, says it has no foreign key on purpose."""
    lines = _said_lines(facts, col)
    said = [line.partition("#")[2] for line in lines] + [m.group(2) for m in _DOC.finditer("\n".join(lines))]
    return any(_ON_PURPOSE.search(text) for text in said)


# A class docstring that says its rows stay when what they point at goes: "loosely coupled with Project, so even if
# project is gone, history remains" (mergin).
_OUTLIVES_SAID = re.compile(r"loosely coupled|even (?:if|when|after) (?:the |a |an |its )?\w+ (?:is |was |are |were |gets )?"
                       r"(?:gone|deleted|removed|dropped)|\boutlive", re.I)


def _outlives_by_doc(facts, table) -> bool:
    """The docstring of the table's class says its rows outlive what they point at: no foreign key on purpose."""
    if not table.class_name:
        return False
    lines = facts.lines(Span(table.path, table.span.start, table.span.start + 12))
    body = "\n".join(lines[1:]).lstrip()
    quote = body[:3]
    if quote not in ('"""', "'''"):
        return False
    return bool(_OUTLIVES_SAID.search(body[3:].partition(quote)[0]))


def _said_lines(facts, col) -> list[str]:
    """The column's lines and the block of comment lines right above it (not a neighbour's trailing comment)."""
    above = facts.lines(Span(col.span.path, max(1, col.span.start - 6), col.span.start - 1))
    lines = list(facts.lines(col.span))
    for line in reversed(above):
        if not line.strip().startswith("#"):
            break
        lines.append(line)
    return lines


def _fk_created(facts, table, col) -> tuple[str | None, Span, str] | None:
    """The revision whose upgrade creates a foreign key on the column (op.create_foreign_key, a
    ForeignKeyConstraint or a ForeignKey in create_table/add_column, ALTER TABLE ... ADD CONSTRAINT ... FOREIGN KEY),
    where, and what it references (revision None: the replayed schema has it, made by SQL); None when no
    migration makes one or a migration later drops it."""
    if _fk_dropped(facts, table, col):
        return None
    migrated = migrated_column(facts, table, col.name)
    for rev in facts.revisions:
        for op in rev.upgrade:
            if op.table != table.name:
                continue
            for c in op.columns:
                if c.name == col.name and c.foreign_keys:
                    return rev.revision or rev.path, c.foreign_keys[0].span, c.foreign_keys[0].target
            for con in op.constraints:
                if con.kind == "foreign_key" and col.name in con.columns:
                    return rev.revision or rev.path, con.span, con.target or ""
            for st in op.sql.statements if op.sql else ():
                added = st.details.get("added_constraints", ()) if st.kind == "alter_table" else ()
                if any(a.get("kind") == "foreign_key" and col.name in a.get("columns", ()) for a in added):  # type: ignore[union-attr]
                    return rev.revision or rev.path, st.span, ""
    if migrated is not None and migrated.foreign_keys:  # the replayed schema has one, made where dbreview cannot place
        return None, migrated.foreign_keys[0].span, migrated.foreign_keys[0].target
    built = facts.migration_tables.get(table.name)
    con = next((c for c in (built.constraints if built else ()) if c.kind == "foreign_key" and col.name in c.columns), None)
    return (None, con.span, con.target or "") if con else None


def _referenced(facts, table, col) -> bool:
    """Whether a foreign key of another table (or of this one) names this column as its target."""
    name = col.attr or col.name
    return any(fk.table == table.name and fk.target.rsplit(".", 1)[-1] in (col.name, name)
               for t in facts.tables.values() for c in t.columns.values() for fk in c.foreign_keys)


def _unkeyed_referents(facts, stem: str) -> bool:
    """Whether every table `stem` may name (step -> bw_template_steps) has a composite primary key that `id` is
    only part of, and nothing unique on `id` alone: a foreign key cannot point at `id` there."""
    words = stem.split("_")
    tails = {"_".join(words[i:]) for i in range(len(words))}
    forms = {f for t in tails for f in (t, t + "s", t + "es")}
    found = [t for t in facts.tables.values() if t.name in forms or any(t.name.endswith("_" + f) for f in forms)]

    def keyed(t) -> bool:
        pk = [c.name for c in t.columns.values() if c.primary_key]
        pk += [n for con in t.constraints if con.kind == "primary_key" for n in con.columns]
        single = pk == ["id"] or ("id" in t.columns and t.columns["id"].unique)
        return single or any(con.kind == "unique" and tuple(con.columns) == ("id",) for con in t.constraints) or "id" not in pk
    return bool(found) and not any(keyed(t) for t in found)


_FAMILIES = {"Integer": "int", "BigInteger": "int", "SmallInteger": "int", "UUID": "uuid", "Uuid": "uuid", "GUID": "uuid",
             "String": "text", "Text": "text", "Unicode": "text", "VARCHAR": "text", "CHAR": "text"}


def _key_types_differ(facts, stem: str, col) -> bool:
    """Are the tables `stem` names in full (tree -> trees) all keyed by one text column, and the column a number
    (an Integer `tree_id` beside `trees` keyed by a String): a key of something else (another database's rows),
    which no foreign key could point at."""
    mine = _FAMILIES.get(col.type_name or "")
    for tail in _tails(stem):
        found = [t for name in sorted(_forms(tail)) if (t := facts.tables.get(name) or facts.migration_tables.get(name))]
        if not found:
            continue
        kinds = []
        for t in found:
            pk = [c for c in t.columns.values() if c.primary_key]
            kinds.append(_FAMILIES.get(pk[0].type_name or "") if len(pk) == 1 else None)
        # only a number beside a text key: a uuid may be kept as text (String(36)), and a UUID column beside an
        # Integer key is more likely a model to fix than another database's key
        return mine == "int" and all(k == "text" for k in kinds)
    return False


def _referent(stem: str) -> str:
    """What an id names: `chunk_in_doc` (a chunk's ordinal within its document) names a chunk, not a document;
    `managed_by_proxy` names the proxy."""
    head = re.split(r"_(?:in|of|within|per)_", stem, maxsplit=1)[0]
    return head or stem


def _names_a_table(facts, stem: str, names: set[str], column: str) -> bool:
    """Is there a table `stem` could refer to: patient -> patients, managed_by_proxy -> proxies, repos -> repo? A table that only
    ends with the word (topic -> repo_topic) counts where its key is `id` or `<word>_id` alone: one keyed otherwise
    (repo_topic_id; commit_parents on (cmt_id, parent_id)) is not what a `<word>_id` points at; one keyed by the
    column's own name is (licensed_item_purchase_id -> licensed_items_purchases)."""
    for tail in _tails(stem):
        if _forms(tail) & names:
            return True
        if any((n.endswith("_" + tail) or n.endswith("_" + tail + "s")) and _keyed_for(facts, n, {"id", f"{tail}_id", column})
               for n in names):
            return True
    return False


def _named_in_full(facts, stem: str, names: set[str], column: str) -> bool:
    """Is a table named like `stem` in full (node -> nodes), or keyed by `column` itself (licensed_item_purchase_id ->
    tracker_licensed_items_purchases): not only a table that ends with its word under another qualifier?"""
    def keyed_by_column(name: str) -> bool:
        table = facts.tables.get(name) or facts.migration_tables.get(name)
        return table is not None and [c.name for c in table.columns.values() if c.primary_key] == [column]
    return any(_forms(tail) & names or any(n.endswith("_" + f) and keyed_by_column(n) for n in names for f in _forms(tail))
               for tail in _tails(stem))


def _tails(stem: str) -> list[str]:
    """managed_by_proxy -> managed_by_proxy, by_proxy, proxy."""
    words = stem.split("_")
    return ["_".join(words[i:]) for i in range(len(words))]


def _forms(tail: str) -> set[str]:
    """The table names a word is: proxy -> proxy, proxys, proxyes, proxies; repos -> repo."""
    return {tail, tail + "s", tail + "es", tail[:-1] + "ies" if tail.endswith("y") else tail, tail.removesuffix("s")}


def _keyed_for(facts, name: str, keys: set[str]) -> bool:
    """Could a column point at table `name`: its primary key is one of `keys` alone, or one of those is unique (or
    dbreview does not know its key)."""
    table = facts.tables.get(name) or facts.migration_tables.get(name)
    if table is None:
        return True
    pk = [c.name for c in table.columns.values() if c.primary_key]
    pk += [n for con in table.constraints if con.kind == "primary_key" for n in con.columns]
    return not pk or (len(pk) == 1 and pk[0] in keys) or any(
        table.columns[k].unique for k in keys if k in table.columns) or any(
        con.kind == "unique" and len(con.columns) == 1 and con.columns[0] in keys for con in table.constraints)


class PrimaryProviderNotUnique(Rule):
    """Nothing in the database stops a patient from having two PRIMARY providers.

    What it checks:
        On a care-team table with `patient_id` and a role column: a unique index on `patient_id`
        with a `WHERE role = 'PRIMARY'` predicate (in the model or the migrations).
    Why it matters:
        "One PRIMARY provider per patient" checked only in application code fails under concurrent
        requests; two primaries make responsibility and billing ambiguous.
    Example:
        class CareTeamAssignment(Base): patient_id, provider_id, role   # no partial unique index
    Instead:
        `Index("uq_care_team_primary", "patient_id", unique=True, postgresql_where=text("role = 'PRIMARY'"))`
    """

    ID = "INT003"
    ITEM = "2.care.2"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
from sqlalchemy import text
class CareTeamAssignment(Base):
    __tablename__ = "care_team_assignments"
    __table_args__ = (Index("uq_primary", "patient_id", unique=True, postgresql_where=text("role = 'PRIMARY'")),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
''',)
    INVALID = (HEADER + '''
class CareTeamAssignment(Base):
    __tablename__ = "care_team_assignments"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
''',)

    def check(self):
        for table in self.facts.tables.values():
            if "care_team" not in table.name or "patient_id" not in table.columns:
                continue
            role = next((c for c in ("role", "assignment_role", "care_role", "provider_role") if c in table.columns), None)
            if role is None:
                continue
            enforced = any(
                ix.unique and "patient_id" in ix.columns and "PRIMARY" in (ix.where or "").upper()
                for ix in all_indexes(table, self.facts)
            ) or any(
                "PRIMARY" in st.text.upper() and ("UNIQUE" in st.text.upper() or "EXCLUDE" in st.text.upper())
                for st in table_sql(self.facts, table.name)
            )
            if not enforced:
                yield self.finding(
                    f"{table.name}: no partial unique index on patient_id WHERE {role} = 'PRIMARY': a patient can get two "
                    "PRIMARY providers", table.columns[role].span, f"table:{table.name}:one-primary", item="2.care.2",
                )


_PROVIDER = HEADER + '''
class Provider(Base):
    __tablename__ = "providers"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    npi_number: Mapped[str | None] = mapped_column(String(10))
'''
_NPI_MIGRATION = '''
from alembic import op
import sqlalchemy as sa
revision = "0001"
down_revision = None
def downgrade():
    pass
'''


class NpiNotUniquePerOrganization(Rule):
    """A provider's NPI is not unique within an organization.

    What it checks:
        On a providers table with an NPI column and `organization_id`: a unique constraint or index
        on (organization_id, npi), or a unique NPI.
    Why it matters:
        The same provider registered twice in one clinic splits their patients, schedules and
        billing across two records.
    Example:
        npi_number: Mapped[str] = mapped_column(String(10), index=True)
    Instead:
        `UniqueConstraint("organization_id", "npi_number")` in `__table_args__`.
    """

    ID = "INT004"
    ITEM = "5.5"
    SEVERITY = Severity.WARNING
    VALID = ({"models.py": _PROVIDER, "migrations/versions/0001_a.py": _NPI_MIGRATION + '''
def upgrade():
    op.create_table("providers", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("organization_id", sa.Integer), sa.Column("npi_number", sa.String(10)))
    op.create_index("ix_providers_org_npi", "providers", ["organization_id", "npi_number"], unique=True,
                    postgresql_where=sa.text("npi_number IS NOT NULL"))
'''}, HEADER + '''
class Provider(Base):
    __tablename__ = "providers"
    __table_args__ = (UniqueConstraint("organization_id", "npi_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    npi_number: Mapped[str] = mapped_column(String(10))
''',)
    INVALID = (HEADER + '''
class Provider(Base):
    __tablename__ = "providers"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    npi_number: Mapped[str] = mapped_column(String(10), index=True)
''', {"models.py": _PROVIDER, "migrations/versions/0001_a.py": _NPI_MIGRATION + '''
def upgrade():
    op.create_table("providers", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("organization_id", sa.Integer), sa.Column("npi_number", sa.String(10)))
    op.create_index("ix_providers_org_npi", "providers", ["organization_id", "npi_number"], unique=True,
                    postgresql_where=sa.text("npi_number IS NOT NULL"))
    # autogenerate, later, from a model without the index: it drops it
    op.drop_index(op.f("ix_providers_org_npi"), table_name="providers")
'''})

    def check(self):
        for table in self.facts.tables.values():
            if not re.match(r"^providers?$", table.name):
                continue
            npi = next((table.columns[c] for c in ("npi_number", "npi") if c in table.columns), None)
            if npi is None or npi.unique or "organization_id" not in table.columns:
                continue
            # A partial unique index (WHERE npi_number IS NOT NULL, WHERE deleted_at IS NULL) enforces the rule too.
            if not unique_over(self.facts, table, ("organization_id", npi.name)):
                yield self.finding(
                    f"{table.name}: no unique (organization_id, {npi.name}): one provider can be registered twice in an "
                    "organization", npi.span, f"table:{table.name}:npi-unique",
                )


class EnumAsFreeText(Rule):
    """A status-like column accepts any text.

    What it checks:
        String columns named status, role or priority (and type, kind, category, state when the code
        documents a closed set: a `# A, B, C` comment, an UPPER_CASE default, a matching Python Enum)
        with no Enum type and no CHECK constraint naming the column; one finding per table.
        Discriminators (`polymorphic_on`), MIME types, geographic state codes, a column unique by itself
        (`unique=True`, the primary key: one row per value is an identifier, not a state) and one with a foreign
        key (to a lookup table of the values, `ForeignKey("job_status.name")`, which limits them as a CHECK
        would) are left out, and so are the columns of a model mapped onto a view the migrations create. Then what
        the code writes decides: a column it writes an exception's message or a value made into text
        (`status=str(last_error)`) is free text by design; a compound name (`personal_role`,
        `resource_role`) that the code never sets or compares with a fixed value is not reported either:
        nothing shows its values to be a set; nor the unbounded status line of a log table (`utility_log.status`,
        Text or a String with no length) that the code never compares with a fixed value (the message each entry
        says), nor a role the code sets the session's database role to (`SET ROLE`, a name looked up in
        `pg_roles`): any identifier the user picks. A `@validates("role")` hook of the model is named in the
        finding: it limits what the ORM writes, not other writers.
    Why it matters:
        Typos and retired values ("canceled" vs "CANCELLED") get in and break every query and report
        that filters on the value.
    Example:
        status: Mapped[str] = mapped_column(String(20))
    Instead:
        `mapped_column(Enum(Status, name="billing_status"))` or a `CheckConstraint("status IN (...)")`.
    """

    ID = "INT005"
    ITEM = "5.6"
    SEVERITY = Severity.INFO
    VALID = (HEADER + '''
from sqlalchemy import CheckConstraint
class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (CheckConstraint("status IN ('OPEN', 'CLOSED')"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
''',)
    INVALID = (HEADER + '''
class Ticket(Base):
    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
''', HEADER + '''
class ContactMethod(Base):
    __tablename__ = "contact_methods"
    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(20))  # MOBILE, HOME, EMAIL
''')
    VALID = VALID + (HEADER + '''
class Challenge(Base):  # `type` picks the subclass; `category` is whatever the organisers type
    __tablename__ = "challenges"
    __mapper_args__ = {"polymorphic_on": "type"}
    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(80))
    category: Mapped[str] = mapped_column(String(80))
    file_type: Mapped[str] = mapped_column(String(80))
''',)
    NAMES = re.compile(r"(^|_)(status|role|type|kind|priority|category|state)$")
    # Free text on purpose: MIME types, geographic states, names of tables or classes.
    NOT_ENUMS = re.compile(r"(^|_)(content|mime|media|file|storage)_type$|license_state|address_state|billing_state|"
                           r"^(us_)?state$|_table$|^(model|entity|table|class|resource|object|target|subject)_type$")

    # Nearly always a closed set; the other names only when the code says so (comment, default, Enum).
    CLOSED = re.compile(r"(^|_)(status|role|priority)$")
    BARE = re.compile(r"(status|role|priority)$")  # the word alone, not `personal_role`, `resource_role`

    def check(self):
        by_table: dict[str, list] = {}
        candidates = []
        classes = [c for m in self.facts.modules for c in m.classes]
        discriminators = {(c.name, c.polymorphic_on) for c in classes if c.polymorphic_on}
        enums = {c.name.lower() for c in classes if any(b.rsplit(".", 1)[-1] in ("Enum", "StrEnum", "IntEnum") for b in c.bases)}
        for table, col in column_sites(self.facts):
            if not self.NAMES.search(col.name) or col.type_name not in ("String", "Text", "VARCHAR", "Unicode"):
                continue
            if self.NOT_ENUMS.search(col.name) or (col.name.endswith("state") and col.type_args.get("length") in ("2", "3")):
                continue
            if (col.declared_in, col.attr or col.name) in discriminators or (table.class_name, col.attr) in discriminators:
                continue  # polymorphic_on: its values are the mapped subclasses (plugins add more)
            stem = col.name.rsplit("_", 1)[0]
            if col.name.endswith("_type") and f"{stem}_id" in table.columns:
                continue  # a polymorphic pointer: BIL003's business, or a generic reference (audit logs)
            camel = "".join(p.title() for p in col.name.split("_"))
            has_enum = bool({camel.lower(), f"{table.class_name or ''}{camel}".lower()} & enums)
            if not self.CLOSED.search(col.name) and not (self._documented_values(col) or has_enum):
                continue  # a free-form `type` or `category` is often meant to be free
            if _retired(self.facts, table):
                continue  # the model says the table is deprecated: nothing new writes it
            if key_lookup(self.facts, table, (col.name,)):
                continue  # unique by itself (unique=True, the primary key): one row per value, an identifier, not a state
            if col.foreign_keys or any(c.kind == "foreign_key" and col.name in c.columns for c in all_constraints(table, self.facts)):
                continue  # a foreign key to a lookup table (job_status.name) limits the values as a CHECK would
            if not has_check(self.facts, table, col.name):
                candidates.append((table, col, has_enum))
        uses = mentions(self.facts, {c.attr or c.name for _, c, _ in candidates})
        shared = Counter(c.attr or c.name for t in self.facts.tables.values() for c in t.columns.values())
        for table, col, has_enum in candidates:
            attr = col.attr or col.name
            mine = [(span, line) for span, line in uses[attr] if not (span.path == col.span.path and col.span.start <= span.start <= col.span.end)]
            lines = [line for _, line in mine]
            writes = lines
            if shared[attr] > 1:  # `role` of several tables: only the lines whose object is named like this one
                lines = [line for line in lines if _on_table(line, attr, table)]
                writes = lines + [line for span, line in mine if _names_table(self.facts, span, table)]  # update(cert_id, status=...)
            documented = bool(self._documented_values(col)) or has_enum or bool(re.fullmatch(r"[A-Z]\w*\.\w+", col.default or ""))
            if _free_write(attr, writes) and not documented:
                continue  # the code writes an exception's message or a value made into text: free text by design
            closed = documented or _closed_use(attr, lines)
            if _free_text_use(attr, lines) and not closed:
                continue  # lowercased, split or searched for words: a title or a description, not a set of values
            if not closed and not self.BARE.match(col.name):
                continue  # `personal_role`, never set or compared with a fixed value: nothing says its values are a set
            if not closed and _log_text(table, col):
                continue  # the status line of a log table, unbounded text no code compares: a message, not a state
            if not closed and col.name.endswith("role") and _database_role(self.facts, [u for u in mine if shared[attr] == 1 or _on_table(
                    u[1], attr, table) or not _on_any_table(self.facts, u[1], attr)]):
                continue  # the name of a database role (`SET ROLE`): any identifier the user picks
            by_table.setdefault(column_anchor(table, col).rsplit(".", 1)[0], []).append((table, col))
        for anchor, cols in by_table.items():
            table, first = cols[0]
            described = []
            for _, col in cols:
                values = self._documented_values(col)
                described.append(f"{col.name} ({', '.join(values)})" if values else col.name)
            owner = first.declared_in if table.class_name and first.declared_in != table.class_name else table.name
            hooks = [(col, hook) for _, col in cols if (hook := _validated(self.facts, table, col)) is not None]
            checked = "".join(
                f"; the model's @validates(\"{col.attr or col.name}\") ({hook.path}:{hook.start}) limits what the ORM "
                "writes, not what other writers (SQL, migrations, other services) put in" for col, hook in hooks)
            yield self.finding(
                f"{owner}: {', '.join(described)} {'is' if len(cols) == 1 else 'are'} free text: no Enum type or CHECK "
                f"constraint limits the values{' in the database' if hooks else ''}{checked}",
                first.span, f"{anchor}:free-text", related=[(hook, "validated in Python") for _, hook in hooks],
            )

    def _documented_values(self, col) -> list[str]:
        """The closed set of values the code documents: a trailing comment `# OPEN, CLOSED`, an UPPER default."""
        text = " ".join(self.facts.lines(col.span))
        comment = text.split("#", 1)[1] if "#" in text else ""
        values = re.findall(r"\b[A-Z][A-Z_]{1,}\b", comment)
        if not values and col.default and re.fullmatch(r"['\"][A-Z][A-Z_]+['\"]", col.default.strip()):
            values = [col.default.strip("'\"") + ", ..."]
        return values[:8]


def _log_text(table, col) -> bool:
    """A column of a log table (`utility_log`, `repos_fetch_logs`) with no length bound (Text, a String with no
    length): the line each entry says, written as the code goes (`f"Failed ({code})"`), not a state."""
    return bool(re.search(r"(^|_)logs?$", table.name)) and (col.type_name == "Text" or not col.type_args.get("length"))


# The column's value is read where the code speaks to the database about roles: a role's name, not a set of values.
_DATABASE_ROLE = re.compile(r"SET\s+(LOCAL\s+|SESSION\s+)?ROLE\s+(TO\s+|=\s*)?[{%:'\"]|\bpg_roles\b|\brolname\b", re.I)


def _on_any_table(facts, line: str, attr: str) -> bool:
    """Does the line read `attr` on an object named like some table (`server.role`), not on one named like none
    (`manager.role`, a copy the code keeps of some row's value)?"""
    return any(_on_table(line, attr, t) for t in facts.tables.values())


def _database_role(facts, uses) -> bool:
    """Does a function that reads the column (`role = manager.role`) set the session's role with it, or look
    it up among the server's roles?"""
    return any(_DATABASE_ROLE.search("\n".join(function_around(facts, span)[1])) for span, _ in uses)


def _validated(facts, table, col) -> Span | None:
    """Where the model checks the column's values in Python (`@validates("role")` on the class)."""
    attr = col.attr or col.name
    for span, line in mentions(facts, {"validates"})["validates"]:
        if span.path != col.span.path or not re.search(rf"""@\w*\.?validates\([^)]*['"]{re.escape(attr)}['"]""", line):
            continue
        above = facts.lines(Span(span.path, 1, span.start))
        owner = next((m.group(1) for ln in reversed(above) if (m := re.match(r"class\s+(\w+)", ln))), None)
        if owner is not None and owner == col.declared_in:
            return span
    return None


def _retired(facts, table) -> bool:
    """The model's docstring or a comment before its first column says the table is deprecated or unused."""
    first = min((c.span.start for c in table.columns.values() if c.span.path == table.span.path), default=table.span.start)
    head = facts.lines(Span(table.span.path, table.span.start, min(first, table.span.start + 12)))
    return any(re.search(r"\bdeprecated\b|no longer used|\bunused\b|\bobsolete\b", line, re.I) for line in head)


def _set_on_another_class(facts, span, line: str, col, table) -> bool:
    """A write of the column's name on an object of a class that is not the table's: `ret.version_id = v.id` where
    the function made `ret` from such a class (`ret = FlowRead.model_validate(row)`), or `version_id=v.id` given to
    such a class's constructor (`VersionEntry(version_id=v.id, ...)`): an API schema's field, not this column."""
    name = re.escape(col.attr or col.name)
    first, body = function_around(facts, span)
    before = body[: span.start - first]
    if m := re.match(rf"\s*(\w+)\.{name}\s*=(?!=)", line):
        if m.group(1) in ("self", "cls"):
            return False
        made = re.compile(rf"\s*{m.group(1)}\s*(?::[^=]+)?=\s*([A-Z]\w*)(?:\.\w+)?\(")
        bound = re.compile(rf"\s*{m.group(1)}\s*(?::[^=]+)?=(?!=)")
        classes = {b.group(1) for b in map(made.match, before) if b}
        rebound = any(bound.match(text) and not made.match(text) for text in before)  # bound to something else too
        return len(classes) == 1 and not rebound and table.class_name not in classes
    if m := re.search(rf"(?<![\w.]){name}\s*=(?!=)", line):
        cls = re.match(r"([A-Z]\w*)(?:\.\w+)?$", open_call("\n".join([*before, line[: m.start()]])) or "")
        return cls is not None and cls.group(1) != table.class_name  # `VersionEntry(`, `Entry.build(`
    return False


def _on_table(line: str, attr: str, table) -> bool:
    """`worker.role`, `Worker.role`: the line reads `attr` on an object named like the table."""
    names = _table_words(table) | ({table.class_name.lower()} if table.class_name else set())
    return any(m.group(1).lower() in names for m in re.finditer(rf"(\w+)\.{re.escape(attr)}\b", line))


def _names_class(line: str, table) -> bool:
    """The line names the table's class as a word (`session.get(Refund, id).wallet_id`), not inside another name."""
    return bool(table.class_name) and re.search(rf"(?<![\w.]){re.escape(table.class_name)}\b", line) is not None


def _core_column(line: str, name: str, table) -> bool:
    """`wallets_table.c.wallet_id`, `projects_to_units.c.unit_id`: the column read on a Core Table named like the table."""
    return any(m.group(1).lower() in _table_words(table) or m.group(1).lower().removesuffix("_table") in _table_words(table)
               for m in re.finditer(rf"(\w+)\.c\.{re.escape(name)}\b", line))


def _table_words(table) -> frozenset[str]:
    """How code names a table's rows: `users`, `user`, `tenant_api_key` for TenantApiKey."""
    return _words_naming(table.name, table.class_name)


@functools.lru_cache(maxsize=4096)  # asked for every line that mentions a column of the table
def _words_naming(name: str, class_name: str | None) -> frozenset[str]:
    names = {name.lower(), name.lower().rstrip("s")}
    if class_name:
        names.add(re.sub(r"(?<!^)(?=[A-Z])", "_", class_name).lower())
    return frozenset(names)


def _free_text_use(attr: str, lines) -> bool:
    """The code treats the value as text: lowercases, splits or strips it, or searches it for words."""
    a = re.escape(attr)
    return any(re.search(rf"\.{a}\b[^=\n]*?\)?\.(lower|upper|casefold|split|strip|startswith|endswith|title)\(|"
                         rf"\.{a}\.(contains|like|ilike|icontains|startswith|endswith)\(|\bin\s+\(?[\w.]*\.{a}\b", line.partition("#")[0])
               for line in lines)


def _assignments(attr: str, lines) -> list[str]:
    """The values the code writes into `attr`: `x.attr = v`, `attr=v` (a constructor, values()), `"attr": v`."""
    a = re.escape(attr)
    found = []
    for line in lines:
        code = line.partition("#")[0]
        for m in re.finditer(rf"""(\.{a}\s*=(?!=)|(?<![\w.]){a}\s*=(?!=)|['"]{a}['"]\s*:)\s*(?P<v>[^\n]+)""", code):
            value = m.group("v").strip()
            if re.match(r"\s*(\w+\s*:\s*)?\w*(Mapped|Column|Field|mapped_column|relationship)\b", value):
                continue  # a declaration
            if re.match(rf"[\w.()\[\]'\"]*\.{a}\b(?!\s*\()", value):
                continue  # a copy of the column (`"status": task.status`): says nothing of its values
            found.append(value)
    return found


def _names_table(facts, span, table) -> bool:
    """The line or the one before names the table's rows (`pending_certificate_service.update(` above
    `cert_id, status=str(error)`): a keyword written there is this table's."""
    words: dict[tuple[str, int], list[str]] = facts.derived.setdefault("int005-line-words", {})  # type: ignore[assignment]
    at = (span.path, span.start)
    if at not in words:  # the same lines are asked about for every table with a column of that name
        text = " ".join(facts.lines(Span(span.path, max(1, span.start - 1), span.start)))
        words[at] = [w.lower() for w in re.findall(r"\w+", text)]
    return _named_like(words[at], table)


def _free_write(attr: str, lines) -> bool:
    """Does the code write text made at run time into it: str() or an f-string of a value, an exception's
    message (`status=str(last_error)`, `obj.status = f"failed: {e}"`)?"""
    return any(re.match(r"""(str|repr|format)\(|f['"]|.*\.format\(|.*\b(e|ex|exc|err|error|exception|last_error|message)\b"""
                        r"""(?!\w)(?!\s*[=.(])""", v) for v in _assignments(attr, lines))


def _closed_use(attr: str, lines) -> bool:
    """The code compares or sets the value with a literal or a named constant: one of a fixed set."""
    a = re.escape(attr)
    literal = r"""(['"][^'"\s]+['"]|\b[A-Z]\w*\.\w+\b(?!\s*\()|\b[A-Z][A-Z0-9_]{2,}\b)"""  # "open", Status.OPEN, OPEN
    value = rf"(\w+\()*(\w+\.)*{literal}"  # list(service.ACTIVE), schemas.Status.draft.value
    return any(re.search(rf"\b{a}\b[^\n]*?(==|!=|(?<![=!<>])=(?!=))\s*{value}|\b{a}\s+(not\s+)?in\s*[(\[{{]?\s*{value}|"
                         rf"\.{a}\.in_\(\s*[(\[{{]?\s*{value}|{literal}\s*(==|!=)\s*[\w.]*\.{a}\b|"
                         rf"\b[A-Z]\w*\(\s*[\w.]*\.{a}\s*\)", line.partition("#")[0])  # or parsed into an Enum: Status(x.status)
               for line in lines)


_SQL_CALL = re.compile(r"""^\s*(['"])\s*([a-z_][a-z0-9_.]*\s*\(.*\)|current_timestamp|current_date|localtimestamp|now)\s*\1\s*$""", re.I)


class QuotedServerDefault(Rule):
    """A server_default meant as a SQL expression is a Python string, so it becomes a quoted literal.

    What it checks:
        `server_default="gen_random_uuid()"`, `server_default="now()"`, `server_default="CURRENT_TIMESTAMP"`
        on model columns and on the columns of migrations.
    Why it matters:
        SQLAlchemy renders a plain string server default as a literal: `DEFAULT 'gen_random_uuid()'`.
        For a uuid column the CREATE TABLE fails; for a timestamp, `'now'` is evaluated once, when the
        table is created, and every row gets that instant. A migration written correctly hides it until
        `create_all` (tests) or autogenerate reads the model.
    Example:
        id: Mapped[UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, server_default="gen_random_uuid()")
    Instead:
        `server_default=text("gen_random_uuid()")`, `server_default=func.now()`.
    """

    ID = "INT006"
    ITEM = "5.2"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
from sqlalchemy import text
class Message(Base):
    __tablename__ = "messages"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    kind: Mapped[str] = mapped_column(String(20), server_default="NOTE")
''',)
    INVALID = (HEADER + '''
class Message(Base):
    __tablename__ = "messages"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, server_default="gen_random_uuid()")
''',)

    def check(self):
        for table, col in column_sites(self.facts):
            if col.server_default and _SQL_CALL.match(col.server_default):
                yield self.finding(
                    f"{where_declared(table, col)} has server_default={col.server_default}, a Python string: it is "
                    f"rendered as the quoted literal DEFAULT {col.server_default}, not as a call; use text(...) or func",
                    col.span, f"{column_anchor(table, col)}:quoted-default",
                )
        for rev in self.facts.revisions:
            for op in rev.upgrade:
                for col in op.columns:
                    if col.server_default and _SQL_CALL.match(col.server_default):
                        yield self.finding(
                            f"revision {rev.revision}: {op.table}.{col.name} has server_default={col.server_default}, a "
                            "Python string rendered as a quoted literal, not a call; use sa.text(...)",
                            col.span, f"migration:{rev.revision}:{op.table}.{col.name}:quoted-default",
                        )


class PythonIndexPredicate(Rule):
    """A partial index's predicate is a Python expression, evaluated once to True or False.

    What it checks:
        `postgresql_where=` (or `sqlite_where=`) given `col is None`, `col is not None`, `not col`,
        `a and b`, or a bare boolean, in `Index(...)`.
    Why it matters:
        Python evaluates `removed_at is None` when the class body runs: the mapped column object is not
        None, so the index gets `WHERE false` (an index of nothing; as a unique index it enforces
        nothing) or `WHERE true` instead of the predicate meant.
    Example:
        Index("ix_active", "patient_id", postgresql_where=(removed_at is None))
    Instead:
        `postgresql_where=text("removed_at IS NULL")`, or `removed_at.is_(None)` on the column object.
    """

    ID = "INT007"
    ITEM = "5.5"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
from sqlalchemy import text
class CareTeamAssignment(Base):
    __tablename__ = "care_team_assignments"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (Index("ix_active", "patient_id", postgresql_where=text("removed_at IS NULL")),)
''',)
    INVALID = (HEADER + '''
class CareTeamAssignment(Base):
    __tablename__ = "care_team_assignments"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (Index("ix_active", "patient_id", postgresql_where=(removed_at is None)),)
''',)

    def check(self):
        for table in self.facts.tables.values():
            for ix in table.indexes:
                if ix.where_python:
                    effect = "a unique index that enforces nothing" if ix.unique else "an index the planner cannot use as meant"
                    yield self.finding(
                        f"index {ix.name or '(unnamed)'} on {table.name} has postgresql_where=({ix.where}), which Python "
                        f"evaluates to a bool when the class is defined: `WHERE false` or `WHERE true`, {effect}. "
                        "Write the predicate as text(...) or a column expression (.is_(None))",
                        ix.span, f"table:{table.name}:index:{ix.name}:where", item="5.5" if ix.unique else "3.3",
                    )


# Values made to be unique for ever: a token, a hash, a provider's id. Re-adding a row never reuses one.
_GENERATED = re.compile(r"token|hash|uuid|guid|secret|external|stripe|_key$|^key$|nonce|signature|fingerprint|checksum|"
                        r"_sid$|^sid$|_ref$|number$|^code$|_code$|serial|sequence|^id$|_uid$|processor|transaction|client_id|"
                        r"provider_id|account_id|short_id|^order$|position|version|^pk$")
# A default that makes the value: a generator called or handed over (`default=partial(generate, 8)`,
# `default=new_token`, `nextval(...)`, `gen_random_uuid()`): a new row never takes an old one's. Not a literal, an
# enum member (`Status.active`) or the time.
_MAKES_VALUE = re.compile(r"generat|uuid|token|random|secret|nextval|ulid|nanoid|hex|serial", re.I)


def _made_in_code(facts, table, name: str) -> bool:
    """The code sets the column to a freshly generated id, never to another row's (`mapping_id=generate_uuid()`)."""
    col = table.columns.get(name)
    if col is None:
        return False
    attr = col.attr or col.name
    lines = [line.partition("#")[0] for _, line in mentions(facts, {attr})[attr]]
    made = any(re.search(rf"\b{re.escape(attr)}{_GENERATOR}", line) for line in lines)
    return made and not any(re.search(rf"\b{re.escape(attr)}{_ANOTHER_ROWS_ID}", line) for line in lines)


def _made_by_default(table, name: str) -> bool:
    col = table.columns.get(name)
    return col is not None and any(d and _MAKES_VALUE.search(d) for d in (col.default, col.server_default))


def _unique_keys_with_spans(facts, table):
    """(columns, where declared, predicate) of every unique constraint and index on `table`, model first."""
    migrated = facts.migration_tables.get(table.name)
    for t in (table, migrated):
        if t is None:
            continue
        for c in t.columns.values():
            if c.unique and not c.primary_key:
                yield (c.name,), c.span, None
        for con in t.constraints:
            if con.kind == "unique":
                yield tuple(con.columns), con.span, None
        for ix in t.indexes:
            if ix.unique and not ix.where_python:
                yield tuple(ix.columns), ix.span, ix.where
    for st in table_sql(facts, table.name):
        if st.kind == "create_index" and st.details.get("unique"):
            yield tuple(st.details.get("columns") or ()), st.span, st.details.get("where")


class UniqueBlocksSoftDeleted(Rule):
    """A unique constraint on a soft-deleted table counts the deleted rows.

    What it checks:
        Tables with a soft-delete column (`deleted_at`, `is_deleted`) whose unique constraints or unique
        indexes over values a person chooses (an email, a name, a slug, a pair of foreign keys) have no
        `WHERE deleted_at IS NULL`, and no partial unique index over the same columns stands beside them.
        Values made to stay unique for ever (tokens, hashes, external ids, numbers, surrogate keys, a column
        whose default makes the value: `default=partial(generate, 8)`, `nextval(...)`, or that the code sets to a
        freshly generated id and never to another row's: `mapping_id=generate_uuid()`) are left alone. Then the
        code decides. Where no code sets the flag but a nullable timestamp that ends a row (`revoked_at`,
        `removed_at`) is set by the code on the table's rows and tested for NULL by its queries, that column
        is the soft delete the finding names. Where the function that sets the flag also rewrites the key
        (`slug = "deleted-..."`), a deleted row is brought back (`deleted_at = None`, or an UPDATE in the branch
        of the lookup by the key that found a deleted row) rather than added again, the code writes the table as
        an upsert on the key (`on_conflict_do_update(index_elements=[...])`), or the code's lookup by the key makes
        another value when it is taken (`return f"{name}-2"`), nothing is said; the flag set through an update
        map counts (`query.update({Model.deleted_at: now})`, `{"deleted": True}` handed to `.values(**...)`);
        where the code makes rows with the key and catches the IntegrityError of one already used, it counts on
        the key holding across deleted rows: info that says so;
        where no code sets the flag on the table but a query of it leaves deleted rows out (where none does
        either, nothing is said: the flag may be unused, or set where dbreview does not see), or the code's own lookup by the key counts deleted rows
        too (the code and the constraint agree: the key stays unique across deleted rows, a product choice),
        info that says so (one for all the tables whose flag nothing
        sets, when there are three or more); info too, naming it, where the code fetches one row of the table by
        filters dbreview cannot read (`query.filter(*filters).first()`, a list built under conditions): that may be
        its lookup by the key, and whether it finds deleted rows (and reuses one, as an `ensure_*` does) cannot be
        told. A warning, naming where the flag is set, only when the delete keeps the key.
    Why it matters:
        A soft-deleted row keeps its values: re-adding the same email, or enrolling the same patient
        again, fails with a unique violation although no live row has it; the usual work-around (mangling
        the deleted row's value) loses what the soft delete was meant to keep.
    Example:
        email: Mapped[str] = mapped_column(String(255), unique=True)   # on a table with deleted_at
    Instead:
        A partial unique index: `Index("uq_users_email_live", "email", unique=True,
        postgresql_where=text("deleted_at IS NULL"))`, in the model and in a migration.
    """

    ID = "INT008"
    ITEM = "5.5"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
from sqlalchemy import text
class User(Base):
    __tablename__ = "users"
    __table_args__ = (Index("uq_users_email_live", "email", unique=True, postgresql_where=text("deleted_at IS NULL")),)
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255))
    api_token: Mapped[str] = mapped_column(String(64), unique=True)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
''',)
    INVALID = ({"models.py": HEADER + '''
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
''', "app/users.py": '''
from sqlalchemy import select
from models import User

def live_users(session):
    return session.scalars(select(User).where(User.deleted_at.is_(None))).all()
'''},)

    def check(self):
        seen: set[tuple[str, int]] = set()
        sites: list[tuple] = []
        universal = universal_soft_delete(self.facts.tables)
        for table in self.facts.tables.values():
            flag = soft_delete_column(table)
            if flag is None or table.columns[flag].declared_in in universal:
                continue
            keys = list(_unique_keys_with_spans(self.facts, table))
            if keys:
                flag = flag_the_code_sets(self.facts, table, flag, ())
            partial = [set(cols) for cols, _, where in keys if where and flag in where]
            reported: set[frozenset[str]] = set()
            for cols, span, where in keys:
                if where or not cols or flag in cols or frozenset(cols) in reported or set(cols) in partial:
                    continue
                if any(_GENERATED.search(c) or not c.isidentifier() or _made_by_default(table, c)
                       or _made_in_code(self.facts, table, c) for c in cols):
                    continue
                if (span.path, span.start) in seen or any(c.primary_key for c in table.columns.values() if c.name in cols):
                    continue
                seen.add((span.path, span.start))
                reported.add(frozenset(cols))
                sites.append((span, table.name, cols, flag))
        weighed = [(site, _weigh(self.facts, self.facts.tables[site[1]], site[2], site[3])) for site in sites]
        held = [site for site, (kind, _) in weighed if kind == "holds"]
        if len(held) >= 3:  # the project's way of declaring uniqueness: one decision, said once
            sites = held
            names = ", ".join(f"{t} ({', '.join(c)})" for _, t, c, _ in sites[:5]) + (", ..." if len(sites) > 5 else "")
            yield self.grouped(
                f"{len(sites)} unique constraints on soft-deleted tables also count the deleted rows: {names}. Adding a "
                "row again with the same values after a soft delete fails with a unique violation; partial unique "
                f"indexes WHERE {_live(sites[0][3])} keep only live rows unique",
                [(span, f"table:{t}:unique:{','.join(c)}:soft-delete", f"{t} unique ({', '.join(c)})") for span, t, c, _ in sites],
                "soft-delete:unique-counts-deleted",
            )
            weighed = [(site, w) for site, w in weighed if site not in held]
        unseen = [site for site, (kind, _) in weighed if kind == "unseen"]
        if len(unseen) >= 3:  # soft-delete columns the code never sets: one note for them all
            names = ", ".join(f"{t} ({', '.join(c)})" for _, t, c, _ in unseen[:5]) + (", ..." if len(unseen) > 5 else "")
            yield self.grouped(
                f"{len(unseen)} unique constraints on tables with a soft-delete column also count the deleted rows: "
                f"{names}; but dbreview saw no code set the soft-delete column on these tables. If nothing does, the "
                "constraints never meet a deleted row; if something does (a generic helper, another service), adding a "
                f"row again with the same values fails with a unique violation, and partial unique indexes WHERE "
                f"{_live(unseen[0][3])} keep only live rows unique",
                [(span, f"table:{t}:unique:{','.join(c)}:soft-delete", f"{t} unique ({', '.join(c)})") for span, t, c, _ in unseen],
                "soft-delete:unique-never-set", severity=Severity.INFO,
            )
            weighed = [(site, w) for site, w in weighed if site not in unseen]
        for (span, name, cols, flag), (kind, evidence) in weighed:
            yield from self._single(span, self.facts.tables[name], cols, flag, kind, evidence)

    def _single(self, span, table, cols, flag, kind, evidence):
        name, anchor, listed = table.name, f"table:{table.name}:unique:{','.join(cols)}:soft-delete", ", ".join(cols)
        if kind == "moot":
            return  # the key is rewritten on delete, or a deleted row is brought back rather than added again
        if kind == "unseen":
            yield self.finding(
                f"{name} has a soft-delete column ({flag}) and unique ({listed}) also counts the deleted rows, but "
                f"dbreview saw no code set {flag} on {name}: if nothing does, the constraint never meets a deleted "
                f"row; if something does (a generic helper, another service), adding a {name} row again with the same "
                f"{listed} fails with a unique violation, and a partial unique index WHERE {_live(flag)} keeps live rows unique",
                span, anchor, severity=Severity.INFO,
            )
            return
        where, looked_up = evidence
        if kind == "looked-up":
            (lookup, rejects) = looked_up
            turned = f", then turns a deleted row away ({rejects.path}:{rejects.start})" if rejects else ""
            yield self.finding(
                f"{name} is soft deleted ({flag} is set at {where.path}:{where.start}) and unique ({listed}) counts the "
                f"deleted rows, as does the code's own lookup by {listed} ({lookup.path}:{lookup.start}){turned}: both "
                f"keep {listed} unique across deleted rows, so a deleted row's {listed} can never be used again. If that "
                f"is meant, nothing is wrong; if a deleted row's {listed} should be reusable, a partial unique index WHERE "
                f"{_live(flag)} (and that lookup filtered) allows it",
                span, anchor, severity=Severity.INFO,
                related=[(where, f"{flag} set"), (lookup, "looked up by the key")] + ([(rejects, "deleted row turned away")] if rejects else []),
            )
            return
        if kind == "caught":
            yield self.finding(
                f"{name} is soft deleted ({flag} is set at {where.path}:{where.start}) and unique ({listed}) counts the "
                f"deleted rows, as the code expects: it makes {name} rows ({looked_up.path}:{looked_up.start}) and "
                f"catches the IntegrityError of a {listed} already used, so a deleted row's {listed} can never be used "
                f"again. If that is meant, nothing is wrong; if it should be reusable, a partial unique index WHERE "
                f"{_live(flag)} allows it",
                span, anchor, severity=Severity.INFO, related=[(where, f"{flag} set"), (looked_up, "the refused insert met")],
            )
            return
        if kind == "unread":
            yield self.finding(
                f"{name} is soft deleted ({flag} is set at {where.path}:{where.start}, and the key is not rewritten "
                f"there) and unique ({listed}) also counts the deleted rows; but the code fetches {name} rows by "
                f"filters dbreview cannot read ({looked_up.path}:{looked_up.start}): if that is its lookup by "
                f"{listed} and it finds deleted rows too, a deleted row is reused rather than added again and nothing "
                f"fails; if it hides them, adding a {name} row again with the same {listed} fails with a unique "
                f"violation, and a partial unique index WHERE {_live(flag)} keeps live rows unique",
                span, anchor, severity=Severity.INFO, related=[(where, f"{flag} set"), (looked_up, "filters not read")],
            )
            return
        yield self.finding(
            f"{name} is soft deleted ({flag} is set at {where.path}:{where.start}, and the key is not rewritten there) "
            f"but unique ({listed}) also counts the deleted rows: adding a {name} row again with the same {listed} "
            f"after a soft delete fails with a unique violation; a partial unique index WHERE {_live(flag)} keeps "
            "live rows unique",
            span, anchor, related=[(where, f"{flag} set")],
        )


def _hides_deleted(facts, table, flag: str) -> bool:
    """Does a query of the application filter the table by its soft-delete column (`deleted_at IS NULL`)?"""
    return any(t is table and any(a.rsplit(".", 1)[-1] == flag for a in (*q.nulls, *q.filtered))
               for q, t in app_queries(facts))


def _weigh(facts, table, cols, flag: str) -> tuple[str, tuple]:
    """What the code shows of a unique key on a soft-deleted table: `moot` (the key is rewritten on delete, or
    deleted rows are brought back rather than added again, or nothing sets the flag and no query hides deleted
    rows), `unseen` (nothing sets the flag on this table, whose queries hide deleted rows),
    `looked-up` (the code's own lookup by the key counts deleted rows too), or `holds`, with where the flag
    is set (and the lookup)."""
    deletes, revives, rewrites = _soft_delete_writes(facts, table, flag, cols)
    if rewrites or revives or _upserted(facts, table, cols):
        return "moot", ()
    if not deletes:  # said only where the code reads the table as soft-deletable: it hides deleted rows somewhere
        return ("unseen", ()) if _hides_deleted(facts, table, flag) else ("moot", ())
    looked_up = _looked_up_with_deleted(facts, table, cols, flag)
    if looked_up and _makes_another_value(facts, looked_up[0]):
        return "moot", ()  # the lookup finds a free value (`name-2`) when the key is taken: nothing is added again
    if looked_up and looked_up[1] and _takes_back(facts, looked_up[1]):
        return "moot", ()  # the lookup finds a deleted row and brings it back: nothing is added again
    if looked_up:
        return "looked-up", (deletes[0], looked_up)
    caught = _insert_refused_on_purpose(facts, table, cols)
    if caught:
        return "caught", (deletes[0], caught)
    unread = _unread_lookup(facts, table)
    return ("unread", (deletes[0], unread)) if unread else ("holds", (deletes[0], None))


# A state a row is ended by, as a timestamp: `revoked_at` on a grant, `removed_at` on a membership.
_ENDED = re.compile(r"^(revoked|removed|archived|deactivated|disabled|deleted|ended|left|unlinked|retired|withdrawn|"
                    r"terminated|discontinued)_(at|on)$")


def flag_the_code_sets(facts, table, flag: str, cols) -> str:
    """The column `table`'s rows are soft deleted by: `flag` (deleted_at) unless no code sets it; then a
    nullable timestamp that ends a row (`revoked_at`) which the code sets to the time on the table's rows
    and its queries test for NULL, when there is one: the code's own soft delete."""
    if _soft_delete_writes(facts, table, flag, cols)[0]:
        return flag
    tested = {n.rsplit(".", 1)[-1] for q, t in app_queries(facts) if t is table for n in q.nulls}
    for col in table.columns.values():
        if col.name != flag and _ENDED.match(col.name) and (col.attr or col.name) in tested and col.is_nullable \
                and _soft_delete_writes(facts, table, col.name, cols)[0]:
            return col.name
    return flag


def _makes_another_value(facts, lookup: Span) -> bool:
    """Does the function of a lookup by a unique key return a value it builds (`return f"{root}-{n + 1}"`): it
    looks for a free value when the one it was given is taken (a collision avoider), not to add it again?"""
    return any(re.match(r"""\s*return\s+(f['"].*\{|['"][^'"]*['"]\s*(%|\.format\())""", line)
               for line in function_around(facts, lookup)[1])


def _soft_delete_writes(facts, table, flag: str, cols) -> tuple[list[Span], list[Span], list[Span]]:
    """Where the application sets `flag` on rows of `table` (`org.deleted_at = now()`, `deleted=True`), where it
    clears it again (a revived row), and where the function that sets it also rewrites a column of the key
    (`org.slug = f"deleted-{org.id}-{org.slug}"`). A write is the table's when its receiver is named like the
    table (`current_user` for users) or its function names the model class."""
    flag_re = re.escape(flag)
    # `row.deleted_at = now`, `values(deleted=True)`, `{"deleted": True}` (an update map), `{Model.deleted_at: now}`
    sets = re.compile(rf"""(\.{flag_re}\s*=(?!=)|\b{flag_re}\s*=(?!=)|['"]{flag_re}['"]\s*:|\w\.{flag_re}\s*:(?=[^:]*[}},]))"""
                      rf"""\s*(?P<value>[^,)}}\n]*)""")
    deletes, revives, rewrites = [], [], []
    for span, line in mentions(facts, {flag})[flag]:
        code = line.partition("#")[0]
        m = sets.search(code)
        if m is None or re.match(r"\s*(\w+\s*:\s*)?\w*(Mapped|Column|Field|mapped_column)\b", code[m.end(1):]):
            continue
        value, before = m.group("value").strip(), code[: m.start()]
        if m.group(1)[0] in "'\"" and re.match(r"\s*(return|yield)\b|.*\b(jsonify|JSONResponse|Response)\(", code):
            continue  # a response that says the row is deleted (`return {"deleted": True}`), not an update map
        if re.search(r"\b(filter_by|filter|where|query|select|get|first|one|count)\s*\(", before) \
                and not re.search(r"\.update\(\s*\{[^}]*$", before):
            continue  # a query's condition, not a write (but `query.filter(...).update({Team.deleted_at: now})`)
        # the request's own field of that name (`data.get("deleted_at")`): deletes or restores as the client says
        passed = re.fullmatch(rf"""\w+(?:\.get\(\s*|\[\s*)['"]{flag_re}['"]\s*\]?""", value)
        revived = re.match(r"\w?\.", m.group(1)) is not None and (re.fullmatch(r"None|False", value) or passed)
        if not revived and not re.fullmatch(r"True|1|.*(now|time|date|today|current_timestamp).*", value, re.I):
            continue  # a copy of the flag (`"is_deleted": key.is_deleted`), a new row's own value
        function = function_around(facts, span)[1]
        if not _writes_table(facts, code, function, table):
            continue
        if revived:
            revives.append(span)
            continue
        deletes.append(span)
        keys = [c for c in cols if c != flag]
        written = [re.compile(rf"""\.{re.escape(c)}\s*=(?!=)|['"]{re.escape(c)}['"]\s*:|\b(values|update)\([^#]*\b{re.escape(c)}\s*=(?!=)""")
                   for c in keys]
        if any(w.search(ln.partition("#")[0]) for ln in function for w in written):
            rewrites.append(span)
    return deletes, revives, rewrites


def _writes_table(facts, line: str, function: list[str], table) -> bool:
    """Is the write on `table`: its object named like the table (`current_user.deleted_at` on users), or, when
    the object is named like no table (`ref.deleted_at`, `update(..., deleted=True)`), its function names the class?"""
    receiver = re.search(r"(\w+)\.\w+\s*=", line)
    words = [w.lower() for w in re.findall(r"\w+", receiver.group(1) if receiver else line)]
    named = [t for t in facts.tables.values() if _named_like(words, t)]
    if named:
        return table in named
    return bool(table.class_name) and any(re.search(rf"\b{re.escape(table.class_name)}\b", ln) for ln in function)


def _named_like(words: list[str], table) -> bool:
    names = _table_words(table)
    # a word without "_" can only be one of the names itself
    return any(any(w == n or w.endswith("_" + n) or w.startswith(n + "_") or n.endswith("_" + w) for n in names)
               if "_" in w else w in names for w in words)


def _looked_up_with_deleted(facts, table, cols, flag: str) -> tuple[Span, Span | None] | None:
    """A query of the application that picks `table`'s rows by every column of the key and does not filter on
    the soft-delete flag (the code's own check counts deleted rows too), and where its function then turns a
    deleted row away, if it does."""
    for q, t in app_queries(facts):
        if t is not table or q.opaque_filter:
            continue
        picked, named = {f.rsplit(".", 1)[-1] for f in q.equals}, {f.rsplit(".", 1)[-1] for f in q.filtered}
        if set(cols) <= picked and flag not in named:
            return q.span, weighs_deleted(facts, q, flag)
    return None


def _upserted(facts, table, cols) -> bool:
    """Does the application write `table`'s rows as an upsert on the key (`insert(Model)...on_conflict_do_update(
    index_elements=["pubid"], ...)`): a row that has the key, deleted or not, is updated, never added again."""
    if not table.class_name:
        return False
    for span, _ in mentions(facts, {"on_conflict_do_update"})["on_conflict_do_update"]:
        text = "\n".join(ln.partition("#")[0] for ln in function_around(facts, span)[1])
        elements = re.search(r"index_elements\s*=\s*[\[(]([^\])]*)", text)
        if elements and re.search(rf"\binsert\(\s*{re.escape(table.class_name)}\b", text) \
                and set(cols) <= set(re.findall(r"\w+", elements.group(1))):
            return True
    return False


def _insert_refused_on_purpose(facts, table, cols) -> Span | None:
    """Where the application makes a row of `table` with every column of the key and catches the IntegrityError
    of that insert (`except IntegrityError: raise PassphraseCollisionError`): it counts on the key refusing a
    value any row ever had, deleted or not."""
    if not table.class_name:
        return None
    made = re.compile(rf"\b{re.escape(table.class_name)}\(")
    for span, line in mentions(facts, {table.class_name})[table.class_name]:
        if not made.search(line.partition("#")[0]):
            continue
        first, lines = function_around(facts, span)
        body = "\n".join(ln.partition("#")[0] for ln in lines[span.start - first:])
        if all(re.search(rf"\b{re.escape(c)}\s*=(?!=)", body) for c in cols) and re.search(r"except\b[^:\n]*IntegrityError", body):
            return span
    return None


# What brings a deleted row back in the branch that found one: an UPDATE of it, a call named for it.
_TAKES_BACK = re.compile(r"\bupdate\(|\.values\(|reactivat|restor|undelet|reviv", re.I)


def _takes_back(facts, weighed: Span) -> bool:
    """Does the branch under `if row.deleted:` (at `weighed`) bring the deleted row back (`update(...).values(
    **reactivate_map)`) rather than turn it away?"""
    lines = facts.lines(Span(weighed.path, weighed.start, weighed.start + 60))
    if not lines or not re.match(r"\s*(el)?if\b", lines[0]):
        return False
    indent = len(lines[0]) - len(lines[0].lstrip())
    block = []
    for line in lines[1:]:
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        block.append(line.partition("#")[0])
    return any(_TAKES_BACK.search(line) for line in block) and not any(re.search(r"\b(raise|abort)\b", ln) for ln in block)


def _unread_lookup(facts, table) -> Span | None:
    """A query of the application that fetches one row of `table` by filters dbreview cannot read (a list built
    under conditions, `query.filter(*filters).first()`): it may be the code's lookup by the key, and whether it
    counts deleted rows (then finds and reuses one, as an `ensure_*` would) dbreview cannot tell."""
    return next((q.span for q, t in app_queries(facts) if t is table and q.opaque_filter and not q.escapes
                 and any(m in q.methods for m in _ONE_ROW)), None)


def _live(flag: str) -> str:
    return f"{flag} IS NULL" if flag.endswith(("_at", "_on", "_date")) else f"NOT {flag}"


class SetNullOnNotNull(Rule):
    """A foreign key sets NULL on delete, into a column that is NOT NULL.

    What it checks:
        Foreign keys with `ondelete="SET NULL"` (on the column or in a `ForeignKeyConstraint`, in the
        model or the migrations) whose column is NOT NULL in the database the migrations build (in the
        model when no migration builds it).
    Why it matters:
        Deleting the referenced row makes PostgreSQL set the column to NULL, which its NOT NULL refuses:
        the delete fails with a not-null violation. The schema says "keep the children" and "the children
        must have a parent" at once; one of them is wrong.
    Example:
        owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=False)
    Instead:
        Make the column nullable if children outlive their parent, or use `ondelete="CASCADE"`/`RESTRICT`
        if they must not.
    """

    ID = "INT009"
    ITEM = "3.6"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
class Document(Base):
    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
''',)
    INVALID = (HEADER + '''
class Document(Base):
    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=False)
''',)

    def check(self):
        seen: set[tuple[str, int]] = set()
        done: set[tuple[str, str]] = set()
        for table in self.facts.tables.values():
            migrated = self.facts.migration_tables.get(table.name)
            sources = [table] + ([migrated] if migrated is not None and not migrated.from_sql else [])
            for t in sources:
                set_null = [(c.name, fk.span, fk.target) for c in t.columns.values() for fk in c.foreign_keys
                            if (fk.ondelete or "").upper() == "SET NULL"]
                set_null += [(name, con.span, con.target) for con in t.constraints
                             if con.kind == "foreign_key" and (con.ondelete or "").upper() == "SET NULL" for name in con.columns]
                for name, span, target in set_null:
                    col = (migrated.columns.get(name) if migrated is not None and not migrated.from_sql else None) or table.columns.get(name)
                    if col is None or col.is_nullable or col.type_args.get("unresolved") or (span.path, span.start) in seen:
                        continue
                    if (table.name, name) in done:
                        continue
                    done.add((table.name, name))
                    if col.nullable is None and table.unknown_bases:
                        continue
                    seen.add((span.path, span.start))
                    where = "" if col.span.path == span.path else f" ({col.span.path}:{col.span.start})"
                    yield self.finding(
                        f"{table.name}.{name} references {target} with ON DELETE SET NULL but is NOT NULL{where}: deleting "
                        f"the referenced row fails with a not-null violation instead of keeping the {table.name} row",
                        span, f"table:{table.name}.{name}:set-null", related=[(col.span, "NOT NULL here")] if where else (),
                    )


_ONE_OR_NONE = ("scalar_one_or_none", "one_or_none", "scalar_one", "one")
_ONE_ROW = (*_ONE_OR_NONE, "first", "scalar", "get")
_NOT_ONE_ROW = ("limit", "first", "distinct", "group_by", "with_only_columns", "join", "outerjoin", "join_from", "select_from", "union",
                "union_all", "with_entities", "add_columns", "from_statement", "having")


class OneOrNoneOnNonUnique(Rule):
    """A query expects at most one row where the schema allows several.

    What it checks:
        `scalar_one_or_none()` / `one_or_none()` (or `one()` / `scalar_one()`, which raise on two rows too) on a
        query of one model whose filters compare columns with
        `==` (or `filter_by`; one whose new query is thrown away, `query.filter_by(x=1)` as a statement, filters
        nothing) and no unique constraint, unique index or primary key is made of those columns
        (in the model or the migrations; an index's expression over them counts, `lower(email)`, and
        `COALESCE(parent_id, 0)` for a lookup that tests parent_id IS NULL too). A lookup of `cls` in a method of
        a polymorphic model whose unique key is its columns and the discriminator (`UniqueConstraint("tag", "type")`,
        `polymorphic_on: type`), called only on subclasses without subclasses of their own (`RetentionTag.by_tag(x)`,
        never on the base nor through `cls.`/`self.` in the base), is covered: SQLAlchemy runs it on that subclass,
        whose rows hold one discriminator value. A query built in one method and run by a helper of its class or of a
        base class of the target's (a repository's `self.get_one_or_none(statement)`, whose `scalar_one_or_none()`
        runs it, perhaps through another helper of self) is followed into that helper, found by name on the class
        and then its bases; one handed to a library's base class, to a helper that filters or joins it again, or
        to any other function is left alone, as are queries with `limit`, `first`, joins or filters dbreview
        cannot read (alternatives among them: `or_`, a filter that picks its column by a condition,
        `A.job_id == j if by_job else A.hook_id == h`, which a partial unique index per branch may cover). The message names a non-unique index
        over the columns where there is one. A lookup that also tests a range (`<`, `>`, `between`,
        `overlaps`) cannot be made unique by any key: the finding says so and advises `.first()` or
        `exists()`; one that also tests a column IN a set of values (`submitter_id.in_(member_ids)`) says so and
        advises no index: no key holds one row per set, and whether the code keeps it to one is not in the query. A lookup in a module-level function that nothing outside tests calls (its name is
        mentioned in no module that imports it or its module, files dbreview does not parse included, or
        only in functions that are themselves never called; a function of the same name in another module
        is not a caller) is info, saying that no call was found: the race has no path to it in this code
        (a caller outside the repository, a plugin, is not seen); so is one in a method whose name the
        application's code outside tests, migrations and command-line tooling never mentions (a bootstrap
        command's lookup: two rows stop the command, not a request). A lookup that also tests columns for NULL
        (`parent_id.is_(None)`) names those tests and the partial unique index that would serve it (a column
        compared with a constant, `role == "PRIMARY"`, goes into its predicate, not among its columns); one whose
        run sits in a `try` that catches MultipleResultsFound is info that says so: the code expects the
        duplicate and handles it. So is one by a column named like a secret (`api_key`, `invite_token`) that
        every write dbreview sees (and its default, if any) fills from a random generator (`secrets.token_urlsafe`,
        `uuid4()`, `SystemRandom().choice`, a project function returning one's output), `None` apart: two rows
        need a collision; a unique index would still document it. So is one where the model's class sets a unique column
        (`data_hash`) in one place from its own columns among those compared, and nothing the caller passes
        (`self.data_hash = sha256(self.a + self.b)`): rows made through it are one per lookup; only rows written
        otherwise could match twice.
    Why it matters:
        `one_or_none` means "zero or one" (`one`, "exactly one"): the day two rows match, it raises `MultipleResultsFound` and the
        request fails with a 500. Either the database should enforce the uniqueness the code assumes, or the
        code should not assume it.
    Example:
        (await session.execute(select(User).where(User.email == email))).scalar_one_or_none()   # email not unique
    Instead:
        A unique constraint (or partial unique index) over the columns the code looks up by; or `.first()`
        with an `order_by` (or `exists()`) if several rows are legitimate, as they are for a range test.
    """

    ID = "INT010"
    ITEM = "5.5"
    SEVERITY = Severity.WARNING
    _MODELS = HEADER + '''
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), {})
'''
    _CODE = '''
from sqlalchemy import select
from models import User
async def by_email(session, email):
    result = await session.execute(select(User).where(User.email == email))
    return result.scalar_one_or_none()
'''
    VALID = ({"models.py": _MODELS.format("unique=True"), "app/users.py": _CODE},)
    INVALID = ({"models.py": _MODELS.format("index=True"), "app/users.py": _CODE},)

    def check(self):
        sites: dict[tuple[str, tuple[str, ...]], list] = {}
        helpers: dict[int, str] = {}  # id(q) -> "Class.method" that runs it, for a query handed to one
        for q, table in app_queries(self.facts):
            methods = q.methods
            if q.escapes and (through := run_by_helper(self.facts, q)) is not None:
                methods, helpers[id(q)] = through
            elif q.escapes:
                continue
            if not any(m in methods for m in _ONE_OR_NONE) or any(m in methods for m in _NOT_ONE_ROW):
                continue
            if q.opaque_filter or q.columns_only or not q.equals or table.unknown_bases:
                continue
            equals = set(q.equals) | {a.rsplit(".", 1)[-1] for a, v in q.asserted if v.startswith("= ")}  # `flag.is_(False)` too
            if key_lookup(self.facts, table, equals, partial=True, nulls=q.nulls):
                continue  # the primary key, or a unique constraint or index, over columns it compares
            if _run_on_subclasses(self.facts, table, q, equals):
                continue  # SQLAlchemy fixes the discriminator of the subclass it runs on, which a unique key holds
            names = {c.attr or c.name: c.name for c in table.columns.values()}
            by_attr = {c.attr or c.name: c for c in table.columns.values()}
            if any(e not in names or by_attr[e].from_library for e in equals):
                continue  # an attribute dbreview does not know as a column (a relationship, a hybrid)
            columns = {names[e] for e in equals}
            sites.setdefault((table.name, tuple(sorted(columns))), []).append((q, table, methods))
        for (name, columns), found in sites.items():  # one lookup key, one finding: the other queries beside it
            q, table, methods = found[0]
            method = next(m for m in _ONE_OR_NONE if m in methods) + "()"
            if id(q) in helpers:  # run by a helper of its class: say which, the line shows only the hand-off
                method += f" (through self.{q.handed[1]}(), {helpers[id(q)]})"  # type: ignore[index]
            also = f" ({len(found) - 1} more quer{'y' if len(found) == 2 else 'ies'} by the same columns)" if len(found) > 1 else ""
            plain = _plain_index(self.facts, table, set(columns))
            covers = (f"no unique constraint of {name} covers ({plain} is not unique)" if plain
                      else f"no unique constraint or index of {name} covers")
            names = {c.attr or c.name: c.name for c in table.columns.values()}
            ranges = sorted({names[r] for x, _, _ in found for r in x.ranges if r in names})
            members = sorted({names[a] for a in (k.rsplit(".", 1)[-1] for k in q.keyed) if a in names}
                             - set(columns) - {names[n] for n in q.nulls if n in names})  # `submitter_id.in_(ids)`
            severity = None
            if members and not ranges:  # one row per set of values: no key says that, the code may keep it so
                message = (
                    f"{q.function} fetches {table.class_name or table.name} with {method} by {', '.join(columns)} and "
                    f"{', '.join(members)} IN a set of values: when two rows match it raises MultipleResultsFound{also}. "
                    "No unique key can hold one row per set; whether the code keeps it to one cannot be read from the "
                    "query: `.first()` or `exists()` says what it asks if several are legitimate"
                )
            elif ranges:  # starts_at < :end AND ends_at > :start: no key can make overlapping rows unique
                message = (
                    f"{q.function} fetches {table.class_name or table.name} with {method} by {', '.join(columns)} and a range test on "
                    f"{', '.join(ranges)}: when two rows match it raises MultipleResultsFound{also}. No unique key can "
                    f"cover a range test: `.first()` or `exists()` says what the code asks (is there one?)"
                )
            else:
                nulls = sorted({names[n] for n in q.nulls if n in names} - set(columns))  # what the first lookup, named, tests
                message = (f"{q.function} fetches {table.class_name or table.name} with {method} by {', '.join(columns)}"
                           f"{' and ' + ', '.join(f'{n} IS NULL' for n in nulls) if nulls else ''}, which {covers}: "
                           f"when two rows match it raises MultipleResultsFound{also}")
                # A column compared with a constant (role == "PRIMARY", default == True) picks which rows are kept
                # to one: it belongs in the partial index's predicate, not among its columns.
                fixed = {names[a]: v for a, v in ((r.rsplit(".", 1)[-1], v) for r, v in q.asserted)
                         if v.startswith("= ") and a in names and names[a] in columns}
                keyed = [c for c in columns if c not in fixed]
                if (nulls or fixed) and keyed:
                    terms = [f"{_sql_name(c)} {fixed[c]}" for c in sorted(fixed)] + [f"{n} IS NULL" for n in nulls]
                    message += (f"; a partial unique index on ({', '.join(keyed)}) WHERE {' AND '.join(terms)} would keep "
                                "it to one")
            caught = [x for x, _, _ in found if x.catches_many]
            if len(caught) == len(found):
                severity = Severity.INFO  # the duplicate is expected and handled where the lookup runs
                message += (f"; the code catches MultipleResultsFound around it ({caught[0].span.path}:"
                            f"{caught[0].catches_many}) and handles the duplicate itself")
            derived = _derived_key(self.facts, table, set(columns))
            if derived is not None:  # the constructor keeps it to one row per lookup, for the rows made through it
                severity = Severity.INFO
                key, made_from, at = derived
                message += (f"; but {key}, unique, is computed from {', '.join(made_from)} where {table.class_name} sets it "
                            f"({at.path}:{at.start}): rows made through it are one per ({', '.join(made_from)}), and only "
                            f"rows written otherwise (SQL, a bulk insert, a later change of {', '.join(made_from)}) could "
                            "match twice")
            drawn = next(((c, r) for c in columns for r in [random_value(self.facts, table, table.columns[c])]
                          if c in table.columns and r is not None), None)
            if drawn is not None:  # two rows match only if the generator repeats a value
                severity = Severity.INFO
                (column, (how, at)) = drawn
                message += (f"; but {column} holds a random value (`{how}`, {at.path}:{at.start}) wherever dbreview sees "
                            "it written, so two rows need a collision: a unique index would still document it")
            uncalled = [_uncalled(self.facts, x) for x, _, _ in found]
            tooling_only = [_method_outside_the_app(self.facts, x) for x, _, _ in found]
            if all(u is not None or t for u, t in zip(uncalled, tooling_only)):
                severity = Severity.INFO  # nothing runs the lookup: the duplicate it fears has no path to it here
                callers = sorted({c for u in uncalled for c in u or ()})
                message += (f"; but {q.function} is called only by {', '.join(callers)}, which nothing in the application's "
                            "code outside tests calls" if callers else
                            f"; but no call of {q.function} was found in the application's code outside tests"
                            + (", migrations and command-line tooling (where two rows stop the command, not a request)"
                               if any(tooling_only) else ""))
            yield self.finding(
                message, q.span, f"function:{q.span.path}:{q.function}:{table.class_name or table.name}:one-or-none",
                severity=severity, related=[(x.span, f"{x.function}: the same lookup") for x, _, _ in found[1:]],
            )


def _run_on_subclasses(facts, table, q, equals: set[str]) -> bool:
    """A lookup of `cls` in a method of a polymorphic model (`polymorphic_on`) whose unique key is the columns it compares
    and the discriminator, called in the application only on subclasses that have none of their own (`Sub.by_tag(x)`,
    never on the base class, nor through `cls.`/`self.` in the base's body): SQLAlchemy runs it on that subclass, whose
    rows all hold one discriminator value (its identity), so the key covers it."""
    classes = [c for m in facts.modules for c in m.classes]
    base = next((c for c in classes if c.name == table.class_name and c.path == table.path), None)
    if not q.own_class or base is None or base.polymorphic_on is None or not key_lookup(
            facts, table, equals | {base.polymorphic_on}, partial=True, nulls=q.nulls):
        return False
    below = {base.name}  # the base's subclasses, to any depth, by the last name of their bases
    while grown := {c.name for c in classes if c.name not in below and {b.rpartition(".")[2] for b in c.bases} & below}:
        below |= grown
    parents = {b.rpartition(".")[2] for c in classes if c.name in below for b in c.bases}
    leaves = below - parents
    call = re.compile(rf"(?:\b(\w+)|\btype\(\s*self\s*\))\.{re.escape(q.function)}\s*\(")
    on_leaves = False
    for span, line in mentions(facts, {q.function})[q.function]:
        if is_test_path(span.path):
            continue
        in_base = span.path == base.path and base.span.start <= span.start <= base.span.end
        for m in call.finditer(line.partition("#")[0]):
            if m.group(1) in leaves:
                on_leaves = True
            elif m.group(1) in (None, "cls", "self") and in_base or m.group(1) in below:
                return False  # run on the base, or on a class with subclasses of its own: several identities
    return on_leaves


def _derived_key(facts, table, columns: set[str]) -> tuple[str, list[str], Span] | None:
    """(a unique column of `table`, the columns it is computed from, where) when a method of the model's class sets
    `self.<unique column>` from an expression that reads only columns among `columns` (`self.name`, through the
    method's locals: `text = self.a + self.b; self.data_hash = sha256(text.encode()).hexdigest()`) and the class sets
    it nowhere else: rows made through that method differ in it whenever they differ in none of `columns`."""
    unique = {c.attr or c.name: c.name for c in table.columns.values() if c.unique and not c.primary_key}
    unique |= {con.columns[0]: con.columns[0] for con in all_constraints(table, facts) if con.kind == "unique" and len(con.columns) == 1}
    attrs = {c.attr or c.name: c.name for c in table.columns.values()}
    tree = source_tree(facts, table.path) if unique and table.class_name else None
    cls = next((n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == table.class_name), None) if tree else None
    if cls is None:
        return None
    sets: dict[str, list[tuple[ast.FunctionDef, ast.Assign]]] = {}
    for fn in (n for n in cls.body if isinstance(n, ast.FunctionDef)):
        for node in ast.walk(fn):
            if isinstance(node, ast.Assign):
                for t in node.targets:
                    if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self" and t.attr in unique:
                        sets.setdefault(t.attr, []).append((fn, node))
    for attr, found in sets.items():
        if len(found) != 1:
            continue
        fn, assign = found[0]
        local = {t.id: n.value for n in ast.walk(fn) if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
        given = {a.arg for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)} - {"self"}
        read, todo, seen, other = set(), [assign.value], set(), False
        while todo:
            for n in ast.walk(todo.pop()):
                if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "self":
                    read.add(n.attr)
                elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in local and n.id not in seen:
                    seen.add(n.id)
                    todo.append(local[n.id])
                elif isinstance(n, ast.Name) and n.id in given:
                    other = True  # a value the caller passes, no column of the row
        made_from = sorted(attrs[a] for a in read if a in attrs)
        if made_from and not other and len(made_from) == len(read) and set(made_from) <= columns:
            return unique[attr], made_from, Span(table.path, assign.lineno, assign.end_lineno or assign.lineno)
    return None


# Reserved words PostgreSQL takes a column name for only in double quotes.
_RESERVED = frozenset(("default", "order", "user", "group", "check", "column", "limit", "offset", "table", "primary",
                       "references", "select", "where", "from", "to", "end", "desc", "asc", "all", "unique"))


def _sql_name(column: str) -> str:
    return f'"{column}"' if column.lower() in _RESERVED else column


def _plain_index(facts, table, columns: set[str]) -> str | None:
    """A non-unique index made of some of the lookup's columns, as the message names it: "the index
    ix_orders_email on email"; the widest one."""
    found: list[tuple[int, str]] = []
    for t in (table, facts.migration_tables.get(table.name)):
        for c in (t.columns.values() if t else ()):
            if c.index and not c.unique and c.name in columns:
                found.append((1, f"the index on {c.name}"))
    for ix in all_indexes(table, facts):
        if not ix.unique and ix.columns and set(ix.columns) <= columns:
            found.append((len(ix.columns), f"the index {ix.name + ' ' if ix.name else ''}on {', '.join(ix.columns)}"))
    for st in table_sql(facts, table.name):
        cols = tuple(st.details.get("columns") or ())
        if st.kind == "create_index" and not st.details.get("unique") and cols and set(cols) <= columns:
            name = st.details.get("name")
            found.append((len(cols), f"the index {str(name) + ' ' if name else ''}on {', '.join(cols)}"))
    return max(found, key=lambda f: f[0])[1] if found else None


def _method_outside_the_app(facts, q) -> bool:
    """`q` is in a method (not a module-level function) whose name no line of the application's code mentions
    but its own `def`: tests, migrations and command-line tooling (a bootstrap command) aside, nothing calls it.
    A method of the same name on another class counts as a call."""
    module = next((m for m in facts.modules if m.path == q.span.path), None)
    if module is None or q.function in module.top_functions:
        return False
    named = mentions(facts, {q.function})[q.function]
    own = re.compile(rf"\s*(async\s+)?def\s+{re.escape(q.function)}\b")
    return not any(not own.match(line) for _, line in named)


def _uncalled(facts, q) -> tuple[str, ...] | None:
    """When nothing outside tests runs `q`'s function (a module-level function, not decorated, whose name no
    code reached from module level, a class or a registered function mentions, in its own module or one that
    imports it): the functions that mention it (themselves never reached), else None. Files dbreview did not parse (they mention no SQLAlchemy: a
    view, a CLI) are searched for the name as a word, and a mention there counts as a call. A name built at
    run time, or code outside the target (a plugin), is not seen: the finding says "was found"."""
    module = next((m for m in facts.modules if m.path == q.span.path), None)
    if module is None or module.top_functions.get(q.function) is not False:
        return None
    name, reached = q.function, _reached(facts)
    if _dispatches_by_name(facts, module.path):
        return None
    if any(name in words and _may_name(m, module.module, name) for m, words in _unparsed(facts)):
        return None
    if any(name in words and _may_name(m, module.module, name) for m, words in _revision_words(facts)):
        return None  # a migration's upgrade or downgrade calls it: it runs when the migration does
    if any("scripts" in m.path.split("/")[:-1] and name in m.mentions and _may_name(m, module.module, name)
           for m in facts.modules):
        return None  # a script an operator runs calls it (`scripts/db.py create`): it runs, if not in the service
    callers: set[str] = set()
    for m in facts.modules:
        if is_test_path(m.path) or m.revision is not None or not _may_name(m, module.module, name):
            continue
        if m is not module and name not in m.mentions and _imports_by_name(m, module.module, name):
            return None  # `from service import get_by_slug as lookup`: the calls go by another name
        contexts = [c for c in m.mentions.get(name, ()) if c != name]
        if any(c in reached for c in contexts):
            return None
        callers |= {c for c in contexts if c}
    return tuple(sorted(callers))


def _dispatches_by_name(facts, path: str) -> bool:
    """The module hands its own namespace to code at module level (`_main(locals())`, `dispatch(globals())`): a
    command-line module whose every function runs by the name given on the command line."""
    main = False  # inside `if __name__ == "__main__":`, where locals() is the module's too
    for line in facts.lines(Span(path, 1, 1_000_000)):
        if line[:1].strip():
            main = bool(re.match(r"if\s+__name__\s*==", line))
        if (main or line[:1].strip()) and re.search(r"\((?:locals|globals)\(\)", line):
            return True
    return False


def _may_name(m, module: str, name: str) -> bool:
    """May a mention of `name` in module `m` be of the function `name` of `module`: `m` is that module, imports
    it (`from pkg import service`, `import pkg.service`), imports the function from it or from a package above
    it, or imports by a name computed at run time. A same-named function of another module
    (`organization_service.get_by_slug`) is not a caller. Module names are compared by their dotted tails:
    `src.app.service` is what `from app import service` names when the code runs from src/."""
    if m.module == module or m.imports is None or m.imports.dynamic:
        return True
    parts = module.split(".")
    above = {".".join(parts[:i]) for i in range(1, len(parts))}
    for imp in m.imports.imports:
        names = set(imp.names)
        if _is_tail(module, imp.module) and (not names or name in names or "*" in names):
            return True
        if any(_is_tail(module, f"{imp.module}.{n}") for n in names):
            return True
        if any(_is_tail(a, imp.module) for a in above) and (not names or name in names or "*" in names):
            return True
    return False


def _is_tail(full: str, tail: str) -> bool:
    return full == tail or full.endswith("." + tail)


def _imports_by_name(m, module: str, name: str) -> bool:
    """Does `m` import the function `name` from its module or a package above it (perhaps under another name)?"""
    parts = module.split(".")
    above = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
    return m.imports is not None and any(name in imp.names and any(_is_tail(a, imp.module) for a in above)
                                         for imp in m.imports.imports)


def _unparsed(facts) -> list[tuple[object, set[str]]]:
    """The application's Python files dbreview did not parse (a view, a CLI that mention no SQLAlchemy): what
    each imports (None when it does not parse here either) and its words, any of which may be a call."""
    if "int010-unparsed" in facts.derived:
        return facts.derived["int010-unparsed"]  # type: ignore[return-value]
    out: list[tuple[object, set[str]]] = []
    symbols = facts.derived.get("symbols")
    parsed = {m.path for m in facts.modules}
    paths = set(getattr(symbols, "unread", {}).values()) | {  # and those read on demand since (a package's __init__)
        m.path for m in getattr(symbols, "modules", {}).values() if m.path not in parsed}
    for path in sorted(paths):
        if is_test_path(path) or not path.endswith(".py") or path.startswith("<"):
            continue
        try:
            text = confine.read_text(facts.root, path)
        except (OSError, ValueError):
            continue
        out.append((_Unparsed(path, text), set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))))
    facts.derived["int010-unparsed"] = out
    return out


def _revision_words(facts) -> list[tuple[object, set[str]]]:
    """The revisions' files (their calls are not among the application's mentions), read as _unparsed reads."""
    if "int010-revisions" not in facts.derived:
        out: list[tuple[object, set[str]]] = []
        for m in facts.modules:
            if m.revision is not None:
                try:
                    text = confine.read_text(facts.root, m.path)
                except (OSError, ValueError):
                    continue
                out.append((_Unparsed(m.path, text), set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))))
        facts.derived["int010-revisions"] = out
    return facts.derived["int010-revisions"]  # type: ignore[return-value]


class _Unparsed:
    """A file dbreview did not parse: its module, and what it imports, read only when asked (most files'
    words hold none of the names looked for)."""

    def __init__(self, path: str, text: str) -> None:
        self.module, self._is_package = module_name(path)
        self._text = text

    @functools.cached_property
    def imports(self):  # None when it does not parse here either
        try:
            return read_imports(ast.parse(self._text), self.module, self._is_package, self._text)
        except (SyntaxError, ValueError, RecursionError):
            return None


def _reached(facts) -> set[str]:
    """The names mentioned by code that runs: from module level, a class, a decorated function, every word of
    the Python files not parsed, and the functions those mention, transitively (by name: a name reached in one
    module counts as reached in all, which errs towards "called")."""
    key = "int010-reached"
    if key in facts.derived:
        return facts.derived[key]  # type: ignore[return-value]
    by_context: dict[str, set[str]] = {}
    seeds = {""}
    for m in facts.modules:
        if is_test_path(m.path) or m.revision is not None:
            continue
        for name, contexts in m.mentions.items():
            for c in contexts:
                if c != name:
                    by_context.setdefault(c, set()).add(name)
        seeds |= {f for f, decorated in m.top_functions.items() if decorated}
    for _, words in _unparsed(facts):
        seeds |= words
    reached, todo = set(seeds), list(seeds)
    while todo:
        for name in by_context.get(todo.pop(), ()):
            if name not in reached:
                reached.add(name)
                todo.append(name)
    facts.derived[key] = reached
    return reached


class SqliteTestsSkipPolicies(Rule):
    """The tests build their database with create_all on SQLite, while production relies on PostgreSQL
    policies and triggers.

    What it checks:
        This rule reads the tests, on purpose (no other rule takes tests as evidence): test code that builds
        the schema with `metadata.create_all` (or Flask-SQLAlchemy's `db.create_all`) on a `sqlite://`
        database, with no PostgreSQL database and no `alembic upgrade` anywhere in the tests, in a project
        whose migrations create Row-Level Security policies or triggers.
    Why it matters:
        `create_all` builds tables from the models only: no policy, no `ENABLE ROW LEVEL SECURITY`, no
        trigger, and SQLite has none of them anyway. Every test of tenant isolation, audit immutability or
        trigger-maintained columns passes against a database where those rules do not exist: the tests
        prove nothing about them.
    Example:
        engine = create_async_engine("sqlite+aiosqlite:///:memory:"); await conn.run_sync(Base.metadata.create_all)
    Instead:
        Run the tests that touch tenant data against PostgreSQL (a service container or testcontainers),
        built with `alembic upgrade head`, as a role without BYPASSRLS.
    """

    ID = "INT011"
    ITEM = "3.7"
    SEVERITY = Severity.WARNING
    _MIGRATION = '''
from alembic import op
import sqlalchemy as sa
revision = "0001"
down_revision = None
def upgrade():
    op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True), sa.Column("tenant_id", sa.Integer, nullable=False))
    op.execute("ALTER TABLE notes ENABLE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY tenant_isolation ON notes USING (tenant_id = current_setting('app.tenant_id')::int)")
def downgrade():
    op.drop_table("notes")
'''
    _MODELS = HEADER + '''
class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(index=True)
'''
    VALID = ({"models.py": _MODELS, "migrations/versions/0001_a.py": _MIGRATION, "tests/conftest.py": '''
from alembic import command
from alembic.config import Config
def database():
    command.upgrade(Config("alembic.ini"), "head")
'''},)
    INVALID = ({"models.py": _MODELS, "migrations/versions/0001_a.py": _MIGRATION, "tests/conftest.py": '''
from sqlalchemy import create_engine
from models import Base
def database():
    engine = create_engine("sqlite:///:memory:")
    Base.metadata.create_all(engine)
    return engine
'''},)

    def check(self):
        roots = sorted({_app_root(r.path) for r in self.facts.revisions})
        statements = migration_sql(self.facts).statements
        for root in roots:  # each application with its own tests and its own migrations
            yield from self._application(root, [st for st in statements if st.span.path.startswith(root)])

    def _application(self, root: str, statements):
        tests = [m.usage.test_db for m in self.facts.modules
                 if m.usage is not None and is_test_path(m.path) and m.path.startswith(root)]
        builds = [s for t in tests for s in t.create_all]
        sqlite = [s for t in tests for s in t.sqlite]
        if not builds or not sqlite or any(t.postgres or t.migrates for t in tests):
            return
        rls = sorted({st.table for st in statements if st.kind in ("enable_rls", "create_policy") and st.table})
        triggers = [st for st in statements if st.kind == "create_trigger"]
        if not rls and not triggers:
            return
        relies = []
        if rls:
            relies.append(f"Row-Level Security on {len(rls)} table(s) ({', '.join(rls[:4])}{', ...' if len(rls) > 4 else ''})")
        if triggers:
            relies.append(f"{len(triggers)} trigger(s) ({triggers[0].span.path}:{triggers[0].span.start})")
        yield self.finding(
            f"the tests build their database with create_all on SQLite ({sqlite[0].path}:{sqlite[0].start}) and none runs "
            f"the migrations on PostgreSQL, while production relies on {' and '.join(relies)}: no test runs with them, "
            "so tests of tenant isolation or of what the triggers do prove nothing (this rule reads tests on purpose)",
            builds[0], f"tests:{root}create-all-sqlite", item="3.7" if rls else "3.8",
            related=[(s, "SQLite database URL") for s in sqlite[:5]] + [(s, "create_all") for s in builds[1:5]],
        )


def _app_root(path: str) -> str:
    """The folder of the application a revision file belongs to: what is above its migrations folder."""
    parts = path.split("/")
    i = next((i for i, p in enumerate(parts) if p in ("migrations", "alembic", "migration", "db_migrations")), None)
    return "/".join(parts[:i]) + "/" if i else ""

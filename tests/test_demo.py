"""The bundled demo (tui/demo) as issue 3's contract: every rule fires there, each deliberate defect that
DEFECTS.md lists is reported where its table says, every finding is one that DEFECTS.md accounts for, the
places that are right on purpose pass, and the scan has no errors.

Read-only: the demo is scanned in place (no cache dir) and never written to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from analyzers.engine import Scan, scan
from analyzers.findings import Finding
from analyzers.rules import all_rules

DEMO = Path(__file__).resolve().parent.parent / "tui" / "demo"
DEFECTS = DEMO / "DEFECTS.md"

# Rules that look at the whole project, not at one application or migration tree: the backend does right what
# they check, so no defect elsewhere in the demo can make them fire (see "Also expected" in DEFECTS.md).
PROJECT_WIDE = {
    "MIG005": "apps/backend/src/models/base.py has a MetaData naming_convention",
    "BIL005": "apps/backend has subscription_overrides",
}

# Rules the demo cannot plant without breaking what it shows elsewhere.
NOT_PLANTABLE: dict[str, str] = {
    "REL007": "the demo has no many-to-many relationship (secondary=); one with a delete cascade would add a table and "
              "a revision, moving what the migration rules show; tests/test_orm_cascades.py has its cases",
    "REL008": "the demo's delete cascades are its REL003 defects, whose keys have no ON DELETE CASCADE; giving them one "
              "would change what REL003 and REL005 show there; tests/test_orm_cascades.py has its cases",
    "CFG022": "a query condition written with Python's `is`, `and`, `or`, `not` or `in` would be a new defect in a query "
              "the other query rules (PERF, INT, TEN) read, moving what they show and every snapshot's counts; "
              "tests/test_python_conditions.py has its cases",
    "CFG024": "a latest-row query on a nullable column sorted descending would add a query and a nullable column to a "
              "demo model, moving what the other column and query rules show; tests/test_null_ordering.py has its cases",
    "CFG021": "the demo reads its whole database URL from one setting and builds none from a password (one built there "
              "would change the engine module every configuration rule reads); tests/test_connection_urls.py has its cases",
    "INT020": "a model built with a keyword it does not have fails every call that reaches it with a TypeError: planted "
              "in the demo it would break the route whose behaviour other rules and the snapshots read; "
              "tests/test_model_keywords.py has its cases",
    "RACE002": "no table of the demo numbers its rows (an invoice or revision number would need a model column and a "
               "revision of its own, moving what the migration rules show); tests/fixtures/lost_updates has one",
    "RACE003": "the demo consumes no one-time code or token by reading its row and then deleting it (one would need a "
               "model, a revision and a route of its own, moving what the other rules show); tests/test_consumed.py has its cases",
    "RACE004": "no route of the demo moves a row from one status to the next after testing it (one would need a "
               "status column, a revision and a route of its own, moving what the other rules show); "
               "tests/test_guarded_transitions.py has its cases",
    "TEN016": "a read whose tenant filter waits on an optional argument would be a new function (and a route that "
              "calls it without the tenant) in the backend's services, moving what the query rules (PERF001, INT) show "
              "there and every snapshot's counts; tests/test_tenant_scoping.py has its cases",
    "MOD010": "the demo's users sign in with their own passwords and keep no credential for another service (its "
              "Stripe fields are the provider's ids); one would be a new integration model, moving what the model rules "
              "show there; MOD005's plaintext MFA secret is its planted secret at rest; tests/test_outbound_credentials.py "
              "has MOD010's cases",
    "MOD009": "every default of the demo's models is a function or a server default, as its mixins show; a called "
              "one would move what MOD002 shows there; tests/test_defaults.py has its cases",
    "TEN017": "every route of the demo's backend that loads a row by its id scopes it to the caller's organization "
              "(the point of its RLS context); an unscoped one would be a new route, moving what the query rules show "
              "there; tests/test_key_lookups.py has its cases",
    "CFG020": "the demo's backend makes its engine once at import and its dependencies hand out sessions from it (the "
              "way the checklist asks); an engine made per request would be a second engine and a dependency of its own, "
              "moving what the engine rules (CFG004-CFG006) show there; tests/test_engine_per_request.py has its cases",
    "INT016": "a SQLite URL in an app of the demo would make it run on SQLite beside PostgreSQL, rewording every "
              "finding whose claim is PostgreSQL's there (and, in a module that makes an engine, moving its tables off "
              "the app's PostgreSQL); tests/test_sqlite_keys.py has its cases",
}

# Knock-on findings that DEFECTS.md lists under "Also expected" rather than in a table: (rule, path, anchor).
ALSO_EXPECTED = {
    ("TEN006", "apps/backend/src/models/communications.py", "table:messages:phi-rls"),
    ("TEN006", "apps/backend/src/models/communications.py", "table:message_participants:phi-rls"),
    ("TEN006", "apps/backend/src/models/billing.py", "table:billing_transactions:phi-rls"),
    ("TEN006", "apps/backend/src/models/assignments.py", "table:patient_proxy_assignments:phi-rls"),
    ("TEN006", "apps/backend/src/models/consent.py", "table:user_consents:phi-rls"),
    ("TEN006", "apps/backend/src/models/support.py", "table:support_messages:phi-rls"),
    ("TEN006", "apps/portal_v1/portal/models.py", "table:patient:phi-rls"),
    ("TEN006", "apps/portal_v1/portal/models.py", "table:visit:phi-rls"),
    ("TEN007", "apps/backend/src/models/users.py", "policy:super-admin"),
}

BACKEND = "apps/backend"
WORKER = "apps/worker"
PORTAL = "apps/portal_v1"
ANALYTICS = "apps/analytics"
DB = f"{BACKEND}/src/database.py"
MODELS = f"{BACKEND}/src/models"
VERSIONS = f"{BACKEND}/migrations/versions"
REMINDERS = "20250226_0010_appointment_reminders.py"
ANY = "*"
RLS_TABLES = (
    "patients", "organization_memberships", "organization_patients", "providers", "staff", "care_team_assignments",
    "calls", "tasks", "subscription_overrides", "support_tickets",
)


@dataclass(frozen=True)
class Right:
    """No finding of `rules` (ANY: of any rule) at `path` (a file, or a folder ending in /), within `lines`
    when given, with one of `anchors` when given."""

    why: str
    rules: str | tuple[str, ...]
    path: str
    lines: tuple[int, int] | None = None
    anchors: tuple[str, ...] = ()

    def matches(self, f: Finding) -> bool:
        if self.rules != ANY and f.rule_id not in self.rules:
            return False
        path = f.location.path
        if not (path.startswith(self.path) if self.path.endswith("/") else path == self.path):
            return False
        if self.lines and not (f.location.start_line <= self.lines[1] and f.location.end_line >= self.lines[0]):
            return False
        return not self.anchors or f.anchor in self.anchors


RIGHT_ON_PURPOSE = [
    # apps/backend: the engine, the session factory, the user's RLS context, the request session
    Right("main engine sizes its pool (10/20/30 s/1800 s)", ("CFG006",), DB, (24, 31)),
    Right("main session factory has expire_on_commit=False", ("CFG007",), DB, (33, 38)),
    Right("after_begin sets app.current_user_id with set_config(..., true) and a bound parameter", ANY, DB, (41, 46)),
    Right("get_db() commits or rolls back", ANY, DB, (73, 81)),
    Right("the declarative base has a naming convention", ANY, f"{MODELS}/base.py"),
    Right("UUIDMixin keys are ULID-based", ("MOD001", "INT001"), f"{MODELS}/mixins.py", (23, 24)),
    Right("created_at defaults on the server", ("MOD002", "TZ002", "INT006"), f"{MODELS}/mixins.py", (28, 28)),
    Right("users.email is unique", ("MOD003",), f"{MODELS}/users.py", anchors=("table:users.email",)),
    Right("users store password_hash", ("MOD004",), f"{MODELS}/users.py"),
    Right("users have MFA fields, a super-admin flag and a timezone", ("MOD006", "TZ003"), f"{MODELS}/users.py"),
    # line 50, organizations.slug unique on a soft-deletable table, is defect 34's
    Right("organizations: GIN-indexed settings, counters", ANY, f"{MODELS}/organizations.py", (1, 49)),
    Right("organizations: Stripe, timezone, unique memberships", ANY, f"{MODELS}/organizations.py", (51, 999)),
    Right("1:1 profiles: user_id unique on every profile table", ("REL001",), f"{MODELS}/profiles.py"),
    Right("patients carry Stripe fields and a billing manager", ("BIL002", "MOD006"), f"{MODELS}/profiles.py"),
    Right("proxy assignments: unique pair, six can_* flags, grant/expiry/revocation", ("REL002", "MOD006"),
          f"{MODELS}/assignments.py"),
    Right("consent documents are versioned; signatures keep an INET address", ("HIP006", "HIP003"),
          f"{MODELS}/consent.py"),
    Right("audit_logs is append-only (0005) and records the impersonator", ("HIP004", "MOD006"),
          f"{MODELS}/audit.py"),
    Right("audit_logs.actor_user_id leads a composite index", ("PERF001",), f"{MODELS}/audit.py"),
    Right("payments record the proxy who paid", ("BIL004",), f"{MODELS}/billing.py"),
    Right("the overrides table exists", ("BIL005",), f"{MODELS}/billing.py"),
    Right("notifications.user_id and message_participants.thread_id lead composite indexes", ("PERF001",),
          f"{MODELS}/communications.py"),
    Right("tasks.assignee_id leads a composite index; calls and tasks are soft deleted", ANY,
          f"{MODELS}/operations.py"),
    Right("devices hold FCM tokens and aware datetimes", ANY, f"{MODELS}/devices.py"),
    Right("the merge revision 0006 is pass/pass, as Alembic generates it", ANY,
          f"{VERSIONS}/20250129_0006_merge_rls_and_audit_heads.py"),
    *(
        Right(f"revision {name[9:13]} is reversible", ("MIG001", "MIG002"), f"{VERSIONS}/{name}")
        for name in (
            "20250101_0001_initial_schema.py", "20250108_0002_clinical_messaging_billing.py",
            "20250122_0004_row_level_security.py",
        )
    ),
    Right("0005 protects audit_logs with triggers", ANY, f"{VERSIONS}/20250122_0005_audit_log_append_only.py"),
    Right("0009's policies read the user once per query, through NULLIF", ("TEN009", "TEN012"),
          f"{VERSIONS}/20250219_0009_audit_triggers_and_own_rows.py"),
    Right("patients_report checks sort against SORTABLE and takes an int page size", ("CFG008", "CFG003"),
          f"{BACKEND}/src/routes/reports.py", (18, 27)),
    Right("patient_calls splices a uuid.UUID path parameter", ("CFG008",), f"{BACKEND}/src/routes/reports.py", (42, 47)),
    Right("unread_count binds :user_id", ("CFG011",), f"{BACKEND}/src/services/inbox.py", (21, 26)),
    Right("read_thread_for joins the participants to the thread", ("CFG012",), f"{BACKEND}/src/services/inbox.py", (37, 45)),
    Right("sign_out revokes one session WHERE id = :id", ("CFG013",), f"{BACKEND}/src/services/inbox.py", (53, 54)),
    Right("reschedule_appointment enqueues after its commit", ("CFG014",), f"{BACKEND}/src/services/appointments.py",
          (21, 27)),
    Right("open_branch flushes for the id and commits once", ("CFG015",), f"{BACKEND}/src/services/clinics.py", (21, 28)),
    Right("reset_setting marks the settings it changes in place", ("CFG017",), f"{BACKEND}/src/routes/admin.py", (52, 58)),
    Right("request_refund commits its claim before it calls the provider", ("CFG018",), f"{BACKEND}/src/services/refunds.py",
          (26, 33)),
    Right("hand_over_provider moves the appointments before the delete", ("REL005",), f"{BACKEND}/src/services/roster.py",
          (19, 25)),
    Right("the backend's graph has one head and no missing parent", ("MIG003", "MIG004"), f"{VERSIONS}/"),
    Right("every policy of 0004 reads the tenant; every RLS table has a policy", ("TEN004", "TEN005"),
          f"{VERSIONS}/20250122_0004_row_level_security.py"),
    Right("0010's reminder_opt_in is NOT NULL with a server default", ("MIG009",), f"{VERSIONS}/{REMINDERS}", (24, 27)),
    Right("0010 builds its index CONCURRENTLY in autocommit_block()", ("MIG007", "MIG008"), f"{VERSIONS}/{REMINDERS}", (28, 34)),
    Right("0010's downgrade drops the index and columns it added (the trigger is defect 26)", ("MIG015", "MIG002"),
          f"{VERSIONS}/{REMINDERS}", (51, 54)),
    Right("patients, memberships and the helper's eight tables are ENABLEd and FORCEd with a tenant policy",
          ("TEN001", "TEN002", "TEN003", "TEN006"), f"{BACKEND}/", anchors=tuple(
              f"table:{t}:{what}" for t in RLS_TABLES for what in ("rls", "force-rls", "phi-rls")
          ) + tuple(f"policy:{t}:tenant_isolation" for t in RLS_TABLES)),
    Right("no quoted server defaults in the backend", ("INT006",), f"{BACKEND}/"),
    Right("saved_searches' other columns match revision 0011", ("MIG006",), f"{MODELS}/saved_searches.py", (21, 23)),
    Right("saved_searches.filters matches revision 0011", ("MIG006",), f"{MODELS}/saved_searches.py", (25, 25)),
    Right("saved_searches' partial unique index counts only live rows", ("INT008",), f"{MODELS}/saved_searches.py"),
    Right("patients.user_id and billing_manager_id are nullable under ON DELETE SET NULL", ("INT009",),
          f"{MODELS}/profiles.py"),
    Right("the 1:1 profiles rest on unique user_id columns", ("REL004",), f"{MODELS}/users.py", (35, 38)),
    Right("search_patients filters the deleted rows", ("MOD007",), f"{BACKEND}/src/services/patients.py", (19, 23)),
    Right("count_providers counts with func.count()", ("PERF004",), f"{BACKEND}/src/services/patients.py", (33, 37)),
    Right("find_by_mrn looks up by UNIQUE (organization_id, mrn)", ("INT010",), f"{BACKEND}/src/services/patients.py",
          (40, 44)),
    Right("proxies_of loads proxy_assignments with selectinload", ("PERF005",), f"{BACKEND}/src/services/patients.py",
          (60, 67)),
    Right("the worker's tests run its migrations on PostgreSQL", ("INT011",), f"{WORKER}/"),
    Right("add_member counts members in SQL (member_count + 1 in the UPDATE)", ("RACE001",),
          f"{BACKEND}/src/services/patients.py", (83, 88)),
    # apps/worker
    Right("the worker's env.py imports every model module of the base it targets (through src.models)", ("MIG020",),
          f"{WORKER}/migrations/"),
    Right("the worker's engine pre-pings", ("CFG005",), f"{WORKER}/worker/db.py"),
    Right("the worker's FK columns are indexed", ("PERF001",), f"{WORKER}/"),
    Right("deleting a stale UserDevice is not clinical data", ("HIP005",), f"{WORKER}/worker/jobs/retention.py",
          (35, 42)),
    Right("the worker's tree has a single head", ("MIG003",), f"{WORKER}/"),
    Right("portal_v1's upgrade-db command migrates only when run", ("MIG023",), f"{PORTAL}/portal/__init__.py", (24, 27)),
    Right("the worker's migrations write sa.text('now()') and full downgrades", ("INT006", "MIG001", "MIG002"),
          f"{WORKER}/migrations/"),
    # apps/portal_v1
    Right("patients and visits are soft deleted (is_deleted)", ("HIP001",), f"{PORTAL}/"),
    Right("portal money is Numeric(10, 2)", ("BIL001",), f"{PORTAL}/"),
    Right("payment.amount is Numeric(10, 2), precision and scale", ("BIL006",), f"{PORTAL}/portal/models.py", (79, 91)),
    Right("refund.payment_id is ON DELETE RESTRICT", ("BIL007",), f"{PORTAL}/portal/models.py", (123, 123)),
    Right("visit.status is an enum", ("INT005",), f"{PORTAL}/"),
    Right("every portal datetime is aware", ("TZ001", "TZ002"), f"{PORTAL}/"),
    Right("every portal FK column is indexed and constrained", ("PERF001", "INT002"), f"{PORTAL}/"),
    Right("every portal downgrade undoes its upgrade", ("MIG001", "MIG002"), f"{PORTAL}/"),
    Right("front_desk_export joinedloads the accounts its loop reads", ("PERF003",), f"{PORTAL}/portal/views.py", (74, 82)),
    Right("add_proxies adds each proxy in a savepoint", ("CFG016",), f"{PORTAL}/portal/views.py", (99, 114)),
    Right("the portal's models match its migrations", ("MIG006",), f"{PORTAL}/migrations/"),
    Right("the portal's models match its migrations", ("MIG006",), f"{PORTAL}/portal/models.py", (1, 61)),
    Right("the portal's models match its migrations but for visit.status's LATE_CANCEL (P22)", ("MIG006",),
          f"{PORTAL}/portal/models.py", (63, 10_000)),
    # apps/analytics
    Right("the other analytics revisions describe what they need themselves", ("MIG019",),
          f"{ANALYTICS}/migrations/versions/20250315_c5e8a0f2d417_no_show_counts.py"),
    Right("the analytics models match their migrations; no tenant, no patient data", ANY, f"{ANALYTICS}/analytics/models.py"),
    Right("count_for looks a day up by its primary key before it inserts one", ("INT010",),
          f"{ANALYTICS}/analytics/labels.py", (51, 57)),
    Right("report_labels and daily_counts have primary keys", ("INT014",), f"{ANALYTICS}/", anchors=(
        "table:report_labels:no-primary-key", "table:daily_counts:no-primary-key")),
]


@pytest.fixture(scope="module")
def demo_scan() -> Scan:
    return scan(DEMO)


@pytest.fixture(scope="module")
def findings(demo_scan: Scan) -> list[Finding]:
    return demo_scan.result.findings


# -- DEFECTS.md ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    app: str
    number: str
    rules: tuple[str, ...]
    cited: tuple[tuple[str, int, int], ...]  # (path from the demo root, first line, last line)

    def covers(self, f: Finding) -> bool:
        return f.rule_id in self.rules and any(
            f.location.path == path and f.location.start_line <= end and f.location.end_line >= start
            for path, start, end in self.cited
        )


_REF = re.compile(r"^(?P<file>[\w./-]*):(?P<start>\d+)(?:-(?P<end>\d+))?$")


def defect_rows() -> list[Row]:
    """The rows of DEFECTS.md's tables, one table per `## apps/<name>` section, with the cited places
    resolved: paths relative to the app, a bare migration file name in its migrations/versions/, and
    `:N` a line of the file named before it."""
    rows: list[Row] = []
    app = None
    for line in DEFECTS.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
            app = heading if heading.startswith("apps/") else None
            continue
        if app is None or not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("#", "") or set(cells[0]) <= {"-"}:
            continue
        number, _, rules, where = cells
        cited, current = [], None
        for token in re.findall(r"`([^`]+)`", where):
            m = _REF.match(token)
            if not m:
                continue
            file = m["file"] or current
            assert file, f"{app} {number}: `{token}` continues no file"
            current = file
            path = f"{app}/{file}" if "/" in file else f"{app}/migrations/versions/{file}"
            cited.append((path, int(m["start"]), int(m["end"] or m["start"])))
        rows.append(Row(app, number, tuple(r.strip() for r in rules.split(",")), tuple(cited)))
    return rows


def test_defects_md_is_well_formed() -> None:
    rows = defect_rows()
    assert {r.app for r in rows} == {"apps/backend", "apps/worker", "apps/portal_v1", "apps/analytics"}
    known = {r.ID for r in all_rules()}
    for row in rows:
        assert row.rules and set(row.rules) <= known, f"{row.app} {row.number}: unknown rule in {row.rules}"
        assert row.cited, f"{row.app} {row.number}: no file:line"
        for path, start, end in row.cited:
            source = DEMO / path
            assert source.is_file(), f"{row.app} {row.number}: {path} does not exist"
            assert 1 <= start <= end <= len(source.read_text(encoding="utf-8").splitlines()), (
                f"{row.app} {row.number}: {path}:{start}-{end} is outside the file"
            )


# -- (a) every rule fires --------------------------------------------------------------------------------


def test_every_rule_fires_on_the_demo(findings: list[Finding]) -> None:
    fired = {f.rule_id for f in findings}
    silent = sorted({r.ID for r in all_rules()} - fired - set(PROJECT_WIDE) - set(NOT_PLANTABLE))
    assert not silent, f"no finding of {silent} on the demo: plant a defect for each and list it in DEFECTS.md"


def test_every_rule_that_fires_is_named_in_defects_md(findings: list[Finding]) -> None:
    text = DEFECTS.read_text(encoding="utf-8")
    unnamed = sorted({f.rule_id for f in findings if not re.search(rf"\b{f.rule_id}\b", text)})
    assert not unnamed, f"{unnamed} fire on the demo but DEFECTS.md does not mention them"


# -- (b) the planted defects are reported where DEFECTS.md says -------------------------------------------


@pytest.mark.parametrize("row", defect_rows(), ids=lambda r: f"{r.app.split('/')[1]}-{r.number}")
def test_each_planted_defect_is_reported_where_defects_md_says(row: Row, findings: list[Finding]) -> None:
    for rule in row.rules:
        assert any(f.rule_id == rule and row.covers(f) for f in findings), (
            f"{row.app} defect {row.number}: no {rule} finding at {', '.join(f'{p}:{s}-{e}' for p, s, e in row.cited)}; "
            f"{rule} is reported at {[str(f.location) for f in findings if f.rule_id == rule]}"
        )


def test_every_finding_is_accounted_for_by_defects_md(findings: list[Finding]) -> None:
    """Nothing else fires: a finding the table does not cite (nor "Also expected" lists) is a false positive
    on code that is right, or a new defect that DEFECTS.md must describe."""
    rows = defect_rows()
    stray = [
        f for f in findings
        if not any(row.covers(f) for row in rows) and (f.rule_id, f.location.path, f.anchor) not in ALSO_EXPECTED
    ]
    assert not stray, "\n".join(f"{f.rule_id} {f.location} {f.anchor}: {f.message}" for f in stray)


def test_also_expected_findings_are_reported(findings: list[Finding]) -> None:
    reported = {(f.rule_id, f.location.path, f.anchor) for f in findings}
    assert not ALSO_EXPECTED - reported, sorted(ALSO_EXPECTED - reported)


# -- (c) the parts that are right stay right --------------------------------------------------------------


@pytest.mark.parametrize("right", RIGHT_ON_PURPOSE, ids=lambda r: r.why)
def test_right_on_purpose_places_pass(right: Right, findings: list[Finding]) -> None:
    target = DEMO / right.path
    assert target.exists(), f"{right.path} is not in the demo any more"
    wrong = [f for f in findings if right.matches(f)]
    assert not wrong, [f"{f.rule_id} {f.location}: {f.message}" for f in wrong]


# -- (d) a clean scan -------------------------------------------------------------------------------------


def test_the_demo_scans_without_errors(demo_scan: Scan) -> None:
    assert demo_scan.result.errors == []
    apps = {path.split("/")[1] for path in (c.path for c in demo_scan.layout.python) if path.startswith("apps/")}
    assert apps == {"backend", "worker", "portal_v1", "analytics"}


def test_every_python_file_of_the_demo_compiles() -> None:
    for path in sorted(DEMO.rglob("*.py")):
        compile(path.read_text(encoding="utf-8"), str(path), "exec")  # no .pyc written into the demo

"""Which checklist items apply to a target, read from its schema.

The checklist was written for a healthcare SaaS: on a recipe manager, "no care-team constraint" or "no
proxy on payments" is not a finding but an item that does not apply. An item of the pack may say when
it applies (`applies_when = "patients or audit"`: any of the alternatives, each a conjunction of
conditions joined by "and"); the conditions are named here, each with the evidence it rests on. An item
that does not apply is suggested as not applicable with that evidence, and the scan raises no finding
under it. A schema the scan could not read (no table found) suggests nothing: not seeing a table is no
evidence that it is not there.
"""

from __future__ import annotations

import re
from typing import Callable

from analyzers.facts.model import Facts
from analyzers.rules.runs_on import runs_on
from analyzers.rules.schema import (
    MFA_NAME, MONEY_NAME, PASSWORD_COLUMN, healthcare, is_test_path, python_paths, rls_by_table, schema_per_tenant, sqlite_engines,
    tenant_columns, where,
)

Condition = Callable[[Facts], tuple[bool, str]]  # (holds, why it does not when it does not)


def _tables_named(pattern: str, what: str) -> Condition:
    regex = re.compile(pattern)

    def check(facts: Facts) -> tuple[bool, str]:
        found = any(regex.search(name) for name in facts.tables)
        return found, f"no table of {what} among the {len(facts.tables)} tables read"

    return check


def _patients(facts: Facts) -> tuple[bool, str]:
    return healthcare(facts), f"no table or model of patients among the {len(facts.tables)} tables read"


_BILLS = re.compile(r"(^|_)bills?$")


def _money_columns(facts: Facts) -> list[str]:
    """Where the schema keeps money: tables of bills, columns named for money (what BIL001 and BIL006 read)."""
    return [name for name in facts.tables if _BILLS.search(name)] + [
        f"{name}.{c}" for name, t in facts.tables.items() for c in t.columns if MONEY_NAME.search(c)
    ]


def _money(facts: Facts) -> tuple[bool, str]:
    return bool(_money_columns(facts)), "no table of bills and no column named for money (amount, price, total, fee...)"


def bills(facts: Facts) -> bool:
    """A billing subsystem: tables of billing, invoices, payments, subscriptions or charges, or Stripe ids."""
    return any(re.search(r"billing|invoice|payment|subscription|charge", t) for t in facts.tables) or any(
        "stripe" in c for t in facts.tables.values() for c in t.columns
    )


def _billing(facts: Facts) -> tuple[bool, str]:
    money = _money_columns(facts)
    stored = f"; the columns named for money ({listed(money)}) alone are not one" if money else ""
    return bills(facts), ("no billing subsystem: no billing, invoice, payment, subscription or charge table, no Stripe column"
                   + stored)


def _tenants(facts: Facts) -> tuple[bool, str]:
    return bool(tenant_columns(facts)), (
        "no table carries a tenant column (organization_id or organisation_id, tenant_id, org_id, or a foreign key to an "
        "organization-like table that much of the schema carries): a single-tenant schema"
    )


def _rls(facts: Facts) -> tuple[bool, str]:
    """Row-Level Security is the isolation to review: some table has it, or tenants share tables."""
    if any(state.enabled or state.policies for state in rls_by_table(facts).values()):
        return True, ""
    separated = schema_per_tenant(facts)
    if separated:
        return False, f"tenants are separated by schema ({where(separated)}), not by Row-Level Security"
    if others := runs_on(facts).mysql_only:
        return False, (f"the application runs on {others}, not PostgreSQL: no Row-Level Security there; "
                       "tenant isolation lives in the application's queries")
    sqlite = sqlite_engines(facts)
    if sqlite:
        return False, (f"the application also runs on SQLite ({where(sqlite)}), which has no Row-Level Security: "
                       "tenant isolation lives in the application's queries")
    held, why = _tenants(facts)
    return held, why + ", and no migration sets up Row-Level Security"


_ADMIN_PATH = re.compile(r"(^|[/_])(super_?)?admins?([/_.]|$)", re.I)
_ADMIN_WORDS = {"admin", "admins", "superadmin", "superuser", "administrator", "administrators"}
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def _names_admins(name: str) -> bool:
    """AdminRole, require_admin, SUPERUSER_EMAIL: a word of the name is admin (not badminton)."""
    return any(w.lower() in _ADMIN_WORDS for w in _WORD.findall(name))

_ADMIN_COLUMN = re.compile(r"^(is_)?(super_?admin|superuser|platform_admin|admin|staff)$|^roles?$")


def _platform_owner(facts: Facts) -> tuple[bool, str]:
    """The checklist's `is_super_admin` flag marks a platform owner above the tenants: it asks for one where
    the schema has tenants and nothing models admin power already (a flag or role on users, a module, class or
    function of admins: a polymorphic Admin user, admin credentials and roles checked by an admin module)."""
    held, why = _tenants(facts)
    if not held:
        return False, why + ": there is no platform owner above tenants for a super-admin flag to mark"
    if any(_ADMIN_COLUMN.match(c) for name, t in facts.tables.items() if re.search(r"^users?$", name) for c in t.columns):
        return True, ""
    code = [p for p in python_paths(facts) if _ADMIN_PATH.search(p) and not is_test_path(p)]
    code += [f"{m.path}:{span.start} ({name})" for m in facts.modules if not is_test_path(m.path)
             for name, span in m.binding_spans.items() if _names_admins(name)]
    if code:
        return False, (f"admin power is modelled in the code rather than by a flag on users ({listed(code)}): check "
                       "there that platform owners are told apart from tenants' admins")
    return True, ""


def _local_passwords(facts: Facts) -> tuple[bool, str]:
    """Some table stores a password (on the users table, or one of its own: keystone's `password`)."""
    stored = any(PASSWORD_COLUMN.search(name) or any(PASSWORD_COLUMN.search(c) for c in t.columns) for name, t in facts.tables.items())
    return stored, "no table stores a password: sign-in is delegated (an identity provider, OAuth, SSO)"


def _bearer_secrets(facts: Facts) -> tuple[bool, str]:
    """Some table keeps a secret a client presents (a reset key, an API key, an OAuth code, a session token)."""
    from analyzers.rules.s02_secrets import secret_column

    stored = any(secret_column(t, c) for t in facts.tables.values() for c in t.columns.values())
    return stored, "no table keeps a token, an API key, a reset key or an authorization code"


def _impersonation(facts: Facts) -> tuple[bool, str]:
    """Someone can act as someone else: a table, column, file or module-level function says so."""
    named = re.compile(r"imperson|act_as|acting_as|sudo_user|masquerad")
    found = (
        any(named.search(name) or any(named.search(c) for c in t.columns) for name, t in facts.tables.items())
        or any(named.search(m.path) or any(named.search(b) for b in m.bindings) for m in facts.modules)
        or any(named.search(path) for path in python_paths(facts))
    )
    return found, "nothing in the schema or the code read names impersonation (no impersonat*, act_as, masquerade)"


_SESSION_COLUMNS = re.compile(r"token|expire|revoked|user_agent|ip_address|last_(seen|active|used)")


def _login_sessions(facts: Facts) -> tuple[bool, str]:
    """A table of sign-in sessions: named so, with a token, an expiry or a client (indico's `sessions`
    are a conference's sessions)."""
    found = any(
        re.search(r"^(user_|auth_|login_)?sessions?$", name) and any(_SESSION_COLUMNS.search(c) for c in t.columns)
        for name, t in facts.tables.items()
    )
    return found, "no table of sign-in sessions (a sessions table with a token, an expiry or a client)"


CONDITIONS: dict[str, Condition] = {
    "patients": _patients,
    "billing": _billing,
    "money": _money,
    "tenants": _tenants,
    "rls": _rls,
    "local_passwords": _local_passwords,
    "bearer_secrets": _bearer_secrets,
    "platform_owner": _platform_owner,
    "organizations": _tables_named(r"^(organi[sz]ations?|orgs?|tenants?|workspaces?|compan(y|ies))$", "organizations"),
    "audit": _tables_named(r"audit|activity_log", "audit records"),
    "consents": _tables_named(r"consent", "consents"),
    "sessions": _login_sessions,
    "devices": _tables_named(r"devices?$", "devices"),
    "messaging": _tables_named(r"message|thread|notification", "messages or notifications"),
    "support": _tables_named(r"support|ticket", "support tickets"),
    "impersonation": _impersonation,
    "mfa": lambda facts: (
        any(MFA_NAME.search(name) or any(MFA_NAME.search(c) for c in t.columns) for name, t in facts.tables.items()),
        "no table or column of multi-factor sign-in (mfa, totp, otp, two_factor, webauthn)",
    ),
}


def listed(places: list[str], limit: int = 3) -> str:
    return ", ".join(places[:limit]) + (f" and {len(places) - limit} more" if len(places) > limit else "")


def parse(expression: str) -> list[list[str]]:
    """`a and b or c` -> [["a", "b"], ["c"]]; ValueError naming an unknown condition."""
    alternatives = [[atom.strip() for atom in alt.split(" and ")] for alt in expression.split(" or ")]
    for atom in (a for alt in alternatives for a in alt):
        if atom not in CONDITIONS:
            raise ValueError(f"unknown condition {atom!r} (known: {', '.join(sorted(CONDITIONS))})")
    return alternatives


def not_applicable(facts: Facts, items: dict[str, str]) -> dict[str, str]:
    """item id -> why it does not apply, for the items (id -> applies_when) whose conditions fail."""
    if not facts.tables:
        return {}
    results: dict[str, tuple[bool, str]] = {}

    def held(atom: str) -> tuple[bool, str]:
        if atom not in results:
            results[atom] = CONDITIONS[atom](facts)
        return results[atom]

    out: dict[str, str] = {}
    for item_id, expression in items.items():
        if not expression:
            continue
        reasons: list[str] = []
        for alternative in parse(expression):
            failed = [held(atom)[1] for atom in alternative if not held(atom)[0]]
            if not failed:
                break
            reasons.append(failed[0])
        else:
            out[item_id] = "; ".join(dict.fromkeys(reasons))
    return out

"""What a `dbreview verify` run proved, as Markdown: the part of the report that says on which
PostgreSQL, at which commit, in which sandbox, and what each of the four proofs showed. It is
stored with the run, so an export made later says what the run said."""

from __future__ import annotations

from analyzers.verify.proofs import Merged, PROVEN, REFUTED
from analyzers.verify.result import VerifyResult
from tui.reports.mdtext import code_span, inline


def outcome(result: VerifyResult, merged: Merged | None) -> str:
    """One line: what the run came to."""
    if result.unverifiable:
        return f"unverifiable: {result.unverifiable}"
    proofs = list(merged.proofs.values()) if merged else []
    proven = sum(p.status == PROVEN for p in proofs)
    refuted = sum(p.status == REFUTED for p in proofs)
    head = "upgrade head passes" if result.upgraded else "upgrade head fails"
    return f"{head}; {proven} finding{'s' if proven != 1 else ''} proven, {refuted} refuted"


def render_verification(result: VerifyResult, merged: Merged | None) -> str:
    out = ["## Proof on PostgreSQL", ""]
    where = f"{inline(result.postgres)}" if result.postgres else "no PostgreSQL was started"
    commit = f", at commit {code_span(result.commit[:12])}" if result.commit else ""
    took = f", in {result.timings['total']:.1f} s" if "total" in result.timings else ""
    out += [f"{where}{commit}{took}. **Outcome:** {inline(outcome(result, merged))}.", ""]
    if result.protections:
        out.append(f"- **Sandbox:** {inline('; '.join(result.protections))}")
    if result.missing_protections:
        out.append(f"- **Not protected:** {inline('; '.join(result.missing_protections))}")
    if result.postgres_lacks:
        out.append(f"- **This PostgreSQL lacks:** {inline(', '.join(result.postgres_lacks))}")
    out += ["", *_plan(result), *_upgrades(result), *_roundtrips(result), *_catalog(result), *_isolation(result)]
    if result.notes:
        out += ["### Notes", "", *(f"- {inline(n)}" for n in result.notes), ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _plan(r: VerifyResult) -> list[str]:
    out = ["### Plan", ""]
    for t in r.trees:
        heads = ", ".join(t.heads) or "none"
        line = f"- {code_span(t.folder)}: {t.revisions} revisions, head {inline(heads)}"
        line += f", skipped ({inline(t.skipped)})" if t.skipped else f", database {code_span(t.database)}, version table {code_span(t.version_table)}"
        out.append(line)
        if t.not_reproduced:
            out.append(f"  - its env.py does what the replacement does not: {inline('; '.join(t.not_reproduced))}")
    out.append(f"- Extensions the migrations create: {inline(', '.join(r.extensions)) if r.extensions else 'none'}")
    out.append(f"- Roles made for the migrations and policies: {inline(', '.join(r.roles)) if r.roles else 'none'}")
    if r.imports:
        out.append("- Imports beyond alembic, sqlalchemy and the standard library (run with --allow-imports):")
        out += [f"  - {code_span(path)}: {inline(', '.join(mods))}" for path, mods in sorted(r.imports.items())]
    return [*out, ""]


def _upgrades(r: VerifyResult) -> list[str]:
    if not r.upgrades:
        return []
    out = ["### 1. Fresh upgrade", ""]
    for u in r.upgrades:
        if u.step.ok:
            out.append(f"- {code_span(u.tree)}: `upgrade {u.target}` passes ({u.step.seconds:.1f} s)")
        else:
            at = f" at revision {code_span(u.step.revision)}" if u.step.revision else ""
            line = f" ({code_span(str(u.step.where))})" if u.step.where else ""
            out.append(f"- {code_span(u.tree)}: `upgrade {u.target}` **fails**{at}{line}: {inline(u.step.error or '')}")
    return [*out, ""]


def _roundtrips(r: VerifyResult) -> list[str]:
    if not r.roundtrips:
        return []
    dirty = [t for t in r.roundtrips if not t.clean]
    out = ["### 2. Each revision up, down, up again", ""]
    out.append(f"{len(r.roundtrips)} revisions, {len(r.roundtrips) - len(dirty)} clean.")
    if dirty:
        out += ["", "| revision | downgrade | left behind or changed | removed, not created by it | second upgrade |", "|---|---|---|---|---|"]
        for t in dirty:
            down = "not reached" if t.downgrade is None else "ok" if t.downgrade.ok else f"fails: {_cell(t.downgrade.error)}"
            again = "" if t.upgrade_again is None or t.upgrade_again.ok else "fails"
            again = again or _cell(", ".join(t.differs)) or "same"
            out.append(
                f"| {code_span(t.revision)} | {down} | {_cell(', '.join(t.left_behind + t.changed))} | {_cell(', '.join(t.destroyed))} | {again} |"
            )
    return [*out, ""]


def _catalog(r: VerifyResult) -> list[str]:
    if not r.rls and not r.catalog:
        return []
    enabled = [t for t in r.rls if t.enabled]
    forced = [t for t in enabled if t.forced]
    out = ["### 3. Catalog at head", "", f"{len(r.rls)} tables; Row-Level Security enabled on {len(enabled)}, forced on {len(forced)}.", ""]
    if enabled:
        out += ["| table | forced | policies (command, roles: expression) |", "|---|---|---|"]
        for t in enabled:
            out.append(f"| {code_span(t.table)} | {'yes' if t.forced else 'no'} | {_cell('; '.join(t.policies)) or 'none'} |")
        out.append("")
    titles = {
        "no-policy": "RLS enabled, no policy", "fk-index": "Foreign keys without an index", "timestamp": "timestamp without time zone",
        "security-definer": "SECURITY DEFINER without search_path", "duplicate-index": "Duplicate indexes", "no-primary-key": "Tables without a primary key",
    }
    for check, title in titles.items():
        rows = [row for row in r.catalog if row.check == check]
        if rows:
            out += [f"**{title} ({len(rows)})**", "", *(f"- {inline(row.detail)}" for row in rows), ""]
    return out


def _isolation(r: VerifyResult) -> list[str]:
    iso = r.isolation
    if iso is None:
        return []
    out = ["### 4. Tenant isolation", ""]
    if iso.note:
        return [*out, inline(iso.note), ""]
    settings = ", ".join(f"{code_span(k)} = {code_span(v)}" for k, v in iso.settings.items()) or "none (no policy reads a setting)"
    out += [
        f"One row for tenant A and one for tenant B in every table; tenant column {code_span(iso.tenant_column or '-')}; "
        f"tenant A's settings: {settings}. Each cell: the rows of A and of B that the case sees. "
        "`app` is a plain role granted SELECT that owns nothing.",
        "",
        "| table | " + " | ".join(inline(c) for c in iso.cases) + " |",
        "|---|" + "---|" * len(iso.cases),
    ]
    for table, cells in iso.rows.items():
        mark = " **leaks**" if table in iso.leaks else ""
        out.append(f"| {code_span(table)}{mark} | " + " | ".join(_cell(cells.get(c, "")) for c in iso.cases) + " |")
    out.append("")
    if iso.leaks:
        out.append(f"**Leaks ({len(iso.leaks)}):** " + ", ".join(code_span(t) for t in sorted(iso.leaks)))
    if iso.owner_bypass:
        out.append(f"**The owner reads every tenant ({len(iso.owner_bypass)}):** " + ", ".join(code_span(t) for t in iso.owner_bypass))
    for table, why in sorted(iso.not_seeded.items()):
        out.append(f"- {code_span(table)}: {inline(why)}")
    return [*out, ""]


def _cell(text: str | None) -> str:
    return inline(text or "").replace("|", "\\|")

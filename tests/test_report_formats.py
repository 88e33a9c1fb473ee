"""The report a reviewer sends and the lines CI reads: HTML (self-contained, inert, checked in a real
headless Chromium), GitHub workflow commands, GitLab Code Quality, secrets masked everywhere, and
the demo's export after some triage: both passed items, the decided/untriaged split, advice that
names the right objects."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from analyzers.checklist import load_checklist
from analyzers.engine import scan
from tui import cli, paths
from tui.reports import FORMATS, render
from tui.reports.secrets import MASK, mask
from tui.session import ReviewStore
from tui.session.state import Disposition, Note, Verdict

from .test_reports import RAW_CONTROL, review, rules  # noqa: F401 - rules is a fixture

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "build" / "test-artifacts"  # screenshots a person can look at (not in git)
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
)  # fmt: skip


class Page(HTMLParser):
    """Every element of a page, with its attributes, and the text in it."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def tags(self, name: str) -> list[dict[str, str | None]]:
        return [attrs for tag, attrs in self.elements if tag == name]


def assert_inert(page: Page) -> None:
    """No script, no event handler, nothing loaded from anywhere."""
    assert not page.tags("script") and not page.tags("iframe") and not page.tags("object") and not page.tags("img")
    for tag, attrs in page.elements:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, value)
            if name in ("src", "href", "action", "xlink:href", "formaction") and value:
                assert value.startswith("#"), (tag, name, value)


# -- HTML against hostile text ---------------------------------------------------------------------


def hostile_review():
    """The reports' hand-built review with markup in every place text can come from."""
    snapshot = review()
    script = "<script>alert(1)</script>"
    first = snapshot.findings[0]
    planted = replace(
        first,
        message=f'{script} and " onmouseover="alert(2)',
        path='apps/"><img src=x onerror=alert(3)>.py',
        evidence=("</pre></div><script>alert(4)</script>", "<a href='https://evil.example'>x</a>"),
        notes=(Note('<b onclick="x()">mallory</b>', first.notes[0].at, "</div><iframe src=//evil.example></iframe>"),),
    )
    items = {**snapshot.items, "1.3": replace(snapshot.items["1.3"], notes="<style>body{display:none}</style>")}
    info = replace(snapshot.review, repo_path="/srv/<svg onload=alert(5)>", reviewers=("<img src=x>",))
    return replace(snapshot, review=info, findings=(planted, *snapshot.findings[1:]), items=items)


def test_html_is_inert_and_self_contained_whatever_the_text() -> None:
    text = render("html", load_checklist("database"), hostile_review())
    page = Page(text)
    assert_inert(page)
    (csp,) = [a for a in page.tags("meta") if a.get("http-equiv") == "Content-Security-Policy"]
    assert "default-src 'none'" in (csp["content"] or "")
    shown = "".join(page.text)
    assert "<script>alert(1)</script>" in shown and "</pre></div><script>alert(4)</script>" in shown, "markup shown as text"
    assert 'apps/"><img src=x onerror=alert(3)>.py' in shown
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") and "https://" not in text.replace("https://evil.example", "")
    assert not RAW_CONTROL.search(text)


def test_html_carries_the_reports_content(rules) -> None:
    text = render("html", load_checklist("database"), review())
    page = Page(text)
    ids = {a.get("id") for _, a in page.elements}
    assert {"executive-summary", "detailed-findings", "compliance", "recommendations", "positive", "scan-errors"} <= ids
    assert {"chart-sections", "chart-split", "overall"} <= ids
    split = {a["data-kind"]: int(a["data-count"] or 0) for a in page.tags("rect") if "split" in (a.get("class") or "")}
    assert split == {"confirmed": 1, "downgraded": 1, "dismissed": 1, "untriaged": 2, "resolved": 1}
    bars = [(a["data-section"], a["data-severity"], a["data-kind"], a["data-count"]) for a in page.tags("rect") if a.get("class") == "bar"]
    assert ("1", "critical", "decided", "1") in bars and ("8", "info", "untriaged", "1") in bars
    assert [a["data-item"] for a in page.tags("li") if a.get("class") == "passed"] == ["2.mixins.1", "5.1", "9.1", "9.2"]
    kinds = {a["id"]: a["data-kind"] for a in page.tags("article")}
    assert kinds["finding-fp01"] == "decided" and kinds["finding-fp05"] == "untriaged"
    assert "index missing ␛[31mred␛[0m" in "".join(page.text)


# -- CI formats -----------------------------------------------------------------------------------


def test_github_lines_are_one_per_open_finding_and_cannot_be_broken_out_of(rules) -> None:
    snapshot = hostile_review()
    first = replace(snapshot.findings[0], message="line one\n::error::forged %0A, done", path="a,b:c.py")
    text = render("github", load_checklist("database"), replace(snapshot, findings=(first, *snapshot.findings[1:])), path_prefix="apps/backend/")
    lines = text.splitlines()
    assert len([line for line in lines if "title=dbreview TST" in line or "title=dbreview OLD" in line]) == 4  # open: not dismissed, not absent
    forged = next(line for line in lines if "a%2Cb%3Ac.py" in line)
    assert forged.startswith("::error file=apps/backend/a%2Cb%3Ac.py,line=42,endLine=43,title=dbreview TST103 (critical%2C confirmed)::")
    assert "::error::forged %250A" in forged and "\n" not in forged, "a line break cannot start a second command"
    assert any(line.startswith("::notice file=apps/backend/migrations/versions/0004 index.sql,line=3") for line in lines)
    assert "::warning file=apps/backend/alembic.ini,title=dbreview scan error::unreadable" in lines


def test_gitlab_code_quality(rules) -> None:
    issues = json.loads(render("gitlab", load_checklist("database"), review(), path_prefix="svc/"))
    assert {i["fingerprint"] for i in issues} == {"fp01", "fp02", "fp05", "fp06"}
    first = next(i for i in issues if i["fingerprint"] == "fp01")
    assert first["severity"] == "critical" and first["check_name"] == "TST103"
    assert first["location"] == {"path": "svc/apps/backend/src/database.py", "lines": {"begin": 42, "end": 43}}
    assert {i["severity"] for i in issues} <= {"info", "minor", "major", "critical", "blocker"}


# -- secrets --------------------------------------------------------------------------------------

SECRETS = {
    'engine = create_async_engine("postgresql+asyncpg://app:Hunter2-pw@db.internal:5432/clinic")': "Hunter2-pw",
    'STRIPE_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"': "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "op.execute(\"CREATE ROLE app LOGIN PASSWORD 'pg-Secret-9'\")": "pg-Secret-9",
    'DSN = "host=db user=app password=libpq-Secret dbname=clinic"': "libpq-Secret",
    'aws_access_key_id = "AKIAIOSFODNN7EXAMPLE"': "AKIAIOSFODNN7EXAMPLE",
}


@pytest.mark.parametrize("line", list(SECRETS))
def test_mask_hides_the_secret_and_keeps_the_line(line: str) -> None:
    shown = mask(line)
    assert SECRETS[line] not in shown and MASK in shown
    assert shown.split(MASK)[0] == line.split(SECRETS[line])[0], "what comes before the secret is kept"


def test_mask_leaves_code_without_secrets_alone() -> None:
    for line in ('url = "postgresql://localhost/clinic"', "password_hash = mapped_column(String(255))", 'key = os.environ["API_KEY"]'):
        assert mask(line) == line


def test_secrets_planted_in_the_code_and_notes_are_masked_in_every_export(tmp_path: Path, data_dir: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "db.py").write_text(
        "from sqlalchemy.ext.asyncio import create_async_engine\n\n"
        'engine = create_async_engine("postgresql+asyncpg://app:Hunter2-pw@db.internal:5432/clinic")\n'
    )
    result = scan(repo).result
    assert any("Hunter2-pw" in line for f in result.findings for line in f.evidence), "the scan keeps the source as it is"
    with ReviewStore.open(paths.session_db(data_dir)) as store:
        info = store.start_review(str(repo.resolve()), "database", "alice")
        store.apply_scan(info.id, result, "alice")
        store.annotate(info.id, result.findings[0].fingerprint, "alice", "the token is ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
    for fmt in FORMATS:
        out = tmp_path / f"report.{fmt}"
        assert cli.main(["export", str(repo), "--format", fmt, "-o", str(out), "--exit-zero"]) == 0
        text = out.read_text()
        assert "Hunter2-pw" not in text and "ghp_aaaa" not in text, fmt
        if fmt not in ("github", "gitlab"):  # those carry no evidence and no notes
            assert MASK in text, fmt


# -- the demo, triaged a little, exported ----------------------------------------------------------


@pytest.fixture(scope="module")
def triaged_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The demo with two items passed, four findings decided, one dismissed; the rest untriaged."""
    base = tmp_path_factory.mktemp("triaged")
    repo, data = base / "demo", base / "data"
    assert cli.main(["--data-dir", str(data), "demo", "--copy-to", str(repo)]) == 0
    repo = repo.resolve()
    result = scan(repo).result
    by_rule = {f.rule_id: f for f in result.findings}
    with ReviewStore.open(paths.session_db(data)) as store:
        info = store.start_review(str(repo), "database", "alice")
        store.apply_scan(info.id, result, "alice")
        for rule in ("TEN002", "MIG002", "INT006"):
            store.set_disposition(info.id, by_rule[rule].fingerprint, Disposition.CONFIRMED, "alice")
        store.downgrade(info.id, by_rule["CFG005"].fingerprint, "bob", note="pre-ping set by the platform team's wrapper")
        store.set_disposition(info.id, by_rule["PERF002"].fingerprint, Disposition.DISMISSED, "bob", reason="won't fix")
        store.set_verdict(info.id, "1.1", Verdict.PASS, "alice", "pool is fine for the worker")
        store.set_verdict(info.id, "9.1", Verdict.PASS, "bob")
    return repo, data


def export(triaged_demo: tuple[Path, Path], fmt: str, out: Path) -> str:
    repo, data = triaged_demo
    assert cli.main(["--data-dir", str(data), "export", str(repo), "--format", fmt, "-o", str(out)]) == 1, "untriaged criticals are open"
    return out.read_text()


def test_the_demos_markdown_after_some_triage(triaged_demo, tmp_path: Path) -> None:
    md = export(triaged_demo, "markdown", tmp_path / "review.md")
    summary = md.split("## Detailed Findings")[0]
    assert "- **Overall assessment:** ⚠️ Pass with Warnings (not final: 95 of 97 checklist items without a verdict, 157 findings untriaged)" in summary
    assert "- **Untriaged findings:** 157 (" in summary and "- **Checklist items reviewed:** 2 of 97 (2 pass)" in summary
    assert "  - 2 checklist items marked pass (see Positive Observations)" in summary
    results = md.split("### Section 1:")[1].split("**Key Question Answers:**")[0]
    assert "- ✅ **1.1** Async PostgreSQL engine with proper connection pooling: pass (alice)" in results
    assert "  - Untriaged findings: 1 warning" in results, "CFG006 on the passed item (the worker's unbounded pool) is still untriaged"
    positive = md.split("## Positive Observations")[1]
    assert "- ✅ **1.1** " in positive and "- ✅ **9.1** " in positive
    recommendations = md.split("## Recommendations")[1].split("## Positive Observations")[0]
    must = recommendations.split("2. **High Priority")[0]
    assert "ALTER TABLE appointments FORCE ROW LEVEL SECURITY" not in must, "TEN002 is a warning"
    assert "Section 1: Database Configuration" not in summary, "1.1 passes, but critical findings are open in section 1"
    high = recommendations.split("2. **High Priority (Should Fix):**")[1].split("3. **Medium")[0]
    assert "`ALTER TABLE appointments FORCE ROW LEVEL SECURITY;`" in high and "documents" not in high
    assert 'op.add_column("patients", sa.Column("phone", ...))' in high and "legacy_flag" not in high
    assert 'server_default=text("now()")' in high and "gen_random_uuid" not in high
    assert "**Awaiting triage**" in recommendations


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run installs it with apt-get")
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does)")
    return found


def test_the_demos_html_in_a_headless_browser(triaged_demo, tmp_path: Path) -> None:
    """Chromium renders the exported page: the DOM it builds has the summary, the charts, both passed
    items and advice naming the right objects, and no script; a screenshot is kept for a person."""
    chromium = _chromium()
    page_file = tmp_path / "review.html"
    export(triaged_demo, "html", page_file)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "demo-review.png"
    screenshot.unlink(missing_ok=True)
    common = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    done = subprocess.run([*common, "--dump-dom", page_file.as_uri()], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    dom = Page(done.stdout)
    assert_inert(dom)
    shown = " ".join(" ".join(dom.text).split())
    assert "Overall assessment: Pass with Warnings (not final: 95 of 97 checklist items without a verdict, 157 findings untriaged)" in shown
    assert [a["data-item"] for a in dom.tags("li") if a.get("class") == "passed"] == ["1.1", "9.1"]
    split = {a["data-kind"]: a["data-count"] for a in dom.tags("rect") if "split" in (a.get("class") or "")}
    assert split == {"confirmed": "3", "downgraded": "1", "dismissed": "1", "untriaged": "157"}
    assert len([a for a in dom.tags("rect") if a.get("class") == "bar"]) >= 10
    assert "ALTER TABLE appointments FORCE ROW LEVEL SECURITY;" in shown, "TEN002's advice names its own table"
    assert "ALTER TABLE documents FORCE ROW LEVEL SECURITY;" not in shown, "and not the rule's example"
    assert dom.tags("svg") and dom.tags("article")
    shot = subprocess.run(
        [*common, "--window-size=1280,2400", f"--screenshot={screenshot}", page_file.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert shot.returncode == 0 and screenshot.stat().st_size > 50_000, shot.stderr[-2000:]


def test_json_of_saved_reviews_matches_the_published_schema(triaged_demo, tmp_path: Path, rules) -> None:
    import jsonschema

    schema = json.loads((ROOT / "docs/report.schema.json").read_text())
    jsonschema.validate(json.loads(export(triaged_demo, "json", tmp_path / "review.json")), schema)
    jsonschema.validate(json.loads(render("json", load_checklist("database"), review())), schema)


def test_html_lists_the_items_the_scan_suggests_are_not_applicable(rules) -> None:
    snapshot = replace(review(), not_applicable={"10.2": "no table holds subscriptions", "9.1": "ignored: 9.1 has a verdict"})
    shown = "".join(Page(render("html", load_checklist("database"), snapshot)).text)
    assert "not applicable, as the scan suggests (no table holds subscriptions)" in shown
    assert "ignored: 9.1 has a verdict" not in shown, "the reviewer's verdict is what counts"

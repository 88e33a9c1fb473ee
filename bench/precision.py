"""Judging findings on real backends: what a judge reads, and the figures made from the verdicts.

    python bench/precision.py export NAME [--targets DIR] [--sample N] [--rules R,..] [--severity S,..]
                                          [--skip-judged] [--moved-since TRYOUT.json] -o FILE
    python bench/precision.py report [--current TRYOUT.json]   # docs/precision/*.jsonl -> docs/precision.md

`export` scans one target of bench/tryout.py and writes its findings for a judge who did not write the
rules: one JSON object a line with an id, the finding as a reviewer sees it (severity, message,
location, related locations, the evidence lines) and nothing of the rule's source. `--sample N` takes
N findings spread over the rules (every rule at least once, the rest in proportion); `--skip-judged`
leaves out findings that already have a verdict (same repository, rule, anchor, file, message and
severity: a finding whose message or severity changed is judged again); `--moved-since` (a
`bench/tryout.py --save` file) keeps only findings that file does not hold as they are now, so a judge
reads what a change moved; `--severity warning,critical` keeps those severities.

A judge answers one JSON object a line: {"id", "verdict": "right" | "debatable" | "wrong", "why"};
`merge` joins the answers to the exported findings and appends them to docs/precision/NAME.jsonl:

    python bench/precision.py merge NAME EXPORTED ANSWERS [--judge WHO]

`report` recomputes docs/precision.md from every recorded verdict: per repository and per rule, how
many were judged right, debatable and wrong, and the share right of those judged (criticals and
warnings apart from infos, as the precision issue asks). With `--current` (a `bench/tryout.py --save`
file of today's dbreview) the figures that count are those of the findings dbreview still reports as
they were judged; verdicts on findings it no longer reports, or reports in other words, are history.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JUDGED = ROOT / "docs" / "precision"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tryout import TARGETS  # noqa: E402


def _key(f: dict) -> tuple[str, str, str]:
    return (f["rule"], f["anchor"], f["location"].rsplit(":", 1)[0])


def _as_reported(f: dict) -> tuple:
    """A finding as a reviewer reads it: judged again when its words or its severity change."""
    return (*_key(f), f["message"], f["severity"])


def _recorded(name: str) -> list[dict]:
    path = JUDGED / f"{name}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def export(name: str, targets: Path, sample: int | None, rules: set[str] | None, severities: set[str] | None,
           skip_judged: bool, moved_since: Path | None, out: Path) -> None:
    from analyzers.engine import scan

    root = targets / name
    result = scan(root)
    commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    judged = {_as_reported(j) for j in _recorded(name)} if skip_judged else set()
    if moved_since is not None:
        judged |= {_as_reported(f) for f in json.loads(moved_since.read_text()).get(name, {}).get("findings", [])}
    rows = []
    for f in result.result.findings:
        row = {
            "rule": f.rule_id, "severity": f.severity.value, "message": f.message,
            "location": f"{f.location.path}:{f.location.start_line}", "anchor": f.anchor,
            "evidence": list(f.evidence),
            "related": [f"{r.location}" + (f" ({r.note})" if r.note else "") for r in f.related],
            "repo": name, "commit": commit,
        }
        if (rules and f.rule_id not in rules) or (severities and row["severity"] not in severities) \
                or _as_reported(row) in judged:
            continue
        rows.append(row)
    if sample is not None and len(rows) > sample:
        rows = _spread(rows, sample)
    with out.open("w") as fh:
        for i, row in enumerate(rows, 1):
            fh.write(json.dumps({"id": i, **row}) + "\n")
    print(f"{len(rows)} findings of {name} at {commit[:10]} written to {out}")


def _spread(rows: list[dict], n: int) -> list[dict]:
    """Every rule once, then the rest in proportion, picked at random (seeded: the same sample again)."""
    rng = random.Random(7)
    by_rule: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_rule[row["rule"]].append(row)
    chosen = [rng.choice(group) for group in by_rule.values()]
    rest = [r for r in rows if r not in chosen]
    rng.shuffle(rest)
    return chosen + rest[: max(0, n - len(chosen))]


def merge(name: str, exported: Path, answers: Path, judge: str) -> None:
    found = {json.loads(line)["id"]: json.loads(line) for line in exported.read_text().splitlines() if line.strip()}
    JUDGED.mkdir(parents=True, exist_ok=True)
    count = 0
    with (JUDGED / f"{name}.jsonl").open("a") as fh:
        for line in answers.read_text().splitlines():
            if not line.strip():
                continue
            answer = json.loads(line)
            f = found[answer["id"]]
            if answer["verdict"] not in ("right", "debatable", "wrong"):
                raise SystemExit(f"finding {answer['id']}: verdict must be right, debatable or wrong")
            record = {k: f[k] for k in ("repo", "commit", "rule", "severity", "location", "anchor", "message")}
            fh.write(json.dumps({**record, "verdict": answer["verdict"], "why": answer.get("why", ""),
                                 "judge": judge, "date": date.today().isoformat()}) + "\n")
            count += 1
    print(f"{count} verdicts recorded in {JUDGED / f'{name}.jsonl'}")


def report(current: Path | None = None) -> None:
    verdicts = [j for path in sorted(JUDGED.glob("*.jsonl")) for j in _recorded(path.stem)]
    latest: dict[tuple, dict] = {}
    for j in verdicts:  # a finding judged again counts once, as last judged; repeats of one anchor each count
        latest[(j["repo"], *_as_reported(j))] = j
    judged = list(latest.values())
    history: list[dict] = []
    unjudged: Counter = Counter()
    if current is not None:
        reported = json.loads(current.read_text())
        today = {(repo, *_as_reported(f))
                 for repo, r in reported.items() for f in r.get("findings", [])}
        still = [j for j in judged if (j["repo"], *_as_reported(j)) in today]
        standing = {(j["repo"], *_key(j)) for j in still}  # history: the last verdict on what is no longer reported
        history = list({(j["repo"], *_key(j)): j for j in judged if j not in still and (j["repo"], *_key(j)) not in standing}.values())
        seen = {(j["repo"], *_as_reported(j)) for j in still}
        unjudged = Counter(t[0] for t in today - seen if t[0] in {j["repo"] for j in judged})
        judged = still
    lines = [
        "# Precision on real backends",
        "",
        "Every verdict on a finding of dbreview on a real backend, by a reader who did not write the rule: a",
        "fresh helper given the repository and the finding as a reviewer sees it (message, location, evidence),",
        "never the rule's source. \"Right\" means a senior reviewer would keep the finding as written;",
        "\"debatable\" that the code can be read either way or the answer needs the deployment; \"wrong\" that",
        "it is false. The verdicts, one a line, are in docs/precision/<repository>.jsonl (with the judge's",
        "reason); `python bench/precision.py report` rewrites this page from them.",
        "",
        "Share right = right / judged. Targets: every critical right; at least 90% of criticals and warnings",
        "right; at least 80% of infos right; no rule wrong more than twice on one repository.",
        "",
    ]
    if current is not None:
        lines += [
            f"The tables count the findings dbreview still reports as they were judged ({current.name}); "
            f"{len(history)} verdicts on findings it no longer reports or now words otherwise are listed at the end "
            "as history. \"not judged\" counts today's findings on a judged repository that no reader has judged "
            "yet (the samples are samples).",
            "",
        ]
    lines += [
        "## Per repository",
        "",
        "| repository | commit | judged | right | debatable | wrong | crit+warn right | info right | not judged |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    by_repo: dict[str, list[dict]] = defaultdict(list)
    for j in judged:
        by_repo[j["repo"]].append(j)
    for repo in sorted(by_repo, key=lambda r: list(TARGETS).index(r) if r in TARGETS else 99):
        rows = by_repo[repo]
        c = Counter(j["verdict"] for j in rows)
        lines.append(f"| {repo} | {rows[-1]['commit'][:8]} | {len(rows)} | {c['right']} | {c['debatable']} | {c['wrong']} "
                     f"| {_share([j for j in rows if j['severity'] != 'info'])} | {_share([j for j in rows if j['severity'] == 'info'])} "
                     f"| {unjudged[repo] if current is not None else '-'} |")
    c = Counter(j["verdict"] for j in judged)
    lines.append(f"| **all** | | {len(judged)} | {c['right']} | {c['debatable']} | {c['wrong']} "
                 f"| {_share([j for j in judged if j['severity'] != 'info'])} | {_share([j for j in judged if j['severity'] == 'info'])} "
                 f"| {sum(unjudged.values()) if current is not None else '-'} |")
    crit = [j for j in judged if j["severity"] == "critical"]
    lines += ["", f"Criticals judged: {len(crit)}, right: {sum(j['verdict'] == 'right' for j in crit)}.", "",
              "## Per rule", "", "| rule | judged | right | debatable | wrong | share right | most wrong on one repository |",
              "|---|---|---|---|---|---|---|"]
    by_rule: dict[str, list[dict]] = defaultdict(list)
    for j in judged:
        by_rule[j["rule"]].append(j)
    for rule in sorted(by_rule):
        rows = by_rule[rule]
        c = Counter(j["verdict"] for j in rows)
        worst = Counter(j["repo"] for j in rows if j["verdict"] == "wrong").most_common(1)
        lines.append(f"| {rule} | {len(rows)} | {c['right']} | {c['debatable']} | {c['wrong']} | {_share(rows)} "
                     f"| {f'{worst[0][1]} ({worst[0][0]})' if worst else '0'} |")
    lines += ["", "## Wrong and debatable, with the judge's reason", ""]
    for j in sorted(judged, key=lambda j: (j["repo"], j["rule"], j["location"])):
        if j["verdict"] != "right":
            lines.append(f"- {j['verdict']}: {j['repo']} {j['rule']} {j['severity']} `{j['location']}`: {j['why']}")
    if history:
        c = Counter(j["verdict"] for j in history)
        lines += ["", "## History: judged, no longer reported as judged", "",
                  f"{len(history)} verdicts ({c['right']} right, {c['debatable']} debatable, {c['wrong']} wrong) on findings "
                  "that a later change removed or reworded; the rules changed because of the wrong ones.", ""]
        for j in sorted(history, key=lambda j: (j["repo"], j["rule"], j["location"])):
            lines.append(f"- {j['verdict']}: {j['repo']} {j['rule']} {j['severity']} `{j['location']}`: {j['why']}")
    (ROOT / "docs" / "precision.md").write_text("\n".join(lines) + "\n")
    print(f"docs/precision.md: {len(judged)} verdicts")


def _share(rows: list[dict]) -> str:
    return f"{100 * sum(j['verdict'] == 'right' for j in rows) / len(rows):.0f}% of {len(rows)}" if rows else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    e = sub.add_parser("export")
    e.add_argument("name", choices=list(TARGETS))
    e.add_argument("--targets", type=Path, default=Path("/work/targets"))
    e.add_argument("--sample", type=int)
    e.add_argument("--rules", type=lambda s: set(s.split(",")))
    e.add_argument("--severity", type=lambda s: set(s.split(",")))
    e.add_argument("--skip-judged", action="store_true")
    e.add_argument("--moved-since", type=Path)
    e.add_argument("-o", type=Path, required=True)
    m = sub.add_parser("merge")
    m.add_argument("name")
    m.add_argument("exported", type=Path)
    m.add_argument("answers", type=Path)
    m.add_argument("--judge", default="a fresh reader")
    r = sub.add_parser("report")
    r.add_argument("--current", type=Path, help="a bench/tryout.py --save file of today's findings")
    args = parser.parse_args()
    if args.command == "export":
        export(args.name, args.targets, args.sample, args.rules, args.severity, args.skip_judged, args.moved_since, args.o)
    elif args.command == "merge":
        merge(args.name, args.exported, args.answers, args.judge)
    else:
        report(args.current)


if __name__ == "__main__":
    main()

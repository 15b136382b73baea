"""`--format junit|sarif|json` of check and replay, and `migcheck diff`."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.conftest import ROOT
from tests.test_doc import cli

SPEC = """\
int[0..2] x = 0;
thread t() {
    x = x + 1;
}
thread u() {
    int[0..2] v = x;
    x = v + 1;
}
final two: x == 2;
scenario atomic_incs { run t(); run t(); }
scenario lost_update { run t(); run u(); expect final two; }
scenario wrong { run t(); run u(); }
"""


def _spec(tmp_path: Path, text: str = SPEC, name: str = "s.mig") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_junit_report_of_check(tmp_path):
    spec = _spec(tmp_path)
    r = cli("check", str(spec), "--no-save", "--format", "junit")
    assert r.returncode == 1
    root = ET.fromstring(r.stdout)
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "1", "0")
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert set(cases) == {"atomic_incs", "lost_update", "wrong"}
    fail = cases["wrong"].find("failure")
    assert fail is not None and fail.get("type") == "unmet"
    assert fail.get("message") == "expected verified, found final 'two'"
    assert "counterexample: final 'two'" in (fail.text or "")
    assert cases["lost_update"].find("failure") is None


def test_sarif_points_at_the_violating_steps(tmp_path):
    spec = _spec(tmp_path)
    r = cli("check", str(spec), "--no-save", "--format", "sarif", "-s", "wrong")
    assert r.returncode == 1
    log = json.loads(r.stdout)
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    (res,) = run["results"]
    assert res["ruleId"] == "final" and res["level"] == "error"
    # Shortest run: u reads x (line 6), t increments (line 3), u stores (line 7).
    region = res["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == 7
    flows = res["codeFlows"][0]["threadFlows"]
    order = sorted((loc["executionOrder"], f["id"], loc["location"]["physicalLocation"]
                    ["region"]["startLine"]) for f in flows for loc in f["locations"])
    assert order == [(1, "T2", 6), (2, "T1", 3), (3, "T2", 7)]
    assert run["tool"]["driver"]["rules"][0]["id"] == "final"


def test_replay_formats(tmp_path):
    spec = _spec(tmp_path)
    r = cli("check", str(spec), "-s", "lost_update", "--save-trace", str(tmp_path / "t.json"))
    assert r.returncode == 0, r.stdout + r.stderr
    trace = str(tmp_path / "t.json")
    j = cli("replay", trace, "--format", "json")
    assert j.returncode == 0 and json.loads(j.stdout)["reproduced"] is True
    x = cli("replay", trace, "--format", "junit")
    assert ET.fromstring(x.stdout).get("failures") == "0"
    s = cli("replay", trace, "--format", "sarif", "--html", str(tmp_path / "r.html"))
    assert json.loads(s.stdout)["runs"][0]["results"][0]["properties"]["reproduced"] is True
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
    # The spec is fixed: the saved run no longer reproduces.
    spec.write_text(SPEC.replace("int[0..2] v = x;\n    x = v + 1;", "x = x + 1;"))
    x = cli("replay", trace, "--format", "junit")
    assert x.returncode == 1 and ET.fromstring(x.stdout).get("failures") == "1"


def test_diff_of_two_files_reports_a_regression_with_its_counterexample(tmp_path):
    old = _spec(tmp_path)
    new = _spec(tmp_path, SPEC.replace("thread t() {\n    x = x + 1;",
                                       "thread t() {\n    int[0..2] w = x;\n    x = w + 1;"),
                "new.mig")
    r = cli("diff", str(old), str(new))
    assert r.returncode == 1, r.stdout + r.stderr
    # Old: each t is one atomic step: 2 x 2 pcs = 4 states. New: load then
    # store: 12 (5 with no store yet, 5 with one, 2 with both: x = 2 or 1).
    assert "!! atomic_incs: states 4 -> 12; verified/met -> violation/unmet" in r.stdout
    assert "REGRESSION: final 'two' held and now fails" in r.stdout
    assert "counterexample of the regression in atomic_incs:" in r.stdout
    assert r.stdout.rstrip().endswith("1 regression")
    same = cli("diff", str(old), str(old), "--format", "json")
    assert same.returncode == 0 and json.loads(same.stdout)["regressions"] == 0
    junit = cli("diff", str(old), str(new), "--format", "junit")
    assert ET.fromstring(junit.stdout).get("failures") == "1"
    sarif = json.loads(cli("diff", str(old), str(new), "--format", "sarif").stdout)
    (res,) = sarif["runs"][0]["results"]
    assert res["ruleId"] == "verdict-change"


LOCKS = """\
import "spinlock";
spinlock_t a;
spinlock_t b;
int[0..1] done = 0;
thread ab() { spin_lock(&a); spin_lock(&b); spin_unlock(&b); spin_unlock(&a); done = 1; }
thread other() { await done == 1; spin_lock(&a); spin_lock(&b); spin_unlock(&b); spin_unlock(&a); }
scenario s { run ab(); run other(); }
"""


def test_diff_at_git_revisions_finds_a_new_lock_order_cycle(tmp_path):
    repo = tmp_path / "repo"
    (repo / "models").mkdir(parents=True)
    for m in ("spinlock.mig", "preempt.mig"):
        (repo / "models" / m).write_text((ROOT / "models" / m).read_text())
    spec = repo / "specs" / "x.mig"
    spec.parent.mkdir()
    spec.write_text(LOCKS)

    def git(*a: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *a], cwd=repo,
                       check=True, capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "one")
    spec.write_text(LOCKS.replace("thread other() { await done == 1; spin_lock(&a); "
                                  "spin_lock(&b); spin_unlock(&b); spin_unlock(&a); }",
                                  "thread other() { await done == 1; spin_lock(&b); "
                                  "spin_lock(&a); spin_unlock(&a); spin_unlock(&b); }"))
    r = cli("diff", "HEAD:specs/x.mig", cwd=repo)
    assert r.returncode == 1, r.stdout + r.stderr
    assert " + b -> a  (other, line 6: thread other()" in r.stdout
    assert "!! new cycle (potential deadlock): a -> b -> a" in r.stdout
    assert "HEAD:specs/x.mig" in r.stdout and "migcheck-diff-" not in r.stdout
    assert r.stdout.rstrip().endswith("1 regression")

"""The command line: exit statuses, error format, options, saved traces."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

MIGCHECK = [sys.executable, "-m", "checker"]


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MIGCHECK, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


BUGGY = """\
int[0..1] x = 0;
thread t() { x = 1; assert(x == 0, "x stays zero"); }
scenario bad { run t(); }
scenario expected_bad { run t(); expect assert "x stays zero"; }
"""


def test_unexpected_violation_exits_1_and_prints_the_trace(tmp_path):
    spec = tmp_path / "s.mig"
    spec.write_text(BUGGY)
    r = cli("check", str(spec), "-s", "bad", "--trace-dir", str(tmp_path / "cx"))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "UNEXPECTED (expected verified)" in r.stdout
    assert "counterexample: assert 'x stays zero'" in r.stdout
    saved = tmp_path / "cx" / tmp_path.name / "s.bad.json"
    assert saved.is_file() and saved.with_suffix(".txt").is_file()
    data = json.loads(saved.read_text())
    assert data["format"] == "migcheck-trace/1" and data["kind"] == "assert"


def test_expected_violation_exits_0(tmp_path):
    spec = tmp_path / "s.mig"
    spec.write_text(BUGGY)
    r = cli("check", str(spec), "-s", "expected_bad", "--no-save")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "as expected" in r.stdout


def test_spec_error_exits_2_with_location_and_caret(tmp_path):
    spec = tmp_path / "s.mig"
    spec.write_text("thread t() { x = 1; }\nscenario s { run t(); }\n")
    r = cli("check", str(spec))
    assert r.returncode == 2
    assert f"{spec}:1:14: error: unknown name 'x'" in r.stderr
    assert "^" in r.stderr and "Traceback" not in r.stderr


def test_usage_error_exits_2():
    r = cli("check")
    assert r.returncode == 2 and "usage:" in r.stderr


def test_missing_file_exits_2(tmp_path):
    r = cli("check", str(tmp_path / "nope.mig"))
    assert r.returncode == 2 and "no such spec file" in r.stderr


def test_limit_makes_the_result_incomplete_not_verified(tmp_path):
    spec = tmp_path / "s.mig"
    spec.write_text("""\
int[0..3] x = 0;
int[0..3] y = 0;
thread a() { x = 1; x = 2; x = 3; }
thread b() { y = 1; y = 2; y = 3; }
scenario s { run a(); run b(); }
""")
    r = cli("check", str(spec), "--max-states", "3", "--no-save")
    assert r.returncode == 3, r.stdout
    assert "INCOMPLETE (stopped by --max-states 3): not verified" in r.stdout
    assert "verified: as expected" not in r.stdout
    assert "    3 states," in r.stdout  # the cap, not one more
    for search in ("--search=bfs", "--dfs"):  # 16 states in all: 16 is enough, 15 is not
        assert cli("check", str(spec), "--max-states", "16", search, "--no-save").returncode == 0
        r = cli("check", str(spec), "--max-states", "15", search, "--no-save")
        assert r.returncode == 3 and "    15 states," in r.stdout, r.stdout


def test_memory_limit_makes_the_result_incomplete(tmp_path):
    spec = tmp_path / "s.mig"
    spec.write_text("int[0..1] x = 0;\nthread t() { x = 1; }\nscenario s { run t(); }\n")
    r = cli("check", str(spec), "--max-memory", "1", "--no-save")
    assert r.returncode == 3, r.stdout
    # The limit holds from the start: it stops the run before the spec is built.
    assert "incomplete: stopped by --max-memory 1, before loading" in r.stderr


def test_define_overrides_an_option(tmp_path):
    spec = tmp_path / "s.mig"
    spec.write_text("""\
option good = true;
int[0..1] x = 0;
thread t() { if (!good) x = 1; }
final zero: x == 0;
scenario s { run t(); }
""")
    assert cli("check", str(spec), "--no-save").returncode == 0
    r = cli("check", str(spec), "-D", "good=false", "--no-save")
    assert r.returncode == 1 and "final 'zero' found" in r.stdout


def test_unknown_scenario_is_an_error(tmp_path):
    spec = tmp_path / "s.mig"
    spec.write_text(BUGGY)
    r = cli("check", str(spec), "-s", "nope")
    assert r.returncode == 2 and "no scenario nope (scenarios: bad, expected_bad)" in r.stderr


def test_json_format(tmp_path):
    spec = tmp_path / "s.mig"
    spec.write_text(BUGGY)
    r = cli("check", str(spec), "--format", "json", "--no-save")
    data = json.loads(r.stdout)
    assert [d["status"] for d in data] == ["unmet", "met"]
    assert data[0]["trace"]["steps"][-1]["fault"]


def test_replay_reproduces_and_detects_a_fix(tmp_path):
    spec = tmp_path / "s.mig"
    spec.write_text(BUGGY)
    trace = tmp_path / "t.json"
    cli("check", str(spec), "-s", "bad", "--save-trace", str(trace))
    r = cli("replay", str(trace), "--quiet")
    assert r.returncode == 0 and "reproduces" in r.stdout
    spec.write_text(BUGGY.replace("x = 1;", "x = 0;"))
    r = cli("replay", str(trace), "--quiet")
    assert r.returncode == 1
    assert "does not reproduce: step 1" in r.stdout
    assert "note: the spec changed since this trace was saved" in r.stdout


def test_replay_of_a_bad_file_exits_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    r = cli("replay", str(bad))
    assert r.returncode == 2 and "not a migcheck-trace/1 file" in r.stderr


def test_list_shows_scenarios_and_options():
    r = cli("list", "specs/zsmalloc/map_vs_migrate.mig")
    assert r.returncode == 0
    assert "options: trypin=true" in r.stdout
    assert "scenario map_vs_migrate_notrypin [trypin=false]" in r.stdout


def test_default_spec_meets_every_expectation():
    """What `make run` runs."""
    r = cli("check", "specs/zsmalloc/map_vs_migrate.mig", "--no-save")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("as expected") == 3


def test_names_with_brackets_are_printed_verbatim(tmp_path):
    spec = tmp_path / "s.mig"
    spec.write_text('int[0..1] x = 0;\nthread t() { x = 1; assert(x == 0, "[fullness] stays"); }\n'
                    "scenario bad { run t(); }\n")
    r = cli("check", str(spec), "--no-save", "-q")
    assert "assert '[fullness] stays' found" in r.stdout

"""The pytest plugin: `pytest specs/` runs each scenario as a test item."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.test_reports import SPEC

WITH_SLOW = SPEC + "scenario big { tag slow; run t(); run t(); }\n"


def pytest_run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=300)


def test_each_scenario_is_an_item_and_an_unmet_expect_fails(tmp_path):
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "s.mig").write_text(WITH_SLOW)
    (tmp_path / "specs" / "lib.mig").write_text("int[0..1] y = 0;\n")  # no scenario
    r = pytest_run(tmp_path, "specs", "-v")
    out = r.stdout
    assert r.returncode == 1, out + r.stderr
    for name, verdict in (("atomic_incs", "PASSED"), ("lost_update", "PASSED"),
                          ("wrong", "FAILED"), ("big", "PASSED")):
        assert f"specs/s.mig::{name} {verdict}" in out
    assert "scenario wrong: expected verified, got violation: final 'two'" in out
    assert "counterexample: final 'two'" in out
    assert "1 failed, 3 passed" in out
    # Scenario tags are markers.
    r = pytest_run(tmp_path, "specs", "-m", "not slow")
    assert "1 failed, 2 passed, 1 deselected" in r.stdout


def test_a_bare_run_of_testpaths_collects_no_spec(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\ntestpaths = specs\n")
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "s.mig").write_text(SPEC)
    r = pytest_run(tmp_path)
    assert r.returncode == 5, r.stdout  # no tests: the project's own tests check its specs
    r = pytest_run(tmp_path, "--migcheck")
    assert "1 failed, 2 passed" in r.stdout


def test_a_spec_error_is_reported_with_its_location(tmp_path):
    (tmp_path / "bad.mig").write_text("thread t() { y = 1; }\nscenario s { run t(); }\n")
    r = pytest_run(tmp_path, "bad.mig")
    assert r.returncode == 1
    assert "bad.mig:1:14: error: unknown name 'y'" in r.stdout
    assert "Traceback" not in r.stdout

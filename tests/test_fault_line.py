"""A fault is drawn at the statement that raised it.

A fused step (checker/ir/fuse.py: local statements and atomic blocks run in
one step) that faults in a later statement than the one it exists for shows
that statement's line in every output: the text trace, the JSON trace, SARIF,
the JUnit message and the HTML viewer's data."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from checker.dsl.loader import load_program
from checker.explore.run import check
from checker.ir.build import build_all
from checker.trace.jsonio import load as load_trace
from checker.trace.model import build_trace
from checker.trace.replay import replay_on
from tests.conftest import ROOT

# The step starts at the read of g (line 3); the assert on line 5 faults.
FUSED = """\
int[0..3] g = 1;
thread t() {
    int[0..3] l = g;
    l = l + 1;
    assert(l < 2, "small");
}
scenario s { run t(); }
"""

# might_sleep()'s assert runs with the store to g, the step's shared part
# (preempt_count is the thread's own): the spec's mutex_lock() call line is
# the one to show, the line a reader follows (checker/ir/display.py).
SLEEPING = """\
import "spinlock";
import "mutex";
spinlock_t lock;
struct mutex m;
int[0..3] g = 0;
thread t() {
    spin_lock(&lock);
    g = 1;
    mutex_lock(&m);
    mutex_unlock(&m);
    spin_unlock(&lock);
}
scenario s { run t(); expect assert "sleeping in atomic context"; }
"""


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "checker", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "spec.mig"
    p.write_text(text)
    return p


def _last_step(spec: Path) -> tuple[int, str, str]:
    ts = build_all(load_program(spec, [ROOT / "models"]))[0]
    r = check(ts)
    assert r.violation is not None and r.violation.fault_action is not None
    trace = build_trace(r.compiled, r.violation)
    assert replay_on(trace, ts).reproduced
    last = trace.steps[-1]
    return last.line, last.text, last.inner


def test_a_fused_step_is_drawn_at_its_faulting_statement(tmp_path: Path) -> None:
    line, text, _ = _last_step(_write(tmp_path, FUSED))
    assert (line, text) == (5, 'assert(l < 2, "small");')


def test_sleeping_in_atomic_context_is_drawn_at_the_mutex_lock_call(tmp_path: Path) -> None:
    line, text, inner = _last_step(_write(tmp_path, SLEEPING))
    assert (line, text) == (9, "mutex_lock(&m);")
    assert inner.startswith("might_sleep: assert(preempt_count == 0")


def test_a_fault_in_a_called_procedure_after_its_first_statement(
        tmp_path: Path) -> None:
    """The step exists for the callee's shared store; the range fault is in
    a later local statement of the callee, which is in the spec: drawn
    there, as display.py draws every statement of the spec's own code."""
    spec = _write(tmp_path, """\
int[0..3] g = 0;
int[0..3] bump(int[0..3] x) {
    g = x;
    int[0..3] y = x + 3;
    return y;
}
thread t() {
    int[0..3] r = 0;
    r = bump(1);
}
scenario s { run t(); }
""")
    line, text, _ = _last_step(spec)
    assert (line, text) == (4, "int[0..3] y = x + 3;")


def test_every_output_shows_the_faulting_line(tmp_path: Path) -> None:
    spec = _write(tmp_path, FUSED)
    out = tmp_path / "cx"
    r = _cli("check", str(spec), "--trace-dir", str(out))
    assert r.returncode == 1, r.stdout + r.stderr
    # text
    assert re.search(r"^\s+1\s+5  assert\(l < 2, \"small\"\);$", r.stdout, re.M), r.stdout
    # JSON (saved, and loaded back)
    saved = next(out.rglob("*.json"))
    data = json.loads(saved.read_text())
    assert data["steps"][-1]["line"] == 5
    assert load_trace(saved).steps[-1].line == 5
    # SARIF: the result's region and the last location of the thread flow
    s = _cli("check", str(spec), "--no-save", "--format", "sarif")
    res = json.loads(s.stdout)["runs"][0]["results"][0]
    assert res["locations"][0]["physicalLocation"]["region"]["startLine"] == 5
    flow = res["codeFlows"][0]["threadFlows"][0]["locations"]
    assert flow[-1]["location"]["physicalLocation"]["region"]["startLine"] == 5
    # JUnit: the failure message names the line
    j = _cli("check", str(spec), "--no-save", "--format", "junit")
    failure = next(ET.fromstring(j.stdout).iter("failure"))
    assert (failure.get("message") or "").endswith(f"at {spec}:5")
    # HTML viewer: the embedded data
    page = tmp_path / "cx.html"
    h = _cli("check", str(spec), "--no-save", "--html", str(page), "--quiet")
    assert h.returncode == 1, h.stdout + h.stderr
    m = re.search(r'<script type="application/json" id="migcheck-data">(.*?)</script>',
                  page.read_text(), re.S)
    assert m is not None
    steps = json.loads(m.group(1))["traces"][0]["steps"]
    assert steps[-1]["line"] == 5 and steps[-1]["fault"]


def test_bmc_draws_the_same_line(tmp_path: Path) -> None:
    spec = _write(tmp_path, SLEEPING)
    r = _cli("check", str(spec), "--no-save", "--engine", "bmc", "--format", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    last = json.loads(r.stdout)[0]["trace"]["steps"][-1]
    assert (last["line"], last["text"]) == (9, "mutex_lock(&m);")


def test_an_old_trace_still_loads(tmp_path: Path, spec_file: Callable[[str], Path]) -> None:
    """No new field: a trace saved before keeps loading and replaying."""
    spec = _write(tmp_path, FUSED)
    out = tmp_path / "cx"
    _cli("check", str(spec), "--trace-dir", str(out))
    saved = next(out.rglob("*.json"))
    data = json.loads(saved.read_text())
    data["steps"][-1]["line"] = 3  # where an older migcheck drew it
    saved.write_text(json.dumps(data))
    r = _cli("replay", str(saved))
    assert r.returncode == 0, r.stdout + r.stderr

"""The VM's depth-first search (checker/vm/dfs.py) against the Python
engine's (checker/explore/dfs.py): the same figures as `test_vm` compares
for the breadth-first one, and the same counterexample, state by state (a
depth-first trace is the search path, so equal traces mean the two visited
in the same order), on every spec scenario (capped: a cut-short search must
agree too), random programs, and through the command line.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings

from checker.explore.options import CheckOptions
from checker.explore.result import CheckResult
from checker.explore.run import check
from checker.ir.nodes import TransitionSystem
from checker.vm.dfs import vm_dfs
from tests.conftest import ROOT
from tests.heap_programs import arith_programs, heap_programs
from tests.programs import programs
from tests.test_vm import (
    BEYOND_62_BITS,
    SEARCH_CAP,
    SETTINGS,
    SPECS,
    SPINNING,
    WAITER,
    _build,
    _figures,
    _scenarios,
)

FEW = settings(SETTINGS, max_examples=20)


def _paths(r: CheckResult) -> list[tuple[list[int], list[int]]]:
    return [(v.path, v.cycle) for v in ([r.violation] if r.violation else []) + r.others]


def same_dfs(ts: TransitionSystem, opts: CheckOptions) -> CheckResult:
    opts = opts.strategy("dfs")
    want = check(ts, opts)
    got = check(ts, opts, engine=vm_dfs)
    assert _figures(got) == _figures(want), ts.scenario
    assert _paths(got) == _paths(want), ts.scenario
    return got


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_vm_dfs_agrees_on_every_spec_scenario(spec: Path) -> None:
    for ts in _scenarios(spec):
        same_dfs(ts, CheckOptions().max_states(SEARCH_CAP))


@FEW
@given(programs())
def test_vm_dfs_agrees_on_random_programs(tmp_path: Path, text: str) -> None:
    same_dfs(_build(tmp_path, text), CheckOptions())


@FEW
@given(heap_programs())
def test_vm_dfs_agrees_on_heap_programs(tmp_path: Path, text: str) -> None:
    same_dfs(_build(tmp_path, text), CheckOptions())


@FEW
@given(arith_programs())
def test_vm_dfs_agrees_on_range_fault_programs(tmp_path: Path, text: str) -> None:
    same_dfs(_build(tmp_path, text), CheckOptions())


DEEP = """\
int[0..3000] x = 0;
int[0..1] y = 0;
thread counter() { while (x < 3000) { x = x + 1; } }
thread other() { y = 1; }
scenario s { run counter(); run other(); }
"""


def test_vm_dfs_grows_its_stack_and_finds_the_same_livelock(tmp_path: Path) -> None:
    # Deep enough for the kernel's frames and successor buffer to be regrown.
    r = same_dfs(_build(tmp_path, DEEP), CheckOptions())
    assert r.verdict == "verified" and r.stats.depth > 3000
    spinning = same_dfs(_build(tmp_path, SPINNING), CheckOptions())
    assert spinning.violation is not None and spinning.violation.cycle
    assert same_dfs(_build(tmp_path, WAITER), CheckOptions()).verdict == "verified"


ESCAPES = """\
int[0..7] x = 0;
int[0..3] y = 0;
thread t() { y = 1; x = (y + 2) * 1180591620717411303424 / 1180591620717411303424; }
thread u() { y = 2; }
scenario s { run t(); run u(); }
"""


def test_vm_dfs_hands_escapes_and_faults_to_the_python_engine(tmp_path: Path) -> None:
    # An escape that the Python engine expands without a fault (a frame
    # whose steps are recorded), and one that faults (a range violation).
    assert same_dfs(_build(tmp_path, ESCAPES), CheckOptions()).verdict == "verified"
    r = same_dfs(_build(tmp_path, BEYOND_62_BITS), CheckOptions())
    assert r.violation is not None


def test_vm_dfs_limits_never_yield_verified() -> None:
    ts = _scenarios(ROOT / "specs" / "zsmalloc" / "isolation_wide.mig")[5]
    assert ts.expect.kind == "verified"
    for opts in (CheckOptions().max_memory(1), CheckOptions().max_seconds(1e-9),
                 CheckOptions().max_states(100)):
        r = check(ts, opts.strategy("dfs"), engine=vm_dfs)
        assert r.verdict == "incomplete" and r.limit is not None


def test_cli_engine_vm_dfs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from checker.cli import main

    spec = ROOT / "specs" / "shapes" / "lost_wakeup.mig"
    codes = []
    outputs = []
    for engine in ("explicit", "vm"):
        codes.append(main(["check", str(spec), "--engine", engine, "--dfs", "-q",
                           "--save-all", "--trace-dir", str(tmp_path / engine)]))
        text = capsys.readouterr().out
        outputs.append([line.split(", ")[:3] for line in text.splitlines() if "states," in line])
        traces = sorted((tmp_path / engine).rglob("*.json"))
        assert traces
    assert codes[0] == codes[1]
    assert outputs[0] == outputs[1] and outputs[0]
    saved = [sorted(p.read_text() for p in (tmp_path / e).rglob("*.txt"))
             for e in ("explicit", "vm")]
    assert saved[0] == saved[1]

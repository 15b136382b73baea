"""The default search (checker/vm/tiered.py): the Python engine hands its
search to the VM at a level boundary. The result must be the one search:
the same figures, violation path and notes as the Python engine alone, for
every hand-over point, including the first boundary (after=1), one in the
middle of a violation's level, and one the search never reaches.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from checker.explore.options import CheckOptions
from checker.explore.result import CheckResult
from checker.explore.run import check
from checker.ir.nodes import TransitionSystem
from checker.vm import search as vm_search
from checker.vm.tiered import tiered_bfs
from tests.conftest import ROOT
from tests.heap_programs import heap_programs
from tests.programs import programs
from tests.test_vm import SEARCH_CAP, SPECS, SPINNING, WIDE, _build, _figures, _scenarios

AFTER = (1, 97)
# Fewer examples than test_vm's: the VM's own search is tested there, the
# hand-over here (it adds no arithmetic of its own).
SETTINGS = settings(max_examples=15, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


def _with_path(r: CheckResult) -> dict[str, object]:
    got = _figures(r)
    v = r.violation
    got["path"] = None if v is None else (tuple(v.path), tuple(v.cycle))
    return got


def same_as_python(ts: TransitionSystem, opts: CheckOptions, after: tuple[int, ...] = AFTER
                   ) -> None:
    want = _with_path(check(ts, opts))
    for n in after:
        assert _with_path(check(ts, opts, engine=tiered_bfs(n))) == want, (ts.scenario, n)


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_hand_over_agrees_on_every_spec_scenario(spec: Path) -> None:
    for ts in _scenarios(spec):
        same_as_python(ts, CheckOptions().max_states(SEARCH_CAP))


@SETTINGS
@given(programs())
def test_hand_over_agrees_on_random_programs(tmp_path: Path, text: str) -> None:
    same_as_python(_build(tmp_path, text), CheckOptions())


@SETTINGS
@given(heap_programs())
def test_hand_over_agrees_on_heap_programs(tmp_path: Path, text: str) -> None:
    same_as_python(_build(tmp_path, text), CheckOptions())


# An invariant broken at depth 1 by a state that has successors: the
# Python engine does not expand it, nor may the VM after the hand-over
# (its `flags`), or the figures differ and `bad` is reported twice.
BROKEN_WITH_SUCCESSORS = """\
int[0..3] x = 0;
int[0..3] y = 0;
invariant small: x != 1;
thread a() { x = 1; x = 2; x = 3; }
thread b() { y = 1; y = 2; }
scenario s { run a(); run b(); expect invariant small; }
"""


def test_states_that_broke_an_invariant_stay_unexpanded(tmp_path: Path) -> None:
    ts = _build(tmp_path, BROKEN_WITH_SUCCESSORS.replace("expect invariant small;", ""))
    r = check(ts, CheckOptions(), engine=tiered_bfs(1))
    assert r.violation is not None and r.violation.name == "small"
    assert r.violation.steps == 1
    # Expected elsewhere (a deadlock, which never comes): the search goes on,
    # and the states with x == 1 are stored but never expanded.
    ts = _build(tmp_path, BROKEN_WITH_SUCCESSORS.replace("expect invariant small;",
                                                          "expect deadlock;"))
    same_as_python(ts, CheckOptions())
    r = check(ts, CheckOptions(), engine=tiered_bfs(1))
    # b alone: y = 0, 1, 2 with x == 0 (3 states); from each, a's x = 1 (3
    # states, not expanded). Steps: 2 + 2 + 1. The deepest expanded state is
    # y == 2 (depth 2); the level of x == 1 states after it has none to expand.
    assert (r.stats.states, r.stats.transitions, r.stats.depth) == (6, 5, 2)
    assert r.violation is not None and r.violation.name == "small" and r.others == []


def test_the_hand_over_happens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = vm_search.vm_resume

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(vm_search, "vm_resume", counting)
    ts = _scenarios(ROOT / "specs" / "zsmalloc" / "map_vs_migrate.mig")[0]
    r = check(ts, CheckOptions(), engine=tiered_bfs(1))
    assert calls == [1] and r.verdict == "verified"
    calls.clear()
    check(ts, CheckOptions(), engine=tiered_bfs(10**9))
    assert calls == []


def test_the_livelock_graph_crosses_the_hand_over(tmp_path: Path) -> None:
    ts = _build(tmp_path, SPINNING)
    same_as_python(ts, CheckOptions())
    r = check(ts, CheckOptions(), engine=tiered_bfs(1))
    assert r.violation is not None and r.violation.cycle


def test_a_scenario_the_vm_cannot_run_stays_in_python(tmp_path: Path) -> None:
    same_as_python(_build(tmp_path, WIDE), CheckOptions())


def test_limits_after_the_hand_over_never_yield_verified() -> None:
    ts = _scenarios(ROOT / "specs" / "zsmalloc" / "isolation_wide.mig")[5]
    assert ts.expect is not None and ts.expect.kind == "verified"
    for opts in (CheckOptions().max_states(500), CheckOptions().max_seconds(1e-9)):
        r = check(ts, opts, engine=tiered_bfs(1))
        assert r.verdict == "incomplete" and r.limit is not None


def test_cli_engines_explicit_python_vm_agree(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from checker.cli import main

    spec = ROOT / "specs" / "zsmalloc" / "map_vs_migrate.mig"
    lines = []
    for engine in ("explicit", "python", "vm"):
        assert main(["check", str(spec), "--engine", engine, "-q", "--no-save"]) == 0
        text = capsys.readouterr().out
        lines.append([line.split(", ")[:3] for line in text.splitlines() if "states," in line])
    assert lines[0] == lines[1] == lines[2] and len(lines[0]) == 3


# ---------------------------------------------------------------- the JIT tier

JIT_SPECS = ["shapes/lost_wakeup.mig", "zsmalloc/map_vs_migrate.mig", "migrate/isolate_putback.mig"]


@pytest.mark.parametrize("spec", JIT_SPECS)
def test_the_swap_to_the_jit_agrees(spec: str) -> None:
    """Python, then the VM at the first boundary, then the JIT at its first
    return: the same search as the Python engine alone."""
    for ts in _scenarios(ROOT / "specs" / spec):
        want = _with_path(check(ts, CheckOptions().max_states(SEARCH_CAP)))
        got = _with_path(check(ts, CheckOptions().max_states(SEARCH_CAP),
                               engine=tiered_bfs(1, 1)))
        assert got == want, ts.scenario


def test_the_swap_happens_and_a_failing_jit_leaves_the_interpreter(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from checker.vm import llvm_search

    ts = _scenarios(ROOT / "specs" / "zsmalloc" / "map_vs_migrate.mig")[1]
    want = _with_path(check(ts, CheckOptions()))
    built: list[int] = []
    real = llvm_search.jit_kernel

    def counting(prog: object) -> object:
        built.append(1)
        return real(prog)  # type: ignore[arg-type]

    monkeypatch.setattr(llvm_search, "jit_kernel", counting)
    assert _with_path(check(ts, CheckOptions(), engine=tiered_bfs(1, 1))) == want
    assert built == [1]

    def broken(prog: object) -> object:
        raise RuntimeError("LLVM said no")

    monkeypatch.setattr(llvm_search, "jit_kernel", broken)
    assert _with_path(check(ts, CheckOptions(), engine=tiered_bfs(1, 1))) == want


def test_swap_to_a_cached_jit_early_agrees(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the scenario's object code in the JIT's cache, the default
    search swaps to the JIT at `JIT_CACHED_AFTER` states instead of
    `JIT_AFTER`: the same figures and path as the Python engine alone, and
    the swap does happen (the JIT's kernel runs)."""
    from checker.explore.codegen import compile_system
    from checker.vm import llvm_kernel, tiered
    from checker.vm.llvm_jit import compile_program_code, is_cached
    from checker.vm.program import compile_program

    spec = ROOT / "specs" / "zsmalloc" / "map_vs_migrate.mig"
    ts = next(t for t in _scenarios(spec) if t.expect.kind == "verified")
    opts = CheckOptions().max_states(SEARCH_CAP)
    c = compile_system(ts)
    prog = compile_program(c.ts, c.packing)
    compile_program_code(prog)  # now cached
    assert is_cached(prog)
    monkeypatch.setattr(tiered, "JIT_CACHED_AFTER", 1)
    assert tiered._jit_at(prog, 10**9) == 1
    ran: list[int] = []
    real = llvm_kernel.search

    def counted(*args: object) -> int:
        ran.append(1)
        return int(real(*args))

    monkeypatch.setattr(llvm_kernel, "search", counted)
    want = _with_path(check(ts, opts))
    assert _with_path(check(ts, opts, engine=tiered_bfs(1, jit_after=10**9))) == want
    assert ran

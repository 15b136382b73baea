"""Partial-order reduction (`--por`: checker/ir/por.py, checker/explore/por.py,
the VM kernel's `ample`) against the plain search: hand-counted reductions,
the same verdict and violated property on random programs and on every
spec scenario, the same reduced search in the Python engine, the VM and
its JIT, and controls showing that the proviso and the independence check
are what keep violations from being missed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings

from checker.explore import por as explore_por
from checker.explore.bfs import bfs
from checker.explore.codegen import Compiled, compile_system
from checker.explore.options import CheckOptions
from checker.explore.result import CheckResult
from checker.explore.run import check
from checker.ir.nodes import TransitionSystem
from checker.vm.search import vm_bfs
from tests.conftest import run
from tests.heap_programs import heap_programs
from tests.programs import programs
from tests.test_vm import SETTINGS, SPECS, _build, _figures, _scenarios

Spec = Callable[[str], Path]
POR = CheckOptions().livelock(False).reduced()
PLAIN = CheckOptions().livelock(False)

# Two threads, each writing a variable no one else reads, twice.
APART = """
    int[0..1] a = 0;
    int[0..1] b = 0;
    thread ta() { a = 1; a = 0; }
    thread tb() { b = 1; b = 0; }
    scenario s { run ta(); run tb(); }
"""


def test_independent_threads_are_explored_in_one_order(spec_file: Spec) -> None:
    """Unreduced: (ta's pc 0..2) x (tb's pc 0..2) = 9 states, 12 steps (each
    thread moves from 2 of its 3 positions, in 3 positions of the other).
    Reduced: ta's steps are independent of tb's, so ta runs alone to its
    end, then tb: a line of 5 states and 4 steps. Every statement still
    runs."""
    path = spec_file(APART)
    plain = run(path, opts=PLAIN)
    reduced = run(path, opts=POR)
    assert (plain.stats.states, plain.stats.transitions) == (9, 12)
    assert (reduced.stats.states, reduced.stats.transitions) == (5, 4)
    assert reduced.verdict == "verified" and not reduced.unexecuted
    assert reduced.stats.reduction == "partial-order reduction"


STARTED = """
    int[0..1] a = 0;
    int[0..1] b = 0;
    thread w() { b = 1; }
    thread s() { start w(); }
    thread t() { a = 1; a = 0; }
    scenario sc { run s(); run t(); }
"""


def test_a_scenario_with_start_is_reduced_around_the_started_thread(spec_file: Spec) -> None:
    """Unreduced: s's start then w's step (3 positions: not started, started,
    done with b = 1) times t's 3 positions: 9 states, 12 steps. The start
    writes w's pc and w's step reads it, so neither is safe; t's steps touch
    only `a`: t runs alone to its end, then s and w: 5 states, 4 steps."""
    path = spec_file(STARTED)
    plain, reduced = run(path, opts=PLAIN), run(path, opts=POR)
    assert (plain.stats.states, plain.stats.transitions) == (9, 12)
    assert (reduced.stats.states, reduced.stats.transitions) == (5, 4)
    assert reduced.verdict == "verified" and not reduced.unexecuted
    assert reduced.stats.reduction == "partial-order reduction"


# A step of `spin` touches only `a`: alone it would loop forever between two
# states; `bug` breaks the invariant.
IGNORED = """
    int[0..1] a = 0;
    int[0..1] x = 0;
    invariant x_stays_zero: x == 0;
    thread spin() { while (true) { a = 1 - a; } }
    thread bug() { x = 1; }
    scenario s { run spin(); run bug(); expect invariant x_stays_zero; }
"""

# Two unlocked increments: the lost update leaves x at 1.
LOST_UPDATE = """
    int[0..2] x = 0;
    thread inc() { int[0..2] t = x; x = t + 1; }
    final both_counted: x == 2;
    scenario s { run inc() * 2; expect final both_counted; }
"""


def _without_proviso(c: Compiled) -> explore_por.Reducer | None:
    """The control: the reducer with nothing counting as seen (BFS) or on
    the stack (DFS), so the proviso never expands a state fully."""
    inner = explore_por.reducer(c)
    if inner is None:
        return None
    return lambda s, seen: inner(s, ())


def test_the_proviso_keeps_a_looping_thread_from_hiding_the_others(
        spec_file: Spec, monkeypatch: pytest.MonkeyPatch) -> None:
    """`spin`'s step is safe, and from (a=1) its only successor is the
    initial state, seen before: the proviso expands that state fully, so
    `bug` runs. Without the proviso, `spin` alone is explored forever and
    the invariant is never broken (the control)."""
    path = spec_file(IGNORED)
    assert run(path, opts=POR).met
    monkeypatch.setattr("checker.explore.bfs.reducer", _without_proviso)
    missed = run(path, opts=POR)
    assert not missed.met and missed.verdict == "verified"


def test_dependent_steps_are_never_reduced(spec_file: Spec,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Both increments read and write x: no step is safe, and the reduced
    search finds the lost update as the plain one does. Marking every step
    safe (the control) runs one increment after the other and misses it."""
    path = spec_file(LOST_UPDATE)
    plain, reduced = run(path, opts=PLAIN), run(path, opts=POR)
    assert plain.met and reduced.met
    assert (reduced.stats.states, reduced.stats.transitions) == \
        (plain.stats.states, plain.stats.transitions)

    def everything_safe(ts: TransitionSystem) -> dict[int, frozenset[int]]:
        return {t.id: frozenset(range(1, 64)) for t in ts.threads}
    monkeypatch.setattr("checker.explore.run.ample_pcs", everything_safe)
    missed = run(path, opts=POR)
    assert not missed.met and missed.verdict == "verified"


def test_por_is_not_applied_where_it_would_be_unsound(spec_file: Spec) -> None:
    """With the livelock pass (a scenario that loops) the search runs
    unreduced and says why; likewise with handlers."""
    path = spec_file(IGNORED)
    r = run(path, opts=CheckOptions().reduced())
    assert r.stats.reduction.startswith("partial-order reduction not applied: the livelock")


def test_depth_first_search_reduces_with_the_stack_proviso(
        spec_file: Spec, monkeypatch: pytest.MonkeyPatch) -> None:
    """Depth-first, APART is the same line of 5 states and 4 steps. In
    IGNORED, `spin`'s step from (a=1) leads back to the initial state, which
    is on the stack: the stack proviso expands (a=1) fully, so `bug` runs
    and the invariant breaks. Without the proviso (nothing counts as on the
    stack), `spin` alone is explored and the search says verified: the
    control."""
    dfs_por = POR.strategy("dfs")
    r = run(spec_file(APART), opts=dfs_por)
    assert (r.stats.states, r.stats.transitions, r.stats.reduction) == \
        (5, 4, "partial-order reduction")
    path = spec_file(IGNORED)
    assert run(path, opts=dfs_por).met
    monkeypatch.setattr("checker.explore.dfs.reducer", _without_proviso)
    missed = run(path, opts=dfs_por)
    assert not missed.met and missed.verdict == "verified"


def _agree(ts: TransitionSystem, cap: int | None = None) -> None:
    """The reduced search finds the plain one's verdict and the same set of
    violated properties (each search looking past every violation, as
    --all-violations does: a search stops at the first one it meets, and
    the reduced one meets them in another order), and no more states when
    verified; so does the reduced depth-first search (stack proviso); the
    VM finds exactly the Python engine's reduced search; a
    counterexample's run is a real run (each state a successor of the
    previous one by a step of the program)."""
    every = PLAIN.max_states(cap).every_violation(True)
    plain = check(ts, every)
    reduced = check(ts, every.reduced(), engine=bfs)
    if plain.verdict != "incomplete" and reduced.verdict != "incomplete":
        assert reduced.verdict == plain.verdict, ts.scenario
        assert _what(reduced) == _what(plain), ts.scenario
        if plain.verdict == "verified":
            assert reduced.stats.states <= plain.stats.states
    deep = check(ts, every.reduced().strategy("dfs"))
    if plain.verdict != "incomplete" and deep.verdict != "incomplete":
        assert deep.verdict == plain.verdict, ts.scenario
        assert _what(deep) == _what(plain), ts.scenario
    first = check(ts, POR.max_states(cap), engine=bfs)
    assert _figures(check(ts, POR.max_states(cap), engine=vm_bfs)) == _figures(first), \
        ts.scenario
    c = compile_system(ts)
    for v in (first.violation, reduced.violation, *reduced.others):
        if v is not None and not v.cycle:
            for s, t in zip(v.path, v.path[1:], strict=False):
                assert t in {u for _, u in c.moves(s)}, ts.scenario


def _what(r: CheckResult) -> set[tuple[object, object]]:
    return {(v.kind, v.name) for v in (r.violation, *r.others) if v is not None}


MANY = settings(SETTINGS, max_examples=150)  # about one in seven is reduced


@MANY
@given(programs())
def test_reduced_agrees_on_random_programs(tmp_path: Path, text: str) -> None:
    _agree(_build(tmp_path, text))


@MANY
@given(heap_programs())
def test_reduced_agrees_on_heap_programs(tmp_path: Path, text: str) -> None:
    _agree(_build(tmp_path, text))


# The specs whose scenarios take seconds each run with `make test-slow`.
BIG = {"migration", "migrate_lock", "exchange_pages", "isolate_putback", "slot_vs_migration",
       "balloon_compaction", "isolation_wide"}


@pytest.mark.parametrize("spec", [pytest.param(p, marks=[pytest.mark.slow] if p.stem in BIG
                                               else []) for p in SPECS],
                         ids=lambda p: p.stem)
def test_reduced_agrees_on_every_spec_scenario(spec: Path) -> None:
    for ts in _scenarios(spec):
        _agree(ts, cap=5_000)


def test_the_jit_reduces_as_the_vm(spec_file: Spec) -> None:
    from checker.vm.llvm_search import jit_bfs

    for text in (APART, LOST_UPDATE):
        path = spec_file(text)
        vm = run(path, opts=POR)
        jit = check(vm.ts, POR, engine=jit_bfs)
        assert _figures(jit) == _figures(check(vm.ts, POR, engine=vm_bfs))


@pytest.mark.parametrize("extra", [["--engine", "vm", "--workers", "2"],
                                   ["--cluster", "local:2"], ["--engine", "jit", "--dfs"]])
def test_engines_that_do_not_reduce_refuse_por(spec_file: Spec, extra: list[str]) -> None:
    """The parallel and distributed searches and the JIT's depth-first
    search do not apply the reduction: asking for it there is a usage
    error, not a search that says it reduced and did not."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    proc = subprocess.run([sys.executable, "-m", "checker", "check", str(spec_file(APART)),
                           "--por", "--no-save", *extra], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 2 and "--por needs an explicit search on one worker" \
        in proc.stderr, proc.stderr

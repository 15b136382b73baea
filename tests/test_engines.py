"""The explicit-state engine against plain exhaustive search.

The generated code, the packed states and the search loop must agree
exactly with the reference interpreter explored naively (tests/oracle.py):
same number of states and transitions, same first violation, same trace
length. Local-statement fusion, a reduction of the statement-by-statement
semantics, must give the same verdicts as that semantics.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from checker.dsl.loader import load_program
from checker.explore.codegen import compile_system
from checker.explore.options import CheckOptions
from checker.explore.run import check
from checker.ir.build import build_all
from checker.trace.model import build_trace
from checker.trace.replay import replay_on
from tests.conftest import ROOT
from tests.heap_programs import arith_programs, heap_programs
from tests.oracle import explore
from tests.programs import programs

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


def _build(tmp_path, text, fuse_locals=True):
    path = tmp_path / "random.mig"
    path.write_text(text)
    return build_all(load_program(path, [ROOT / "models"]), fuse_locals=fuse_locals)[0]


@SETTINGS
@given(programs())
def test_generated_code_agrees_with_the_reference_interpreter(tmp_path, text):
    _agrees_with_the_interpreter(_build(tmp_path, text), text)


@settings(SETTINGS, max_examples=80)
@given(heap_programs())
def test_generated_code_agrees_on_heap_programs(tmp_path, text):
    # References into a pool, freed objects, run-time array indices, words,
    # divisions and threads started at run time: the code paths with
    # dynamic offsets and checks that the small programs never reach.
    _agrees_with_the_interpreter(_build(tmp_path, text), text)


@settings(SETTINGS, max_examples=80)
@given(arith_programs())
def test_generated_code_agrees_on_range_faults(tmp_path, text):
    # Stores that may leave their range, beside stores the code generator
    # proves in range and leaves unchecked.
    _agrees_with_the_interpreter(_build(tmp_path, text), text)


def _agrees_with_the_interpreter(ts, text):
    want = explore(ts)
    got = check(ts, CheckOptions())
    kind = got.violation.kind if got.violation else None
    assert kind == want.kind, text
    assert got.stats.states == want.states, text
    if kind is None:
        assert got.stats.transitions == want.transitions, text
    else:
        assert got.violation is not None
        steps = len(got.violation.path) - 1 + (1 if got.violation.fault_action is not None else 0)
        if not got.violation.cycle:
            assert steps == want.depth, text
        # Every counterexample replays in the reference semantics.
        trace = build_trace(got.compiled, got.violation)
        assert replay_on(trace, ts).reproduced, text


@SETTINGS
@given(programs())
def test_dfs_agrees_with_bfs(tmp_path, text):
    ts = _build(tmp_path, text)
    bfs = check(ts, CheckOptions().strategy("bfs"))
    dfs = check(ts, CheckOptions().strategy("dfs"))
    assert (bfs.verdict == "verified") == (dfs.verdict == "verified"), text
    if bfs.verdict == "verified":
        assert bfs.stats.states == dfs.stats.states, text
        assert bfs.stats.transitions == dfs.stats.transitions, text


@SETTINGS
@given(programs())
def test_fusing_local_statements_keeps_verdicts(tmp_path, text):
    fused = check(_build(tmp_path, text, fuse_locals=True))
    plain = check(_build(tmp_path, text, fuse_locals=False))
    assert (fused.verdict == "verified") == (plain.verdict == "verified"), text
    if fused.verdict == "verified":
        # Fusion merges steps that touch only a thread's own variables, so
        # the shared variables pass through the same values. (The state
        # counts need not shrink: a choice fused onto the step before it
        # splits that step's target by branch.)
        assert _shared_values(fused.ts) == _shared_values(plain.ts), text


def _shared_values(ts):
    """Every reachable valuation of the shared variables, by name."""
    c = compile_system(ts)
    names = [(k, sl.name) for k, sl in enumerate(ts.slots) if sl.shared and not sl.frame]
    seen = {c.initial}
    frontier = [c.initial]
    while frontier:
        fresh = {t for s in frontier for t in c.expand(s)} - seen
        seen |= fresh
        frontier = list(fresh)
    out = set()
    for s in seen:
        values = c.packing.unpack(s)
        out.add(tuple((name, values[k]) for k, name in names))
    return out

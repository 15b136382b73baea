"""Symmetry reduction (`run T() * N symmetric;`) against plain search.

The reduced search stores one representative per orbit of the permutations
of identical instances (checker/explore/symmetry.py, checker/vm/symmetry.py);
the static check (checker/ir/symmetry.py) refuses declarations the spec can
see through. Held to: hand-counted orbits; the same scenario without the
declaration (verdict, violated properties, fewer or as many states) on
random programs with N identical threads and on every spec scenario where a
run item can be doubled; the Python engine and the VM (same reduced states
and transitions); traces mapped back to concrete runs that the reference
interpreter replays. Controls: with the thread-id renaming removed, or the
static check removed, the comparison fails.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from checker.dsl import ast
from checker.dsl.diagnostics import SpecError
from checker.dsl.loader import load_program
from checker.explore import symmetry as esym
from checker.explore.bfs import bfs
from checker.explore.codegen import compile_system
from checker.explore.common import Outcome
from checker.explore.limits import Budget
from checker.explore.options import CheckOptions
from checker.explore.properties import property_of
from checker.explore.result import CheckResult, Stats
from checker.explore.run import check
from checker.ir import symmetry as isym
from checker.ir.build import build_all
from checker.ir.nodes import TransitionSystem
from checker.kinds import Verdict, ViolationKind
from checker.trace.model import build_trace
from checker.trace.replay import replay_on
from tests.conftest import ROOT
from tests.sym_programs import sym_programs

SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
CAP = 20_000
OPTS = CheckOptions().livelock(False).max_states(CAP)

STATE_KINDS = {ViolationKind.INVARIANT, ViolationKind.DEADLOCK, ViolationKind.FINAL}


def _pair(path: Path) -> tuple[TransitionSystem, TransitionSystem]:
    """Scenario `s` (symmetric) and `p` (the same runs, undeclared)."""
    systems = {ts.scenario: ts for ts in build_all(load_program(path, [ROOT / "models"]))}
    return systems["s"], systems["p"]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sym.mig"
    path.write_text(text)
    return path


def _violations(r: CheckResult) -> list:
    return [v for v in [r.violation, *r.others] if v is not None]


def _props(r: CheckResult, state: bool) -> set[tuple[str, str]]:
    return {(v.kind, property_of(v)) for v in _violations(r) if (v.kind in STATE_KINDS) == state}


def _replays(r: CheckResult, ts: TransitionSystem) -> None:
    for v in _violations(r):
        trace = build_trace(r.compiled, v)
        got = replay_on(trace, ts)
        assert got.reproduced, got.message


def agree(sym: TransitionSystem, plain: TransitionSystem, opts: CheckOptions = OPTS
          ) -> tuple[CheckResult, CheckResult] | None:
    """The reduced and the plain search agree; None when the plain one is
    cut by the state cap. With every violation kept: the same state
    properties broken (invariants, deadlocks, finals: orbits share them);
    faults found by the reduced search a subset of the plain one's, and
    none exactly when none (in a state where two threads fault, each search
    reports the first thread's, and a representative has one order of them),
    so the same verdict; at most as many states; every run concrete."""
    every = opts.every_violation(True)
    rp = check(plain, every)
    if rp.limit is not None:
        return None
    rs = check(sym, every)
    assert rs.stats.symmetry_applied, rs.stats.symmetry
    assert rs.limit is None
    assert rs.verdict == rp.verdict
    assert _props(rs, True) == _props(rp, True)
    assert _props(rs, False) <= _props(rp, False)
    assert bool(_props(rs, False)) == bool(_props(rp, False))
    assert rs.stats.states <= rp.stats.states
    _replays(rs, sym)
    # The first violation alone (the default run) is concrete and replays too.
    first = check(sym, opts)
    assert first.verdict == rp.verdict
    _replays(first, sym)
    return rs, rp


# ---------------------------------------------------------------- (a) hand counts


COUNTER = """
    int[0..9] counter = 0;
    thread inc() {
        counter = counter + 1;
        counter = counter + 1;
    }
    scenario s { run inc() * 3 symmetric; }
    scenario p { run inc() * 3; }
"""


def test_three_counters_hand_counted(tmp_path):
    """Three threads, two increments each: a thread is at pc 1, pc 2 or
    done, and the counter is determined by the pcs. Plain: 3^3 = 27 states.
    The orbits are the multisets of three pcs over three values:
    C(3+3-1, 3) = 10. Transitions: from a representative each unfinished
    thread steps once; over the 10 multisets (a at pc 1, b at pc 2, c done,
    a+b+c = 3) the sum of a+b is 4*3 (c=0) + 3*2 (c=1) + 2*1 (c=2) + 0 = 20."""
    s, p = _pair(_write(tmp_path, COUNTER))
    rs, rp = check(s, OPTS), check(p, OPTS)
    assert (rp.stats.states, rp.stats.transitions) == (27, 54)
    assert (rs.stats.states, rs.stats.transitions, rs.stats.depth) == (10, 20, 6)
    assert rs.stats.symmetry == "1 group of 3 inc threads"
    assert rp.stats.symmetry == ""


MUTEX = """
    import "mutex";
    struct mutex m;
    int[0..9] counter = 0;
    thread inc() {
        mutex_lock(&m);
        int[0..9] t = counter;
        counter = t + 1;
        mutex_unlock(&m);
    }
    final all_counted: counter == 3;
    scenario s { run inc() * 3 symmetric; }
    scenario p { run inc() * 3; }
"""


TIDSET = """
    tidset[0..15] S = 0;
    thread w() {
        S |= 1 << current;
        S &= ~(1 << current);
    }
    final empty: S == 0;
    scenario s { run w() * 3 symmetric; }
    scenario p { run w() * 3; }
"""


def test_tidset_hand_counted(tmp_path):
    """Three threads each put their bit in S and take it out: every thread
    at pc 0, 1 or 2, and S holding exactly the bits of those at 1, so the
    plain search has 3^3 = 27 states; its orbits are the multisets of three
    pcs, C(5, 3) = 10, and the representative (pcs sorted, S's bits moved
    with the threads) is unique in each. Both verify `S == 0` at the end."""
    s, p = _pair(_write(tmp_path, TIDSET))
    rs, rp = check(s, OPTS), check(p, OPTS)
    assert (rs.verdict, rp.verdict) == (Verdict.VERIFIED, Verdict.VERIFIED)
    assert (rs.stats.states, rp.stats.states) == (10, 27)
    from checker.vm.search import vm_bfs

    vm = check(s, OPTS, engine=vm_bfs)
    assert (vm.verdict, vm.stats.states, vm.stats.transitions) == \
        (Verdict.VERIFIED, 10, rs.stats.transitions)


def test_a_set_too_narrow_for_every_thread_is_refused(tmp_path):
    """`tidset[0..7]` holds bits 0..2: thread 3's bit is out of range where
    thread 1's is not, so the instances could be told apart by a range
    fault; so could `tidset[0..9]`, whose range is not all of its bits."""
    for hi in (7, 9):
        with pytest.raises(SpecError) as info:
            _pair(_write(tmp_path, TIDSET.replace("tidset[0..15]", f"tidset[0..{hi}]")))
        assert f"the thread set S (0..{hi}) cannot hold the bit of every symmetric thread " \
            "alike (thread 3's bit is 8)" in info.value.render()


def test_control_tidset_bits_not_renamed_is_caught(tmp_path, monkeypatch):
    """Without moving S's bits with the threads, the representative of
    "thread 1 has put its bit in" is "thread 3 is past its first step, with
    bit 1 in S": thread 3 then takes bit 3 out, bit 1 stays, and `S == 0`
    fails at the end, where the plain search verifies."""
    s, p = _pair(_write(tmp_path, TIDSET))
    original = esym.Canon.__init__

    def no_bits(self, ts, packing):
        original(self, ts, packing)
        self.tid_fields = [f for f in self.tid_fields if not f[2]]

    monkeypatch.setattr(esym.Canon, "__init__", no_bits)
    raw = _reduced_search(s)
    assert raw.violation is not None and raw.violation.kind == ViolationKind.FINAL
    with pytest.raises(AssertionError):
        agree(s, p)


def test_control_vm_tidset_bits_not_renamed_is_caught(tmp_path, monkeypatch):
    """The same control in the VM kernel's table: its set flags cleared,
    the kernel renames S as one thread id, and the comparison fails."""
    from checker.vm import search as vsearch
    from checker.vm import symmetry as vsym

    s, _p = _pair(_write(tmp_path, TIDSET))
    original = vsym.sym_table

    def no_bits(c, layout):
        table = original(c, layout).copy()
        first = table[2] - 4 * len(c.ts.tid_locs)
        table[first + 3:table[2]:4] = 0
        return table

    monkeypatch.setattr(vsearch, "sym_table", no_bits)
    with pytest.raises(AssertionError):  # a wrong verdict, or a run no concrete path shows
        vm = check(s, OPTS, engine=vsearch.vm_bfs)
        assert vm.verdict == Verdict.VERIFIED and vm.stats.states == 10


def test_mutex_hand_counted(tmp_path):
    """Each thread: W (before the lock), H1 (holding), H2 (read the
    counter), H3 (wrote it), D (done); the owner is the holder's id and the
    counter the number past H2. Plain: no holder, each W or D: 2^3 = 8;
    a holder (3 ways) in H1..H3 (3), the others W or D (4): 36; 44 states.
    Orbits: no holder, the number done 0..3: 4; a holder in H1..H3 (3) and
    0..2 others done (3): 9; 13 states. Renaming the owner is what makes
    "thread 1 holds" and "thread 2 holds" one orbit."""
    s, p = _pair(_write(tmp_path, MUTEX))
    rs, rp = check(s, OPTS), check(p, OPTS)
    assert (rp.stats.states, rs.stats.states) == (44, 13)
    assert rs.verdict == rp.verdict == Verdict.VERIFIED


def test_mutex_vm_gives_the_python_figures(tmp_path):
    from checker.vm.search import vm_bfs

    s, _p = _pair(_write(tmp_path, MUTEX))
    py, vm = check(s, OPTS), check(s, OPTS, engine=vm_bfs)
    assert (vm.stats.states, vm.stats.transitions, vm.stats.depth) == \
        (py.stats.states, py.stats.transitions, py.stats.depth) == (13, 15, 12)


# ---------------------------------------------------------------- the static check


def _refusal(tmp_path: Path, body: str, extra: str = "", scenario: str = "") -> str:
    text = f"""
        import "mutex";
        struct mutex m;
        int[0..3] x = 0;
        tid owner = none;
        int[0..3] arr[4];
        tidset[0..15] S = 0;
        {extra}
        thread w() {{ {body} }}
        scenario s {{ run w() * 2 symmetric; {scenario} }}
    """
    with pytest.raises(SpecError) as info:
        build_all(load_program(_write(tmp_path, text), [ROOT / "models"]))
    return info.value.render()


@pytest.mark.parametrize(("body", "why"), [
    ("if (current < owner) x = 1;", "an ordered comparison of thread ids"),
    ("x = current;", "a thread id used as a number"),
    ("arr[current] = 1;", "a thread id used as a number"),
    ("x = 1 << current;", "a thread set used as a number"),
    ("x = 2 << current;", "arithmetic ('<<') of thread ids"),
    ("S += 1 << current;", "'+=' on a thread set"),
    ("S++;", "'++' of a thread set"),
    ("S = 3;", "a number used as a thread set"),
    ("S |= 1 << x;", "a number used as a thread set"),
    ("S = S | x;", "a number used as a thread set"),
    ("if (S > 2) x = 1;", "a thread set used as a number"),
    ("x = S & 3;", "a thread set used as a number"),
    ("arr[S & 1] = 1;", "a thread set used as a number"),
    ("owner = 2;", "a number other than 0 used as a thread id"),
    ("if (owner == 1) x = 1;", "a number other than 0 used as a thread id"),
    ("int[0..3] k = 1; if (owner != k) x = 1;", "a number other than 0 used as a thread id"),
    ("owner += 1;", "'+=' computes a thread id"),
])
def test_static_check_refuses(tmp_path, body, why):
    text = _refusal(tmp_path, body)
    assert why in text and "error:" in text and "symmetric" in text


def test_static_check_reads_procedures_properties_and_other_threads(tmp_path):
    proc = "int[0..3] f() { if (current > none) return 1; return 0; }"
    assert "ordered comparison" in _refusal(tmp_path, "x = f();", extra=proc)
    assert "a number other than 0" in _refusal(tmp_path, "x = 1;",
                                              extra="invariant bad: owner != 1;")
    init = "void set_owner() { owner = 2; } init { set_owner(); }"
    assert "a number other than 0" in _refusal(tmp_path, "x = 1;", extra=init)
    other = "thread o() { owner = 3; }"
    assert "a number other than 0" in _refusal(tmp_path, "x = 1;", extra=other,
                                              scenario="run o();")


def test_static_check_refuses_contexts(tmp_path):
    started = "thread o() { start w(); }"
    assert "'start'" in _refusal(tmp_path, "x = 1;", extra=started, scenario="run o();")
    with pytest.raises(SpecError) as info:
        build_all(load_program(_write(tmp_path, """
            int[0..3] x = 0;
            thread w() { x = 1; }
            scenario s { run w() symmetric; run w() on cpu 0 * 2 symmetric; }
        """)))
    text = info.value.render()
    assert "needs a number of instances" in text and "cannot name a CPU" in text


def test_common_models_are_accepted(tmp_path):
    """The mutex, spinlock, rwlock and page-lock models use thread ids only
    by ==, != and stores: a scenario over them is reduced."""
    s, p = _pair(_write(tmp_path, """
        import "mutex";
        import "spinlock";
        import "rwlock";
        struct mutex m;
        spinlock_t l;
        struct rwlock rw;
        int[0..3] x = 0;
        thread w() {
            mutex_lock(&m); x = 1; mutex_unlock(&m);
            spin_lock(&l); x = 2; spin_unlock(&l);
            read_lock(&rw); read_unlock(&rw);
            write_lock(&rw); x = 0; write_unlock(&rw);
        }
        scenario s { run w() * 3 symmetric; }
        scenario p { run w() * 3; }
    """))
    got = agree(s, p)
    assert got is not None
    assert got[0].stats.states < got[1].stats.states


def test_liveness_passes_run_unreduced(tmp_path):
    """A thread that loops: with the livelock pass on, the scenario is
    searched unreduced (the pass needs every state), and says so."""
    s, p = _pair(_write(tmp_path, """
        int[0..3] x = 0;
        thread w() { while (x < 2) { x = x + 1; } }
        scenario s { run w() * 2 symmetric; }
        scenario p { run w() * 2; }
    """))
    full = check(s, CheckOptions())
    assert not full.stats.symmetry_applied and "not applied" in full.stats.symmetry
    assert full.stats.states == check(p, CheckOptions()).stats.states
    assert check(s, CheckOptions().livelock(False)).stats.symmetry_applied


# ---------------------------------------------------------------- (b) random programs


@SETTINGS
@given(sym_programs())
def test_reduced_agrees_with_plain_search(tmp_path, text):
    s, p = _pair(_write(tmp_path, text))
    agree(s, p)


@settings(SETTINGS, max_examples=30)
@given(sym_programs())
def test_reduced_dfs_visits_the_reduced_bfs_states(tmp_path, text):
    s, _p = _pair(_write(tmp_path, text))
    b = check(s, OPTS)
    d = check(s, OPTS.strategy("dfs"))
    assert b.verdict == d.verdict, text
    if b.verdict == Verdict.VERIFIED:
        assert (b.stats.states, b.stats.transitions) == (d.stats.states, d.stats.transitions)
    _replays(d, s)


# ---------------------------------------------------------------- (c) the VM


@settings(SETTINGS, max_examples=60)
@given(sym_programs())
def test_vm_reduces_as_the_python_engine(tmp_path, text):
    from checker.vm.search import vm_bfs

    s, _p = _pair(_write(tmp_path, text))
    py = check(s, OPTS)
    vm = check(s, OPTS, engine=vm_bfs)
    assert vm.stats.symmetry_applied
    assert (vm.verdict, vm.stats.states, vm.stats.transitions, vm.stats.depth) == \
        (py.verdict, py.stats.states, py.stats.transitions, py.stats.depth), text
    if py.violation is not None:
        assert vm.violation is not None
        assert (vm.violation.kind, property_of(vm.violation)) == \
            (py.violation.kind, property_of(py.violation))
        _replays(vm, s)


def test_jit_kernel_reduces_too(tmp_path):
    """The JIT's kernel is `kernel.search` recompiled: the hook comes with it."""
    from checker.vm.llvm_search import jit_bfs

    s, _p = _pair(_write(tmp_path, MUTEX))
    jit = check(s, OPTS, engine=jit_bfs)
    assert (jit.stats.states, jit.stats.transitions, jit.stats.symmetry_applied) == (13, 15, True)


def test_tiered_handover_keeps_the_reduction(tmp_path):
    from checker.vm.tiered import tiered_bfs

    s, _p = _pair(_write(tmp_path, MUTEX.replace("* 3", "* 4")))
    py = check(s, OPTS)
    tiered = check(s, OPTS, engine=tiered_bfs(after=5, jit_after=None))
    assert (tiered.stats.states, tiered.stats.transitions) == \
        (py.stats.states, py.stats.transitions)


def test_partial_order_reduction_is_not_combined(tmp_path):
    """`--por` on a symmetric scenario: the symmetry applies alone, and the
    figures say why the partial-order reduction did not (the two are not
    proven sound together here)."""
    s, _p = _pair(_write(tmp_path, MUTEX))
    r = check(s, OPTS.reduced())
    assert r.stats.symmetry_applied and r.stats.states == 13
    assert r.stats.reduction == ("partial-order reduction not applied: symmetry reduction "
                                 "applies (the two are not combined)")


def test_workers_and_vm_dfs_refuse(tmp_path):
    from checker.vm.dfs import vm_dfs
    from checker.vm.layout import NotSupported
    from checker.vm.parallel import parallel_bfs

    s, _p = _pair(_write(tmp_path, MUTEX))
    for engine in (parallel_bfs(2), vm_dfs):
        with pytest.raises(NotSupported, match="symmetry reduction"):
            check(s, OPTS, engine=engine)


# ---------------------------------------------------------------- every spec scenario


def _scenario_decls(program):
    for m in program.modules:
        for d in m.decls:
            if isinstance(d, ast.ScenarioDecl):
                yield d


def _doubled(spec: Path, scenario: str, k: int, symmetric: bool) -> TransitionSystem:
    program = load_program(spec)
    sc = next(d for d in _scenario_decls(program) if d.name == scenario)
    run = _eligible(sc)[k]
    run.count = ast.IntLit(run.span, 2)
    run.symmetric = symmetric
    return build_all(program, only=[scenario])[0]


def _eligible(sc: ast.ScenarioDecl) -> list[ast.RunItem]:
    return [r for r in sc.runs if r.context == "task" and not r.loops and r.cpu is None
            and r.count is None]


def _spec_cases() -> list[object]:
    """(spec, scenario, k): the k-th plain `run` item of each scenario, one
    per thread kind; in `make test` the first of each spec, the others under
    `-m slow`."""
    out = []
    for spec in sorted((ROOT / "specs").rglob("*.mig")):
        quick = True
        for sc in _scenario_decls(load_program(spec)):
            kinds: set[str] = set()
            for k, run in enumerate(_eligible(sc)):
                if run.thread in kinds:
                    continue
                kinds.add(run.thread)
                name = f"{spec.relative_to(ROOT / 'specs')}:{sc.name}:{run.thread}"
                out.append(pytest.param(spec, sc.name, k, id=name,
                                        marks=[] if quick else [pytest.mark.slow]))
                quick = False
    return out


@pytest.mark.parametrize(("spec", "scenario", "k"), _spec_cases())
def test_spec_scenarios_with_a_doubled_thread(spec, scenario, k):
    """Each spec scenario with a plain `run` item doubled into a symmetric
    pair, against the same pair undeclared (capped: a search the cap cuts
    is compared no further). A refusal of the static check must name its
    reason."""
    try:
        s = _doubled(spec, scenario, k, True)
    except SpecError as e:
        assert "symmetric" in e.render() or "symmetry" in e.render()
        pytest.skip("refused: " + e.render().splitlines()[0])
    p = _doubled(spec, scenario, k, False)
    got = agree(s, p, OPTS.max_states(20_000))
    if got is None:
        pytest.skip("unreduced search past the cap")


# ---------------------------------------------------------------- (d) controls


def test_control_no_tid_renaming_is_caught(tmp_path, monkeypatch):
    """Without renaming the mutex owner, the holder moved to another place
    still finds the old id in `owner`: its unlock fails ("mutex_unlock by a
    task that does not own it") where the plain search verifies. The
    comparison catches it (a wrong verdict, or a run no concrete path shows)."""
    s, p = _pair(_write(tmp_path, MUTEX))
    agree(s, p)
    original = esym.Canon.__init__

    def no_renaming(self, ts, packing):
        original(self, ts, packing)
        self.tid_fields = []

    monkeypatch.setattr(esym.Canon, "__init__", no_renaming)
    raw = _reduced_search(s)
    assert raw.violation is not None and raw.violation.kind == ViolationKind.ASSERT
    with pytest.raises(AssertionError):
        agree(s, p)


def test_control_vm_without_tid_renaming_is_caught(tmp_path, monkeypatch):
    from checker.vm import search as vsearch
    from checker.vm import symmetry as vsym

    s, _p = _pair(_write(tmp_path, MUTEX))
    original = vsym.sym_table

    def no_renaming(c, layout):
        table = original(c, layout).copy()
        table[table[2] - 4 * len(c.ts.tid_locs) - 1] = 0  # no thread-id locations
        return table

    monkeypatch.setattr(vsearch, "sym_table", no_renaming)
    with pytest.raises(AssertionError):
        vm = check(s, OPTS, engine=vsearch.vm_bfs)
        assert vm.verdict == Verdict.VERIFIED and vm.stats.states == 13


ASYMMETRIC = """
    tid seen = none;
    thread w() {
        seen = current;
        assert(seen <= current, "the last writer is the highest");
    }
    scenario s { run w() * 2 symmetric; }
    scenario p { run w() * 2; }
"""


def test_control_static_check_prevents_a_wrong_verdict(tmp_path, monkeypatch):
    """`seen <= current` orders thread ids. Plain: thread 1 writes 1, then
    thread 2 writes 2, then thread 1 asserts 2 <= 1: a violation. Reduced
    without the check, "thread 1 wrote 1, thread 2 not yet" is stored as
    its mirror "thread 2 wrote 2, thread 1 not yet", from which only thread
    1 writes (seen = 1, and every assert holds): the state where both wrote
    and `seen` is 2 is never reached, and the reduced search verifies. The
    check refuses the declaration; without it the verdicts differ and the
    comparison fails."""
    path = _write(tmp_path, ASYMMETRIC)
    with pytest.raises(SpecError, match="ordered comparison of thread ids"):
        _pair(path)
    monkeypatch.setattr(isym.TidUses, "check_scenario", lambda self, sc, kinds: None)
    s, p = _pair(path)
    plain = check(p, OPTS)
    assert plain.violation is not None and plain.violation.kind == ViolationKind.ASSERT
    assert _reduced_search(s).violation is None
    with pytest.raises(AssertionError):
        agree(s, p)


def test_steps_that_differ_by_instance_are_refused(tmp_path, monkeypatch):
    """Behind the static check, the IR's steps of the instances must match:
    `current < 2` folds to a constant per instance and lowers differently."""
    monkeypatch.setattr(isym.TidUses, "check_scenario", lambda self, sc, kinds: None)
    with pytest.raises(SpecError, match="lower to different steps"):
        _pair(_write(tmp_path, """
            bool a = false;
            bool b = false;
            thread w() { if (current < 2) a = true; else b = true; }
            scenario s { run w() * 2 symmetric; }
            scenario p { run w() * 2; }
        """))


def _reduced_search(ts: TransitionSystem) -> Outcome:
    """The reduced breadth-first search alone, its run of representatives
    not mapped back (the mapping is a check of its own)."""
    c = compile_system(ts)
    out = Outcome(ts.expect)
    bfs(esym.reduced(c, esym.Canon(ts, c.packing)), Budget(OPTS, None), Stats(), out)
    return out


# ---------------------------------------------------------------- the command line


def test_command_line_reports_and_replays(tmp_path):
    """`migcheck check` says the symmetry was applied, saves a concrete
    counterexample, `migcheck replay` accepts it; `--no-symmetry` searches
    state by state; a refused declaration is a `file:line:col: error:`."""
    import subprocess
    import sys

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "checker", *args], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)

    spec = _write(tmp_path, MUTEX.replace("final all_counted: counter == 3;",
                                          "final all_counted: counter == 2;"))
    r = cli("check", str(spec), "-s", "s", "--trace-dir", str(tmp_path / "cex"))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "13 states" in r.stdout and "symmetry: 1 group of 3 inc threads" in r.stdout
    saved = next((tmp_path / "cex").rglob("sym.s.json"))
    again = cli("replay", str(saved))
    assert again.returncode == 0, again.stdout + again.stderr
    plain = cli("check", str(spec), "-s", "s", "--no-symmetry", "--no-save", "--format", "json")
    stats = json.loads(plain.stdout)[0]["stats"]
    assert (stats["symmetry_applied"], stats["symmetry"]) == (False, "not applied (--no-symmetry)")
    bad = _write(tmp_path, ASYMMETRIC)
    refused = cli("check", str(bad))
    assert refused.returncode == 2
    assert f"{bad}:5:16: error: an ordered comparison of thread ids" in refused.stderr

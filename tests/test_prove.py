"""`migcheck prove`: proofs for all reachable states, counterexamples, and
"unknown" whenever no argument completed (never "proved" on a partial
result). Each way to a proof is exercised: every run ends (BMC), k-induction
with simple paths, and Spacer's invariant where induction fails."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import HealthCheck, given, settings

from checker.explore.options import CheckOptions
from checker.explore.run import check
from checker.symbolic.prove import prove
from checker.trace.model import build_trace
from checker.trace.replay import replay_on
from tests.conftest import ROOT, random_system, system
from tests.programs import programs
from tests.symbolic_specs import EXPECTED_AFTER_OTHER, RACE

TERMINATES = """\
int[0..3] g = 0;
thread inc() { int[0..3] l = 0; l = g; g = l + 1; }
invariant small: g <= 2;
scenario s { run inc(); run inc(); }
"""


def test_every_run_ends_is_a_proof(spec_file):
    r = prove(system(spec_file(TERMINATES)), seconds=30)
    # Two threads of two steps each: no state at depth 4 has a successor.
    assert r.verdict == "proved" and r.status == "met"
    assert r.how == "every run ends within 4 steps (bmc)"
    assert not r.liveness_note


SPIN = """\
bool stop = false;
int[0..3] g = 0;
thread spinner() { while (!stop) { } g = 1; }
thread stopper() { stop = true; }
invariant g_small: g <= 1;
scenario s { run spinner(); run stopper(); }
"""


def test_a_scenario_that_can_spin_is_proved_without_bounding_its_runs(spec_file):
    from checker.symbolic.encode import Encoding
    from checker.symbolic.induction import InductionStep
    from checker.symbolic.unroll import Deadline

    ts = system(spec_file(SPIN))
    # From any state with g <= 1 no step makes g larger than 1, and no state
    # is stuck: the property is 1-inductive, the first step case is unsat.
    assert InductionStep(Encoding(ts)).check(Deadline.after(30)) == "proved"
    r = prove(ts, seconds=30)
    # prove() gets there even sooner: the invariant it checks before
    # induction (g is 0 until the spinner's last step) excludes every violation.
    assert r.verdict == "proved"
    assert r.how.startswith("an inductive invariant of") and r.how.endswith(
        "facts (houdini) excludes every violation")
    assert r.liveness_note  # spinning forever is not covered, and the report says so


COUNTER = """\
int[0..255] x = 0;
int[0..255] y = 0;
thread t() { while (true) { atomic { if (x < 20) { x = x + 1; y = y + 1; } } } }
invariant y_bounded: y <= LIMIT;
scenario s { run t(); }
"""


def test_spacer_proves_what_short_induction_cannot(spec_file):
    r = prove(system(spec_file("const LIMIT = 20;\n" + COUNTER)), seconds=60, max_k=5)
    # y <= 20 is not k-inductive for k <= 6 (from x = 0, y = 15 six good
    # steps lead to y = 21); y <= x <= 20 is an inductive invariant.
    assert r.verdict == "proved" and r.status == "met"
    assert r.how == "spacer found an inductive invariant (checked)"


def test_spacer_refutes_beyond_the_base_case_without_claiming_a_trace(spec_file):
    r = prove(system(spec_file("const LIMIT = 19;\n" + COUNTER)), seconds=60, max_k=5)
    # y reaches 20 after 20 steps, beyond the base case of 5.
    assert r.verdict == "counterexample" and r.violation is None
    assert r.status == "unmet"
    assert "more than 5 steps" in r.how


def test_a_counterexample_is_an_ordinary_trace(spec_file):
    path = spec_file(RACE)
    expected = prove(system(path, "lost_update"), seconds=30)
    assert expected.verdict == "counterexample" and expected.status == "met"
    assert expected.violation is not None and expected.violation.steps == 4
    ts = system(path, "checked")
    unexpected = prove(ts, seconds=30)
    assert unexpected.status == "unmet"
    assert unexpected.compiled is not None and unexpected.violation is not None
    trace = build_trace(unexpected.compiled, unexpected.violation)
    assert replay_on(trace, ts).reproduced


def test_another_violation_before_the_expected_one_is_a_note(spec_file):
    """The base case stops at depth 2, before the expected use-after-free (4
    steps), having met a's assert (3 steps): inconclusive with a note, as the
    explicit engine at a limit, not a counterexample against the spec."""
    path = spec_file(EXPECTED_AFTER_OTHER)
    short = prove(system(path), seconds=30, max_k=2)
    assert short.verdict == "unknown" and short.status == "unknown"
    assert [(o.kind, o.name) for o in short.others] == [("assert", "early")]
    deep = prove(system(path), seconds=30, max_k=10)
    assert deep.status == "met" and deep.violation is not None
    assert deep.violation.kind == "use_after_free"


def test_no_time_is_unknown_never_proved(spec_file):
    r = prove(system(spec_file(SPIN)), seconds=0.0)
    assert r.verdict == "unknown" and r.status == "unknown"
    assert r.tried  # it says what it tried


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(programs())
def test_proofs_agree_with_the_explicit_search(tmp_path, text):
    ts = random_system(tmp_path, text)
    explicit = check(ts, CheckOptions().livelock(False))
    r = prove(ts, seconds=20)
    if r.verdict == "proved":
        assert explicit.verdict == "verified", text
    elif r.verdict == "counterexample":
        assert explicit.verdict == "violation", text


def test_prove_command_exit_statuses(spec_file):
    def run(path, *extra):
        return subprocess.run([sys.executable, "-m", "checker", "prove", str(path),
                               "-I", str(ROOT / "models"), *extra],
                              capture_output=True, text=True, cwd=ROOT, check=False)

    ok = run(spec_file(TERMINATES))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "scenario s: proved for all reachable states: every run ends within 4 steps" \
        in ok.stdout
    bad = run(spec_file(RACE), "-s", "checked")
    assert bad.returncode == 1
    assert "counterexample: bmc: final in 4 steps" in bad.stdout
    assert "counterexample: final 'both'" in bad.stdout  # the trace
    unknown = run(spec_file(SPIN), "--seconds", "0.001")
    assert unknown.returncode == 3
    assert "unknown: inconclusive" in unknown.stdout
    missing = run(spec_file(RACE), "-s", "nope")
    assert missing.returncode == 2
    assert "no lemma or scenario nope" in missing.stderr


LOCKSPIN = """\
import "spinlock";
spinlock_t L;
int[0..3] g = 0;
thread a() { while (true) { spin_lock(&L); g = 1; g = 0; spin_unlock(&L); } }
thread b() { while (true) { spin_lock(&L); assert(g == 0, "g is clear under the lock"); spin_unlock(&L); } }
scenario s { run a(); run b(); }
"""


def test_an_invariant_of_reachable_states_strengthens_induction(spec_file):
    r = prove(system(spec_file(LOCKSPIN)), seconds=30)
    # Houdini keeps "b at its assert -> L.owner == T2" and "a not between its
    # two stores -> g == 0": with them the property is 1-inductive (without,
    # unreachable states where both threads are in the critical section make
    # the step case fail up to k = 5).
    assert r.verdict == "proved"
    assert r.how == "k-induction with simple paths, k = 1"
    assert any(t.startswith("houdini: an inductive invariant of") for t in r.tried)


def test_houdini_keeps_only_facts_that_are_inductive(spec_file):
    import z3

    from checker.explore.codegen import compile_system
    from checker.symbolic.encode import Encoding
    from checker.symbolic.houdini import houdini
    from checker.symbolic.unroll import Deadline

    ts = system(spec_file("const LIMIT = 20;\n" + COUNTER))
    enc = Encoding(ts)
    c = compile_system(ts)
    # From 3 sampled states the guesses include x <= 2 and y <= 2: not inductive.
    found = houdini(enc, c, Deadline.after(30), sample=3)
    assert found is not None and found.rounds >= 2
    t = enc.template
    s = z3.Solver()
    s.add(found.invariant, t.trans, z3.Not(t.at(found.invariant, t.y)))
    assert s.check() == z3.unsat  # inductive
    # ... and true in every reachable state (x = y = 0..20, at either pc).
    for x in range(21):
        for pc in (1, 2):
            if x == 0 or pc == 2:
                state = [enc.slot_const(i, v) for i, v in enumerate((x, x, pc))]
                assert z3.is_true(z3.simplify(t.at(found.invariant, state)))

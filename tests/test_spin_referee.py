"""SPIN as a standing referee (tests/spin_referee.py says what must agree).

Every spec's quick scenarios, hand-counted programs, and a few hundred
random programs (hypothesis) are checked by both. The random programs are
compiled 30 to a pan (`checker.backends.spin.batch`), with tcc when it is
installed (CI installs it): a gcc build costs a second or more each.

Skipped, with the reason, only where spin or a C compiler is missing; CI
installs both (.ci/run).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.backends.promela import export
from checker.backends.spin import compile_pan, missing_tools, replay_trail, run_pan
from checker.backends.trail import translate
from checker.dsl.loader import load_program
from checker.explore.run import check
from checker.ir.build import build_all
from checker.ir.nodes import TransitionSystem
from checker.kinds import PropertyKind
from checker.trace.jsonio import save
from tests.conftest import ROOT
from tests.heap_programs import heap_programs
from tests.programs import programs
from tests.spin_referee import SAFETY, judge, migcheck, referee_batch, referee_one

MISSING = missing_tools()
pytestmark = pytest.mark.skipif(MISSING is not None,
                                reason=f"SPIN referee skipped: {MISSING}")

SPECS = sorted((ROOT / "specs").rglob("*.mig"))
BATCH = 30  # programs per pan
BATCHES = 8  # hypothesis examples: 240 random programs per run


def _build(path: Path, text: str) -> TransitionSystem:
    path.write_text(text)
    return build_all(load_program(path, [ROOT / "models"]))[0]


def _scenarios() -> list[object]:
    """Every scenario; in the default run, the first quick scenario of each
    spec that expects no violation and the first that expects one (the
    others share their code; `make test-slow` runs them all)."""
    out = []
    for spec in SPECS:
        seen: set[bool] = set()
        for ts in build_all(load_program(spec)):
            if ts.has_handlers:  # the export refuses them (tests/test_irq.py)
                continue
            if ts.liveness_refusal() is not None:
                continue  # daemons, starvation: the export refuses them (test_liveness.py)
            if any(p.kind == PropertyKind.WARNING for p in ts.props):
                continue  # WARN_ON sites: the export refuses them (test_warn.py)
            expects = ts.expect.kind != "verified"
            default = "slow" not in ts.tags and expects not in seen
            if default:
                seen.add(expects)
            marks = [] if default else [pytest.mark.slow]
            out.append(pytest.param(spec, ts.scenario, marks=marks,
                                    id=f"{spec.relative_to(ROOT / 'specs')}:{ts.scenario}"))
    return out


# ---------------------------------------------------------------- specs


@pytest.mark.parametrize(("spec", "scenario"), _scenarios())
def test_spec_scenario(tmp_path: Path, spec: Path, scenario: str) -> None:
    """Same verdict; same states when verified; a violation SPIN finds
    (its shortest, pan -i) runs in migcheck, raises the expected violation,
    and is no shorter than migcheck's own counterexample."""
    ts = build_all(load_program(spec), only=[scenario])[0]
    expects = ts.expect.kind != "verified"
    out = referee_one(ts, tmp_path, shortest=expects)
    assert out.skipped is None, out.skipped  # every spec fits SPIN's int
    assert not out.problems, out.problems
    if out.translated is not None:
        assert out.migcheck.violation is not None
        assert out.translated.kind == ts.expect.kind
        assert out.migcheck.violation.steps <= len(out.translated.trace.steps)


def _every_tenth() -> list[object]:
    """A tenth of the quick scenarios for `make test` (each costs a pan
    compilation); `make test-slow` runs the others."""
    out: list[object] = []
    for i, p in enumerate(_scenarios()):
        quick = i % 10 == 0 and "balloon" not in str(p.id)  # balloon's pans build slowly
        marks = list(p.marks) + ([] if quick else [pytest.mark.slow])
        out.append(pytest.param(*p.values, marks=marks, id=p.id))
    return out


@pytest.mark.parametrize(("spec", "scenario"), _every_tenth())
def test_spec_scenario_with_reduction_on_both_sides(tmp_path: Path, spec: Path,
                                                    scenario: str) -> None:
    """SPIN with its partial-order reduction and migcheck with --por reach the
    same verdict as each other and as migcheck's plain safety search, and
    SPIN's counterexample, if any, still runs in migcheck and raises the
    expected violation (state counts differ: the reductions differ)."""
    ts = build_all(load_program(spec), only=[scenario])[0]
    mine = check(ts, SAFETY.reduced())
    model = export(ts)
    pan = compile_pan(model.text, tmp_path, reduce=True, vector_bytes=model.vector_bytes)
    run = run_pan(pan, [])
    out = judge(ts, model, pan, run, mine)
    differ = [p for p in out.problems if not p.startswith(("states differ", "transitions differ"))]
    assert not differ, differ
    assert mine.verdict == check(ts, SAFETY).verdict


# ---------------------------------------------------------------- by hand


COUNTER = """\
int[0..3] x = 0;
thread inc() { x = x + 1; x = x + 1; }
thread dbl() { x = x * 1; }
scenario s { run inc(); run dbl(); }
"""


def test_hand_counted_states(tmp_path: Path) -> None:
    """inc takes 2 steps, dbl 1: the interleavings pass through (pcs of inc,
    dbl) = 3 x 2 = 6 states (x is a function of inc's pc); 7 transitions."""
    ts = _build(tmp_path / "c.mig", COUNTER)
    out = referee_one(ts, tmp_path / "pan")
    assert not out.problems, out.problems
    assert out.migcheck.stats.states == 6 and out.spin.states == 6
    assert out.migcheck.stats.transitions == 7 and out.spin.transitions == 8


DEADLOCK = """\
import "spinlock";
spinlock_t A;
spinlock_t B;
thread ab() { spin_lock(&A); spin_lock(&B); spin_unlock(&B); spin_unlock(&A); }
thread ba() { spin_lock(&B); spin_lock(&A); spin_unlock(&A); spin_unlock(&B); }
scenario s { run ab(); run ba(); expect deadlock; }
"""


def test_deadlock_is_an_invalid_end_state_and_replays(tmp_path: Path) -> None:
    """The ABBA deadlock: SPIN's invalid end state; its trail, saved as a
    migcheck trace, is accepted by `migcheck replay`."""
    ts = _build(tmp_path / "abba.mig", DEADLOCK)
    out = referee_one(ts, tmp_path / "pan", shortest=True)
    assert not out.problems, out.problems
    assert "invalid end state" in out.spin.error
    assert out.translated is not None and out.translated.kind == "deadlock"
    assert len(out.translated.trace.steps) == 2  # each thread takes its first lock
    path = tmp_path / "spin.json"
    save(out.translated.trace, path)
    r = subprocess.run([sys.executable, "-m", "checker", "replay", str(path), "-I",
                        str(ROOT / "models")],
                       capture_output=True, text=True, cwd=ROOT, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "reproduces" in r.stdout


FINAL = """\
int[0..3] x = 0;
thread a() { x = 1; }
thread b() { x = 2; }
final last_is_b: x == 2;
scenario s { run a(); run b(); expect final last_is_b; }
"""


def test_final_property(tmp_path: Path) -> None:
    ts = _build(tmp_path / "f.mig", FINAL)
    out = referee_one(ts, tmp_path / "pan", shortest=True)
    assert not out.problems, out.problems
    assert out.translated is not None and out.translated.kind == "final"
    assert out.translated.trace.name == "last_is_b"
    assert len(out.translated.trace.steps) == 2


def test_a_violation_not_looked_for_is_a_dead_end(tmp_path: Path) -> None:
    """Expecting the assert, the null dereference on the other branch is
    not reported (as in `migcheck check`): SPIN finds the assert."""
    text = """\
    struct o { int[0..1] v; };
    pool struct o os[1];
    struct o *p = null;
    int[0..1] g = 0;
    thread t() { either { p->v = 1; } or { g = 1; } }
    thread u() { assert(g == 0, "g stays 0"); }
    scenario s { run t(); run u(); expect assert "g stays 0"; }
    """
    ts = _build(tmp_path / "d.mig", "\n".join(x.strip() for x in text.splitlines()) + "\n")
    out = referee_one(ts, tmp_path / "pan", shortest=True)
    assert not out.problems, out.problems
    assert out.translated is not None and out.translated.kind == "assert"
    everything = export(ts, None)
    pan = compile_pan(everything.text, tmp_path / "all", defines=["REACH"])
    run = run_pan(pan, ["-i"])
    assert run.errors > 0
    shortest = translate(everything, replay_trail(pan), error=run.error)
    assert shortest.kind == "null_deref" and len(shortest.trace.steps) == 1


# ---------------------------------------------------------------- random programs


@settings(max_examples=BATCHES, deadline=None, derandomize=False,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(st.data())
def test_random_programs(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    """A batch of random programs, a third without a heap: every one must
    agree (`tests.spin_referee.judge`)."""
    work = tmp_path_factory.mktemp("batch")
    texts = [data.draw(programs() if k % 3 == 0 else heap_programs()) for k in range(BATCH)]
    systems = [_build(work / f"p{k}.mig", t) for k, t in enumerate(texts)]
    outcomes = referee_batch(systems, work / "pan")
    assert sum(o.skipped is not None for o in outcomes) < BATCH // 2  # most are compared
    bad = [(texts[k], o.problems) for k, o in enumerate(outcomes) if o.problems]
    assert not bad, f"{len(bad)} disagreement(s); the first:\n{bad[0][0]}\n{bad[0][1]}"


def test_batches_agree_with_single_runs(tmp_path: Path) -> None:
    """The selector adds exactly one state and one transition."""
    ts = _build(tmp_path / "c.mig", COUNTER)
    mine = migcheck(ts)
    [out] = referee_batch([ts], tmp_path / "pan")
    assert not out.problems
    assert out.spin.states == mine.stats.states + 1
    assert out.spin.transitions == mine.stats.transitions + 2

"""Liveness under fairness (checker/explore/fairness.py, README "Liveness and
fairness"): `daemon` and `fair` threads, starvation found as a lasso, the
lasso in JSON, text and the race diagram, `replay` of a lasso, the engines
that refuse it, and agreement with a naive implementation of the definition
(tests/oracle.py) on small generated programs."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from checker.dsl.diagnostics import SpecError
from checker.explore.codegen import compile_system
from checker.explore.options import CheckOptions
from checker.explore.properties import properties
from checker.explore.result import Violation
from checker.kinds import ViolationKind
from checker.trace.jsonio import dumps, load, save
from checker.trace.model import Trace, build_trace
from checker.trace.race import render_race
from checker.trace.replay import replay, replay_on
from checker.trace.text import render
from tests.conftest import ROOT, run, system
from tests.oracle import explore

Spec = Callable[[str], Path]
MIGCHECK = [sys.executable, "-m", "checker"]
SCHEMA = json.loads((ROOT / "checker/trace/trace.schema.json").read_text())
LOST_WAKEUP = ROOT / "specs" / "shapes" / "lost_wakeup.mig"

# The waiter takes the lock (a), sets got (b), unlocks (c); the hog loops
# lock (pc1 -> pc2), unlock (pc2 -> pc3), lock (pc3 -> pc2). The lock's
# owner and `got` follow from the pcs: (waiter pc in 1,2,3,0) x (hog pc in
# 1,2,3) less the two where both hold the lock = 10 states. Steps: the
# waiter's lock needs the hog off pc2, the hog's lock needs the waiter off
# pcs 2,3, unlock and `got = 1` always move: 5 (waiter at 1) + 2 + 2 + 3 = 12.
SPINLOCK = """
    import "spinlock";
    spinlock_t l;
    int[0..1] got = 0;
    {qual} thread waiter() {{
        spin_lock(&l);
        got = 1;
        spin_unlock(&l);
    }}
    {hog} thread hog() {{
        for (;;) {{
            spin_lock(&l);
            spin_unlock(&l);
        }}
    }}
    scenario s {{ run waiter(); run hog(); expect {expect}; }}
"""

# setter: one step. idler: its first step goes from its entry pc to the
# loop's, where it stays: (idler pc, x) in (1,0) (2,1) (2,0). With the
# setter's two pcs, 2 x 3 = 6 states; the idler moves in all 6, the setter
# in 3: 9 steps.
WEAK = """
    int[0..1] x = 0;
    int[0..1] done = 0;
    thread setter() { done = 1; }
    daemon thread idler() { for (;;) { x = 1 - x; } }
    scenario s { run setter(); run idler(); expect verified; }
"""


def _spinlock(spec_file: Spec, qual: str = "", hog: str = "daemon",
              expect: str = "starvation") -> Path:
    return spec_file(SPINLOCK.format(qual=qual, hog=hog, expect=expect))


def test_unfair_spinlock_starves_the_waiter(spec_file: Spec) -> None:
    """Weak fairness: the waiter can take the lock only while the hog is
    between unlock and lock, so it is not continuously enabled and may
    starve. The lasso: the hog's lock, then its unlock/lock forever."""
    r = run(_spinlock(spec_file))
    assert r.met and r.violation is not None
    assert (r.stats.states, r.stats.transitions) == (10, 12)
    v = r.violation
    assert v.kind == ViolationKind.STARVATION
    assert "waiter() starves" in v.message and "never moves" in v.message
    assert "spin_lock(&l)" in v.message
    assert len(v.path) - 1 == 1 and len(v.cycle) == 2
    tr = build_trace(r.compiled, v)
    assert tr.loop_start == 1 and [s.thread for s in tr.steps] == [2, 2, 2]
    assert list(tr.blocked) == [1]  # the daemon is not listed as starving


def test_strong_fairness_lets_the_waiter_in(spec_file: Spec) -> None:
    """`fair thread`: enabled infinitely often, the waiter must move, so the
    hog's loop is no fair run: verified, with the same graph."""
    r = run(_spinlock(spec_file, qual="fair", expect="verified"))
    assert r.verdict == "verified" and r.met
    assert (r.stats.states, r.stats.transitions) == (10, 12)


def test_a_continuously_enabled_thread_moves_under_weak_fairness(spec_file: Spec) -> None:
    """The idler can loop forever while the setter waits, but the setter is
    enabled in every state of that loop: weak fairness rules the run out."""
    r = run(spec_file(WEAK))
    assert r.verdict == "verified" and r.met
    assert (r.stats.states, r.stats.transitions) == (6, 9)


def test_a_daemon_looping_forever_is_not_reported(spec_file: Spec) -> None:
    """Everyone else finished, the daemon loops: fine. The same thread
    without `daemon` spins with no way out: the livelock check reports it."""
    text = WEAK.replace("thread setter() { done = 1; }", "thread setter() { done = 1; }")
    assert run(spec_file(text)).verdict == "verified"
    plain = run(spec_file(WEAK.replace("daemon thread", "thread")
                          .replace("expect verified", "expect deadlock")))
    assert plain.met and plain.violation is not None and plain.violation.cycle
    assert "spin forever" in plain.violation.message


def test_a_daemon_asleep_at_the_end_is_no_deadlock(spec_file: Spec) -> None:
    """kcompactd asleep waiting for work once everybody else finished: an
    end state (final properties hold there), not a deadlock."""
    text = """
        bool work = false;
        int[0..2] done = 0;
        thread t() { done = 1; }
        daemon thread worker() { for (;;) { await work; work = false; } }
        final finished: done == 1;
        scenario s { run t(); run worker(); expect verified; }
    """
    r = run(spec_file(text))
    assert r.verdict == "verified" and r.met
    assert (r.stats.states, r.stats.transitions) == (2, 1)
    bad = run(spec_file(text.replace("done == 1", "done == 2")
                        .replace("expect verified", "expect final")))
    assert bad.met


def test_lost_wakeup_with_a_looping_daemon_is_starvation() -> None:
    """specs/shapes/lost_wakeup.mig with kcompactd alongside: no state
    without successor any more, the lost wake-up is a starvation. kcompactd
    has 3 pcs independent of the rest and always moves: 3x the states of
    the scenario without it, 3x its steps plus one per state (44 states,
    66 steps for the reordered variant searched in full)."""
    base = run(LOST_WAKEUP, "destroy_vs_putback")
    assert (base.stats.states, base.stats.transitions) == (42, 65)
    fixed = run(LOST_WAKEUP, "destroy_vs_putback_with_kcompactd")
    assert fixed.verdict == "verified" and fixed.met
    assert (fixed.stats.states, fixed.stats.transitions) == (3 * 42, 3 * 65 + 3 * 42)
    bug = run(LOST_WAKEUP, "destroy_vs_putback_reordered_with_kcompactd")
    assert bug.met and bug.violation is not None
    assert (bug.stats.states, bug.stats.transitions) == (3 * 44, 3 * 66 + 3 * 44)
    assert bug.violation.message.startswith("destroyer() starves")
    assert "schedule()" in bug.violation.message
    first = run(LOST_WAKEUP, "destroy_vs_putback_check_first_with_kcompactd")
    assert first.met and first.violation is not None
    assert (first.stats.states, first.stats.transitions) == (3 * 36, 3 * 53 + 3 * 36)


def test_without_the_livelock_pass_nothing_is_judged(spec_file: Spec) -> None:
    r = run(_spinlock(spec_file, expect="verified"), opts=CheckOptions().livelock(False))
    assert r.verdict == "verified"
    names = [p.name for p in properties(system(_spinlock(spec_file)))]
    assert "starvation" in names


def test_dfs_and_the_vm_find_the_same_starvation(spec_file: Spec) -> None:
    spec = _spinlock(spec_file)
    bfs = run(spec)
    dfs = run(spec, opts=CheckOptions().strategy("dfs"))
    assert dfs.violation is not None and bfs.violation is not None
    assert dfs.violation.kind == ViolationKind.STARVATION
    # The prefix is a shortest path in the graph, whatever the search order.
    assert (dfs.violation.path, dfs.violation.cycle) == (bfs.violation.path, bfs.violation.cycle)


# ---------------------------------------------------------------- the lasso


def _lasso(spec_file: Spec) -> tuple[Path, Trace]:
    spec = _spinlock(spec_file)
    r = run(spec)
    assert r.violation is not None
    return spec, build_trace(r.compiled, r.violation)


def test_lasso_json_round_trip_and_schema(spec_file: Spec, tmp_path: Path) -> None:
    spec, tr = _lasso(spec_file)
    path = tmp_path / "t.json"
    save(tr, path)
    data = json.loads(path.read_text())
    jsonschema.validate(data, SCHEMA)
    assert data["kind"] == "starvation" and data["loop_start"] == 1
    back = load(path)
    assert dumps(back) == dumps(tr)
    assert replay(back, str(spec)).reproduced


def test_lasso_drawn_in_text_and_race(spec_file: Spec) -> None:
    _, tr = _lasso(spec_file)
    text = render(tr)
    assert "---- from here the run repeats forever (steps 2..3) ----" in text
    assert "---- back to step 2 ----" in text
    assert "threads left unfinished forever by the cycle:" in text
    race = render_race(tr)
    assert "-- cycle starts here (steps 2..3 repeat forever) --" in race
    assert race.index("cycle starts here") < race.index("-- back to step 2 --")
    assert "unfinished forever: T1 waiter() at line" in race


def test_replay_accepts_the_lasso_and_rejects_a_tampered_cycle(spec_file: Spec) -> None:
    spec, tr = _lasso(spec_file)
    ok = replay(tr, str(spec))
    assert ok.reproduced and "T1 waiter() unfinished forever" in ok.message
    # The cycle cut short: it no longer returns to where it started.
    cut = Trace.from_dict(json.loads(dumps(tr)))
    cut.steps = cut.steps[:-1]
    res = replay(cut, str(spec))
    assert not res.reproduced and "does not return" in res.message
    # The cycle moved to start one step late: it does not close either.
    late = Trace.from_dict(json.loads(dumps(tr)))
    late.loop_start = 2
    assert not replay(late, str(spec)).reproduced
    # The same run against a strongly fair waiter: an unfair cycle.
    fair = spec_file(SPINLOCK.format(qual="fair", hog="daemon", expect="starvation"))
    res = replay(tr, str(fair))
    assert not res.reproduced and "strong fairness" in res.message


def test_replay_rejects_a_cycle_unfair_to_a_continuously_enabled_thread(spec_file: Spec) -> None:
    """A lasso built by hand: the idler loops while the setter, enabled
    throughout, never moves. Not a fair run: replay says so."""
    ts = system(spec_file(WEAK))
    c = compile_system(ts)
    def idle(s: int) -> int:
        (n,) = [n for a, n in c.moves(s) if a.thread == 2]
        return n

    one = idle(c.initial)  # into the loop
    two = idle(one)
    assert idle(two) == one
    v = Violation(ViolationKind.STARVATION, "hand-made", None, [c.initial, one], cycle=[two, one])
    res = replay_on(build_trace(c, v), ts)
    assert not res.reproduced and "weak fairness" in res.message and "setter" in res.message


# ---------------------------------------------------------------- engines, syntax


def test_bmc_prove_and_export_refuse(spec_file: Spec, tmp_path: Path) -> None:
    spec = _spinlock(spec_file)
    for args in (["check", "--engine", "bmc", "--depth", "5"], ["prove", "-s", "s"],
                 ["export", "--promela", "-o", str(tmp_path / "x.pml")]):
        r = subprocess.run([*MIGCHECK, *args, str(spec)], capture_output=True, text=True,
                           timeout=300, cwd=ROOT)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert "error: scenario s runs daemon thread hog" in r.stderr
        assert "Traceback" not in r.stderr
    # A fair thread alone changes no safety verdict; `expect starvation` is refused.
    ts = system(_spinlock(spec_file, qual="fair", hog=""))
    assert ts.liveness_refusal() is not None and "expects starvation" in str(
        ts.liveness_refusal())


def test_prove_skips_liveness_scenarios_it_was_not_asked_for() -> None:
    r = subprocess.run([*MIGCHECK, "prove", str(LOST_WAKEUP), "--seconds", "20"],
                       capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "destroy_vs_putback_with_kcompactd: skipped: " in r.stdout


def test_qualifiers_parse_and_daemon_stays_an_identifier(spec_file: Spec) -> None:
    ts = system(spec_file("""
        int[0..1] daemon = 0;
        int[0..1] fair = 0;
        fair daemon thread d() { for (;;) { daemon = 1 - daemon; } }
        thread t() { fair = 1; }
        scenario s { run d(); run t(); }
    """))
    assert [(t.daemon, t.fair) for t in ts.threads] == [(True, True), (False, False)]
    with pytest.raises(SpecError) as info:
        system(spec_file("daemon daemon thread d() { }\nscenario s { run d(); }\n"))
    assert "a thread qualifier is repeated" in info.value.render()


# ---------------------------------------------------------------- against the definition


def _program(rng: random.Random) -> str:
    """A small program of waiters, spinners and loopers over two shared
    variables, some daemons, some strongly fair."""
    bodies = [
        "await x == {k}; y = {k};",
        "while (y != {k}) {{ x = {k}; }}",
        "for (;;) {{ either {{ x = {k}; }} or {{ y = {k}; break; }} }}",
        "x = {k}; await y == {k};",
        "atomic {{ await x == 0; x = {k}; }} x = 0;",
        "for (;;) {{ x = 1 - x; }}",
        "for (;;) {{ atomic {{ await x == 0; x = 1; }} x = 0; }}",
    ]
    lines = ["int[0..1] x = 0;", "int[0..1] y = 0;"]
    runs = []
    for i in range(rng.randint(1, 3)):
        body = rng.choice(bodies).format(k=rng.randint(0, 1))
        quals = [q for q in ("fair", "daemon") if rng.random() < 0.3]
        if "for (;;) { x = 1 - x; }" in body or (body.startswith("for") and rng.random() < 0.5):
            quals = [q for q in quals if q != "daemon"] + ["daemon"]
        lines.append(f"{' '.join(quals)} thread t{i}() {{ {body} }}".strip())
        runs.append(f"run t{i}();")
    lines.append(f"scenario s {{ {' '.join(runs)} }}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(40))
def test_agrees_with_the_naive_definition(tmp_path: Path, seed: int) -> None:
    text = _program(random.Random(seed))
    path = tmp_path / "p.mig"
    path.write_text(text)
    ts = system(path)
    want = explore(ts)
    got = run(path, opts=CheckOptions().fewest_switches(False))
    kind = got.violation.kind if got.violation else None
    assert kind == want.kind, text
    assert got.stats.states == want.states, text
    if kind == ViolationKind.STARVATION:
        assert got.violation is not None
        assert len(got.violation.path) - 1 == want.depth, text
        assert replay_on(build_trace(got.compiled, got.violation), ts).reproduced, text

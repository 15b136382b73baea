"""Progress labels and non-progress cycles (checker/explore/fairness.py,
`find_no_progress`; README "Liveness and fairness"): a thread that runs
forever must pass one of its `progress` labels infinitely often on every
fair run. The label marks only the step that runs through it; the lasso is
found by the explicit engine, the VM and depth-first search alike, and it
replays; the engines that encode no fair cycles refuse."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import networkx as nx

from checker.explore.options import CheckOptions
from checker.explore.properties import properties
from checker.explore.run import check
from checker.ir.interp import Fault, Interp
from checker.ir.nodes import TransitionSystem
from checker.kinds import ViolationKind
from checker.trace.jsonio import load, save
from checker.trace.model import build_trace
from checker.trace.replay import replay, replay_on
from checker.trace.text import render
from checker.vm.search import vm_bfs
from tests.conftest import ROOT, run, system

Spec = Callable[[str], Path]
MIGCHECK = [sys.executable, "-m", "checker"]

# A compaction daemon that only trylocks, as kcompactd's async compaction
# backs off a contended lock instead of spinning on it (compact_lock_irqsave()
# with spin_trylock_irqsave(), mm/compaction.c, Linux 6.1), and a hog that
# takes and drops the lock forever. On the cycle hog-lock, compactd-trylock
# (fails), hog-unlock, both threads move (fair), and compactd never reaches
# its progress label: a non-progress cycle.
TRYLOCK = """
    int[0..1] locked = 0;
    {hog}
    daemon thread compactd() {{
        for (;;) {{
            int[0..1] got = 0;
            {mark}atomic {{ if (locked == 0) {{ locked = 1; got = 1; }} }}
            if (got == 1) {{
                {label}
                locked = 0;
            }}
        }}
    }}
    scenario s {{ run hog(); run compactd(); expect {expect}; }}
"""
HOG = """daemon thread hog() {
        for (;;) {
            atomic { await locked == 0; locked = 1; }
            locked = 0;
        }
    }"""
# The fix: the other thread takes the lock once and is done. It is `fair`
# (strong fairness), else compactd could retake the lock each time and
# starve it (a starvation, not what this test is about).
ONCE = """fair thread hog() {
        atomic { await locked == 0; locked = 1; }
        locked = 0;
    }"""

# worker: its entry step, then the loop's one step from the label back to it:
# (pc, x) in (1,0) (2,1) (2,0), 3 states, 3 steps. The idler has the same
# shape: 3 x 3 = 9 states, each with both threads enabled: 18 steps.
WORKER = """
    int[0..1] x = 0;
    int[0..1] y = 0;
    daemon thread worker() { for (;;) { progress: x = 1 - x; } }
    daemon thread idler() { for (;;) { y = 1 - y; } }
    scenario alone { run worker(); expect verified; }
    scenario spun { run worker(); run idler(); expect verified; }
"""


def _trylock(spec_file: Spec, hog: str = HOG, expect: str = "no_progress",
             mark: str = "", label: str = "progress:") -> Path:
    return spec_file(TRYLOCK.format(hog=hog, expect=expect, mark=mark, label=label))


def test_a_daemon_that_passes_its_label_forever_is_verified(spec_file: Spec) -> None:
    spec = spec_file(WORKER)
    r = run(spec, "alone")
    assert r.verdict == "verified" and r.met
    assert (r.stats.states, r.stats.transitions) == (3, 3)
    ts = system(spec, "alone")
    # Both of the worker's steps run through the label (the entry step's
    # suffix loops back to it): both are marked.
    assert [a.progress for a in ts.actions] == [True, True]
    assert [p.name for p in properties(ts)].count("no_progress") == 1


def test_a_goto_to_the_label_passes_it(spec_file: Spec) -> None:
    """The mark sits after the label: the entry step falls into it, the
    loop's step jumps to it; both pass it."""
    spec = spec_file("""
        int[0..1] x = 0;
        daemon thread w() {
            progress_top:
            x = 1 - x;
            goto progress_top;
        }
        scenario s { run w(); expect verified; }
    """)
    assert [a.progress for a in system(spec).actions] == [True, True]
    r = run(spec)
    assert r.verdict == "verified" and (r.stats.states, r.stats.transitions) == (3, 3)


def test_weak_fairness_rules_out_a_cycle_where_only_another_thread_moves(
        spec_file: Spec) -> None:
    """On the idler's loop the worker never passes its label, but the worker
    is enabled in every state of it and never moves: no weakly fair run."""
    r = run(spec_file(WORKER), "spun")
    assert r.verdict == "verified" and r.met
    assert (r.stats.states, r.stats.transitions) == (9, 18)


def test_trylock_retry_forever_is_a_non_progress_cycle(spec_file: Spec) -> None:
    spec = _trylock(spec_file)
    r = run(spec)
    assert r.met and r.violation is not None
    assert (r.stats.states, r.stats.transitions) == (10, 18)
    v = r.violation
    assert v.kind == ViolationKind.NO_PROGRESS
    assert v.message.startswith("compactd() makes no progress: on a fair run that repeats "
                                "forever it moves but passes none of its progress labels")
    assert "(the cycle's steps: hog(), compactd())" in v.message
    # Prefix: hog locks, compactd's entry step; cycle: compactd's failed
    # trylock, hog's unlock, hog's lock.
    assert len(v.path) - 1 == 2 and len(v.cycle) == 3
    tr = build_trace(r.compiled, v)
    assert tr.loop_start == 2 and [s.thread for s in tr.steps] == [1, 2, 2, 1, 1]
    assert [s.line for s in tr.steps][2:] == [12, 6, 5]  # trylock, unlock, lock
    text = render(tr)
    assert "from here the run repeats forever (steps 3..5)" in text
    assert "back to step 3" in text
    ok = replay(tr, str(spec))
    assert ok.reproduced, ok.message
    assert "a fair cycle on which T2 compactd() passes no progress label" in ok.message
    # Only the steps that run through the label are marked: those of a
    # successful trylock, whose local suffix (`if (got == 1)`) passes the
    # label and stops before the unlock; not the unlock itself, not a
    # failed trylock, not the hog's.
    ts = system(spec)
    unlock = [a for a in ts.actions if a.thread == 2 and a.origin.span.line == 15]
    assert len(unlock) == 1 and not unlock[0].progress
    marked = [a for a in ts.actions if a.progress]
    assert marked and marked == [a for a in ts.actions
                                 if a.thread == 2 and a.dst == unlock[0].src]
    assert all(a.origin.span.line == 12 for a in marked)


def test_lasso_json_round_trip_replays(spec_file: Spec, tmp_path: Path) -> None:
    spec = _trylock(spec_file)
    r = run(spec)
    assert r.violation is not None
    out = tmp_path / "t.json"
    save(build_trace(r.compiled, r.violation), out)
    back = load(out)
    assert back.kind == "no_progress" and back.loop_start == 2 and len(back.steps) == 5
    assert replay(back, str(spec)).reproduced


def test_replay_rejects_the_cycle_when_the_retry_passes_a_label(spec_file: Spec) -> None:
    """The same steps, with a progress label on the trylock itself: the cycle
    passes it, so it is no non-progress cycle; a cycle moved off its state
    does not close."""
    spec = _trylock(spec_file)
    r = run(spec)
    assert r.violation is not None
    tr = build_trace(r.compiled, r.violation)
    marked = _trylock(spec_file, mark="progress_try: ")
    res = replay(tr, str(marked))
    assert not res.reproduced
    assert "every thread with a progress label passes one on the cycle" in res.message
    late = build_trace(r.compiled, r.violation)
    late.loop_start = 3
    assert not replay(late, str(spec)).reproduced
    # ... and checking that spec finds no non-progress cycle at all.
    fixed = run(_trylock(spec_file, mark="progress_try: ", expect="verified"))
    assert fixed.verdict == "verified" and fixed.met


def test_a_lock_taken_once_leaves_compactd_progressing(spec_file: Spec) -> None:
    """The other thread takes the lock once: while it holds it, it is
    enabled (its unlock) in every state of compactd's failing retries, so
    those cycles are unfair; once it is done every trylock succeeds."""
    r = run(_trylock(spec_file, hog=ONCE, expect="verified"))
    assert r.verdict == "verified" and r.met
    assert (r.stats.states, r.stats.transitions) == (10, 15)


def test_without_the_label_nothing_is_judged(spec_file: Spec) -> None:
    spec = _trylock(spec_file, label="", expect="verified")
    r = run(spec)
    assert r.verdict == "verified" and r.met
    assert (r.stats.states, r.stats.transitions) == (10, 18)
    assert "no_progress" not in [p.name for p in properties(system(spec))]


def test_dfs_and_the_vm_find_the_same_lasso(spec_file: Spec) -> None:
    spec = _trylock(spec_file)
    bfs = run(spec)
    dfs = run(spec, opts=CheckOptions().strategy("dfs"))
    ts = system(spec)
    vm = check(ts, CheckOptions(), engine=vm_bfs)
    for r in (dfs, vm):
        assert r.met and r.violation is not None and bfs.violation is not None
        assert r.violation.kind == ViolationKind.NO_PROGRESS
        assert (r.stats.states, r.stats.transitions) == (10, 18)
        assert (r.violation.path, r.violation.cycle) == (bfs.violation.path,
                                                         bfs.violation.cycle)
    assert vm.violation is not None
    assert replay_on(build_trace(vm.compiled, vm.violation), ts).reproduced
    ok = check(system(spec_file(WORKER), "spun"), CheckOptions(), engine=vm_bfs)
    assert ok.verdict == "verified" and (ok.stats.states, ok.stats.transitions) == (9, 18)


def test_property_selection(spec_file: Spec) -> None:
    spec = _trylock(spec_file)
    only = run(spec, opts=CheckOptions(properties=["no_progress"]))
    assert only.violation is not None and only.violation.kind == ViolationKind.NO_PROGRESS
    other = run(spec, opts=CheckOptions(properties=["starvation"]))
    assert other.violation is None


def test_bmc_prove_and_export_refuse_a_progress_label(spec_file: Spec, tmp_path: Path) -> None:
    """A plain (not daemon) thread with a label: refused for the label."""
    spec = spec_file("""
        int[0..1] x = 0;
        thread t() { progress: x = 1; }
        scenario s { run t(); expect verified; }
    """)
    assert run(spec).verdict == "verified"
    for args in (["check", "--engine", "bmc", "--depth", "3"], ["prove", "-s", "s"],
                 ["export", "--promela", "-o", str(tmp_path / "x.pml")]):
        r = subprocess.run([*MIGCHECK, *args, str(spec)], capture_output=True, text=True,
                           timeout=300, cwd=ROOT)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert "thread t has a progress label" in r.stderr
        assert "Traceback" not in r.stderr


# ---------------------------------------------------------------- the definition, naively

Edge = tuple[int, bool, tuple[int, ...]]  # (thread id, passes a progress label, successor)


def _naive(ts: TransitionSystem) -> tuple[int, int, int | None]:
    """(states, steps, distance from the initial state to the nearest state
    of a non-progress cycle or None): every state and step recomputed with
    the interpreter (no step faults in these specs), then for each thread
    with a label, Emerson-Lei over the states where it is started, with its
    steps that pass a label left out; weak fairness for every thread,
    strong for `fair` ones, "enabled" counting every step."""
    interp = Interp(ts.slots, ts.pools)
    start = tuple(ts.initial)
    dist = {start: 0}
    out: dict[tuple[int, ...], list[Edge]] = {}
    todo = [start]
    while todo:
        st = todo.pop(0)
        out[st] = []
        for t in ts.threads:
            for a in ts.actions_at(t.id, st[t.pc_slot]):
                try:
                    new = interp.step(a, list(st), t.pc_slot)
                except Fault:
                    raise AssertionError("no step faults here") from None
                if new is None:
                    continue
                nxt = tuple(new)
                out[st].append((t.id, a.progress, nxt))
                if nxt not in dist:
                    dist[nxt] = dist[st] + 1
                    todo.append(nxt)
    steps = sum(len({(th, n) for th, _, n in e}) for e in out.values())
    best: int | None = None
    for t in ts.threads:
        if not any(a.progress and a.thread == t.id for a in ts.actions):
            continue
        kept = {st: [(th, n) for th, p, n in e if th != t.id or not p] for st, e in out.items()}
        enabled = {st: {th for th, _, _ in e} for st, e in out.items()}
        parts = [{st for st in out if st[t.pc_slot] != 0}]
        while parts:
            part = parts.pop()
            g: nx.DiGraph = nx.DiGraph()
            g.add_nodes_from(part)
            g.add_edges_from((st, n) for st in part for _, n in kept[st] if n in part)
            for scc in nx.strongly_connected_components(g):
                moved = {th for st in scc for th, n in kept[st] if n in scc}
                if not moved:
                    continue
                strong = {st for st in scc for u in ts.threads
                          if u.fair and u.id not in moved and u.id in enabled[st]}
                if strong:
                    parts.append(set(scc) - strong)
                    continue
                if any(all(u.id in enabled[st] for st in scc) and u.id not in moved
                       for u in ts.threads):
                    continue
                near = min(dist[st] for st in scc)
                best = near if best is None else min(best, near)
    return len(dist), steps, best


def test_agrees_with_the_naive_definition(spec_file: Spec) -> None:
    """Verdict, states, steps and the prefix's length, on every spec above."""
    cases = [(_trylock(spec_file), None), (_trylock(spec_file, hog=ONCE, expect="verified"), None),
             (_trylock(spec_file, mark="progress_try: ", expect="verified"), None),
             (spec_file(WORKER), "alone"), (spec_file(WORKER), "spun")]
    seen = []
    for spec, scenario in cases:
        ts = system(spec, scenario)
        states, steps, near = _naive(ts)
        r = run(spec, scenario)
        assert (r.stats.states, r.stats.transitions) == (states, steps), spec
        if near is None:
            assert r.violation is None, spec
        else:
            assert r.violation is not None and len(r.violation.path) - 1 == near, spec
        seen.append(near)
    assert seen == [2, None, None, None, None]

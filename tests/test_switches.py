"""Counterexamples with the fewest thread switches among the shortest ones.

The pass must keep every guarantee of the search's own path (same length,
same last state, a run of the reference semantics) and reach the true
minimum, which the random-program test computes by brute force: every
shortest path to the violating state, enumerated.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from checker.explore.codegen import compile_system
from checker.explore.options import CheckOptions
from checker.explore.run import check
from checker.explore.switches import _sound, _successors, switches
from checker.trace.model import build_trace
from checker.trace.replay import replay_on
from tests.conftest import ROOT, run, systems
from tests.programs import programs

SETTINGS = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


def _threads_of(c, v) -> list[int]:
    """The thread of each step of a violation's path (and its faulting step)."""
    out = []
    for s, t in zip(v.path, v.path[1:], strict=False):
        out.append(next(a.thread for a, u in c.moves(s) if u == t))
    if v.fault_action is not None:
        out.append(c.ts.actions[v.fault_action].thread)
    return out


def _brute_minimum(c, v) -> int | None:
    """The fewest switches over every shortest path to v's last state, by
    enumeration (None when there are too many paths to enumerate)."""
    depth = len(v.path) - 1
    layers = [{c.initial}]
    seen = {c.initial}
    for _ in range(depth):
        nxt = set()
        for s in layers[-1]:
            for t, _th in _successors(c, s):
                if t not in seen:
                    nxt.add(t)
        seen |= nxt
        layers.append(nxt)
    fault = [c.ts.actions[v.fault_action].thread] if v.fault_action is not None else []
    best = None
    budget = [20_000]

    def walk(s: int, k: int, threads: list[int]) -> None:
        nonlocal best
        budget[0] -= 1
        if budget[0] < 0:
            return
        if k == depth:
            if s == v.path[-1]:
                n = switches(threads + fault)
                best = n if best is None else min(best, n)
            return
        for t, th in _successors(c, s):
            if t in layers[k + 1] and (k + 1 == depth or _sound(c, t)):
                walk(t, k + 1, [*threads, th])

    walk(c.initial, 0, [])
    return None if budget[0] < 0 else best


def test_the_zsmalloc_race_is_drawn_with_two_switches():
    # 48b4800a1c without trypin: the reader pins and decodes (3 steps), the
    # migrator runs to the free of the old page, the reader maps it. The
    # search's own path had the reader take its read lock mid-migration
    # (4 switches); the same 43 steps can be drawn with 2.
    r = run(ROOT / "specs/zsmalloc/map_vs_migrate.mig", "map_vs_migrate_notrypin")
    assert r.violation is not None and r.compiled is not None
    threads = _threads_of(r.compiled, r.violation)
    assert len(threads) == 43
    assert threads == [1] * 3 + [2] * 38 + [1] * 2
    plain = check(systems(ROOT / "specs/zsmalloc/map_vs_migrate.mig",
                          scenarios=["map_vs_migrate_notrypin"])[0],
                  CheckOptions().fewest_switches(False))
    assert plain.violation is not None and plain.compiled is not None
    assert switches(_threads_of(plain.compiled, plain.violation)) == 4


@SETTINGS
@given(programs())
def test_fewest_switches_on_random_programs(tmp_path, text):
    path = tmp_path / "random.mig"
    path.write_text(text)
    ts = systems(path)[0]
    fewest = check(ts)
    plain = check(ts, CheckOptions().fewest_switches(False))
    assert (fewest.violation is None) == (plain.violation is None), text
    if fewest.violation is None or fewest.violation.cycle:
        return
    v, p = fewest.violation, plain.violation
    assert p is not None and fewest.compiled is not None and plain.compiled is not None
    assert (v.kind, v.name, len(v.path), v.path[-1], v.fault_action) == \
        (p.kind, p.name, len(p.path), p.path[-1], p.fault_action), text
    c = compile_system(ts)
    mine = switches(_threads_of(fewest.compiled, v))
    assert mine <= switches(_threads_of(plain.compiled, p)), text
    brute = _brute_minimum(c, v)
    if brute is not None:
        assert mine == brute, text
    assert replay_on(build_trace(fewest.compiled, v), ts).reproduced, text

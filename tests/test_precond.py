"""checker.ir.precond against the reference interpreter.

For every action of a program and many states (reachable ones and arbitrary
ones, where faults abound), the pre-state conditions must say exactly what
`Interp.step` does: blocks, faults at a check of the same kind (and
property), or completes with, slot by slot, the state the interpreter
computes. The conditions themselves must never fault.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from checker.dsl.loader import load_program
from checker.ir.build import build_all
from checker.ir.interp import Fault, Interp
from checker.ir.nodes import (
    TRUE,
    Action,
    Assign,
    Binary,
    Const,
    Dyn,
    Loc,
    PoolInfo,
    Read,
    Require,
    Slot,
    TransitionSystem,
)
from checker.ir.precond import Symbolic, post_value, step_outcomes
from tests.conftest import ROOT
from tests.heap_programs import heap_programs
from tests.programs import programs

SPECS = sorted((ROOT / "specs").rglob("*.mig"))
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


def reachable(ts: TransitionSystem, limit: int) -> list[tuple[int, ...]]:
    interp = Interp(ts.slots, ts.pools)
    seen = {tuple(ts.initial)}
    frontier = [tuple(ts.initial)]
    while frontier and len(seen) < limit:
        nxt = []
        for s in frontier:
            for t in ts.threads:
                for a in ts.actions_at(t.id, s[t.pc_slot]):
                    try:
                        new = interp.step(a, s, t.pc_slot)
                    except Fault:
                        continue
                    if new is not None and tuple(new) not in seen:
                        seen.add(tuple(new))
                        nxt.append(tuple(new))
        frontier = nxt
    return sorted(seen)[:limit]


def arbitrary(ts: TransitionSystem, n: int, seed: int) -> list[tuple[int, ...]]:
    rng = random.Random(seed)
    return [tuple(rng.randint(s.lo, s.hi) for s in ts.slots) for _ in range(n)]


def agree(ts: TransitionSystem, actions: Iterable[Action], states: Sequence[tuple[int, ...]]
          ) -> int:
    """Compare precond with the interpreter; returns how many (action, state)
    pairs were compared."""
    interp = Interp(ts.slots, ts.pools)
    sym = Symbolic(ts.slots, ts.pools)
    compared = 0
    for a in actions:
        out = step_outcomes(a.guard, a.body, ts.slots, ts.pools)
        posts = [[post_value(sym, env, i) for i in range(len(ts.slots))] for _c, env in out.done]
        for st in states:
            want_fault: Fault | None = None
            new: list[int] | None = None
            try:
                new = interp.step(a, st, None)
            except Fault as f:
                want_fault = f
            blocked = interp.eval(out.blocked, st)
            failed = [k for k, cond in out.faults.items() if interp.eval(cond, st)]
            where = f"action a{a.id} in state {st}"
            if want_fault is not None:
                assert not blocked, where
                assert len(failed) == 1, (where, failed)
                check = out.checks[failed[0]]
                assert check.kind == want_fault.kind, (where, check, want_fault.kind)
                if want_fault.prop >= 0:
                    assert check.prop == want_fault.prop, where
            elif new is None:
                assert blocked and not failed, (where, failed)
            else:
                assert not blocked and not failed, (where, failed)
                paths = [k for k, (cond, _env) in enumerate(out.done) if interp.eval(cond, st)]
                assert len(paths) == 1, where
                got = [interp.eval(e, st) for e in posts[paths[0]]]
                assert got == new, where
            compared += 1
    return compared


def _build(tmp_path: Path, text: str) -> TransitionSystem:
    path = tmp_path / "random.mig"
    path.write_text(text)
    return build_all(load_program(path, [ROOT / "models"]))[0]


def test_specs_actions_in_reachable_and_arbitrary_states() -> None:
    """The first quick scenario of each spec (the others share its code):
    a few states each, as the conditions are large and the interpreter slow."""
    compared = 0
    for spec in SPECS:
        quick = [ts for ts in build_all(load_program(spec)) if "slow" not in ts.tags]
        if quick:
            ts = quick[0]
            states = reachable(ts, 8) + arbitrary(ts, 4, seed=len(ts.slots))
            compared += agree(ts, ts.actions, states)
    assert compared > 1000


@SETTINGS
@given(heap_programs())
def test_heap_programs(tmp_path: Path, text: str) -> None:
    ts = _build(tmp_path, text)
    agree(ts, ts.actions, reachable(ts, 40) + arbitrary(ts, 12, seed=7))


@SETTINGS
@given(programs())
def test_small_programs(tmp_path: Path, text: str) -> None:
    ts = _build(tmp_path, text)
    agree(ts, ts.actions, reachable(ts, 40) + arbitrary(ts, 8, seed=3))


def test_a_require_after_a_store_reads_the_stored_value() -> None:
    """x := x + 1; require x == 2: enabled exactly where x == 1 before."""
    slots = [Slot(0, "x", 0, 3, 0, "int")]
    pools: dict[str, PoolInfo] = {}
    x = Loc(0)
    body = (Assign(x, Binary("+", Read(x), Const(1))), Require(Binary("==", Read(x), Const(2))))
    out = step_outcomes(TRUE, body, slots, pools)
    interp = Interp(slots, pools)
    assert [interp.eval(out.blocked, [v]) for v in range(4)] == [1, 0, 1, 0]
    # x == 3 overflows the range 0..3: a fault, not a block
    assert [any(interp.eval(c, [v]) for c in out.faults.values()) for v in range(4)] == \
        [0, 0, 0, 1]


def test_a_store_through_an_index_is_seen_by_a_read_of_the_same_slot() -> None:
    """a[i] := 3; require a[1] == 3: enabled where i == 1 or a[1] was 3."""
    slots = [Slot(0, "a[0]", 0, 3, 0, "int"), Slot(1, "a[1]", 0, 3, 0, "int"),
             Slot(2, "i", 0, 2, 0, "int")]
    pools: dict[str, PoolInfo] = {}
    elem = Loc(0, (Dyn(Read(Loc(2)), 1, 2),))
    body = (Assign(elem, Const(3)), Require(Binary("==", Read(Loc(1)), Const(3))))
    out = step_outcomes(TRUE, body, slots, pools)
    interp = Interp(slots, pools)
    assert interp.eval(out.blocked, [0, 0, 0]) == 1
    assert interp.eval(out.blocked, [0, 0, 1]) == 0
    assert interp.eval(out.blocked, [0, 3, 0]) == 0
    # i == 2 is out of bounds: a fault
    assert [interp.eval(c, [0, 0, 2]) for c in out.faults.values()].count(1) == 1

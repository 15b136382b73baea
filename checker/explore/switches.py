"""Among the shortest counterexamples, one with the fewest thread switches.

Breadth-first search returns *a* shortest path to a violation: the one its
parent map happens to record, which may hop between threads more than it
must. A reviewer reads a race diagram by its switches (each one is a place
where the interleaving matters), so the path is re-chosen among all the
shortest ones to the same violating state.

Every prefix of a shortest path is itself shortest, so the i-th state of any
shortest path lies in the i-th breadth-first layer. The pass re-runs the
layers up to the violation's depth, keeping for each (state, thread that
made the last step) the fewest switches that reach it, and reads the best
path back. It steps the same compiled actions as the search, skips steps
that fault and states that break an invariant (the search does not go
through them either), and costs about one more search to that depth, so it
is done only when the search itself was small enough (`MAX_STATES`).
"""

from __future__ import annotations

import itertools
from dataclasses import replace

from checker.explore.codegen import Compiled
from checker.explore.result import Violation

MAX_STATES = 300_000  # the search's own states above which the pass is skipped

Key = tuple[int, int]  # (state, thread id of the step that reached it; 0 for the initial state)


def switches(threads: list[int]) -> int:
    """How often consecutive steps change thread."""
    return sum(1 for a, b in itertools.pairwise(threads) if a != b)


def fewest_switches(c: Compiled, v: Violation) -> Violation:
    """`v` with its path replaced by a shortest path to the same last state
    that switches threads as seldom as any; `v` itself when it is already
    such a path, or is a livelock (its cycle is chosen separately)."""
    if v.cycle or len(v.path) < 3:
        return v
    depth = len(v.path) - 1
    target = v.path[-1]
    fault_thread = c.ts.actions[v.fault_action].thread if v.fault_action is not None else 0
    seen = {c.initial}
    layer: dict[Key, tuple[int, Key | None]] = {(c.initial, 0): (0, None)}
    history: list[dict[Key, tuple[int, Key | None]]] = [layer]
    for k in range(1, depth + 1):
        nxt: dict[Key, tuple[int, Key | None]] = {}
        fresh: set[int] = set()
        for key, (cost, _) in layer.items():
            s, last = key
            for t, th in _successors(c, s):
                if t in seen or (k < depth and not _sound(c, t)):
                    continue
                if k == depth and t != target:
                    continue
                fresh.add(t)
                n = cost + (1 if last and th != last else 0)
                got = nxt.get((t, th))
                if got is None or n < got[0]:
                    nxt[(t, th)] = (n, key)
        seen |= fresh
        layer = nxt
        history.append(layer)
        if not layer:
            return v  # cannot happen for a shortest path; keep the search's
    best: Key | None = None
    best_cost = -1
    for key, (cost, _) in layer.items():
        total = cost + (1 if fault_thread and key[1] != fault_thread else 0)
        if best is None or total < best_cost or (total == best_cost and key < best):
            best, best_cost = key, total
    assert best is not None
    path: list[int] = []
    at: Key | None = best
    for k in range(depth, -1, -1):
        assert at is not None
        path.append(at[0])
        at = history[k][at][1]
    path.reverse()
    return replace(v, path=path)


def _successors(c: Compiled, s: int) -> list[tuple[int, int]]:
    """(successor, thread id) of every step from `s` that does not fault."""
    return [(t, a.thread) for a, t in c.moves(s)]


def _sound(c: Compiled, t: int) -> bool:
    """Whether the search would go on from `t` (no invariant broken there)."""
    return c.invariant is None or c.invariant(t) == -1

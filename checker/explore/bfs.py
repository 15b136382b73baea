"""Breadth-first search: the first violation found has a shortest trace.

When the scenario expects a violation, the search looks for the shortest
counterexample of *that* violation: a different violation met on the way is
recorded (and reported) but does not stop the search, and the state that
broke it is not explored further.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from checker.explore.codegen import Compiled
from checker.explore.common import (
    Outcome,
    StateGraph,
    check_invariant,
    expand_safely,
    offer_faults,
    terminal,
    warned_slowly,
)
from checker.explore.limits import CHECK_EVERY, Budget
from checker.explore.por import reducer
from checker.explore.result import Stats
from checker.ir.interp import Fault


def path_to(parent: Mapping[int, int], s: int, init: int) -> list[int]:
    out = [s]
    while s != init:
        s = parent[s]
        out.append(s)
    out.reverse()
    return out


@dataclass
class Level:
    """The search between two levels, as `Handover.resume` receives it."""

    parent: dict[int, int]  # every state found, in discovery order
    start: int  # the discovery number of the first state of the next level
    frontier: list[int]  # the states of that level to expand (the others broke an invariant)
    depth: int
    transitions: int


Resume = Callable[[Compiled, Budget, Stats, Outcome, "StateGraph | None", Level],
                  Mapping[int, int]]


@dataclass(frozen=True)
class Handover:
    """A faster engine that takes the search over at the first level
    boundary with at least `after` states (checker.vm: loading its compiled
    kernel costs a fixed fraction of a second that a small search never
    earns back). States are numbered in discovery order on both sides, so
    the figures and the counterexample are those of one search."""

    after: int
    resume: Resume


def bfs(c: Compiled, budget: Budget, stats: Stats, out: Outcome,
        graph: StateGraph | None = None, handover: Handover | None = None) -> Mapping[int, int]:
    """Search; fills `out` and returns the parent map of every visited state.
    With `graph`, every expanded state's steps are numbered there for the
    livelock pass."""
    init = c.initial
    parent: dict[int, int] = {init: init}
    budget.watch(parent, *([graph.index] if graph is not None else []))
    expand = c.expand
    reduce = reducer(c)  # --por
    inv = c.invariant
    cap = budget.state_cap
    pending = c.runtime.pending  # warnings fired by the steps of one expansion
    pending.clear()

    def path(s: int) -> Callable[[], list[int]]:
        return lambda: path_to(parent, s, init)

    def sync(depth: int, transitions: int) -> None:
        stats.states, stats.transitions, stats.depth = len(parent), transitions, depth

    stats.states = 1
    if inv is not None and out.offer(check_invariant(c, init, path(init))):
        return parent
    frontier = [init] if not out.any_recorded else []
    depth = 0
    countdown = 1  # the first check at once: a memory limit may already be exceeded
    checks = 0  # budget checks so far: the k-th comes after (k-1) * CHECK_EVERY expansions
    transitions = 0
    level_start = 1  # discovery number of the first state the next level will find
    while frontier:
        nxt: list[int] = []
        append = nxt.append
        for s in frontier:
            countdown -= 1
            if countdown == 0:
                countdown = CHECK_EVERY
                sync(depth, transitions)
                checks += 1
                stats.queue = len(parent) - (checks - 1) * CHECK_EVERY
                out.limit = budget.exceeded(stats)
                if out.limit:
                    return parent
            try:
                succ = expand(s) if reduce is None else reduce(s, parent)
            except Fault:
                succ, faults = expand_safely(c, s, path(s))
                warned_slowly(c, s)
                if pending:
                    out.warned(c, s, path(s))
                if offer_faults(out, faults):
                    sync(depth, transitions)
                    return parent
                if not succ:
                    continue  # a step faulted: the state is not a deadlock
            if pending:
                out.warned(c, s, path(s))
            if graph is not None:
                graph.add(s, succ)
            if not succ:
                if out.offer(terminal(c, s, path(s))):
                    sync(depth, transitions)
                    return parent
                continue
            transitions += len(succ)
            for t in succ:
                if t not in parent:
                    if len(parent) >= cap:  # a new state beyond the cap: not stored
                        sync(depth, transitions)
                        out.limit = budget.over_states()
                        return parent
                    parent[t] = s
                    if inv is not None:
                        bad = check_invariant(c, t, path(t))
                        if bad is not None:
                            if out.offer(bad):
                                sync(depth + 1, transitions)
                                return parent
                            continue
                    append(t)
        if nxt:
            depth += 1
            if handover is not None and len(parent) >= handover.after:
                sync(depth, transitions)
                return handover.resume(c, budget, stats, out, graph,
                                       Level(parent, level_start, nxt, depth, transitions))
        frontier = nxt
        level_start = len(parent)
    sync(depth, transitions)
    return parent

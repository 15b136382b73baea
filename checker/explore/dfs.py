"""Depth-first search: less memory for the frontier, traces not shortest.
Violations other than an expected one are handled as in `bfs`.

With `--por` a state is expanded by its ample steps (`checker.explore.por`)
unless one of their successors is on the search stack (the stack proviso:
such a step closes a cycle of reduced expansions, along which another
thread's step could be postponed forever), in which case by every step."""

from __future__ import annotations

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


def dfs(c: Compiled, budget: Budget, stats: Stats, out: Outcome,
        graph: StateGraph | None = None) -> dict[int, int]:
    init = c.initial
    parent: dict[int, int] = {init: init}
    budget.watch(parent, *([graph.index] if graph is not None else []))
    expand = c.expand
    inv = c.invariant
    path: list[int] = [init]
    reduce = reducer(c)
    on_path: set[int] = {init}  # the stack's states, for the proviso (with --por)
    pending = c.runtime.pending  # warnings fired by the steps of one expansion
    pending.clear()
    transitions = 0
    max_depth = 0

    def sync() -> None:
        stats.states, stats.transitions, stats.depth = len(parent), transitions, max_depth

    def successors(s: int) -> list[int] | None:
        """Successors of the state on top of `path`; None when the search ends."""
        try:
            succ = expand(s) if reduce is None else reduce(s, on_path)
        except Fault:
            succ, faults = expand_safely(c, s, lambda: list(path))
            warned_slowly(c, s)
            if pending:
                out.warned(c, s, lambda: list(path))
            if offer_faults(out, faults):
                return None
            return succ  # a step faulted: the state is not a deadlock
        if pending:
            out.warned(c, s, lambda: list(path))
        if graph is not None:
            graph.add(s, succ)
        if not succ and out.offer(terminal(c, s, lambda: list(path))):
            return None
        return succ

    if inv is not None and out.offer(check_invariant(c, init, lambda: list(path))):
        return parent
    if out.any_recorded:
        return parent
    first = successors(init)
    if first is None:
        sync()
        return parent
    stack: list[tuple[list[int], int]] = [(first, 0)]
    transitions = len(first)
    countdown = 1  # the first check at once: a memory limit may already be exceeded
    while stack:
        succ, i = stack[-1]
        if i == len(succ):
            stack.pop()
            on_path.discard(path.pop())
            continue
        stack[-1] = (succ, i + 1)
        t = succ[i]
        if t in parent:
            continue
        if len(parent) >= budget.state_cap:  # a new state beyond the cap: not stored
            sync()
            out.limit = budget.over_states()
            return parent
        parent[t] = path[-1]
        path.append(t)
        on_path.add(t)
        if len(path) - 1 > max_depth:
            max_depth = len(path) - 1
        if inv is not None:
            v = check_invariant(c, t, lambda: list(path))
            if v is not None:
                if out.offer(v):
                    sync()
                    return parent
                on_path.discard(path.pop())
                continue
        countdown -= 1
        if countdown == 0:
            countdown = CHECK_EVERY
            sync()
            stats.queue = len(path)
            out.limit = budget.exceeded(stats)
            if out.limit:
                return parent
        nxt = successors(t)
        if nxt is None:
            sync()
            return parent
        if not nxt:
            on_path.discard(path.pop())
            continue
        transitions += len(nxt)
        stack.append((nxt, 0))
    sync()
    return parent

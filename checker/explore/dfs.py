"""Depth-first search: less memory for the frontier, traces not shortest."""

from __future__ import annotations

from checker.explore.codegen import Compiled
from checker.explore.common import check_invariant, fault_violation, terminal
from checker.explore.limits import CHECK_EVERY, Budget
from checker.explore.result import Stats, Violation
from checker.ir.interp import Fault


def dfs(c: Compiled, budget: Budget, stats: Stats) -> tuple[Violation | None, str | None,
                                                             dict[int, int]]:
    init = c.initial
    parent: dict[int, int] = {init: init}
    expand = c.expand
    inv = c.invariant
    path: list[int] = [init]

    if inv is not None:
        v = check_invariant(c, init, lambda: list(path))
        if v is not None:
            return v, None, parent
    try:
        first = expand(init)
    except Fault:
        return fault_violation(c, init, [init]), None, parent
    if not first:
        v = terminal(c, init, [init])
        return v, None, parent
    stack: list[tuple[list[int], int]] = [(first, 0)]
    transitions = len(first)
    max_depth = 0
    countdown = CHECK_EVERY
    while stack:
        succ, i = stack[-1]
        if i == len(succ):
            stack.pop()
            path.pop()
            continue
        stack[-1] = (succ, i + 1)
        t = succ[i]
        if t in parent:
            continue
        parent[t] = path[-1]
        path.append(t)
        if inv is not None:
            v = check_invariant(c, t, lambda: list(path))
            if v is not None:
                stats.states, stats.transitions, stats.depth = len(parent), transitions, len(path) - 1
                return v, None, parent
        countdown -= 1
        if countdown == 0:
            countdown = CHECK_EVERY
            stats.states, stats.transitions, stats.depth = len(parent), transitions, max_depth
            hit = budget.exceeded(stats)
            if hit:
                return None, hit, parent
        try:
            nxt = expand(t)
        except Fault:
            stats.states, stats.transitions, stats.depth = len(parent), transitions, len(path) - 1
            return fault_violation(c, t, list(path)), None, parent
        if not nxt:
            v = terminal(c, t, list(path))
            if v is not None:
                stats.states, stats.transitions, stats.depth = len(parent), transitions, len(path) - 1
                return v, None, parent
            path.pop()
            continue
        transitions += len(nxt)
        stack.append((nxt, 0))
        if len(path) - 1 > max_depth:
            max_depth = len(path) - 1
    stats.states, stats.transitions, stats.depth = len(parent), transitions, max_depth
    return None, None, parent

"""Breadth-first search: the first violation found has a shortest trace."""

from __future__ import annotations

from collections.abc import Callable

from checker.explore.codegen import Compiled
from checker.explore.common import check_invariant, fault_violation, terminal
from checker.explore.limits import CHECK_EVERY, Budget
from checker.explore.result import Stats, Violation
from checker.ir.interp import Fault


def path_to(parent: dict[int, int], s: int, init: int) -> list[int]:
    out = [s]
    while s != init:
        s = parent[s]
        out.append(s)
    out.reverse()
    return out


def bfs(c: Compiled, budget: Budget, stats: Stats) -> tuple[Violation | None, str | None,
                                                             dict[int, int]]:
    """(violation, limit hit, parent map of every visited state)."""
    init = c.initial
    parent: dict[int, int] = {init: init}
    stats.states = 1
    expand = c.expand
    inv = c.invariant

    def path(s: int) -> Callable[[], list[int]]:
        return lambda: path_to(parent, s, init)

    if inv is not None:
        v = check_invariant(c, init, path(init))
        if v is not None:
            return v, None, parent
    frontier = [init]
    depth = 0
    countdown = CHECK_EVERY
    transitions = 0
    while frontier:
        nxt: list[int] = []
        append = nxt.append
        for s in frontier:
            countdown -= 1
            if countdown == 0:
                countdown = CHECK_EVERY
                stats.states, stats.transitions, stats.depth = len(parent), transitions, depth
                hit = budget.exceeded(stats)
                if hit:
                    return None, hit, parent
            try:
                succ = expand(s)
            except Fault:
                stats.states, stats.transitions, stats.depth = len(parent), transitions, depth
                return fault_violation(c, s, path_to(parent, s, init)), None, parent
            if not succ:
                v = terminal(c, s, path_to(parent, s, init))
                if v is not None:
                    stats.states, stats.transitions, stats.depth = len(parent), transitions, depth
                    return v, None, parent
                continue
            transitions += len(succ)
            for t in succ:
                if t not in parent:
                    parent[t] = s
                    append(t)
                    if inv is not None:
                        v = check_invariant(c, t, path(t))
                        if v is not None:
                            stats.states, stats.transitions = len(parent), transitions
                            stats.depth = depth + 1
                            return v, None, parent
        if nxt:
            depth += 1
        frontier = nxt
    stats.states, stats.transitions, stats.depth = len(parent), transitions, depth
    return None, None, parent

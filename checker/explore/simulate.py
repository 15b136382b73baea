"""Random simulation (TLC's -simulate): random walks from the initial state.

Each walk takes a successor chosen uniformly at random from the current
state's, with the Python engine's steps and its judgement of each state
(`common.py`: faults, deadlocks and final properties of states without a
successor, invariants), until no step is left, an invariant breaks, or the
walk is `depth` steps long. A walk never goes through a state that breaks
an invariant; a step that faults is left out of the choice (as the
breadth-first search goes on past it). Every distinct violation met
(one per property, `properties.property_of`) is kept with its shortest
walk, so the report lists them all; its trace is the walk itself, a real
run that `migcheck replay` reproduces.

Nothing is stored but the set of distinct states visited (a figure of the
report), so a walk can go far deeper than an exhaustive search reaches. A
simulation is never a proof: it ends with `out.limit` set, so `check`
reports *incomplete* when it finds nothing, and skips the passes that need
every state (livelock, starvation, lock usage).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping

from checker.explore.codegen import Compiled
from checker.explore.common import Outcome, StateGraph, check_invariant, expand_safely, terminal
from checker.explore.limits import CHECK_EVERY, Budget
from checker.explore.properties import property_of
from checker.explore.result import Coverage, Stats, Violation
from checker.ir.interp import Fault

Search = Callable[[Compiled, Budget, Stats, Outcome, StateGraph | None], Mapping[int, int]]


def simulation(walks: int, depth: int, seed: int = 0) -> Search:
    """A search with `check`'s engine contract that runs `walks` random
    walks of at most `depth` steps, seeded by `seed`."""

    def search(c: Compiled, budget: Budget, stats: Stats, out: Outcome,
               graph: StateGraph | None = None) -> Mapping[int, int]:
        rng = random.Random(seed)
        seen: set[int] = {c.initial}
        budget.watch(seen)
        found: dict[str, Violation] = {}

        def record(v: Violation | None) -> bool:
            """Keep `v` if it is its property's first or shortest; True if
            it was a violation."""
            if v is None:
                return False
            key = property_of(v)
            if out.wanted is not None and key not in out.wanted:
                return True
            old = found.get(key)
            if old is None or v.steps < old.steps:
                found[key] = v
            return True

        done = 0
        steps = 0
        if c.invariant is not None and record(check_invariant(c, c.initial, lambda: [c.initial])):
            walks_left = 0  # every walk starts in a broken state
        else:
            walks_left = walks
        while done < walks_left and out.limit is None:
            path = [c.initial]
            s = c.initial
            done += 1
            for _ in range(depth):
                steps += 1
                if steps % CHECK_EVERY == 0:
                    stats.states, stats.transitions = len(seen), steps
                    out.limit = budget.exceeded(stats)
                    if out.limit:
                        break
                here = frozen(path)
                faulted = False
                try:
                    succ = c.expand(s)
                except Fault:
                    succ, faults = expand_safely(c, s, here)
                    faulted = any([record(v) for v in faults])
                if c.runtime.pending:
                    out.warned(c, s, here)
                if not succ:
                    if not faulted:  # else the fault ended the run
                        record(terminal(c, s, here))
                    break
                t = rng.choice(succ)
                path.append(t)
                seen.add(t)
                stats.depth = max(stats.depth, len(path) - 1)
                if c.invariant is not None and record(check_invariant(c, t, frozen(path))):
                    break
                s = t
        stats.states, stats.transitions = len(seen), steps
        stats.coverage = Coverage("simulation", len(seen), searches=done,
                                  depth_bound=depth,
                                  detail=f"{done:,} random walks of at most {depth:,} steps "
                                         f"(seed {seed}), longest {stats.depth:,}")
        hand_over(out, list(found.values()))
        text = "random simulation: a partial search"
        out.limit = text if out.limit is None else f"{out.limit} ({text})"
        return {}

    return search


def frozen(path: list[int]) -> Callable[[], list[int]]:
    """The walk so far, as the judging functions take a path."""
    copy = list(path)
    return lambda: copy


def hand_over(out: Outcome, found: list[Violation]) -> None:
    """The violations a partial search collected, given to `out` as a
    search that met them in this order would: with --all-violations each
    in `found`; else the expected one (or the first) ends it and the
    others are noted."""
    if out.every:
        for v in found:
            out.found.setdefault(property_of(v), v)
        return
    for i, v in enumerate(found):
        if out.offer(v):
            for o in found[:i] + found[i + 1:]:
                if o not in out.others and not any(
                        x.kind == o.kind and x.name == o.name for x in out.others):
                    out.others.append(o)
            return

"""A run of K steps as z3 constraints, grown one step at a time.

`Unrolling` holds the states s_0..s_k (s_0 the initial state, or a free state
for induction), one choice variable per step (which action it takes), and
adds the transition constraints of each new step to a solver. Queries about
the states are made with `ask`, which keeps the solver's learnt facts
between depths and honours a deadline.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import z3

from checker.explore.limits import process_limits
from checker.explore.result import current_rss_mb
from checker.symbolic.encode import Encoding, Indicator, Num, disj


@dataclass
class Deadline:
    """Seconds left for the solver; None: no limit."""

    at: float | None = None

    @staticmethod
    def after(seconds: float | None) -> Deadline:
        return Deadline(None if seconds is None else time.monotonic() + seconds)

    def left(self) -> float | None:
        return None if self.at is None else self.at - time.monotonic()


@dataclass
class Unrolling:
    enc: Encoding
    solver: z3.Solver
    states: list[list[Num]] = field(default_factory=list)
    choices: list[z3.ExprRef] = field(default_factory=list)
    tag: str = "s"
    queries: int = 0
    memory_hit: bool = False  # a query was refused or stopped by --max-memory

    @staticmethod
    def from_initial(enc: Encoding, solver: z3.Solver, tag: str = "s") -> Unrolling:
        u = Unrolling(enc, solver, tag=tag)
        u._push_state(enc.initial())
        return u

    @staticmethod
    def from_any(enc: Encoding, solver: z3.Solver, tag: str = "s") -> Unrolling:
        """From a free state within the slots' ranges (for induction)."""
        u = Unrolling(enc, solver, tag=tag)
        s0 = enc.fresh(f"{tag}0")
        solver.add(enc.in_domain(s0))
        u._push_state(s0)
        return u

    def _push_state(self, s: list[Num]) -> None:
        self.states.append(s)

    @property
    def depth(self) -> int:
        return len(self.states) - 1

    def extend(self) -> None:
        """Add step depth -> depth+1."""
        k = self.depth
        s = self.states[k]
        nxt = self.enc.fresh(f"{self.tag}{k + 1}")
        choice = self.enc.choice_var(f"{self.tag}.act{k}")
        t = self.enc.template
        self.solver.add(t.at(t.trans, s, nxt, choice))
        self.choices.append(choice)
        self._push_state(nxt)

    def at(self, k: int, term: z3.BoolRef) -> z3.BoolRef:
        """A formula of the template's generic state, about state k."""
        return self.enc.template.at(term, self.states[k])

    def can_move(self, k: int) -> z3.BoolRef:
        t = self.enc.template
        return t.at(t.can_move, self.states[k])

    def covers(self, k: int) -> list[tuple[int, z3.BoolRef]]:
        """Covers reached by step k -> k+1 (it must have been added)."""
        t = self.enc.template
        return [(cv, t.at(cond, self.states[k], choice=self.choices[k])) for cv, cond in t.covers]

    def selected(self, k: int, action: int) -> z3.BoolRef:
        return self.enc.choice_is(self.choices[k], action)

    def distinct(self, i: int, j: int) -> z3.BoolRef:
        """States i and j differ (simple-path constraint)."""
        a, b = self.states[i], self.states[j]
        return disj([x != y for x, y in zip(a, b, strict=True)])

    def ask(self, goal: z3.BoolRef, deadline: Deadline
            ) -> tuple[z3.CheckSatResult, z3.ModelRef | None]:
        """Is `goal` satisfiable together with the unrolling? The answer, and a
        model when it is (unknown when the deadline passes)."""
        left = deadline.left()
        if left is not None:
            if left <= 0:
                return z3.unknown, None
            self.solver.set("timeout", max(1, int(left * 1000)))
        limits = process_limits()
        # --max-memory: checked between queries; z3's own ceiling (set by
        # `checker.symbolic.bmc`) stops one that grows past it.
        if limits is not None and limits.memory_mb is not None \
                and current_rss_mb() >= limits.memory_mb:
            self.memory_hit = True
            return z3.unknown, None
        self.queries += 1
        self.solver.push()
        try:
            self.solver.add(goal)
            try:
                result = self.solver.check()
            except z3.Z3Exception:
                if limits is None or limits.memory_mb is None:
                    raise
                self.memory_hit = True  # z3 ran out of the memory it was given
                return z3.unknown, None
            if result == z3.unknown and "memory" in self.solver.reason_unknown():
                self.memory_hit = True
            return result, (self.solver.model() if result == z3.sat else None)
        finally:
            self.solver.pop()

    def schedule(self, model: z3.ModelRef, steps: int) -> list[int]:
        """The actions of the first `steps` steps, idle steps left out."""
        idle = len(self.enc.ts.actions)
        chosen = [model.eval(self.choices[k], model_completion=True).as_long()
                  for k in range(steps)]
        return [a for a in chosen if a != idle]


def holds(model: z3.ModelRef, cond: z3.BoolRef) -> bool:
    return bool(z3.is_true(model.eval(cond, model_completion=True)))


def first_true(model: z3.ModelRef, inds: list[Indicator]) -> Indicator:
    for ind in inds:
        if holds(model, ind.cond):
            return ind
    raise AssertionError("the model satisfies none of the queried violations")


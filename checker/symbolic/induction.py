"""The step case of k-induction, with simple-path constraints.

Together with BMC from the initial state (the base case: no violation within
k steps), an unsatisfiable step case proves that no reachable state is a
violation: take a shortest run to a violating state; if it has more than k
steps, its last k+2 states are pairwise distinct, the first k+1 are not
violations, and the last is one, which the step case rules out.

The step case starts from *any* state within the slots' ranges, so it fails
when unreachable states lead to violations within k+1 steps; the simple-path
constraint makes it succeed at the latest when k+1 exceeds the longest loop-
free run (the recurrence diameter). An invariant of the reachable states
(`checker.symbolic.houdini`) rules out most unreachable starting states.
"""

from __future__ import annotations

import z3

from checker.symbolic.encode import Encoding, disj, negate
from checker.symbolic.unroll import Deadline, Unrolling


class InductionStep:
    """Step-case queries for k = 0, 1, 2, ... on one growing unrolling."""

    def __init__(self, enc: Encoding):
        self.enc = enc
        self.solver = z3.SolverFor("QF_BV")
        self.u = Unrolling.from_any(enc, self.solver, tag="i")
        self.bad = disj([i.cond for i in enc.template.indicators])
        self.k = -1
        self.invariant: z3.BoolRef | None = None

    def strengthen(self, invariant: z3.BoolRef) -> None:
        """Assume an invariant of every reachable state (over the template's
        state) in every state of the step case: the shortest run to a
        violation goes through reachable states only."""
        self.invariant = invariant
        for k in range(len(self.u.states)):
            self.solver.add(self.u.at(k, invariant))

    def check(self, deadline: Deadline) -> str:
        """Step case for the next k: "proved" (unsat), "failed" (a run of good
        states into a violation exists from some state), or "unknown"."""
        self.k += 1
        u = self.u
        k = self.k
        # t_0..t_k good, t_k -> t_{k+1}, t_{k+1} distinct from every earlier state.
        self.solver.add(u.at(k, negate(self.bad)))
        u.extend()
        if self.invariant is not None:
            self.solver.add(u.at(k + 1, self.invariant))
        for j in range(k + 1):
            self.solver.add(u.distinct(j, k + 1))
        answer, _ = u.ask(u.at(k + 1, self.bad), deadline)
        if answer == z3.unsat:
            return "proved"
        return "failed" if answer == z3.sat else "unknown"

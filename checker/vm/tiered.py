"""The default breadth-first search: the Python engine first, the VM past
a size.

Loading the VM's compiled kernel costs about 0.3 s in every process (numba
and LLVM start up), more than a small search takes in the Python engine
(`checker.explore.bfs`). So the search starts there and, at the first
level boundary with `VM_AFTER` states or more, hands its states, parents
and steps to the VM (`checker.vm.search.vm_resume`), which goes on from the
next level. Both number states in discovery order, so the result is the one
search either engine alone would give; `tests/test_vm.py` checks it on
every spec scenario and on random programs with small thresholds. A
scenario the VM cannot run (`NotSupported`: a slot or value beyond its
62-bit words) stays in the Python engine.

This module imports no numba: `vm_resume` is imported at the hand-over.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from checker.explore.bfs import Handover, Level, bfs
from checker.explore.codegen import Compiled
from checker.explore.common import Outcome, StateGraph
from checker.explore.limits import Budget
from checker.explore.result import Stats
from checker.vm.layout import NotSupported
from checker.vm.program import compile_program

# Measured with benchmarks/vm_handover.py (README "Figures"): below this the
# Python engine ends the search before the VM has paid its start-up.
VM_AFTER = 40_000

Search = Callable[[Compiled, Budget, Stats, Outcome, StateGraph | None], Mapping[int, int]]


def tiered_bfs(after: int = VM_AFTER) -> Search:
    """A breadth-first search (`bfs`'s contract) that moves to the VM at the
    first level boundary with at least `after` states."""

    def search(c: Compiled, budget: Budget, stats: Stats, out: Outcome,
               graph: StateGraph | None = None) -> Mapping[int, int]:
        try:
            prog = compile_program(c.ts, c.packing)
        except NotSupported:
            return bfs(c, budget, stats, out, graph)

        def resume(c: Compiled, budget: Budget, stats: Stats, out: Outcome,
                   graph: StateGraph | None, level: Level) -> Mapping[int, int]:
            from checker.vm.search import vm_resume

            return vm_resume(c, budget, stats, out, graph, level, prog)

        return bfs(c, budget, stats, out, graph, Handover(after, resume))

    return search



def default_engine(search: str) -> Search | None:
    """The search every command runs unless told otherwise: breadth-first
    goes through `tiered_bfs`; None leaves `check` its own (depth-first)."""
    return tiered_bfs() if search == "bfs" else None

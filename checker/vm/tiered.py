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

Once the VM's store holds `JIT_AFTER` states, its kernel is swapped for the
JIT's (the bytecode compiled by LLVM, `llvm_search.jit_kernel`), which
shares every array and counter, so the search goes on where it was.

This module imports no numba: `vm_resume` is imported at the hand-over,
llvmlite at the swap.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checker.explore.bfs import Handover, Level, bfs
from checker.explore.codegen import Compiled
from checker.explore.common import Outcome, StateGraph
from checker.explore.limits import Budget, gc_paused
from checker.explore.result import Stats
from checker.vm.layout import NotSupported, Words
from checker.vm.program import Program, compile_program

# Measured with benchmarks/vm_handover.py (README "Figures"): below this the
# Python engine ends the search before the VM has paid its start-up.
VM_AFTER = 40_000

# From the VM's interpreter to the JIT (checker/vm/llvm_*): compiling a
# scenario costs 0.05-1.2 CPU s the first time (then a cache load of under
# 0.1 s) and halves the search time from there (benchmarks/vm_jit.py), so it
# pays off for searches of about a million states and more.
JIT_AFTER = 1_000_000
# ... and when the scenario's object code is already in the JIT's cache, the
# swap costs a load (under 0.1 CPU s) and gains about 0.4-1 us a state
# (benchmarks/vm_jit.py; abba rung 4, sixteen threads mostly blocked: 1.7
# against 0.6 us), so it happens once the store holds this many.
JIT_CACHED_AFTER = 100_000

Search = Callable[[Compiled, Budget, Stats, Outcome, StateGraph | None], Mapping[int, int]]


def tiered_bfs(after: int = VM_AFTER, jit_after: int | None = JIT_AFTER,
               workers: int = 1) -> Search:
    """A breadth-first search (`bfs`'s contract) that moves to the VM at the
    first level boundary with at least `after` states, and from the VM's
    interpreter to its JIT once the store holds `jit_after` states. With
    `workers` above 1, the VM's part runs on that many threads
    (`parallel.parallel_resume`) when the scenario allows it, else on one,
    saying why (`parallel.one_worker_because`, `Stats.one_worker`)."""

    def search(c: Compiled, budget: Budget, stats: Stats, out: Outcome,
               graph: StateGraph | None = None) -> Mapping[int, int]:
        try:
            prog = compile_program(c.ts, c.packing)
        except NotSupported:
            return bfs(c, budget, stats, out, graph)

        def resume(c: Compiled, budget: Budget, stats: Stats, out: Outcome,
                   graph: StateGraph | None, level: Level) -> Mapping[int, int]:
            # numba's start-up, once a process: what it builds is kept to
            # the end, so the collector is told to skip it from then on.
            with gc_paused(freeze="checker.vm.search" not in sys.modules):
                from checker.vm.parallel import one_worker_because, parallel_resume
                from checker.vm.search import vm_resume

            jit_at = None if jit_after is None else _jit_at(prog, jit_after)
            if workers > 1:
                why = one_worker_because(c, budget, prog)
                if why is None:
                    return parallel_resume(c, budget, stats, out, graph, level, prog, workers,
                                           jit_at)
                stats.one_worker = why
            return vm_resume(c, budget, stats, out, graph, level, prog,
                             None if jit_at is None else (jit_at, _jit))

        return bfs(c, budget, stats, out, graph, Handover(after, resume))

    return search



@dataclass(frozen=True)
class _Resumed:
    """`resumed_bfs`'s search; `fresh` is the same search from the first
    state (`explore.run.Restartable`)."""

    path: Path
    jit_after: int | None
    fresh: Search

    def saved(self) -> dict[str, Any] | None:
        from checker.vm.checkpoint import saved_meta

        return saved_meta(self.path)

    def __call__(self, c: Compiled, budget: Budget, stats: Stats, out: Outcome,
                 graph: StateGraph | None = None) -> Mapping[int, int]:
        from checker.vm.search import vm_restore

        return vm_restore(c, budget, stats, out, graph, self.path,
                          None if self.jit_after is None else (self.jit_after, _jit))


def resumed_bfs(path: Path, jit_after: int | None = JIT_AFTER) -> Search:
    """`--resume FILE`: the breadth-first search saved there by
    `--checkpoint`, gone on with in the VM (and its JIT past `jit_after`
    states, as `tiered_bfs`). When the saved search cannot serve (a pool's
    reduction dropped at its end: `explore.run`), the scenario is searched
    again from its first state by `tiered_bfs`."""
    return _Resumed(path, jit_after, tiered_bfs(jit_after=jit_after))


def _jit_at(prog: Program, jit_after: int) -> int:
    """The store size to swap to the JIT at: `jit_after`, or
    `JIT_CACHED_AFTER` if that is sooner and the object code is cached."""
    if jit_after <= JIT_CACHED_AFTER:
        return jit_after
    try:
        from checker.vm.llvm_jit import is_cached  # llvmlite: loaded with numba

        return JIT_CACHED_AFTER if is_cached(prog) else jit_after
    except Exception:  # an LLVM failure: the swap at `jit_after` will meet it again
        return jit_after


def _jit(prog: Program) -> tuple[Callable[..., int], Words]:
    from checker.vm.llvm_search import jit_kernel  # llvmlite: only now

    return jit_kernel(prog)


def default_engine(search: str, workers: int = 1) -> Search | None:
    """The search every command runs unless told otherwise: breadth-first
    goes through `tiered_bfs` (on `workers` threads past the hand-over);
    None leaves `check` its own (depth-first)."""
    return tiered_bfs(workers=workers) if search == "bfs" else None


def machine_cores() -> int:
    """The cores this process may run on: `check`'s default `--workers`."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1

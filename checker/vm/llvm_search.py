"""The JIT engine (`--engine jit`): the VM's breadth-first search with each
scenario's bytecode compiled to machine code by LLVM (`llvm_jit`) and run by
the same kernel (`llvm_kernel`), so every event, figure and message is the
VM's (`search.vm_bfs`). It pays a compile of a few seconds per new
scenario (then a cache load), for about twice the interpreter's speed; see
`benchmarks/vm_jit.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from checker.explore.codegen import Compiled
from checker.explore.common import Outcome, StateGraph
from checker.explore.limits import Budget
from checker.explore.result import Stats
from checker.vm import llvm_kernel
from checker.vm.layout import Words
from checker.vm.llvm_jit import compile_program_code
from checker.vm.program import Program
from checker.vm.search import vm_bfs


def jit_kernel(prog: Program) -> tuple[Callable[..., int], Words]:
    """The JIT's kernel and the entry points of `prog` compiled (or loaded
    from the cache), for `vm_bfs`'s `kernel`."""
    return llvm_kernel.search, compile_program_code(prog).addrs


def jit_bfs(c: Compiled, budget: Budget, stats: Stats, out: Outcome,
            graph: StateGraph | None = None) -> Mapping[int, int]:
    """`vm_bfs` over the JIT-compiled program."""
    return vm_bfs(c, budget, stats, out, graph, jit_kernel)

"""The multi-core search's phases over JIT-compiled code: `parallel_kernel`'s
expanding, storing and replaying kernels compiled again by numba with
`expand` and `predicate` bound to the JIT's shims (`llvm_kernel.rebound`),
still without the GIL. The kernels are those of the interpreted workers,
not copies, so a part's arrays, events and counters are the same; only
`code` changes, from the bytecode to the scenario's compiled entry points.
The JIT's code uses no memory but its arguments, so the workers' threads
call it at once.

Imported only when a search on several workers moves to the JIT
(`parallel.jit_kernels`): loading these costs about as much as
`llvm_kernel`'s.
"""

from __future__ import annotations

from checker.vm import parallel_kernel as PK
from checker.vm.llvm_kernel import rebound

expand_part = rebound(PK.expand_part, "llvm_expand_part", nogil=True)
insert_part = rebound(PK.insert_part, "llvm_insert_part", nogil=True)
replay_part = rebound(PK.replay_part, "llvm_replay_part", nogil=True)

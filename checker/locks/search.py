"""Which search gives a scenario's lock facts (`doc`, `diff`).

Both give the same facts, witnesses and tables (`tests/test_lock_vm.py`):
the reference search (`explore.explore_locks`, Python over the compiled
steps) and the VM's (`vm_search`, the pair kernel in numba). Loading numba
and the cached kernel costs about 0.4 s, more than a small search takes in
Python, so `auto` starts in Python and moves to the VM only for a scenario
of more than `PYTHON_FIRST` pairs (the Python run is then dropped: it
costs about 0.2 s). A scenario the VM cannot run (`NotSupported`: a value
beyond its 62-bit words, too many distinct held-lock sets) stays in
Python. This module imports no numba; `vm_search` is imported when used.
"""

from __future__ import annotations

import sys
from typing import Literal

from checker.ir.nodes import TransitionSystem
from checker.locks.explore import DEFAULT_MAX_STATES, LockFacts, Progress, explore_locks

Engine = Literal["auto", "vm", "python"]
ENGINES: tuple[Engine, ...] = ("auto", "vm", "python")

PYTHON_FIRST = 4096


def search_locks(ts: TransitionSystem, max_states: int = DEFAULT_MAX_STATES,
                 progress: Progress | None = None, engine: Engine = "auto") -> LockFacts:
    """The lock facts of `ts` by `engine`: `python` the reference search,
    `vm` the kernel, `auto` Python up to `PYTHON_FIRST` pairs and the kernel
    past them, or the kernel alone once it is loaded (`kernel_loaded`)."""
    if engine == "python":
        return explore_locks(ts, max_states, progress=progress)
    compiled = None
    if engine == "auto" and not kernel_loaded():
        first = explore_locks(ts, min(max_states, PYTHON_FIRST), progress=progress)
        if first.complete or max_states <= PYTHON_FIRST:
            return first
        compiled = first.compiled  # compiling the steps again would cost as much
    from checker.locks.vm_search import VmLockSearch
    from checker.vm.layout import NotSupported

    try:
        return VmLockSearch(ts, max_states, progress, compiled).run()
    except NotSupported:
        return explore_locks(ts, max_states, progress=progress, compiled=compiled)


def kernel_loaded() -> bool:
    """Whether this process has loaded the VM's pair kernel already."""
    pairs = sys.modules.get("checker.vm.pairs")
    return pairs is not None and bool(pairs.pair_search.signatures)

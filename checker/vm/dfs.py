"""The VM engine's depth-first search, with `checker.explore.dfs`'s contract
and results: the same states in the same order, so the same figures,
counterexample (the search path), other violations, executed actions,
covers and livelock graph.

The numba kernel (`dfs_kernel`) does the common work; its events are
handled here as `search.vm_bfs` handles them, with the Python engine's
functions on the packed int of the state (`checker.explore.common`), at the
points where `dfs` calls them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from checker.explore.codegen import Compiled
from checker.explore.common import (
    Outcome,
    StateGraph,
    check_invariant,
    expand_safely,
    offer_faults,
    terminal,
    warned_slowly,
)
from checker.explore.limits import Budget
from checker.explore.result import Stats
from checker.ir.interp import Fault
from checker.vm import dfs_kernel as D
from checker.vm import growable
from checker.vm import kernel as K
from checker.vm.layout import NotSupported, Words
from checker.vm.machine import Machine
from checker.vm.program import META_FIN, META_INV, META_NACTIONS, compile_program
from checker.vm.search import CHECK_EVERY, finish, take_warnings
from checker.vm.store import Store, cap_reason, state_cap


class _Stack:
    """The kernel's frames and successor buffer, grown by doubling."""

    def __init__(self, nwords: int, width: int):
        self.width = width
        self.frames = growable.zeros((256, D.F_SIZE), np.int64)
        self.sbuf = growable.zeros((max(1024, 4 * width), nwords), np.int64)

    def _short(self, sc: Words) -> tuple[bool, bool]:
        return (int(sc[D.SC_NFR]) >= len(self.frames),
                int(sc[D.SC_TOP]) + self.width > len(self.sbuf))

    def growth_bytes(self, sc: Words) -> int:
        frames, sbuf = self._short(sc)
        return self.frames.nbytes * frames + self.sbuf.nbytes * sbuf  # in place: new halves

    def grow(self, sc: Words) -> None:
        frames, sbuf = self._short(sc)
        if frames:
            growable.double(self, "frames")
        if sbuf:
            growable.double(self, "sbuf")


def vm_dfs(c: Compiled, budget: Budget, stats: Stats, out: Outcome,
           graph: StateGraph | None = None) -> Mapping[int, int]:
    if c.canon is not None:
        raise NotSupported("symmetry reduction (with the VM's depth-first search): the Python "
                           "engine and the breadth-first VM apply it")
    if c.ample is not None:
        raise NotSupported("partial-order reduction (with the VM's depth-first search): the "
                           "Python engine and the breadth-first VM apply it")
    prog = compile_program(c.ts, c.packing)
    c.runtime.pending.clear()
    layout = prog.layout
    m = Machine(prog)
    st = Store(layout.nwords, graph is not None, "dense")  # the DFS kernel reads rows
    stack = _Stack(layout.nwords, len(m.out))
    sc = np.zeros(D.SC_SIZE, dtype=np.int64)
    fired = np.zeros(max(int(prog.meta[META_NACTIONS]), 1), dtype=np.uint8)
    covered = np.zeros(len(m.pend), dtype=np.uint8)
    sc[K.SC_CAP] = state_cap(budget)
    sc[K.SC_INV] = prog.meta[META_INV]
    sc[K.SC_FIN] = prog.meta[META_FIN]
    sc[K.SC_RECORD] = graph is not None
    st.fill(layout.words_of(c.initial).reshape(1, -1), [0], sc)
    sc[K.SC_N] = 1
    st.grow(sc)

    def state(i: int) -> int:
        return layout.int_of(st.store[i])

    def path(i: int) -> Callable[[], list[int]]:
        """`dfs`'s path while it judges state i: the frames' owners, then i
        (built at once by the judging function, before the kernel resumes)."""
        def build() -> list[int]:
            owners = stack.frames[: int(sc[D.SC_NFR]), D.F_OWNER].tolist()
            return [state(j) for j in [*owners, i]]
        return build

    def sync() -> None:
        stats.states = int(sc[K.SC_N])
        stats.transitions = int(sc[K.SC_TRANS])
        stats.depth = int(sc[K.SC_DEPTH])
        stats.queue = int(sc[D.SC_NFR])  # the stack, as `dfs` reports it

    if c.invariant is not None and out.offer(check_invariant(c, c.initial, path(0))):
        return finish(c, prog, st, sc, fired, covered, graph)
    if out.any_recorded:
        return finish(c, prog, st, sc, fired, covered, graph)
    sc[D.SC_EXPAND] = 0
    sc[K.SC_BUDGET] = 1  # as `dfs`: the limits are checked first at the first new state
    p = prog
    while True:
        ev = D.search_dfs(p.code, p.slots, p.pcs, p.pcact, p.acts, p.aux, st.store, st.parent,
                          st.table, sc, stack.frames, stack.sbuf, m.out, m.out_act, m.faults,
                          m.bufs, m.regs, m.pend, fired, covered, st.edges)
        if ev == K.DONE:
            sync()
            break
        if ev == K.LIMITS:
            sync()
            out.limit = budget.exceeded(stats)
            if out.limit:
                break
            sc[K.SC_BUDGET] = CHECK_EVERY
        elif ev == K.GROW:
            out.limit = budget.over_memory(st.growth_bytes(sc) + stack.growth_bytes(sc))
            if out.limit:
                sync()
                break
            st.grow(sc)
            stack.grow(sc)
        elif ev == K.CAP:
            sync()
            out.limit = cap_reason(budget)
            break
        elif ev == K.INVARIANT:
            i = int(sc[K.SC_EVENT])
            v = check_invariant(c, state(i), path(i))
            if v is None:
                sc[D.SC_EXPAND] = i
            elif out.offer(v):
                sync()
                break
        elif ev == K.TERMINAL:
            i = int(sc[K.SC_EVENT])
            if out.offer(terminal(c, state(i), path(i))):
                sync()
                break
        elif ev == K.FAULT:
            if _python_expand(c, m, sc, stack, state(int(sc[K.SC_EVENT])), path, out):
                sync()
                break
        else:
            raise AssertionError(f"kernel event {ev}")
    return finish(c, prog, st, sc, fired, covered, graph)


def _python_expand(c: Compiled, m: Machine, sc: Words, stack: _Stack, s: int,
                   path: Callable[[int], Callable[[], list[int]]], out: Outcome) -> bool:
    """Expand the state the kernel gave up on as `dfs` does (a state whose
    expansion faults has no steps in the livelock graph and is no deadlock);
    its successors go on the stack as a frame. True if the search stops."""
    i = int(sc[K.SC_EVENT])
    record = 1
    try:
        succ = c.expand(s)
    except Fault:
        succ, faults = expand_safely(c, s, path(i))
        warned_slowly(c, s)
        take_warnings(c, m.prog, s, path(i), out)
        if offer_faults(out, faults):
            return True
        record = 0
    else:
        take_warnings(c, m.prog, s, path(i), out)
        if not succ:
            return out.offer(terminal(c, s, path(i)))
    if not succ:
        return False
    # The kernel made room for `width` successors and a frame before expanding.
    top, nfr = int(sc[D.SC_TOP]), int(sc[D.SC_NFR])
    layout = m.prog.layout
    for j, t in enumerate(succ):
        stack.sbuf[top + j] = layout.words_of(t)
    stack.frames[nfr] = (i, top, len(succ), 0, record)
    sc[D.SC_NFR] = nfr + 1
    sc[D.SC_TOP] = top + len(succ)
    sc[K.SC_TRANS] += len(succ)
    return False

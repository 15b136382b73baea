"""The lock search on the VM: `locks.explore`'s search, same facts, in numba.

The kernel (`checker.vm.pairs`) enumerates the (state, held locks) pairs
with the bytecode interpreter and comes back here only for the first step
of each kind (the step, its thread's held locks, the bits of the state it
may read): that step is accounted for by `LockSearch.step`/`attempt`, the
reference search's own code, in the same breadth-first order, so every
fact, its first witness, the lock instances' numbering and the order of
every table are those of `explore_locks` (`tests/test_lock_vm.py` compares
them). The steps after it add nothing and stay in the kernel.

`checker.locks.search.search_locks` chooses between this and the reference.
"""

from __future__ import annotations

import time

import numpy as np

from checker.explore.codegen import Compiled
from checker.explore.irqstate import lock_usage
from checker.ir.interp import Fault
from checker.ir.nodes import TransitionSystem
from checker.locks.explore import (
    PROGRESS_EVERY,
    Ghost,
    Held,
    Key,
    LockFacts,
    LockSearch,
    Progress,
)
from checker.locks.recorder import read_mask
from checker.vm import opcodes as op
from checker.vm import pairs as P
from checker.vm.layout import NotSupported, Words
from checker.vm.machine import Machine
from checker.vm.program import META_INV, compile_program
from checker.vm.search import packed_states

CHECK_EVERY = 8192  # pairs expanded between two returns for progress
# The arrays are allocated for this many pairs at once (or --max-states, if
# fewer): zeroed pages cost nothing until a row is written, and growing
# means copying and rehashing. Past it they double.
_FIRST_CAP = 1 << 22
_FIRST_MEMO = 1 << 14


class VmLockSearch(LockSearch):
    """One run of `pairs.pair_search`, with the Python side of its events."""

    def __init__(self, ts: TransitionSystem, max_states: int,
                 progress: Progress | None = None, compiled: Compiled | None = None):
        super().__init__(ts, max_states, True, progress, compiled)
        c = self.c
        self.prog = prog = compile_program(ts, c.packing)
        self.layout = layout = prog.layout
        self.m = Machine(prog)
        self.nw = nw = layout.nwords
        nthreads = len(ts.threads)
        self.width = nw + (nthreads + P.GHOST_PER_WORD - 1) // P.GHOST_PER_WORD
        self.helds: list[Held] = [()]
        self.held_ids: dict[Held, int] = {(): 0}
        self.pair_of: dict[Key, int] = {}
        nact = max(len(ts.actions), 1)
        everything = layout.words_of((1 << c.packing.total_bits) - 1)
        self.smask = np.zeros((nact, nw), dtype=np.int64)
        self.tmask = np.zeros((nact, nw), dtype=np.int64)
        self.waits = np.zeros(nact, dtype=np.uint8)
        for a in ts.actions:
            mask = read_mask(ts, a, c.packing)
            self.smask[a.id] = everything if mask is None else layout.words_of(mask)
            if self.lock_step[a.id]:  # raises_atomic reads these in both states
                counters = 0
                for k in self.atomic.get(a.thread, []):
                    counters |= ((1 << c.packing.widths[k]) - 1) << c.packing.offsets[k]
                self.tmask[a.id] = layout.words_of(counters)
                self.smask[a.id] |= self.tmask[a.id]
            self.waits[a.id] = self.may_wait[a.id]
        self.key = np.zeros(3 + 2 * nw, dtype=np.int64)
        self.prow = np.zeros(self.width, dtype=np.int64)
        self.esc = np.zeros(nw, dtype=np.int64)
        self.sc = sc = np.zeros(P.PS_SIZE, dtype=np.int64)
        empty = np.zeros(0, dtype=np.int64)
        self.store: Words = np.zeros((0, self.width), dtype=np.int64)
        self.parent: Words = empty
        self.table: Words = empty
        self.stable: Words = empty
        self.mkeys: Words = np.zeros((0, self.key.shape[0]), dtype=np.int64)
        self.mval: Words = empty
        self.mtable: Words = empty
        self._alloc_pairs(min(_FIRST_CAP, max(max_states, 1)))
        self._alloc_memo(_FIRST_MEMO)
        sc[P.PS_MAX] = max_states
        sc[P.PS_TI] = -1
        sc[P.PS_BUDGET] = CHECK_EVERY
        sc[P.PS_INV] = prog.meta[META_INV]
        sc[P.PS_INV_HEAD] = -1
        sc[P.PS_ESC_HEAD] = -1
        self.store[0, :nw] = layout.words_of(c.initial)
        P.rehash_rows(self.table, self.store, 1, self.width)
        P.rehash_rows(self.stable, self.store, 1, nw)
        sc[P.PS_N] = 1
        sc[P.PS_STATES] = 1

    # ------------------------------------------------------------ arrays
    def _alloc_pairs(self, cap: int) -> None:
        n = int(self.sc[P.PS_N])
        store = np.zeros((cap, self.width), dtype=np.int64)
        parent = np.zeros(cap, dtype=np.int64)
        if n:
            store[:n] = self.store[:n]
            parent[:n] = self.parent[:n]
        self.store, self.parent = store, parent
        size = 1 << (2 * cap - 1).bit_length()  # a power of two, at most half full
        self.table = np.zeros(size, dtype=np.int64)
        self.stable = np.zeros(size, dtype=np.int64)
        P.rehash_rows(self.table, store, n, self.width)
        P.rehash_rows(self.stable, store, n, self.nw)
        self.sc[P.PS_CAP] = cap

    def _alloc_memo(self, cap: int) -> None:
        n = int(self.sc[P.PS_MCOUNT])
        keys = np.zeros((cap, self.key.shape[0]), dtype=np.int64)
        vals = np.zeros(cap, dtype=np.int64)
        if n:
            keys[:n] = self.mkeys[:n]
            vals[:n] = self.mval[:n]
        self.mkeys, self.mval = keys, vals
        self.mtable = np.zeros(2 * cap, dtype=np.int64)
        P.rehash_rows(self.mtable, keys, n, keys.shape[1])
        self.sc[P.PS_MCAP] = cap

    def _grow(self) -> None:
        sc = self.sc
        if sc[P.PS_MCOUNT] >= sc[P.PS_MCAP]:
            self._alloc_memo(2 * int(sc[P.PS_MCAP]))
        if sc[P.PS_N] >= sc[P.PS_CAP]:
            self._alloc_pairs(2 * int(sc[P.PS_CAP]))

    # ------------------------------------------------------------ pairs
    def state(self, i: int) -> int:
        return packed_states(self.prog, self.store[i:i + 1], 1)[0]

    def pair_key(self, i: int) -> Key:
        """Pair i as the reference search names it; remembered for `path`."""
        row = self.store[i]
        ghost: Ghost = tuple(self.helds[P.ghost_get(row, self.nw, ti)]
                             for ti in range(len(self.ts.threads)))
        key: Key = (self.state(i), ghost)
        self.pair_of[key] = i
        return key

    def held_id(self, held: Held) -> int:
        got = self.held_ids.get(held)
        if got is None:
            got = len(self.helds)
            if got > P.GHOST_MAX:
                raise NotSupported(f"more than {P.GHOST_MAX} distinct held-lock sets")
            self.held_ids[held] = got
            self.helds.append(held)
        return got

    def path_to(self, key: Key) -> list[int]:
        """`LockFacts.path`: the parents' chain, its states converted at once."""
        chain = [self.pair_of[key]]
        while chain[-1] != 0:
            chain.append(int(self.parent[chain[-1]]))
        chain.reverse()
        return packed_states(self.prog, self.store[chain], len(chain))

    # ------------------------------------------------------------ search
    def run(self) -> LockFacts:
        prog, m, sc = self.prog, self.m, self.sc
        last = time.monotonic()
        while True:
            ev = P.pair_search(prog.code, prog.slots, prog.pcs, prog.pcact, prog.acts, prog.aux,
                               m.bufs, m.regs, m.pend, self.store, self.parent, self.table,
                               self.stable, self.mkeys, self.mval, self.mtable, self.smask,
                               self.tmask, self.waits, self.esc, self.key, self.prow, sc)
            if ev == P.DONE:
                break
            if ev == P.GROW:
                self._grow()
            elif ev == P.PROGRESS:
                sc[P.PS_BUDGET] = CHECK_EVERY
                if self.progress is not None and time.monotonic() - last > PROGRESS_EVERY:
                    last = time.monotonic()
                    self.progress(int(sc[P.PS_N]), int(sc[P.PS_N] - sc[P.PS_HEAD]))
            elif ev == P.INVARIANT:
                sc[P.PS_INV_OK] = self._invariant_holds(self.state(int(sc[P.PS_HEAD])))
            elif ev == P.ESCAPE:
                self._escape()
            elif ev == P.STEP:
                self._step()
            elif ev == P.ATTEMPT:
                self._attempt()
            else:
                raise AssertionError(f"pair kernel event {ev}")
        return self._finish()

    def _invariant_holds(self, s: int) -> bool:
        inv = self.c.invariant
        assert inv is not None
        try:
            return inv(s) < 0
        except Fault:
            return False

    def _escape(self) -> None:
        """A step the machine left to Python: run by the compiled step."""
        sc = self.sc
        s = self.state(int(sc[P.PS_HEAD]))
        try:
            t = self.c.step[int(sc[P.PS_EV_ACTION])](s)
        except Fault:
            sc[P.PS_ESC_ST] = op.ASSERTION  # any fault: the step leads nowhere
            return
        if t is None:
            sc[P.PS_ESC_ST] = op.DISABLED
            return
        sc[P.PS_ESC_ST] = op.OK
        self.esc[:] = self.layout.words_of(t)

    def _step(self) -> None:
        sc = self.sc
        key = self.pair_key(int(sc[P.PS_HEAD]))
        i = int(sc[P.PS_EV_THREAD])
        a = self.ts.actions[int(sc[P.PS_EV_ACTION])]
        t = self.layout.int_of(self.m.bufs[1])
        rec = self.rec.run(a, key[0], self.c.packing)
        if rec is None:  # the interpreter and the engine disagree
            raise AssertionError(f"step a{a.id} ran in the engine but not in the "
                                 "reference interpreter")
        held = self.step(key, i, a, t, rec)
        P.memo_put(self.mkeys, self.mval, self.mtable, sc, self.key, self.held_id(held))

    def _attempt(self) -> None:
        sc = self.sc
        key = self.pair_key(int(sc[P.PS_HEAD]))
        a = self.ts.actions[int(sc[P.PS_EV_ACTION])]
        self.attempt(key, int(sc[P.PS_EV_THREAD]), a)
        P.memo_put(self.mkeys, self.mval, self.mtable, sc, self.key, 0)

    def _finish(self) -> LockFacts:
        facts, sc = self.facts, self.sc
        n = int(sc[P.PS_N])
        facts.states = int(sc[P.PS_STATES])
        facts.pairs = n
        facts.complete = not sc[P.PS_CUT]
        if self.ts.has_handlers:  # lockdep's usage bits, from every state seen (as `run`)
            rows = np.ascontiguousarray(self.store[:n, :self.nw])
            seen = set(packed_states(self.prog, rows, n))
            facts.usage = {name: set(bits) for name, bits in lock_usage(self.c, seen).items()}
        # Only the runs to witnesses are read from now on: the states and parents.
        self.table = self.stable = self.mtable = np.zeros(0, dtype=np.int64)
        self.mkeys = np.zeros((0, 0), dtype=np.int64)
        facts.tracer = self.path_to
        return facts

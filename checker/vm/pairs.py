"""The lock analysis's search in numba: breadth-first over (state, ghost) pairs.

`checker.locks.explore` explores pairs of a state and each thread's held
locks (a ghost the state does not record). This kernel runs that search
with the bytecode interpreter (`machine.run`): a pair is a store row of the
state's words followed by *ghost words*, one 16-bit id per thread of its
held-lock tuple (three to a word; Python keeps the tuples). The ghost's
update is not compiled: what a step does to its thread's locks, and every
fact it contributes, is a function of the step, the thread's held locks
and the bits of the state the step may read (`locks.recorder.read_mask`,
the recorder's own memo key), plus, for a step with lock events, the
thread's atomic-context counters before and after. So the kernel keeps a
second table, the *memo*, from that key to the new held id; a key it has
not seen is the first step of its kind in breadth-first order, and the
kernel returns to Python (`STEP`) to run the reference analysis on it
(facts, witness, the new held locks), which fills the memo. Every later
step with the same key adds no fact, so the kernel only stores its pair.
A blocked step that waits for a lock (`ATTEMPT`) is memoised alike.

The order is `locks.explore`'s search, action for action: pairs in
discovery order (the queue is implicit), threads in order, each thread's
actions at its pc in order; a faulting step leads nowhere; a pair whose
state breaks an invariant (or faults evaluating it) is not expanded
(`INVARIANT` asks Python when the machine's answer is not a plain -1); a
step the machine cannot run (`ESCAPE`) is run by Python, which hands the
result back. The limit on pairs cuts the search where `locks.explore`
does: the rest of that thread's actions are skipped, later threads of the
same pair still run (their steps still count for the facts), and the
search ends with that pair.

The kernel is resumable (counters in `sc`): at any event it saves the
thread and action it is at, and the next call runs that action again.
"""

from __future__ import annotations

import numpy as np

from checker.vm import opcodes as op
from checker.vm.jit import njit
from checker.vm.kernel import find
from checker.vm.machine import predicate, run

GHOST_BITS = 16
GHOST_PER_WORD = 3  # bit 63 stays unused, as in every store word
GHOST_MAX = (1 << GHOST_BITS) - 1

# Scalars
(PS_N, PS_HEAD, PS_TI, PS_J, PS_CUT, PS_MAX, PS_CAP, PS_MCOUNT, PS_MCAP, PS_STATES,
 PS_BUDGET, PS_INV, PS_INV_HEAD, PS_INV_OK, PS_ESC_HEAD, PS_ESC_TI, PS_ESC_J, PS_ESC_ST,
 PS_EV_ACTION, PS_EV_THREAD, PS_SIZE) = range(21)

# Events
DONE, GROW, STEP, ATTEMPT, INVARIANT, ESCAPE, PROGRESS = range(7)


@njit(cache=True, inline="always")
def ghost_get(row: np.ndarray, nw: int, ti: int) -> int:
    return int((row[nw + ti // GHOST_PER_WORD] >> (GHOST_BITS * (ti % GHOST_PER_WORD)))
               & GHOST_MAX)


@njit(cache=True)
def _key(key: np.ndarray, aid: int, kind: int, held: int, s: np.ndarray, t: np.ndarray,
         smask: np.ndarray, tmask: np.ndarray) -> None:
    nw = s.shape[0]
    key[0] = aid
    key[1] = kind
    key[2] = held
    for w in range(nw):
        key[3 + w] = s[w] & smask[aid, w]
        key[3 + nw + w] = t[w] & tmask[aid, w] if kind == 0 else 0


@njit(cache=True)
def memo_put(mkeys: np.ndarray, mval: np.ndarray, mtable: np.ndarray, sc: np.ndarray,
             key: np.ndarray, value: int) -> None:
    """Record `key` -> `value` (the caller made room: PS_MCOUNT < PS_MCAP)."""
    n = sc[PS_MCOUNT]
    for w in range(key.shape[0]):
        mkeys[n, w] = key[w]
    mval[n] = value
    find(mtable, mkeys, key, n)
    sc[PS_MCOUNT] = n + 1


@njit(cache=True)
def rehash_rows(table: np.ndarray, store: np.ndarray, n: int, width: int) -> None:
    """Re-enter rows 0..n-1 under their first `width` words (the first row
    of each distinct prefix is the one recorded)."""
    for i in range(n):
        find(table, store, store[i, :width], i)


@njit(cache=True)
def pair_search(code: np.ndarray, slots: np.ndarray, pcs: np.ndarray, pcact: np.ndarray,
                acts: np.ndarray, aux: np.ndarray, bufs: np.ndarray, regs: np.ndarray,
                pend: np.ndarray, store: np.ndarray, parent: np.ndarray, table: np.ndarray,
                stable: np.ndarray, mkeys: np.ndarray, mval: np.ndarray, mtable: np.ndarray,
                smask: np.ndarray, tmask: np.ndarray, waits: np.ndarray, esc: np.ndarray,
                key: np.ndarray, prow: np.ndarray, sc: np.ndarray) -> int:
    """Search on from where `sc` says; return the event that needs Python.
    For STEP and ATTEMPT, `key` holds the memo key to fill and bufs[1]
    (STEP) the successor's words."""
    nw = bufs.shape[1]
    nthreads = pcs.shape[0]
    while True:
        head = sc[PS_HEAD]
        if head >= sc[PS_N]:
            return DONE
        row = store[head]
        state = row[:nw]
        if sc[PS_TI] < 0:  # a pair not begun
            if sc[PS_BUDGET] <= 0:
                return PROGRESS
            sc[PS_BUDGET] -= 1
            if sc[PS_INV] >= 0:
                if sc[PS_INV_HEAD] == head:
                    ok = sc[PS_INV_OK] != 0
                else:
                    r = predicate(code, slots, aux, sc[PS_INV], state, bufs, regs, pend)
                    if r != -1:
                        sc[PS_INV_HEAD] = head
                        return INVARIANT
                    ok = True
                if not ok:
                    sc[PS_HEAD] = head + 1
                    continue
            sc[PS_TI] = 0
            sc[PS_J] = 0
        for w in range(nw):  # `run` reads the state here and leaves it as it is
            bufs[0, w] = state[w]
        while sc[PS_TI] < nthreads:
            ti = sc[PS_TI]
            pc = (state[pcs[ti, 0]] >> pcs[ti, 1]) & pcs[ti, 2]
            first = pcact[ti, pc, 0]
            count = pcact[ti, pc, 1] if pc != 0 else 0
            while sc[PS_J] < count:
                j = sc[PS_J]
                aid = acts[first + j, 1]
                if sc[PS_ESC_HEAD] == head and sc[PS_ESC_TI] == ti and sc[PS_ESC_J] == j:
                    st = sc[PS_ESC_ST]
                    for w in range(nw):
                        bufs[1, w] = esc[w]
                else:
                    st = run(code, slots, aux, acts[first + j, 0], bufs, regs, pend)
                    if st == op.ESCAPE:
                        sc[PS_ESC_HEAD] = head
                        sc[PS_ESC_TI] = ti
                        sc[PS_ESC_J] = j
                        sc[PS_EV_ACTION] = aid
                        sc[PS_EV_THREAD] = ti
                        return ESCAPE
                held = ghost_get(row, nw, ti)
                if st == op.DISABLED:
                    if waits[aid]:
                        _key(key, aid, 1, held, state, bufs[1], smask, tmask)
                        if find(mtable, mkeys, key, -1) < 0:
                            if sc[PS_MCOUNT] >= sc[PS_MCAP]:
                                return GROW
                            sc[PS_EV_ACTION] = aid
                            sc[PS_EV_THREAD] = ti
                            return ATTEMPT
                    sc[PS_J] = j + 1
                    continue
                if st != op.OK:  # a fault: the step leads nowhere
                    sc[PS_J] = j + 1
                    continue
                _key(key, aid, 0, held, state, bufs[1], smask, tmask)
                m = find(mtable, mkeys, key, -1)
                if m < 0:
                    if sc[PS_MCOUNT] >= sc[PS_MCAP]:
                        return GROW
                    sc[PS_EV_ACTION] = aid
                    sc[PS_EV_THREAD] = ti
                    return STEP
                new_held = mval[m]
                if (bufs[1, pcs[ti, 0]] >> pcs[ti, 1]) & pcs[ti, 2] == 0:
                    new_held = 0  # the thread ended: it holds nothing
                for w in range(nw):
                    prow[w] = bufs[1, w]
                for w in range(nw, prow.shape[0]):
                    prow[w] = row[w]
                gw = nw + ti // GHOST_PER_WORD
                sh = GHOST_BITS * (ti % GHOST_PER_WORD)
                prow[gw] = (prow[gw] & ~(np.int64(GHOST_MAX) << sh)) | (new_held << sh)
                if find(table, store, prow, -1) >= 0:
                    sc[PS_J] = j + 1
                    continue
                n = sc[PS_N]
                if n >= sc[PS_MAX]:
                    sc[PS_CUT] = 1
                    break  # this thread's other actions are skipped
                if n >= sc[PS_CAP]:
                    return GROW
                for w in range(prow.shape[0]):
                    store[n, w] = prow[w]
                parent[n] = head
                find(table, store, prow, n)
                if find(stable, store, prow[:nw], n) < 0:
                    sc[PS_STATES] += 1
                sc[PS_N] = n + 1
                sc[PS_J] = j + 1
            sc[PS_TI] = ti + 1
            sc[PS_J] = 0
        sc[PS_TI] = -1
        sc[PS_HEAD] = head + 1
        if sc[PS_CUT]:
            return DONE

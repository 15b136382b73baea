"""The breadth-first search kernel, in numba.

States are stored in discovery order in `store[cap, words]`, so the queue is
implicit (a level is a range of indices); `parent[i]` is the index of the
state that first reached state i; `flags[i]` marks a state stored but not
expanded (it broke an invariant). The visited set is an open-addressing,
linear-probing table of int64 entries: a 31-bit hash tag over the state's
index plus one (0: empty), at most half full.

The kernel is resumable: its counters live in the int64 array `sc` (the
`SC_*` indices), and it returns an event code whenever Python must act:
to grow the arrays, to check the limits, or to judge a state the machine
does not judge itself (a fault or an escape in its expansion, a state with
no successor, a new state whose invariant evaluation did not plainly hold).
It counts states, transitions and depth exactly as `checker.explore.bfs`.
"""

from __future__ import annotations

import numpy as np

from checker.vm.jit import njit
from checker.vm.machine import expand, predicate

# Scalars
(SC_N, SC_HEAD, SC_LEVEL_END, SC_NEXT, SC_DEPTH, SC_TRANS, SC_POS, SC_K, SC_BUDGET, SC_CAP,
 SC_GROW_AT, SC_EVENT, SC_RESULT, SC_EDGES, SC_EDGE_CAP, SC_RECORD, SC_INV, SC_FIN,
 SC_SIZE) = range(19)

# Events
DONE, LIMITS, GROW, FAULT, TERMINAL, INVARIANT, CAP = range(7)

_MUL = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, inline="always")
def hash_words(row: np.ndarray) -> np.uint64:
    h = np.uint64(0x243F6A8885A308D3)
    for w in range(row.shape[0]):
        h = (h ^ np.uint64(row[w])) * _MUL
        h ^= h >> np.uint64(29)
    return h


@njit(cache=True)
def find(table: np.ndarray, store: np.ndarray, row: np.ndarray, insert_at: int) -> int:
    """The index of `row` in the store, or -1 (then, if `insert_at` >= 0,
    the table records `insert_at` as its index)."""
    mask = table.shape[0] - 1
    h = hash_words(row)
    tag = np.int64(h >> np.uint64(33))
    pos = np.int64(h & np.uint64(mask))
    nw = row.shape[0]
    while True:
        e = table[pos]
        if e == 0:
            if insert_at >= 0:
                table[pos] = (tag << 32) | (insert_at + 1)
            return -1
        if (e >> 32) == tag:
            idx = (e & 0xFFFFFFFF) - 1
            same = True
            for w in range(nw):
                if store[idx, w] != row[w]:
                    same = False
                    break
            if same:
                return int(idx)
        pos = (pos + 1) & mask


@njit(cache=True)
def rehash(table: np.ndarray, store: np.ndarray, n: int) -> None:
    for i in range(n):
        find(table, store, store[i], i)


@njit(cache=True)
def search(code: np.ndarray, slots: np.ndarray, pcs: np.ndarray, pcact: np.ndarray,
           acts: np.ndarray, aux: np.ndarray, store: np.ndarray, parent: np.ndarray,
           flags: np.ndarray, table: np.ndarray, sc: np.ndarray, succ: np.ndarray,
           succ_act: np.ndarray, faults: np.ndarray, bufs: np.ndarray, regs: np.ndarray,
           pend: np.ndarray, fired: np.ndarray, covered: np.ndarray,
           edges: np.ndarray) -> int:
    """Search on from where `sc` says; return the event that needs Python."""
    while True:
        if sc[SC_K] >= 0:  # storing the successors of state HEAD
            head = sc[SC_HEAD]
            while sc[SC_POS] < sc[SC_K]:
                if sc[SC_RECORD] and sc[SC_EDGES] >= sc[SC_EDGE_CAP]:
                    return GROW
                row = succ[sc[SC_POS]]
                idx = find(table, store, row, -1)
                new = idx < 0
                if new:
                    n = sc[SC_N]
                    if n >= sc[SC_CAP]:
                        return CAP
                    if n >= sc[SC_GROW_AT]:
                        return GROW
                    for w in range(row.shape[0]):
                        store[n, w] = row[w]
                    parent[n] = head
                    find(table, store, row, n)
                    sc[SC_N] = n + 1
                    idx = n
                if sc[SC_RECORD]:
                    edges[sc[SC_EDGES], 0] = head
                    edges[sc[SC_EDGES], 1] = idx
                    sc[SC_EDGES] += 1
                sc[SC_POS] += 1
                if new:
                    if sc[SC_INV] >= 0:
                        r = predicate(code, slots, aux, sc[SC_INV], store[idx], bufs, regs, pend)
                        if r != -1:
                            sc[SC_EVENT] = idx
                            sc[SC_RESULT] = r
                            return INVARIANT
                    sc[SC_NEXT] += 1
            sc[SC_K] = -1
            sc[SC_HEAD] = head + 1
        head = sc[SC_HEAD]
        if head == sc[SC_LEVEL_END]:
            if sc[SC_NEXT] == 0:
                return DONE
            sc[SC_DEPTH] += 1
            sc[SC_NEXT] = 0
            sc[SC_LEVEL_END] = sc[SC_N]
        if flags[head]:
            sc[SC_HEAD] = head + 1
            continue
        if sc[SC_BUDGET] <= 0:
            return LIMITS
        sc[SC_BUDGET] -= 1
        k, nf = expand(code, slots, pcs, pcact, acts, aux, store[head], succ, succ_act, faults,
                       bufs, regs, pend)
        if nf > 0:
            pend[:] = 0  # the Python engine expands this state again, covers included
            sc[SC_EVENT] = head
            return FAULT
        for c in range(pend.shape[0]):
            if pend[c]:
                covered[c] = 1
                pend[c] = 0
        if k == 0:
            sc[SC_EVENT] = head
            finished = True
            for t in range(pcs.shape[0]):
                if (store[head, pcs[t, 0]] >> pcs[t, 1]) & pcs[t, 2]:
                    finished = False
            if not finished:
                return TERMINAL  # a deadlock, which Python words
            if sc[SC_FIN] >= 0 and predicate(code, slots, aux, sc[SC_FIN], store[head], bufs,
                                             regs, pend) != -1:
                return TERMINAL  # a final property false, or a fault
            sc[SC_HEAD] = head + 1
            continue
        for j in range(k):
            fired[succ_act[j]] = 1
        sc[SC_TRANS] += k
        sc[SC_K] = k
        sc[SC_POS] = 0


@njit(cache=True)
def packed_limbs(store: np.ndarray, n: int, segs: np.ndarray, limbs: int) -> np.ndarray:
    """States 0..n-1 in codegen's packed layout, as little-endian uint64
    limbs (`segs` rows: packed offset, width, word, shift): one
    `int.from_bytes` per state then makes the packed int."""
    out = np.zeros((n, limbs), dtype=np.uint64)
    for i in range(n):
        for g in range(segs.shape[0]):
            off = segs[g, 0]
            width = segs[g, 1]
            v = np.uint64((store[i, segs[g, 2]] >> segs[g, 3]) & ((np.int64(1) << width) - 1))
            limb = off >> 6
            sh = np.uint64(off & 63)
            out[i, limb] |= v << sh
            if (off & 63) + width > 64:
                out[i, limb + 1] |= v >> (np.uint64(64) - sh)
    return out


@njit(cache=True)
def store_rows(limbs: np.ndarray, segs: np.ndarray, nwords: int) -> np.ndarray:
    """`packed_limbs`'s inverse: packed states (uint64 limbs) as store rows."""
    out = np.zeros((limbs.shape[0], nwords), dtype=np.int64)
    for i in range(limbs.shape[0]):
        for g in range(segs.shape[0]):
            off = segs[g, 0]
            width = segs[g, 1]
            mask = (np.uint64(1) << np.uint64(width)) - np.uint64(1)
            limb = off >> 6
            sh = np.uint64(off & 63)
            v = limbs[i, limb] >> sh
            if (off & 63) + width > 64:
                v |= limbs[i, limb + 1] << (np.uint64(64) - sh)
            out[i, segs[g, 2]] |= np.int64(v & mask) << segs[g, 3]
    return out

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
from checker.vm.symmetry import canon_row
from checker.vm.treestore import tree_get, tree_put

# Scalars
(SC_N, SC_HEAD, SC_LEVEL_END, SC_NEXT, SC_DEPTH, SC_TRANS, SC_POS, SC_K, SC_BUDGET, SC_CAP,
 SC_GROW_AT, SC_EVENT, SC_RESULT, SC_EDGES, SC_EDGE_CAP, SC_RECORD, SC_INV, SC_FIN, SC_TREE,
 SC_TREE_LEAF, SC_TREE_NODE, SC_POR, SC_SIZE) = range(23)

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


@njit(cache=True, nogil=True)  # the multi-core search's parts grow in their own threads
def rehash(table: np.ndarray, store: np.ndarray, n: int) -> None:
    for i in range(n):
        find(table, store, store[i], i)


@njit(cache=True)
def search(code: np.ndarray, slots: np.ndarray, pcs: np.ndarray, pcact: np.ndarray,
           acts: np.ndarray, aux: np.ndarray, store: np.ndarray, parent: np.ndarray,
           flags: np.ndarray, table: np.ndarray, sc: np.ndarray, succ: np.ndarray,
           succ_act: np.ndarray, faults: np.ndarray, bufs: np.ndarray, regs: np.ndarray,
           pend: np.ndarray, fired: np.ndarray, covered: np.ndarray,
           edges: np.ndarray, tree: tuple[np.ndarray, ...], cur: np.ndarray,
           por: np.ndarray, sym: np.ndarray) -> int:
    """Search on from where `sc` says; return the event that needs Python.
    With sc[SC_TREE], the states live in the tree store `tree` (the arrays
    of `TreeStore.arrays()` and its scratch) instead of `store`/`table`;
    a put needs room for one new state's entries in each of its tables
    (SC_TREE_LEAF and SC_TREE_NODE entries below the root, one root).
    With sc[SC_POR] (dense only), `por[action id]` is (thread index, 1 if
    the action's thread may be expanded alone at its pc): `explore.por`'s
    rule, applied by `ample`. `sym`: the symmetry groups
    (`checker.vm.symmetry`), by which every successor is made canonical
    before it is looked up (never with `por`: `explore.run` applies one)."""
    (t_left, t_right, t_table, t_rk, t_rs, t_lk, t_ls, t_nk, t_ns, t_count, t_vals) = tree
    while True:
        if sc[SC_K] >= 0:  # storing the successors of state HEAD
            head = sc[SC_HEAD]
            while sc[SC_POS] < sc[SC_K]:
                if sc[SC_RECORD] and sc[SC_EDGES] >= sc[SC_EDGE_CAP]:
                    return GROW
                row = succ[sc[SC_POS]]
                canon_row(row, sym)  # symmetry reduction (a no-op without groups)
                n = sc[SC_N]
                if sc[SC_TREE]:
                    if n >= sc[SC_GROW_AT] or not tree_room(t_lk, t_nk, t_rk, t_count,
                                                            sc[SC_TREE_LEAF], sc[SC_TREE_NODE]):
                        return GROW
                    t_idx, t_new = tree_put(t_left, t_right, t_table, t_rk, t_rs, t_lk, t_ls,
                                            t_nk, t_ns, t_count, row, t_vals, n < sc[SC_CAP])
                    if t_idx < 0:
                        return CAP
                    idx = int(t_idx)
                    new = bool(t_new)
                    if new:
                        parent[n] = head
                        sc[SC_N] = n + 1
                else:
                    idx = find(table, store, row, -1)
                    new = idx < 0
                    if new:
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
                        r = predicate(code, slots, aux, sc[SC_INV], row, bufs, regs, pend)
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
        if sc[SC_TREE]:
            tree_get(t_left, t_right, t_table, t_rk, t_lk, t_nk, head, t_vals, cur)
            here = cur
        else:
            here = store[head]
        k, nf = expand(code, slots, pcs, pcact, acts, aux, here, succ, succ_act, faults,
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
                if (here[pcs[t, 0]] >> pcs[t, 1]) & pcs[t, 2]:
                    finished = False
            if not finished:
                return TERMINAL  # a deadlock, which Python words
            if sc[SC_FIN] >= 0 and predicate(code, slots, aux, sc[SC_FIN], here, bufs,
                                             regs, pend) != -1:
                return TERMINAL  # a final property false, or a fault
            sc[SC_HEAD] = head + 1
            continue
        for j in range(k):
            fired[succ_act[j]] = 1
        if sc[SC_POR]:
            k = ample(succ, succ_act, k, por, table, store)
        sc[SC_TRANS] += k
        sc[SC_K] = k
        sc[SC_POS] = 0


@njit(cache=True)
def ample(succ: np.ndarray, succ_act: np.ndarray, k: int, por: np.ndarray,
          table: np.ndarray, store: np.ndarray) -> int:
    """Partial-order reduction (`checker.explore.por`): the successors of
    the first thread whose actions may be expanded alone, moved to the
    front, if none of them is stored yet; their count, else `k`."""
    j0 = -1
    for j in range(k):
        if por[succ_act[j], 1]:
            j0 = j
            break
    if j0 < 0:
        return k
    t0 = por[succ_act[j0], 0]
    j1 = j0
    while j1 < k and por[succ_act[j1], 0] == t0:
        j1 += 1
    for j in range(j0, j1):
        if find(table, store, succ[j], -1) >= 0:
            return k
    if j0 > 0:
        for j in range(j0, j1):
            for w in range(succ.shape[1]):
                succ[j - j0, w] = succ[j, w]
            succ_act[j - j0] = succ_act[j]
    return j1 - j0


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


@njit(cache=True, inline="always")
def tree_room(lk: np.ndarray, nk: np.ndarray, rk: np.ndarray, count: np.ndarray, leaf: int,
              node: int) -> bool:
    """Whether each table of a tree store has room for one more state."""
    return bool(count[0] + leaf <= lk.shape[0] and count[1] + node <= nk.shape[0]
                and count[2] + 1 <= rk.shape[0])


@njit(cache=True, nogil=True)  # a part of the multi-core search moves to its tree in its thread
def tree_put_rows(left: np.ndarray, right: np.ndarray, table: np.ndarray, rk: np.ndarray,
                  rs: np.ndarray, lk: np.ndarray, ls: np.ndarray, nk: np.ndarray,
                  ns: np.ndarray, count: np.ndarray, rows: np.ndarray, first: int, leaf: int,
                  node: int, vals: np.ndarray) -> int:
    """Store rows first, first+1, ... in order while the tables have room;
    the index of the first row not stored."""
    i = first
    while i < rows.shape[0] and tree_room(lk, nk, rk, count, leaf, node):
        tree_put(left, right, table, rk, rs, lk, ls, nk, ns, count, rows[i], vals, True)
        i += 1
    return i


@njit(cache=True)
def tree_rows(left: np.ndarray, right: np.ndarray, table: np.ndarray, rk: np.ndarray,
              lk: np.ndarray, nk: np.ndarray, first: int, n: int, vals: np.ndarray,
              out: np.ndarray) -> None:
    """States first .. first+n-1 of a tree store into `out`'s rows."""
    for i in range(n):
        tree_get(left, right, table, rk, lk, nk, np.int64(first + i), vals, out[i])

"""The numba kernels of the multi-core breadth-first search
(`checker.vm.parallel`), compiled with nogil so that Python threads run them
on several cores at once.

The states are partitioned by hash: each part (one per worker) owns the
states whose hash maps to it, in its own store, parent array and table
(`kernel.find`). A level is searched in phases, each part in its own thread:

- `expand_part`: a part expands its frontier and routes every successor row
  to its owner's inbox (the source part's outbox for that owner), with a
  *key* and its parent's global id (`gid_of`);
- `insert_part`: an owner stores its inbox rows; a row already stored in
  this level keeps the smallest key it was reached with (in `lkey`, the
  level's keys, which only the newest level needs);
- `rank_part`: the level's new states get their rank in the whole level,
  which is all that `key` keeps of a state once its level is ranked.

A stored state costs its row, a table slot, and 11 bytes: its parent's
global id and its rank (int32 each), its flag, its number of successors
(uint16: `KEY_BITS` bounds it). Where nothing reads the single-threaded
numbering of every state at the end (no recorded graph, no interrupt
handlers), the rank, flag and count are kept only for the frontier and
the new level, a window from P_WBASE: then a state costs its row, its
slot and 4 bytes. A part may keep its rows in a tree store
(`treestore`, as the single-threaded search does past `store.TREE_AT_BYTES`;
P_TREE), whose root ids are the part's indices: then the kernels decode a
row to expand it (`row_of`) and put an inbox row with `tree_put`.

The key of a successor is its parent's rank shifted left by `KEY_BITS` plus
its position among the parent's successors, plus one (zero stands for the
parent's own expansion, its fault or deadlock). Keys sort in the order in
which the single-threaded search meets them; the smallest key of a state is
the step by which that search first reached it, and its rank is its
position in that search's level. So the parent arrays are those of the
single-threaded search, and the driver can find out exactly where that
search would have stopped within a level.
"""

from __future__ import annotations

import numpy as np

from checker.vm.jit import njit
from checker.vm.kernel import find, hash_words, tree_room
from checker.vm.machine import expand, max_successors, predicate
from checker.vm.program import Program
from checker.vm.treestore import tree_get, tree_put

# The scalars of a part (`sc`)
# (P_POS..P_TRANS: the frontier's expansion; P_IPOS, P_NINV: the inbox being stored)
# (P_TREE: the rows live in the part's tree store, whose tables a new state
# may add P_TREE_LEAF and P_TREE_NODE entries to below its root; P_WBASE:
# the first state that `key`, `flags` and `nsucc` hold, 0 when they hold
# every state, else the frontier's first: `parallel._Part`'s window)
(P_POS, P_HI, P_BUDGET, P_NEV, P_TRANS, P_FIN, P_N, P_NEWLO, P_GROW_AT, P_INV, P_RECORD,
 P_EDGES, P_IPOS, P_NINV, P_TREE, P_TREE_LEAF, P_TREE_NODE, P_WBASE, P_SIZE) = range(19)

# What a kernel returns
DONE, LIMITS, GROW, OUTFULL = range(4)

# Kinds of the states `expand_part` leaves to Python (`ev[:, 1]`)
EV_FAULT, EV_TERMINAL = range(2)

KEY_BITS = 16  # a successor's position in a key: 2^16 - 1 successors a state at most
GID_LIMIT = 2**31 - 1  # global ids are int32 (a part's parents, its recorded steps)


def keys_too_narrow(prog: Program) -> str | None:
    """Why a successor's key cannot hold its position among its parent's
    successors, if a state of `prog` may have more than `KEY_BITS` allow:
    the partitioned searches (threads, Ray) then refuse the scenario."""
    if max_successors(prog) >= 1 << KEY_BITS:
        return f"a state with more than {(1 << KEY_BITS) - 1} successors"
    return None


@njit(cache=True, inline="always")
def gid_of(part: int, index: int, nparts: int) -> int:
    """The global id of state `index` of `part`: index * nparts + part, so
    that the ids of all parts fill one int32 range (`part_states`)."""
    return index * nparts + part


@njit(cache=True, inline="always")
def gid_split(gid: int, nparts: int) -> tuple[int, int]:
    """The part and the index of global id `gid` (`gid_of`'s inverse)."""
    return gid % nparts, gid // nparts


def part_states(nparts: int) -> int:
    """The most states a part of `nparts` may store: its global ids stay
    below `GID_LIMIT`. Hash partitioning fills the parts evenly, so the
    search as a whole reaches about `GID_LIMIT` states, as one worker's
    int32 parents allow (`store.MAX_STATES`)."""
    return GID_LIMIT // nparts

_MIX = np.uint64(0xBF58476D1CE4E5B9)


@njit(cache=True, inline="always")
def owner_of(h: np.uint64, nparts: int) -> int:
    """The part that owns a state of hash `h`: from a second mix of it, so
    that a part's states still spread over every slot of its table (whose
    position takes the low bits of `h`)."""
    x = (h ^ (h >> np.uint64(31))) * _MIX
    return int((x >> np.uint64(32)) % np.uint64(nparts))


@njit(cache=True)
def owner_of_row(row: np.ndarray, nparts: int) -> int:
    return owner_of(hash_words(row), nparts)


@njit(cache=True)
def owners_of_rows(rows: np.ndarray, nparts: int) -> np.ndarray:
    """The owner of each row (`owner_of_row`), in bulk."""
    out = np.empty(rows.shape[0], dtype=np.int64)
    for i in range(rows.shape[0]):
        out[i] = owner_of(hash_words(rows[i]), nparts)
    return out


@njit(cache=True, inline="always")
def row_of(store: np.ndarray, tree: tuple[np.ndarray, ...], cur: np.ndarray, sc: np.ndarray,
           i: int) -> np.ndarray:
    """State i's row: in `store`, or (P_TREE) decoded from the tree into `cur`."""
    if sc[P_TREE]:
        (left, right, table, rk, _rs, lk, _ls, nk, _ns, _count, vals) = tree
        tree_get(left, right, table, rk, lk, nk, np.int64(i), vals, cur)
        return cur
    row: np.ndarray = store[i]
    return row


@njit(cache=True, nogil=True)
def expand_part(code: np.ndarray, slots: np.ndarray, pcs: np.ndarray, pcact: np.ndarray,
                acts: np.ndarray, aux: np.ndarray, store: np.ndarray,
                tree: tuple[np.ndarray, ...], cur: np.ndarray, key: np.ndarray,
                flags: np.ndarray, nsucc: np.ndarray, sc: np.ndarray, succ: np.ndarray,
                succ_act: np.ndarray, faults: np.ndarray, bufs: np.ndarray, regs: np.ndarray,
                pend: np.ndarray, fired: np.ndarray, covered: np.ndarray,
                out_rows: np.ndarray, out_key: np.ndarray, out_par: np.ndarray,
                out_n: np.ndarray, ev: np.ndarray, me: int) -> int:
    """Expand the frontier states from P_POS to P_HI (`key` holds their
    ranks); the states Python must judge (a fault or escape, no successor
    and not plainly fine) go to `ev` unexpanded. Returns DONE, LIMITS (the
    budget of expansions is spent) or OUTFULL (an outbox could overflow).
    With P_TREE, a state's row is read from the tree store `tree` (the
    arrays of `TreeStore.arrays()` and its scratch) into `cur`."""
    nparts = out_n.shape[0]
    width = succ.shape[0]
    room = out_key.shape[1]
    fullest = 0  # the most rows in one outbox: kept up as rows are routed
    for d in range(nparts):
        fullest = max(fullest, out_n[d])
    wb = sc[P_WBASE]
    while sc[P_POS] < sc[P_HI]:
        i = sc[P_POS]
        if flags[i - wb]:
            sc[P_POS] = i + 1
            continue
        if sc[P_BUDGET] <= 0:
            return LIMITS
        if fullest + width > room:
            return OUTFULL
        sc[P_BUDGET] -= 1
        sc[P_POS] = i + 1
        here = row_of(store, tree, cur, sc, i)
        k, nf = expand(code, slots, pcs, pcact, acts, aux, here, succ, succ_act, faults,
                       bufs, regs, pend)
        if nf > 0:
            pend[:] = 0  # the Python engine expands this state again, covers included
            ev[sc[P_NEV], 0] = i
            ev[sc[P_NEV], 1] = EV_FAULT
            sc[P_NEV] += 1
            continue
        for c in range(pend.shape[0]):
            if pend[c]:
                covered[c] = 1
                pend[c] = 0
        if k == 0:
            finished = True
            for t in range(pcs.shape[0]):
                if (here[pcs[t, 0]] >> pcs[t, 1]) & pcs[t, 2]:
                    finished = False
            if not finished or (sc[P_FIN] >= 0 and predicate(
                    code, slots, aux, sc[P_FIN], here, bufs, regs, pend) != -1):
                ev[sc[P_NEV], 0] = i
                ev[sc[P_NEV], 1] = EV_TERMINAL
                sc[P_NEV] += 1
            continue
        nsucc[i - wb] = k
        sc[P_TRANS] += k
        base = key[i - wb] << KEY_BITS
        gid = gid_of(me, i, nparts)
        for j in range(k):
            fired[succ_act[j]] = 1
            row = succ[j]
            d = owner_of(hash_words(row), nparts)
            p = out_n[d]
            for w in range(row.shape[0]):
                out_rows[d, p, w] = row[w]
            out_key[d, p] = base + j + 1
            out_par[d, p] = gid
            out_n[d] = p + 1
            fullest = max(fullest, p + 1)
    return DONE


@njit(cache=True, nogil=True)
def insert_part(code: np.ndarray, slots: np.ndarray, aux: np.ndarray, store: np.ndarray,
                tree: tuple[np.ndarray, ...], parent: np.ndarray, lkey: np.ndarray,
                flags: np.ndarray, nsucc: np.ndarray, table: np.ndarray, sc: np.ndarray,
                rows: np.ndarray, keys: np.ndarray, pars: np.ndarray, count: int,
                bufs: np.ndarray, regs: np.ndarray, pend: np.ndarray, covered: np.ndarray,
                inv: np.ndarray, edges: np.ndarray) -> int:
    """Store the inbox rows from P_IPOS to `count`: a new state goes to the
    end of the store (with P_TREE, the tree store `tree`; its root ids are
    the same indices), with its invariant evaluated (`inv` lists those that
    do not plainly hold); a state new in this level (index >= P_NEWLO)
    keeps its smallest key (`lkey[index - P_NEWLO]`) and that key's parent.
    With P_RECORD, every row is a step (parent's global id, local index) in
    `edges`. Returns DONE or GROW (the store, a tree table, `lkey`, `inv`,
    `edges` or the window of `flags` and `nsucc` is full, or the part holds
    `part_states`: P_GROW_AT). `flags` and `nsucc` (and `key`, in the other
    kernels) are indexed from P_WBASE."""
    (t_left, t_right, t_table, t_rk, t_rs, t_lk, t_ls, t_nk, t_ns, t_count, t_vals) = tree
    newlo = sc[P_NEWLO]
    wb = sc[P_WBASE]
    while sc[P_IPOS] < count:
        p = sc[P_IPOS]
        if sc[P_RECORD] and sc[P_EDGES] >= edges.shape[0]:
            return GROW
        n = sc[P_N]
        if n >= sc[P_GROW_AT] or sc[P_NINV] >= inv.shape[0] or n - newlo >= lkey.shape[0] \
                or n - wb >= nsucc.shape[0]:
            return GROW  # room for a new state first: then one probe finds or inserts
        row = rows[p]
        if sc[P_TREE]:
            if not tree_room(t_lk, t_nk, t_rk, t_count, sc[P_TREE_LEAF], sc[P_TREE_NODE]):
                return GROW
            t_idx, new = tree_put(t_left, t_right, t_table, t_rk, t_rs, t_lk, t_ls, t_nk,
                                  t_ns, t_count, row, t_vals, True)
            idx = int(t_idx)
        else:
            idx = find(table, store, row, n)  # one probe: found, or n put in the table
            new = idx < 0
            if new:
                for w in range(row.shape[0]):
                    store[n, w] = row[w]
                idx = n
        if new:
            parent[n] = pars[p]
            lkey[n - newlo] = keys[p]
            flags[n - wb] = 0
            nsucc[n - wb] = 0
            sc[P_N] = n + 1
            if sc[P_INV] >= 0:
                r = predicate(code, slots, aux, sc[P_INV], row, bufs, regs, pend)
                for c in range(pend.shape[0]):
                    if pend[c]:
                        covered[c] = 1
                        pend[c] = 0
                if r != -1:
                    inv[sc[P_NINV]] = n
                    sc[P_NINV] += 1
        elif idx >= newlo and keys[p] < lkey[idx - newlo]:
            lkey[idx - newlo] = keys[p]
            parent[idx] = pars[p]
        if sc[P_RECORD]:
            edges[sc[P_EDGES], 0] = pars[p]
            edges[sc[P_EDGES], 1] = idx
            sc[P_EDGES] += 1
        sc[P_IPOS] = p + 1
    return DONE


@njit(cache=True, nogil=True)
def rank_part(key: np.ndarray, lo: int, order: np.ndarray, keys: np.ndarray, offs: np.ndarray,
              me: int) -> None:
    """Replace the keys of this part's new states (from `lo`) by their ranks
    in the level. `keys` holds every part's new keys, each part's sorted,
    from `offs[v]` to `offs[v + 1]` (keys are distinct across the level);
    `order` sorts this part's. One merge pass: a rank is the number of
    smaller keys, counted by a cursor into each other part's keys."""
    nparts = offs.shape[0] - 1
    cur = offs[:-1].copy()
    for t in range(offs[me + 1] - offs[me]):
        k = keys[offs[me] + t]
        r = t
        for v in range(nparts):
            if v != me:
                c = cur[v]
                end = offs[v + 1]
                while c < end and keys[c] < k:
                    c += 1
                cur[v] = c
                r += c - offs[v]
        key[lo + order[t]] = r


@njit(cache=True, nogil=True)
def sort_keys(lkey: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The level's first `count` keys sorted, and the order that sorts them."""
    order = np.argsort(lkey[:count])
    return lkey[:count][order], order


@njit(cache=True, nogil=True)
def replay_part(code: np.ndarray, slots: np.ndarray, pcs: np.ndarray, pcact: np.ndarray,
                acts: np.ndarray, aux: np.ndarray, store: np.ndarray,
                tree: tuple[np.ndarray, ...], cur: np.ndarray, key: np.ndarray,
                flags: np.ndarray, lo: int, hi: int, last: int, sc: np.ndarray, succ: np.ndarray,
                succ_act: np.ndarray, faults: np.ndarray, bufs: np.ndarray, regs: np.ndarray,
                pend: np.ndarray, fired: np.ndarray, covered: np.ndarray) -> None:
    """Expand again the frontier states lo..hi-1 of rank at most `last`,
    only to mark their actions and covers: what the single-threaded search
    had executed when it stopped in this level at rank `last`."""
    wb = sc[P_WBASE]
    for i in range(lo, hi):
        if flags[i - wb] or key[i - wb] > last:
            continue
        k, nf = expand(code, slots, pcs, pcact, acts, aux, row_of(store, tree, cur, sc, i),
                       succ, succ_act, faults, bufs, regs, pend)
        if nf > 0:
            pend[:] = 0
            continue
        for c in range(pend.shape[0]):
            if pend[c]:
                covered[c] = 1
                pend[c] = 0
        for j in range(k):
            fired[succ_act[j]] = 1


@njit(cache=True, nogil=True)
def dense_ids(key: np.ndarray, starts: np.ndarray, base: np.ndarray, out: np.ndarray) -> None:
    """out[i]: the number of state i in the single-threaded search's order
    (`base[lv]`, the states before level lv, plus its rank), for the states
    of the ranked levels (level lv from `starts[lv]` to `starts[lv + 1]`)."""
    for lv in range(starts.shape[0] - 1):
        for i in range(starts[lv], starts[lv + 1]):
            out[i] = base[lv] + key[i]


@njit(cache=True, nogil=True)
def gather_part(parent: np.ndarray, dense: np.ndarray, flat: np.ndarray, offs: np.ndarray,
                n: int, me: int, gparent: np.ndarray, who: np.ndarray) -> None:
    """Part `me`'s states numbered below `n`: their parents (global ids) as
    numbers into `gparent` (`flat[offs[part] + i]`: the number of state i
    of a part; the initial state's parent is 0), and each state's global
    id into `who`, by number."""
    nparts = offs.shape[0] - 1
    for i in range(dense.shape[0]):
        d = dense[i]
        if d >= n:
            continue
        who[d] = gid_of(me, i, nparts)
        g = parent[i]
        if g < 0:
            gparent[d] = 0
        else:
            q, j = gid_split(g, nparts)
            gparent[d] = flat[offs[q] + j]


@njit(cache=True, nogil=True)
def gather_rows(store: np.ndarray, tree: tuple[np.ndarray, ...], cur: np.ndarray,
                sc: np.ndarray, who: np.ndarray, me: int, nparts: int, out: np.ndarray) -> None:
    """The rows of part `me`'s states among the numbers `who` covers, into
    `out` by number."""
    for d in range(out.shape[0]):
        q, j = gid_split(who[d], nparts)
        if q == me:
            row = row_of(store, tree, cur, sc, j)
            for w in range(row.shape[0]):
                out[d, w] = row[w]


@njit(cache=True, nogil=True)
def map_steps(edges: np.ndarray, count: int, dense: np.ndarray, flat: np.ndarray,
              offs: np.ndarray, n: int, out: np.ndarray) -> None:
    """A part's steps (parent's global id, local index) as pairs of numbers
    into `out`; -1 for a step to or from a state not numbered below `n`."""
    nparts = offs.shape[0] - 1
    for k in range(count):
        g = edges[k, 0]
        j = edges[k, 1]
        q, i = gid_split(g, nparts)
        src = flat[offs[q] + i]
        dst = dense[j] if j < dense.shape[0] else n
        if src >= n or dst >= n:
            out[k, 0] = -1
            out[k, 1] = -1
        else:
            out[k, 0] = src
            out[k, 1] = dst

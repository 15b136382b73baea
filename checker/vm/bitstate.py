"""Partial breadth-first search: bitstate (a Bloom filter) and hash
compaction, SPIN's -DBITSTATE and -DHC, as stores of the VM's search.

The search is `search.vm_bfs` with two things replaced: its store
(`PartialStore`) and its kernel (`partial_search`, `kernel.search` with the
visited test swapped). What changes:

- the visited set holds no state: bitstate sets k bits of an m-bit filter
  per state (bit i = h1 + i*h2 mod m, two seeded 64-bit hashes of the row;
  Kirsch and Mitzenmacher's double hashing); hash compaction keeps the full
  64-bit hash of each state in an open-addressing table. A state whose bits
  are all set (whose hash is present) counts as visited, so a state that
  collides with another is omitted, with everything reachable only through
  it: the search is partial and never verifies.
- the rows are kept only while needed: a ring of the rows from the state
  being expanded to the newest (the current and next levels), grown by
  doubling. For a counterexample each state keeps its parent's index and
  its place in the parent's successor list (`slot`), and a path is rebuilt
  by replaying those places from the initial state with the Python
  engine's `expand` (whose successors, in order, are the VM's: tests/test_vm.py).
  So a state costs 4 (parent) + 2 (slot) + 1 (flags) bytes, plus m/n bits
  of filter or 9-18 bytes of hash table, against 8 bytes a word of the row,
  9-18 of table, 4 and 1 in the exact dense store.

Diversification for swarm runs (`PartialConfig`): the hash seed, a seeded
permutation of each state's successors (the order in which they are stored:
sorting by a seeded hash of the row permutes threads and actions alike), and
a depth bound (states at that depth are stored, not expanded).

The estimates (README, "Partial search"): bitstate, the expected number of
states omitted is the sum over stored states of the chance that a new state
finds its k bits already set, (1 - e^{-k i/m})^k for the i-th; hash
compaction, n^2 / 2^65 (a new state's hash equal to one of i stored 64-bit
hashes, summed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import cast

import numpy as np

from checker.explore.codegen import Compiled
from checker.explore.common import Outcome, StateGraph, expand_safely
from checker.explore.limits import Budget
from checker.explore.partial import (
    BITSTATE,
    HASHCOMPACT,
    PartialConfig,
    bitstate_omissions,
    hashcompact_omissions,
)
from checker.explore.result import Coverage, Stats
from checker.explore.run import Search
from checker.ir.interp import Fault
from checker.vm import growable
from checker.vm import kernel as K
from checker.vm.jit import njit
from checker.vm.layout import Words
from checker.vm.machine import expand, max_successors, predicate
from checker.vm.program import Program
from checker.vm.search import vm_bfs
from checker.vm.store import LOAD_DEN, LOAD_NUM, Store
from checker.vm.symmetry import canon_row

# The kernel's parameters (`par`)
(P_MODE, P_K, P_SEED1, P_SEED2, P_SEED3, P_PERMUTE, P_MAXDEPTH, P_CUT, P_SIZE) = range(9)
_RING0 = 1 << 10
_TABLE0 = 1 << 12

_MUL = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)


# ---------------------------------------------------------------- kernel


@njit(cache=True, inline="always")
def seeded_hash(row: np.ndarray, seed: np.int64) -> np.uint64:
    h = (np.uint64(seed) * _M1) ^ np.uint64(0x243F6A8885A308D3)
    for w in range(row.shape[0]):
        h = (h ^ np.uint64(row[w])) * _MUL
        h ^= h >> np.uint64(29)
    h ^= h >> np.uint64(33)
    h *= _M1
    h ^= h >> np.uint64(33)
    h *= _M2
    h ^= h >> np.uint64(33)
    return h


@njit(cache=True)
def _bits_seen(table: np.ndarray, h1: np.uint64, h2: np.uint64, k: int) -> bool:
    mask = np.uint64(table.shape[0] * 64 - 1)
    for i in range(k):
        b = (h1 + np.uint64(i) * h2) & mask
        if (table[b >> np.uint64(6)] >> (b & np.uint64(63))) & np.uint64(1) == 0:
            return False
    return True


@njit(cache=True)
def _bits_set(table: np.ndarray, h1: np.uint64, h2: np.uint64, k: int) -> None:
    mask = np.uint64(table.shape[0] * 64 - 1)
    for i in range(k):
        b = (h1 + np.uint64(i) * h2) & mask
        table[b >> np.uint64(6)] |= np.uint64(1) << (b & np.uint64(63))


@njit(cache=True)
def _hc_find(table: np.ndarray, key: np.uint64, insert: bool) -> bool:
    """Whether `key` (non-zero) is in the table; inserted if not and asked."""
    mask = np.uint64(table.shape[0] - 1)
    pos = key & mask
    while True:
        e = table[pos]
        if e == 0:
            if insert:
                table[pos] = key
            return False
        if e == key:
            return True
        pos = (pos + np.uint64(1)) & mask


@njit(cache=True)
def hc_rehash(old: np.ndarray, new: np.ndarray) -> None:
    for i in range(old.shape[0]):
        if old[i] != 0:
            _hc_find(new, old[i], True)


@njit(cache=True)
def popcount(table: np.ndarray) -> int:
    n = 0
    for i in range(table.shape[0]):
        x = table[i]
        while x:
            x &= x - np.uint64(1)
            n += 1
    return n


@njit(cache=True)
def _order(succ: np.ndarray, k: int, seed: np.int64, permute: bool, order: np.ndarray,
           keys: np.ndarray) -> None:
    """The order in which the k successors are stored: as found, or sorted
    by a seeded hash of each row (a seeded permutation)."""
    for j in range(k):
        order[j] = j
        if permute:
            keys[j] = seeded_hash(succ[j], seed)
    if permute:
        for a in range(1, k):
            j = order[a]
            b = a
            while b > 0 and keys[order[b - 1]] > keys[j]:
                order[b] = order[b - 1]
                b -= 1
            order[b] = j


@njit(cache=True)
def partial_search(code: np.ndarray, slots: np.ndarray, pcs: np.ndarray, pcact: np.ndarray,
                   acts: np.ndarray, aux: np.ndarray, store: np.ndarray, parent: np.ndarray,
                   flags: np.ndarray, table: np.ndarray, sc: np.ndarray, succ: np.ndarray,
                   succ_act: np.ndarray, faults: np.ndarray, bufs: np.ndarray,
                   regs: np.ndarray, pend: np.ndarray, fired: np.ndarray, covered: np.ndarray,
                   edges: np.ndarray, tree: tuple[np.ndarray, ...], cur: np.ndarray,
                   por: np.ndarray, sym: np.ndarray) -> int:
    """`kernel.search`'s contract and events (no partial-order reduction:
    `por` is unused, the command line refuses --por; successors made
    canonical by the symmetry groups `sym`, as the kernel does, before they
    are hashed), with `store` a ring of rows
    (index i at i & (size-1)), `table` the filter or the hash table, and
    `tree` = (slot, par, order, keys): each state's place among its
    parent's successors, the parameters (`P_*`), scratch."""
    slot, par, order, keys = tree
    ring = store.shape[0] - 1
    bitstate = par[P_MODE] == 0
    k = par[P_K]
    while True:
        if sc[K.SC_K] >= 0:  # storing the successors of state HEAD
            head = sc[K.SC_HEAD]
            if sc[K.SC_POS] == 0:
                _order(succ, sc[K.SC_K], par[P_SEED3], par[P_PERMUTE] != 0, order, keys)
            while sc[K.SC_POS] < sc[K.SC_K]:
                j = order[sc[K.SC_POS]]
                row = succ[j]
                canon_row(row, sym)  # symmetry reduction (a no-op without groups)
                n = sc[K.SC_N]
                h1 = seeded_hash(row, par[P_SEED1])
                if bitstate:
                    h2 = seeded_hash(row, par[P_SEED2]) | np.uint64(1)
                    new = not _bits_seen(table, h1, h2, k)
                else:
                    h2 = np.uint64(0)
                    if h1 == 0:
                        h1 = np.uint64(1)
                    new = not _hc_find(table, h1, False)
                if new:
                    if n >= sc[K.SC_CAP]:
                        return K.CAP
                    if n >= sc[K.SC_GROW_AT] or n - head > ring:
                        return K.GROW
                    if bitstate:
                        _bits_set(table, h1, h2, k)
                    else:
                        _hc_find(table, h1, True)
                    at = n & ring
                    for w in range(row.shape[0]):
                        store[at, w] = row[w]
                    parent[n] = head
                    slot[n] = j
                    sc[K.SC_N] = n + 1
                sc[K.SC_POS] += 1
                if new:
                    if sc[K.SC_INV] >= 0:
                        r = predicate(code, slots, aux, sc[K.SC_INV], row, bufs, regs, pend)
                        if r != -1:
                            sc[K.SC_EVENT] = n
                            sc[K.SC_RESULT] = r
                            return K.INVARIANT
                    sc[K.SC_NEXT] += 1
            sc[K.SC_K] = -1
            sc[K.SC_HEAD] = head + 1
        head = sc[K.SC_HEAD]
        if head == sc[K.SC_LEVEL_END]:
            if sc[K.SC_NEXT] == 0:
                return K.DONE
            sc[K.SC_DEPTH] += 1
            sc[K.SC_NEXT] = 0
            sc[K.SC_LEVEL_END] = sc[K.SC_N]
            if par[P_MAXDEPTH] >= 0 and sc[K.SC_DEPTH] >= par[P_MAXDEPTH]:
                par[P_CUT] = 1  # the level at the bound is stored, not expanded
                return K.DONE
        if flags[head]:
            sc[K.SC_HEAD] = head + 1
            continue
        if sc[K.SC_BUDGET] <= 0:
            return K.LIMITS
        sc[K.SC_BUDGET] -= 1
        here = store[head & ring]
        nk, nf = expand(code, slots, pcs, pcact, acts, aux, here, succ, succ_act, faults,
                        bufs, regs, pend)
        if nf > 0:
            pend[:] = 0
            sc[K.SC_EVENT] = head
            return K.FAULT
        for c in range(pend.shape[0]):
            if pend[c]:
                covered[c] = 1
                pend[c] = 0
        if nk == 0:
            sc[K.SC_EVENT] = head
            finished = True
            for t in range(pcs.shape[0]):
                if (here[pcs[t, 0]] >> pcs[t, 1]) & pcs[t, 2]:
                    finished = False
            if not finished:
                return K.TERMINAL
            if sc[K.SC_FIN] >= 0 and predicate(code, slots, aux, sc[K.SC_FIN], here, bufs,
                                               regs, pend) != -1:
                return K.TERMINAL
            sc[K.SC_HEAD] = head + 1
            continue
        for j in range(nk):
            fired[succ_act[j]] = 1
        sc[K.SC_TRANS] += nk
        sc[K.SC_K] = nk
        sc[K.SC_POS] = 0


def _kernel(prog: Program) -> tuple[Callable[..., int], Words]:
    return partial_search, prog.code


# ---------------------------------------------------------------- the store


class PartialStore(Store):
    """`Store`'s interface over the ring, the parents and places, and the
    filter or hash table (see the module docstring)."""

    def __init__(self, c: Compiled, prog: Program, cfg: PartialConfig):
        super().__init__(prog.layout.nwords, False, "dense")
        self.c, self.prog, self.cfg = c, prog, cfg
        self.store = np.zeros((_RING0, self.nwords), dtype=np.int64)
        self.slot = growable.zeros((len(self.parent),), np.int16)
        if cfg.mode == BITSTATE:
            self.table = np.zeros(1 << max(cfg.log2_bits - 6, 0), dtype=np.uint64)
        else:
            self.table = np.zeros(_TABLE0, dtype=np.uint64)
        width = max(max_successors(prog), 1)
        self.order = np.zeros(width, dtype=np.int64)
        self.keys = np.zeros(width, dtype=np.uint64)
        rng = np.random.default_rng(cfg.seed)
        # Seeds drawn, never small neighbours: seeds 0 and 1 give correlated
        # h1 and h2 on one-word rows (5 % more colliding bits, measured).
        seeds = rng.integers(-(2**62), 2**62, size=3)
        self.par = np.zeros(P_SIZE, dtype=np.int64)
        self.par[P_MODE] = 0 if cfg.mode == BITSTATE else 1
        self.par[P_K] = cfg.hashes
        self.par[P_SEED1:P_SEED3 + 1] = seeds
        self.par[P_PERMUTE] = int(cfg.permute)
        self.par[P_MAXDEPTH] = -1 if cfg.max_depth is None else cfg.max_depth
        self.low = 0  # the ring holds no row below this index (rows dropped by a resize)
        self.sc: Words = np.zeros(K.SC_SIZE, dtype=np.int64)
        self.initial: int = c.initial
        self.replayed: dict[int, int] = {0: c.initial}
        self.checked: set[int] = set()

    def tree_args(self) -> tuple[np.ndarray, ...]:
        return (self.slot, self.par, self.order, self.keys)

    def row(self, i: int) -> Words:
        if not self._in_ring(i):
            return self.prog.layout.words_of(self.replay(i))
        row = self._ring_row(i)
        p = int(self.parent[i])
        if i and p in self.replayed and i not in self.checked:
            # Where a rebuilt path meets the stored rows: the replayed
            # parent's successor must be the row stored.
            self.checked.add(i)
            pending = list(self.c.runtime.pending)
            try:
                t = successors(self.c, self.replayed[p])[int(self.slot[i])]
            finally:
                self.c.runtime.pending[:] = pending
            if t != self.prog.layout.int_of(row):
                raise AssertionError(f"state {i} rebuilt from its parent differs from the "
                                     "one stored: the engines' successor orders disagree")
        return row

    def _in_ring(self, i: int) -> bool:
        n = int(self.sc[K.SC_N])
        return max(self.low, n - len(self.store)) <= i < n

    def _ring_row(self, i: int) -> Words:
        row: Words = self.store[i & (len(self.store) - 1)]
        return row

    def rows(self, n: int) -> Words:
        return np.array([self.row(i) for i in range(n)], dtype=np.int64).reshape(n, self.nwords)

    def replay(self, i: int) -> int:
        """State i's packed int, rebuilt from the initial state by its
        ancestors' places among their parents' successors."""
        chain = [i]
        while chain[-1] not in self.replayed:
            chain.append(int(self.parent[chain[-1]]))
        s = self.replayed[chain.pop()]
        pending = list(self.c.runtime.pending)
        try:
            while chain:
                j = chain.pop()
                s = successors(self.c, s)[int(self.slot[j])]
                self.replayed[j] = s
        finally:
            self.c.runtime.pending[:] = pending
        return s

    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.store, self.parent, self.flags, self.table,
                                      self.slot))

    def fill(self, rows: Words, parents: list[int], sc: Words) -> None:
        if len(rows) != 1:
            raise ValueError("a partial search starts from the initial state alone")
        self.sc = sc
        self.store[0] = rows[0]
        self.parent[0] = 0
        h1 = int(seeded_hash(np.ascontiguousarray(rows[0]), self.par[P_SEED1]))
        if self.cfg.mode == BITSTATE:
            h2 = int(seeded_hash(np.ascontiguousarray(rows[0]), self.par[P_SEED2])) | 1
            _bits_set(self.table, np.uint64(h1), np.uint64(h2), self.cfg.hashes)
        else:
            _hc_find(self.table, np.uint64(h1 or 1), True)

    def growth_bytes(self, sc: Words) -> int:
        n, head = int(sc[K.SC_N]), int(sc[K.SC_HEAD])
        extra = 0
        if n >= len(self.parent):  # in place (`growable`): the new halves
            extra += self.parent.nbytes + self.flags.nbytes + self.slot.nbytes
        if n - head >= len(self.store):
            extra += 2 * self.store.nbytes
        if self.cfg.mode == HASHCOMPACT and _full(n, len(self.table)):
            extra += 2 * self.table.nbytes
        return extra

    def grow(self, sc: Words) -> None:
        self.sc = sc
        n, head = int(sc[K.SC_N]), int(sc[K.SC_HEAD])
        if n >= len(self.parent):
            for a in ("parent", "flags", "slot"):
                growable.double(self, a)
        if n - head >= len(self.store):
            size = len(self.store)
            while n - head >= size:
                size *= 2
            ring = np.zeros((size, self.nwords), dtype=np.int64)
            live = np.arange(head, n)
            ring[live & (size - 1)] = self.store[live & (len(self.store) - 1)]
            self.store, self.low = ring, head
        room = len(self.parent)
        if self.cfg.mode == HASHCOMPACT:
            if _full(n, len(self.table)):
                table = np.zeros(2 * len(self.table), dtype=np.uint64)
                hc_rehash(self.table, table)
                self.table = cast(np.ndarray, table)
            room = min(room, len(self.table) * LOAD_NUM // LOAD_DEN)
        sc[K.SC_GROW_AT] = room
        sc[K.SC_EDGE_CAP] = len(self.edges)


def _full(n: int, size: int) -> bool:
    return LOAD_DEN * (n + 1) > LOAD_NUM * size


def successors(c: Compiled, s: int) -> list[int]:
    """A state's successors in the order the search stored their places:
    the VM's `expand`'s, which is the Python engine's; for a state with a
    faulting step, those `search._python_expand` stores."""
    try:
        return c.expand(s)
    except Fault:
        return expand_safely(c, s, lambda: [])[0]


# ---------------------------------------------------------------- figures


def coverage(st: PartialStore, stats: Stats) -> Coverage:
    cfg = st.cfg
    n = stats.states
    if cfg.mode == BITSTATE:
        m = len(st.table) * 64
        return Coverage(BITSTATE, n, bits=m, bits_set=int(popcount(st.table)),
                        hashes=cfg.hashes, omitted=bitstate_omissions(n, m, cfg.hashes),
                        depth_bound=cfg.max_depth, cut=bool(st.par[P_CUT]))
    return Coverage(HASHCOMPACT, n, bits=64, omitted=hashcompact_omissions(n),
                    depth_bound=cfg.max_depth, cut=bool(st.par[P_CUT]))


def partial_text(cov: Coverage) -> str:
    """The reason a partial search is incomplete, as `limit` says it."""
    what = "a bitstate store" if cov.mode == BITSTATE else "a hash-compact store"
    return f"{what}: a partial search" + (
        f", depth bound {cov.depth_bound}" if cov.cut else "")


def partial_bfs(cfg: PartialConfig) -> Search:
    """A search with `check`'s engine contract that stores states in a
    bitstate filter or by their hashes; it always ends with `out.limit`
    set (a partial search), so `check` never verifies and skips the
    passes that need every state (livelock, lock usage)."""

    def search(c: Compiled, budget: Budget, stats: Stats, out: Outcome,
               graph: StateGraph | None = None) -> Mapping[int, int]:
        made: list[PartialStore] = []

        def make(prog: Program) -> Store:
            made.append(PartialStore(c, prog, cfg))
            return made[0]

        parents = vm_bfs(c, budget, stats, out, None, _kernel, store=make)
        cov = coverage(made[0], stats)
        stats.coverage = cov
        reason = partial_text(cov)
        out.limit = reason if out.limit is None else f"{out.limit} ({reason})"
        return parents

    return search

"""Symmetry reduction in the VM: `explore.symmetry.Canon`'s function on a
state's word row, in numba, applied by the breadth-first kernel to every
successor before it is looked up (`kernel.search`, hence the JIT's kernel,
which is the same function recompiled).

The groups are one int64 array (`table`), by domain: each symmetric pool
(its objects, renamed in its references), then the threads (every thread
group, renamed in the thread-id locations), in `Canon`'s order:
  [n_domains, escaped (set by `canon_row` to the pool's number, 1 up, when
   a state makes its allocator's choice observable:
   `explore.symmetry.Canon.escaped`), scratch offset,
   per domain: its number of ids (null or none included), n_groups,
     n_ext, per location outside the pool (word, shift, mask) (the tie-break
     of `explore.symmetry._ties`; 0 for the threads),
     per group: n, m, its n ids, then n*m rows (word, shift, mask, key mask)
                (instance by instance, slot by slot),
     n_at, per step that allocates from the pool (word, shift, mask, pc) of
           its thread's pc (0 for the threads),
     n_locs, per location (word, shift, mask, 1 if it holds a set of thread
             ids, bit t for thread t, else 0),
   scratch: the renaming (the largest domain), the order (largest n), the
            ties (largest n), the values (largest n*m)]
so that the kernel allocates nothing per successor (the table belongs to
one search, on one thread). `NO_SYMMETRY` (`[0]`) leaves rows as they are.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from checker.explore.codegen import Compiled
from checker.explore.symmetry import Canon, tid_field
from checker.ir.nodes import TidLoc
from checker.vm.jit import njit
from checker.vm.layout import WordLayout, Words

NO_SYMMETRY = np.zeros(1, dtype=np.int64)


def sym_table(c: Compiled, layout: WordLayout) -> Words:
    """The kernel's description of `c`'s groups; `NO_SYMMETRY` when the
    search is not reduced (`c.canon` None)."""
    ts = c.ts
    if c.canon is None or not ts.symmetric:
        return NO_SYMMETRY
    p = c.packing

    def locs_of(locs: Sequence[TidLoc], into: dict[int, int]) -> list[int]:
        out: list[int] = []
        for loc in locs:
            off, mask = tid_field(p, loc)
            shift = layout.shift[loc.slot] + (off - p.offsets[loc.slot])
            out += [layout.word[loc.slot], shift, mask, int(loc.bits)]
            into[loc.slot] = into.get(loc.slot, 0) | (mask << (off - p.offsets[loc.slot]))
        return out

    def group(ids: Sequence[int], blocks: Sequence[Sequence[int]], keyless: dict[int, int]
              ) -> list[int]:
        out = [len(ids), len(blocks[0]), *ids]
        for block in blocks:
            for k in block:
                mask = (1 << p.widths[k]) - 1
                out += [layout.word[k], layout.shift[k], mask, mask & ~keyless.get(k, 0)]
        return out

    tid_masks: dict[int, int] = {}
    tid_locs = locs_of(ts.tid_locs, tid_masks)
    pool_masks = dict(tid_masks)  # as `Canon`: ids of every domain out of the pools' keys
    pool_locs = [locs_of(pg.refs, pool_masks) for pg in ts.pool_symmetry]
    out = [len(ts.pool_symmetry) + 1, 0, 0]  # the flag, the scratch offset
    for pg, locs in zip(ts.pool_symmetry, pool_locs, strict=True):
        own = {k for b in pg.blocks for k in b}
        ext = [x for k, x in enumerate(locs_of([loc for loc in pg.refs if loc.slot not in own],
                                               {})) if k % 4 != 3]  # (word, shift, mask)
        at: list[int] = []
        for k, pc in pg.alloc_at:
            at += [layout.word[k], layout.shift[k], (1 << p.widths[k]) - 1, pc - p.los[k]]
        out += [len(pg.blocks) + 1, 1, len(ext) // 3, *ext,
                *group(range(1, len(pg.blocks) + 1), pg.blocks, pool_masks),
                len(pg.alloc_at), *at, len(pg.refs), *locs]
    out += [len(ts.threads) + 1, len(ts.symmetry), 0]
    for g in ts.symmetry:
        out += group(g.threads, g.blocks, tid_masks)
    out += [0, len(ts.tid_locs), *tid_locs]
    out[2] = len(out)
    sizes = [len(ts.threads) + 1, *(len(pg.blocks) + 1 for pg in ts.pool_symmetry)]
    ns = [*(len(g.threads) for g in ts.symmetry), *(len(pg.blocks) for pg in ts.pool_symmetry)]
    nms = [*(len(g.threads) * len(g.blocks[0]) for g in ts.symmetry),
           *(len(pg.blocks) * len(pg.blocks[0]) for pg in ts.pool_symmetry)]
    out += [0] * (max(sizes) + 2 * max(ns) + max(nms))
    table = np.array(out, dtype=np.int64)
    if isinstance(c.canon, Canon):
        c.canon.tables.append(table)  # its flag read by `Canon.escaped`
    return table


@njit(cache=True, inline="always")
def _greater(row: np.ndarray, sym: np.ndarray, base: int, m: int, a: int, b: int,
             ties: int) -> bool:
    """Whether instance a's key (its slots' keys, then its tie-break, at
    `ties`, if not -1) is greater than instance b's."""
    for k in range(m):
        pa = base + (a * m + k) * 4
        pb = base + (b * m + k) * 4
        ka = (row[sym[pa]] >> sym[pa + 1]) & sym[pa + 3]
        kb = (row[sym[pb]] >> sym[pb + 1]) & sym[pb + 3]
        if ka != kb:
            return bool(ka > kb)
    return ties >= 0 and bool(sym[ties + a] > sym[ties + b])


@njit(cache=True, inline="always")
def _equal_allocated(row: np.ndarray, sym: np.ndarray, base: int, n: int, m: int) -> bool:
    """Whether two allocated objects have equal keys (only then does the
    tie-break decide anything: free objects tie and keep their order)."""
    for a in range(n):
        qa = base + (a * m + m - 1) * 4  # its allocated bit, last of its block
        if ((row[sym[qa]] >> sym[qa + 1]) & sym[qa + 2]) == 0:
            continue
        for b in range(a + 1, n):
            if not _greater(row, sym, base, m, a, b, -1) and \
                    not _greater(row, sym, base, m, b, a, -1):
                qb = base + (b * m + m - 1) * 4
                if (row[sym[qb]] >> sym[qb + 1]) & sym[qb + 2]:
                    return True
    return False


@njit(cache=True, inline="always")
def _allocating(row: np.ndarray, sym: np.ndarray, at: int, na: int) -> bool:
    """Whether a thread is at a step that may allocate from the pool."""
    for i in range(na):
        q = at + 4 * i
        if ((row[sym[q]] >> sym[q + 1]) & sym[q + 2]) == sym[q + 3]:
            return True
    return False


@njit(cache=True)
def canon_row(row: np.ndarray, sym: np.ndarray) -> None:
    """`row` made its canonical representative, in place."""
    nd = sym[0]
    if nd == 0:
        return
    ren = sym[2]  # scratch: the renaming, then the order, then the values
    p = 3
    for _d in range(nd):
        size = sym[p]
        ng = sym[p + 1]
        ne = sym[p + 2]
        ext = p + 3
        p = ext + 3 * ne
        order = ren + size
        changed = False
        base = 0
        m = 1
        for _g in range(ng):
            n = sym[p]
            m = sym[p + 1]
            ids = p + 2
            base = ids + n
            ties = order + n
            vals = ties + n
            for i in range(n):
                sym[order + i] = i
                sym[ties + i] = ne
            if ne > 0 and _equal_allocated(row, sym, base, n, m):
                for j in range(ne):  # the tie-break: the first location outside that refers to it
                    q = ext + 3 * j
                    v = (row[sym[q]] >> sym[q + 1]) & sym[q + 2]
                    if v > 0 and sym[ties + v - 1] == ne:
                        a = base + ((v - 1) * m + m - 1) * 4  # its allocated bit, last of its block
                        if (row[sym[a]] >> sym[a + 1]) & sym[a + 2]:
                            sym[ties + v - 1] = j
            for i in range(1, n):  # insertion sort: stable
                j = i
                while j > 0 and _greater(row, sym, base, m, sym[order + j - 1], sym[order + j],
                                         ties):
                    t = sym[order + j - 1]
                    sym[order + j - 1] = sym[order + j]
                    sym[order + j] = t
                    j -= 1
            moved = False
            for j in range(n):
                if sym[order + j] != j:
                    moved = True
            if moved:
                if not changed:
                    for t in range(size):
                        sym[ren + t] = t
                for i in range(n):
                    for k in range(m):
                        q = base + (i * m + k) * 4
                        sym[vals + i * m + k] = (row[sym[q]] >> sym[q + 1]) & sym[q + 2]
                for j in range(n):
                    i = sym[order + j]
                    for k in range(m):
                        q = base + (j * m + k) * 4
                        w = sym[q]
                        row[w] = (row[w] & ~(sym[q + 2] << sym[q + 1])) | \
                            (sym[vals + i * m + k] << sym[q + 1])
                    sym[ren + sym[ids + i]] = sym[ids + j]
                changed = True
            p = base + n * m * 4
        na = sym[p]
        at = p + 1
        p = at + 4 * na
        locs = p
        nt = sym[p]
        p += 1
        if changed:
            for _t in range(nt):
                w = sym[p]
                sh = sym[p + 1]
                mask = sym[p + 2]
                v = (row[w] >> sh) & mask
                if sym[p + 3]:  # a set: bit t becomes bit ren[t]; bits of no thread stay
                    x = (v >> size) << size
                    for t in range(size):
                        x |= ((v >> t) & 1) << sym[ren + t]
                    if x != v:
                        row[w] = (row[w] & ~(mask << sh)) | (x << sh)
                elif v < size and sym[ren + v] != v:
                    row[w] = (row[w] & ~(mask << sh)) | (sym[ren + v] << sh)
                p += 4
        else:
            p += 4 * nt
        if na > 0 and sym[1] == 0 and _allocating(row, sym, at, na):
            # a freed object still referenced, where an alloc may run: the
            # lowest free object the allocator takes can be told apart
            q = locs + 1
            for _t in range(nt):
                v = (row[sym[q]] >> sym[q + 1]) & sym[q + 2]
                if v > 0:
                    a = base + ((v - 1) * m + m - 1) * 4  # its allocated bit, last of its block
                    if ((row[sym[a]] >> sym[a + 1]) & sym[a + 2]) == 0:
                        sym[1] = _d + 1
                q += 4

"""Symmetry reduction in the VM: `explore.symmetry.Canon`'s function on a
state's word row, in numba, applied by the breadth-first kernel to every
successor before it is looked up (`kernel.search`, hence the JIT's kernel,
which is the same function recompiled).

The groups are one int64 array (`table`), by domain: each symmetric pool
(its objects, renamed in its references), then the threads (every thread
group, renamed in the thread-id locations), in `Canon`'s order:
  [n_domains, scratch offset,
   per domain: its number of ids (null or none included), n_groups,
     per group: n, m, its n ids, then n*m rows (word, shift, mask, key mask)
                (instance by instance, slot by slot),
     n_locs, per location (word, shift, mask),
   scratch: the renaming (the largest domain), the order (largest n), the
            values (largest n*m)]
so that the kernel allocates nothing per successor (the table belongs to
one search, on one thread). `NO_SYMMETRY` (`[0]`) leaves rows as they are.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from checker.explore.codegen import Compiled
from checker.explore.symmetry import tid_field
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
            out += [layout.word[loc.slot], shift, mask]
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
    out = [len(ts.pool_symmetry) + 1, 0]
    for pg, locs in zip(ts.pool_symmetry, pool_locs, strict=True):
        out += [len(pg.blocks) + 1, 1,
                *group(range(1, len(pg.blocks) + 1), pg.blocks, pool_masks),
                len(pg.refs), *locs]
    out += [len(ts.threads) + 1, len(ts.symmetry)]
    for g in ts.symmetry:
        out += group(g.threads, g.blocks, tid_masks)
    out += [len(ts.tid_locs), *tid_locs]
    out[1] = len(out)
    sizes = [len(ts.threads) + 1, *(len(pg.blocks) + 1 for pg in ts.pool_symmetry)]
    ns = [*(len(g.threads) for g in ts.symmetry), *(len(pg.blocks) for pg in ts.pool_symmetry)]
    nms = [*(len(g.threads) * len(g.blocks[0]) for g in ts.symmetry),
           *(len(pg.blocks) * len(pg.blocks[0]) for pg in ts.pool_symmetry)]
    out += [0] * (max(sizes) + max(ns) + max(nms))
    return np.array(out, dtype=np.int64)


@njit(cache=True, inline="always")
def _greater(row: np.ndarray, sym: np.ndarray, base: int, m: int, a: int, b: int) -> bool:
    """Whether instance a's key is greater than instance b's."""
    for k in range(m):
        pa = base + (a * m + k) * 4
        pb = base + (b * m + k) * 4
        ka = (row[sym[pa]] >> sym[pa + 1]) & sym[pa + 3]
        kb = (row[sym[pb]] >> sym[pb + 1]) & sym[pb + 3]
        if ka != kb:
            return bool(ka > kb)
    return False


@njit(cache=True)
def canon_row(row: np.ndarray, sym: np.ndarray) -> None:
    """`row` made its canonical representative, in place."""
    nd = sym[0]
    if nd == 0:
        return
    ren = sym[1]  # scratch: the renaming, then the order, then the values
    p = 2
    for _d in range(nd):
        size = sym[p]
        ng = sym[p + 1]
        p += 2
        order = ren + size
        changed = False
        for _g in range(ng):
            n = sym[p]
            m = sym[p + 1]
            ids = p + 2
            base = ids + n
            vals = order + n
            for i in range(n):
                sym[order + i] = i
            for i in range(1, n):  # insertion sort: stable
                j = i
                while j > 0 and _greater(row, sym, base, m, sym[order + j - 1], sym[order + j]):
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
        nt = sym[p]
        p += 1
        if changed:
            for _t in range(nt):
                w = sym[p]
                sh = sym[p + 1]
                mask = sym[p + 2]
                v = (row[w] >> sh) & mask
                if v < size and sym[ren + v] != v:
                    row[w] = (row[w] & ~(mask << sh)) | (sym[ren + v] << sh)
                p += 3
        else:
            p += 3 * nt

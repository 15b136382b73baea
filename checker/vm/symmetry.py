"""Symmetry reduction in the VM: `explore.symmetry.Canon`'s function on a
state's word row, in numba, applied by the breadth-first kernel to every
successor before it is looked up (`kernel.search`, hence the JIT's kernel,
which is the same function recompiled).

The groups are one int64 array (`table`):
  [n_groups, n_threads, scratch offset,
   per group: n, m, its n thread ids, then n*m rows (word, shift, mask, key mask)
              (instance by instance, slot by slot),
   n_tid_locs, per location (word, shift, mask, 1 if it holds a set of
              thread ids, bit t for thread t, else 0),
   scratch: the renaming (n_threads + 1), the order (largest n), the values
            (largest n*m)]
so that the kernel allocates nothing per successor (the table belongs to
one search, on one thread). `NO_SYMMETRY` (`[0]`) leaves rows as they are.
"""

from __future__ import annotations

import numpy as np

from checker.explore.codegen import Compiled
from checker.explore.symmetry import tid_field
from checker.vm.jit import njit
from checker.vm.layout import WordLayout, Words

NO_SYMMETRY = np.zeros(1, dtype=np.int64)


def sym_table(c: Compiled, layout: WordLayout) -> Words:
    """The kernel's description of `c`'s groups; `NO_SYMMETRY` when the
    search is not reduced (`c.canon` None)."""
    ts = c.ts
    if c.canon is None or not ts.symmetry:
        return NO_SYMMETRY
    p = c.packing
    tid_masks: dict[int, int] = {}
    locs: list[int] = []
    for loc in ts.tid_locs:
        off, mask = tid_field(p, loc)
        shift = layout.shift[loc.slot] + (off - p.offsets[loc.slot])
        locs += [layout.word[loc.slot], shift, mask, int(loc.bits)]
        tid_masks[loc.slot] = tid_masks.get(loc.slot, 0) | (mask << (off - p.offsets[loc.slot]))
    out = [len(ts.symmetry), len(ts.threads), 0]
    for g in ts.symmetry:
        out += [len(g.threads), len(g.blocks[0]), *g.threads]
        for block in g.blocks:
            for k in block:
                mask = (1 << p.widths[k]) - 1
                out += [layout.word[k], layout.shift[k], mask, mask & ~tid_masks.get(k, 0)]
    out += [len(ts.tid_locs), *locs]
    out[2] = len(out)
    n = max(len(g.threads) for g in ts.symmetry)
    nm = max(len(g.threads) * len(g.blocks[0]) for g in ts.symmetry)
    out += [0] * (len(ts.threads) + 1 + n + nm)
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
    ng = sym[0]
    if ng == 0:
        return
    nthreads = sym[1]
    ren = sym[2]  # scratch: the renaming, then the order, then the values
    order = ren + nthreads + 1
    changed = False
    p = 3
    for _g in range(ng):
        n = sym[p]
        m = sym[p + 1]
        tids = p + 2
        base = tids + n
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
                for t in range(nthreads + 1):
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
                sym[ren + sym[tids + i]] = sym[tids + j]
            changed = True
        p = base + n * m * 4
    if not changed:
        return
    nt = sym[p]
    p += 1
    for _t in range(nt):
        w = sym[p]
        sh = sym[p + 1]
        mask = sym[p + 2]
        v = (row[w] >> sh) & mask
        if sym[p + 3]:  # a set: bit t becomes bit ren[t]; bits of no thread stay
            x = (v >> (nthreads + 1)) << (nthreads + 1)
            for t in range(nthreads + 1):
                x |= ((v >> t) & 1) << sym[ren + t]
            if x != v:
                row[w] = (row[w] & ~(mask << sh)) | (x << sh)
        elif v <= nthreads and sym[ren + v] != v:
            row[w] = (row[w] & ~(mask << sh)) | (sym[ren + v] << sh)
        p += 4

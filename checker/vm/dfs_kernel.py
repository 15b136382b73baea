"""The depth-first search kernel, in numba: `checker.explore.dfs`'s order,
figures and paths, on the breadth-first kernel's store and visited table
(`kernel.find`).

`dfs` keeps a stack of successor lists and the path of their owners. Here
the successor lists lie end to end in one growable buffer `sbuf[rows,
words]`, and the stack is `frames[depth, F_*]`: whose successors a frame
holds (its owner's store index), where they start, how many, the next to
examine, and whether its steps go to the livelock graph (`dfs` does not
record the steps of a state whose expansion faulted). The path of `dfs` is
the frames' owners, plus the state being judged: so a counterexample is
read off the frames, and the depth of a new state is the number of frames.

The kernel is resumable as `kernel.search` is: its counters are in `sc`
(`kernel`'s `SC_*` indices for what the two share, so the store grows the
same way, and `SC_NFR`, `SC_TOP`, `SC_EXPAND` beyond them), and it returns
`kernel`'s event codes. `SC_EXPAND` holds the store index of a new state
that passed its invariant and waits for its expansion (-1: none); the
kernel returns before expanding it for the limits and for room, and Python
sets it again after judging an invariant the machine did not decide.
"""

from __future__ import annotations

import numpy as np

from checker.vm import kernel as K
from checker.vm.jit import njit
from checker.vm.machine import expand, predicate

SC_NFR, SC_TOP, SC_EXPAND, SC_SIZE = range(K.SC_SIZE, K.SC_SIZE + 4)

F_OWNER, F_START, F_COUNT, F_POS, F_RECORD, F_SIZE = range(6)

_N, _DEPTH, _TRANS, _BUDGET, _CAP, _GROW_AT = (K.SC_N, K.SC_DEPTH, K.SC_TRANS, K.SC_BUDGET,
                                               K.SC_CAP, K.SC_GROW_AT)
_EVENT, _RESULT, _EDGES, _EDGE_CAP = K.SC_EVENT, K.SC_RESULT, K.SC_EDGES, K.SC_EDGE_CAP
_RECORD, _INV, _FIN = K.SC_RECORD, K.SC_INV, K.SC_FIN
_DONE, _LIMITS, _GROW, _FAULT, _TERMINAL, _INVARIANT, _CAPPED = (
    K.DONE, K.LIMITS, K.GROW, K.FAULT, K.TERMINAL, K.INVARIANT, K.CAP)


@njit(cache=True)
def search_dfs(code: np.ndarray, slots: np.ndarray, pcs: np.ndarray, pcact: np.ndarray,
               acts: np.ndarray, aux: np.ndarray, store: np.ndarray, parent: np.ndarray,
               table: np.ndarray, sc: np.ndarray, frames: np.ndarray, sbuf: np.ndarray,
               succ: np.ndarray, succ_act: np.ndarray, faults: np.ndarray, bufs: np.ndarray,
               regs: np.ndarray, pend: np.ndarray, fired: np.ndarray, covered: np.ndarray,
               edges: np.ndarray) -> int:
    """Search on from where `sc` says; return the event that needs Python."""
    width = succ.shape[0]
    nw = store.shape[1]
    while True:
        e = sc[SC_EXPAND]
        if e >= 0:  # expand the new state e, whose frame goes on top
            if sc[_BUDGET] <= 0:
                return _LIMITS
            nfr = sc[SC_NFR]
            top = sc[SC_TOP]
            if nfr >= frames.shape[0] or top + width > sbuf.shape[0]:
                return _GROW
            sc[_BUDGET] -= 1
            sc[SC_EXPAND] = -1
            sc[_EVENT] = e
            k, nf = expand(code, slots, pcs, pcact, acts, aux, store[e], succ, succ_act, faults,
                           bufs, regs, pend)
            if nf > 0:
                pend[:] = 0  # the Python engine expands this state again, covers included
                return _FAULT
            for c in range(pend.shape[0]):
                if pend[c]:
                    covered[c] = 1
                    pend[c] = 0
            if k == 0:
                for t in range(pcs.shape[0]):
                    if (store[e, pcs[t, 0]] >> pcs[t, 1]) & pcs[t, 2]:
                        return _TERMINAL  # a deadlock, which Python words
                if sc[_FIN] >= 0 and predicate(code, slots, aux, sc[_FIN], store[e], bufs,
                                               regs, pend) != -1:
                    return _TERMINAL  # a final property false, or a fault
                continue
            for j in range(k):
                fired[succ_act[j]] = 1
                for w in range(nw):
                    sbuf[top + j, w] = succ[j, w]
            sc[_TRANS] += k
            frames[nfr, F_OWNER] = e
            frames[nfr, F_START] = top
            frames[nfr, F_COUNT] = k
            frames[nfr, F_POS] = 0
            frames[nfr, F_RECORD] = 1
            sc[SC_NFR] = nfr + 1
            sc[SC_TOP] = top + k
            continue
        nfr = sc[SC_NFR]
        if nfr == 0:
            return _DONE
        f = nfr - 1
        pos = frames[f, F_POS]
        if pos == frames[f, F_COUNT]:
            sc[SC_NFR] = f
            sc[SC_TOP] = frames[f, F_START]
            continue
        record = sc[_RECORD] != 0 and frames[f, F_RECORD] != 0
        if record and sc[_EDGES] >= sc[_EDGE_CAP]:
            return _GROW
        row = sbuf[frames[f, F_START] + pos]
        owner = frames[f, F_OWNER]
        idx = K.find(table, store, row, -1)
        new = idx < 0
        if new:
            n = sc[_N]
            if n >= sc[_CAP]:
                return _CAPPED
            if n >= sc[_GROW_AT]:
                return _GROW
            for w in range(nw):
                store[n, w] = row[w]
            parent[n] = owner
            K.find(table, store, row, n)
            sc[_N] = n + 1
            idx = n
        if record:
            edges[sc[_EDGES], 0] = owner
            edges[sc[_EDGES], 1] = idx
            sc[_EDGES] += 1
        frames[f, F_POS] = pos + 1
        if new:
            if nfr > sc[_DEPTH]:
                sc[_DEPTH] = nfr
            if sc[_INV] >= 0:
                r = predicate(code, slots, aux, sc[_INV], store[idx], bufs, regs, pend)
                if r != -1:
                    sc[_EVENT] = idx
                    sc[_RESULT] = r
                    return _INVARIANT
            sc[SC_EXPAND] = idx

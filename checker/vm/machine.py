"""The fixed bytecode interpreter: one numba function for every scenario.

It does not depend on the spec (the spec is data: `program.Program`'s
arrays), so numba compiles it once and caches it on disk. `expand` writes
the successors of every enabled action that does not fault into `out`, in
the order of `codegen`'s expand (threads in order, each thread's actions at
its pc in order), and lists the actions that faulted with their codes;
`predicate` evaluates invariants or finals.
"""

from __future__ import annotations

import numpy as np

from checker.vm import opcodes as op
from checker.vm import program as op_meta
from checker.vm.jit import njit
from checker.vm.layout import Words
from checker.vm.program import Program

_OK, _DISABLED, _ESCAPE, _SAFE = op.OK, op.DISABLED, op.ESCAPE, op.SAFE


@njit(cache=True, inline="always")
def _get(slots: np.ndarray, bufs: np.ndarray, b: int, k: int) -> int:
    return int(((bufs[b, slots[k, 0]] >> slots[k, 1]) & slots[k, 2]) + slots[k, 3])


@njit(cache=True, inline="always")
def _set(slots: np.ndarray, bufs: np.ndarray, k: int, v: int) -> None:
    w = slots[k, 0]
    sh = slots[k, 1]
    bufs[1, w] = (bufs[1, w] & ~(slots[k, 2] << sh)) | ((v - slots[k, 3]) << sh)


@njit(cache=True, inline="always")
def _reset(slots: np.ndarray, bufs: np.ndarray, first: int, stride: int, bit: int) -> None:
    """An object's allocated bit set to `bit`, its fields to their defaults."""
    _set(slots, bufs, first, bit)
    for k in range(first + 1, first + stride):
        _set(slots, bufs, k, slots[k, 5] + slots[k, 3])


@njit(cache=True)
def run(code: np.ndarray, slots: np.ndarray, aux: np.ndarray, entry: int, bufs: np.ndarray,
        regs: np.ndarray, pend: np.ndarray) -> int:
    """Run the code from `entry` to its END: a status of `opcodes`."""
    R = regs
    i = entry
    nw = bufs.shape[1]
    while True:
        o = code[i, 0]
        a = code[i, 1]
        b = code[i, 2]
        c = code[i, 3]
        if o == op.LDS:
            R[a] = ((bufs[b, c] >> code[i, 4]) & code[i, 5]) + code[i, 6]
        elif o == op.CONST:
            R[a] = b
        elif o == op.CSTORE:
            bufs[1, a] = (bufs[1, a] & ~b) | c
        elif o == op.REQ:
            if R[a] == 0:
                return _DISABLED
        elif o == op.COPY:
            for w in range(nw):
                bufs[1, w] = bufs[0, w]
        elif o == op.END:
            return _OK
        elif o == op.STS:
            d = code[i, 4]
            bufs[1, b] = (bufs[1, b] & ~(d << c)) | ((R[a] - code[i, 5]) << c)
        elif o == op.JZ:
            if R[a] == 0:
                i = b
                continue
        elif o == op.JNZ:
            if R[a] != 0:
                i = b
                continue
        elif o == op.JMP:
            i = a
            continue
        elif o == op.EQI:
            R[a] = 1 if R[b] == c else 0
        elif o == op.NEI:
            R[a] = 1 if R[b] != c else 0
        elif o == op.MULADD:
            R[a] = R[b] * code[i, 4] + c
        elif o == op.LTI:
            R[a] = 1 if R[b] < c else 0
        elif o == op.LEI:
            R[a] = 1 if R[b] <= c else 0
        elif o == op.GTI:
            R[a] = 1 if R[b] > c else 0
        elif o == op.GEI:
            R[a] = 1 if R[b] >= c else 0
        elif o == op.ADDI:
            R[a] = R[b] + c
        elif o == op.EQ:
            R[a] = 1 if R[b] == R[c] else 0
        elif o == op.NE:
            R[a] = 1 if R[b] != R[c] else 0
        elif o == op.LT:
            R[a] = 1 if R[b] < R[c] else 0
        elif o == op.LE:
            R[a] = 1 if R[b] <= R[c] else 0
        elif o == op.GT:
            R[a] = 1 if R[b] > R[c] else 0
        elif o == op.GE:
            R[a] = 1 if R[b] >= R[c] else 0
        elif o == op.BOOL:
            R[a] = 1 if R[b] != 0 else 0
        elif o == op.NOT:
            R[a] = 1 if R[b] == 0 else 0
        elif o == op.MOV:
            R[a] = R[b]
        elif o == op.ADD:
            R[a] = R[b] + R[c]
        elif o == op.SUB:
            R[a] = R[b] - R[c]
        elif o == op.MUL:
            R[a] = R[b] * R[c]
        elif o == op.AND:
            R[a] = R[b] & R[c]
        elif o == op.OR:
            R[a] = R[b] | R[c]
        elif o == op.XOR:
            R[a] = R[b] ^ R[c]
        elif o == op.NEG:
            R[a] = -R[b]
        elif o == op.BNOT:
            R[a] = ~R[b]
        elif o == op.FIELD:
            R[a] = ((R[b] >> c) & code[i, 4]) + code[i, 5]
        elif o == op.CHKREF:
            v = R[a]
            if v == 0:
                return op.NULL_REF
            if v < 1 or v > b:
                return op.REF_BOUNDS
            if _get(slots, bufs, code[i, 5], c + (v - 1) * code[i, 4]) == 0:
                return op.FREED
        elif o == op.CHKIDX:
            v = R[a]
            if v < 0 or v >= b:
                return op.INDEX
        elif o == op.ADDMUL:
            R[a] += (R[b] + c) * code[i, 4]
        elif o == op.LDD:
            R[a] = _get(slots, bufs, b, R[c])
        elif o == op.LDDF:
            k = R[c]
            R[a] = ((bufs[b, slots[k, 0]] >> (slots[k, 1] + code[i, 4])) & code[i, 5]) \
                + code[i, 6]
        elif o == op.CHKR:
            v = R[a]
            if v < b or v > c:
                return int(code[i, 4])
        elif o == op.CHKRD:
            v = R[a]
            k = R[b]
            if v < slots[k, 3] or v > slots[k, 4]:
                return op.STORE_RANGE
        elif o == op.STD:
            _set(slots, bufs, R[b], R[a])
        elif o == op.STDF:
            k = R[b]
            w = slots[k, 0]
            sh = slots[k, 1] + c
            bufs[1, w] = (bufs[1, w] & ~(code[i, 4] << sh)) | ((R[a] - code[i, 5]) << sh)
        elif o == op.ADDC or o == op.SUBC:
            v = R[b] + R[c] if o == op.ADDC else R[b] - R[c]
            if v >= _SAFE or v <= -_SAFE:
                return _ESCAPE
            R[a] = v
        elif o == op.MULC:
            x = R[b]
            y = R[c]
            if x != 0 and y != 0 and abs(x) > (_SAFE - 1) // abs(y):
                return _ESCAPE
            R[a] = x * y
        elif o == op.DIV or o == op.MOD:
            x = R[b]
            y = R[c]
            if y == 0:
                return op.DIVISOR
            q = abs(x) // abs(y)
            if (x >= 0) != (y >= 0):
                q = -q
            R[a] = q if o == op.DIV else x - q * y
        elif o == op.SHL:
            x = R[b]
            y = R[c]
            if y < 0:
                return op.SHIFT_COUNT
            if x == 0:
                R[a] = 0
            else:
                if y >= 62:
                    return _ESCAPE
                v = x << y
                if (v >> y) != x or v >= _SAFE or v <= -_SAFE:
                    return _ESCAPE
                R[a] = v
        elif o == op.SHR:
            y = R[c]
            if y < 0:
                return op.SHIFT_COUNT
            R[a] = R[b] >> (y if y < 63 else 63)
        elif o == op.ASSERT:
            if R[a] == 0:
                return op.ASSERTION
        elif o == op.COVER:
            pend[a] = 1
        elif o == op.ALLOC:
            R[a] = 0
            for j in range(code[i, 4]):
                first = b + j * c
                if _get(slots, bufs, 1, first) == 0:
                    _reset(slots, bufs, first, c, 1)
                    R[a] = j + 1
                    break
        elif o == op.FREE:
            r = R[a]
            if r != 0:
                if r < 1 or r > code[i, 4]:
                    return _ESCAPE  # the Python engine decides what this is
                first = b + (r - 1) * c
                if _get(slots, bufs, 1, first) == 0:
                    return op.DOUBLE_FREE
                _reset(slots, bufs, first, c, 0)
        elif o == op.START:
            nargs = code[i, 4]
            started = False
            for j in range(c):
                row = b + j * (2 + nargs)
                if _get(slots, bufs, 1, aux[row]) == 0:
                    for q in range(nargs):
                        ps = aux[row + 2 + q]
                        v = R[a + q]
                        if v < slots[ps, 3] or v > slots[ps, 4]:
                            return op.STORE_RANGE
                        _set(slots, bufs, ps, v)
                    _set(slots, bufs, aux[row], aux[row + 1])
                    started = True
                    break
            if not started:
                return op.THREAD_SLOT
        elif o == op.PROP:
            if R[a] == 0:
                return int(op.PROP_BASE + b)
        elif o == op.ESC:
            return _ESCAPE
        else:
            raise AssertionError("bad opcode")
        i += 1


@njit(cache=True)
def expand(code: np.ndarray, slots: np.ndarray, pcs: np.ndarray, pcact: np.ndarray,
           acts: np.ndarray, aux: np.ndarray, state: np.ndarray, out: np.ndarray,
           out_act: np.ndarray, faults: np.ndarray, bufs: np.ndarray, regs: np.ndarray,
           pend: np.ndarray) -> tuple[int, int]:
    """Successors of `state` into `out` (their actions into `out_act`) and
    faulting actions into `faults` (action id, code): (count, faults)."""
    nw = bufs.shape[1]
    for w in range(nw):
        bufs[0, w] = state[w]
    k = 0
    nf = 0
    for ti in range(pcs.shape[0]):
        pc = (state[pcs[ti, 0]] >> pcs[ti, 1]) & pcs[ti, 2]
        first = pcact[ti, pc, 0]
        for j in range(first, first + pcact[ti, pc, 1]):
            st = run(code, slots, aux, acts[j, 0], bufs, regs, pend)
            if st == _OK:
                for w in range(nw):
                    out[k, w] = bufs[1, w]
                out_act[k] = acts[j, 1]
                k += 1
            elif st != _DISABLED:
                faults[nf, 0] = acts[j, 1]
                faults[nf, 1] = st
                nf += 1
    return k, nf


@njit(cache=True)
def predicate(code: np.ndarray, slots: np.ndarray, aux: np.ndarray, entry: int,
              state: np.ndarray, bufs: np.ndarray, regs: np.ndarray, pend: np.ndarray) -> int:
    """Invariants or finals from `entry`: -1 if all hold, the first false
    property's index, or minus a fault code (the Python engine words it)."""
    for w in range(bufs.shape[1]):
        bufs[0, w] = state[w]
    st = run(code, slots, aux, entry, bufs, regs, pend)
    if st == _OK:
        return -1
    if st >= op.PROP_BASE:
        return st - op.PROP_BASE
    return -st


class Machine:
    """One scenario's program with the buffers `expand` and `predicate` need."""

    def __init__(self, prog: Program):
        self.prog = prog
        nw = int(prog.meta[op_meta.META_NWORDS])
        self.bufs = np.zeros((2, nw), dtype=np.int64)
        self.regs = np.zeros(int(prog.meta[op_meta.META_NREGS]), dtype=np.int64)
        self.pend = np.zeros(max(int(prog.meta[op_meta.META_NCOVERS]), 1), dtype=np.uint8)
        width = max_successors(prog)
        self.out = np.zeros((max(width, 1), nw), dtype=np.int64)
        self.out_act = np.zeros(max(width, 1), dtype=np.int64)
        self.faults = np.zeros((max(width, 1), 2), dtype=np.int64)

    def expand(self, state: Words) -> tuple[list[Words], list[int], list[tuple[int, int]]]:
        """(successors, their actions, (action, code) of each fault)."""
        p = self.prog
        k, nf = expand(p.code, p.slots, p.pcs, p.pcact, p.acts, p.aux, state, self.out,
                       self.out_act, self.faults, self.bufs, self.regs, self.pend)
        return ([self.out[i].copy() for i in range(k)], self.out_act[:k].tolist(),
                [(int(a), int(c)) for a, c in self.faults[:nf]])

    def predicate(self, entry: int, state: Words) -> int:
        p = self.prog
        return int(predicate(p.code, p.slots, p.aux, entry, state, self.bufs, self.regs,
                             self.pend))


def max_successors(prog: Program) -> int:
    """The most actions one state can run: per thread, its busiest pc."""
    counts = prog.pcact[:, :, 1]
    return int(counts.max(axis=1).sum()) if counts.size else 0

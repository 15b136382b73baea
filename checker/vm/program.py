"""Compile a transition system into the VM's register bytecode.

Per action: the guard (reading buffer 0, the state being expanded), a copy
of it into buffer 1, the body (reading and writing buffer 1), the new pc.
Checks come in the reference interpreter's order (`checker.ir.interp`, the
table in `checker.kinds.Check`): a store's value, then its location's
components from the outside in (null, reference bounds, freed; index
bounds), then the value's range, left out where `Symbolic.interval` proves
it cannot fail, as `checker.explore.codegen` leaves it out.

Values: a register holds any value in (-2^62, 2^62). An operation whose
static bound (`magnitude`) may leave that range uses the checked variant,
which reports ESCAPE instead of wrapping: the kernel then hands the state to
the Python engine, whose integers are exact. So the machine never computes
a wrong value; at worst it declines a state.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import assert_never

import numpy as np

from checker.explore.codegen import Packing
from checker.ir.nodes import (
    AllocObj,
    Assert,
    Assign,
    Binary,
    Const,
    CoverHit,
    Expr,
    FieldOf,
    FreeObj,
    If,
    Ite,
    Loc,
    LockEvent,
    Read,
    Require,
    StartThread,
    Stmt,
    TransitionSystem,
    Unary,
    Warn,
)
from checker.ir.precond import Symbolic
from checker.vm import opcodes as op
from checker.vm.layout import NotSupported, WordLayout, Words

_BINARY = {"+": op.ADD, "-": op.SUB, "*": op.MUL, "&": op.AND, "|": op.OR, "^": op.XOR,
           "==": op.EQ, "!=": op.NE, "<": op.LT, "<=": op.LE, ">": op.GT, ">=": op.GE,
           "/": op.DIV, "%": op.MOD, "<<": op.SHL, ">>": op.SHR}
_CHECKED = {op.ADD: op.ADDC, op.SUB: op.SUBC, op.MUL: op.MULC}
_IMMEDIATE = {op.EQ: op.EQI, op.NE: op.NEI, op.LT: op.LTI, op.LE: op.LEI, op.GT: op.GTI,
              op.GE: op.GEI, op.ADD: op.ADDI}


@dataclass(frozen=True)
class Program:
    """The bytecode and tables of one scenario, as int64 arrays for numba."""

    layout: WordLayout
    code: Words  # [n, WIDTH]
    slots: Words  # [slots, 6]: word, shift, mask, lo, hi, default - lo
    pcs: Words  # [threads, 3]: word, shift, mask of each thread's pc
    pcact: Words  # [threads, max pc + 1, 2]: first row of `acts`, count
    acts: Words  # [actions, 2]: code entry, action id; in expansion order
    aux: Words  # thread-start rows: pc slot, entry pc, parameter slots
    meta: Words  # see META_*
    # Per warning site (prop index): the rows of `code` that escape when it
    # fires (see `silence`).
    warn_rows: dict[int, list[int]] = field(default_factory=dict)


META_NWORDS, META_NREGS, META_INV, META_FIN, META_NACTIONS, META_NCOVERS = range(6)


def magnitude(sym: Symbolic, e: Expr) -> int | None:
    """A bound on |e| in any state whose slots are in range, or None."""
    r = sym.interval(e)
    if r is not None:
        return max(abs(r[0]), abs(r[1]))
    match e:
        case Const():
            return abs(e.value)
        case Read() | FieldOf():
            return None  # interval always knows these
        case Unary():
            m = magnitude(sym, e.operand)
            return None if m is None else m + 1
        case Ite():
            a, b = magnitude(sym, e.then), magnitude(sym, e.other)
            return None if a is None or b is None else max(a, b)
        case Binary():
            a, b = magnitude(sym, e.left), magnitude(sym, e.right)
            if a is None or b is None:
                return None
            if e.op in ("+", "-"):
                return a + b
            if e.op == "*":
                return a * b
            if e.op in ("&", "|", "^"):
                return 1 << (max(a.bit_length(), b.bit_length()) + 1)
            if e.op in ("/", ">>"):
                return a
            if e.op == "%":
                return min(a, b)
            return None  # "<<": checked at run time
        case _:
            assert_never(e)


class _Gen:
    def __init__(self, ts: TransitionSystem, layout: WordLayout, packing: Packing):
        self.ts = ts
        self.layout = layout
        self.packing = packing
        self.sym = Symbolic(ts.slots, ts.pools)
        self.code: list[list[int]] = []
        self.aux: list[int] = []
        self.reg = 0
        self.max_reg = 0
        self.warn_rows: dict[int, list[int]] = {}

    # ------------------------------------------------------------ emission
    def emit(self, opcode: int, *args: int) -> int:
        row = [opcode, *args] + [0] * (op.WIDTH - 1 - len(args))
        self.code.append(row)
        return len(self.code) - 1

    def patch(self, at: int, column: int) -> None:
        """Point the jump at row `at` (its operand `column`) to the next row."""
        self.code[at][column] = len(self.code)

    def fresh(self) -> int:
        self.reg += 1
        self.max_reg = max(self.max_reg, self.reg)
        return self.reg - 1

    # ------------------------------------------------------------ expressions
    def expr(self, e: Expr, buf: int) -> int:
        """Code leaving the value of `e` in a fresh register; its number."""
        match e:
            case Const():
                r = self.fresh()
                if -op.SAFE < e.value < op.SAFE:
                    self.emit(op.CONST, r, e.value)
                else:
                    self.emit(op.ESC)  # a constant beyond 62 bits: the Python engine's job
                return r
            case Read():
                return self.read(e.loc, buf)
            case Unary():
                x = self.expr(e.operand, buf)
                r = self.fresh()
                code = {"!": op.NOT, "-": op.NEG, "~": op.BNOT}[e.op]
                self.emit(code, r, x)
                return r
            case Binary():
                if e.op in ("&&", "||"):
                    return self.logic(e, buf)
                code = _BINARY[e.op]
                if code in _CHECKED:
                    m = magnitude(self.sym, e)
                    if m is None or m >= op.SAFE:
                        code = _CHECKED[code]
                a = self.expr(e.left, buf)
                k = e.right.value if isinstance(e.right, Const) else None
                if k is not None and -op.SAFE < k < op.SAFE and (code in _IMMEDIATE
                                                                 or code == op.SUB):
                    r = self.fresh()
                    if code == op.SUB:
                        self.emit(op.ADDI, r, a, -k)
                    else:
                        self.emit(_IMMEDIATE[code], r, a, k)  # the constant inline
                    return r
                b = self.expr(e.right, buf)
                r = self.fresh()
                self.emit(code, r, a, b)
                return r
            case Ite():
                c = self.expr(e.cond, buf)
                r = self.fresh()
                jz = self.emit(op.JZ, c, 0)
                self.emit(op.MOV, r, self.expr(e.then, buf))
                jmp = self.emit(op.JMP, 0)
                self.patch(jz, 2)
                self.emit(op.MOV, r, self.expr(e.other, buf))
                self.patch(jmp, 1)
                return r
            case FieldOf():
                w = self.expr(e.word, buf)
                r = self.fresh()
                self.emit(op.FIELD, r, w, min(e.shift, 63), (1 << e.width) - 1, e.lo)
                return r
            case _:
                assert_never(e)

    def logic(self, e: Binary, buf: int) -> int:
        """`&&`/`||`: the right operand only when the left does not decide."""
        r = self.fresh()
        self.emit(op.BOOL, r, self.expr(e.left, buf))
        skip = self.emit(op.JZ if e.op == "&&" else op.JNZ, r, 0)
        self.emit(op.BOOL, r, self.expr(e.right, buf))
        self.patch(skip, 2)
        return r

    # ------------------------------------------------------------ locations
    def slot_reg(self, loc: Loc, buf: int) -> int:
        """Code leaving the slot index of a dynamic location in a register,
        with each component's checks in the interpreter's order."""
        s = self.fresh()
        for i, d in enumerate(loc.dyn):
            v = self.expr(d.expr, buf)
            if d.pool is not None:
                self.emit(op.CHKREF, v, d.count, d.alloc_base, d.stride, buf)
            else:
                self.emit(op.CHKIDX, v, d.count)
            bias = -1 if d.pool is not None else 0
            if i == 0:  # s = base + (v + bias) * stride
                self.emit(op.MULADD, s, v, loc.base + bias * d.stride, d.stride)
            else:
                self.emit(op.ADDMUL, s, v, bias, d.stride)
        return s

    def read(self, loc: Loc, buf: int) -> int:
        if loc.static:
            k = loc.base
            word, shift = self.layout.word[k], self.layout.shift[k]
            r = self.fresh()
            if loc.bits is None:
                self.emit(op.LDS, r, buf, word, shift, (1 << self.packing.widths[k]) - 1,
                          self.ts.slots[k].lo)
            else:
                fs, fw, flo, _ = loc.bits
                self.emit(op.LDS, r, buf, word, shift + fs, (1 << fw) - 1, flo)
            return r
        s = self.slot_reg(loc, buf)
        r = self.fresh()
        if loc.bits is None:
            self.emit(op.LDD, r, buf, s)
        else:
            fs, fw, flo, _ = loc.bits
            self.emit(op.LDDF, r, buf, s, fs, (1 << fw) - 1, flo)
        return r

    def write(self, loc: Loc, v: int, bounds: tuple[int, int] | None) -> None:
        """Store register `v` at `loc` in buffer 1: location checks, then
        the range check unless `bounds` (the value's interval) is inside."""
        slot = self.ts.slots[loc.base]
        if loc.bits is not None:
            fs, fw, lo, hi = loc.bits
            check = op.WORD_FIELD_RANGE
        else:
            fs, fw, lo, hi = 0, self.packing.widths[loc.base], slot.lo, slot.hi
            check = op.STORE_RANGE
        checked = bounds is None or not (lo <= bounds[0] and bounds[1] <= hi)
        if loc.static:
            if checked:
                self.emit(op.CHKR, v, lo, hi, check)
            k = loc.base
            self.emit(op.STS, v, self.layout.word[k], self.layout.shift[k] + fs, (1 << fw) - 1, lo)
            return
        s = self.slot_reg(loc, 1)
        if loc.bits is None:
            # The candidate slots of one family share their range (an array
            # or a pool field); the table holds each slot's own anyway.
            if checked:
                self.emit(op.CHKRD, v, s)
            self.emit(op.STD, v, s)
        else:
            if checked:
                self.emit(op.CHKR, v, lo, hi, check)
            self.emit(op.STDF, v, s, fs, (1 << fw) - 1, lo)

    def constant_store(self, st: Stmt) -> tuple[int, int, int] | None:
        """(word, mask, bits) of an in-range constant stored in a static slot
        or field: no check can fail, and a run of them merges per word."""
        if not (isinstance(st, Assign) and st.loc.static and isinstance(st.value, Const)):
            return None
        k = st.loc.base
        v = st.value.value
        slot = self.ts.slots[k]
        fs, fw, lo, hi = st.loc.bits or (0, self.packing.widths[k], slot.lo, slot.hi)
        if not lo <= v <= hi:
            return None
        shift = self.layout.shift[k] + fs
        return self.layout.word[k], ((1 << fw) - 1) << shift, (v - lo) << shift

    def store_run(self, run: list[tuple[int, int, int]]) -> None:
        words: dict[int, tuple[int, int]] = {}
        for word, mask, bits in run:
            m, b = words.get(word, (0, 0))
            words[word] = (m | mask, (b & ~mask) | bits)
        for word, (mask, bits) in words.items():
            self.emit(op.CSTORE, word, mask, bits)

    # ------------------------------------------------------------ statements
    def stmts(self, body: tuple[Stmt, ...]) -> None:
        i = 0
        while i < len(body):
            run: list[tuple[int, int, int]] = []
            while i < len(body):
                got = self.constant_store(body[i])
                if got is None:
                    break
                run.append(got)
                i += 1
            if run:
                self.store_run(run)
                continue
            self.stmt(body[i])
            i += 1

    def stmt(self, st: Stmt) -> None:
        match st:
            case Assign():
                self.write(st.loc, self.expr(st.value, 1), self.sym.interval(st.value))
            case If():
                c = self.expr(st.cond, 1)
                jz = self.emit(op.JZ, c, 0)
                self.stmts(st.then)
                jmp = self.emit(op.JMP, 0)
                self.patch(jz, 2)
                self.stmts(st.other)
                self.patch(jmp, 1)
            case Require():
                self.emit(op.REQ, self.expr(st.cond, 1))
            case Assert():
                self.emit(op.ASSERT, self.expr(st.cond, 1))
            case AllocObj():
                info = self.ts.pools[st.pool]
                r = self.fresh()
                self.emit(op.ALLOC, r, info.base, info.stride, info.size)
                self.write(st.loc, r, None)
            case FreeObj():
                info = self.ts.pools[st.pool]
                self.emit(op.FREE, self.expr(st.ref, 1), info.base, info.stride, info.size)
            case StartThread():
                values = [self.expr(a, 1) for a in st.args]
                first = self.reg
                for _ in values:
                    self.fresh()
                for j, v in enumerate(values):
                    self.emit(op.MOV, first + j, v)
                at = len(self.aux)
                for t in st.slots:
                    self.aux.extend([t.pc_slot, t.entry_pc, *t.param_slots])
                self.emit(op.START, first, at, len(st.slots), len(values))
            case CoverHit():
                self.emit(op.COVER, st.cover)
            case Warn():
                # A warning is an event the kernels do not report: when it
                # fires, the state escapes to the Python engine, which
                # records it (`Outcome.warned`); once its site is recorded,
                # `silence` turns the escape into a jump to the next row.
                skip = self.emit(op.JZ, self.expr(st.cond, 1), 0)
                self.warn_rows.setdefault(st.prop, []).append(self.emit(op.ESC))
                self.patch(skip, 2)
            case LockEvent():
                pass  # no effect on the state
            case _:
                assert_never(st)

    def action_code(self, guard: Expr, body: tuple[Stmt, ...], pc_slot: int, dst: int) -> int:
        self.reg = 0
        entry = len(self.code)
        if guard != Const(1):
            self.emit(op.REQ, self.expr(guard, 0))
        self.emit(op.COPY)
        self.stmts(body)
        word, mask, bits = self.constant_store(Assign(Loc(pc_slot), Const(dst))) or (0, 0, 0)
        self.emit(op.CSTORE, word, mask, bits)
        self.emit(op.END)
        return entry

    def predicates(self, props: list[tuple[int, Expr]]) -> int:
        if not props:
            return -1
        self.reg = 0
        entry = len(self.code)
        for idx, e in props:
            self.emit(op.PROP, self.expr(e, 0), idx)
        self.emit(op.END)
        return entry


def compile_program(ts: TransitionSystem, packing: Packing | None = None) -> Program:
    """The bytecode of `ts`; NotSupported names what the VM cannot run."""
    packing = packing or Packing.of(ts)
    for s in ts.slots:
        if not -op.SAFE < s.lo <= s.hi < op.SAFE:
            raise NotSupported(f"slot {s.name}: range {s.lo}..{s.hi} beyond 62-bit values")
    layout = WordLayout.choose(ts, packing)
    gen = _Gen(ts, layout, packing)
    acts: list[tuple[int, int]] = []
    max_pc = max((ts.slots[t.pc_slot].hi for t in ts.threads), default=0)
    pcact = np.zeros((max(len(ts.threads), 1), max_pc + 1, 2), dtype=np.int64)
    for ti, t in enumerate(ts.threads):
        for pc in range(1, ts.slots[t.pc_slot].hi + 1):
            pcact[ti, pc, 0] = len(acts)
            for a in ts.actions_at(t.id, pc):
                acts.append((gen.action_code(a.guard, a.body, t.pc_slot, a.dst), a.id))
            pcact[ti, pc, 1] = len(acts) - pcact[ti, pc, 0]
    inv = gen.predicates(ts.invariants)
    fin = gen.predicates(ts.finals)
    slots = np.array([[layout.word[k], layout.shift[k], (1 << packing.widths[k]) - 1, s.lo, s.hi,
                       s.default - s.lo] for k, s in enumerate(ts.slots)],
                     dtype=np.int64).reshape(len(ts.slots), 6)
    pcs = np.array([[layout.word[t.pc_slot], layout.shift[t.pc_slot],
                     (1 << packing.widths[t.pc_slot]) - 1] for t in ts.threads],
                   dtype=np.int64).reshape(len(ts.threads), 3)
    meta = np.array([layout.nwords, gen.max_reg + 1, inv, fin, len(ts.actions), len(ts.covers)],
                    dtype=np.int64)
    return Program(layout, np.array(gen.code, dtype=np.int64).reshape(-1, op.WIDTH), slots, pcs,
                   pcact, np.array(acts, dtype=np.int64).reshape(-1, 2),
                   np.array(gen.aux or [0], dtype=np.int64), meta, gen.warn_rows)


def silence(prog: Program, sites: Iterable[int]) -> None:
    """Warning sites already recorded no longer escape: their rows become
    jumps to the next row, in the code array the interpreting kernels read
    (a JIT compiled earlier keeps escaping: the Python engine then records
    nothing new, which is slower, not different)."""
    for k in sites:
        for row in prog.warn_rows.pop(k, ()):
            prog.code[row] = (op.JMP, row + 1, 0, 0, 0, 0, 0)

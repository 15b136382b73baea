"""The VM's bytecode of one scenario as LLVM IR: a template JIT.

Every instruction of `program.Program.code` becomes the IR that
`machine.run` executes for it, with its operands as constants; so the
compiled code has the interpreter's semantics by construction (same
successors in the same order, same status codes, ESCAPE, covers written to
`pend` as they run) while the dispatch, the operand loads and the register
file disappear: registers are allocas that LLVM promotes to SSA values.

The module exports the interpreter's two entry points with C contracts
(`llvm_kernel` calls them through their addresses):

    i64 migcheck_expand(i64 *state, i64 *out, i64 *out_act, i64 *faults,
                        u8 *pend, i64 *nfaults)
        `machine.expand`: successors into rows of `out` (`nwords` words
        each), their action ids into `out_act`, (action id, code) pairs of
        the faulting actions into `faults`; returns the successor count and
        stores the fault count at `nfaults`.
    i64 migcheck_predicate(i64 *state, u8 *pend, i64 entry)
        `machine.predicate` for the routine at `entry` (the program's
        invariant or final entry): -1, a false property's index, or minus a
        fault code.

Each action is one internal function (its entry row names it) reading the
state (buffer 0) and building its successor directly in its row of `out`
(buffer 1): a row written by an action that then faults or is disabled is
simply not counted, as the interpreter leaves its buffer 1 behind. Slots
named statically are read and written with constant shifts and masks;
dynamic ones (`LDD`, `STD`, `CHKREF`, ...) go through a constant copy of the
slot table, as in the interpreter.
"""

from __future__ import annotations

from checker.vm import opcodes as op
from checker.vm import program as meta
from checker.vm.program import Program

EXPAND = "migcheck_expand"
PREDICATE = "migcheck_predicate"
_SLOT_COLS = 6  # word, shift, mask, lo, hi, default - lo (`Program.slots`)
_W, _SH, _MASK, _LO, _HI, _DEF = range(_SLOT_COLS)


def _s64(x: int) -> int:
    """`x` as the int64 the interpreter would hold (two's complement)."""
    x &= (1 << 64) - 1
    return x - (1 << 64) if x >= 1 << 63 else x


Val = str | int  # an SSA value's name, or a constant

_FOLD = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
         "and": lambda x, y: x & y, "or": lambda x, y: x | y, "xor": lambda x, y: x ^ y,
         "shl": lambda x, y: x << y, "ashr": lambda x, y: x >> y}
_IDENTITY = {"add": 0, "sub": 0, "or": 0, "xor": 0, "shl": 0, "ashr": 0, "and": -1, "mul": 1}

# The program's code, slot table and aux rows as lists, and its word count:
# what a routine's emission reads (converted once per program).
_Tables = tuple[list[list[int]], list[list[int]], list[int], int]


class _Routine:
    """One routine of the bytecode (an action, or a predicate list), from
    its entry row to its END, as the body of one LLVM function of
    (state, successor, pend)."""

    def __init__(self, prog: _Tables, entry: int):
        self.code, self.slots, self.aux, self.nwords = prog
        self.entry = entry
        self.out: list[str] = []
        self.n = 0
        self.regs: set[int] = set()
        self.exits: set[int] = set()

    # ------------------------------------------------------------ emission
    def tmp(self) -> str:
        self.n += 1
        return f"%t{self.n}"

    def label(self) -> str:
        self.n += 1
        return f"l{self.n}"

    def ins(self, text: str) -> None:
        self.out.append("  " + text)

    def val(self, text: str) -> str:
        t = self.tmp()
        self.ins(f"{t} = {text}")
        return t

    def block(self, name: str) -> None:
        self.out.append(f"{name}:")

    def reg(self, r: int) -> str:
        self.regs.add(r)
        return self.val(f"load i64, ptr %R{r}")

    def setreg(self, r: int, v: str | int) -> None:
        self.regs.add(r)
        self.ins(f"store i64 {v}, ptr %R{r}")

    def exit(self, status: int) -> str:
        self.exits.add(status)
        return f"%x{status}"

    def fail_if(self, cond: str, status: int) -> None:
        """Return `status` when `cond` (an i1) holds; go on otherwise."""
        go = self.label()
        self.ins(f"br i1 {cond}, label {self.exit(status)}, label %{go}")
        self.block(go)

    def cmp(self, pred: str, a: Val, b: Val) -> str:
        return self.val(f"icmp {pred} i64 {a}, {b}")

    def flag(self, pred: str, a: Val, b: Val) -> str:
        """1 if `a pred b` else 0, as an i64."""
        return self.val(f"zext i1 {self.cmp(pred, a, b)} to i64")

    def either(self, x: str, y: str) -> str:
        return self.val(f"or i1 {x}, {y}")

    def outside(self, v: Val, lo: Val, hi: Val) -> str:
        return self.either(self.cmp("slt", v, lo), self.cmp("sgt", v, hi))

    def word(self, buf: int, w: Val) -> str:
        base = "%s" if buf == 0 else "%d"
        if w == 0:
            return base
        return self.val(f"getelementptr inbounds i64, ptr {base}, i64 {w}")

    def bin(self, name: str, x: Val, y: Val) -> Val:
        """x `name` y on i64, folded here when both are constants or y is
        the operation's identity: the pipeline runs no instcombine."""
        if isinstance(x, int) and isinstance(y, int):
            return _s64(_FOLD[name](x, y))
        if isinstance(y, int) and y == _IDENTITY.get(name):
            return x
        return self.val(f"{name} i64 {x}, {y}")

    def field(self, x: Val, shift: Val, mask: Val, lo: Val) -> Val:
        """((x >> shift) & mask) + lo"""
        return self.bin("add", self.bin("and", self.bin("ashr", x, shift), mask), lo)

    def tab(self, k: str, col: int) -> str:
        """Column `col` of slot k's row of the table (k a register value)."""
        p = self.val(f"getelementptr inbounds [{_SLOT_COLS} x i64], ptr @slots, i64 {k}, "
                     f"i64 {col}")
        return self.val(f"load i64, ptr {p}")

    def get_dyn(self, buf: int, k: str) -> Val:
        """`machine._get`: slot k's value, k a register value."""
        x = self.val(f"load i64, ptr {self.word(buf, self.tab(k, _W))}")
        return self.field(x, self.tab(k, _SH), self.tab(k, _MASK), self.tab(k, _LO))

    def put_dyn(self, k: str, v: Val) -> None:
        """`machine._set`: slot k of buffer 1 set to v, k a register value."""
        self.put_bits(self.tab(k, _W), self.tab(k, _SH), self.tab(k, _MASK), self.tab(k, _LO), v)

    # ------------------------------------------------------------ slots
    def get_static(self, buf: int, k: int) -> Val:
        w, sh, m, lo = self.slots[k][:4]
        x = self.val(f"load i64, ptr {self.word(buf, w)}")
        return self.field(x, sh, m, lo)

    def put_bits(self, w: Val, shift: Val, mask: Val, lo: Val, v: Val) -> None:
        """bufs[1, w] = (bufs[1, w] & ~(mask << shift)) | ((v - lo) << shift)"""
        p = self.word(1, w)
        x = self.val(f"load i64, ptr {p}")
        kept = self.bin("and", x, self.bin("xor", self.bin("shl", mask, shift), -1))
        new = self.bin("or", kept, self.bin("shl", self.bin("sub", v, lo), shift))
        self.ins(f"store i64 {new}, ptr {p}")

    def put_static(self, k: int, v: Val) -> None:
        w, sh, m, lo = self.slots[k][:4]
        self.put_bits(w, sh, m, lo, v)

    def reset_static(self, first: int, stride: int, bit: int) -> None:
        """`machine._reset` of the object whose allocated bit is slot `first`."""
        self.put_static(first, bit)
        for k in range(first + 1, first + stride):
            self.put_static(k, self.slots[k][_DEF] + self.slots[k][_LO])

    # ------------------------------------------------------------ the routine
    def jump_targets(self, end: int) -> set[int]:
        """Rows that begin a basic block: the entry, jump targets, and the
        row after each jump or terminator."""
        starts = {self.entry}
        for i in range(self.entry, end + 1):
            o, a, b = self.code[i][:3]
            if o == op.JMP:
                starts.update((a, i + 1))
            elif o in (op.JZ, op.JNZ):
                starts.update((b, i + 1))
            elif o in (op.ESC, op.END):
                starts.add(i + 1)
        return starts

    def emit(self, name: str) -> str:
        end = self.entry
        while self.code[end][0] != op.END:
            end += 1
        starts = self.jump_targets(end)
        open_block = False
        for i in range(self.entry, end + 1):
            if i in starts:
                if open_block:
                    self.ins(f"br label %r{i}")
                self.block(f"r{i}")
            open_block = self.row(i)
        head = [f"define internal i64 @{name}(ptr noalias %s, ptr noalias %d, ptr noalias %pend) {{",
                "entry:"]
        for r in sorted(self.regs):
            head += [f"  %R{r} = alloca i64", f"  store i64 0, ptr %R{r}"]
        head.append(f"  br label %r{self.entry}")
        tail = [f"x{s}:\n  ret i64 {s}" for s in sorted(self.exits)]
        return "\n".join(head + self.out + tail + ["}", ""])

    def row(self, i: int) -> bool:
        """The IR of row i; False if it ends its block."""
        o, a, b, c, d, e, f = self.code[i]
        R = self.reg
        match o:
            case op.END:
                self.ins(f"ret i64 {op.OK}")
                return False
            case op.ESC:
                self.ins(f"br label {self.exit(op.ESCAPE)}")
                return False
            case op.JMP:
                self.ins(f"br label %r{a}")
                return False
            case op.JZ | op.JNZ:
                z = self.cmp("eq" if o == op.JZ else "ne", R(a), 0)
                self.ins(f"br i1 {z}, label %r{b}, label %r{i + 1}")
                return False
            case op.REQ:
                self.fail_if(self.cmp("eq", R(a), 0), op.DISABLED)
            case op.ASSERT:
                self.fail_if(self.cmp("eq", R(a), 0), op.ASSERTION)
            case op.PROP:
                self.fail_if(self.cmp("eq", R(a), 0), op.PROP_BASE + b)
            case op.COPY:
                self.ins(f"call void @llvm.memcpy.p0.p0.i64(ptr %d, ptr %s, i64 {8 * self.nwords}, "
                         "i1 false)")
            case op.CONST:
                self.setreg(a, b)
            case op.MOV:
                self.setreg(a, R(b))
            case op.LDS:
                x = self.val(f"load i64, ptr {self.word(b, c)}")
                self.setreg(a, self.field(x, d, e, f))
            case op.LDD:
                self.setreg(a, self.get_dyn(b, R(c)))
            case op.LDDF:
                k = R(c)
                x = self.val(f"load i64, ptr {self.word(b, self.tab(k, _W))}")
                self.setreg(a, self.field(x, self.bin("add", self.tab(k, _SH), d), e, f))
            case op.FIELD:
                self.setreg(a, self.field(R(b), c, d, e))
            case op.NOT:
                self.setreg(a, self.flag("eq", R(b), 0))
            case op.BOOL:
                self.setreg(a, self.flag("ne", R(b), 0))
            case op.NEG:
                self.setreg(a, self.val(f"sub i64 0, {R(b)}"))
            case op.BNOT:
                self.setreg(a, self.val(f"xor i64 {R(b)}, -1"))
            case op.ADD | op.SUB | op.MUL | op.AND | op.OR | op.XOR:
                name = {op.ADD: "add", op.SUB: "sub", op.MUL: "mul", op.AND: "and",
                        op.OR: "or", op.XOR: "xor"}[o]
                self.setreg(a, self.val(f"{name} i64 {R(b)}, {R(c)}"))
            case op.EQ | op.NE | op.LT | op.LE | op.GT | op.GE:
                self.setreg(a, self.flag(_PRED[o], R(b), R(c)))
            case op.EQI | op.NEI | op.LTI | op.LEI | op.GTI | op.GEI:
                self.setreg(a, self.flag(_PRED[o], R(b), c))
            case op.ADDI:
                self.setreg(a, self.val(f"add i64 {R(b)}, {c}"))
            case op.MULADD:
                m = self.val(f"mul i64 {R(b)}, {d}")
                self.setreg(a, self.val(f"add i64 {m}, {c}"))
            case op.ADDMUL:
                s = self.val(f"add i64 {R(b)}, {c}")
                m = self.val(f"mul i64 {s}, {d}")
                self.setreg(a, self.val(f"add i64 {R(a)}, {m}"))
            case op.ADDC | op.SUBC:
                v = self.val(f"{'add' if o == op.ADDC else 'sub'} i64 {R(b)}, {R(c)}")
                self.fail_if(self.outside(v, 1 - op.SAFE, op.SAFE - 1), op.ESCAPE)
                self.setreg(a, v)
            case op.MULC:
                self.mulc(a, R(b), R(c))
            case op.DIV | op.MOD:
                self.divmod(o, a, R(b), R(c))
            case op.SHL:
                self.shl(a, R(b), R(c))
            case op.SHR:
                y = R(c)
                self.fail_if(self.cmp("slt", y, 0), op.SHIFT_COUNT)
                small = self.cmp("slt", y, 63)
                n = self.val(f"select i1 {small}, i64 {y}, i64 63")
                self.setreg(a, self.val(f"ashr i64 {R(b)}, {n}"))
            case op.COVER:
                p = self.val(f"getelementptr inbounds i8, ptr %pend, i64 {a}")
                self.ins(f"store i8 1, ptr {p}")
            case op.CHKREF:
                v = R(a)
                self.fail_if(self.cmp("eq", v, 0), op.NULL_REF)
                self.fail_if(self.outside(v, 1, b), op.REF_BOUNDS)
                m = self.val(f"mul i64 {self.val(f'sub i64 {v}, 1')}, {d}")
                k = self.val(f"add i64 {m}, {c}")
                alive = self.get_dyn(e, k)
                self.fail_if(self.cmp("eq", alive, 0), op.FREED)
            case op.CHKIDX:
                self.fail_if(self.outside(R(a), 0, b - 1), op.INDEX)
            case op.CHKR:
                self.fail_if(self.outside(R(a), b, c), d)
            case op.CHKRD:
                k = R(b)
                self.fail_if(self.outside(R(a), self.tab(k, _LO), self.tab(k, _HI)),
                             op.STORE_RANGE)
            case op.STS:
                self.put_bits(b, c, d, e, R(a))
            case op.STD:
                self.put_dyn(R(b), R(a))
            case op.STDF:
                k = R(b)
                sh = self.bin("add", self.tab(k, _SH), c)
                self.put_bits(self.tab(k, _W), sh, d, e, R(a))
            case op.CSTORE:
                p = self.word(1, a)
                x = self.val(f"load i64, ptr {p}")
                y = self.val(f"and i64 {x}, {_s64(~b)}")
                self.ins(f"store i64 {self.val(f'or i64 {y}, {c}')}, ptr {p}")
            case op.ALLOC:
                self.alloc(a, b, c, d)
            case op.FREE:
                self.free(R(a), b, c, d)
            case op.START:
                self.start(a, b, c, d)
            case _:
                raise AssertionError(f"opcode {o}")
        return True

    # ------------------------------------------------------------ larger templates
    def mulc(self, a: int, x: str, y: str) -> None:
        """x * y, ESCAPE when |x| > (SAFE - 1) // |y| (x, y non-zero)."""
        ax = self.val(f"call i64 @llvm.abs.i64(i64 {x}, i1 false)")
        yz = self.cmp("eq", y, 0)
        ay = self.val(f"call i64 @llvm.abs.i64(i64 {y}, i1 false)")
        dv = self.val(f"select i1 {yz}, i64 1, i64 {ay}")
        lim = self.val(f"sdiv i64 {op.SAFE - 1}, {dv}")
        big = self.cmp("sgt", ax, lim)
        nz = self.val(f"and i1 {self.cmp('ne', x, 0)}, {self.cmp('ne', y, 0)}")
        self.fail_if(self.val(f"and i1 {nz}, {big}"), op.ESCAPE)
        self.setreg(a, self.val(f"mul i64 {x}, {y}"))

    def divmod(self, o: int, a: int, x: str, y: str) -> None:
        """Division truncating toward zero (and its remainder), as `run`."""
        self.fail_if(self.cmp("eq", y, 0), op.DIVISOR)
        ax = self.val(f"call i64 @llvm.abs.i64(i64 {x}, i1 false)")
        ay = self.val(f"call i64 @llvm.abs.i64(i64 {y}, i1 false)")
        q = self.val(f"sdiv i64 {ax}, {ay}")
        flip = self.val(f"xor i1 {self.cmp('sge', x, 0)}, {self.cmp('sge', y, 0)}")
        q = self.val(f"select i1 {flip}, i64 {self.val(f'sub i64 0, {q}')}, i64 {q}")
        if o == op.MOD:
            q = self.val(f"sub i64 {x}, {self.val(f'mul i64 {q}, {y}')}")
        self.setreg(a, q)

    def shl(self, a: int, x: str, y: str) -> None:
        """x << y: a negative count faults; 0 stays 0; a count of 62 or more,
        or a result beyond the registers' range, escapes."""
        self.fail_if(self.cmp("slt", y, 0), op.SHIFT_COUNT)
        nz = self.cmp("ne", x, 0)
        big = self.cmp("sge", y, 62)
        self.fail_if(self.val(f"and i1 {nz}, {big}"), op.ESCAPE)
        n = self.val(f"select i1 {big}, i64 0, i64 {y}")
        v = self.val(f"shl i64 {x}, {n}")
        lost = self.cmp("ne", self.val(f"ashr i64 {v}, {n}"), x)
        bad = self.either(lost, self.outside(v, 1 - op.SAFE, op.SAFE - 1))
        self.fail_if(self.val(f"and i1 {nz}, {bad}"), op.ESCAPE)
        self.setreg(a, self.val(f"select i1 {nz}, i64 {v}, i64 0"))

    def alloc(self, a: int, base: int, stride: int, size: int) -> None:
        """The first free object of the pool (unrolled: its slots are constants)."""
        self.setreg(a, 0)
        done = self.label()
        for j in range(size):
            first = base + j * stride
            take, nxt = self.label(), self.label()
            free = self.cmp("eq", self.get_static(1, first), 0)
            self.ins(f"br i1 {free}, label %{take}, label %{nxt}")
            self.block(take)
            self.reset_static(first, stride, 1)
            self.setreg(a, j + 1)
            self.ins(f"br label %{done}")
            self.block(nxt)
        self.ins(f"br label %{done}")
        self.block(done)

    def free(self, r: str, base: int, stride: int, size: int) -> None:
        """Free object r (a register value: its slots through the table)."""
        live, done = self.label(), self.label()
        self.ins(f"br i1 {self.cmp('eq', r, 0)}, label %{done}, label %{live}")
        self.block(live)
        self.fail_if(self.outside(r, 1, size), op.ESCAPE)
        first = self.val(f"add i64 {self.val(f'mul i64 {r}, {stride}')}, {base - stride}")
        alive = self.get_dyn(1, first)
        self.fail_if(self.cmp("eq", alive, 0), op.DOUBLE_FREE)
        self.put_dyn(first, 0)
        for j in range(1, stride):
            k = self.val(f"add i64 {first}, {j}")
            v = self.bin("add", self.tab(k, _DEF), self.tab(k, _LO))
            self.put_dyn(k, v)
        self.ins(f"br label %{done}")
        self.block(done)

    def start(self, first_reg: int, at: int, count: int, nargs: int) -> None:
        """The first idle thread slot of `count` gets the arguments and its
        entry pc (unrolled: the aux rows are constants)."""
        done = self.label()
        for j in range(count):
            row = at + j * (2 + nargs)
            take, nxt = self.label(), self.label()
            idle = self.cmp("eq", self.get_static(1, self.aux[row]), 0)
            self.ins(f"br i1 {idle}, label %{take}, label %{nxt}")
            self.block(take)
            for q in range(nargs):
                ps = self.aux[row + 2 + q]
                v = self.reg(first_reg + q)
                self.fail_if(self.outside(v, self.slots[ps][_LO], self.slots[ps][_HI]),
                             op.STORE_RANGE)
                self.put_static(ps, v)
            self.put_static(self.aux[row], self.aux[row + 1])
            self.ins(f"br label %{done}")
            self.block(nxt)
        self.ins(f"br label {self.exit(op.THREAD_SLOT)}")
        self.block(done)


_PRED = {op.EQ: "eq", op.NE: "ne", op.LT: "slt", op.LE: "sle", op.GT: "sgt", op.GE: "sge",
         op.EQI: "eq", op.NEI: "ne", op.LTI: "slt", op.LEI: "sle", op.GTI: "sgt", op.GEI: "sge"}


def _expand_fn(prog: Program) -> str:
    """`machine.expand`: threads in order, each thread's actions at its pc."""
    nw = int(prog.meta[meta.META_NWORDS])
    lines = [f"define i64 @{EXPAND}(ptr noalias %s, ptr noalias %out, ptr noalias %oa, "
             "ptr noalias %f, ptr noalias %pend, ptr noalias %nfp) {",
             "entry:", "  %k = alloca i64", "  %nf = alloca i64",
             "  store i64 0, ptr %k", "  store i64 0, ptr %nf", "  br label %t0"]
    acts = prog.acts.tolist()
    for ti, (w, sh, m) in enumerate(prog.pcs.tolist()):
        lines += [f"t{ti}:", f"  %w{ti} = getelementptr inbounds i64, ptr %s, i64 {w}",
                  f"  %x{ti} = load i64, ptr %w{ti}", f"  %y{ti} = ashr i64 %x{ti}, {sh}",
                  f"  %pc{ti} = and i64 %y{ti}, {m}"]
        cases = [(pc, int(first), int(n)) for pc, (first, n) in enumerate(prog.pcact[ti].tolist())
                 if n > 0]
        arms = " ".join(f"i64 {pc}, label %t{ti}p{pc}" for pc, _, _ in cases)
        lines.append(f"  switch i64 %pc{ti}, label %t{ti + 1} [ {arms} ]")
        for pc, first, n in cases:
            lines.append(f"t{ti}p{pc}:")
            for j in range(first, first + n):
                entry, aid = acts[j]
                v = f"{ti}_{j}"
                lines += [f"  %kk{v} = load i64, ptr %k", f"  %o{v} = mul i64 %kk{v}, {nw}",
                          f"  %row{v} = getelementptr inbounds i64, ptr %out, i64 %o{v}",
                          f"  %st{v} = call i64 @a{entry}(ptr %s, ptr %row{v}, ptr %pend)",
                          f"  %ok{v} = icmp eq i64 %st{v}, {op.OK}",
                          f"  br i1 %ok{v}, label %s{v}, label %b{v}",
                          f"s{v}:",  # a successor: its action, and the count
                          f"  %pa{v} = getelementptr inbounds i64, ptr %oa, i64 %kk{v}",
                          f"  store i64 {aid}, ptr %pa{v}", f"  %k1{v} = add i64 %kk{v}, 1",
                          f"  store i64 %k1{v}, ptr %k", f"  br label %n{v}",
                          f"b{v}:", f"  %dis{v} = icmp eq i64 %st{v}, {op.DISABLED}",
                          f"  br i1 %dis{v}, label %n{v}, label %f{v}",
                          f"f{v}:",  # a fault: (action, code)
                          f"  %nf{v} = load i64, ptr %nf", f"  %i{v} = shl i64 %nf{v}, 1",
                          f"  %p{v} = getelementptr inbounds i64, ptr %f, i64 %i{v}",
                          f"  store i64 {aid}, ptr %p{v}",
                          f"  %q{v} = getelementptr inbounds i64, ptr %p{v}, i64 1",
                          f"  store i64 %st{v}, ptr %q{v}", f"  %nf1{v} = add i64 %nf{v}, 1",
                          f"  store i64 %nf1{v}, ptr %nf", f"  br label %n{v}", f"n{v}:"]
            lines.append(f"  br label %t{ti + 1}")
    nt = len(prog.pcs)
    lines += [f"t{nt}:", "  %nfaults = load i64, ptr %nf", "  store i64 %nfaults, ptr %nfp",
              "  %count = load i64, ptr %k", "  ret i64 %count", "}", ""]
    return "\n".join(lines)


def _predicate_fn(prog: Program, entries: list[int]) -> str:
    """`machine.predicate` for the routines at `entries`; any other entry
    answers minus ESCAPE (the Python engine then judges the state)."""
    nw = int(prog.meta[meta.META_NWORDS])
    arms = " ".join(f"i64 {e}, label %e{e}" for e in entries)
    lines = [f"define i64 @{PREDICATE}(ptr noalias %s, ptr noalias %pend, i64 %which) {{",
             "entry:", f"  %d = alloca [{nw} x i64]",
             f"  switch i64 %which, label %bad [ {arms} ]",
             f"bad:\n  ret i64 {-op.ESCAPE}"]
    for e in entries:
        lines += [f"e{e}:", f"  %st{e} = call i64 @a{e}(ptr %s, ptr %d, ptr %pend)",
                  "  br label %map"]
    if entries:
        phi = ", ".join(f"[ %st{e}, %e{e} ]" for e in entries)
        lines += ["map:", f"  %st = phi i64 {phi}", "  %ok = icmp eq i64 %st, 0",
                  f"  %isprop = icmp sge i64 %st, {op.PROP_BASE}",
                  f"  %prop = sub i64 %st, {op.PROP_BASE}", "  %fault = sub i64 0, %st",
                  "  %r = select i1 %isprop, i64 %prop, i64 %fault",
                  "  %res = select i1 %ok, i64 -1, i64 %r", "  ret i64 %res"]
    return "\n".join([*lines, "}", ""])


def emit_module(prog: Program, triple: str = "", datalayout: str = "") -> str:
    """The IR of `prog`'s actions and predicates, with the two entry points."""
    table = prog.slots.reshape(-1).tolist()
    body = ", ".join(f"i64 {v}" for v in table)
    parts = []
    if triple:
        parts.append(f'target triple = "{triple}"')
    if datalayout:
        parts.append(f'target datalayout = "{datalayout}"')
    parts += [f"@slots = private unnamed_addr constant [{len(table)} x i64] [{body}]"
              if table else "@slots = private unnamed_addr constant [1 x i64] zeroinitializer",
              "declare i64 @llvm.abs.i64(i64, i1)",
              "declare void @llvm.memcpy.p0.p0.i64(ptr, ptr, i64, i1)", ""]
    tables = (prog.code.tolist(), prog.slots.tolist(), prog.aux.tolist(),
              int(prog.meta[meta.META_NWORDS]))
    entries = sorted({int(e) for e, _ in prog.acts.tolist()})
    preds = [int(prog.meta[k]) for k in (meta.META_INV, meta.META_FIN) if prog.meta[k] >= 0]
    for e in sorted(set(entries) | set(preds)):
        parts.append(_Routine(tables, e).emit(f"a{e}"))
    parts += [_expand_fn(prog), _predicate_fn(prog, sorted(set(preds)))]
    return "\n".join(parts)

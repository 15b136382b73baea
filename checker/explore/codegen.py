"""Compile a transition system to Python source for the explicit-state search.

A state is one Python int: slot i occupies `width[i]` bits at `offset[i]` and
holds `value - lo[i]`. Each action becomes straight-line code over that int;
the code for all actions of one (thread, pc) is one function, so expanding a
state costs one call per running thread. Location checks (null, freed object,
index bounds) are emitted as conditional expressions so that C's
short-circuit order decides which checks run. Every fault is raised as
`checker.ir.interp.Fault`, the same exception the reference interpreter
raises; tests compare the two on random programs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import CodeType
from typing import Any, assert_never

from checker.explore.codecache import compiled
from checker.ir.interp import Fault, c_div, c_mod, c_shift
from checker.ir.nodes import (
    Action,
    AllocObj,
    Assert,
    Assign,
    Binary,
    Const,
    CoverHit,
    Dyn,
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
from checker.kinds import Check, ViolationKind


@dataclass
class Packing:
    """Bit positions of every slot."""

    offsets: list[int]
    widths: list[int]
    los: list[int]
    total_bits: int

    @staticmethod
    def of(ts: TransitionSystem) -> Packing:
        """Slots in IR order, except the threads' program counters, which
        take the lowest bits: expand() reads every pc of every state, and
        from one small int (`s & PC_MASK`) that is a few machine-word
        operations instead of a shift of the whole state per thread."""
        n = len(ts.slots)
        offsets, widths = [0] * n, [0] * n
        los = [s.lo for s in ts.slots]
        pcs = [t.pc_slot for t in ts.threads]
        pc_set = set(pcs)
        off = 0
        for k in pcs + [k for k in range(n) if k not in pc_set]:
            w = max((ts.slots[k].hi - ts.slots[k].lo).bit_length(), 1)
            offsets[k] = off
            widths[k] = w
            off += w
        return Packing(offsets, widths, los, off)

    def pack(self, values: Sequence[int]) -> int:
        s = 0
        for v, off, lo in zip(values, self.offsets, self.los, strict=True):
            s |= (v - lo) << off
        return s

    def unpack(self, s: int) -> list[int]:
        return [((s >> off) & ((1 << w) - 1)) + lo
                for off, w, lo in zip(self.offsets, self.widths, self.los, strict=True)]


class Runtime:
    """Helpers called by generated code on rare paths (faults, alloc, free, start)."""

    def __init__(self, ts: TransitionSystem, packing: Packing):
        self.ts = ts
        self.p = packing
        self.covered: set[int] = set()
        # (action, mask of warning props) of each step taken by expand() that
        # fired a warning, until the search records them (`Outcome.warned`).
        self.pending: list[tuple[int, int]] = []
        # Per pool object: (allocated bit, mask of all its bits, its freshly
        # reset bits), so that alloc and free are a few int operations.
        self.objects: dict[str, list[tuple[int, int, int]]] = {}
        for name, info in ts.pools.items():
            objs = []
            for i in range(info.size):
                a = info.base + i * info.stride
                mask = fresh = 0
                for k in range(a, a + info.stride):
                    w = packing.widths[k]
                    mask |= ((1 << w) - 1) << packing.offsets[k]
                    if k != a:
                        default = ts.slots[k].default - packing.los[k]
                        fresh |= default << packing.offsets[k]
                objs.append((1 << packing.offsets[a], mask, fresh))
            self.objects[name] = objs

    def name(self, slot: int) -> str:
        return self.ts.slots[slot].name

    def deref_fault(self, r: int, pool: str, alloc_base: int, stride: int, verb: str) -> Any:
        if r == 0:
            raise Fault.of(Check.NULL_REF, verb=verb, pool=pool)
        raise Fault.of(Check.FREED, verb=verb, object=self.name(alloc_base + (r - 1) * stride))

    def oob(self, i: int, count: int, verb: str) -> Any:
        raise Fault.of(Check.INDEX, verb=verb, value=i, last=count - 1)

    def range_fault(self, slot: int, v: int, lo: int, hi: int, field: bool) -> Any:
        check = Check.WORD_FIELD_RANGE if field else Check.STORE_RANGE
        raise Fault.of(check, target=self.name(slot), value=v, lo=lo, hi=hi)

    def range_fault_at(self, offset: int, v: int, lo: int, hi: int, field: bool) -> Any:
        """A range fault at a slot reached through references or indices:
        `offset` is the slot's bit offset, which names it."""
        if not hasattr(self, "_slot_at"):
            self._slot_at = {off: i for i, off in enumerate(self.p.offsets)}
        self.range_fault(self._slot_at[offset], v, lo, hi, field)

    def assert_fault(self, prop: int, kind: str) -> Any:
        """`kind` arrives as the literal the generated code holds."""
        raise Fault(ViolationKind(kind), Check.ASSERTION.message(), prop)

    def div(self, a: int, b: int) -> int:
        if b == 0:
            raise Fault.of(Check.DIVISOR)
        return c_div(a, b)

    def mod(self, a: int, b: int) -> int:
        if b == 0:
            raise Fault.of(Check.DIVISOR)
        return c_mod(a, b)

    def shl(self, a: int, b: int) -> int:
        return c_shift("<<", a, b)

    def shr(self, a: int, b: int) -> int:
        return c_shift(">>", a, b)

    def alloc(self, s: int, pool: str) -> tuple[int, int]:
        for i, (bit, mask, fresh) in enumerate(self.objects[pool]):
            if not s & bit:
                return (s & ~mask) | fresh | bit, i + 1
        return s, 0

    def free(self, s: int, r: int, pool: str) -> int:
        if r == 0:
            return s
        bit, mask, fresh = self.objects[pool][r - 1]
        if not s & bit:
            info = self.ts.pools[pool]
            raise Fault.of(Check.DOUBLE_FREE, object=self.name(info.base + (r - 1) * info.stride))
        return (s & ~mask) | fresh

    def start(self, s: int, stmt: StartThread, args: tuple[int, ...]) -> int:
        for ts in stmt.slots:
            if self._get(s, ts.pc_slot) == 0:
                for ps, v in zip(ts.param_slots, args, strict=True):
                    slot = self.ts.slots[ps]
                    if not slot.lo <= v <= slot.hi:
                        self.range_fault(ps, v, slot.lo, slot.hi, False)
                    s = self._set(s, ps, v)
                return self._set(s, ts.pc_slot, ts.entry_pc)
        raise Fault.of(Check.THREAD_SLOT, thread=stmt.kind, count=len(stmt.slots))

    def cover(self, k: int) -> None:
        self.covered.add(k)

    def warned(self, aid: int, mask: int) -> None:
        self.pending.append((aid, mask))

    def _get(self, s: int, slot: int) -> int:
        p = self.p
        return ((s >> p.offsets[slot]) & ((1 << p.widths[slot]) - 1)) + p.los[slot]

    def _set(self, s: int, slot: int, v: int) -> int:
        p = self.p
        off, w = p.offsets[slot], p.widths[slot]
        return (s & ~(((1 << w) - 1) << off)) | ((v - p.los[slot]) << off)


@dataclass
class Compiled:
    """The generated functions for one transition system."""

    ts: TransitionSystem
    packing: Packing
    runtime: Runtime
    source: str
    expand: Callable[[int], list[int]]
    _step_source: str
    _env: dict[str, Any]
    invariant: Callable[[int], int] | None  # -> violated prop index, or -1
    final: Callable[[int], int] | None
    fired: bytearray
    pc_mask: int  # all pc bits: a state with none set has every thread finished
    initial: int = 0
    thread_pc: list[tuple[int, int]] = field(default_factory=list)  # (offset, mask) per thread
    # `expand`, also returning where each thread's successors end (`explore.por`)
    expand_split: Callable[[int], tuple[list[int], list[int]]] | None = None
    # With --por (set by `explore.run.check`): per thread id, the pcs whose
    # steps may be explored alone (`ir.por.ample_pcs`); None: no reduction.
    ample: dict[int, frozenset[int]] | None = None
    # Symmetry reduction (checker.explore.symmetry.reduced): a state's
    # canonical representative; `expand` and `initial` are canonical then,
    # and a search makes the successors of a faulting expansion canonical.
    canon: Callable[[int], int] | None = None

    def pc_of(self, s: int, thread_index: int) -> int:
        off, mask = self.thread_pc[thread_index]
        return (s >> off) & mask

    def moves(self, s: int) -> list[tuple[Action, int]]:
        """Every step enabled in `s` that does not fault, with its successor,
        one action at a time: the slow path that traces and post-passes use
        when they must know which action made a step."""
        out = []
        step = self.step
        for i, th in enumerate(self.ts.threads):
            for a in self.ts.actions_at(th.id, self.pc_of(s, i)):
                try:
                    t = step[a.id](s)
                except Fault:
                    continue
                if t is not None:
                    out.append((a, t))
        return out

    @property
    def step(self) -> list[Callable[[int], int | None]]:
        """One function per action: its successor, or None if not enabled.
        Compiled on first use: only traces and faults need them."""
        cached: list[Callable[[int], int | None]] | None = getattr(self, "_step", None)
        if cached is None:
            env = dict(self._env)
            exec(_compile(self._step_source, f"<migcheck:{self.ts.scenario}:steps>"), env)
            cached = env["STEP"]
            self._step = cached
        return cached


class _Gen:
    def __init__(self, ts: TransitionSystem, p: Packing):
        self.ts = ts
        self.p = p
        self.tmp = 0
        self.consts: dict[str, Any] = {}
        self.symbolic = Symbolic(ts.slots, ts.pools)

    def fresh(self, prefix: str = "_v") -> str:
        self.tmp += 1
        return f"{prefix}{self.tmp}"

    def const(self, value: Any) -> str:
        name = f"K{len(self.consts)}"
        self.consts[name] = value
        return name

    # ------------------------------------------------------------ locations
    def _linear(self, loc: Loc) -> tuple[int, list[tuple[Dyn, int]]]:
        """Bit offset of the location's base slot and the bit stride of each
        dynamic component (slots of one family are evenly spaced in bits)."""
        p = self.p
        base_off = p.offsets[loc.base]
        parts = []
        for d in loc.dyn:
            if d.count > 1:
                bit_stride = p.offsets[loc.base + d.stride] - base_off
                for k in range(d.count):
                    expect = base_off + k * bit_stride
                    assert p.offsets[loc.base + k * d.stride] == expect, "non-linear layout"
            else:
                bit_stride = 0
            parts.append((d, bit_stride))
        return base_off, parts

    def field(self, s: str, off: int, width: int) -> str:
        """The raw bits [off, off + width) of state `s`.

        States are ints of a few hundred bits, and CPython's `s >> off` copies
        everything above `off`: for a field in the lower half, masking first
        (`s & (m << off)`, which only touches the low digits) is cheaper."""
        mask = (1 << width) - 1
        if off < self.p.total_bits // 2:
            return f"((({s}) & {_lit(mask << off)}) >> {off})"
        return f"((({s}) >> {off}) & {mask})"

    def read(self, loc: Loc, s: str) -> str:
        """A Python expression for the value at `loc` in state `s`."""
        p = self.p
        w = p.widths[loc.base]
        lo = p.los[loc.base]
        base_off, parts = self._linear(loc)
        if loc.bits is not None:
            shift, width, flo, _fhi = loc.bits
            fmask = (1 << width) - 1
        if not parts:
            off = base_off
            if loc.bits is not None:
                return _plus(self.field(s, off + shift, width), flo)
            return _plus(self.field(s, off, w), lo)
        # Dynamic: nested checks, innermost is the read.
        names = [self.fresh() for _ in parts]
        off_terms = [str(base_off)]
        for (d, bst), nm in zip(parts, names, strict=True):
            idx = f"({nm} - 1)" if d.pool else nm
            off_terms.append(f"{idx} * {bst}")
        off_expr = " + ".join(off_terms)
        if loc.bits is not None:
            inner = _plus(f"((({s}) >> ({off_expr} + {shift})) & {fmask})", flo)
        else:
            inner = _plus(f"((({s}) >> ({off_expr})) & {(1 << w) - 1})", lo)
        for (d, _bst), nm in reversed(list(zip(parts, names, strict=True))):
            cond, fault = self._dyn_check(d, nm, s, "read")
            inner = f"({inner} if ({cond}) else {fault})"
        # Bind the walrus names in evaluation order: the first check binds first.
        return inner

    def _dyn_check(self, d: Dyn, nm: str, s: str, verb: str) -> tuple[str, str]:
        e = self.expr(d.expr, s)
        if d.pool is not None:
            a_off = self.p.offsets[d.alloc_base]
            a_bst = self.p.offsets[d.alloc_base + d.stride] - a_off if d.count > 1 else 0
            cond = f"({nm} := {e}) and (({s}) >> ({a_off} + ({nm} - 1) * {a_bst})) & 1"
            fault = f"R.deref_fault({nm}, {d.pool!r}, {d.alloc_base}, {d.stride}, {verb!r})"
            return cond, fault
        cond = f"0 <= ({nm} := {e}) < {d.count}"
        return cond, f"R.oob({nm}, {d.count}, {verb!r})"

    # ------------------------------------------------------------ expressions
    def expr(self, e: Expr, s: str) -> str:
        match e:
            case Const():
                return str(e.value)
            case Read():
                return self.read(e.loc, s)
            case Unary():
                a = self.expr(e.operand, s)
                return f"(not {a})" if e.op == "!" else f"({e.op}{a})"
            case Binary():
                a = self.expr(e.left, s)
                if isinstance(e.left, Binary) and _FLAT.get(e.op, "") == _FLAT.get(e.left.op, "-"):
                    a = a[1:-1]  # `a + b + c`, not one parenthesis per term: Python allows 200
                b = self.expr(e.right, s)
                if e.op == "&&":
                    return f"({a} and {b})"
                if e.op == "||":
                    return f"({a} or {b})"
                if e.op == "/":
                    return f"R.div({a}, {b})"
                if e.op == "%":
                    return f"R.mod({a}, {b})"
                if e.op in ("<<", ">>") and not self.plain_shift(e):
                    return f"R.{'shl' if e.op == '<<' else 'shr'}({a}, {b})"
                return f"({a} {e.op} {b})"
            case Ite():
                return f"({self.expr(e.then, s)} if {self.expr(e.cond, s)} else {self.expr(e.other, s)})"
            case FieldOf():
                w = self.expr(e.word, s)
                return _plus(f"(({w} >> {e.shift}) & {(1 << e.width) - 1})", e.lo)
            case _:
                assert_never(e)

    def plain_shift(self, e: Binary) -> bool:
        """Whether Python's own shift is exact here: the count is never
        negative and a left shift never leaves `c_shift`'s limit."""
        count = self.symbolic.interval(e.right)
        if count is None or count[0] < 0:
            return False
        return e.op == ">>" or self.symbolic.interval(e) is not None

    # ------------------------------------------------------------ statements
    def write(self, loc: Loc, value: str, lines: list[str], ind: str,
              bounds: tuple[int, int] | None = None) -> None:
        """Store `value` at `loc` in `n`: the location's checks first (null,
        freed, bounds), then the value's range, as the interpreter does. The
        range check is left out when `bounds`, the value's static interval
        (every slot holds a value in its range, since every store is
        checked), already lies inside the location's range: copying one
        `int[0..2]` into another cannot fault."""
        p = self.p
        slot = self.ts.slots[loc.base]
        v = self.fresh()
        lines.append(f"{ind}{v} = {value}")
        base_off, parts = self._linear(loc)
        if loc.bits is not None:
            shift, width, lo, hi = loc.bits
            is_field = True
        else:
            shift, width, lo, hi = 0, p.widths[loc.base], slot.lo, slot.hi
            is_field = False
        bias = lo if is_field else p.los[loc.base]
        stored = f"({v} - {bias})" if bias else v
        mask = (1 << width) - 1
        in_range = f"{lo} <= {v} <= {hi}"
        checked = bounds is None or not (lo <= bounds[0] and bounds[1] <= hi)
        if not parts:
            if checked:
                lines.append(f"{ind}if not {in_range}: "
                             f"R.range_fault({loc.base}, {v}, {lo}, {hi}, {is_field})")
            # XOR in the change: one operation over the whole state instead
            # of an AND with a negative mask (CPython's slow path) and an OR.
            off = base_off + shift
            lines.append(f"{ind}n ^= ({self.field('n', off, width)} ^ {stored}) << {off}")
            return
        terms = [str(base_off)]
        for d, bst in parts:
            nm = self.fresh()
            cond, fault = self._dyn_check(d, nm, "n", "write")
            lines.append(f"{ind}if not ({cond}): {fault}")
            terms.append(f"({nm} - 1) * {bst}" if d.pool else f"{nm} * {bst}")
        o = self.fresh("_o")
        lines.append(f"{ind}{o} = {' + '.join(terms)}")
        if checked:
            lines.append(f"{ind}if not {in_range}: "
                         f"R.range_fault_at({o}, {v}, {lo}, {hi}, {is_field})")
        if shift:
            lines.append(f"{ind}{o} += {shift}")
        lines.append(f"{ind}n = (n & ~({mask} << {o})) | ({stored} << {o})")

    def constant_store(self, st: Stmt) -> tuple[int, int] | None:
        """(mask, bits) of a store of an in-range constant to a static slot or
        field: no check is needed, and a run of them is one operation."""
        if not (isinstance(st, Assign) and st.loc.static and isinstance(st.value, Const)):
            return None
        p = self.p
        v = st.value.value
        off = p.offsets[st.loc.base]
        if st.loc.bits is not None:
            shift, width, flo, fhi = st.loc.bits
            if not flo <= v <= fhi:
                return None
            return ((1 << width) - 1) << (off + shift), (v - flo) << (off + shift)
        slot = self.ts.slots[st.loc.base]
        if not slot.lo <= v <= slot.hi:
            return None
        return ((1 << p.widths[st.loc.base]) - 1) << off, (v - p.los[st.loc.base]) << off

    def stmts(self, body: Sequence[Stmt], lines: list[str], ind: str) -> str:
        """Emit statements; returns the indentation after any Require nesting."""
        i = 0
        while i < len(body):
            run_mask = run_bits = 0
            j = i
            while j < len(body):
                got = self.constant_store(body[j])
                if got is None or got[0] & run_mask:
                    break
                run_mask |= got[0]
                run_bits |= got[1]
                j += 1
            if j > i:
                # Constant stores (frame and thread resets, flags): one update.
                lines.append(f"{ind}n = (n & {_lit(~run_mask)}) | {_lit(run_bits)}" if run_bits
                             else f"{ind}n &= {_lit(~run_mask)}")
                i = j
                continue
            st = body[i]
            i += 1
            match st:
                case Assign():
                    self.write(st.loc, self.expr(st.value, "n"), lines, ind,
                               self.symbolic.interval(st.value))
                case If():
                    lines.append(f"{ind}if {self.expr(st.cond, 'n')}:")
                    lines.append(f"{ind}    pass")
                    self.stmts(st.then, lines, ind + "    ")
                    if st.other:
                        lines.append(f"{ind}else:")
                        lines.append(f"{ind}    pass")
                        self.stmts(st.other, lines, ind + "    ")
                case Require():
                    lines.append(f"{ind}if {self.expr(st.cond, 'n')}:")
                    ind += "    "
                case Assert():
                    lines.append(f"{ind}if not {self.expr(st.cond, 'n')}: "
                                 f"R.assert_fault({st.prop}, {str(st.kind)!r})")
                case AllocObj():
                    r = self.fresh()
                    lines.append(f"{ind}n, {r} = R.alloc(n, {st.pool!r})")
                    self.write(st.loc, r, lines, ind)
                case FreeObj():
                    lines.append(f"{ind}n = R.free(n, {self.expr(st.ref, 'n')}, {st.pool!r})")
                case StartThread():
                    args = ", ".join(self.expr(a, "n") for a in st.args)
                    k = self.const(st)
                    lines.append(f"{ind}n = R.start(n, {k}, ({args}{',' if st.args else ''}))")
                case CoverHit():
                    lines.append(f"{ind}R.cover({st.cover})")
                case Warn():
                    lines.append(f"{ind}if {self.expr(st.cond, 'n')}: w |= {1 << st.prop}")
                case LockEvent():
                    pass
                case _:
                    assert_never(st)
        return ind

    def action(self, a: Action, ts: TransitionSystem, sink: str, ind: str) -> list[str]:
        lines: list[str] = [f"{ind}# a{a.id}: T{a.thread} pc{a.src} -> pc{a.dst}, "
                            f"{_where(a)}"]
        g = self.expr(a.guard, "s")
        inner = ind
        if g not in ("1", "True"):
            lines.append(f"{ind}if {g}:")
            inner = ind + "    "
        lines.extend(self.effect(a, ts, sink, inner))
        return lines

    def branch_pair(self, a: Action, b: Action, ts: TransitionSystem, sink: str,
                    ind: str) -> list[str]:
        """Two actions whose guards are `c` and `!c` (the arms of an if):
        the condition is evaluated once."""
        lines = [f"{ind}# a{a.id} / a{b.id}: T{a.thread} pc{a.src}, {_where(a)}",
                 f"{ind}if {self.expr(a.guard, 's')}:"]
        lines.extend(self.effect(a, ts, sink, ind + "    "))
        lines.append(f"{ind}else:")
        lines.extend(self.effect(b, ts, sink, ind + "    "))
        return lines

    def effect(self, a: Action, ts: TransitionSystem, sink: str, ind: str) -> list[str]:
        lines = [f"{ind}n = s"]
        warns = has_warn(a.body)
        if warns:
            lines.append(f"{ind}w = 0")
        inner = self.stmts(a.body, lines, ind)
        pc = ts.threads[a.thread - 1].pc_slot
        off = self.p.offsets[pc]
        lines.append(f"{inner}n ^= {(a.src ^ a.dst) << off}")  # pc: src -> dst
        lines.append(f"{inner}F[{a.id}] = 1")
        if warns and not sink.startswith("return"):
            # Here every Require has passed: only a step taken fires warnings.
            # Only expand() reports them; one action's step function (traces,
            # post-passes) does not (see explore.common.warned_slowly).
            lines.append(f"{inner}if w: R.warned({a.id}, w)")
        lines.append(f"{inner}{sink}")
        return lines


def has_warn(body: Sequence[Stmt]) -> bool:
    """Whether a body holds a `Warn` (inside an `If` too)."""
    return any(isinstance(s, Warn) or (isinstance(s, If) and (has_warn(s.then)
                                                              or has_warn(s.other)))
               for s in body)


def _where(a: Action) -> str:
    """The action's source position for a comment in the generated code, as a
    Python literal: a file name is spec-controlled text, and one holding a
    newline would otherwise end the comment and run the rest as code."""
    return repr(str(a.origin.span))


# Operators that Python groups left to right like C, emitted as `(a op b)`:
# the parentheses of a left operand of the same group can go.
_FLAT = {"+": "+", "-": "+", "&": "&", "|": "|", "^": "^", "&&": "&&", "||": "||"}


def _compile(source: str, name: str) -> CodeType:
    """Compile generated code. Python's parser refuses more than 200 nested
    parentheses (and very deep expressions): that is a spec nested too
    deeply, reported as such (RecursionError, see checker.cli), not a bug."""
    try:
        return compiled(source, name)
    except SyntaxError as e:
        if "nested parentheses" in str(e) or "too complex" in str(e):
            raise RecursionError(f"expression too deep for generated code: {e}") from None
        raise


def _lit(n: int) -> str:
    """A Python literal for `n`: masks over a state of more than ~14,000
    bits have more than 4,300 decimal digits, which Python 3.11 refuses to
    print; hexadecimal has no such limit (and is linear to print)."""
    return str(n) if -(1 << 64) < n < 1 << 64 else hex(n)


def _plus(text: str, lo: int) -> str:
    if lo == 0:
        return text
    return f"({text} + {lo})" if lo > 0 else f"({text} - {-lo})"


def compile_system(ts: TransitionSystem) -> Compiled:
    p = Packing.of(ts)
    gen = _Gen(ts, p)
    rt = Runtime(ts, p)
    src: list[str] = []
    by_pc: dict[tuple[int, int], list[Action]] = {}
    for a in ts.actions:
        by_pc.setdefault((a.thread, a.src), []).append(a)
    tables = []
    for t in ts.threads:
        n_pcs = ts.slots[t.pc_slot].hi
        entries = ["_nop"]
        for pc in range(1, n_pcs + 1):
            acts = by_pc.get((t.id, pc), [])
            if not acts:
                entries.append("_nop")
                continue
            fname = f"t{t.id}_pc{pc}"
            src.append(f"def {fname}(s, out, F=F, R=R):")
            i = 0
            while i < len(acts):
                a = acts[i]
                if i + 1 < len(acts) and acts[i + 1].guard == Unary("!", a.guard):
                    src.extend(gen.branch_pair(a, acts[i + 1], ts, "out.append(n)", "    "))
                    i += 2
                    continue
                src.extend(gen.action(a, ts, "out.append(n)", "    "))
                i += 1
            entries.append(fname)
        tables.append(f"T{t.id} = ({', '.join(entries)},)")
    step_src: list[str] = []
    for a in ts.actions:
        step_src.append(f"def act{a.id}(s):")
        step_src.extend(gen.action(a, ts, "return n", "    "))
        step_src.append("    return None")
    step_src.append(f"STEP = [{', '.join(f'act{a.id}' for a in ts.actions)}]")
    src.extend(tables)
    src.append("def expand(s):")
    src.append("    out = []")
    pcs_end = max((p.offsets[t.pc_slot] + p.widths[t.pc_slot] for t in ts.threads), default=0)
    src.append(f"    pcs = s & {(1 << pcs_end) - 1}")
    for t in ts.threads:
        off = p.offsets[t.pc_slot]
        mask = (1 << p.widths[t.pc_slot]) - 1
        src.append(f"    T{t.id}[(pcs >> {off}) & {mask}](s, out)" if off else
                   f"    T{t.id}[pcs & {mask}](s, out)")
    src.append("    return out")
    # The same, with where each thread's successors end (partial-order reduction)
    src.append("def expand_split(s):")
    src.append("    out = []")
    src.append("    ends = []")
    src.append(f"    pcs = s & {(1 << pcs_end) - 1}")
    for t in ts.threads:
        off = p.offsets[t.pc_slot]
        mask = (1 << p.widths[t.pc_slot]) - 1
        src.append(f"    T{t.id}[(pcs >> {off}) & {mask}](s, out)")
        src.append("    ends.append(len(out))")
    src.append("    return out, ends")
    for kind, props in (("invariant", ts.invariants), ("final", ts.finals)):
        if not props:
            src.append(f"{kind} = None")
            continue
        src.append(f"def {kind}(s):")
        for idx, e in props:
            src.append(f"    if not {gen.expr(e, 's')}: return {idx}")
        src.append("    return -1")
    fired = bytearray(len(ts.actions))
    source = "def _nop(s, out):\n    pass\n" + "\n".join(src) + "\n"
    env: dict[str, Any] = {"R": rt, "F": fired, **gen.consts}
    code = _compile(source, f"<migcheck:{ts.spec}:{ts.scenario}>")
    exec(code, env)
    pc_mask = 0
    thread_pc = []
    for t in ts.threads:
        off = p.offsets[t.pc_slot]
        mask = (1 << p.widths[t.pc_slot]) - 1
        pc_mask |= mask << off
        thread_pc.append((off, mask))
    step_env = {"R": rt, "F": bytearray(len(ts.actions)), **gen.consts}
    return Compiled(ts, p, rt, source, env["expand"], "\n".join(step_src) + "\n", step_env,
                    env["invariant"], env["final"], fired, pc_mask, p.pack(ts.initial),
                    thread_pc, env["expand_split"])

"""The IR's semantics as z3 formulas over bit-vector states.

A state is one z3 bit-vector term per slot, all of one width (see
`checker.symbolic.bounds`: wide enough that no value wraps, so bit-vector
arithmetic is the IR's exact integer arithmetic). Executing an action's
guard and body symbolically from a state gives:

- `ok`: the condition under which the step is taken (guard true, every
  `Require` true when reached, no fault);
- `stops`: mutually exclusive conditions under which the step faults, each
  with its fault kind and property, in the order `checker.ir.interp` would
  raise them (a check is reached only if every earlier check passed and the
  branches leading to it were taken);
- `writes`: the value of every slot the step may change, valid when `ok`.

This mirrors `checker.ir.interp` statement by statement; the agreement tests
(tests/test_bmc.py) hold the two to the same verdicts on random programs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any, Literal, assert_never

import z3

from checker.dsl.diagnostics import SpecError
from checker.ir.interp import CONST_BITS
from checker.ir.nodes import (
    Action,
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
from checker.kinds import ViolationKind
from checker.symbolic.bounds import width_for

# Ctrl-C belongs to migcheck (checker.cli interrupts the z3 context and the
# command): z3 would otherwise take SIGINT for itself during a query and
# report it as a solver timeout, the run going on.
z3.set_param("ctrl_c", False)

BLOCKED: Literal["<blocked>"] = "<blocked>"  # a Require or the guard failed: not enabled

# z3's Python API is untyped: these name what a term stands for.
Num = Any  # a numeric term: a bit-vector (Encoding) or an integer (IntEncoding)
Val = Any  # a numeric term or a z3 BoolRef
State = Sequence[Num]


def conj(*parts: z3.BoolRef) -> z3.BoolRef:
    """`And` without the trivially true parts (smaller terms, same meaning)."""
    kept = [p for p in parts if not z3.is_true(p)]
    if any(z3.is_false(p) for p in kept):
        return z3.BoolVal(False)
    if not kept:
        return z3.BoolVal(True)
    return kept[0] if len(kept) == 1 else z3.And(*kept)


def disj(parts: Sequence[z3.BoolRef]) -> z3.BoolRef:
    kept = [p for p in parts if not z3.is_false(p)]
    if any(z3.is_true(p) for p in kept):
        return z3.BoolVal(True)
    if not kept:
        return z3.BoolVal(False)
    return kept[0] if len(kept) == 1 else z3.Or(*kept)


def negate(p: z3.BoolRef) -> z3.BoolRef:
    if z3.is_true(p):
        return z3.BoolVal(False)
    if z3.is_false(p):
        return z3.BoolVal(True)
    return z3.Not(p)


@dataclass(frozen=True)
class Stop:
    """The step stops here when `cond` holds: a fault of `kind` or BLOCKED."""

    cond: z3.BoolRef
    kind: ViolationKind | Literal["<blocked>"]
    prop: int = -1


@dataclass
class Effect:
    """One action executed symbolically from one state."""

    action: Action
    ok: z3.BoolRef
    faults: list[Stop]
    writes: dict[int, Num]
    covers: list[tuple[int, z3.BoolRef]] = field(default_factory=list)

    @property
    def faulting(self) -> z3.BoolRef:
        return disj([f.cond for f in self.faults])


@dataclass(frozen=True)
class Indicator:
    """A violation that can hold in a state: `cond` over that state."""

    kind: ViolationKind
    prop: int  # index into ts.props, or -1
    cond: z3.BoolRef
    action: int | None = None  # the faulting action, for faults


class Machine:
    """Symbolic execution of statements from one state (see the module doc)."""

    def __init__(self, enc: Encoding, state: State):
        self.enc = enc
        self.base = state
        self.vals: dict[int, Num] = {}
        self.live: z3.BoolRef = z3.BoolVal(True)
        self.stops: list[Stop] = []
        self.covers: list[tuple[int, z3.BoolRef]] = []

    # ------------------------------------------------------------ helpers
    def stored(self, slot: int) -> Num:
        """The slot's term as the state holds it (see `Encoding.widen`)."""
        v = self.vals.get(slot)
        return self.base[slot] if v is None else v

    def get(self, slot: int) -> Num:
        """The slot's value, at the width of expressions."""
        return self.enc.widen(slot, self.stored(slot))

    def put(self, slot: int, value: Num, when: z3.BoolRef | None = None) -> None:
        """Store a value (already range-checked), or keep the old one unless `when`."""
        new = self.enc.narrow(slot, value)
        self.vals[slot] = new if when is None else z3.If(when, new, self.stored(slot))

    def fail(self, bad: z3.BoolRef, kind: ViolationKind | Literal["<blocked>"],
             prop: int = -1) -> None:
        """Stop with `kind` when `bad` holds here; execution goes on without it."""
        bad = z3.simplify(bad) if not z3.is_const(bad) else bad
        if z3.is_false(bad):
            return
        self.stops.append(Stop(conj(self.live, bad), kind, prop))
        self.live = conj(self.live, negate(bad))

    def num(self, v: Val) -> Num:
        if z3.is_bool(v):
            return z3.If(v, self.enc.one, self.enc.zero)
        return v

    def truth(self, v: Val) -> z3.BoolRef:
        if z3.is_bool(v):
            return v
        return v != self.enc.zero

    def branch(self, cond: z3.BoolRef, then: Callable[[], Val | None],
               other: Callable[[], Val | None]) -> tuple[Val | None, Val | None]:
        """Run `then` where `cond` holds and `other` where it does not, then
        join: stops keep their conditions, written slots become `If`s."""
        live, vals = self.live, self.vals
        self.live, self.vals = conj(live, cond), dict(vals)
        r1 = then()
        live1, vals1 = self.live, self.vals
        self.live, self.vals = conj(live, negate(cond)), dict(vals)
        r2 = other()
        live2, vals2 = self.live, self.vals
        self.live = disj([live1, live2])
        merged = dict(vals)
        for slot in set(vals1) | set(vals2):
            before = vals[slot] if slot in vals else self.base[slot]
            a: Num = vals1.get(slot, before)
            b: Num = vals2.get(slot, before)
            merged[slot] = a if a.eq(b) else z3.If(cond, a, b)
        self.vals = merged
        return r1, r2

    # ------------------------------------------------------------ locations
    def locate(self, loc: Loc) -> list[tuple[int, z3.BoolRef]]:
        """The slots `loc` may denote, each with the condition that it does,
        after the null, bounds and freed-object checks of each component."""
        enc = self.enc
        cands: list[tuple[int, z3.BoolRef]] = [(loc.base, z3.BoolVal(True))]
        for d in loc.dyn:
            v = self.num(self.expr(d.expr))
            if d.pool is not None:
                self.fail(v == enc.zero, ViolationKind.NULL_DEREF)
                self.fail(z3.Or(v < enc.const(1), v > enc.const(d.count)), ViolationKind.OUT_OF_BOUNDS)
                alive = [(d.alloc_base + i * d.stride, v == enc.const(i + 1))
                         for i in range(d.count)]
                self.fail(self.pick(alive, self.get) == enc.zero, ViolationKind.USE_AFTER_FREE)
                picks = [(i * d.stride, v == enc.const(i + 1)) for i in range(d.count)]
            else:
                self.fail(z3.Or(v < enc.zero, v >= enc.const(d.count)),
                          ViolationKind.OUT_OF_BOUNDS)
                picks = [(i * d.stride, v == enc.const(i)) for i in range(d.count)]
            cands = [(c + off, conj(cc, pc)) for c, cc in cands for off, pc in picks]
        return cands

    def pick(self, cands: Sequence[tuple[int, z3.BoolRef]], f: Callable[[int], Num]) -> Num:
        """`f(slot)` of the slot the conditions select (the last one by default)."""
        out = f(cands[-1][0])
        for slot, cond in reversed(cands[:-1]):
            out = z3.If(cond, f(slot), out)
        return out

    def read(self, loc: Loc) -> Num:
        raw = self.pick(self.locate(loc), self.get)
        if loc.bits is None:
            return raw
        shift, width, lo, _hi = loc.bits
        return self.enc.field_get(raw, shift, width) + self.enc.const(lo)

    def write(self, loc: Loc, value: Num) -> None:
        enc = self.enc
        cands = self.locate(loc)
        if loc.bits is not None:
            shift, width, lo, hi = loc.bits
            self.fail(z3.Or(value < enc.const(lo), value > enc.const(hi)), ViolationKind.RANGE)
            raw = value - enc.const(lo)

            def new(slot: int) -> Num:
                return enc.field_set(self.get(slot), shift, width, raw)
        else:
            ranges = {(enc.ts.slots[c].lo, enc.ts.slots[c].hi) for c, _ in cands}
            if len(ranges) == 1:
                lo, hi = next(iter(ranges))
                self.fail(z3.Or(value < enc.const(lo), value > enc.const(hi)), ViolationKind.RANGE)
            else:
                outside = [z3.And(cc, z3.Or(value < enc.const(enc.ts.slots[c].lo),
                                            value > enc.const(enc.ts.slots[c].hi)))
                           for c, cc in cands]
                self.fail(z3.Or(*outside), ViolationKind.RANGE)

            def new(slot: int) -> Num:
                return value
        if len(cands) == 1:
            self.put(cands[0][0], new(cands[0][0]))
            return
        for slot, cond in cands:
            self.put(slot, new(slot), cond)

    # ------------------------------------------------------------ expressions
    def expr(self, e: Expr) -> Val:
        enc = self.enc
        match e:
            case Const():
                return enc.const(e.value)
            case Read():
                return self.read(e.loc)
            case Unary():
                v = self.expr(e.operand)
                if e.op == "!":
                    return negate(self.truth(v))
                return self.enc.unary(e.op, self.num(v))
            case Binary():
                return self.binary(e)
            case Ite():
                c = self.truth(self.expr(e.cond))
                t, o = self.branch(c, lambda: self.expr(e.then), lambda: self.expr(e.other))
                assert t is not None and o is not None
                if z3.is_bool(t) and z3.is_bool(o):
                    return z3.If(c, t, o)
                return z3.If(c, self.num(t), self.num(o))
            case FieldOf():
                w = self.num(self.expr(e.word))
                return enc.field_get(w, e.shift, e.width) + enc.const(e.lo)
            case _:
                assert_never(e)

    def binary(self, e: Binary) -> Val:
        op = e.op
        a = self.expr(e.left)
        if op in ("&&", "||"):
            ca = self.truth(a)
            if op == "&&":
                r, _ = self.branch(ca, lambda: self.truth(self.expr(e.right)),
                                   lambda: z3.BoolVal(False))
                assert r is not None
                return conj(ca, self.truth(r))
            _, r = self.branch(ca, lambda: z3.BoolVal(True),
                               lambda: self.truth(self.expr(e.right)))
            assert r is not None
            return z3.Or(ca, self.truth(r))
        b = self.expr(e.right)
        if op in ("==", "!="):
            both_bool = z3.is_bool(a) and z3.is_bool(b)
            eq: z3.BoolRef = (a == b) if both_bool else (self.num(a) == self.num(b))
            return eq if op == "==" else negate(eq)
        x, y = self.num(a), self.num(b)
        if op == "<":
            return x < y
        if op == "<=":
            return x <= y
        if op == ">":
            return x > y
        if op == ">=":
            return x >= y
        if op in ("/", "%"):
            self.fail(y == self.enc.zero, ViolationKind.DIV_ZERO)
        if op in ("<<", ">>"):
            self.fail(y < self.enc.zero, ViolationKind.SHIFT)
        r = self.enc.arith(op, x, y)
        if op == "<<":
            self.fail(self.enc.shift_beyond(x, y, r), ViolationKind.RANGE)
        return r

    # ------------------------------------------------------------ statements
    def exec(self, body: Sequence[Stmt]) -> None:
        for s in body:
            match s:
                case Assign():
                    self.write(s.loc, self.num(self.expr(s.value)))
                case If():
                    c = self.truth(self.expr(s.cond))
                    self.branch(c, partial(self._run, s.then), partial(self._run, s.other))
                case Require():
                    self.fail(negate(self.truth(self.expr(s.cond))), BLOCKED)
                case Assert():
                    self.fail(negate(self.truth(self.expr(s.cond))), s.kind, s.prop)
                case AllocObj():
                    self.write(s.loc, self.alloc(s.pool))
                case FreeObj():
                    self.free(self.num(self.expr(s.ref)), s.pool)
                case StartThread():
                    self.start(s)
                case CoverHit():
                    self.covers.append((s.cover, self.live))
                case Warn():
                    # check_bmc and prove refuse such a scenario first.
                    raise AssertionError("a WARN_ON reached the z3 encoding")
                case LockEvent():
                    pass
                case _:
                    assert_never(s)

    def _run(self, body: Sequence[Stmt]) -> Val | None:
        self.exec(body)
        return None

    def _reset_object(self, base: int, stride: int, hit: z3.BoolRef, alloc_bit: int) -> None:
        enc = self.enc
        self.put(base, enc.const(alloc_bit), hit)
        for k in range(1, stride):
            slot = base + k
            self.put(slot, enc.const(enc.ts.slots[slot].default), hit)

    def alloc(self, pool: str) -> Num:
        """The lowest free object (fields reset, allocated bit set), or null."""
        enc = self.enc
        info = enc.ts.pools[pool]
        bases = [info.base + i * info.stride for i in range(info.size)]
        ref: Num = enc.zero
        for i in reversed(range(info.size)):
            ref = z3.If(self.get(bases[i]) == enc.zero, enc.const(i + 1), ref)
        for i, base in enumerate(bases):
            self._reset_object(base, info.stride, ref == enc.const(i + 1), 1)
        return ref

    def free(self, ref: Num, pool: str) -> None:
        enc = self.enc
        info = enc.ts.pools[pool]
        bases = [info.base + i * info.stride for i in range(info.size)]
        hits = [ref == enc.const(i + 1) for i in range(info.size)]
        alive = self.pick(list(zip(bases, hits, strict=True)), self.get)
        self.fail(z3.And(ref != enc.zero, alive == enc.zero), ViolationKind.DOUBLE_FREE)
        for base, hit in zip(bases, hits, strict=True):
            self._reset_object(base, info.stride, hit, 0)

    def start(self, s: StartThread) -> None:
        """Start the thread in the first instance slot whose pc is 0."""
        enc = self.enc
        args = [self.num(self.expr(a)) for a in s.args]
        earlier_free: z3.BoolRef = z3.BoolVal(False)
        for ts_slot in s.slots:
            free = self.get(ts_slot.pc_slot) == enc.zero
            chosen = conj(free, negate(earlier_free))
            for ps, v in zip(ts_slot.param_slots, args, strict=True):
                slot = enc.ts.slots[ps]
                self.fail(z3.And(chosen, z3.Or(v < enc.const(slot.lo), v > enc.const(slot.hi))),
                          ViolationKind.RANGE)
            for ps, v in zip(ts_slot.param_slots, args, strict=True):
                self.put(ps, v, chosen)
            self.put(ts_slot.pc_slot, enc.const(ts_slot.entry_pc), chosen)
            earlier_free = disj([earlier_free, free])
        self.fail(negate(earlier_free), ViolationKind.THREAD_LIMIT)

    # ------------------------------------------------------------ properties
    def check_all(self, props: Sequence[tuple[int, Expr]], kind: ViolationKind
                  ) -> list[Indicator]:
        """Evaluate properties in order, as the explicit engine does: the first
        false one is the violation; a fault while evaluating is one too."""
        for prop, e in props:
            self.fail(negate(self.truth(self.expr(e))), kind, prop)
        out = []
        for st in self.stops:
            prop = st.prop if st.kind == kind else -1
            out.append(Indicator(kind, prop, st.cond))  # a fault while evaluating: `kind` too
        return out


class Encoding:
    """The symbolic semantics of one transition system over bit-vectors of
    one width (see `checker.symbolic.bounds`): the default encoding."""

    def __init__(self, ts: TransitionSystem):
        self.ts = ts
        self.width = width_for(ts)
        self._consts: dict[int, Num] = {}
        self.zero = self.const(0)
        self.one = self.const(1)

    # ------------------------------------------------------------ numbers
    def const(self, v: int) -> Num:
        c = self._consts.get(v)
        if c is None:
            c = self._consts[v] = z3.BitVecVal(v, self.width)
        return c

    def var(self, name: str) -> Num:
        return z3.BitVec(name, self.width)

    # A state holds slot i as `value - lo` in just the bits its range needs:
    # far fewer bits for the solver than the expression width everywhere.
    def slot_bits(self, slot: int) -> int:
        s = self.ts.slots[slot]
        return max((s.hi - s.lo).bit_length(), 1)

    def widen(self, slot: int, stored: Num) -> Num:
        lo = self.ts.slots[slot].lo
        w = self.slot_bits(slot)
        v = z3.ZeroExt(self.width - w, stored) if w < self.width else stored
        return v + self.const(lo) if lo else v

    def narrow(self, slot: int, value: Num) -> Num:
        lo = self.ts.slots[slot].lo
        w = self.slot_bits(slot)
        v = value - self.const(lo) if lo else value
        return z3.Extract(w - 1, 0, v) if w < self.width else v

    def slot_const(self, slot: int, value: int) -> Num:
        s = self.ts.slots[slot]
        return z3.BitVecVal(value - s.lo, self.slot_bits(slot))

    def slot_var(self, slot: int, name: str) -> Num:
        return z3.BitVec(name, self.slot_bits(slot))

    def unary(self, op: str, x: Num) -> Num:
        return -x if op == "-" else ~x

    def arith(self, op: str, x: Num, y: Num) -> Num:
        """An arithmetic or bitwise operator with the IR's meaning (no value
        wraps at this width, so two's complement is exact)."""
        if op == "/":
            return x / y  # bvsdiv truncates toward zero, as C does
        if op == "%":
            return z3.SRem(x, y)  # the sign of the dividend, as C
        if op == ">>":
            return x >> y  # arithmetic shift: Python's >> on negative values
        return _PY_OPS[op](x, y)

    def shift_beyond(self, x: Num, y: Num, r: Num) -> z3.BoolRef:
        """`r = x << y` (y >= 0) reaches 2^CONST_BITS in magnitude: the range
        fault of `checker.ir.interp.c_shift`. The width holds `x << y` for
        every y up to CONST_BITS (`checker.symbolic.bounds`); narrower than
        CONST_BITS + 2 bits, no left shift of the system can reach it."""
        if self.width < CONST_BITS + 2:
            return z3.BoolVal(False)
        limit = self.const(1 << CONST_BITS)
        return z3.And(x != self.zero, z3.Or(y > self.const(CONST_BITS), r >= limit, r <= -limit))

    def field_get(self, x: Num, shift: int, width: int) -> Num:
        """The raw bits `width` at `shift` of a word (as `(x >> shift) & mask`)."""
        if shift + width < self.width:
            bits = z3.Extract(shift + width - 1, shift, x)
            return z3.ZeroExt(self.width - width, bits)
        return (x >> shift) & self.const((1 << width) - 1)

    def field_set(self, x: Num, shift: int, width: int, raw: Num) -> Num:
        mask = ((1 << width) - 1) << shift
        return (x & self.const(~mask)) | (raw << self.const(shift))

    def choice_var(self, tag: str) -> z3.ExprRef:
        """Which action a step takes: its id, or len(actions) for idle."""
        bits = max(len(self.ts.actions).bit_length(), 1)
        return z3.BitVec(tag, bits)

    def choice_is(self, choice: z3.ExprRef, action: int) -> z3.BoolRef:
        return choice == z3.BitVecVal(action, choice.size())

    def choice_valid(self, choice: z3.ExprRef) -> z3.BoolRef:
        """An action, or len(actions): the idle step of a run that has ended."""
        n = z3.BitVecVal(len(self.ts.actions), choice.size())
        return z3.ULE(choice, n)

    # ------------------------------------------------------------ states
    def initial(self) -> list[Num]:
        return [self.slot_const(i, v) for i, v in enumerate(self.ts.initial)]

    def fresh(self, tag: str) -> list[Num]:
        return [self.slot_var(s.index, f"{tag}.{s.index}") for s in self.ts.slots]

    def in_domain(self, state: State) -> z3.BoolRef:
        """Every slot within its range (true of every reachable state)."""
        parts = []
        for s, v in zip(self.ts.slots, state, strict=True):
            w = self.widen(s.index, v)
            parts.append(z3.And(w >= self.const(s.lo), w <= self.const(s.hi)))
        return conj(*parts)

    @cached_property
    def pc_slots(self) -> list[int]:
        return [t.pc_slot for t in self.ts.threads]

    # ------------------------------------------------------------ steps
    def effect(self, a: Action, state: State) -> Effect:
        m = Machine(self, state)
        m.fail(negate(m.truth(m.expr(a.guard))), BLOCKED)
        m.exec(a.body)
        pc = self.ts.threads[a.thread - 1].pc_slot
        m.put(pc, self.const(a.dst))
        faults = [s for s in m.stops if s.kind != BLOCKED]
        return Effect(a, m.live, faults, m.vals, m.covers)

    def at(self, a: Action, state: State) -> z3.BoolRef:
        """The action's thread stands at the action's source pc."""
        pc = self.ts.threads[a.thread - 1].pc_slot
        return state[pc] == self.slot_const(pc, a.src)

    def effects(self, state: State) -> list[Effect]:
        return [self.effect(a, state) for a in self.ts.actions]

    def indicators(self, state: State, effects: Sequence[Effect]) -> list[Indicator]:
        """Every way `state` can be a violation, as the explicit engine sees it:
        a step that faults, a deadlock, a false final property once every
        thread finished, a false invariant."""
        ts = self.ts
        out: list[Indicator] = []
        for ef in effects:
            here = self.at(ef.action, state)
            for st in ef.faults:
                assert isinstance(st.kind, ViolationKind), "blocks are not faults"
                out.append(Indicator(st.kind, st.prop, conj(here, st.cond), ef.action.id))
        moves = [conj(self.at(ef.action, state), disj([ef.ok, ef.faulting])) for ef in effects]
        stuck = negate(disj(moves))
        running = disj([state[p] != self.slot_const(p, 0) for p in self.pc_slots])
        out.append(Indicator(ViolationKind.DEADLOCK, -1, conj(running, stuck)))
        if ts.finals:
            m = Machine(self, state)
            for ind in m.check_all(ts.finals, ViolationKind.FINAL):
                out.append(Indicator(ViolationKind.FINAL, ind.prop, conj(stuck, negate(running), ind.cond)))
        if ts.invariants:
            m = Machine(self, state)
            out.extend(m.check_all(ts.invariants, ViolationKind.INVARIANT))
        return out

    def can_move(self, state: State, effects: Sequence[Effect]) -> z3.BoolRef:
        return disj([conj(self.at(ef.action, state), ef.ok) for ef in effects])

    def transition(self, state: State, nxt: State, choice: z3.ExprRef,
                   effects: Sequence[Effect]) -> list[z3.BoolRef]:
        """Constraints: `nxt` follows `state` by the action numbered `choice`,
        which stands at its pc and neither blocks nor faults; every slot the
        action does not write keeps its value (frame). The idle choice keeps
        the state of a run that has ended (no action can be taken): a run of
        k steps then stands for every run of at most k."""
        out: list[z3.BoolRef] = [self.choice_valid(choice)]
        idle = self.choice_is(choice, len(effects))
        out.append(z3.Implies(idle, negate(self.can_move(state, effects))))
        writers: dict[int, list[tuple[z3.BoolRef, Num]]] = {}
        for ef in effects:
            sel = self.choice_is(choice, ef.action.id)
            out.append(z3.Implies(sel, conj(self.at(ef.action, state), ef.ok)))
            for slot, v in ef.writes.items():
                writers.setdefault(slot, []).append((sel, v))
        for i, cur in enumerate(state):
            val: Num = cur
            for sel, v in reversed(writers.get(i, [])):
                if not v.eq(cur):
                    val = z3.If(sel, v, val)
            out.append(nxt[i] == val)
        return out

    @cached_property
    def template(self) -> Template:
        """Every formula of one step, built once over generic states: each
        depth of an unrolling is a substitution of these (done inside z3)."""
        x, y = self.fresh("x"), self.fresh("y")
        c = self.choice_var("c")
        effects = self.effects(x)
        covers = []
        for ef in effects:
            sel = self.choice_is(c, ef.action.id)
            for cover, cond in ef.covers:
                covers.append((cover, conj(sel, cond)))
        return Template(x, y, c, conj(*self.transition(x, y, c, effects)),
                        self.indicators(x, effects), self.can_move(x, effects), covers)


@dataclass
class Template:
    """One step's formulas over the generic state `x`, next state `y` and
    choice `c` (see `Encoding.template`)."""

    x: list[Num]
    y: list[Num]
    c: z3.ExprRef
    trans: z3.BoolRef
    indicators: list[Indicator]
    can_move: z3.BoolRef
    covers: list[tuple[int, z3.BoolRef]]  # (cover, reached in this step when the choice holds)

    def at(self, term: z3.BoolRef, state: State, nxt: State | None = None,
           choice: z3.ExprRef | None = None) -> z3.BoolRef:
        """`term` with the generic states and choice replaced by these."""
        src: list[z3.ExprRef] = list(self.x)
        dst: list[z3.ExprRef] = list(state)
        if nxt is not None:
            src.extend(self.y)
            dst.extend(nxt)
        if choice is not None:
            src.append(self.c)
            dst.append(choice)
        return substitute(term, src, dst)


def substitute(term: z3.BoolRef, src: Sequence[z3.ExprRef],
               dst: Sequence[z3.ExprRef]) -> z3.BoolRef:
    """`z3.substitute` without its per-pair checks in Python (the sorts match
    by construction), which dominate the cost of unrolling otherwise."""
    n = len(src)
    a = (z3.Ast * n)()
    b = (z3.Ast * n)()
    for i in range(n):
        a[i] = src[i].as_ast()
        b[i] = dst[i].as_ast()
    ctx = term.ctx
    out = z3.Z3_substitute(ctx.ref(), term.as_ast(), n, a, b)
    return z3.BoolRef(out, ctx)


_PY_OPS: dict[str, Callable[[Num, Num], Num]] = {
    "+": lambda x, y: x + y,
    "-": lambda x, y: x - y,
    "*": lambda x, y: x * y,
    "<<": lambda x, y: x << y,
    "&": lambda x, y: x & y,
    "|": lambda x, y: x | y,
    "^": lambda x, y: x ^ y,
}


class IntEncoding(Encoding):
    """The same semantics over mathematical integers (linear arithmetic where
    the IR is linear): what z3's Horn-clause engine handles best. Bitwise
    operators and shifts by a variable amount go through bit-vectors of the
    same width as the default encoding, which is exact for the same reason."""

    def const(self, v: int) -> Num:
        c = self._consts.get(v)
        if c is None:
            c = self._consts[v] = z3.IntVal(v)
        return c

    def var(self, name: str) -> Num:
        return z3.Int(name)

    def widen(self, slot: int, stored: Num) -> Num:
        return stored

    def narrow(self, slot: int, value: Num) -> Num:
        return value

    def slot_const(self, slot: int, value: int) -> Num:
        return self.const(value)

    def slot_var(self, slot: int, name: str) -> Num:
        return z3.Int(name)

    def unary(self, op: str, x: Num) -> Num:
        return -x if op == "-" else -x - 1

    def arith(self, op: str, x: Num, y: Num) -> Num:
        if op in ("+", "-", "*"):
            return _PY_OPS[op](x, y)
        if op in ("/", "%"):
            # C truncates toward zero; z3's integer div is Euclidean.
            q = z3.If(x >= 0, z3.If(y > 0, x / y, -(x / -y)),
                      z3.If(y > 0, -((-x) / y), (-x) / -y))
            return q if op == "/" else x - q * y
        if z3.is_int_value(y) and op in ("<<", ">>"):
            k = y.as_long()
            if 0 <= k <= CONST_BITS:
                # floor division by a positive constant is z3's integer div
                return x * (1 << k) if op == "<<" else x / (1 << k)
        bx, by = z3.Int2BV(x, self.width), z3.Int2BV(y, self.width)
        r = bx >> by if op == ">>" else _PY_OPS[op](bx, by)
        return z3.BV2Int(r, is_signed=True)

    def field_get(self, x: Num, shift: int, width: int) -> Num:
        return (x / (1 << shift)) % (1 << width)

    def field_set(self, x: Num, shift: int, width: int, raw: Num) -> Num:
        return x - self.field_get(x, shift, width) * (1 << shift) + raw * (1 << shift)

    def choice_var(self, tag: str) -> z3.ExprRef:
        return z3.Int(tag)

    def choice_is(self, choice: z3.ExprRef, action: int) -> z3.BoolRef:
        return choice == action

    def choice_valid(self, choice: z3.ExprRef) -> z3.BoolRef:
        return z3.And(choice >= 0, choice <= len(self.ts.actions))


def refuse_warnings(ts: TransitionSystem, engine: str) -> None:
    """The z3 engines encode no warnings: a `WARN_ON` is an event that
    `check` reports with its trace and that makes an unexpected one a
    failure, and BMC or a proof that ignored it would say "verified" where
    the explicit search fails. Such a scenario is refused (exit 2)."""
    sites = ts.warnings
    if sites:
        raise SpecError.at(sites[0].span, f"{engine} cannot check WARN_ON(): scenario "
                                          f"{ts.scenario} has {len(sites)} warning site(s); "
                                          "check it with the explicit engine (the default)")

"""The reference semantics of the IR: a direct interpreter over a list state.

Slow and plain on purpose. It runs init blocks at build time, replays traces,
and is the oracle that the generated explicit-state code is tested against.
An optional `StepObserver` watches its accesses and lock events (the lock
recorder runs on these hooks rather than on a copy of the interpreter).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, assert_never

from checker.dsl.parser import CONST_BITS as CONST_BITS  # the engines take it from here
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
    PoolInfo,
    Prop,
    Read,
    Require,
    Slot,
    StartThread,
    Stmt,
    TransitionSystem,
    Unary,
    Warn,
)
from checker.kinds import Check, ViolationKind, property_fault_message


class Fault(Exception):
    """A violation raised while executing a step."""

    def __init__(self, kind: ViolationKind, message: str, prop: int = -1):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.prop = prop
        self.at = -1  # the statement of the step's body that raised it (-1: the guard)

    @classmethod
    def of(cls, check: Check, prop: int = -1, **values: object) -> Fault:
        """The fault of a failed check, worded by the table in checker.kinds."""
        return cls(check.rule.kind, check.message(**values), prop)

    def reported(self, ts: TransitionSystem, action: Action) -> tuple[str, Prop | None]:
        """The message a run reports for this fault of `action`, and the
        property it broke: one wording for every engine and back end."""
        prop = ts.props[self.prop] if self.prop >= 0 else None
        if prop is None:
            return self.message, None
        label = ts.threads[action.thread - 1].label
        named = property_fault_message(self.kind, prop.name, label)
        return (self.message if named is None else named), prop


class Blocked(Exception):
    """A `Require` was false: the step is not enabled after all."""


class StepObserver(Protocol):
    """What a step does, told as the interpreter does it; `index` is the slot
    a location resolved to in the current state."""

    def on_read(self, index: int, loc: Loc) -> None: ...

    def on_write(self, index: int, loc: Loc) -> None: ...

    def on_lock_event(self, ev: LockEvent, st: Sequence[int]) -> None: ...

    def assumes(self, cond: Expr) -> bool:
        """Whether a guard or `Require` condition is taken as true without
        evaluating it (the lock recorder's attempt mode)."""
        ...

    def skips_asserts(self) -> bool: ...


def c_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def c_mod(a: int, b: int) -> int:
    return a - c_div(a, b) * b


def c_shift(op: str, a: int, b: int) -> int:
    """`a << b` or `a >> b` on exact integers, as every engine computes it.

    A negative count is undefined in C: a `shift` fault. Any count >= 0 is
    allowed (values have no machine width; the store's range check judges
    the result), `>>` rounds toward minus infinity (C's arithmetic shift of a
    negative value), and a left shift whose result would reach 2^CONST_BITS in
    magnitude, which no range can hold, is a `range` fault raised before the
    result is built, so that `1 << c` with a wide `c` cannot allocate gigabytes.
    """
    if b < 0:
        raise Fault.of(Check.SHIFT_COUNT, count=b)
    if op == ">>":
        return a >> b
    if a and a.bit_length() + b > CONST_BITS:
        raise Fault.of(Check.SHIFT_RANGE, count=b, limit=CONST_BITS)
    return a << b


@dataclass
class Interp:
    slots: Sequence[Slot]
    pools: dict[str, PoolInfo]
    observer: StepObserver | None = None

    def __post_init__(self) -> None:
        self.covered: set[int] = set()
        # The warnings (prop indices) the last `step` fired, in order; only a
        # step taken fires them (see nodes.Warn).
        self.warned: list[int] = []
        self._firing: list[int] = []

    # ------------------------------------------------------------ locations
    def slot_of(self, loc: Loc, st: Sequence[int], verb: str) -> int:
        index = loc.base
        for d in loc.dyn:
            v = self.eval(d.expr, st)
            if d.pool is not None:
                if v == 0:
                    raise Fault.of(Check.NULL_REF, verb=verb, pool=d.pool)
                if not 1 <= v <= d.count:
                    raise Fault.of(Check.REF_BOUNDS, verb=verb, pool=d.pool, value=v)
                if not st[d.alloc_base + (v - 1) * d.stride]:
                    name = self.slots[d.alloc_base + (v - 1) * d.stride].name
                    raise Fault.of(Check.FREED, verb=verb, object=name)
                index += (v - 1) * d.stride
            else:
                if not 0 <= v < d.count:
                    raise Fault.of(Check.INDEX, verb=verb, value=v, last=d.count - 1)
                index += v * d.stride
        return index

    def read(self, loc: Loc, st: Sequence[int]) -> int:
        index = self.slot_of(loc, st, "read")
        if self.observer is not None:
            self.observer.on_read(index, loc)
        raw = st[index]
        if loc.bits is None:
            return raw
        shift, width, lo, _hi = loc.bits
        return ((raw >> shift) & ((1 << width) - 1)) + lo

    def write(self, loc: Loc, value: int, st: list[int]) -> None:
        index = self.slot_of(loc, st, "write")
        slot = self.slots[index]
        if loc.bits is None:
            if not slot.lo <= value <= slot.hi:
                raise Fault.of(Check.STORE_RANGE, target=slot.name, value=value, lo=slot.lo,
                               hi=slot.hi)
            st[index] = value
            if self.observer is not None:
                self.observer.on_write(index, loc)
            return
        shift, width, lo, hi = loc.bits
        if not lo <= value <= hi:
            raise Fault.of(Check.WORD_FIELD_RANGE, target=slot.name, value=value, lo=lo, hi=hi)
        mask = ((1 << width) - 1) << shift
        st[index] = (st[index] & ~mask) | ((value - lo) << shift)
        if self.observer is not None:
            self.observer.on_write(index, loc)

    # ------------------------------------------------------------ expressions
    def eval(self, e: Expr, st: Sequence[int]) -> int:
        match e:
            case Const():
                return e.value
            case Read():
                return self.read(e.loc, st)
            case Unary():
                v = self.eval(e.operand, st)
                if e.op == "!":
                    return int(not v)
                return -v if e.op == "-" else ~v
            case Binary():
                op = e.op
                a = self.eval(e.left, st)
                if op == "&&":
                    return int(bool(a) and bool(self.eval(e.right, st)))
                if op == "||":
                    return int(bool(a) or bool(self.eval(e.right, st)))
                b = self.eval(e.right, st)
                if op in ("/", "%"):
                    if b == 0:
                        raise Fault.of(Check.DIVISOR)
                    return c_div(a, b) if op == "/" else c_mod(a, b)
                if op in ("<<", ">>"):
                    return c_shift(op, a, b)
                return int(_BINOPS[op](a, b))
            case Ite():
                return self.eval(e.then if self.eval(e.cond, st) else e.other, st)
            case FieldOf():
                w = self.eval(e.word, st)
                return ((w >> e.shift) & ((1 << e.width) - 1)) + e.lo
            case _:
                assert_never(e)

    # ------------------------------------------------------------ statements
    def exec(self, body: Sequence[Stmt], st: list[int]) -> None:
        for s in body:
            match s:
                case Assign():
                    self.write(s.loc, self.eval(s.value, st), st)
                case If():
                    self.exec(s.then if self.eval(s.cond, st) else s.other, st)
                case Require():
                    if not self.holds(s.cond, st):
                        raise Blocked()
                case Assert():
                    if self.observer is not None and self.observer.skips_asserts():
                        continue
                    if not self.eval(s.cond, st):
                        raise Fault(s.kind, Check.ASSERTION.message(), s.prop)
                case AllocObj():
                    self.write(s.loc, self.alloc(s.pool, st), st)
                case FreeObj():
                    self.free(self.eval(s.ref, st), s.pool, st)
                case StartThread():
                    self.start(s, st)
                case CoverHit():
                    self.covered.add(s.cover)
                case Warn():
                    if self.eval(s.cond, st):
                        self._firing.append(s.prop)
                case LockEvent():
                    if self.observer is not None:
                        self.observer.on_lock_event(s, st)
                case _:
                    assert_never(s)

    def alloc(self, pool: str, st: list[int]) -> int:
        info = self.pools[pool]
        for i in range(info.size):
            base = info.base + i * info.stride
            if not st[base]:
                st[base] = 1
                for k in range(1, info.stride):
                    st[base + k] = self.slots[base + k].default
                if self.observer is not None:
                    self.observer.on_write(base, Loc(base))
                return i + 1
        return 0

    def free(self, ref: int, pool: str, st: list[int]) -> None:
        if ref == 0:
            return
        info = self.pools[pool]
        base = info.base + (ref - 1) * info.stride
        if not st[base]:
            raise Fault.of(Check.DOUBLE_FREE, object=self.slots[base].name)
        st[base] = 0
        for k in range(1, info.stride):
            st[base + k] = self.slots[base + k].default
        if self.observer is not None:
            self.observer.on_write(base, Loc(base))

    def start(self, s: StartThread, st: list[int]) -> None:
        args = [self.eval(a, st) for a in s.args]
        for ts in s.slots:
            if st[ts.pc_slot] == 0:
                for ps, v in zip(ts.param_slots, args, strict=True):
                    self.write(Loc(ps), v, st)
                st[ts.pc_slot] = ts.entry_pc
                return
        raise Fault.of(Check.THREAD_SLOT, thread=s.kind, count=len(s.slots))

    # ------------------------------------------------------------ steps
    def holds(self, cond: Expr, st: Sequence[int]) -> bool:
        """A guard's or `Require`'s condition (an observer may assume it)."""
        if self.observer is not None and self.observer.assumes(cond):
            return True
        return bool(self.eval(cond, st))

    def enabled(self, a: Action, st: Sequence[int]) -> bool:
        return self.holds(a.guard, st)

    def step(self, a: Action, st: Sequence[int], pc_slot: int | None) -> list[int] | None:
        """The state after `a`, None if it is not enabled; faults propagate."""
        self.warned = []
        if not self.holds(a.guard, st):
            return None
        new = list(st)
        self._firing = []
        try:
            for i, s in enumerate(a.body):
                try:
                    self.exec((s,), new)
                except Fault as f:
                    f.at = i  # see Action.origin_at
                    raise
        except Blocked:
            return None
        if pc_slot is not None:
            new[pc_slot] = a.dst
        self.warned = self._firing
        return new


_BINOPS: dict[str, Callable[[int, int], int]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "&": lambda a, b: a & b,
    "|": lambda a, b: a | b,
    "^": lambda a, b: a ^ b,
    "==": lambda a, b: int(a == b),
    "!=": lambda a, b: int(a != b),
    "<": lambda a, b: int(a < b),
    "<=": lambda a, b: int(a <= b),
    ">": lambda a, b: int(a > b),
    ">=": lambda a, b: int(a >= b),
}

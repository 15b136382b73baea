"""How many bits the symbolic engines need so that no value ever wraps.

The IR computes with exact integers; the z3 encoding computes with signed
bit-vectors of one width. If every value that any expression, store or check
can produce fits in that width, the two agree exactly. This module finds
that width by interval analysis over the whole transition system: a slot
read lies in the slot's range (the engines constrain every state to the
slots' ranges), and each operator maps the intervals of its operands to an
interval that contains every result.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import assert_never

from checker.ir.interp import CONST_BITS
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
    Slot,
    StartThread,
    Stmt,
    TransitionSystem,
    Unary,
    Warn,
)

Interval = tuple[int, int]

_COMPARE = ("==", "!=", "<", "<=", ">", ">=", "&&", "||")


def signed_bits(v: int) -> int:
    """Bits of the two's complement representation of `v`, sign bit included."""
    return (v.bit_length() if v >= 0 else (-v - 1).bit_length()) + 1


def _span_bits(iv: Interval) -> int:
    return max(signed_bits(iv[0]), signed_bits(iv[1]))


class Bounds:
    """Interval analysis over one transition system's expressions."""

    def __init__(self, slots: list[Slot]):
        self.slots = slots
        self.widest = 2  # bits needed so far

    def note(self, iv: Interval) -> Interval:
        self.widest = max(self.widest, _span_bits(iv))
        return iv

    def loc(self, loc: Loc) -> Interval:
        for d in loc.dyn:
            self.expr(d.expr)
        slot = self.slots[loc.base]
        if loc.bits is not None:
            _shift, _width, lo, hi = loc.bits
            self.note((slot.lo, slot.hi))
            return self.note((lo, hi))
        # Every element of an array or pool has the same type: the base slot's
        # range is the range of all of them; take the union to be safe.
        lo, hi = slot.lo, slot.hi
        for other in _candidates(loc, self.slots):
            lo, hi = min(lo, other.lo), max(hi, other.hi)
        return self.note((lo, hi))

    def expr(self, e: Expr) -> Interval:
        return self.note(self._expr(e))

    def _expr(self, e: Expr) -> Interval:
        match e:
            case Const():
                return (e.value, e.value)
            case Read():
                return self.loc(e.loc)
            case Unary():
                lo, hi = self.expr(e.operand)
                if e.op == "!":
                    return (0, 1)
                if e.op == "-":
                    return (-hi, -lo)
                return (-hi - 1, -lo - 1)
            case Binary():
                a = self.expr(e.left)
                b = self.expr(e.right)
                if e.op in _COMPARE:
                    return (0, 1)
                if e.op == "<<":  # the value built, then what a step goes on with
                    lo, hi = self.note(_binary(e.op, a, b))
                    limit = (1 << CONST_BITS) - 1
                    return (max(lo, -limit), min(hi, limit))
                return _binary(e.op, a, b)
            case Ite():
                self.expr(e.cond)
                t = self.expr(e.then)
                o = self.expr(e.other)
                return (min(t[0], o[0]), max(t[1], o[1]))
            case FieldOf():
                self.expr(e.word)
                return (e.lo, e.lo + (1 << e.width) - 1)
            case _:
                assert_never(e)

    def stmts(self, body: Iterable[Stmt]) -> None:
        for s in body:
            match s:
                case Assign():
                    self.expr(s.value)
                    self.loc(s.loc)
                case If():
                    self.expr(s.cond)
                    self.stmts(s.then)
                    self.stmts(s.other)
                case Require() | Assert() | Warn():
                    self.expr(s.cond)
                case AllocObj():
                    self.loc(s.loc)
                case FreeObj():
                    self.expr(s.ref)
                case StartThread():
                    for a in s.args:
                        self.expr(a)
                case CoverHit() | LockEvent():
                    pass
                case _:
                    assert_never(s)


def _binary(op: str, a: Interval, b: Interval) -> Interval:
    (alo, ahi), (blo, bhi) = a, b
    if op == "+":
        return (alo + blo, ahi + bhi)
    if op == "-":
        return (alo - bhi, ahi - blo)
    if op == "*":
        corners = [alo * blo, alo * bhi, ahi * blo, ahi * bhi]
        return (min(corners), max(corners))
    if op in ("/", "%"):
        m = max(abs(alo), abs(ahi))
        if op == "%" and not blo <= 0 <= bhi:  # C: |a % b| < |b|, with a's sign
            m = min(m, max(abs(blo), abs(bhi)) - 1)  # (b = 0 faults; z3 then gives a)
        return (-m if alo < 0 else 0, m if ahi > 0 else 0)
    if op == "<<":
        # A count beyond CONST_BITS (of a non-zero value) is a range fault
        # before anything is built (`checker.ir.interp.c_shift`): the width
        # need only hold the shifts by at most CONST_BITS.
        top = min(max(bhi, 0), CONST_BITS)
        corners = [alo << top, ahi << top, alo, ahi]
        return (min(corners), max(corners))
    if op == ">>":
        return (min(alo, 0), max(ahi, 0))
    if op == "&" and alo >= 0 and blo >= 0:
        return (0, min(ahi, bhi))
    if op == "&" and (alo >= 0 or blo >= 0):  # masked by a non-negative operand
        return (0, ahi if alo >= 0 else bhi)
    if op in ("&", "|", "^"):
        if alo >= 0 and blo >= 0:
            return (0, (1 << max(ahi.bit_length(), bhi.bit_length())) - 1)
        k = max(_span_bits(a), _span_bits(b))
        return (-(1 << (k - 1)), (1 << (k - 1)) - 1)
    raise AssertionError(op)


def _candidates(loc: Loc, slots: list[Slot]) -> Iterator[Slot]:
    """Every slot a location with dynamic components can denote."""
    offsets = [0]
    for d in loc.dyn:
        steps = [i * d.stride for i in range(d.count)]
        offsets = [o + s for o in offsets for s in steps]
    for o in offsets:
        if 0 <= loc.base + o < len(slots):
            yield slots[loc.base + o]


def width_for(ts: TransitionSystem) -> int:
    """The bit-vector width that holds every value of `ts` without wrapping."""
    b = Bounds(ts.slots)
    for s in ts.slots:
        b.note((s.lo, s.hi))
        b.note((s.default, s.default))
    for a in ts.actions:
        b.expr(a.guard)
        b.stmts(a.body)
        b.note((a.dst, a.dst))
    for _prop, e in [*ts.invariants, *ts.finals]:
        b.expr(e)
    for pool in ts.pools.values():
        b.note((0, pool.size + 1))
    return b.widest + 1

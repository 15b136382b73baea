"""Pre-state conditions of a step's outcomes, by symbolic execution.

A step (guard, then body) run from a state either blocks (the guard or a
`Require` is false when reached), faults at one particular check (a null
dereference, a store out of range, a failed `Assert`, ...), or completes.
Back ends that cannot abort a step half way (SPIN's `d_step` may only block
at its first statement) need these outcomes as conditions over the state
*before* the step. This module computes them by substitution (the weakest
precondition of the body), forking at each `If`:

- every store is recorded as a conditional update of one slot (or of a bit
  field of it); a later read of a slot that an update may have written
  becomes `cond && addr == written_addr ? new : old`;
- every check that the interpreter makes is listed in its order
  (`Symbolic.statement`), each with an `ok` expression that holds when the
  check passes, assuming the earlier checks passed (a condition after `&&`
  is only checked where the left side held, as C evaluates it);
- the result of `step_outcomes` is then, per check, the condition that it is
  the *first* to fail, and the condition that the step blocks.

Every returned expression is an IR `Expr` that evaluates without faulting in
any state (reads through references only behind the checks that make them
safe), so it can be evaluated by `checker.ir.interp` (the tests do, against
`Interp.step`) and rendered by any back end. Checks are identified by
`CheckId`: the path of the statement in the body (`GUARD` for the guard)
and the check's index among that statement's checks.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, assert_never

from checker.dsl.parser import CONST_BITS
from checker.ir.nodes import (
    FALSE,
    TRUE,
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
    PoolInfo,
    Read,
    Require,
    Slot,
    StartThread,
    Stmt,
    Unary,
    Warn,
)
from checker.kinds import Check as Rule
from checker.kinds import ViolationKind

GUARD: tuple[int, ...] = (-1,)

CheckId = tuple[tuple[int, ...], int]

# ---------------------------------------------------------------- expression helpers


_FLIP = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}


def neg(e: Expr) -> Expr:
    """The negation of a condition, pushed through `&&`, `||` and comparisons
    (which keeps C's order of evaluation, so it faults where `!e` would)."""
    if isinstance(e, Const):
        return FALSE if e.value else TRUE
    if isinstance(e, Unary) and e.op == "!" and _is_bool(e.operand):
        return e.operand
    if isinstance(e, Binary):
        if e.op in _FLIP:
            return Binary(_FLIP[e.op], e.left, e.right)
        if e.op == "&&":
            return disj(neg(e.left), neg(e.right))
        if e.op == "||":
            return conj(neg(e.left), neg(e.right))
    return Unary("!", e)


def conj(*parts: Expr) -> Expr:
    out: Expr = TRUE
    for p in parts:
        if isinstance(p, Const):
            if not p.value:
                return FALSE
            continue
        out = p if out == TRUE else Binary("&&", out, p)
    return out


def disj(*parts: Expr) -> Expr:
    out: Expr = FALSE
    for p in parts:
        if isinstance(p, Const):
            if p.value:
                return TRUE
            continue
        out = p if out == FALSE else Binary("||", out, p)
    return out


def eq(a: Expr, b: Expr) -> Expr:
    if isinstance(a, Const) and isinstance(b, Const):
        return TRUE if a.value == b.value else FALSE
    return Binary("==", a, b)


def ite(c: Expr, a: Expr, b: Expr) -> Expr:
    if isinstance(c, Const):
        return a if c.value else b
    if a == b:
        return a
    return Ite(c, a, b)


def plus(a: Expr, k: int) -> Expr:
    if k == 0:
        return a
    if isinstance(a, Const):
        return Const(a.value + k)
    return Binary("+", a, Const(k)) if k > 0 else Binary("-", a, Const(-k))


def times(a: Expr, k: int) -> Expr:
    if k == 1:
        return a
    if isinstance(a, Const):
        return Const(a.value * k)
    return Binary("*", a, Const(k))


def add(a: Expr, b: Expr) -> Expr:
    if isinstance(b, Const):
        return plus(a, b.value)
    if isinstance(a, Const):
        return plus(b, a.value)
    return Binary("+", a, b)


def in_range(v: Expr, lo: int, hi: int) -> Expr:
    if isinstance(v, Const):
        return TRUE if lo <= v.value <= hi else FALSE
    return Binary("&&", Binary(">=", v, Const(lo)), Binary("<=", v, Const(hi)))


_FOLD: dict[str, Callable[[int, int], int | None]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "&": lambda a, b: a & b, "|": lambda a, b: a | b, "^": lambda a, b: a ^ b,
    "<<": lambda a, b: a << b if 0 <= b < 64 else None,
    ">>": lambda a, b: a >> b if 0 <= b < 64 else None,
    "==": lambda a, b: int(a == b), "!=": lambda a, b: int(a != b),
    "<": lambda a, b: int(a < b), "<=": lambda a, b: int(a <= b),
    ">": lambda a, b: int(a > b), ">=": lambda a, b: int(a >= b),
}


def shift_may_overflow(value: tuple[int, int], count: tuple[int, int]) -> bool:
    """Whether a left shift of a value in `value` by a count in `count` may
    reach 2^CONST_BITS in magnitude (a `range` fault of `c_shift`)."""
    widest = max(value[0].bit_length(), value[1].bit_length())
    return widest > 0 and widest + count[1] > CONST_BITS


def simplify(e: Expr) -> Expr:
    """`e` with constant parts folded; same value and same faults wherever
    `e` evaluates without faulting (only constant sub-expressions go)."""
    if isinstance(e, Unary):
        v = simplify(e.operand)
        if isinstance(v, Const):
            return Const(int(not v.value) if e.op == "!" else -v.value if e.op == "-"
                         else ~v.value)
        return neg(v) if e.op == "!" else Unary(e.op, v)
    if isinstance(e, Binary):
        a = simplify(e.left)
        b = simplify(e.right)
        if e.op == "&&":
            if isinstance(a, Const):
                return _truth(b) if a.value else FALSE
            if isinstance(b, Const) and b.value:
                return _truth(a)
            return Binary("&&", a, b)
        if e.op == "||":
            if isinstance(a, Const):
                return TRUE if a.value else _truth(b)
            if isinstance(b, Const) and not b.value:
                return _truth(a)
            return Binary("||", a, b)
        if isinstance(a, Const) and isinstance(b, Const) and e.op in _FOLD:
            r = _FOLD[e.op](a.value, b.value)
            if r is not None:
                return Const(r)
        return Binary(e.op, a, b)
    if isinstance(e, Ite):
        c = simplify(e.cond)
        if isinstance(c, Const):
            return simplify(e.then if c.value else e.other)
        return ite(c, simplify(e.then), simplify(e.other))
    if isinstance(e, FieldOf):
        w = simplify(e.word)
        if isinstance(w, Const):
            return Const(((w.value >> e.shift) & ((1 << e.width) - 1)) + e.lo)
        return FieldOf(w, e.shift, e.width, e.lo)
    return e


def _truth(e: Expr) -> Expr:
    """`e` as a truth value 0/1 (what `&&` and `||` give)."""
    if isinstance(e, Const):
        return TRUE if e.value else FALSE
    if _is_bool(e):
        return e
    return Binary("!=", e, Const(0))


def _is_bool(e: Expr) -> bool:
    if isinstance(e, Binary):
        return e.op in ("&&", "||", "==", "!=", "<", "<=", ">", ">=")
    return isinstance(e, Unary) and e.op == "!"


# ---------------------------------------------------------------- checks and updates


@dataclass(frozen=True)
class Check:
    """One check the interpreter makes; `ok` holds when it passes."""

    # A rule's kind (checker.kinds), an Assert's (assert, on_exit), or
    # "internal": a back end's check of its own consistency, never the program's.
    kind: ViolationKind | Literal["internal"]
    message: str
    ok: Expr
    prop: int = -1

    def guarded(self, cond: Expr) -> Check:
        """This check, made only where `cond` holds."""
        return Check(self.kind, self.message, disj(neg(cond), self.ok), self.prop)


# What a message says of a value the conditions do not know (they are
# symbolic): the table's wording, with this in place of the number.
SYMBOLIC = "(value)"


def _rule(rule: Rule, ok: Expr, **values: object) -> Check:
    """The check of one rule of the table (checker.kinds), worded by it."""
    return Check(rule.rule.kind, rule.message(**values), ok)


@dataclass(frozen=True)
class Update:
    """Where `cond` holds, the slot at `addr` (one of `slots`) gets `value`
    (or, with `bits`, that field of it does)."""

    cond: Expr
    addr: Expr
    slots: frozenset[int]
    bits: tuple[int, int, int, int] | None
    value: Expr


Env = tuple[Update, ...]


@dataclass
class Outcomes:
    """Pre-state conditions of a step's outcomes (see the module docstring)."""

    blocked: Expr
    faults: dict[CheckId, Expr]  # the check that fails first
    checks: dict[CheckId, Check]  # every check, in the state where it is made
    done: list[tuple[Expr, Env]] = field(default_factory=list)  # completing paths


class Symbolic:
    """Symbolic evaluation of IR expressions and statements over a slot layout."""

    def __init__(self, slots: Sequence[Slot], pools: dict[str, PoolInfo]):
        self.slots = slots
        self.pools = pools

    # ------------------------------------------------------------ intervals
    def interval(self, e: Expr) -> tuple[int, int] | None:
        """Bounds of `e` in any state whose slots hold values in their ranges."""
        if isinstance(e, Const):
            return e.value, e.value
        if isinstance(e, Read):
            if e.loc.bits is not None:
                return e.loc.bits[2], e.loc.bits[3]
            cands = self.candidates(e.loc)
            return (min(self.slots[i].lo for i in cands), max(self.slots[i].hi for i in cands))
        if isinstance(e, FieldOf):
            return e.lo, e.lo + (1 << e.width) - 1
        if isinstance(e, Unary):
            if e.op == "!":
                return 0, 1
            r = self.interval(e.operand)
            return (-r[1], -r[0]) if r is not None and e.op == "-" else None
        if isinstance(e, Ite):
            a, b = self.interval(e.then), self.interval(e.other)
            return None if a is None or b is None else (min(a[0], b[0]), max(a[1], b[1]))
        if isinstance(e, Binary):
            if e.op in _FLIP or e.op in ("&&", "||"):
                return 0, 1
            a, b = self.interval(e.left), self.interval(e.right)
            if a is None or b is None:
                return None
            if e.op == "+":
                return a[0] + b[0], a[1] + b[1]
            if e.op == "-":
                return a[0] - b[1], a[1] - b[0]
            if e.op == "*":
                ends = [x * y for x in a for y in b]
                return min(ends), max(ends)
            if e.op == "&" and a[0] >= 0 and b[0] >= 0:
                return 0, min(a[1], b[1])
            if e.op == ">>" and a[0] >= 0 and b[0] >= 0:
                return 0, a[1] >> b[0]
            if e.op == "<<" and b[0] >= 0 and not shift_may_overflow(a, b):
                ends = [x << y for x in a for y in b]
                return min(ends), max(ends)
        return None

    def within(self, v: Expr, lo: int, hi: int) -> Expr:
        """`lo <= v <= hi`, or true when the bounds of `v` already say so."""
        r = self.interval(v)
        if r is None:
            return in_range(v, lo, hi)
        if lo <= r[0] and r[1] <= hi:
            return TRUE
        if lo <= r[0]:
            return Binary("<=", v, Const(hi))
        if r[1] <= hi:
            return Binary(">=", v, Const(lo))
        return in_range(v, lo, hi)

    def reads(self, e: Expr) -> frozenset[int]:
        """Every slot evaluating `e` may read."""
        if isinstance(e, Read):
            out = self.candidates(e.loc)
            for d in e.loc.dyn:
                out |= self.reads(d.expr)
                if d.pool is not None:
                    out |= frozenset(d.alloc_base + k * d.stride for k in range(d.count))
            return out
        if isinstance(e, Unary):
            return self.reads(e.operand)
        if isinstance(e, Binary):
            return self.reads(e.left) | self.reads(e.right)
        if isinstance(e, Ite):
            return self.reads(e.cond) | self.reads(e.then) | self.reads(e.other)
        if isinstance(e, FieldOf):
            return self.reads(e.word)
        return frozenset()

    # ------------------------------------------------------------ locations
    def candidates(self, loc: Loc) -> frozenset[int]:
        """Every slot `loc` can denote (its dynamic parts in range)."""
        ranges = [range(d.count) for d in loc.dyn]
        return frozenset(loc.base + sum(k * d.stride for k, d in zip(combo, loc.dyn, strict=True))
                         for combo in itertools.product(*ranges))

    def locate(self, loc: Loc, env: Env, verb: str) -> tuple[Loc, Expr, list[Check]]:
        """The raw location (plain 0-based indices, no pool checks), its slot
        address, and the checks made while resolving it."""
        checks: list[Check] = []
        raw: list[Dyn] = []
        addr: Expr = Const(loc.base)
        for d in loc.dyn:
            v, cv = self.eval(d.expr, env)
            checks += cv
            if d.pool is not None:
                checks.append(_rule(Rule.NULL_REF, Binary("!=", v, Const(0)),
                                    verb=verb, pool=d.pool))
                # (after the null check, a value within 0..count is in bounds)
                in_bounds = TRUE if self.within(v, 0, d.count) == TRUE else in_range(v, 1, d.count)
                checks.append(_rule(Rule.REF_BOUNDS, in_bounds, verb=verb, pool=d.pool,
                                    value=SYMBOLIC))
                index = plus(v, -1)
                alive = self.read_slot(Loc(d.alloc_base, (Dyn(index, d.stride, d.count),)), env)
                checks.append(_rule(Rule.FREED, Binary("!=", alive, Const(0)), verb=verb,
                                    object=f"a {d.pool} object"))
            else:
                index = v
                checks.append(_rule(Rule.INDEX, self.within(v, 0, d.count - 1), verb=verb,
                                    value=SYMBOLIC, last=d.count - 1))
            raw.append(Dyn(index, d.stride, d.count))
            addr = add(addr, times(index, d.stride))
        return Loc(loc.base, tuple(raw), loc.bits), addr, checks

    def read_slot(self, raw: Loc, env: Env) -> Expr:
        """The whole slot at raw location `raw` (bits ignored) after `env`."""
        addr = self.address(raw)
        cands = self.candidates(raw)
        value: Expr = Read(Loc(raw.base, raw.dyn))
        for u in env:
            if not (u.slots & cands):
                continue
            hit = conj(u.cond, eq(addr, u.addr))
            value = ite(hit, self.apply(u, value), value)
        return value

    def address(self, raw: Loc) -> Expr:
        addr: Expr = Const(raw.base)
        for d in raw.dyn:
            addr = add(addr, times(d.expr, d.stride))
        return addr

    @staticmethod
    def apply(u: Update, old: Expr) -> Expr:
        if u.bits is None:
            return u.value
        shift, width, lo, _hi = u.bits
        mask = ((1 << width) - 1) << shift
        return Binary("|", Binary("&", old, Unary("~", Const(mask))),
                      Binary("<<", plus(u.value, -lo), Const(shift)))

    @staticmethod
    def field(slot_value: Expr, bits: tuple[int, int, int, int] | None) -> Expr:
        if bits is None:
            return slot_value
        shift, width, lo, _hi = bits
        return FieldOf(slot_value, shift, width, lo)

    # ------------------------------------------------------------ expressions
    def eval(self, e: Expr, env: Env) -> tuple[Expr, list[Check]]:
        """(value over the pre-state, checks in evaluation order)."""
        match e:
            case Const():
                return e, []
            case Read():
                raw, _addr, checks = self.locate(e.loc, env, "read")
                return self.field(self.read_slot(raw, env), e.loc.bits), checks
            case Unary():
                v, c = self.eval(e.operand, env)
                return Unary(e.op, v), c
            case Binary():
                a, ca = self.eval(e.left, env)
                b, cb = self.eval(e.right, env)
                if e.op == "&&":
                    return Binary("&&", a, b), ca + [c.guarded(a) for c in cb]
                if e.op == "||":
                    return Binary("||", a, b), ca + [c.guarded(neg(a)) for c in cb]
                checks = ca + cb
                if e.op in ("/", "%"):
                    checks.append(_rule(Rule.DIVISOR, Binary("!=", b, Const(0))))
                if e.op in ("<<", ">>"):
                    checks += self.shift_checks(e.op, a, b)
                return Binary(e.op, a, b), checks
            case Ite():
                cond, cc = self.eval(e.cond, env)
                t, ct = self.eval(e.then, env)
                o, co = self.eval(e.other, env)
                return (Ite(cond, t, o), cc + [x.guarded(cond) for x in ct]
                        + [x.guarded(neg(cond)) for x in co])
            case FieldOf():
                w, cw = self.eval(e.word, env)
                return FieldOf(w, e.shift, e.width, e.lo), cw
            case _:
                assert_never(e)

    def shift_checks(self, op: str, a: Expr, b: Expr) -> list[Check]:
        """The checks of `checker.ir.interp.c_shift`: a negative count, then a
        left shift beyond 2^CONST_BITS, tested without building the value:
        |a| << b < 2^CONST_BITS exactly when |a| >> (CONST_BITS - b) is 0."""
        # Always the same checks for the same operator (TRUE where the bounds
        # prove them): `step_outcomes` pairs a statement's checks over the
        # pre-state with those over its own variables, one for one.
        count = self.interval(b)
        count_ok = TRUE if count is not None and count[0] >= 0 else Binary(">=", b, Const(0))
        checks = [_rule(Rule.SHIFT_COUNT, count_ok, count=SYMBOLIC)]
        value = self.interval(a)
        if op == "<<":
            fits: Expr = TRUE
            if value is None or count is None or shift_may_overflow(value, count):
                magnitude = Ite(Binary("<", a, Const(0)), Unary("-", a), a)
                small = Binary("==", Binary(">>", magnitude, Binary("-", Const(CONST_BITS), b)),
                               Const(0))
                fits = disj(Binary("==", a, Const(0)), Binary("<", b, Const(0)),
                            Binary("&&", Binary("<=", b, Const(CONST_BITS)), small))
            checks.append(_rule(Rule.SHIFT_RANGE, fits, count=SYMBOLIC, limit=CONST_BITS))
        return checks

    # ------------------------------------------------------------ stores
    def store(self, loc: Loc, value: Expr, env: Env, cond: Expr = TRUE
              ) -> tuple[list[Check], Update]:
        """Checks of storing `value` (already evaluated) at `loc`, and the update."""
        raw, addr, checks = self.locate(loc, env, "write")
        cands = self.candidates(raw)
        rule = Rule.STORE_RANGE
        bounds: tuple[object, object] = (SYMBOLIC, SYMBOLIC)  # several slots: several ranges
        if loc.bits is not None:
            _s, _w, lo, hi = loc.bits
            ok = self.within(value, lo, hi)
            rule, bounds = Rule.WORD_FIELD_RANGE, (lo, hi)
        else:
            ranges = {(self.slots[i].lo, self.slots[i].hi) for i in cands}
            if len(ranges) == 1:
                lo, hi = next(iter(ranges))
                ok = self.within(value, lo, hi)
                bounds = (lo, hi)
            else:
                ok = conj(*(disj(neg(eq(addr, Const(i))),
                                 self.within(value, self.slots[i].lo, self.slots[i].hi))
                            for i in sorted(cands)))
        checks.append(_rule(rule, ok, target=self.slots[loc.base].name, value=SYMBOLIC,
                            lo=bounds[0], hi=bounds[1]))
        if cond != TRUE:
            checks = [c.guarded(cond) for c in checks]
        return checks, Update(cond, addr, cands, loc.bits, value)

    # ------------------------------------------------------------ statements
    def statement(self, s: Stmt, env: Env) -> tuple[list[Check], Env]:
        """Checks a statement makes (over the pre-state of `env`) and the
        updates it adds. `If` and `Require` are handled by the caller: for
        them this gives the checks of the condition only."""
        return self._statement(s, env)

    def _statement(self, s: Stmt, env: Env) -> tuple[list[Check], Env]:
        match s:
            case Assign():
                v, cv = self.eval(s.value, env)
                cs, u = self.store(s.loc, v, env)
                return cv + cs, (*env, u)
            case If() | Require() | Warn():
                _v, cv = self.eval(s.cond, env)
                return cv, env
            case Assert():
                v, cv = self.eval(s.cond, env)
                return [*cv, Check(s.kind, Rule.ASSERTION.message(), v, s.prop)], env
            case AllocObj():
                ref, updates = self.alloc(s.pool, env)
                new_env = (*env, *updates)
                cs, u = self.store(s.loc, ref, new_env)
                return cs, (*new_env, u)
            case FreeObj():
                return self.free(s, env)
            case StartThread():
                return self.start(s, env)
            case CoverHit() | LockEvent():
                return [], env
            case _:
                assert_never(s)

    def alloc(self, pool: str, env: Env) -> tuple[Expr, list[Update]]:
        info = self.pools[pool]
        free = [eq(self.read_slot(Loc(info.base + i * info.stride), env), Const(0))
                for i in range(info.size)]
        ref: Expr = Const(0)
        for i in reversed(range(info.size)):
            ref = ite(free[i], Const(i + 1), ref)
        updates: list[Update] = []
        for i in range(info.size):
            chosen = conj(*(neg(f) for f in free[:i]), free[i])
            base = info.base + i * info.stride
            updates.append(Update(chosen, Const(base), frozenset([base]), None, Const(1)))
            for k in range(1, info.stride):
                updates.append(Update(chosen, Const(base + k), frozenset([base + k]), None,
                                      Const(self.slots[base + k].default)))
        return ref, updates

    def free(self, s: FreeObj, env: Env) -> tuple[list[Check], Env]:
        info = self.pools[s.pool]
        ref, checks = self.eval(s.ref, env)
        alive = self.read_slot(Loc(info.base, (Dyn(plus(ref, -1), info.stride, info.size),)),
                               env)
        checks.append(_rule(Rule.DOUBLE_FREE,
                            disj(eq(ref, Const(0)), Binary("!=", alive, Const(0))),
                            object=f"a {s.pool} object"))
        updates: list[Update] = []
        for i in range(info.size):
            hit = eq(ref, Const(i + 1))
            base = info.base + i * info.stride
            for k in range(info.stride):
                value = 0 if k == 0 else self.slots[base + k].default
                updates.append(Update(hit, Const(base + k), frozenset([base + k]), None,
                                      Const(value)))
        return checks, (*env, *updates)

    def start(self, s: StartThread, env: Env) -> tuple[list[Check], Env]:
        checks: list[Check] = []
        args: list[Expr] = []
        for a in s.args:
            v, cv = self.eval(a, env)
            checks += cv
            args.append(v)
        free = [eq(self.read_slot(Loc(ts.pc_slot), env), Const(0)) for ts in s.slots]
        updates: list[Update] = []
        for j, ts in enumerate(s.slots):
            chosen = conj(*(neg(f) for f in free[:j]), free[j])
            if chosen == FALSE:
                continue
            cur = (*env, *updates)
            for ps, v in zip(ts.param_slots, args, strict=True):
                cs, u = self.store(Loc(ps), v, cur, chosen)
                checks += cs
                updates.append(u)
                cur = (*cur, u)
            updates.append(Update(chosen, Const(ts.pc_slot), frozenset([ts.pc_slot]), None,
                                  Const(ts.entry_pc)))
        checks.append(_rule(Rule.THREAD_SLOT, disj(*free), thread=s.kind, count=len(s.slots)))
        return checks, (*env, *updates)


# ---------------------------------------------------------------- whole steps


def needed(checks: Sequence[Check]) -> list[bool]:
    """Which checks of one statement can fail first: not a true one, nor
    one the same as an earlier check (made in the same state)."""
    out = []
    seen: set[Expr] = set()
    for c in checks:
        out.append(c.ok != TRUE and c.ok not in seen)
        seen.add(c.ok)
    return out


def first_failure(checks: Sequence[Check]) -> list[Expr]:
    """For each check, the condition that it is the first of `checks` to fail."""
    out: list[Expr] = []
    passed: Expr = TRUE
    for c in checks:
        out.append(conj(passed, neg(c.ok)))
        passed = conj(passed, c.ok)
    return out


def all_pass(checks: Sequence[Check]) -> Expr:
    return conj(*(c.ok for c in checks))


def step_outcomes(guard: Expr, body: Sequence[Stmt], slots: Sequence[Slot],
                  pools: dict[str, PoolInfo], max_paths: int = 4096) -> Outcomes:
    """Pre-state conditions of running `guard` then `body` (module docstring)."""
    sym = Symbolic(slots, pools)
    blocked: list[Expr] = []
    faults: dict[CheckId, list[Expr]] = {}
    checks: dict[CheckId, Check] = {}
    done: list[tuple[Expr, Env]] = []

    def note_checks(where: tuple[int, ...], pre: list[Check], cur: list[Check], path: Expr
                    ) -> Expr:
        for i, (c_pre, c_cur, need) in enumerate(zip(pre, cur, needed(pre), strict=True)):
            if not need:
                continue
            key = (where, i)
            checks.setdefault(key, c_cur)
            faults.setdefault(key, []).append(conj(path, neg(c_pre.ok)))
            path = conj(path, c_pre.ok)
        return path

    g_val, g_checks = sym.eval(guard, ())
    path0 = note_checks(GUARD, g_checks, g_checks, TRUE)
    blocked.append(conj(path0, neg(g_val)))
    path0 = conj(path0, g_val)

    work: list[tuple[Expr, Env, list[tuple[tuple[int, ...], Stmt]]]] = [
        (path0, (), [((i,), s) for i, s in enumerate(body)])]
    while work:
        if len(done) + len(work) > max_paths:
            raise ValueError("too many paths through one step")
        path, env, todo = work.pop()
        while todo and path != FALSE:
            where, s = todo.pop(0)
            pre, env2 = sym.statement(s, env)
            cur = sym.statement(s, ())[0] if env else pre
            path = note_checks(where, pre, cur, path)
            if isinstance(s, Require | If):
                v, _ = sym.eval(s.cond, env)
                if isinstance(s, Require):
                    blocked.append(conj(path, neg(v)))
                    path = conj(path, v)
                    continue
                other = [((*where, 1, i), x) for i, x in enumerate(s.other)]
                work.append((conj(path, neg(v)), env, other + list(todo)))
                todo = [((*where, 0, i), x) for i, x in enumerate(s.then)] + list(todo)
                path = conj(path, v)
                continue
            env = env2
        if path != FALSE:
            done.append((path, env))
    return Outcomes(disj(*blocked), {k: disj(*v) for k, v in faults.items()}, checks, done)


def post_value(sym: Symbolic, env: Env, slot: int) -> Expr:
    """The value of `slot` after the updates `env`, over the pre-state."""
    return sym.read_slot(Loc(slot), env)


def has_require(body: Sequence[Stmt]) -> bool:
    for s in body:
        if isinstance(s, Require):
            return True
        if isinstance(s, If) and (has_require(s.then) or has_require(s.other)):
            return True
    return False

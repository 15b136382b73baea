"""What a fixed scenario's IR and its baseline run say about the source.

Mutation sites are found on the AST, but whether a site matters to a
scenario is a question about the transition system: which source statements
its reachable steps execute (an option can lower a branch away; a path can be
unreachable), which statements are steps of their own (a shared access) and
which run while the thread may hold a lock. Every `Action` names the source
statements it executes in `origins`, with the inlining call stack, so each
answer is a set of spans: a statement of the spec's own code is concerned when
one of these spans lies within it (a call site is on the stack of every
statement of the procedure it inlines).

"May hold a lock" is a forward data-flow over each thread's actions: the
`LockEvent`s of a step add or remove one held lock; a `__cond_acquires` adds one
unless the step itself fixes its result false (a fused trylock path); the
count at a program counter is the maximum over the steps reaching it. Within
a step, the local statements fused after its shared part (`Action.key`) see
the count after its lock events.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import assert_never

from checker.dsl.diagnostics import Span
from checker.ir.lockkind import LockOp
from checker.ir.nodes import (
    Action,
    Assign,
    Binary,
    Const,
    Expr,
    If,
    LockEvent,
    Origin,
    Read,
    Require,
    Stmt,
    TransitionSystem,
    Unary,
)
from checker.mutate.syntax import within

MAX_HELD = 16  # widening bound of the held-lock count (a trylock in a loop)


@dataclass
class ScenarioFacts:
    """Spans of the spec's statements, as one fixed scenario exercises them."""

    scenario: str
    states: int  # of the baseline (unmutated) run
    executed: set[Span] = field(default_factory=set)  # run by some reachable step
    steps: set[Span] = field(default_factory=set)  # what a reachable shared step exists for
    locked: set[Span] = field(default_factory=set)  # run while the thread may hold a lock

    def runs(self, outer: Span) -> bool:
        return _any_within(self.executed, outer)

    def is_step(self, outer: Span) -> bool:
        return _any_within(self.steps, outer)

    def tested_under_lock(self, head: Span) -> bool:
        """Whether the test of a condition (the step with its `if (...)` head
        span, after any calls in it returned) may run with a lock held."""
        return head in self.locked


def _any_within(spans: Iterable[Span], outer: Span) -> bool:
    return any(within(s, outer) for s in spans)


def _frames(o: Origin) -> list[Span]:
    return [*o.stack, o.span]


def scenario_facts(ts: TransitionSystem, fired: Sequence[int], states: int) -> ScenarioFacts:
    """Facts of `ts` from its baseline run: `fired[a]` is nonzero for each
    action some reachable state enabled."""
    facts = ScenarioFacts(ts.scenario, states)
    held = held_before(ts)
    for a in ts.actions:
        if not fired[a.id]:
            continue
        for o in a.origins:
            facts.executed.update(_frames(o))
        if a.visible and a.origins:
            facts.steps.update(_frames(a.origin))
        before = held.get(a.id, 0)
        after = _after(a, before)
        for i, o in enumerate(a.origins):
            # Statements fused after the step's shared part run after its lock events.
            if (before if i <= a.key or after is None else after) > 0:
                facts.locked.update(_frames(o))
    return facts


def held_before(ts: TransitionSystem) -> dict[int, int]:
    """For each action, how many locks its thread may hold when it starts."""
    at_pc: dict[tuple[int, int], int] = {}
    out: dict[int, int] = {}
    for t in ts.threads:
        at_pc[(t.id, t.entry_pc)] = 0
        todo = [t.entry_pc]
        while todo:
            pc = todo.pop()
            count = at_pc[(t.id, pc)]
            for a in ts.actions_at(t.id, pc):
                out[a.id] = max(out.get(a.id, 0), count)
                after = _after(a, count)
                if after is None or a.dst == 0:
                    continue
                key = (t.id, a.dst)
                if key not in at_pc or at_pc[key] < after:
                    at_pc[key] = after
                    todo.append(a.dst)
    return out


def _after(a: Action, count: int) -> int | None:
    """The held count after the action, or None if its body cannot complete."""
    return _run(a.body, count, {})


def _run(body: Sequence[Stmt], count: int, known: dict[int, int]) -> int | None:
    for s in body:
        if isinstance(s, Assign):
            if s.loc.static and s.loc.bits is None:
                v = _value(s.value, known)
                if v is None:
                    known.pop(s.loc.base, None)
                else:
                    known[s.loc.base] = v
            elif s.loc.static:
                known.pop(s.loc.base, None)
        elif isinstance(s, Require):
            if _value(s.cond, known) == 0:
                return None
        elif isinstance(s, LockEvent):
            count = _lock_event(s, count, known)
        elif isinstance(s, If):
            c = _value(s.cond, known)
            if c is not None:
                got = _run(s.then if c else s.other, count, known)
                if got is None:
                    return None
                count = got
                continue
            k1, k2 = dict(known), dict(known)
            r1, r2 = _run(s.then, count, k1), _run(s.other, count, k2)
            if r1 is None and r2 is None:
                return None
            count = max(r for r in (r1, r2) if r is not None)
            known.clear()
            known.update({k: v for k, v in k1.items() if k2.get(k) == v})
    return count


def _lock_event(e: LockEvent, count: int, known: dict[int, int]) -> int:
    match e.op:
        case LockOp.RELEASE:
            return max(count - 1, 0)
        case LockOp.TRY_ACQUIRE:
            if e.held_if is not None and _value(e.held_if, known) == 0:
                return count
            return min(count + 1, MAX_HELD)
        case LockOp.ACQUIRE:
            return min(count + 1, MAX_HELD)
        case LockOp.MUST_HOLD:
            return count
        case _:
            assert_never(e.op)


def _value(e: Expr, known: dict[int, int]) -> int | None:
    """The value of `e` if the step's own constant stores fix it."""
    if isinstance(e, Const):
        return e.value
    if isinstance(e, Read):
        if e.loc.static and e.loc.bits is None:
            return known.get(e.loc.base)
        return None
    if isinstance(e, Unary) and e.op == "!":
        v = _value(e.operand, known)
        return None if v is None else int(not v)
    if isinstance(e, Binary):
        left, right = _value(e.left, known), _value(e.right, known)
        if e.op == "&&":
            if left == 0 or right == 0:
                return 0
            return None if left is None or right is None else 1
        if e.op == "||":
            if (left is not None and left != 0) or (right is not None and right != 0):
                return 1
            return None if left is None or right is None else 0
        if left is None or right is None:
            return None
        if e.op == "==":
            return int(left == right)
        if e.op == "!=":
            return int(left != right)
    return None

"""An inductive invariant to strengthen k-induction, found by guess and check.

The induction step case starts from any state within the slots' ranges, and
most such states are unreachable: a thread at the end of a procedure whose
frame is not cleared, a lock owned by a thread that is not running. The
step case then fails on them. This module guesses facts that reachable
states share, and keeps only those z3 proves inductive:

- guesses come from a sample of reachable states (a bounded breadth-first
  search with the compiled steps): for each thread, pc and slot, the one
  value the slot has whenever the thread stands at that pc (its frame, the
  owner of a lock it holds); for every slot, the least and greatest value
  seen;
- Houdini's loop: if some state satisfying every kept fact steps to a state
  that breaks some, drop the broken ones and ask again. What is left holds
  initially (every guess held in the sample, which starts at the initial
  state) and is kept by every step: an invariant of every reachable state,
  whatever the sample was. A guess is never trusted because it was seen.
"""

from __future__ import annotations

from dataclasses import dataclass

import z3

from checker.explore.codegen import Compiled
from checker.ir.interp import Fault
from checker.symbolic.encode import Encoding, conj, disj
from checker.symbolic.unroll import Deadline

SAMPLE_STATES = 20000


@dataclass
class Strengthening:
    invariant: z3.BoolRef  # over the template's generic state x
    facts: int  # how many facts it has
    rounds: int  # Houdini iterations


def _sample(c: Compiled, limit: int) -> list[list[int]]:
    seen = {c.initial}
    frontier = [c.initial]
    while frontier and len(seen) < limit:
        nxt = []
        for s in frontier:
            try:
                succ = c.expand(s)
            except Fault:  # a violation here: the proof will find it; no need to go on
                continue
            for t in succ:
                if t not in seen:
                    seen.add(t)
                    nxt.append(t)
        frontier = nxt
    return [c.packing.unpack(s) for s in seen]


def _guesses(enc: Encoding, states: list[list[int]]) -> list[z3.BoolRef]:
    ts = enc.ts
    x = enc.template.x
    out: list[z3.BoolRef] = []
    for i, slot in enumerate(ts.slots):
        values = {st[i] for st in states}
        lo, hi = min(values), max(values)
        v = enc.widen(i, x[i])
        if lo == hi:
            out.append(v == enc.const(lo))
            continue
        if lo > slot.lo:
            out.append(v >= enc.const(lo))
        if hi < slot.hi:
            out.append(v <= enc.const(hi))
    for t in ts.threads:
        at: dict[int, list[list[int]]] = {}
        for st in states:
            at.setdefault(st[t.pc_slot], []).append(st)
        for pc, here in at.items():
            cond = x[t.pc_slot] == enc.slot_const(t.pc_slot, pc)
            for i in range(len(ts.slots)):
                if i == t.pc_slot:
                    continue
                values = {st[i] for st in here}
                if len(values) == 1:
                    out.append(z3.Implies(cond, enc.widen(i, x[i]) == enc.const(values.pop())))
    return out


def houdini(enc: Encoding, c: Compiled, deadline: Deadline,
            sample: int = SAMPLE_STATES) -> Strengthening | None:
    """The inductive part of the guesses, or None when out of time."""
    t = enc.template
    facts = _guesses(enc, _sample(c, sample))
    s = z3.SolverFor("QF_BV")
    s.add(enc.in_domain(t.x), t.trans)
    rounds = 0
    while facts:
        left = deadline.left()
        if left is not None:
            if left <= 0:
                return None
            s.set("timeout", max(1, int(left * 1000)))
        rounds += 1
        after = [t.at(f, t.y) for f in facts]
        s.push()
        s.add(conj(*facts), disj([z3.Not(a) for a in after]))
        answer = s.check()
        model = s.model() if answer == z3.sat else None
        s.pop()
        if answer == z3.unsat:
            break
        if model is None:
            return None
        kept = [f for f, a in zip(facts, after, strict=True)
                if z3.is_true(model.eval(a, model_completion=True))]
        if len(kept) == len(facts):  # cannot happen with a sound model; do not loop
            return None
        facts = kept
    return Strengthening(conj(*facts), len(facts), rounds)

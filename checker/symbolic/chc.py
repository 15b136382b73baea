"""Safety as constrained Horn clauses, solved by z3's Spacer engine.

    Inv(init).
    Inv(x) and T(x, y, c)  ->  Inv(y).
    Inv(x) and Bad(x)      ->  false.

"sat" means Spacer found an inductive invariant `Inv` that excludes every
violation. That invariant is not taken on trust: it is checked again with a
plain bit-vector solver (it holds initially, every step keeps it, no state
satisfying it is a violation) before the scenario is called proved. "unsat"
means a violating state is reachable (the trace is then left to BMC).
"""

from __future__ import annotations

from dataclasses import dataclass

import z3

from checker.symbolic.encode import Encoding, conj, disj
from checker.symbolic.unroll import Deadline


@dataclass
class ChcAnswer:
    verdict: str  # proved, counterexample, unknown
    detail: str  # what happened, for the report
    invariant: z3.BoolRef | None = None  # the checked inductive invariant, over the template's x


def solve_chc(enc: Encoding, deadline: Deadline) -> ChcAnswer:
    t = enc.template
    left = deadline.left()
    if left is not None and left <= 0:
        return ChcAnswer("unknown", "no time left for spacer")
    sorts = [x.sort() for x in t.x]
    inv = z3.Function("Inv", *sorts, z3.BoolSort())
    bad = disj([i.cond for i in t.indicators])
    s = z3.SolverFor("HORN")
    s.set("engine", "spacer")
    if left is not None:
        s.set("timeout", max(1, int(left * 1000)))
    s.add(inv(*enc.initial()))
    s.add(z3.ForAll([*t.x, *t.y, t.c], z3.Implies(z3.And(inv(*t.x), t.trans), inv(*t.y))))
    s.add(z3.ForAll(t.x, z3.Implies(z3.And(inv(*t.x), bad), z3.BoolVal(False))))
    answer = s.check()
    if answer == z3.unsat:
        return ChcAnswer("counterexample", "spacer: a violating state is reachable")
    if answer != z3.sat:
        return ChcAnswer("unknown", f"spacer: {s.reason_unknown() or 'unknown'}")
    candidate = _interpretation(s.model(), inv, t.x)
    problem = _validate(enc, candidate, bad, deadline)
    if problem is not None:
        return ChcAnswer("unknown", f"spacer's invariant did not check: {problem}")
    return ChcAnswer("proved", "spacer found an inductive invariant (checked)", candidate)


def _interpretation(model: z3.ModelRef, inv: z3.FuncDeclRef,
                    args: list[z3.ExprRef]) -> z3.BoolRef:
    """The model's `inv` as a formula over `args` (its bound variable i is
    argument i); evaluating `inv(args)` instead would give the free `args`
    values of their own."""
    interp = model[inv]
    if interp is None:
        return z3.BoolVal(True)
    if z3.is_expr(interp):  # a lambda
        return z3.substitute_vars(interp.body(), *reversed(args))
    out = z3.substitute_vars(interp.else_value(), *args)
    for i in range(interp.num_entries()):
        entry = interp.entry(i)
        here = z3.And(*[a == entry.arg_value(j) for j, a in enumerate(args)])
        out = z3.If(here, entry.value(), out)
    return out


def _validate(enc: Encoding, inv: z3.BoolRef, bad: z3.BoolRef, deadline: Deadline) -> str | None:
    """None if `inv` is an inductive invariant excluding every violation."""
    t = enc.template
    inv_y = t.at(inv, t.y)
    init = t.at(inv, enc.initial())
    obligations = [
        ("it does not hold in the initial state", z3.Not(init)),
        ("a step does not keep it", conj(inv, t.trans, z3.Not(inv_y))),
        ("it admits a violation", conj(inv, bad)),
    ]
    for what, query in obligations:
        s = z3.Solver()
        left = deadline.left()
        if left is not None:
            s.set("timeout", max(1, int(left * 1000)))
        s.add(query)
        answer = s.check()
        if answer != z3.unsat:
            return what if answer == z3.sat else f"could not check that {what[3:]} (timeout)"
    return None

"""Prove bit-vector lemmas with z3, or find a witness that breaks one.

A lemma's steps are taken in order (see `checker.ir.lemma`): `let` defines
a term, `assume` adds a fact, and each goal (`assert`, and the `check`s the
lowering adds where C would be undefined) must follow from the facts before
it, for every value of the lemma's variables; a proved goal becomes a fact
for the later ones. A goal that does not follow gets a concrete witness:
values of the variables (and of the definitions) for which the facts hold
and the goal is false. Assumptions that no value satisfies would make every
goal hold vacuously; that is reported as a failure of its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import z3

from checker.ir.lemma import Lemma, LemmaStep, Lit, Op, Term, Var

# Ctrl-C belongs to migcheck (checker.cli interrupts the z3 context and the
# command): z3 would otherwise take SIGINT for itself during a query and
# report it as a solver timeout, the run going on.
z3.set_param("ctrl_c", False)


@dataclass
class GoalResult:
    step: LemmaStep
    verdict: str  # proved, fails, unknown
    witness: list[tuple[str, int, int]] = field(default_factory=list)  # (name, width, value)


@dataclass
class LemmaResult:
    lemma: Lemma
    goals: list[GoalResult]
    vacuous: bool = False  # the assumptions contradict each other
    seconds: float = 0.0

    @property
    def verdict(self) -> str:
        """proved (every goal, assumptions satisfiable), fails, or unknown."""
        if self.vacuous or any(g.verdict == "fails" for g in self.goals):
            return "fails"
        if any(g.verdict == "unknown" for g in self.goals):
            return "unknown"
        return "proved"

    @property
    def status(self) -> str:
        if self.verdict == "unknown":
            return "unknown"
        return "met" if self.verdict == self.lemma.expect else "unmet"

    @property
    def failure(self) -> GoalResult | None:
        return next((g for g in self.goals if g.verdict != "proved"), None)


_ARITH = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": z3.UDiv,
    "%": z3.URem,
    "&": lambda a, b: a & b,
    "|": lambda a, b: a | b,
    "^": lambda a, b: a ^ b,
    "<<": lambda a, b: a << b,
    ">>": z3.LShR,
}
_COMPARE = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": z3.ULT,
    "<=": z3.ULE,
    ">": z3.UGT,
    ">=": z3.UGE,
}


class _Encoder:
    def __init__(self, lemma: Lemma):
        self.env: dict[str, z3.ExprRef] = {
            v.name: z3.BitVec(v.name, v.width) for v in lemma.params}

    def term(self, t: Term) -> z3.ExprRef:
        if isinstance(t, Var):
            return self.env[t.name]
        if isinstance(t, Lit):
            return z3.BoolVal(bool(t.value)) if t.width == 0 else z3.BitVecVal(t.value, t.width)
        assert isinstance(t, Op), t
        args = [self.term(a) for a in t.args]
        op = t.op
        if op in _ARITH:
            return _ARITH[op](*args)
        if op in _COMPARE:
            return _COMPARE[op](*args)
        if op == "neg":
            return -args[0]
        if op == "~":
            return ~args[0]
        if op == "zext":
            return z3.ZeroExt(t.width - t.args[0].width, args[0])
        if op == "trunc":
            return z3.Extract(t.width - 1, 0, args[0])
        if op == "nonzero":
            return args[0] != z3.BitVecVal(0, t.args[0].width)
        if op == "and":
            return z3.And(*args)
        if op == "or":
            return z3.Or(*args)
        if op == "not":
            return z3.Not(args[0])
        if op == "ite":
            return z3.If(args[0], args[1], args[2])
        raise AssertionError(op)


def prove_lemma(lemma: Lemma, seconds: float = 30.0) -> LemmaResult:
    start = time.monotonic()
    enc = _Encoder(lemma)
    facts: list[z3.BoolRef] = []
    assumptions: list[z3.BoolRef] = []
    goals: list[GoalResult] = []
    shown = [(v.name, v.width) for v in lemma.params]
    for step in lemma.steps:
        term = enc.term(step.term)
        if step.kind == "let":
            enc.env[step.name] = term
            shown.append((step.name, step.term.width))
            continue
        if step.kind == "assume":
            facts.append(term)
            assumptions.append(term)
            continue
        s = z3.Solver()
        s.set("timeout", max(1, int(seconds * 1000)))
        s.add(*facts)
        s.add(z3.Not(term))
        answer = s.check()
        if answer == z3.unsat:
            goals.append(GoalResult(step, "proved"))
        elif answer == z3.sat:
            m = s.model()
            witness = [(name, width,
                        m.eval(enc.env[name], model_completion=True).as_long())
                       for name, width in shown]
            goals.append(GoalResult(step, "fails", witness))
        else:
            goals.append(GoalResult(step, "unknown"))
        facts.append(term)
    s = z3.Solver()
    s.add(*assumptions)
    vacuous = s.check() == z3.unsat
    return LemmaResult(lemma, goals, vacuous, time.monotonic() - start)

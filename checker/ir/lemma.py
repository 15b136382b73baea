"""Bit-vector lemmas in their own small IR.

A lemma is not part of any scenario's transition system: it is a formula
about machine words. Its IR is a list of steps over typed terms:

- `let NAME = TERM` (a definition),
- `assume TERM` (a fact the later steps may use),
- `assert TERM` (a goal, proved from the facts before it and then a fact),
- `check TERM` (a goal the lowering adds where C would be undefined: a
  division by a value that may be zero, a shift by a variable amount that
  may reach the width).

Terms are `Var`, `Lit` and `Op` nodes with their width (0: a condition).
Operators: `+ - * / % & | ^ << >>` (unsigned, wrapping), `neg`, `~`,
`zext` and `trunc` (to the node's width), `== != < <= > >=` (unsigned), `and`, `or`,
`not`, `nonzero` (bits to condition), `ite`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from checker.dsl import ast
from checker.dsl.diagnostics import SourceCache, Span
from checker.dsl.loader import Program
from checker.sema.check import Checker, elaborate
from checker.sema.lemmatypes import Bits, Known, LemmaInfo, LType, Truth


class Term:
    __slots__ = ()
    width: int


@dataclass(frozen=True, slots=True)
class Var(Term):
    name: str
    width: int


@dataclass(frozen=True, slots=True)
class Lit(Term):
    value: int  # 0 <= value < 2**width (for width 0: 0 or 1)
    width: int


@dataclass(frozen=True, slots=True)
class Op(Term):
    op: str
    args: tuple[Term, ...]
    width: int


TRUE = Lit(1, 0)


@dataclass(frozen=True)
class LemmaStep:
    kind: str  # let, assume, assert, check
    term: Term
    span: Span
    name: str = ""  # let: the variable; assert/check: the goal's message


@dataclass
class Lemma:
    name: str
    spec: str
    span: Span
    bindings: dict[str, int]  # the options this lemma was elaborated with
    consts: dict[str, int]  # the constants it names, with their values here
    params: list[Var]
    steps: list[LemmaStep]
    expect: str  # proved or fails
    lets: dict[str, Var] = field(default_factory=dict)


class _Lower:
    def __init__(self, info: LemmaInfo):
        self.info = info
        self.steps: list[LemmaStep] = []

    def type(self, e: ast.Expr) -> LType:
        return self.info.types[e]

    def bits(self, e: ast.Expr, width: int, guard: Term) -> Term:
        """`e` as a `width`-bit value (zero-extended or a wrapped constant)."""
        t = self.type(e)
        if isinstance(t, Known):
            return Lit(t.value % (1 << width), width)
        term = self.term(e, guard)
        assert term.width and term.width <= width, (term, width)
        return term if term.width == width else Op("zext", (term,), width)

    def truth(self, e: ast.Expr, guard: Term) -> Term:
        t = self.type(e)
        if isinstance(t, Known):
            return Lit(int(bool(t.value)), 0)
        term = self.term(e, guard)
        return term if term.width == 0 else Op("nonzero", (term,), 0)

    def obligation(self, guard: Term, cond: Term, e: ast.Expr, what: str) -> None:
        goal = cond if guard == TRUE else Op("or", (Op("not", (guard,), 0), cond), 0)
        text = SourceCache.excerpt(e.span)
        self.steps.append(LemmaStep("check", goal, e.span, f"{what} in '{text}'"))

    def term(self, e: ast.Expr, guard: Term) -> Term:
        t = self.type(e)
        assert not isinstance(t, Known), e  # constants are placed by bits() and truth()
        if isinstance(e, ast.Name):
            assert isinstance(t, Bits)
            return Var(e.name, t.width)
        if isinstance(e, ast.Unary):
            if e.op == "!":
                return Op("not", (self.truth(e.operand, guard),), 0)
            assert isinstance(t, Bits)
            return Op("neg" if e.op == "-" else "~", (self.bits(e.operand, t.width, guard),),
                      t.width)
        if isinstance(e, ast.Cond):
            c = self.truth(e.cond, guard)
            g1 = Op("and", (guard, c), 0)
            g2 = Op("and", (guard, Op("not", (c,), 0)), 0)
            if isinstance(t, Truth):
                return Op("ite", (c, self.truth(e.then, g1), self.truth(e.other, g2)), 0)
            assert isinstance(t, Bits)
            return Op("ite", (c, self.bits(e.then, t.width, g1),
                              self.bits(e.other, t.width, g2)), t.width)
        assert isinstance(e, ast.Binary), e
        return self.binary(e, t, guard)

    def binary(self, e: ast.Binary, t: LType, guard: Term) -> Term:
        op = e.op
        if op in ("&&", "||"):
            a = self.truth(e.left, guard)
            g = Op("and", (guard, a if op == "&&" else Op("not", (a,), 0)), 0)
            return Op("and" if op == "&&" else "or", (a, self.truth(e.right, g)), 0)
        lt, rt = self.type(e.left), self.type(e.right)
        if isinstance(lt, Truth) and isinstance(rt, Truth):
            eq = Op("==", (self.truth(e.left, guard), self.truth(e.right, guard)), 0)
            return eq if op == "==" else Op("not", (eq,), 0)
        if op in ("<<", ">>"):
            assert isinstance(t, Bits)
            w = t.width
            a = self.bits(e.left, w, guard)
            if isinstance(rt, Known):
                return Op(op, (a, Lit(rt.value, w)), w)
            assert isinstance(rt, Bits)
            amount = self.term(e.right, guard)
            self.obligation(guard, Op("<", (amount, Lit(w, rt.width)), 0)
                            if w < (1 << rt.width) else TRUE, e,
                            f"a shift by {w} or more (undefined in C)")
            if rt.width < w:
                amount = Op("zext", (amount,), w)
            elif rt.width > w:
                # only amounts below w are defined (checked above): the low bits suffice
                amount = Op("trunc", (amount,), w)
            return Op(op, (a, amount), w)
        width = max(x.width for x in (lt, rt) if isinstance(x, Bits))
        a = self.bits(e.left, width, guard)
        b = self.bits(e.right, width, guard)
        if op in ("/", "%") and not isinstance(rt, Known):
            self.obligation(guard, Op("!=", (b, Lit(0, width)), 0), e, "a division by zero")
        if op in ("==", "!=", "<", "<=", ">", ">="):
            return Op(op, (a, b), 0)
        return Op(op, (a, b), width)


def lower_lemma(info: LemmaInfo, spec: str, bindings: dict[str, int]) -> Lemma:
    d = info.decl
    low = _Lower(info)
    params = [Var(p.name, info.widths[p.name]) for p in d.params]
    lemma = Lemma(d.name, spec, d.span, dict(bindings), dict(info.consts), params, low.steps,
                  info.expect)
    for item in d.body:
        if isinstance(item, ast.LemmaLet):
            w = info.widths[item.var.name]
            value = low.bits(item.value, w, TRUE)
            var = Var(item.var.name, w)
            lemma.lets[var.name] = var
            low.steps.append(LemmaStep("let", value, item.span, var.name))
        elif isinstance(item, ast.LemmaAssume):
            low.steps.append(LemmaStep("assume", low.truth(item.cond, TRUE), item.span))
        else:
            name = item.message or SourceCache.excerpt(item.cond.span)
            low.steps.append(LemmaStep("assert", low.truth(item.cond, TRUE), item.span, name))
    return lemma


def build_lemmas(program: Program, overrides: dict[str, int] | None = None,
                 only: list[str] | None = None) -> list[Lemma]:
    """Every lemma of the program (or those named), each elaborated with its
    own option settings and then the command line's."""
    overrides = overrides or {}
    base = elaborate(program, overrides)
    names = [n for n in base.lemmas if not only or n in only]
    out = []
    for name in names:
        checker = Checker(program, {}, Span.unknown())
        checker.el = base
        bindings = {n: checker.const_value(v) for n, v, _span in base.lemmas[name].decl.options}
        bindings.update(overrides)
        el = elaborate(program, bindings) if bindings != overrides else base
        out.append(lower_lemma(el.lemmas[name], program.root, bindings))
    return out

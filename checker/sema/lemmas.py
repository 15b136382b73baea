"""Names and types of bit-vector lemmas.

A lemma speaks about machine words, not about the protocol's state: its
variables are `bits[W]` (unsigned W-bit values, as the kernel's `unsigned
long`), and it may name the spec's constants and options (folded to their
values for this variant). Expressions follow C's rules for unsigned
arithmetic: operands of different widths are zero-extended to the wider one,
an integer constant takes the width of the other operand (a negative one
wraps, as C converts it to unsigned), arithmetic wraps modulo 2^W, shifts
keep the width of their left operand, comparisons are unsigned. Constant
expressions are folded exactly; a constant that does not fit its width, or a
constant shift amount of W or more (undefined in C), is an error.
"""

from __future__ import annotations

from typing import Protocol

from checker.dsl import ast
from checker.dsl.diagnostics import Span
from checker.sema.consts import ConstError, fold_binary
from checker.sema.lemmatypes import Bits, Known, LemmaInfo, LType, Truth
from checker.sema.symbols import ConstSym, Elaboration, EnumMemberSym, Symbol


class LemmaContext(Protocol):
    """What the lemma checker asks of the type checker (`sema.check.Checker`)."""

    el: Elaboration

    def err(self, span: Span, msg: str) -> None: ...

    def const_int(self, e: ast.Expr, what: str) -> int | None: ...

    def lookup(self, name: str) -> Symbol | None: ...

MAX_WIDTH = 1024
LEMMA_EXPECT = ("proved", "fails")
_ARITH = ("+", "-", "*", "/", "%", "&", "|", "^")
_SHIFT = ("<<", ">>")
_COMPARE = ("==", "!=", "<", "<=", ">", ">=")


def fits(value: int, width: int) -> bool:
    """A constant usable as a `width`-bit unsigned value (negative ones wrap)."""
    return -(1 << (width - 1)) <= value < (1 << width)


class LemmaChecker:
    def __init__(self, checker: LemmaContext, decl: ast.LemmaDecl):
        self.c = checker
        self.decl = decl
        self.info = LemmaInfo(decl)

    def err(self, node: ast.Node, msg: str) -> None:
        self.c.err(node.span, msg)

    def run(self) -> LemmaInfo:
        d = self.decl
        el = self.c.el
        for name, value, span in d.options:
            c = el.consts.get(name)
            if c is None:
                self.c.err(span, f"no option '{name}'")
            elif not c.is_option:
                self.c.err(span, f"'{name}' is a constant; lemmas set options, and the "
                                 f"command line sets both (-D {name}=...)")
            else:
                self.c.const_int(value, "an option value")
        if d.expect is not None:
            x = d.expect
            if x.kind not in LEMMA_EXPECT or x.name is not None:
                self.err(x, f"a lemma expects 'proved' or 'fails', not '{x.kind}'"
                            + (f" {x.name}" if x.name else ""))
            else:
                self.info.expect = x.kind
        for p in d.params:
            self.declare(p)
        for item in d.body:
            if isinstance(item, ast.LemmaLet):
                t = self.expr(item.value)
                w = self.declare(item.var)
                if w is not None and t is not None:
                    self.coerce(item.value, t, w, f"the value of '{item.var.name}'")
            else:
                self.cond(item.cond)
        if not any(isinstance(i, ast.LemmaAssert) for i in d.body):
            self.err(d, f"lemma '{d.name}' asserts nothing")
        return self.info

    def declare(self, v: ast.LemmaVar) -> int | None:
        w = self.c.const_int(v.width, "a bit width")
        if v.name in self.info.widths:
            self.err(v, f"'{v.name}' is already declared in this lemma")
            return None
        if w is None:
            return None
        if not 1 <= w <= MAX_WIDTH:
            self.err(v.width, f"a bit width must be 1..{MAX_WIDTH}, not {w}")
            return None
        self.info.widths[v.name] = w
        return w

    def coerce(self, e: ast.Expr, t: LType, width: int, what: str) -> None:
        if isinstance(t, Truth):
            self.err(e, f"{what} is a condition, not a bits[{width}] value")
        elif isinstance(t, Known) and not fits(t.value, width):
            self.err(e, f"{what}: the constant {t.value} does not fit in {width} bits")
        elif isinstance(t, Bits) and t.width > width:
            self.err(e, f"{what} is bits[{t.width}], wider than bits[{width}]: mask it first")

    def cond(self, e: ast.Expr) -> None:
        self.expr(e)

    # ------------------------------------------------------------ expressions
    def expr(self, e: ast.Expr) -> LType | None:
        t = self._expr(e)
        if t is not None:
            self.info.types[e] = t
        return t

    def _expr(self, e: ast.Expr) -> LType | None:
        if isinstance(e, ast.IntLit):
            return Known(e.value)
        if isinstance(e, ast.BoolLit):
            return Known(int(e.value))
        if isinstance(e, ast.Name):
            return self.name(e)
        if isinstance(e, ast.Unary):
            return self.unary(e)
        if isinstance(e, ast.Binary):
            return self.binary(e)
        if isinstance(e, ast.Cond):
            c = self.expr(e.cond)
            a, b = self.expr(e.then), self.expr(e.other)
            if c is None or a is None or b is None:
                return None
            if isinstance(c, Known):
                return a if c.value else b
            if isinstance(a, Truth) and isinstance(b, Truth):
                return Truth()
            return self.common(e, a, b)
        self.err(e, "a lemma may use only its bits variables, constants and C's operators")
        return None

    def name(self, e: ast.Name) -> LType | None:
        w = self.info.widths.get(e.name)
        if w is not None:
            return Bits(w)
        sym = self.c.lookup(e.name)
        if isinstance(sym, ConstSym):
            self.info.consts[sym.name] = sym.value
            return Known(sym.value)
        if isinstance(sym, EnumMemberSym):
            return Known(sym.index)
        if sym is None:
            self.err(e, f"unknown name '{e.name}'")
        else:
            self.err(e, f"a lemma sees its own variables and constants, not '{e.name}'")
        return None

    def unary(self, e: ast.Unary) -> LType | None:
        t = self.expr(e.operand)
        if t is None:
            return None
        if isinstance(t, Known):
            v = t.value
            return Known({"!": int(not v), "-": -v, "~": ~v}[e.op])
        if e.op == "!":
            return Truth()
        if isinstance(t, Truth):
            self.err(e, f"'{e.op}' needs a number, not a condition")
            return None
        return t

    def binary(self, e: ast.Binary) -> LType | None:
        op = e.op
        a, b = self.expr(e.left), self.expr(e.right)
        if a is None or b is None:
            return None
        if isinstance(a, Known) and isinstance(b, Known):
            return self.fold(e, a.value, b.value)
        if op in ("&&", "||"):
            return Truth()
        if op in ("==", "!=") and isinstance(a, Truth) and isinstance(b, Truth):
            return Truth()
        for side, t in ((e.left, a), (e.right, b)):
            if isinstance(t, Truth):
                self.err(side, f"'{op}' needs a number here, not a condition")
                return None
        if op in _SHIFT:
            return self.shift(e, a, b)
        common = self.common(e, a, b)
        if common is None:
            return None
        return Truth() if op in _COMPARE else common

    def shift(self, e: ast.Binary, a: LType, b: LType) -> LType | None:
        width = a.width if isinstance(a, Bits) else b.width  # type: ignore[union-attr]
        if isinstance(a, Known) and not fits(a.value, width):
            self.err(e.left, f"the constant {a.value} does not fit in {width} bits")
            return None
        if isinstance(b, Known) and not 0 <= b.value < width:
            self.err(e.right, f"shifting a {width}-bit value by {b.value} is undefined "
                              f"in C (the amount must be 0..{width - 1})")
            return None
        return Bits(width)

    def common(self, e: ast.Expr, a: LType, b: LType) -> Bits | None:
        """The type both operands convert to: the wider width."""
        widths = [t.width for t in (a, b) if isinstance(t, Bits)]
        if not widths:
            self.err(e, "a condition where a number is needed")
            return None
        width = max(widths)
        for t in (a, b):
            if isinstance(t, Known) and not fits(t.value, width):
                self.err(e, f"the constant {t.value} does not fit in {width} bits")
                return None
            if isinstance(t, Truth):
                self.err(e, "a condition where a number is needed")
                return None
        return Bits(width)

    def fold(self, e: ast.Binary, a: int, b: int) -> Known | None:
        if e.op == "&&":
            return Known(int(bool(a) and bool(b)))
        if e.op == "||":
            return Known(int(bool(a) or bool(b)))
        try:
            return Known(fold_binary(e.op, a, b, e.span))
        except ConstError as ex:
            self.err(e, f"constant expression: {ex}")
            return None
        except ValueError:  # a negative shift count
            self.err(e, f"constant expression: shift by {b}")
            return None


def check_lemma(checker: LemmaContext, decl: ast.LemmaDecl) -> LemmaInfo:
    return LemmaChecker(checker, decl).run()

"""Constant folding of IR expressions, so that options and constants
vanish from the lowered code (C arithmetic: `checker.sema.consts.fold_binary`)."""

from __future__ import annotations

from checker.dsl.diagnostics import Span
from checker.ir.nodes import FALSE, TRUE, Binary, Const, Expr, Ite, Unary


def fold(e: Expr) -> Expr:
    """Constant-fold one IR node (so that options and constants vanish)."""
    if isinstance(e, Unary) and isinstance(e.operand, Const):
        v = e.operand.value
        return Const({"!": int(not v), "-": -v, "~": ~v}[e.op])
    if isinstance(e, Binary):
        a, b = e.left, e.right
        if e.op == "&&":
            if isinstance(a, Const):
                return b if a.value else FALSE
            if isinstance(b, Const) and b.value:
                return a
        if e.op == "||":
            if isinstance(a, Const):
                return TRUE if a.value else b
            if isinstance(b, Const) and not b.value:
                return a
        if isinstance(a, Const) and isinstance(b, Const):
            from checker.sema.consts import ConstError, fold_binary

            if e.op in ("/", "%") and b.value == 0:
                return e
            try:
                return Const(fold_binary(e.op, a.value, b.value, Span.unknown()))
            except ConstError:  # a negative or huge shift: the run decides
                return e
    if isinstance(e, Ite) and isinstance(e.cond, Const):
        return e.then if e.cond.value else e.other
    return e


"""Constant folding with C's integer arithmetic, shared by the type
checker (constants, options, array sizes), the lemma checker and the IR's
folding (`checker.ir.fold`).

Every constant obeys the CONST_BITS limit of `checker.dsl.parser`: a fold
whose result would exceed it, or a shift by a negative amount (undefined in
C), is a `ConstLimit`, raised before a shift allocates its result, so that a
spec cannot make the front end allocate gigabytes (`1 << 40000000000`)."""

from __future__ import annotations

from checker.dsl.diagnostics import Span
from checker.dsl.parser import CONST_BITS, const_limit_message


class ConstError(Exception):
    """An expression that should be constant is not, or its value is undefined."""


class ConstLimit(ConstError):
    """A constant expression that C leaves undefined or that exceeds CONST_BITS."""


def bounded(v: int) -> int:
    """`v`, if within the CONST_BITS limit that every constant obeys."""
    if v.bit_length() > CONST_BITS:
        raise ConstLimit(f"is too large ({const_limit_message()})")
    return v


def fold_binary(op: str, a: int, b: int, span: Span) -> int:
    """Fold `a op b` as C would, within the CONST_BITS limit."""
    if op in ("<<", ">>") and b < 0:
        raise ConstLimit(f"shifts by a negative amount ({b})")
    if op == "<<" and a and b > CONST_BITS:
        raise ConstLimit(f"is too large ({const_limit_message()})")
    if op == ">>" and b > CONST_BITS:
        return -1 if a < 0 else 0
    if op in ("/", "%"):
        if b == 0:
            raise ConstError("division by zero")
        q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)
        return q if op == "/" else a - q * b
    return bounded({
        "+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
        "<<": lambda: a << b, ">>": lambda: a >> b,
        "&": lambda: a & b, "|": lambda: a | b, "^": lambda: a ^ b,
        "==": lambda: int(a == b), "!=": lambda: int(a != b),
        "<": lambda: int(a < b), "<=": lambda: int(a <= b),
        ">": lambda: int(a > b), ">=": lambda: int(a >= b),
    }[op]())

"""Constant folding with C's integer arithmetic, shared by the type
checker (constants, options, array sizes), the lemma checker and the IR's
folding (`checker.ir.fold`)."""

from __future__ import annotations

from checker.dsl.diagnostics import Span


class ConstError(Exception):
    """An expression that should be constant is not, or its value is undefined."""


def fold_binary(op: str, a: int, b: int, span: Span) -> int:
    if op in ("/", "%"):
        if b == 0:
            raise ConstError("division by zero")
        q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)
        return q if op == "/" else a - q * b
    return {
        "+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
        "<<": lambda: a << b, ">>": lambda: a >> b,
        "&": lambda: a & b, "|": lambda: a | b, "^": lambda: a ^ b,
        "==": lambda: int(a == b), "!=": lambda: int(a != b),
        "<": lambda: int(a < b), "<=": lambda: int(a <= b),
        ">": lambda: int(a > b), ">=": lambda: int(a >= b),
    }[op]()

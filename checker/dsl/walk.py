"""The one walk over AST expressions, which type checking (`checker.sema`),
lowering (`checker.ir`) and mutation (`checker.mutate`) all use.

It reads a node's dataclass fields generically, so a new expression node is
walked without an edit here; field order is the operands' left-to-right
order (a `Binary`'s left before its right, an `Index`'s base before its
index), which lowering's evaluation order relies on.
"""

from __future__ import annotations

from collections.abc import Iterator

from checker.dsl import ast


def expr_children(node: ast.Node) -> Iterator[ast.Expr]:
    """The expressions directly inside `node` (an expression's operands, a
    statement's expressions), in field order: each field that is an
    expression, and the expressions of each list field."""
    for value in vars(node).values():
        if isinstance(value, ast.Expr):
            yield value
        elif isinstance(value, list):
            yield from (x for x in value if isinstance(x, ast.Expr))


def subexprs(e: ast.Expr, opaque: type[ast.Expr] | tuple[type[ast.Expr], ...] = ()
             ) -> Iterator[ast.Expr]:
    """`e` and every expression inside it, outside-in and left to right. An
    `opaque` node is yielded but not entered (lowering skips quantifier
    bodies, which cannot call)."""
    yield e
    if not isinstance(e, opaque):
        for sub in expr_children(e):
            yield from subexprs(sub, opaque)

"""Questions lowering asks of AST expressions and statements: the calls in
an expression in evaluation order, whether a call runs only on some
evaluations (short-circuit), the labels of a body."""

from __future__ import annotations

from collections.abc import Iterator

from checker.dsl import ast
from checker.dsl.diagnostics import Span
from checker.dsl.walk import expr_children, subexprs
from checker.sema.symbols import ConstSym, EnumMemberSym


def label_names(body: ast.Stmt) -> Iterator[str]:
    if isinstance(body, ast.Label):
        yield body.name
        yield from label_names(body.stmt)
    elif isinstance(body, ast.Block):
        for s in body.body:
            yield from label_names(s)
    elif isinstance(body, ast.If):
        yield from label_names(body.then)
        if body.other is not None:
            yield from label_names(body.other)
    elif isinstance(body, ast.While | ast.DoWhile | ast.For | ast.Atomic):
        yield from label_names(body.body)
    elif isinstance(body, ast.Either):
        for b in body.branches:
            yield from label_names(b)


def calls_in(e: ast.Expr) -> Iterator[ast.Call]:
    """Calls in evaluation order: arguments' calls come before the call.
    Quantifier bodies cannot call, and `&x` only names a location."""
    if isinstance(e, ast.Quant | ast.AddrOf):
        return
    for sub in expr_children(e):
        yield from calls_in(sub)
    if isinstance(e, ast.Call):
        yield e


def has_call(e: ast.Expr) -> bool:
    return any(True for _ in calls_in(e))


def conditional_call(e: ast.Expr, c: ast.Expr) -> bool:
    """Whether call (or assignment) `c` inside `e` runs only on some
    evaluations (short-circuit)."""
    if e is c:
        return False
    if isinstance(e, ast.Binary) and e.op in ("&&", "||"):
        return _inside(e.right, c) or conditional_call(e.left, c)
    if isinstance(e, ast.Cond):
        return _inside(e.then, c) or _inside(e.other, c) or conditional_call(e.cond, c)
    for sub in expr_children(e):
        if _inside(sub, c):
            return conditional_call(sub, c)
    return False


def _inside(e: ast.Expr, x: ast.Expr) -> bool:
    return any(sub is x for sub in subexprs(e, opaque=ast.Quant))


def assignments_in(e: ast.Expr) -> list[ast.AssignExpr]:
    """The assignment expressions in `e` in C's evaluation order (a nested
    one, `a = (b = c)`, before the one around it)."""
    out: list[ast.AssignExpr] = []

    def walk(x: ast.Expr) -> None:
        if isinstance(x, ast.Quant):
            return
        for sub in expr_children(x):
            walk(sub)
        if isinstance(x, ast.AssignExpr):
            out.append(x)

    walk(e)
    return out


def has_warn(e: ast.Expr) -> bool:
    """Whether `e` holds a `WARN_ON()` (a condition that fires an event)."""
    return any(isinstance(x, ast.Warn) for x in subexprs(e, opaque=ast.Quant))


def has_effect(e: ast.Expr) -> bool:
    """Whether evaluating `e` calls a procedure, stores (an assignment) or
    fires a warning: such a condition is split as C evaluates it."""
    return has_call(e) or bool(assignments_in(e)) or has_warn(e)


def conditional_calls(e: ast.Expr) -> bool:
    return any(conditional_call(e, c) for c in calls_in(e))


def is_location(e: ast.Expr, el: object) -> bool:
    return isinstance(e, ast.Name | ast.Member | ast.Index | ast.Deref) and \
        not isinstance(getattr(el, "refs", {}).get(e), ConstSym | EnumMemberSym)


def head_span(stmt: Span, cond: Span) -> Span:
    """`if (cond)` or `while (cond)`: the statement up to its condition's ')'."""
    return Span(stmt.file, stmt.line, stmt.column, cond.end_line, cond.end_column + 1)


"""Lowering of conditions: split at `&&`, `||` and `!` when they contain
calls, so that each call runs only when C would; compile-time constant
conditions."""

from __future__ import annotations

from checker.dsl import ast
from checker.dsl.diagnostics import Span, SpecError
from checker.ir.astwalk import has_call
from checker.ir.fold import fold
from checker.ir.lower_call import CallLowerer
from checker.ir.nodes import Const, Unary


class CondLowerer(CallLowerer):
    """Branches on conditions."""

    # ------------------------------------------------------------ conditions
    def branch(self, e: ast.Expr, node: int, tnode: int, fnode: int, span: Span) -> None:
        """Jump from `node` to `tnode` if `e` holds, else to `fnode`.

        A condition without calls is evaluated in one step; one with calls is
        split at `&&`, `||` and `!` so that each call runs only when C would."""
        if isinstance(e, ast.Unary) and e.op == "!" and has_call(e):
            self.branch(e.operand, node, fnode, tnode, span)
            return
        if isinstance(e, ast.Binary) and e.op in ("&&", "||") and has_call(e):
            mid = self.node()
            if e.op == "&&":
                self.branch(e.left, node, mid, fnode, span)
            else:
                self.branch(e.left, node, tnode, mid, span)
            self.branch(e.right, mid, tnode, fnode, span)
            return
        node = self.hoist(e, node)
        c = self.cond(e)
        resets = self.consume(e)
        if isinstance(c, Const):
            self.emit(node, tnode if c.value else fnode, span, body=resets)
            return
        self.emit(node, tnode, span, guard=c, body=resets)
        self.emit(node, fnode, span, guard=fold(Unary("!", c)), body=resets)

    def static_cond(self, e: ast.Expr) -> bool | None:
        """The value of a condition fixed at compile time (options), if any."""
        if has_call(e):
            return None
        try:
            v = self.cond(e)
        except SpecError:
            return None
        return bool(v.value) if isinstance(v, Const) else None


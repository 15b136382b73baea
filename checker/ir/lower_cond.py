"""Lowering of conditions: split at `&&`, `||`, `!` and `?:` when they
contain calls or assignments, so that each runs only when C would; the
assignments of a condition in the condition's step; compile-time constant
conditions."""

from __future__ import annotations

from checker.dsl import ast
from checker.dsl.diagnostics import Span, SpecError
from checker.dsl.walk import subexprs
from checker.ir.astwalk import assignments_in, conditional_call, has_effect
from checker.ir.fold import fold
from checker.ir.footprint import body_footprint, touches_shared
from checker.ir.lower_call import CallLowerer
from checker.ir.nodes import TRUE, Assign, Binary, Const, Read, Stmt, Unary, Warn


class CondLowerer(CallLowerer):
    """Branches on conditions."""

    # ------------------------------------------------------------ conditions
    def branch(self, e: ast.Expr, node: int, tnode: int, fnode: int, span: Span) -> None:
        """Jump from `node` to `tnode` if `e` holds, else to `fnode`.

        A condition without calls is evaluated in one step; one with calls or
        assignments is split at `&&`, `||`, `!` and `?:` so that each runs
        only when C would."""
        if isinstance(e, ast.Warn):
            # `if (WARN_ON(c))`: the condition's value is c's; the way where
            # it holds fires the warning (a local edge: it fuses with the
            # test, so the steps are those of `if (c)`).
            prop = self.warn_site(e)
            fired = self.node()
            self.branch(e.cond, node, fired, fnode, span)
            self.emit(fired, tnode, None, body=(Warn(TRUE, prop),))
            return
        if isinstance(e, ast.Unary) and e.op == "!" and has_effect(e):
            self.branch(e.operand, node, fnode, tnode, span)
            return
        if isinstance(e, ast.Binary) and e.op in ("&&", "||") and has_effect(e):
            mid = self.node()
            if e.op == "&&":
                self.branch(e.left, node, mid, fnode, span)
            else:
                self.branch(e.left, node, tnode, mid, span)
            self.branch(e.right, mid, tnode, fnode, span)
            return
        if isinstance(e, ast.Cond) and has_effect(e):
            # `c ? f() : g()` as a condition: test c, then the branch taken.
            then_node, other_node = self.node(), self.node()
            self.branch(e.cond, node, then_node, other_node, span)
            self.branch(e.then, then_node, tnode, fnode, span)
            self.branch(e.other, other_node, tnode, fnode, span)
            return
        node = self.hoist(e, node)
        assigns = assignments_in(e)
        if assigns:
            self.branch_with_stores(e, assigns, node, tnode, fnode, span)
            return
        c = self.cond(e)
        resets = self.consume(e)
        if isinstance(c, Const):
            self.emit(node, tnode if c.value else fnode, span, body=resets)
            return
        self.emit(node, tnode, span, guard=c, body=resets)
        self.emit(node, fnode, span, guard=fold(Unary("!", c)), body=resets)

    def warn_site(self, w: ast.Warn) -> int:
        """The property of a `WARN_ON` site in a thread's code; an init block
        runs at build time, where no run records a warning, so one reached
        from there (through a procedure) is refused."""
        if self.tid == 0:
            raise self.error(w.span, f"{w.macro}() in code an init block runs: warnings are "
                                     "recorded in threads only")
        return self.b.warn_prop(w)

    def branch_with_stores(self, e: ast.Expr, assigns: list[ast.AssignExpr], node: int,
                           tnode: int, fnode: int, span: Span) -> None:
        """A condition with assignments (`(p = next(p)) != null`), its calls
        hoisted: the stores, left to right, then the test, in one step (the
        nodes between are an atomic region, as inside `atomic { }`). Each
        assignment's value is its target read after the store; a target at
        a run-time location is read back through a temporary, since the
        store may move the location (`a[a[0]] = 5`)."""
        for a in assigns:
            if conditional_call(e, a):
                raise self.error(a.span, "an assignment under '&&', '||' or '?:' is supported "
                                         "where the condition itself branches, not inside a "
                                         "comparison or arithmetic")
        saved = self.region
        first = len(self.g.edges)
        if saved is None:
            self.next_region += 1
            self.region = self.next_region
        cur = self.node()
        self.emit(node, cur, span)
        temps: list[Stmt] = []
        for a in assigns:
            for sub in subexprs(a.target):
                if isinstance(sub, ast.Call):
                    raise self.error(sub.span, "a call cannot appear in an assignment's target")
            lv = self.lvalue(a.target)
            loc = self.scalar_loc(lv, a.span)
            value = self.expr(a.value)
            if a.op != "=":
                value = fold(Binary(a.op[:-1], Read(loc), value))
            body: tuple[Stmt, ...] = (Assign(loc, value),)
            if loc.dyn:
                tmp = self.new_slot(f"tmp{self.temps + 1}", lv.type)
                self.temps += 1
                body = (Assign(tmp.loc(), value), Assign(loc, Read(tmp.loc())))
                temps.extend(self.resets_for([tmp]))
                self.assigned_values[a] = Read(tmp.loc())
            else:
                self.assigned_values[a] = Read(loc)
            nxt = self.node()
            self.emit(cur, nxt, a.span, body=body)
            cur = nxt
        c = self.cond(e)
        resets = (*self.consume(e), *temps)
        if isinstance(c, Const):
            self.emit(cur, tnode if c.value else fnode, None, body=resets)
        else:
            self.emit(cur, tnode, None, guard=c, body=resets)
            self.emit(cur, fnode, None, guard=fold(Unary("!", c)), body=resets)
        self.region = saved
        if saved is None:
            self.untag_if_local(first)

    def untag_if_local(self, first: int) -> None:
        """A condition whose stores and test touch only the thread's own
        variables needs no region of its own: its edges are local and fuse
        with the step before them, as any local statement does (rule 2), so
        `while ((p = p->next) != null)` costs what `p = p->next;` and the test
        cost."""
        edges = self.g.edges[first:]
        slots = self.layout.slots
        if any(touches_shared(body_footprint(e.guard, e.body), slots) for e in edges):
            return
        for e in edges:
            e.region = None
            self.g.region_of[e.dst] = None
            self.g.region_of[e.src] = None

    def static_cond(self, e: ast.Expr) -> bool | None:
        """The value of a condition fixed at compile time (options), if any."""
        if has_effect(e):
            return None
        try:
            v = self.cond(e)
        except SpecError:
            return None
        return bool(v.value) if isinstance(v, Const) else None


"""Lower one thread instance's code (or an init block) to a micro control-flow
graph: nodes are program points, edges are single statements (guard + body).

Procedures are inlined at each call site; their parameters and locals live in
one frame per (thread, procedure), which is reset to defaults when the call
returns (a returned-from frame is dead, and keeping stale values would only
multiply states). A pointer parameter whose target no pool holds is bound by
reference: the argument `&class->lock` is resolved at the call to a location,
its dynamic parts (`class`) captured in hidden slots when they read shared
state. Compile-time constant conditions (`if (option)`) lower only the branch
taken. `checker.ir.fuse` then turns the micro-graph into atomic steps.

The parts live in `lower_base`, `lower_expr`, `lower_call` and
`lower_cond`; this module adds statements.
"""

from __future__ import annotations

from checker.dsl import ast
from checker.dsl.diagnostics import Span
from checker.dsl.walk import subexprs
from checker.ir.astwalk import (
    conditional_calls,
    has_call,
    has_warn,
    head_span,
    label_names,
)
from checker.ir.fold import fold
from checker.ir.lower_cond import CondLowerer
from checker.ir.micro import LV, Frame, MicroEdge
from checker.ir.nodes import (
    FALSE,
    TRUE,
    AllocObj,
    Assert,
    Assign,
    Binary,
    Const,
    CoverHit,
    FreeObj,
    If,
    Loc,
    Read,
    StartThread,
    Stmt,
    Warn,
)
from checker.sema.symbols import PoolSym, ThreadSym
from checker.sema.types import ArrayType, BoolType, StructType


def is_progress_label(name: str) -> bool:
    """A label that marks progress: `progress`, or a name that starts with
    it (`progress_scan`), as SPIN's progress labels."""
    return name.startswith("progress")

class BodyLowerer(CondLowerer):
    """Lowers the body of one thread instance (tid > 0) or an init block (tid 0)."""

    # ------------------------------------------------------------ entry points
    def lower_thread(self, t: ThreadSym, params: dict[object, LV], entry: int,
                     exit_: int) -> None:
        labels = {name: self.g.node(None) for name in label_names(t.decl.body)}
        frame = Frame(t.name, dict(params), labels, exit_, None, ())
        self.frames.append(frame)
        end = self.stmt(t.decl.body, entry)
        if end is not None:
            self.emit(end, exit_, None)
        self.frames.pop()

    def lower_init(self, body: ast.Block, entry: int, exit_: int) -> None:
        labels = {name: self.g.node(None) for name in label_names(body)}
        self.frames.append(Frame("init", {}, labels, exit_, None, ()))
        end = self.stmt(body, entry)
        if end is not None:
            self.emit(end, exit_, None)
        self.frames.pop()

    # ------------------------------------------------------------ statements
    def stmt(self, s: ast.Stmt, node: int) -> int | None:
        """Lower `s` starting at `node`; the node after it, or None if control
        does not fall through."""
        if isinstance(s, ast.Block):
            cur: int | None = node
            for sub in s.body:
                if cur is None:
                    # Unreachable code after goto/return/break: lower it from a
                    # fresh node so that labels inside it still work.
                    cur = self.node()
                cur = self.stmt(sub, cur)
            return cur
        if isinstance(s, ast.VarDecl):
            sym = self.el.decl_syms[s]
            lv = self.local_lv(sym)
            if s.init is None:
                return node
            return self.assign_value(lv, s.init, node, s.span)
        if isinstance(s, ast.Assign):
            node = self.hoist_lvalue(s.target, node)
            lv = self.lvalue(s.target)
            if s.op == "=":
                return self.assign_value(lv, s.value, node, s.span)
            node = self.hoist(s.value, node)
            op = s.op[:-1]
            value = fold(Binary(op, Read(self.scalar_loc(lv, s.span)), self.expr(s.value)))
            nxt = self.node()
            self.emit(node, nxt, s.span, body=(Assign(lv.loc(), value), *self.consume(s.value)))
            return nxt
        if isinstance(s, ast.IncDec):
            node = self.hoist_lvalue(s.target, node)
            lv = self.lvalue(s.target)
            op = "+" if s.op == "++" else "-"
            nxt = self.node()
            value = Binary(op, Read(self.scalar_loc(lv, s.span)), Const(1))
            self.emit(node, nxt, s.span, body=(Assign(lv.loc(), value),))
            return nxt
        if isinstance(s, ast.CallStmt):
            node = self.hoist(s.call, node)
            resets = self.consume(s.call)
            if resets:
                nxt = self.node()
                self.emit(node, nxt, None, body=resets)
                return nxt
            return node
        if isinstance(s, ast.If):
            fixed = self.static_cond(s.cond)
            if fixed is not None:
                taken = s.then if fixed else s.other
                return self.stmt(taken, node) if taken is not None else node
            tnode, fnode = self.node(), self.node()
            self.branch(s.cond, node, tnode, fnode, head_span(s.span, s.cond.span))
            tend = self.stmt(s.then, tnode)
            fend = self.stmt(s.other, fnode) if s.other is not None else fnode
            if tend is None and fend is None:
                return None
            join = self.node()
            for end in (tend, fend):
                if end is not None:
                    self.emit(end, join, None)
            return join
        if isinstance(s, ast.While):
            head, body, out = self.node(), self.node(), self.node()
            self.emit(node, head, None)
            fixed = self.static_cond(s.cond)
            if fixed is False:
                return node
            if fixed is True:
                self.emit(head, body, None)
            else:
                self.branch(s.cond, head, body, out, head_span(s.span, s.cond.span))
            self.loops.append((out, head))
            end = self.stmt(s.body, body)
            self.loops.pop()
            if end is not None:
                self.emit(end, head, None)
            return self.if_reached(out)
        if isinstance(s, ast.DoWhile):
            body, test, out = self.node(), self.node(), self.node()
            self.emit(node, body, None)
            self.loops.append((out, test))
            end = self.stmt(s.body, body)
            self.loops.pop()
            if end is not None:
                self.emit(end, test, None)
            fixed = self.static_cond(s.cond)
            if fixed is None:
                self.branch(s.cond, test, body, out, s.cond.span)
            else:
                self.emit(test, body if fixed else out, None)
            return self.if_reached(out)
        if isinstance(s, ast.For) and self.region is not None and s in self.el.unrolled:
            return self.unrolled_for(s, node)
        if isinstance(s, ast.For):
            if s.init is not None:
                nn = self.stmt(s.init, node)
                assert nn is not None
                node = nn
            head, body, step, out = self.node(), self.node(), self.node(), self.node()
            self.emit(node, head, None)
            if s.cond is None:
                self.emit(head, body, None)
            else:
                fixed = self.static_cond(s.cond)
                if fixed is None:
                    self.branch(s.cond, head, body, out, s.cond.span)
                else:
                    self.emit(head, body if fixed else out, None)
            self.loops.append((out, step))
            end = self.stmt(s.body, body)
            self.loops.pop()
            if end is not None:
                self.emit(end, step, None)
            after = self.stmt(s.step, step) if s.step is not None else step
            if after is not None:
                self.emit(after, head, None)
            return self.if_reached(out)
        if isinstance(s, ast.Goto):
            self.emit(node, self.frames[-1].labels[s.label], s.span)
            return None
        if isinstance(s, ast.Label):
            target = self.frames[-1].labels[s.name]
            self.emit(node, target, None)
            if is_progress_label(s.name):
                # The mark sits after the label, so that a goto to it and
                # falling into it both pass the mark; it is a jump with no
                # statement, fused into the step that runs through it.
                marked = self.node()
                self.g.edges.append(MicroEdge(target, marked, TRUE, (), (), self.region,
                                              progress=True))
                return self.stmt(s.stmt, marked)
            return self.stmt(s.stmt, target)
        if isinstance(s, ast.Return):
            frame = self.frames[-1]
            if s.value is None:
                self.emit(node, frame.ret_node, s.span)
                return None
            assert frame.result is not None
            if (has_call(s.value) or has_warn(s.value)) and isinstance(frame.result.type,
                                                                        BoolType):
                tnode, fnode = self.node(), self.node()
                self.branch(s.value, node, tnode, fnode, s.span)
                self.emit(tnode, frame.ret_node, None, body=(Assign(frame.result.loc(), TRUE),))
                self.emit(fnode, frame.ret_node, None, body=(Assign(frame.result.loc(), FALSE),))
                return None
            node = self.hoist(s.value, node)
            value = self.expr(s.value)
            self.emit(node, frame.ret_node, s.span,
                      body=(Assign(frame.result.loc(), value), *self.consume(s.value)))
            return None
        if isinstance(s, ast.Break | ast.Continue):
            out, cont = self.loops[-1]
            self.emit(node, out if isinstance(s, ast.Break) else cont, s.span)
            return None
        if isinstance(s, ast.Atomic):
            # Every node inside the block carries a region tag; fusion turns
            # each path from the block's entry to an untagged node into one step.
            saved = self.region
            if saved is None:
                self.next_region += 1
                self.region = self.next_region
            inner = self.node()
            self.emit(node, inner, s.span)
            end = self.stmt(s.body, inner)
            if end is None:
                self.region = saved
                return None
            out = self.g.node(saved)
            self.emit(end, out, None)
            self.region = saved
            return out
        if isinstance(s, ast.Await):
            node = self.hoist(s.cond, node)
            nxt = self.node()
            c = self.cond(s.cond)
            self.emit(node, nxt, s.span, guard=c, body=self.consume(s.cond), blocking=True)
            return nxt
        if isinstance(s, ast.Either):
            join = self.node()
            any_end = False
            for br in s.branches:
                entry = self.node()
                self.emit(node, entry, s.span, choice=True)
                end = self.stmt(br, entry)
                if end is not None:
                    self.emit(end, join, None)
                    any_end = True
            return join if any_end else None
        if isinstance(s, ast.Assert):
            prop = self.b.assert_prop(s)
            if self.frames[-1].might_sleep:
                self.b.sleep_check(prop)
            if conditional_calls(s.cond):
                # Calls under && or ||: evaluate as C would, then fail or go on.
                ok, fail = self.node(), self.node()
                self.branch(s.cond, node, ok, fail, s.span)
                self.emit(fail, ok, s.span, body=(Assert(FALSE, prop),))
                return ok
            node = self.hoist(s.cond, node)
            nxt = self.node()
            self.emit(node, nxt, s.span, body=(Assert(self.cond(s.cond), prop),
                                               *self.consume(s.cond)))
            return nxt
        if isinstance(s, ast.WarnStmt):
            w = s.warn
            if conditional_calls(w.cond) or has_warn(w.cond):
                # Calls under && or ||, or a nested WARN_ON: evaluated as C would.
                nxt = self.node()
                self.branch(w, node, nxt, nxt, s.span)
                return nxt
            prop = self.warn_site(w)
            node = self.hoist(w.cond, node)
            nxt = self.node()
            self.emit(node, nxt, s.span, body=(Warn(self.cond(w.cond), prop),
                                               *self.consume(w.cond)))
            return nxt
        if isinstance(s, ast.Cover):
            cover = self.b.cover(s)
            nxt = self.node()
            hit: Stmt = CoverHit(cover)
            if s.cond is not None:
                node = self.hoist(s.cond, node)
                hit = If(self.cond(s.cond), (hit,))
                self.emit(node, nxt, s.span, body=(hit, *self.consume(s.cond)))
            else:
                self.emit(node, nxt, s.span, body=(hit,))
            return nxt
        if isinstance(s, ast.Start):
            for a in s.args:
                node = self.hoist(a, node)
            args = tuple(self.expr(a) for a in s.args)
            start_resets: list[Stmt] = []
            for a in s.args:
                start_resets.extend(self.consume(a))
            nxt = self.node()
            start = StartThread(s.thread, args, self.b.thread_slots(s.thread))
            self.emit(node, nxt, s.span, body=(start, *start_resets), force_visible=True)
            return nxt
        if isinstance(s, ast.Free) and isinstance(s.operand, ast.NullLit):
            return node  # free(null) does nothing: no step
        if isinstance(s, ast.Free):
            node = self.hoist(s.operand, node)
            pt = self.el.type_of(s.operand)
            pool = self.el.pool_of(pt)
            assert pool is not None
            nxt = self.node()
            self.emit(node, nxt, s.span, body=(FreeObj(self.expr(s.operand), pool.name),
                                               *self.consume(s.operand)), force_visible=True)
            return nxt
        if isinstance(s, ast.Empty):
            return node
        raise AssertionError(s)  # pragma: no cover

    def if_reached(self, out: int) -> int | None:
        """A loop's exit node, or None when nothing jumps there (`while (true)`
        without `break`), so that control does not fall through it: a
        procedure that returns from inside such a loop does not reach its end."""
        return out if any(e.dst == out for e in self.g.edges) else None

    def unrolled_for(self, s: ast.For, node: int) -> int | None:
        """A `for` with a constant trip count inside an atomic block (sema's
        `Elaboration.unrolled`): the body once per pass, the counter a
        constant in each, so the block stays one step and loop-free."""
        sym, values = self.el.unrolled[s]
        frame = self.frames[-1]
        out = self.node()
        saved = frame.binds.get(sym)
        cur = node
        for v in values:
            nxt = self.node()
            frame.binds[sym] = Const(v)
            self.loops.append((out, nxt))
            end = self.stmt(s.body, cur)
            self.loops.pop()
            if end is not None:
                self.emit(end, nxt, None)
            cur = nxt
        if saved is None:
            frame.binds.pop(sym, None)
        else:
            frame.binds[sym] = saved
        self.emit(cur, out, None)
        return out

    def hoist_lvalue(self, target: ast.Expr, node: int) -> int:
        for sub in subexprs(target, opaque=ast.Quant):
            if isinstance(sub, ast.Call):
                raise self.error(sub.span, "a call cannot appear in an assignment's target")
        return node

    def assign_value(self, lv: LV, value: ast.Expr, node: int, span: Span) -> int:
        nxt = self.node()
        if isinstance(value, ast.Alloc):
            pool = self.el.refs[value]
            assert isinstance(pool, PoolSym)
            self.emit(node, nxt, span, body=(AllocObj(self.scalar_loc(lv, span), pool.name),),
                      force_visible=True)
            return nxt
        if isinstance(value, ast.ChooseRange):
            lo, hi = self.const(value.lo), self.const(value.hi)
            if lo > hi:
                raise self.error(value.span, f"empty choice {lo}..{hi}")
            for v in range(lo, hi + 1):
                self.emit(node, nxt, span, body=(Assign(self.scalar_loc(lv, span), Const(v)),),
                          choice=True)
            return nxt
        if isinstance(value, ast.ChooseList):
            for item in value.items:
                n2 = self.hoist(item, node)
                self.emit(n2, nxt, span, body=(Assign(self.scalar_loc(lv, span), self.expr(item)),
                                               *self.consume(item)), choice=True)
            return nxt
        if isinstance(lv.type, BoolType) and ((has_call(value) and conditional_calls(value))
                                              or has_warn(value)):
            tnode, fnode = self.node(), self.node()
            self.branch(value, node, tnode, fnode, span)
            self.emit(tnode, nxt, None, body=(Assign(lv.loc(), TRUE),))
            self.emit(fnode, nxt, None, body=(Assign(lv.loc(), FALSE),))
            return nxt
        node = self.hoist(value, node)
        size = self.layout.size(lv.type)
        if (size == 1 and not isinstance(lv.type, StructType | ArrayType)) or \
                (isinstance(lv.type, StructType) and lv.type.is_word):
            body: tuple[Stmt, ...] = (Assign(lv.loc(), self.expr(value)), *self.consume(value))
        else:
            src = self.lvalue(value)
            body = tuple(Assign(Loc(lv.base + k, lv.dyn), Read(Loc(src.base + k, src.dyn)))
                         for k in range(size))
        self.emit(node, nxt, span, body=body)
        return nxt



"""Lowering of calls: inlining at each call site, per-(thread, procedure)
frames reset on return, by-reference binding, and the lock events of a
procedure's annotations."""

from __future__ import annotations

from dataclasses import replace

from checker.dsl import ast
from checker.ir.astwalk import calls_in, conditional_call, label_names
from checker.ir.lockkind import MIGHT_SLEEP, LockOp, lock_annotation
from checker.ir.lower_base import LowererBase
from checker.ir.lower_expr import ExprLowerer
from checker.ir.micro import LV, Frame
from checker.ir.nodes import Assign, Const, Expr, LockEvent, Read, Stmt
from checker.sema.symbols import LocalSym, ProcSym
from checker.sema.types import PtrType, Type, VoidType


class CallLowerer(ExprLowerer):
    """Hoisting and inlining of calls."""

    # ------------------------------------------------------------ calls
    def hoist(self, e: ast.Expr, node: int) -> int:
        """Inline every call in `e`, left to right; results in `call_results`.

        Calls under `&&`, `||` or `?:` would lose C's short-circuit order
        here; conditions are split by `branch` first, and other contexts with
        such calls are rejected."""
        calls = list(calls_in(e))
        if not calls:
            return node
        for c in calls:
            if conditional_call(e, c):
                raise self.error(c.span, "a call under '&&', '||' or '?:' is only supported in a "
                                         "condition (if, while, return of a bool)")
        names = [c.name for c in calls]
        for c in calls:
            node, result = self.inline(c, node)
            if result is not None and names.count(c.name) > 1:
                # The same procedure is called again in this expression: copy
                # the result out of its frame before the frame is reused.
                tmp = self.temp(result)
                self.pending_resets.extend(self.resets_for([tmp]))
                mid = self.node()
                self.emit(node, mid, c.span, body=(Assign(tmp.loc(), Read(result.loc())),
                                                   *self.take_resets_of(c)))
                node = mid
                self.call_results[c] = Read(tmp.loc())
            elif result is not None:
                self.call_results[c] = Read(result.loc())
        return node

    def temp(self, like: LV) -> LV:
        self.temps += 1
        return self.new_slot(f"tmp{self.temps}", like.type)

    def take_resets_of(self, c: ast.Call) -> list[Stmt]:
        out = self._call_resets.pop(c, [])
        return out

    @property
    def _call_resets(self) -> dict[ast.Call, list[Stmt]]:
        if not hasattr(self, "_call_resets_map"):
            self._call_resets_map: dict[ast.Call, list[Stmt]] = {}
        return self._call_resets_map

    def consume(self, e: ast.Expr) -> tuple[Stmt, ...]:
        """The frame resets owed once the value of `e` has been used."""
        out: list[Stmt] = []
        for c in calls_in(e):
            out.extend(self._call_resets.pop(c, []))
        out.extend(self.pending_resets)
        self.pending_resets = []
        return tuple(out)

    def inline(self, c: ast.Call, node: int) -> tuple[int, LV | None]:
        proc = self.el.refs[c]
        assert isinstance(proc, ProcSym)
        if any(f.owner == proc.name for f in self.frames):
            raise self.error(c.span, f"recursive call of '{proc.name}'")
        # Arguments: hoist calls inside them first.
        for a in c.args:
            if not isinstance(a, ast.AddrOf):
                node = self.hoist(a, node)
        frame_binds = self.proc_frames.setdefault(proc.name, {})
        binds: dict[object, LV | Expr] = {}
        assigns: list[Stmt] = []
        captured: list[LV] = []
        for a, p in zip(c.args, proc.params, strict=True):
            if p.alias:
                lv = self.alias_arg(a, p, captured, assigns)
                binds[p] = lv
                continue
            plv = frame_binds.get(p)
            if plv is None:
                plv = self.new_slot(f"{proc.name}.{p.name}", p.type)
                frame_binds[p] = plv
            binds[p] = plv
            assigns.append(Assign(plv.loc(), self.expr(a)))
        for a in c.args:
            if not isinstance(a, ast.AddrOf):
                assigns.extend(self.consume(a))
        for loc_sym in proc.locals:
            local_lv = frame_binds.get(loc_sym)
            if local_lv is None:
                local_lv = self.new_slot(f"{proc.name}.{loc_sym.name}", loc_sym.type)
                frame_binds[loc_sym] = local_lv
            binds[loc_sym] = local_lv
        result: LV | None = None
        if not isinstance(proc.ret, VoidType):
            result = frame_binds.get("<result>")
            if result is None:
                result = self.new_slot(f"{proc.name}()", proc.ret)
                frame_binds["<result>"] = result
        entry = self.node()
        self.emit(node, entry, c.span, body=tuple(assigns))
        ret = self.node()
        labels = {name: self.node() for name in label_names(proc.decl.body)}
        stack = (*self.frames[-1].stack, c.span)
        frame = Frame(proc.name, binds, labels, ret, result, stack,
                       wrapper=len(proc.decl.body.body) == 1,
                       might_sleep=any(k == MIGHT_SLEEP for k, _ in proc.lock_annotations))
        saved_loops = self.loops
        self.loops = []
        self.frames.append(frame)
        end = self.stmt(proc.decl.body, entry)
        if end is not None:
            if result is not None:
                raise self.error(proc.decl.body.span, f"'{proc.name}' can reach its end without "
                                                      "returning a value")
            self.emit(end, ret, None)
        self.frames.pop()
        self.loops = saved_loops
        # Lock events declared by annotations, and the frame's reset.
        events: list[Stmt] = []
        for kind, pname in proc.lock_annotations:
            declared = lock_annotation(kind)
            if declared is None:
                continue
            op, shared = declared
            param = next(p for p in proc.params if p.name == pname)
            bound = binds[param]
            if isinstance(bound, LV):
                lock_lv = bound
            else:  # pragma: no cover
                continue
            held_if = None
            if op is LockOp.TRY_ACQUIRE and result is not None:
                held_if = Read(result.loc())
            events.append(LockEvent(op, shared, lock_lv.loc(), lock_lv.path, held_if))
        frame_lvs = [lv for s, lv in binds.items() if isinstance(lv, LV) and s in frame_binds
                     and frame_binds[s] is lv]
        resets = self.resets_for(frame_lvs + captured)
        after = self.node()
        if result is None:
            self.emit(ret, after, None, body=(*events, *resets))
            return after, None
        self.emit(ret, after, None, body=tuple(events))
        self._call_resets[c] = resets + self.resets_for([result])
        return after, result

    def alias_arg(self, a: ast.Expr, p: LocalSym, captured: list[LV],
                  assigns: list[Stmt]) -> LV:
        """Bind a by-reference parameter to the location its argument names."""
        if isinstance(a, ast.Name):
            got = self.lookup(self.el.refs[a], a.span)
            assert isinstance(got, LV)
            return got
        assert isinstance(a, ast.AddrOf)
        lv = self.lvalue(a.operand)
        dyn = []
        for d in lv.dyn:
            if _reads_only_locals(d.expr, self):
                dyn.append(d)
                continue
            # The address reads shared state: evaluate it now, as C would.
            cap_t: Type = PtrType(self.layout.pools[d.pool].elem) if d.pool else \
                self.index_type(d.count)
            cap = self.new_slot(f"&{p.name}.{len(captured)}", cap_t)
            captured.append(cap)
            assigns.append(Assign(cap.loc(), d.expr))
            dyn.append(replace(d, expr=Read(cap.loc())))
        return replace(lv, dyn=tuple(dyn))

    def index_type(self, count: int) -> Type:
        from checker.sema.types import IntType

        return IntType(0, count - 1)



def _reads_only_locals(e: Expr, low: LowererBase) -> bool:
    if isinstance(e, Const):
        return True
    if isinstance(e, Read):
        loc = e.loc
        if loc.dyn:
            return False
        return not low.layout.slots[loc.base].shared
    return False


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
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from checker.dsl import ast
from checker.dsl.diagnostics import SourceCache, Span, SpecError
from checker.ir.layout import WordField
from checker.ir.nodes import (
    FALSE,
    TRUE,
    AllocObj,
    Assert,
    Assign,
    Binary,
    Const,
    CoverHit,
    Dyn,
    Expr,
    FieldOf,
    FreeObj,
    If,
    Ite,
    Loc,
    LockEvent,
    Origin,
    Read,
    StartThread,
    Stmt,
    Unary,
)
from checker.sema.symbols import (
    ConstSym,
    EnumMemberSym,
    GlobalSym,
    LocalSym,
    PoolSym,
    ProcSym,
    QuantVarSym,
    ThreadSym,
)
from checker.sema.types import (
    ArrayType,
    BoolType,
    PtrType,
    StructType,
    Type,
    VoidType,
)

if TYPE_CHECKING:
    from checker.ir.build import ScenarioBuilder


# ---------------------------------------------------------------- lvalues


@dataclass(frozen=True)
class LV:
    """A location designator, possibly of a composite (struct/array) value.

    `path` names the location's class for lock analysis: `size_class.lock`,
    `page`; indices and references are dropped from it."""

    base: int
    dyn: tuple[Dyn, ...]
    type: Type
    path: str
    bits: WordField | None = None

    def loc(self) -> Loc:
        b = self.bits
        return Loc(self.base, self.dyn, (b.shift, b.width, b.lo, b.hi) if b else None)


# ---------------------------------------------------------------- micro graph


@dataclass
class MicroEdge:
    src: int
    dst: int
    guard: Expr
    body: tuple[Stmt, ...]
    origins: tuple[Origin, ...]
    region: int | None = None
    force_visible: bool = False
    blocking: bool = False  # an await: its guard may be false with no alternative
    exit: bool = False  # the thread's end: on_exit checks and reset of its variables
    choice: bool = False  # one of several nondeterministic alternatives (either, choose)


@dataclass
class MicroGraph:
    edges: list[MicroEdge] = field(default_factory=list)
    region_of: dict[int, int | None] = field(default_factory=dict)
    origin_of: dict[int, Origin] = field(default_factory=dict)
    count: int = 0

    def node(self, region: int | None) -> int:
        n = self.count
        self.count += 1
        self.region_of[n] = region
        return n

    def out_edges(self) -> dict[int, list[MicroEdge]]:
        out: dict[int, list[MicroEdge]] = {}
        for e in self.edges:
            out.setdefault(e.src, []).append(e)
        return out


# ---------------------------------------------------------------- frames


@dataclass
class _Frame:
    """Where a function body's names live during one inlining."""

    owner: str
    binds: dict[object, LV | Expr]
    labels: dict[str, int]
    ret_node: int
    result: LV | None
    stack: tuple[Span, ...]
    wrapper: bool = False


class BodyLowerer:
    """Lowers the body of one thread instance (tid > 0) or an init block (tid 0)."""

    def __init__(self, builder: ScenarioBuilder, tid: int, kind: str):
        self.b = builder
        self.el = builder.el
        self.layout = builder.layout
        self.tid = tid
        self.kind = kind
        self.g = MicroGraph()
        self.region: int | None = None
        self.next_region = 0
        self.frames: list[_Frame] = []
        self.loops: list[tuple[int, int]] = []  # (break target, continue target)
        self.proc_frames: dict[str, dict[object, LV]] = {}
        self.owned: list[int] = []
        self.pending_resets: list[Stmt] = []
        self.temps = 0

    # ------------------------------------------------------------ utilities
    def error(self, span: Span, msg: str) -> SpecError:
        stack = self.frames[-1].stack if self.frames else ()
        notes = [(s, "inlined from this call") for s in reversed(stack)]
        from checker.dsl.diagnostics import Diagnostic

        return SpecError([Diagnostic(span, msg, "error", tuple(notes))])

    def origin(self, span: Span) -> Origin:
        f = self.frames[-1]
        return Origin(span, f.stack, f.owner, tuple(fr.wrapper for fr in self.frames))

    def node(self) -> int:
        return self.g.node(self.region)

    def emit(self, src: int, dst: int, span: Span | None, guard: Expr = TRUE,
             body: tuple[Stmt, ...] = (), force_visible: bool = False,
             blocking: bool = False, choice: bool = False) -> None:
        origins = (self.origin(span),) if span is not None else ()
        if origins and src not in self.g.origin_of:
            self.g.origin_of[src] = origins[0]
        self.g.edges.append(MicroEdge(src, dst, guard, body, origins, self.region, force_visible,
                                      blocking, choice=choice))

    def new_slot(self, name: str, t: Type, frame: bool = True) -> LV:
        base = self.layout.add(name, t, thread=self.tid if self.tid else -1, frame=frame)
        self.owned.extend(range(base, base + self.layout.size(t)))
        return LV(base, (), t, name)

    def resets_for(self, lvs: list[LV]) -> list[Stmt]:
        out: list[Stmt] = []
        for lv in lvs:
            for k in range(self.layout.size(lv.type)):
                slot = self.layout.slots[lv.base + k]
                out.append(Assign(Loc(lv.base + k), Const(slot.default)))
        return out

    # ------------------------------------------------------------ entry points
    def lower_thread(self, t: ThreadSym, params: dict[object, LV], entry: int,
                     exit_: int) -> None:
        labels = {name: self.g.node(None) for name in _labels(t.decl.body)}
        frame = _Frame(t.name, dict(params), labels, exit_, None, ())
        self.frames.append(frame)
        end = self.stmt(t.decl.body, entry)
        if end is not None:
            self.emit(end, exit_, None)
        self.frames.pop()

    def lower_init(self, body: ast.Block, entry: int, exit_: int) -> None:
        labels = {name: self.g.node(None) for name in _labels(body)}
        self.frames.append(_Frame("init", {}, labels, exit_, None, ()))
        end = self.stmt(body, entry)
        if end is not None:
            self.emit(end, exit_, None)
        self.frames.pop()

    # ------------------------------------------------------------ names
    def lookup(self, sym: object, span: Span) -> LV | Expr:
        for f in reversed(self.frames):
            if sym in f.binds:
                return f.binds[sym]
            break  # names never see an enclosing frame (no nested functions)
        if isinstance(sym, LocalSym):
            return self.local_lv(sym)
        if isinstance(sym, GlobalSym):
            if sym.thread_local:
                if self.tid == 0:
                    raise self.error(span, f"thread-local '{sym.name}' in init")
                return self.b.thread_local_lv(self.tid, sym)
            return self.b.global_lv(sym)
        raise AssertionError(sym)

    def local_lv(self, sym: LocalSym) -> LV:
        frame = self.frames[-1]
        binds = self.proc_frames.setdefault(frame.owner, {})
        lv = binds.get(sym)
        if lv is None:
            owner = frame.owner
            in_thread = owner == self.kind
            lv = self.new_slot(sym.name if in_thread else f"{owner}.{sym.name}", sym.type,
                               frame=not in_thread)
            binds[sym] = lv
        frame.binds[sym] = lv
        return lv

    # ------------------------------------------------------------ lvalues
    def lvalue(self, e: ast.Expr) -> LV:
        el = self.el
        if isinstance(e, ast.Name):
            sym = el.refs[e]
            got = self.lookup(sym, e.span)
            if not isinstance(got, LV):
                raise self.error(e.span, "not a location")
            return got
        if isinstance(e, ast.Member):
            base = self.deref(e.base) if e.arrow else self.lvalue(e.base)
            st = base.type
            assert isinstance(st, StructType)
            if st.is_word:
                if base.bits is not None:
                    raise self.error(e.span, "a word field has no fields")
                wf = self.layout.word_fields(st)[e.name]
                return replace(base, type=wf.type, bits=wf, path=f"{base.path}.{e.name}")
            off = self.layout.field_offset(st, e.name)
            return LV(base.base + off, base.dyn, st.fields[e.name].type, f"{base.path}.{e.name}")
        if isinstance(e, ast.Index):
            base = self.lvalue(e.base)
            at = base.type
            assert isinstance(at, ArrayType)
            idx = self.expr(e.index)
            stride = self.layout.size(at.elem)
            if isinstance(idx, Const):
                if not 0 <= idx.value < at.length:
                    raise self.error(e.index.span, f"index {idx.value} is out of bounds "
                                                   f"0..{at.length - 1}")
                return LV(base.base + idx.value * stride, base.dyn, at.elem, base.path)
            return LV(base.base, (*base.dyn, Dyn(idx, stride, at.length)), at.elem, base.path)
        if isinstance(e, ast.Deref):
            return self.deref(e.operand)
        raise self.error(e.span, "not a location")

    def deref(self, e: ast.Expr) -> LV:
        """The object a pointer expression designates."""
        if isinstance(e, ast.Name):
            sym = self.el.refs[e]
            if isinstance(sym, LocalSym) and sym.alias:
                got = self.lookup(sym, e.span)
                assert isinstance(got, LV)
                return got
        pt = self.el.type_of(e)
        assert isinstance(pt, PtrType)
        pool = self.el.pool_of(pt)
        assert pool is not None
        info = self.layout.pools[pool.name]
        ref = self.expr(e)
        if isinstance(ref, Const) and ref.value == 0:
            raise self.error(e.span, "dereference of null")
        return LV(info.base + 1, (Dyn(ref, info.stride, info.size, pool.name, info.base),),
                  pool.elem, pool.elem.name)

    def scalar_loc(self, lv: LV, span: Span) -> Loc:
        if isinstance(lv.type, ArrayType) or (isinstance(lv.type, StructType)
                                              and not lv.type.is_word):
            raise self.error(span, f"'{lv.type}' is not a scalar here")
        return lv.loc()

    # ------------------------------------------------------------ expressions
    def expr(self, e: ast.Expr) -> Expr:
        """Lower an expression whose calls have been hoisted already."""
        el = self.el
        if isinstance(e, ast.IntLit):
            return Const(e.value)
        if isinstance(e, ast.BoolLit):
            return Const(int(e.value))
        if isinstance(e, ast.NullLit):
            return FALSE
        if isinstance(e, ast.Current):
            return Const(self.tid)
        if isinstance(e, ast.NoThread):
            return Const(0)
        if isinstance(e, ast.Name):
            sym = el.refs[e]
            if isinstance(sym, ConstSym):
                return Const(sym.value)
            if isinstance(sym, EnumMemberSym):
                return Const(sym.index)
            if isinstance(sym, QuantVarSym):
                got = self.lookup(sym, e.span)
                assert isinstance(got, Expr)
                return got
            got = self.lookup(sym, e.span)
            if isinstance(got, Expr):
                return got
            return Read(self.scalar_loc(got, e.span))
        if isinstance(e, ast.Call):
            res = self.call_results.get(e)
            if res is None:  # pragma: no cover - hoisting missed a call
                raise self.error(e.span, "internal: call not hoisted")
            return res
        if isinstance(e, ast.Member):
            if not e.arrow and not _is_location(e.base, el):
                base_t = el.type_of(e.base)
                assert isinstance(base_t, StructType) and base_t.is_word
                wf = self.layout.word_fields(base_t)[e.name]
                return FieldOf(self.expr(e.base), wf.shift, wf.width, wf.lo)
            return Read(self.scalar_loc(self.lvalue(e), e.span))
        if isinstance(e, ast.Index | ast.Deref):
            return Read(self.scalar_loc(self.lvalue(e), e.span))
        if isinstance(e, ast.Unary):
            a = self.expr(e.operand)
            if e.op == "!":
                return _fold(Unary("!", self.truth(a, e.operand)))
            return _fold(Unary(e.op, a))
        if isinstance(e, ast.Binary):
            a = self.expr(e.left)
            b = self.expr(e.right)
            if e.op in ("&&", "||"):
                return _fold(Binary(e.op, self.truth(a, e.left), self.truth(b, e.right)))
            return _fold(Binary(e.op, a, b))
        if isinstance(e, ast.Cond):
            c = self.truth(self.expr(e.cond), e.cond)
            return _fold(Ite(c, self.expr(e.then), self.expr(e.other)))
        if isinstance(e, ast.Quant):
            return self.quant(e)
        raise self.error(e.span, f"cannot use {type(e).__name__.lower()} here")

    def truth(self, v: Expr, e: ast.Expr) -> Expr:
        if isinstance(self.el.type_of(e), BoolType):
            return v
        return _fold(Binary("!=", v, FALSE))

    def cond(self, e: ast.Expr) -> Expr:
        return self.truth(self.expr(e), e)

    def quant(self, e: ast.Quant) -> Expr:
        var = self.el.quant_vars[e]
        terms: list[tuple[Expr, Expr]] = []  # (domain membership, body)
        alive: Expr
        frame = self.frames[-1]
        if e.pool is not None:
            info = self.layout.pools[e.pool]
            for i in range(info.size):
                alive = Read(Loc(info.base + i * info.stride))
                frame.binds[var] = Const(i + 1)
                terms.append((alive, self.cond(e.body)))
        else:
            assert e.lo is not None and e.hi is not None
            lo, hi = self.const(e.lo), self.const(e.hi)
            for k in range(lo, hi + 1):
                frame.binds[var] = Const(k)
                terms.append((TRUE, self.cond(e.body)))
        frame.binds.pop(var, None)
        acc: Expr
        if e.kind == "forall":
            acc = TRUE
            for alive, body in terms:
                acc = _fold(Binary("&&", acc, _fold(Binary("||", _fold(Unary("!", alive)), body))))
            return acc
        if e.kind == "exists":
            acc = FALSE
            for alive, body in terms:
                acc = _fold(Binary("||", acc, _fold(Binary("&&", alive, body))))
            return acc
        total: Expr = Const(0)
        for alive, body in terms:
            total = _fold(Binary("+", total, _fold(Ite(_fold(Binary("&&", alive, body)), TRUE,
                                                        FALSE))))
        return total

    def const(self, e: ast.Expr) -> int:
        v = self.expr(e)
        if not isinstance(v, Const):
            raise self.error(e.span, "must be a constant")
        return v.value

    # ------------------------------------------------------------ calls
    @property
    def call_results(self) -> dict[ast.Call, Expr]:
        if not hasattr(self, "_call_results"):
            self._call_results: dict[ast.Call, Expr] = {}
        return self._call_results

    def hoist(self, e: ast.Expr, node: int) -> int:
        """Inline every call in `e`, left to right; results in `call_results`.

        Calls under `&&`, `||` or `?:` would lose C's short-circuit order
        here; conditions are split by `branch` first, and other contexts with
        such calls are rejected."""
        calls = list(_calls_in(e))
        if not calls:
            return node
        for c in calls:
            if _conditional_call(e, c):
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
        for c in _calls_in(e):
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
        labels = {name: self.node() for name in _labels(proc.decl.body)}
        stack = (*self.frames[-1].stack, c.span)
        frame = _Frame(proc.name, binds, labels, ret, result, stack,
                       wrapper=len(proc.decl.body.body) == 1)
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
            if kind == "might_sleep":
                continue
            param = next(p for p in proc.params if p.name == pname)
            bound = binds[param]
            if isinstance(bound, LV):
                lock_lv = bound
            else:  # pragma: no cover
                continue
            held_if = None
            if kind.startswith("cond_") and result is not None:
                held_if = Read(result.loc())
            events.append(LockEvent(kind, lock_lv.loc(), lock_lv.path, held_if))
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

    # ------------------------------------------------------------ conditions
    def branch(self, e: ast.Expr, node: int, tnode: int, fnode: int, span: Span) -> None:
        """Jump from `node` to `tnode` if `e` holds, else to `fnode`.

        A condition without calls is evaluated in one step; one with calls is
        split at `&&`, `||` and `!` so that each call runs only when C would."""
        if isinstance(e, ast.Unary) and e.op == "!" and _has_call(e):
            self.branch(e.operand, node, fnode, tnode, span)
            return
        if isinstance(e, ast.Binary) and e.op in ("&&", "||") and _has_call(e):
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
        self.emit(node, fnode, span, guard=_fold(Unary("!", c)), body=resets)

    def static_cond(self, e: ast.Expr) -> bool | None:
        """The value of a condition fixed at compile time (options), if any."""
        if _has_call(e):
            return None
        try:
            v = self.cond(e)
        except SpecError:
            return None
        return bool(v.value) if isinstance(v, Const) else None

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
            value = _fold(Binary(op, Read(self.scalar_loc(lv, s.span)), self.expr(s.value)))
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
            self.branch(s.cond, node, tnode, fnode, _head_span(s.span, s.cond.span))
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
                self.branch(s.cond, head, body, out, _head_span(s.span, s.cond.span))
            self.loops.append((out, head))
            end = self.stmt(s.body, body)
            self.loops.pop()
            if end is not None:
                self.emit(end, head, None)
            return out
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
            return out
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
            return out
        if isinstance(s, ast.Goto):
            self.emit(node, self.frames[-1].labels[s.label], s.span)
            return None
        if isinstance(s, ast.Label):
            target = self.frames[-1].labels[s.name]
            self.emit(node, target, None)
            return self.stmt(s.stmt, target)
        if isinstance(s, ast.Return):
            frame = self.frames[-1]
            if s.value is None:
                self.emit(node, frame.ret_node, s.span)
                return None
            assert frame.result is not None
            if _has_call(s.value) and isinstance(frame.result.type, BoolType):
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
            if _conditional_calls(s.cond):
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

    def hoist_lvalue(self, target: ast.Expr, node: int) -> int:
        for sub in _subexprs(target):
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
        if _has_call(value) and isinstance(lv.type, BoolType) and _conditional_calls(value):
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


# ---------------------------------------------------------------- helpers


def _labels(body: ast.Stmt) -> Iterator[str]:
    if isinstance(body, ast.Label):
        yield body.name
        yield from _labels(body.stmt)
    elif isinstance(body, ast.Block):
        for s in body.body:
            yield from _labels(s)
    elif isinstance(body, ast.If):
        yield from _labels(body.then)
        if body.other is not None:
            yield from _labels(body.other)
    elif isinstance(body, ast.While | ast.DoWhile | ast.For | ast.Atomic):
        yield from _labels(body.body)
    elif isinstance(body, ast.Either):
        for b in body.branches:
            yield from _labels(b)


def _subexprs(e: ast.Expr) -> Iterator[ast.Expr]:
    yield e
    if isinstance(e, ast.Quant):
        return  # quantifier bodies cannot call
    for v in e.__dict__.values():
        if isinstance(v, ast.Expr):
            yield from _subexprs(v)
        elif isinstance(v, list):
            for x in v:
                if isinstance(x, ast.Expr):
                    yield from _subexprs(x)


def _calls_in(e: ast.Expr) -> Iterator[ast.Call]:
    """Calls in evaluation order: arguments' calls come before the call."""
    if isinstance(e, ast.Call):
        for a in e.args:
            if not isinstance(a, ast.AddrOf):
                yield from _calls_in(a)
        yield e
        return
    if isinstance(e, ast.Quant | ast.AddrOf):
        return
    for v in e.__dict__.values():
        if isinstance(v, ast.Expr):
            yield from _calls_in(v)
        elif isinstance(v, list):
            for x in v:
                if isinstance(x, ast.Expr):
                    yield from _calls_in(x)


def _has_call(e: ast.Expr) -> bool:
    return any(True for _ in _calls_in(e))


def _conditional_call(e: ast.Expr, c: ast.Call) -> bool:
    """Whether call `c` inside `e` runs only on some evaluations (short-circuit)."""
    if e is c:
        return False
    if isinstance(e, ast.Binary) and e.op in ("&&", "||"):
        return any(x is c for x in _calls_in(e.right)) or _conditional_call(e.left, c)
    if isinstance(e, ast.Cond):
        return any(x is c for x in _calls_in(e.then)) or any(x is c for x in _calls_in(e.other)) \
            or _conditional_call(e.cond, c)
    for v in e.__dict__.values():
        if isinstance(v, ast.Expr) and any(x is c for x in _calls_in(v)):
            return _conditional_call(v, c)
        if isinstance(v, list):
            for x in v:
                if isinstance(x, ast.Expr) and any(y is c for y in _calls_in(x)):
                    return _conditional_call(x, c)
    return False


def _conditional_calls(e: ast.Expr) -> bool:
    return any(_conditional_call(e, c) for c in _calls_in(e))


def _is_location(e: ast.Expr, el: object) -> bool:
    return isinstance(e, ast.Name | ast.Member | ast.Index | ast.Deref) and \
        not isinstance(getattr(el, "refs", {}).get(e), ConstSym | EnumMemberSym)


def _reads_only_locals(e: Expr, low: BodyLowerer) -> bool:
    if isinstance(e, Const):
        return True
    if isinstance(e, Read):
        loc = e.loc
        if loc.dyn:
            return False
        return not low.layout.slots[loc.base].shared
    return False


def _fold(e: Expr) -> Expr:
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
            from checker.sema.check import _fold_binary

            if e.op in ("/", "%") and b.value == 0:
                return e
            return Const(_fold_binary(e.op, a.value, b.value, Span.unknown()))
    if isinstance(e, Ite) and isinstance(e.cond, Const):
        return e.then if e.cond.value else e.other
    return e


def _head_span(stmt: Span, cond: Span) -> Span:
    """`if (cond)` or `while (cond)`: the statement up to its condition's ')'."""
    return Span(stmt.file, stmt.line, stmt.column, cond.end_line, cond.end_column + 1)


def source_text(span: Span) -> str:
    return SourceCache.excerpt(span)

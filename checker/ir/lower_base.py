"""The state of lowering one body and what every part of it uses: the
graph being built, frames, names, fresh slots. `LoweringContext` is what it
asks of the scenario being built (`checker.ir.build.ScenarioBuilder`), so
that lowering does not import the builder.

The lowering is one class split by concern over a chain of modules:
`lower_base` <- `lower_expr` (lvalues, expressions) <- `lower_call` (call
inlining, frames, by-reference binding) <- `lower_cond` (conditions with
short-circuit calls) <- `lower` (statements, `BodyLowerer`)."""

from __future__ import annotations

from typing import Protocol

from checker.dsl import ast
from checker.dsl.diagnostics import Span, SpecError
from checker.ir.layout import Layout
from checker.ir.micro import LV, Frame, MicroEdge, MicroGraph
from checker.ir.nodes import TRUE, Assign, Const, Expr, Loc, Origin, Stmt, ThreadSlot
from checker.sema.symbols import Elaboration, GlobalSym, LocalSym
from checker.sema.types import Type


class LoweringContext(Protocol):
    """What lowering needs of the scenario being built."""

    @property
    def el(self) -> Elaboration: ...

    @property
    def layout(self) -> Layout: ...

    def global_lv(self, g: GlobalSym) -> LV: ...

    def thread_local_lv(self, tid: int, g: GlobalSym) -> LV: ...

    def per_cpu_lv(self, tid: int, g: GlobalSym) -> LV: ...

    def thread_slots(self, kind: str) -> tuple[ThreadSlot, ...]: ...

    def assert_prop(self, s: ast.Assert) -> int: ...

    def warn_prop(self, w: ast.Warn) -> int: ...

    def sleep_check(self, prop: int) -> None: ...

    def cover(self, s: ast.Cover) -> int: ...


class LowererBase:
    """Lowering state and utilities; `BodyLowerer` (checker.ir.lower) is the
    whole lowerer."""

    def __init__(self, builder: LoweringContext, tid: int, kind: str):
        self.b = builder
        self.el = builder.el
        self.layout = builder.layout
        self.tid = tid
        self.kind = kind
        self.g = MicroGraph()
        self.region: int | None = None
        self.next_region = 0
        self.frames: list[Frame] = []
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
        return Origin(span, f.stack, f.owner, tuple(fr.wrapper for fr in self.frames),
                      tuple(fr.owner for fr in self.frames))

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
            if sym.per_cpu:
                if self.tid == 0:
                    raise self.error(span, f"per-CPU '{sym.name}' in init")
                return self.b.per_cpu_lv(self.tid, sym)
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


    @property
    def assigned_values(self) -> dict[ast.AssignExpr, Expr]:
        """The value of each assignment expression of the condition being
        lowered, read after its store (`CondLowerer.assign_in_cond`)."""
        if not hasattr(self, "_assigned_values"):
            self._assigned_values: dict[ast.AssignExpr, Expr] = {}
        return self._assigned_values

    @property
    def call_results(self) -> dict[ast.Call, Expr]:
        if not hasattr(self, "_call_results"):
            self._call_results: dict[ast.Call, Expr] = {}
        return self._call_results


    def stmt(self, s: ast.Stmt, node: int) -> int | None:
        """Lower a statement (`BodyLowerer.stmt`); inlining a call lowers its body."""
        raise NotImplementedError

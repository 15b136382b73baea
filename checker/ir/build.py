"""Build the transition system of each scenario of a spec.

For one scenario: fold its options (and `-D` overrides) into an elaboration,
lay out the state, run the global initializers and `init` blocks to get the
initial state, lower and fuse every thread instance, and collect the
properties. Dynamic thread slots are reserved for every thread kind that a
`start` statement can reach (one each, or `max KIND N;`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from checker.dsl import ast
from checker.dsl.diagnostics import SourceCache, Span, SpecError
from checker.dsl.loader import Program
from checker.dsl.walk import expr_children, subexprs
from checker.ir.contexts import (
    CPU_STATE_NAMES,
    Placement,
    cpu_state_syms,
    gate_handlers,
    handler_exit_offset,
    place,
    share_cpus,
    shared_cpus,
)
from checker.ir.fuse import FusedStep, fuse
from checker.ir.interp import Fault, Interp
from checker.ir.layout import Layout
from checker.ir.lower import BodyLowerer
from checker.ir.micro import LV, Frame, MicroEdge, MicroGraph
from checker.ir.nodes import (
    TRUE,
    Action,
    Assert,
    Assign,
    Const,
    Cover,
    CpuState,
    Expectation,
    Expr,
    Loc,
    Origin,
    Prop,
    Stmt,
    ThreadInstance,
    ThreadSlot,
    TransitionSystem,
    WarnExpectation,
)
from checker.ir.symmetry import check_actions, pool_symmetry, symmetry_groups
from checker.kinds import VERIFIED, PropertyKind, ViolationKind, expect_kind
from checker.sema.check import Checker, elaborate
from checker.sema.symbols import (
    Elaboration,
    GlobalSym,
    LocalSym,
    ProcSym,
    QuantVarSym,
    ThreadSym,
)

MAX_INIT_STEPS = 1_000_000


def scenario_bindings(program: Program, base: Elaboration, sc: ast.ScenarioDecl,
                      overrides: dict[str, int]) -> dict[str, int]:
    """Option values of a scenario: its own settings, then the command line's."""
    checker = Checker(program, {}, Span.unknown())
    checker.el = base
    out: dict[str, int] = {}
    for name, value, _span in sc.options:
        out[name] = checker.const_value(value)
    out.update(overrides)
    return out


def build_all(program: Program, overrides: dict[str, int] | None = None,
              only: list[str] | None = None, fuse_locals: bool = True) -> list[TransitionSystem]:
    """Every scenario (or those in `only`). With `fuse_locals=False` every
    statement is a step of its own: the plain semantics that fusion reduces,
    kept for testing the reduction."""
    overrides = overrides or {}
    base = elaborate(program, overrides)
    names = list(base.scenarios)
    if only:
        unknown = [n for n in only if n not in base.scenarios]
        if unknown:
            known = ", ".join(names) or "none"
            raise SpecError.at(Span(program.root, 0, 0, 0, 0),
                               f"no scenario {', '.join(unknown)} (scenarios: {known})")
        names = [n for n in names if n in only]
    if not names:
        hint = ("only lemmas: prove them with 'migcheck prove'" if base.lemmas else
                "add 'scenario NAME { run THREAD(...); }'")
        raise SpecError.at(Span(program.root, 0, 0, 0, 0), f"the spec has no scenario: {hint}")
    out = []
    for name in names:
        bindings = scenario_bindings(program, base, base.scenarios[name], overrides)
        el = elaborate(program, bindings) if bindings != overrides else base
        out.append(ScenarioBuilder(program, el, name, fuse_locals).build())
    return out


class ScenarioBuilder:
    def __init__(self, program: Program, el: Elaboration, scenario: str,
                 fuse_locals: bool = True):
        self.program = program
        self.fuse_locals = fuse_locals
        self.el = el
        self.sc = el.scenarios[scenario]
        self.props: list[Prop] = []
        self._prop_index: dict[tuple[str, str, Span], int] = {}
        self.covers: list[Cover] = []
        self._cover_index: dict[Span, int] = {}
        self.instances: list[tuple[ThreadSym, ast.RunItem | None]] = []
        self.run_values: list[dict[object, LV | Expr]] = []  # per `run` instance: loop variables
        self.param_lvs: dict[int, dict[object, LV]] = {}
        self.dynamic_counts: dict[str, int] = {}
        self.global_lvs: dict[GlobalSym, LV] = {}
        self.tl_lvs: dict[tuple[int, GlobalSym], LV] = {}
        self.pcpu_lvs: dict[tuple[int, GlobalSym], LV] = {}  # (CPU, per-CPU variable)
        self.placements: list[Placement] = []  # per thread instance (tid - 1)
        self.slots_by_kind: dict[str, list[ThreadSlot]] = {}

    # ------------------------------------------------------------ services for lowering
    def global_lv(self, g: GlobalSym) -> LV:
        return self.global_lvs[g]

    def thread_local_lv(self, tid: int, g: GlobalSym) -> LV:
        return self.tl_lvs[(tid, g)]

    def per_cpu_lv(self, tid: int, g: GlobalSym) -> LV:
        return self.pcpu_lvs[(self.placements[tid - 1].cpu, g)]

    def thread_slots(self, kind: str) -> tuple[ThreadSlot, ...]:
        return tuple(self.slots_by_kind.get(kind, ()))

    def assert_prop(self, s: ast.Assert) -> int:
        name = s.message if s.message is not None else SourceCache.excerpt(s.cond.span)
        return self._prop(PropertyKind.ASSERT, name, s.span)

    def warn_prop(self, w: ast.Warn) -> int:
        """A `WARN_ON` site: named by its message (WARN, WARN_ONCE), else
        by its condition's text, as an assert is."""
        name = w.message if w.message is not None else SourceCache.excerpt(w.cond.span)
        idx = self._prop(PropertyKind.WARNING, name, w.span)
        if w.once and not self.props[idx].once:
            self.props[idx] = replace(self.props[idx], once=True)
        return idx

    def _prop(self, kind: PropertyKind, name: str, span: Span) -> int:
        key = (kind, name, span)
        if key not in self._prop_index:
            self._prop_index[key] = len(self.props)
            self.props.append(Prop(len(self.props), kind, name, span))
        return self._prop_index[key]

    def sleep_check(self, prop: int) -> None:
        """Mark an assert of a `__might_sleep` procedure (`Prop.sleep_check`)."""
        self.props[prop] = replace(self.props[prop], sleep_check=True)

    def cover(self, s: ast.Cover) -> int:
        if s.span not in self._cover_index:
            self._cover_index[s.span] = len(self.covers)
            self.covers.append(Cover(len(self.covers), s.message, s.span))
        return self._cover_index[s.span]

    # ------------------------------------------------------------ build
    def build(self) -> TransitionSystem:
        el, sc = self.el, self.sc
        for run_item, values in el.run_instances[sc.name]:  # `* COUNT`, `for (v in ...)`
            run_kind = el.refs[run_item]
            assert isinstance(run_kind, ThreadSym)
            self.instances.append((run_kind, run_item))
            self.run_values.append({var: Const(v) for var, v in values.items()})
        maxes = {name: Checker_const(el, value) for name, value, _ in sc.maxes}
        for kind in self.started_kinds():
            n = maxes.get(kind, 1)
            self.dynamic_counts[kind] = n
            for _ in range(n):
                self.instances.append((el.threads[kind], None))
        n_threads = len(self.instances)
        self.placements = place([(run, None if run is None or run.cpu is None
                                  else Checker_const(el, run.cpu))
                                 for _, run in self.instances])
        n_cpus = max(p.cpu for p in self.placements) + 1
        cpu_syms = cpu_state_syms(el, self.placements)
        self.layout = layout = Layout(el, n_threads)
        for g in el.globals.values():
            if g.per_cpu:
                for cpu in range(n_cpus):
                    base = layout.add(f"{g.name}@cpu{cpu}", g.type)
                    self.pcpu_lvs[(cpu, g)] = LV(base, (), g.type, g.name)
            elif not g.thread_local:
                base = layout.add(g.name, g.type)
                self.global_lvs[g] = LV(base, (), g.type, g.name)
        cpus = [CpuState(*(self.pcpu_lvs[(cpu, cpu_syms[n])].base for n in CPU_STATE_NAMES))
                if cpu_syms is not None else CpuState() for cpu in range(n_cpus)]
        curr = {cpu: layout.add_raw(f"cpu{cpu}.curr", 0, n_threads, "tid")
                for cpu in shared_cpus(self.placements)}
        layout.add_pools()
        n_shared = len(layout.slots)
        state = [s.default for s in layout.slots]
        state = self.run_init(state)
        layout.truncate(n_shared)
        state = state[:n_shared]

        # Thread slots: pc, thread-locals, parameters; locals come with lowering.
        threads: list[ThreadInstance] = []
        lowerers: list[BodyLowerer] = []
        for i, (t, run) in enumerate(self.instances):
            tid = i + 1
            label = t.name if run is not None else f"{t.name}#{tid}"
            pc_slot = layout.add_raw(f"{label}.pc", 0, 1, "pc", thread=tid)
            low = BodyLowerer(self, tid, t.name)
            low.owned.append(pc_slot)
            for g in el.globals.values():
                if g.thread_local:
                    lv = low.new_slot(g.name, g.type, frame=False)
                    self.tl_lvs[(tid, g)] = lv
            param_lvs: dict[object, LV] = {}
            param_slots: list[int] = []
            for p in t.params:
                if p.alias:
                    continue
                lv = low.new_slot(p.name, p.type, frame=False)
                param_lvs[p] = lv
                param_slots.append(lv.base)
            args_text = ""
            if run is not None:
                args_text = ", ".join(_with_values(SourceCache.excerpt(a.span), self.run_values[i])
                                      for a in run.args)
            inst = ThreadInstance(tid, t.name, pc_slot, 1, run is None, args_text,
                                  tuple(param_slots), (), cpu=self.placements[i].cpu,
                                  context=self.placements[i].context, daemon=t.decl.daemon,
                                  fair=t.decl.fair)
            threads.append(inst)
            lowerers.append(low)
            self.param_lvs[tid] = param_lvs
            if run is None:
                self.slots_by_kind.setdefault(t.name, []).append(
                    ThreadSlot(tid, pc_slot, 1, tuple(param_slots)))

        actions: list[Action] = []
        statements: list[Origin] = []
        for inst, low, (t, run) in zip(threads, lowerers, self.instances, strict=True):
            params = dict(self.param_lvs[inst.id])
            if run is not None:
                for a, p in zip(run.args, t.params, strict=True):
                    if p.alias:
                        params[p] = self.static_alias_arg(low, a, p,
                                                          self.run_values[inst.id - 1])
            self.lower_thread(inst, low, t, params, actions, statements)
        entry_origins = {inst.id: Origin(run.span, (), t.name, owners=(t.name,))
                         for inst, (t, run) in zip(threads, self.instances, strict=True)
                         if run is not None}
        count = el.globals.get("preempt_count")
        preempt = {} if count is None or not count.thread_local else {
            t.id: self.tl_lvs[(t.id, count)].base for t in threads}
        share_cpus(threads, actions, cpus, curr, preempt)
        for pc_slot, hi in gate_handlers(threads, actions, cpus, entry_origins, preempt).items():
            layout.slots[pc_slot] = replace(layout.slots[pc_slot], hi=hi)
        state = self.initial_state(state, threads, lowerers)
        invariants, finals = self.lower_properties()
        groups, tid_locs = symmetry_groups(el, sc, [run for _, run in self.instances], threads,
                                           layout, list(self.dynamic_counts),
                                           bool(self.pcpu_lvs), bool(curr))
        check_actions(groups, actions)
        pool_groups = pool_symmetry(el, sc, [run for _, run in self.instances], layout,
                                    list(self.dynamic_counts), threads, actions)
        expect = sc.expect
        expectation = Expectation(expect_kind(expect.kind), expect.name, expect.span) if expect \
            else Expectation(VERIFIED, None, None)
        lock_orders = [[n for n, _ in lo.names] for lo in el.lock_orders]
        ts = TransitionSystem(
            spec=self.program.root,
            spec_sha256=self.program.sha256,
            scenario=sc.name,
            bindings={k: v for k, v in sorted(self.binding_values().items())},
            slots=list(layout.slots),
            pools=dict(layout.pools),
            initial=tuple(state),
            threads=threads,
            actions=actions,
            props=self.props,
            invariants=invariants,
            finals=finals,
            covers=self.covers,
            statements=statements,
            expect=expectation,
            lock_orders=lock_orders,
            tags=list(sc.tags),
            warn_expects=self.warn_expects(sc),
            cpus=cpus,
            symmetry=groups,
            tid_locs=tid_locs,
            pool_symmetry=pool_groups,
        )
        return ts

    def warn_expects(self, sc: ast.ScenarioDecl) -> list[WarnExpectation]:
        """The scenario's `expect warning [NAME];` lines; a name must be one
        of the warning sites its threads can reach."""
        names = {p.name for p in self.props if p.kind == PropertyKind.WARNING}
        out = []
        for x in sc.warnings:
            if x.name is not None and x.name not in names:
                known = ", ".join(sorted(repr(n) for n in names)) or "none"
                raise SpecError.at(x.span, f"no warning '{x.name}' in the code scenario "
                                           f"{sc.name} runs (its warnings: {known})")
            out.append(WarnExpectation(x.name, x.span))
        return out

    def binding_values(self) -> dict[str, int | bool]:
        """Every option's value, and every constant set from outside."""
        consts = self.el.consts
        return {c.name: bool(c.value) if c.is_bool else c.value
                for c in consts.values() if c.is_option or c.name in self.el.bindings}

    def started_kinds(self) -> list[str]:
        """Thread kinds that a `start` can reach from the scenario's threads."""
        found: list[str] = []
        todo = [t for t, _ in self.instances]
        seen_threads = {t.name for t in todo}
        seen_procs: set[str] = set()
        while todo:
            body_owner = todo.pop()
            for kind, proc in _starts_and_calls(body_owner.decl.body, self.el):
                if kind is not None and kind not in found:
                    found.append(kind)
                    if kind not in seen_threads:
                        seen_threads.add(kind)
                        todo.append(self.el.threads[kind])
                if proc is not None and proc.name not in seen_procs:
                    seen_procs.add(proc.name)
                    todo.append(_ProcAsBody(proc))  # type: ignore[arg-type]
        return found

    # ------------------------------------------------------------ init
    def run_init(self, state: list[int]) -> list[int]:
        interp = Interp(self.layout.slots, self.layout.pools)
        low = BodyLowerer(self, 0, "init")
        # Global initializers, in declaration order.
        low.frames.append(Frame("init", {}, {}, -1, None, ()))
        for g in self.el.globals.values():
            if g.thread_local or g.init is None:
                continue
            lvs = [lv for (_, pg), lv in self.pcpu_lvs.items() if pg is g] if g.per_cpu \
                else [self.global_lvs[g]]
            try:
                value = interp.eval(low.expr(g.init), state)
                for lv in lvs:
                    interp.write(lv.loc(), value, state)
            except Fault as f:
                raise SpecError.at(g.init.span, f"initializer: {f.message}") from None
        low.frames.pop()
        for init in [*self.el.inits, *self.sc.inits]:
            state = self.exec_block(init.body, state, interp)
        return state

    def exec_block(self, body: ast.Block, state: list[int], interp: Interp) -> list[int]:
        low = BodyLowerer(self, 0, "init")
        entry = low.g.node(None)
        done = low.g.node(None)
        low.lower_init(body, entry, done)
        state = state + [s.default for s in self.layout.slots[len(state):]]
        interp = Interp(self.layout.slots, self.layout.pools)
        steps, _ = fuse(low.g, entry, done, self.layout.slots, all_visible=True)
        by_src: dict[int, list[FusedStep]] = {}
        for st in steps:
            by_src.setdefault(st.src, []).append(st)
        node = entry
        for _ in range(MAX_INIT_STEPS):
            if node == done:
                return state
            enabled = []
            for st in by_src.get(node, []):
                try:
                    a = Action(0, 0, 0, 0, st.guard, st.body, st.origins)
                    new = interp.step(a, state, pc_slot=None)
                except Fault as f:
                    span = st.origins[-1].span if st.origins else body.span
                    raise SpecError.at(span, f"init: {f.message}") from None
                if new is not None:
                    enabled.append((st, new))
            if len(enabled) != 1:
                span = by_src[node][0].origins[-1].span if by_src.get(node) else body.span
                what = "blocks" if not enabled else "is nondeterministic"
                raise SpecError.at(span, f"init {what} here: an init block must run "
                                         "deterministically to the end")
            st, new = enabled[0]
            state = new
            node = st.dst
        raise SpecError.at(body.span, "init does not terminate")

    # ------------------------------------------------------------ threads
    def static_alias_arg(self, low: BodyLowerer, a: ast.Expr, p: LocalSym,
                         values: dict[object, LV | Expr]) -> LV:
        low.frames.append(Frame("run", dict(values), {}, -1, None, ()))
        try:
            assert isinstance(a, ast.AddrOf)
            lv = low.lvalue(a.operand)
        finally:
            low.frames.pop()
        if lv.dyn and any(not isinstance(d.expr, Const) for d in lv.dyn):
            raise SpecError.at(a.span, "a by-reference thread argument must name a fixed "
                                       "location")
        return lv

    def lower_thread(self, inst: ThreadInstance, low: BodyLowerer, t: ThreadSym,
                     params: dict[object, LV], actions: list[Action],
                     statements: list[Origin]) -> None:
        g: MicroGraph = low.g
        entry = g.node(None)
        exit_ = g.node(None)
        done = g.node(None)
        low.lower_thread(t, params, entry, exit_)
        # Thread end: its on_exit properties, then every slot it owns is reset.
        exit_checks: list[Stmt] = []
        low.frames.append(Frame(t.name, {}, {}, -1, None, ()))
        for prop in self.el.properties:
            if prop.kind == "on_exit":
                idx = self._prop(PropertyKind.ON_EXIT, prop.name, prop.span)
                exit_checks.append(Assert(low.cond(prop.expr), idx, ViolationKind.ON_EXIT))
        low.frames.pop()
        count = self.el.globals.get("preempt_count")
        offset = handler_exit_offset(inst.context, self.tl_lvs[(inst.id, count)].base
                                     if count is not None and count.thread_local else None)
        resets = tuple(Assign(Loc(s), Const(self.layout.slots[s].default))
                       for s in low.owned if s != inst.pc_slot)
        end_span = t.decl.body.span
        end_origin = Origin(Span(end_span.file, end_span.end_line, end_span.end_column - 1,
                                 end_span.end_line, end_span.end_column), (), t.name)
        g.edges.append(_exit_edge(exit_, done, (*offset, *exit_checks, *resets), end_origin))
        steps, stable = fuse(g, entry, done, self.layout.slots,
                             all_visible=not self.fuse_locals)
        pc_of = {n: i + 1 for i, n in enumerate(stable)}
        pc_of[done] = 0
        slot = self.layout.slots[inst.pc_slot]
        self.layout.slots[inst.pc_slot] = replace(slot, hi=len(stable))
        inst.owned = tuple(sorted(set(low.owned)))
        for n in stable:
            origin = g.origin_of.get(n)
            if origin is None:
                origin = _first_origin(steps, n) or end_origin
            inst.pc_origin[pc_of[n]] = origin
        for st in steps:
            actions.append(Action(len(actions), inst.id, pc_of[st.src], pc_of[st.dst],
                                  st.guard, st.body, st.origins, st.visible, st.key, st.at,
                                  st.atomic, st.progress))
            statements.extend(st.origins)

    def initial_state(self, shared: list[int], threads: list[ThreadInstance],
                      lowerers: list[BodyLowerer]) -> list[int]:
        slots = self.layout.slots
        state = shared + [s.default for s in slots[len(shared):]]
        interp = Interp(slots, self.layout.pools)
        for inst, low, (t, run) in zip(threads, lowerers, self.instances, strict=True):
            if run is None:
                continue
            state[inst.pc_slot] = inst.entry_pc
            low.frames.append(Frame("run", dict(self.run_values[inst.id - 1]), {}, -1, None, ()))
            try:
                value_params = [p for p in t.params if not p.alias]
                args = [a for a, p in zip(run.args, t.params, strict=True) if not p.alias]
                for a, p, ps in zip(args, value_params, inst.param_slots, strict=True):
                    try:
                        v = interp.eval(low.expr(a), state)
                        interp.write(Loc(ps), v, state)
                    except Fault as f:
                        raise SpecError.at(a.span, f"argument '{p.name}': {f.message}") from None
            finally:
                low.frames.pop()
        return state

    def lower_properties(self) -> tuple[list[tuple[int, Expr]], list[tuple[int, Expr]]]:
        low = BodyLowerer(self, 0, "property")
        low.frames.append(Frame("property", {}, {}, -1, None, ()))
        invariants: list[tuple[int, Expr]] = []
        finals: list[tuple[int, Expr]] = []
        for prop in self.el.properties:
            if prop.kind == "invariant":
                invariants.append((self._prop(PropertyKind.INVARIANT, prop.name, prop.span),
                                   low.cond(prop.expr)))
            elif prop.kind == "final":
                finals.append((self._prop(PropertyKind.FINAL, prop.name, prop.span), low.cond(prop.expr)))
        return invariants, finals


class _ProcAsBody:
    """Lets `started_kinds` walk a procedure body like a thread body."""

    def __init__(self, proc: ProcSym):
        self.decl = proc.decl
        self.name = proc.name


def _starts_and_calls(body: ast.Stmt, el: Elaboration) -> Iterator[tuple[str | None,
                                                                        ProcSym | None]]:
    from checker.sema.check import walk_stmts

    for s in walk_stmts(body):
        if isinstance(s, ast.Start):
            yield s.thread, None
        for e in expr_children(s):
            for sub in subexprs(e):
                if isinstance(sub, ast.Call):
                    proc = el.refs.get(sub)
                    if isinstance(proc, ProcSym):
                        yield None, proc


def _exit_edge(src: int, dst: int, body: tuple[Stmt, ...], origin: Origin) -> MicroEdge:
    # Not forced visible: a thread ends with its last step, as a function
    # returns with its last statement (its on_exit checks run then).
    return MicroEdge(src, dst, TRUE, body, (origin,), None, False, exit=True)


def _first_origin(steps: list[FusedStep], node: int) -> Origin | None:
    for st in steps:
        if st.src == node and st.origins:
            return st.origins[0]
    return None


def _with_values(text: str, values: dict[object, LV | Expr]) -> str:
    """An argument's source text with the scenario loop's variables replaced
    by their values (`compactor(i, 0)` -> `compactor(2, 0)`)."""
    for var, value in values.items():
        if isinstance(var, QuantVarSym) and isinstance(value, Const):
            text = re.sub(rf"(?<![\w.>]){re.escape(var.name)}\b", str(value.value), text)
    return text


def Checker_const(el: Elaboration, e: ast.Expr) -> int:
    checker = Checker(el.program, {}, Span.unknown())
    checker.el = el
    return checker.const_value(e)

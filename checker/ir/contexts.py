"""Execution contexts: which CPU each thread instance runs on, and the
guards by which interrupt and softirq handlers interrupt the CPU's task.

Everything here is guards and statements on ordinary actions, so every
engine runs handlers without knowing about them. For a handler instance
bound to CPU c (`irq h() on cpu c;`, `softirq h() on cpu c;`):
- it gets an entry step of its own (the kernel's irq_enter()/__do_softirq()),
  from a new entry pc to the body's first pc, enabled only while CPU c
  accepts it: interrupts enabled and no hardirq handler running (a hardirq);
  besides, bottom halves enabled and no softirq running (a softirq). The step
  raises the CPU's `hardirq_count` and disables interrupts (a hardirq), or
  sets `softirq_serving` (a softirq);
- its last step (to pc 0) undoes that (irq_exit(), the end of __do_softirq());
- every step of a softirq handler requires that no hardirq handler runs on
  c (a hardirq interrupts it and runs to completion);
- every step of c's task requires that no handler runs on c.
The CPU state lives in models/irq.mig's per-CPU variables, found by name.

Several tasks on one CPU (`share_cpus`): the CPU runs one at a time, the
one that took its last step (a ghost slot per shared CPU, `cpuN.curr`).
Another of its tasks may take a step only when that one is preemptible, as
`preemptible()` of include/linux/preempt.h: its `preempt_count` is 0 (no
spinlock, no preempt_disable(), no RCU read side), the CPU's interrupts
are enabled and its bottom halves are not disabled; or when it has
finished. So every preemption point a CONFIG_PREEMPT kernel has is one
here, and none where the kernel forbids one: a task spinning with
preemption disabled on a lock that another task of its CPU holds hangs the
CPU (a deadlock), as on a uniprocessor.
"""

from __future__ import annotations

from dataclasses import dataclass

from checker.dsl import ast
from checker.dsl.diagnostics import Span, SpecError
from checker.ir.nodes import (
    TRUE,
    Action,
    Assign,
    Binary,
    Const,
    CpuState,
    Expr,
    Loc,
    Origin,
    Read,
    Stmt,
    ThreadInstance,
    TransitionSystem,
)
from checker.kinds import ExecContext, ViolationKind
from checker.sema.symbols import Elaboration, GlobalSym

# The per-CPU variables of models/irq.mig the handlers are gated on.
CPU_STATE_NAMES = ("hardirqs_off", "hardirq_count", "softirq_serving", "bh_disable_count")


@dataclass(frozen=True)
class Placement:
    """Where one thread instance runs: its CPU and its context."""

    cpu: int
    context: ExecContext
    run: ast.RunItem | None


def place(instances: list[tuple[ast.RunItem | None, int | None]]) -> list[Placement]:
    """CPU of each instance (run item, its `on cpu` value or None): the
    named one, else a CPU of its own numbered after every named one (dynamic
    instances too). Several tasks may share a CPU (`share_cpus`)."""
    named = [cpu for _, cpu in instances if cpu is not None]
    fresh = max(named) + 1 if named else 0
    out: list[Placement] = []
    for run, cpu in instances:
        context = ExecContext(run.context) if run is not None else ExecContext.TASK
        if cpu is None:
            cpu, fresh = fresh, fresh + 1
        out.append(Placement(cpu, context, run))
    return out


def shared_cpus(placements: list[Placement]) -> list[int]:
    """The CPUs that run more than one task: each needs a `curr` slot."""
    tasks: dict[int, int] = {}
    for p in placements:
        if p.context == ExecContext.TASK:
            tasks[p.cpu] = tasks.get(p.cpu, 0) + 1
    return sorted(c for c, n in tasks.items() if n > 1)


def share_cpus(threads: list[ThreadInstance], actions: list[Action], cpus: list[CpuState],
               curr: dict[int, int], preempt_count: dict[int, int]) -> None:
    """Gate the steps of the tasks of each shared CPU (`curr`: CPU -> its
    curr slot; `preempt_count`: thread id -> its slot, where the spec has
    models/preempt.mig), in place: a step of task t needs t to be the CPU's
    current task, no current task, or a current one that is preemptible or
    finished; it makes t current (none, when it finishes t)."""
    tasks_on: dict[int, list[ThreadInstance]] = {}
    for t in threads:
        if t.context == ExecContext.TASK and t.cpu in curr:
            tasks_on.setdefault(t.cpu, []).append(t)
    yields: dict[int, Expr] = {}  # thread id -> "it is current and can be preempted"
    for cpu, tasks in tasks_on.items():
        c = cpus[cpu] if cpu < len(cpus) else CpuState()
        cpu_ok: Expr = TRUE
        for slot in (c.hardirqs_off, c.bh_disable_count):
            if slot >= 0:
                cpu_ok = _and(cpu_ok, _zero(slot))
        for u in tasks:
            preemptible = cpu_ok
            if u.id in preempt_count:
                preemptible = _and(_zero(preempt_count[u.id]), preemptible)
            gone = _zero(u.pc_slot)
            current = Binary("==", Read(Loc(curr[cpu])), Const(u.id))
            yields[u.id] = _and(current, gone if preemptible == TRUE
                                else Binary("||", gone, preemptible))
    by_id = {t.id: t for t in threads}
    for a in actions:
        t = by_id[a.thread]
        if t.id not in yields:
            continue
        slot = curr[t.cpu]
        may: Expr = Binary("||", Binary("==", Read(Loc(slot)), Const(t.id)), _zero(slot))
        for u in tasks_on[t.cpu]:
            if u.id != t.id:
                may = Binary("||", may, yields[u.id])
        a.guard = _and(a.guard, may)
        a.body = (*a.body, Assign(Loc(slot), Const(0 if a.dst == 0 else t.id)))
        a.at = (*a.at, *([-1] * (len(a.body) - len(a.at))))


def cpu_state_syms(el: Elaboration, placements: list[Placement]) -> dict[str, GlobalSym] | None:
    """models/irq.mig's per-CPU variables, required once a handler exists."""
    syms = {n: g for n in CPU_STATE_NAMES
            if (g := el.globals.get(n)) is not None and g.per_cpu}
    if len(syms) == len(CPU_STATE_NAMES):
        return syms
    for p in placements:
        if p.context != ExecContext.TASK and p.run is not None:
            word = "irq" if p.context == ExecContext.HARDIRQ else "softirq"
            raise SpecError.at(p.run.span, f"an '{word}' handler needs the per-CPU interrupt "
                                           "state of the model library: add 'import \"irq\";' "
                                           f"(per-CPU {', '.join(CPU_STATE_NAMES)})")
    return None


def _and(a: Expr, b: Expr) -> Expr:
    return b if a == TRUE else Binary("&&", a, b)


def handler_exit_offset(context: ExecContext, preempt_count: int | None) -> tuple[Stmt, ...]:
    """The end of a handler (irq_exit(), the end of __do_softirq()) takes
    its offset off its `preempt_count` (slot `preempt_count`, None without
    models/preempt.mig); build.py puts it before the thread's on_exit
    checks, so a lock the handler leaks still shows there."""
    return () if context == ExecContext.TASK else _offset(preempt_count, "-")


def _offset(slot: int | None, op: str) -> tuple[Stmt, ...]:
    """`preempt_count op= 1` on a handler's slot (none without the slot)."""
    if slot is None:
        return ()
    return (Assign(Loc(slot), Binary(op, Read(Loc(slot)), Const(1))),)


def _zero(slot: int) -> Expr:
    return Binary("==", Read(Loc(slot)), Const(0))


def gate_handlers(threads: list[ThreadInstance], actions: list[Action], cpus: list[CpuState],
                  entry_origins: dict[int, Origin], preempt_count: dict[int, int]) -> dict[int, int]:
    """Add the handlers' entry steps (drawn at `entry_origins[thread id]`, the
    scenario's `irq` line) and exit effects and the guards above, in place.
    Where the spec has models/preempt.mig (`preempt_count`: thread id -> its
    slot), the entry raises the handler's `preempt_count` by one
    (`handler_exit_offset` lowers it again at the end, before the on_exit
    checks): the kernel's HARDIRQ_OFFSET/SOFTIRQ_OFFSET are part of
    preempt_count, so might_sleep() in a handler is "sleeping in atomic
    context", as __might_sleep() reports it. Returns each handler's new
    highest pc, by pc slot."""
    pc_hi: dict[int, int] = {}
    handler_cpus = {t.cpu for t in threads if t.context != ExecContext.TASK}
    if not handler_cpus:
        return pc_hi
    by_id = {t.id: t for t in threads}
    no_handler = {c: _and(_zero(cpus[c].hardirq_count), _zero(cpus[c].softirq_serving))
                  for c in handler_cpus}
    for a in actions:
        t = by_id[a.thread]
        c = cpus[t.cpu] if t.cpu < len(cpus) else CpuState()
        guard, body, at = a.guard, a.body, a.at
        if t.context == ExecContext.TASK:
            if t.cpu in handler_cpus:
                guard = _and(guard, no_handler[t.cpu])
        else:
            if t.context == ExecContext.SOFTIRQ:
                guard = _and(guard, _zero(c.hardirq_count))
            if a.dst == 0:
                exit_: tuple[Stmt, ...] = (
                    (Assign(Loc(c.hardirq_count), Const(0)), Assign(Loc(c.hardirqs_off), Const(0)))
                    if t.context == ExecContext.HARDIRQ
                    else (Assign(Loc(c.softirq_serving), Const(0)),))
                body = (*body, *exit_)
                at = (*at, *([-1] * (len(body) - len(at))))
        a.guard, a.body, a.at = guard, body, at
    for t in threads:
        if t.context == ExecContext.TASK:
            continue
        c = cpus[t.cpu]
        entry = max(t.pc_origin, default=0) + 1  # every pc of the body has an origin
        enabled: Expr = _and(_zero(c.hardirqs_off), _zero(c.hardirq_count))
        enter: tuple[Stmt, ...]
        if t.context == ExecContext.HARDIRQ:
            enter = (Assign(Loc(c.hardirq_count), Const(1)), Assign(Loc(c.hardirqs_off), Const(1)))
        else:
            enabled = _and(enabled, _and(_zero(c.softirq_serving), _zero(c.bh_disable_count)))
            enter = (Assign(Loc(c.softirq_serving), Const(1)),)
        enter = (*enter, *_offset(preempt_count.get(t.id), "+"))
        origin = entry_origins[t.id]
        actions.append(Action(len(actions), t.id, entry, t.entry_pc, enabled, enter, (origin,),
                              True, 0, tuple(-1 for _ in enter)))
        t.pc_origin[entry] = origin
        t.entry_pc = entry
        pc_hi[t.pc_slot] = entry
    return pc_hi


def refuse_usage_expectation(ts: TransitionSystem, engine: str) -> None:
    """For an engine that searches runs but not lockdep's usage pass (the
    library's check_bmc(), which runs handlers' guards): a scenario that
    expects an inconsistent lock state is refused, since no depth could meet
    that expectation and an `incomplete` or `unmet` answer would mislead."""
    if ts.expect.kind == ViolationKind.INCONSISTENT_LOCK_STATE:
        span = ts.expect.span or Span(ts.spec, 0, 0, 0, 0)
        raise SpecError.at(span, f"{engine} cannot find lockdep's inconsistent lock state "
                                 f"(scenario {ts.scenario} expects it): the rule is a pass "
                                 "over every reachable state after a complete search; check "
                                 "it with the explicit search (migcheck check, --engine "
                                 "explicit, vm or jit)")


def refuse_handlers(ts: TransitionSystem, engine: str) -> None:
    """For an engine that does not run lockdep's inconsistent-lock-state
    pass (checker.explore.irqstate): a scenario with handlers is refused,
    since its verdict would leave that rule unchecked."""
    for t in ts.threads:
        if t.context != ExecContext.TASK:
            span = t.pc_origin[t.entry_pc].span
            raise SpecError.at(span, f"{engine} does not check lockdep's inconsistent-lock-state "
                                     f"rule of interrupt handlers (scenario {ts.scenario}): "
                                     "check it with the explicit search (migcheck check, "
                                     "--engine explicit, vm or jit)")

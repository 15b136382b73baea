"""Lockdep's inconsistent-lock-state rule, over every reachable state.

The rule (kernel/locking/lockdep.c, mark_lock() and valid_state(), Linux
5.10): each lock class collects *usage bits* as it is acquired:
- IN-HARDIRQ-W: acquired by a hardirq handler (IN-SOFTIRQ-W: a softirq
  handler); a trylock marks none (lockdep: `if (!hlock->trylock)`);
- HARDIRQ-ON-W: acquired with hardirqs enabled on the CPU (SOFTIRQ-ON-W:
  with softirqs enabled too: bottom halves not disabled, not in a handler);
and `-R` instead of `-W` for the shared side of a reader-writer lock. A class
with IN-X and X-ON is *inconsistent*: the handler may interrupt the holder
on the holder's CPU and spin on the lock forever. Two reads never conflict
(IN-X-R with X-ON-R), as lockdep allows recursive readers. Lockdep reports
this from the usage one boot happened to show, whether or not the handler
ever fired at the wrong moment; here the usage of every reachable state
counts, so a configuration where the handler runs on another CPU (no
self-deadlock reachable) is reported too.

How: after a complete search, every reachable state (the search's parent
map) and every step of it that acquires a lock is executed by the
reference interpreter; the acting thread's context (`ThreadInstance.context`)
and its CPU's interrupt state (`TransitionSystem.cpus`) at the lock event
give the usage. A step blocked on a busy lock counts as an attempt with the
state before it (lockdep marks usage in lock_acquire(), before spinning).
No ghost state: the search's state count is unchanged.

The violation's path leads to the second usage found (its step is the
violating one); the first usage's path is the violation's `witness`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from checker.explore.bfs import path_to
from checker.explore.codegen import Compiled
from checker.explore.result import Violation
from checker.ir.display import display_files, display_span
from checker.ir.interp import Fault, Interp
from checker.ir.lockkind import LockOp
from checker.ir.nodes import (
    Action,
    CpuState,
    Expr,
    If,
    Loc,
    LockEvent,
    Stmt,
    ThreadInstance,
    TransitionSystem,
)
from checker.kinds import ExecContext, ViolationKind

IRQ_STATES = ("HARDIRQ", "SOFTIRQ")


@dataclass(frozen=True)
class Usage:
    """The first reachable step that gave a lock class one usage bit."""

    bit: str  # IN-HARDIRQ-W, HARDIRQ-ON-R, ...
    state: int  # packed state before the step
    action: int
    thread: str
    span: str  # where the acquisition is, file:line


class _Events:
    """A `StepObserver` that keeps each lock event with the state it sees."""

    def __init__(self) -> None:
        self.seen: list[tuple[LockEvent, list[int]]] = []

    def on_read(self, index: int, loc: Loc) -> None:
        pass

    def on_write(self, index: int, loc: Loc) -> None:
        pass

    def on_lock_event(self, ev: LockEvent, st: Sequence[int]) -> None:
        self.seen.append((ev, list(st)))

    def assumes(self, cond: Expr) -> bool:
        return False

    def skips_asserts(self) -> bool:
        return True


def _acquires(body: Sequence[Stmt]) -> list[LockEvent]:
    out: list[LockEvent] = []
    for s in body:
        if isinstance(s, LockEvent) and s.op in (LockOp.ACQUIRE, LockOp.TRY_ACQUIRE):
            out.append(s)
        elif isinstance(s, If):
            out.extend(_acquires(s.then))
            out.extend(_acquires(s.other))
    return out


def usage_bits(t: ThreadInstance, cpu: CpuState, ev: LockEvent, st: Sequence[int],
               acquired: bool) -> list[str]:
    """Lockdep's usage bits of one acquisition by `t` in state `st`."""
    rw = "R" if ev.shared else "W"
    bits: list[str] = []
    if ev.op == LockOp.ACQUIRE:
        if t.context == ExecContext.HARDIRQ:
            bits.append(f"IN-HARDIRQ-{rw}")
        elif t.context == ExecContext.SOFTIRQ:
            bits.append(f"IN-SOFTIRQ-{rw}")
    if not acquired:
        return bits
    hardirqs_on = cpu.hardirqs_off < 0 or not st[cpu.hardirqs_off]
    if hardirqs_on and t.context != ExecContext.HARDIRQ:
        bits.append(f"HARDIRQ-ON-{rw}")
        softirqs_on = t.context == ExecContext.TASK and (
            cpu.bh_disable_count < 0 or st[cpu.bh_disable_count] == 0)
        if softirqs_on:
            bits.append(f"SOFTIRQ-ON-{rw}")
    return bits


def conflicts(bits: set[str]) -> list[tuple[str, str]]:
    """The (IN-X, X-ON) pairs lockdep calls inconsistent among `bits`."""
    out = []
    for irq in IRQ_STATES:
        for a in "WR":
            for b in "WR":
                used, enabled = f"IN-{irq}-{a}", f"{irq}-ON-{b}"
                if a == b == "R":
                    continue  # recursive readers
                if used in bits and enabled in bits:
                    out.append((used, enabled))
    return out


def lock_usage(c: Compiled, states: Iterable[int]
               ) -> dict[str, dict[str, Usage]]:
    """Per lock class, its usage bits, each with its first witness in the
    order of `states` (a BFS parent map: discovery order, shortest paths)."""
    ts: TransitionSystem = c.ts
    by_pc: dict[tuple[int, int], list[Action]] = {}
    for a in ts.actions:
        if _acquires(a.body):
            by_pc.setdefault((a.thread, a.src), []).append(a)
    usage: dict[str, dict[str, Usage]] = {}
    if not by_pc:
        return usage
    events = _Events()
    interp = Interp(ts.slots, ts.pools, observer=events)
    for s in states:
        for i, t in enumerate(ts.threads):
            acting = by_pc.get((t.id, c.pc_of(s, i)))
            if not acting:
                continue
            st = c.packing.unpack(s)
            cpu = ts.cpus[t.cpu] if t.cpu < len(ts.cpus) else CpuState()
            for a in acting:
                if not interp.holds(a.guard, st):
                    continue
                events.seen.clear()
                try:
                    done = interp.step(a, st, t.pc_slot) is not None
                except Fault:
                    continue
                seen = events.seen if done else [(ev, st) for ev in _acquires(a.body)
                                                 if ev.op == LockOp.ACQUIRE]
                for ev, at in seen:
                    if ev.op not in (LockOp.ACQUIRE, LockOp.TRY_ACQUIRE):
                        continue
                    acquired = done and (ev.held_if is None or bool(interp.eval(ev.held_if, at)))
                    for bit in usage_bits(t, cpu, ev, at, acquired):
                        bits = usage.setdefault(ev.lock_class, {})
                        if bit not in bits:
                            bits[bit] = Usage(bit, s, a.id, t.label, _where(ts, a))
    return usage


def _where(ts: TransitionSystem, a: Action) -> str:
    span = display_span(a.origin, display_files(ts))
    return f"{span.file}:{span.line}"


def _run_to(c: Compiled, parent: Mapping[int, int], u: Usage) -> list[int]:
    """The shortest run to the usage's state, then its step when it completes
    (a blocked attempt ends the run before it)."""
    path = path_to(parent, u.state, c.initial)
    nxt = c.step[u.action](u.state)
    return path if nxt is None else [*path, nxt]


def find_inconsistent(c: Compiled, parent: Mapping[int, int]) -> Violation | None:
    """The first inconsistent lock class, with both witnesses; None if every
    class is consistent or the scenario has no handler."""
    if not c.ts.has_handlers:
        return None
    for lock_class, bits in lock_usage(c, parent).items():
        for used, enabled in conflicts(set(bits)):
            u, e = bits[used], bits[enabled]
            irq = used[3:10].lower()
            used_run, enabled_run = _run_to(c, parent, u), _run_to(c, parent, e)
            steps = len(enabled_run) - 1
            msg = (f"inconsistent {{{used}}} -> {{{enabled}}} usage of lock '{lock_class}': "
                   f"{u.thread} takes it in {irq} context at {u.span} (the run below), "
                   f"{e.thread} with {irq}s enabled at {e.span} (the other witness, "
                   f"{steps} step{'' if steps == 1 else 's'})")
            return Violation(ViolationKind.INCONSISTENT_LOCK_STATE, msg, None, used_run,
                             witness=enabled_run)
    return None


def reachable(c: Compiled) -> list[int]:
    """Every state reachable without a fault, breadth-first (for `replay`,
    which has no search of its own)."""
    seen = {c.initial: None}
    queue = [c.initial]
    for s in queue:
        for _, t in c.moves(s):
            if t not in seen:
                seen[t] = None
                queue.append(t)
    return queue


def confirm(c: Compiled, before: int, after: int) -> str | None:
    """Why the step `before` -> `after` (a saved run's last) is one side of an
    inconsistent usage pair reachable in the scenario; None if it is not."""
    total = lock_usage(c, reachable(c))
    for a, t in c.moves(before):
        if t != after:
            continue
        step = lock_usage(c, [before])
        for lock_class, bits in step.items():
            pairs = conflicts(set(total.get(lock_class, {})))
            for used, enabled in pairs:
                if any(u.action == a.id for b, u in bits.items() if b in (used, enabled)):
                    return (f"lock '{lock_class}' is used as {{{used}}} and as "
                            f"{{{enabled}}}, the last step as one of them")
    return None

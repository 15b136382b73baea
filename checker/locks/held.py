"""Who holds which lock at the end of a counterexample, and what each
blocked thread waits for: the part of a deadlock or "sleeping function
called from invalid context" report that lockdep prints.

Why from the run and not from the final state: a lock word does not say
who holds it (an rwlock's reader count, a bit spinlock, the page lock's
PG_locked record no owner), and the step that took a lock clears the
parameter that named it (`checker.locks.explore` explains the same ghost).
So the run is replayed: each step is executed by the lock recorder
(`checker.locks.recorder`, the reference interpreter with hooks), whose
lock events resolve to instances where they stand in the body; an acquire
adds the instance to its thread's list, a release removes it, a thread that
ends drops its list. Nothing is added to the state, so the state counts of
every scenario are unchanged (the page lock gets no owner field).

A blocked thread's wait is found the same way: the step it is stuck at is
run in the recorder's attempt mode, which ignores the conditions over
shared state, and the blocking acquisitions it would make are what it waits
for; a wait that takes no lock (`wait_on_page_locked()`) is matched against
the held locks by the locations its condition reads (`pages[0].flags` lies
in the lock `pages[0]`).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from checker.explore.codegen import Compiled
from checker.explore.result import Violation
from checker.ir.display import display_files, display_span, source_line
from checker.ir.interp import Blocked, Fault
from checker.ir.nodes import Action, If, LockEvent, Origin, Stmt
from checker.kinds import ViolationKind
from checker.locks.explore import atomic_context_slots
from checker.locks.names import location_name
from checker.locks.recorder import PackedState, Recorder, StepRecord
from checker.trace.model import HeldLock, LockReport, LockWait, ThreadLocks, run_actions

DEADLOCK = "deadlock"
SLEEP_IN_ATOMIC = "sleep_in_atomic"
# Any other violation: only the locks each thread holds when it happens, as
# lockdep and KASAN end their reports ("N locks held by ..."), when any is.
HELD = "held"


def report_kind(v: Violation) -> str:
    """Which lock report a violation gets: a deadlock (a livelock included:
    the threads spin on what others hold), a failed `might_sleep()`, or, for
    the others, the held locks alone."""
    if v.kind == ViolationKind.DEADLOCK:
        return DEADLOCK
    if v.prop is not None and v.prop.sleep_check:
        return SLEEP_IN_ATOMIC
    return HELD


class _SiteRecorder(Recorder):
    """The lock recorder, also keeping the `LockEvent` node of each
    operation, to name the procedure and the line that performed it."""

    def __init__(self, c: Compiled):
        super().__init__(c.ts, memo=False)
        self.events: list[LockEvent] = []

    def on_lock_event(self, ev: LockEvent, st: Sequence[int]) -> None:
        super().on_lock_event(ev, st)
        self.events.append(ev)


@dataclass
class _Sites:
    """The source statement of each lock event of an action's body."""

    origin: dict[int, Origin]

    @staticmethod
    def of(a: Action) -> _Sites:
        out: dict[int, Origin] = {}

        def walk(body: Sequence[Stmt], origin: Origin) -> None:
            for s in body:
                if isinstance(s, LockEvent):
                    out[id(s)] = origin
                elif isinstance(s, If):
                    walk(s.then, origin)
                    walk(s.other, origin)

        for i, s in enumerate(a.body):
            walk((s,), a.origin_at(i))
        return _Sites(out)


def lock_report(c: Compiled, v: Violation) -> LockReport | None:
    """The report for `v`'s run (`report_kind`); None for a violation of
    another kind where no thread holds a lock, whose trace stays as it was."""
    kind = report_kind(v)
    ts = c.ts
    rec = _SiteRecorder(c)
    shown = display_files(ts)
    _, atomic = atomic_context_slots(ts)
    held: dict[int, list[HeldLock]] = {t.id: [] for t in ts.threads}
    states = [*v.path, *v.cycle]

    def count(s: int, thread: int) -> int:
        st = PackedState(s, c.packing)
        return sum(st[k] for k in atomic.get(thread, []))

    for k, ((s, t), a) in enumerate(zip(itertools.pairwise(states), run_actions(c, v),
                                        strict=True)):
        rec.events = []
        got = rec.run(a, s, c.packing)
        if a.dst == 0:
            held[a.thread] = []
            continue
        if got is None:
            continue
        sites = _Sites.of(a)
        spinning = count(t, a.thread) > count(s, a.thread)
        mine = held[a.thread]
        for op, ev in zip(got.ops, rec.events, strict=True):
            if op.releases:
                for j in range(len(mine) - 1, -1, -1):
                    if mine[j].lock == op.lock.name and mine[j].shared == op.shared:
                        del mine[j]
                        break
            elif op.acquires:
                origin = sites.origin.get(id(ev), a.origin)
                span = display_span(origin, shown)
                mine.append(HeldLock(op.lock.name, op.lock.lock_class, op.shared,
                                     origin.proc or op.op.value, span.file, span.line, k + 1,
                                     spinning))
    last = states[-1]
    threads = []
    for i, th in enumerate(ts.threads):
        pc = c.pc_of(last, i)
        tl = ThreadLocks(th.id, held[th.id])
        if kind == SLEEP_IN_ATOMIC and v.fault_action is not None \
                and ts.actions[v.fault_action].thread == th.id:
            tl.preempt_count = count(last, th.id)
        if kind == DEADLOCK and pc != 0 and not v.cycle:
            tl.wait = _wait(c, rec, last, i, held)
        if tl.held or tl.wait is not None or tl.preempt_count is not None:
            threads.append(tl)
    if kind == HELD and not threads:
        return None
    return LockReport(kind, threads)


def _wait(c: Compiled, rec: _SiteRecorder, s: int, index: int,
          held: dict[int, list[HeldLock]]) -> LockWait:
    """What thread `index` waits for in state `s`, where none of its steps
    is enabled."""
    ts = c.ts
    th = ts.threads[index]
    pc = c.pc_of(s, index)
    origin = th.pc_origin.get(pc)
    span = display_span(origin, display_files(ts)) if origin is not None else None
    wait = LockWait("", span.line if span else 0, span.file if span else "",
                    source_line(span) if span else "?")
    wanted: list[str] = []
    for a in ts.actions_at(th.id, pc):
        got = rec.run(a, s, c.packing, attempt=True)
        if got is not None:
            wanted += [op.lock.name for op in got.ops if op.blocking]
    if not wanted:  # no lock to take: a condition over what a held lock covers
        names = list(dict.fromkeys(location_name(ts, slot, word)
                                   for a in ts.actions_at(th.id, pc)
                                   for slot, word in _blocking_reads(rec, a, s, c)))
        wait.reads = names
        for locks in held.values():
            for h in locks:
                if any(n == h.lock or n.startswith(h.lock + ".") for n in names):
                    wanted.append(h.lock)
    if wanted:
        wait.lock = wanted[0]
        wait.holders = sorted(tid for tid, locks in held.items()
                              if any(h.lock == wait.lock for h in locks))
    return wait


def _blocking_reads(rec: Recorder, a: Action, s: int, c: Compiled
                    ) -> list[tuple[int, str | None]]:
    """The shared locations read by the condition that blocks step `a` in
    state `s`: its guard, or the `await` in its body that is false."""
    rec.rec = StepRecord()
    st = cast(list[int], PackedState(s, c.packing))
    try:
        if rec.interp.holds(a.guard, st):
            rec.interp.exec(a.body, st)
    except (Blocked, Fault):
        pass
    return rec.rec.reads

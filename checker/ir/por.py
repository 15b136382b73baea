"""Partial-order reduction: which steps may be explored alone (ample sets).

A search with `--por` expands a state by the steps of one thread only,
when that thread's steps at its pc are *safe* and the successors they give
pass the search's proviso (breadth-first: all new; depth-first: none on
the search stack); otherwise by every step. A step is safe
when it is independent of every step any other thread can ever take, and
invisible to the invariants:

- it writes no slot that a step of another thread reads or writes, and
  reads no slot that a step of another thread writes (its guard included:
  no other thread can enable or disable it, nor it them). The thread's pc
  slot counts as written by each of its steps;
- it writes no slot an invariant reads.

Locations are expanded conservatively: an indexed or pool location stands
for every slot it may reach (and a pool location reads the objects'
allocated bits); `alloc`/`free` write every slot of the pool. A `start`
reads the pc of every thread slot it may fill (it takes the first free
one) and writes that slot's pc, parameters and locals: so the step that
starts a thread, and every step of a thread that some `start` may
(re)start, are never safe (the start enables them). A scenario with
WARN_ON() sites gets no reduction (`ample_pcs` answers None).

Why this is sound for what a search without `--por` checks (invariants,
asserts and every other fault, deadlocks, `final` and `on_exit`): a safe
step commutes with every step of the other threads and leaves their
enabledness and their faults unchanged, so the set {safe steps of one
thread at its pc} is a stubborn set: every run of the full graph is
equivalent, by swapping independent steps, to one of the reduced graph,
which reaches the same deadlocks and takes the same steps (hence the same
faults and covers). The search's proviso expands a state fully when a
successor through the ample set was seen before (`explore.por`, BFS) or
is on the stack (`explore.dfs`, the stack proviso of on-the-fly DFS): in
either case every cycle of the reduced graph has a fully expanded state
(a cycle found by BFS closes on a state seen before; one found by DFS
closes on a state on the stack), so no thread's step is postponed forever
(the "ignoring" problem). Only safety is claimed: the defect Siegel found
in on-the-fly POR (CAV 2019) concerns its combination with a property
automaton's nested search, which the liveness passes here do not make:
they run unreduced. Invariants: a safe step
changes nothing an invariant reads. The livelock pass and the liveness
properties read the whole graph and run unreduced (`--por` is ignored with
them: the search says so).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import product

from checker.ir.footprint import body_footprint, expr_locs
from checker.ir.nodes import Loc, TransitionSystem


def loc_slots(loc: Loc) -> Iterator[int]:
    """Every slot `loc` may reach (all indices of its dynamic components),
    and the allocated bits a pool reference reads."""
    ranges = [range(d.count) for d in loc.dyn]
    for idx in product(*ranges):
        yield loc.base + sum(i * d.stride for i, d in zip(idx, loc.dyn, strict=True))
    for d in loc.dyn:
        if d.pool is not None:
            yield from (d.alloc_base + i * d.stride for i in range(d.count))


def _slots(locs: Iterable[Loc]) -> set[int]:
    out: set[int] = set()
    for loc in locs:
        out.update(loc_slots(loc))
    return out


def ample_pcs(ts: TransitionSystem) -> dict[int, frozenset[int]] | None:
    """Per thread id, the pcs at which every step of the thread is safe; None
    when the scenario gets no reduction (WARN_ON sites)."""
    if ts.warnings:
        return None
    pool_slots: dict[str, set[int]] = {}
    for s in ts.slots:
        if s.pool is not None:
            pool_slots.setdefault(s.pool, set()).add(s.index)
    for name in ts.pools:
        pool_slots.setdefault(name, set())
    pc_of = {t.id: t.pc_slot for t in ts.threads}
    owned = {t.id: t.owned for t in ts.threads}
    reads: dict[int, set[int]] = {}
    writes: dict[int, set[int]] = {}
    for a in ts.actions:
        fp = body_footprint(a.guard, a.body)
        r = _slots(fp.reads) | {pc_of[a.thread]}
        w = _slots(fp.writes) | {pc_of[a.thread]}
        for started in fp.started:  # `start`: finds a free slot, fills it
            r.add(started.pc_slot)
            w |= {started.pc_slot, *started.param_slots, *owned[started.thread]}
        for pool in fp.pools_changed:
            w |= pool_slots.get(pool, set())
        reads[a.id], writes[a.id] = r, w
    by_thread_r: dict[int, set[int]] = {t.id: set() for t in ts.threads}
    by_thread_w: dict[int, set[int]] = {t.id: set() for t in ts.threads}
    for a in ts.actions:
        by_thread_r[a.thread] |= reads[a.id]
        by_thread_w[a.thread] |= writes[a.id]
    invariant_reads = _slots(loc for _, e in ts.invariants for loc in expr_locs(e))
    readers: Counter[int] = Counter()  # per slot, the threads that read it
    writers: Counter[int] = Counter()
    for t in ts.threads:
        readers.update(by_thread_r[t.id])
        writers.update(by_thread_w[t.id])
    safe_pcs: dict[int, set[int]] = {t.id: set() for t in ts.threads}
    unsafe_pcs: dict[int, set[int]] = {t.id: set() for t in ts.threads}
    for a in ts.actions:
        mine_r, mine_w = by_thread_r[a.thread], by_thread_w[a.thread]

        def others_read(x: int) -> bool:
            return readers[x] - (x in mine_r) > 0  # noqa: B023

        def others_write(x: int) -> bool:
            return writers[x] - (x in mine_w) > 0  # noqa: B023

        safe = (not any(others_read(x) or others_write(x) or x in invariant_reads
                        for x in writes[a.id])
                and not any(others_write(x) for x in reads[a.id]))
        (safe_pcs if safe else unsafe_pcs)[a.thread].add(a.src)
    return {t: frozenset(safe_pcs[t] - unsafe_pcs[t]) for t in safe_pcs}

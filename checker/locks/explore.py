"""Which locks each thread holds in every reachable state, and what follows.

Definition. The locks a thread holds are a *ghost*: a multiset of (lock
instance, shared?) per thread, updated by the `LockEvent`s of each step it
takes, in body order (an acquire adds, a release removes, a conditional
acquire adds only when its result says it succeeded), and emptied when the
thread ends. The search explores pairs (state, ghost) breadth-first with the
explicit engine's compiled steps, so its states are exactly the engine's
reachable states (faulting steps lead nowhere; a state that breaks an
invariant is not expanded), each paired with every lockset a run can reach
it with.

Why a ghost and not something read off the state:
- the lock words do not say who holds a lock: an rwlock's reader count, a bit
  spinlock and the page lock (PG_locked) record no owner;
- a static per-pc lockset cannot name the instance: the lock's location is a
  parameter of the annotated procedure (`pin_tag(handle)` locks
  `handles[k].val.pin` for whatever `handle` was), and the step that calls it
  clears that parameter on return, so a later state no longer says which
  object was locked.
Each lock event is therefore resolved with the reference interpreter at its
place in the step's body (`checker.locks.recorder`).

From the explored pairs this module collects, like lockdep for every
interleaving at once:
- lock-order edges A -> B (classes) wherever a thread holding A acquires B,
  or waits to acquire B (a blocked step whose body acquires B); trylocks add
  no edge, since they cannot wait;
- each shared location's accesses with the locks held (Eraser's lockset:
  a write is protected only by locks held exclusively, a read by any mode);
  the steps that take or release a lock are the lock's own implementation
  and are left out; an access by a step that runs an `atomic { }` block,
  and the store of one word field (`set_bit()`, the language's atomicity
  rule), are marked atomic (refcounts, atomic bit operations);
- the acquisition and release sites of each thread kind, with what is held;
- lock kinds: a class is *spinning* when acquiring it raises a counter that
  the asserts of a `__might_sleep` procedure (the model library's
  `might_sleep()`) require to be zero (the holder is in atomic context),
  *sleeping* otherwise; *unknown* when no step runs such an assert;
- `__must_hold` calls reached without the lock.
Each fact keeps its first witness in breadth-first order: a shortest run.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from checker.explore.codegen import Compiled, compile_system
from checker.explore.irqstate import lock_usage
from checker.ir.display import display_files, display_span, source_line
from checker.ir.footprint import expr_locs
from checker.ir.interp import Fault
from checker.ir.lockkind import LockOp
from checker.ir.nodes import Action, Assert, If, Stmt, TransitionSystem
from checker.locks.names import LockInstance, field_name, location_name
from checker.locks.recorder import (
    Location,
    LockStep,
    Recorder,
    StepRecord,
    blocking_acquires,
    has_lock_events,
)

Held = tuple[tuple[int, bool], ...]  # sorted (lock instance id, shared)
Ghost = tuple[Held, ...]  # per thread, in thread order
Key = tuple[int, Ghost]

DEFAULT_MAX_STATES = 2_000_000
PROGRESS_EVERY = 0.5  # seconds between two calls of a search's progress callback

# Told (pairs explored, pairs queued) now and then during a long search.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Witness:
    """A step `action` taken (or attempted) from the explored pair `key`."""

    key: Key
    action: int


@dataclass
class Site:
    """One statement of one thread kind, as a reader finds it in the spec."""

    thread_kind: str
    order: tuple[int, ...]  # source lines of its inlining frames: execution order
    line: int
    file: str
    text: str

    @property
    def ident(self) -> tuple[str, tuple[int, ...], str]:
        return (self.thread_kind, self.order, self.file)


@dataclass
class EdgeFacts:
    first: Witness
    sites: dict[tuple[str, int], Site] = field(default_factory=dict)
    taken: bool = False  # some run acquired B holding A (not only waited for it)
    modes: set[tuple[bool, bool]] = field(default_factory=set)  # (A shared, B shared)
    # (held instance, acquired instance): for an edge A -> A, whether the
    # instances of the class were always nested in one order
    instance_pairs: set[tuple[str, str]] = field(default_factory=set)


@dataclass
class ClassFacts:
    instances: set[str] = field(default_factory=set)
    ops: set[str] = field(default_factory=set)  # lock, read_lock, trylock, read_trylock
    threads: set[str] = field(default_factory=set)
    raises_atomic: bool = False


@dataclass
class OpRow:
    """An acquisition or release site of a thread kind."""

    site: Site
    op: str  # lock, read_lock, trylock, read_trylock, unlock, read_unlock
    lock_class: str
    held: dict[tuple[str, ...], Witness] = field(default_factory=dict)  # classes held before


@dataclass
class AccessSite:
    """The accesses of one location by one statement of one thread."""

    site: Site
    thread: int  # thread instance id
    write: bool
    # Every step of it runs an `atomic { }` block or stores this one word
    # field: a marked atomic access (atomic_inc(), test_and_set_bit(),
    # set_bit()), as KCSAN counts them.
    atomic: bool = False
    held: dict[frozenset[int], Witness] = field(default_factory=dict)  # protecting instances


@dataclass
class LocationFacts:
    of_field: str
    name: str
    threads: set[int] = field(default_factory=set)
    writers: set[int] = field(default_factory=set)
    write_lockset: frozenset[int] | None = None  # instances held exclusively at every write
    lockset: frozenset[int] | None = None  # instances protecting every access
    sites: dict[tuple[object, ...], AccessSite] = field(default_factory=dict)


@dataclass
class LockFacts:
    """Everything the search found about one scenario's locking."""

    ts: TransitionSystem
    compiled: Compiled | None  # None once `detach`ed: `steps()` compiles them again
    states: int = 0  # distinct states (the engine's reachable states)
    pairs: int = 0  # distinct (state, ghost) pairs
    complete: bool = True
    max_states: int = DEFAULT_MAX_STATES
    instances: list[LockInstance] = field(default_factory=list)
    classes: dict[str, ClassFacts] = field(default_factory=dict)
    edges: dict[tuple[str, str], EdgeFacts] = field(default_factory=dict)
    ops: dict[tuple[object, ...], OpRow] = field(default_factory=dict)
    locations: dict[Location, LocationFacts] = field(default_factory=dict)
    must_hold: dict[tuple[str, int, str], Witness] = field(default_factory=dict)
    has_might_sleep: bool = False
    # lockdep's usage bits of each class ({IN-HARDIRQ-W}, ...; checker.explore.irqstate)
    usage: dict[str, set[str]] = field(default_factory=dict)
    parent: dict[Key, tuple[Key, int] | None] = field(default_factory=dict, repr=False)
    # The compiled search keeps its parents in arrays: it answers `path` itself.
    tracer: Callable[[Key], list[int]] | None = field(default=None, repr=False, compare=False)
    # Once `detach`ed: the path of every witness, computed before the search went.
    paths: dict[Key, list[int]] = field(default_factory=dict, repr=False, compare=False)

    def steps(self) -> Compiled:
        """The scenario's compiled steps (compiled again after `detach`)."""
        if self.compiled is None:
            self.compiled = compile_system(self.ts)
        return self.compiled

    def detach(self) -> None:
        """Make these facts fit to cross to another process (pickled), as
        `doc` and `diff` on several processes need: the path of every
        witness is computed now, and the search's parents, its path
        finder and the compiled steps (closures) are dropped."""
        self.paths = {w.key: self.path(w.key) for w in witnesses(self)}
        self.parent = {}
        self.tracer = None
        self.compiled = None

    def path(self, key: Key) -> list[int]:
        """The packed states of a shortest run to `key`."""
        if key in self.paths:
            return self.paths[key]
        if self.tracer is not None:
            return self.tracer(key)
        out = [key[0]]
        link = self.parent[key]
        while link is not None:
            key = link[0]
            out.append(key[0])
            link = self.parent[key]
        out.reverse()
        return out

    def classes_of(self, ids: frozenset[int] | set[int]) -> tuple[str, ...]:
        return tuple(sorted({self.instances[i].lock_class for i in ids}))


def witnesses(facts: LockFacts) -> Iterator[Witness]:
    """Every witness the facts hold (those `summary` and the renderers
    may ask a path for)."""
    for e in facts.edges.values():
        yield e.first
    for row in facts.ops.values():
        yield from row.held.values()
    for loc in facts.locations.values():
        for site in loc.sites.values():
            yield from site.held.values()
    yield from facts.must_hold.values()


def atomic_context_slots(ts: TransitionSystem) -> tuple[bool, dict[int, list[int]]]:
    """The thread-owned slots the asserts of a `__might_sleep` procedure
    (`might_sleep()`) require to be zero, per thread: (whether some step of
    the model runs such an assert at all, thread -> slots)."""
    props = {p.index for p in ts.props if p.sleep_check}
    names: set[str] = set()
    found = False

    def walk(body: tuple[Stmt, ...]) -> None:
        nonlocal found
        for s in body:
            if isinstance(s, Assert) and s.prop in props:
                found = True
                for loc in expr_locs(s.cond):
                    slot = ts.slots[loc.base]
                    if not slot.shared and not slot.frame:
                        names.add(slot.name)
            elif isinstance(s, If):
                walk(s.then)
                walk(s.other)

    for a in ts.actions:
        walk(a.body)
    per_thread: dict[int, list[int]] = {}
    for slot in ts.slots:
        if slot.thread and slot.name in names and not slot.frame:
            per_thread.setdefault(slot.thread, []).append(slot.index)
    return found, per_thread


class LockSearch:
    """The reference search (`run`) and the accounting of one step, which
    `checker.locks.vm_search` reuses for the steps its kernel hands back."""

    def __init__(self, ts: TransitionSystem, max_states: int, memo: bool = True,
                 progress: Progress | None = None, compiled: Compiled | None = None):
        self.ts = ts
        self.progress = progress
        self.c = compiled or compile_system(ts)  # the steps are pure: one may be shared
        self.rec = Recorder(ts, memo)
        self.shown = display_files(ts)  # the lines a trace of this scenario shows
        self.facts = LockFacts(ts, self.c, max_states=max_states)
        self.ids: dict[LockInstance, int] = {}
        self.has_might_sleep, self.atomic = atomic_context_slots(ts)
        self.facts.has_might_sleep = self.has_might_sleep
        self.lock_step = [has_lock_events(a) for a in ts.actions]
        self.may_wait = [blocking_acquires(a) for a in ts.actions]
        self.sites: dict[int, Site] = {}

    # ------------------------------------------------------------ helpers
    def iid(self, lock: LockInstance) -> int:
        got = self.ids.get(lock)
        if got is None:
            got = self.ids[lock] = len(self.facts.instances)
            self.facts.instances.append(lock)
        return got

    def site(self, a: Action) -> Site:
        got = self.sites.get(a.id)
        if got is None:
            o = a.origin
            span = display_span(o, self.shown)
            order = tuple(sp.line for sp, _ in o.frames())
            text = source_line(span)
            kind = self.ts.threads[a.thread - 1].kind
            got = self.sites[a.id] = Site(kind, order, span.line, span.file, text)
        return got

    # ------------------------------------------------------------ search
    def run(self) -> LockFacts:
        ts, c, facts = self.ts, self.c, self.facts
        n = len(ts.threads)
        init: Key = (c.initial, ((),) * n)
        parent = facts.parent
        parent[init] = None
        seen_states = {c.initial}
        queue: deque[Key] = deque([init])
        inv = c.invariant
        popped = 0
        last = time.monotonic()
        while queue:
            key = queue.popleft()
            popped += 1
            if self.progress is not None and popped % 1024 == 0 and \
                    time.monotonic() - last > PROGRESS_EVERY:
                last = time.monotonic()
                self.progress(len(parent), len(queue))
            s, ghost = key
            if inv is not None:
                try:
                    if inv(s) >= 0:
                        continue
                except Fault:
                    continue
            for i, th in enumerate(ts.threads):
                pc = c.pc_of(s, i)
                if pc == 0:
                    continue
                for a in ts.actions_at(th.id, pc):
                    try:
                        t = c.step[a.id](s)
                    except Fault:
                        continue
                    if t is None:
                        if self.may_wait[a.id]:
                            self.attempt(key, i, a)
                        continue
                    rec = self.rec.run(a, s, c.packing)
                    if rec is None:  # the interpreter and the engine disagree
                        raise AssertionError(f"step a{a.id} ran in the engine but not in the "
                                             "reference interpreter")
                    held = self.step(key, i, a, t, rec)
                    if c.pc_of(t, i) == 0:
                        held = ()
                    nk: Key = (t, (*ghost[:i], held, *ghost[i + 1:]))
                    if nk in parent:
                        continue
                    if len(parent) >= facts.max_states:
                        facts.complete = False
                        queue.clear()
                        break
                    parent[nk] = (key, a.id)
                    seen_states.add(t)
                    queue.append(nk)
        facts.states = len(seen_states)
        facts.pairs = len(parent)
        if ts.has_handlers:
            facts.usage = {name: set(bits) for name, bits in lock_usage(c, seen_states).items()}
        return facts

    def step(self, key: Key, i: int, a: Action, t: int, rec: StepRecord) -> Held:
        """Account for one step; returns the thread's lockset after it."""
        held = list(key[1][i])
        w = Witness(key, a.id)
        if not self.lock_step[a.id]:
            self.accesses(held, i, a, rec, w)
            for op in rec.ops:  # __must_hold checks
                lid = self.iid(op.lock)
                if not any(h == lid for h, _ in held):
                    kind = self.ts.threads[i].kind
                    self.facts.must_hold.setdefault((kind, a.id, op.lock.lock_class), w)
            return key[1][i]
        kind = self.ts.threads[i].kind
        raised = self.raises_atomic(i, key[0], t)
        for op in rec.ops:
            lid = self.iid(op.lock)
            if op.op is LockOp.MUST_HOLD:
                if not any(h == lid for h, _ in held):
                    self.facts.must_hold.setdefault((kind, a.id, op.lock.lock_class), w)
                continue
            cf = self.facts.classes.setdefault(op.lock.lock_class, ClassFacts())
            cf.instances.add(op.lock.name)
            cf.threads.add(kind)
            if op.acquires:
                cf.ops.add(("read_" if op.shared else "") + ("trylock" if op.trylock else "lock"))
                cf.raises_atomic |= raised
                self.op_row(a, op, held, w)
                if op.blocking:
                    self.edges(held, lid, op, a, w, taken=True)
                held.append((lid, op.shared))
                held.sort()
            elif op.releases:
                self.op_row(a, op, held, w)
                entry = (lid, op.shared)
                if entry in held:
                    held.remove(entry)
        return tuple(held)

    def raises_atomic(self, i: int, s: int, t: int) -> bool:
        p = self.c.packing
        for k in self.atomic.get(self.ts.threads[i].id, []):
            mask = (1 << p.widths[k]) - 1
            if (t >> p.offsets[k]) & mask > (s >> p.offsets[k]) & mask:
                return True
        return False

    def attempt(self, key: Key, i: int, a: Action) -> None:
        rec = self.rec.run(a, key[0], self.c.packing, attempt=True)
        if rec is None:
            return
        held = list(key[1][i])
        for op in rec.ops:
            if op.blocking:
                self.edges(held, self.iid(op.lock), op, a, Witness(key, a.id), taken=False)
                break

    def edges(self, held: list[tuple[int, bool]], lid: int, op: LockStep, a: Action,
              w: Witness, taken: bool) -> None:
        inst = self.facts.instances
        b = inst[lid].lock_class
        site = self.site(a)
        for h, shared in held:
            if h == lid:
                continue  # recursion: the lock primitives' own assertions report it
            e = self.facts.edges.get((inst[h].lock_class, b))
            if e is None:
                e = self.facts.edges[(inst[h].lock_class, b)] = EdgeFacts(w)
            e.sites.setdefault((site.thread_kind, site.line), site)
            e.taken |= taken
            e.modes.add((shared, op.shared))
            e.instance_pairs.add((inst[h].name, inst[lid].name))

    def op_row(self, a: Action, op: LockStep, held: list[tuple[int, bool]], w: Witness) -> None:
        site = self.site(a)
        if op.releases:
            name = "read_unlock" if op.shared else "unlock"
        else:
            name = ("read_" if op.shared else "") + ("trylock" if op.trylock else "lock")
        k = (*site.ident, name, op.lock.lock_class)
        row = self.facts.ops.get(k)
        if row is None:
            row = self.facts.ops[k] = OpRow(site, name, op.lock.lock_class)
        before = self.facts.classes_of({h for h, _ in held})
        row.held.setdefault(before, w)

    def accesses(self, held: list[tuple[int, bool]], i: int, a: Action, rec: StepRecord,
                 w: Witness) -> None:
        if not rec.reads and not rec.writes:
            return
        tid = self.ts.threads[i].id
        excl = frozenset(h for h, shared in held if not shared)
        anyh = frozenset(h for h, _ in held)
        site = self.site(a)
        written = set(rec.writes)
        bit_writes = set(rec.bit_writes)
        for loc in dict.fromkeys([*rec.writes, *rec.reads]):
            is_write = loc in written
            lf = self.facts.locations.get(loc)
            if lf is None:
                lf = self.facts.locations[loc] = LocationFacts(
                    field_name(self.ts, *loc), location_name(self.ts, *loc))
            lf.threads.add(tid)
            protect = excl if is_write else anyh
            if is_write:
                lf.writers.add(tid)
                lf.write_lockset = excl if lf.write_lockset is None else lf.write_lockset & excl
            lf.lockset = protect if lf.lockset is None else lf.lockset & protect
            sk = (tid, *site.ident, is_write)
            asite = lf.sites.get(sk)
            atomic = a.atomic or loc in bit_writes
            if asite is None:
                asite = lf.sites[sk] = AccessSite(site, tid, is_write, atomic)
            asite.atomic &= atomic
            asite.held.setdefault(protect, w)


def explore_locks(ts: TransitionSystem, max_states: int = DEFAULT_MAX_STATES,
                  memo: bool = True, progress: Progress | None = None,
                  compiled: Compiled | None = None) -> LockFacts:
    """Explore every reachable state of `ts` with each thread's lockset
    (`compiled`: `ts`'s compiled steps, if already built)."""
    return LockSearch(ts, max_states, memo, progress, compiled).run()

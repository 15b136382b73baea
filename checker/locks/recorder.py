"""Run one step with the reference interpreter and record what it touched.

The lock analyses need, for one step from one concrete state: the shared
locations it read and wrote (resolved with that state's values, so
`handle->val` is `handles[0].val`, not "some handle"), and the lock
operations its body declares (`LockEvent`s), each resolved *where it stands
in the body*: the lock's location is given by the annotated procedure's
parameter, which the same step clears when the call returns.

Attempt mode answers "which lock would this step take?" for a step that is
blocked: conditions that read shared state (the `await` of a lock) are
ignored; conditions over the thread's own variables still choose the path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import assert_never, cast

from checker.explore.codegen import Packing
from checker.ir.footprint import expr_locs, loc_is_shared
from checker.ir.interp import Blocked, Fault, Interp
from checker.ir.lockkind import LockOp
from checker.ir.nodes import (
    Action,
    AllocObj,
    Assert,
    Assign,
    CoverHit,
    Expr,
    FreeObj,
    If,
    Loc,
    LockEvent,
    Read,
    Require,
    StartThread,
    Stmt,
    TransitionSystem,
    Warn,
)
from checker.ir.precond import Symbolic
from checker.locks.names import (
    LockInstance,
    location_lock,
    object_lock,
    object_lock_pool,
    word_field_name,
    word_fields,
)
from checker.sema.types import StructType

Location = tuple[int, str | None]  # (slot, word field or None)


@dataclass(frozen=True)
class LockStep:
    """A lock operation as one step performed it: on a resolved instance."""

    op: LockOp
    shared: bool  # the reader side of a reader-writer lock
    lock: LockInstance
    taken: bool  # for a conditional acquire: whether it succeeded

    @property
    def acquires(self) -> bool:
        match self.op:
            case LockOp.ACQUIRE:
                return True
            case LockOp.TRY_ACQUIRE:
                return self.taken
            case LockOp.RELEASE | LockOp.MUST_HOLD:
                return False
            case _:
                assert_never(self.op)

    @property
    def releases(self) -> bool:
        return self.op is LockOp.RELEASE

    @property
    def blocking(self) -> bool:
        """An acquisition that waits (a trylock cannot deadlock: lockdep adds
        no dependency for it)."""
        return self.op is LockOp.ACQUIRE

    @property
    def trylock(self) -> bool:
        return self.op is LockOp.TRY_ACQUIRE


@dataclass
class StepRecord:
    reads: list[Location] = field(default_factory=list)
    writes: list[Location] = field(default_factory=list)
    ops: list[LockStep] = field(default_factory=list)
    # Word fields stored one by one (`page->flags.PG_dirty = true`): one
    # read-modify-write step of the word, the language's set_bit().
    bit_writes: list[Location] = field(default_factory=list)


class PackedState:
    """A packed state read slot by slot (unpacking all of it costs more than
    the few slots a step touches); writes go to an overlay."""

    __slots__ = ("_over", "_p", "_s")

    def __init__(self, s: int, packing: Packing):
        self._s = s
        self._p = packing
        self._over: dict[int, int] = {}

    def __getitem__(self, i: int) -> int:
        got = self._over.get(i)
        if got is not None:
            return got
        p = self._p
        return ((self._s >> p.offsets[i]) & ((1 << p.widths[i]) - 1)) + p.los[i]

    def __setitem__(self, i: int, v: int) -> None:
        self._over[i] = v

    def __len__(self) -> int:
        return len(self._p.offsets)


class Recorder:
    """The reference interpreter, recording shared accesses and lock
    operations: it observes an `Interp` (`StepObserver`) rather than copy
    its semantics.

    What a step records is a function of the values it can read, so `run`
    keeps each answer under the step, the mode and the state's bits masked
    to every slot the step may read (`read_mask`): the lock search meets the
    same step from many states that differ only in other threads' slots,
    and from the same state with other ghost locksets."""

    def __init__(self, ts: TransitionSystem, memo: bool = True):
        self.ts = ts
        self.interp = Interp(ts.slots, ts.pools, observer=self)
        self.rec = StepRecord()
        self.attempt = False
        self._words: dict[int, list[str]] = {}
        self.memo = memo
        self._masks: dict[int, int | None] = {}
        self._memo: dict[tuple[int, bool, int], StepRecord | None] = {}

    # ------------------------------------------------------------ accesses
    def _fields(self, index: int, loc: Loc) -> list[Location]:
        slot = self.ts.slots[index]
        if loc.bits is not None:
            return [(index, word_field_name(self.ts, slot, loc.bits[0]))]
        if isinstance(slot.type, StructType) and slot.type.is_word:
            names = self._words.get(index)
            if names is None:
                names = [n for n, _ in word_fields(self.ts, slot.type)]
                self._words[index] = names
            return [(index, n) for n in names]
        return [(index, None)]

    def on_read(self, index: int, loc: Loc) -> None:
        if self.ts.slots[index].shared:
            self.rec.reads.extend(self._fields(index, loc))

    def on_write(self, index: int, loc: Loc) -> None:
        if self.ts.slots[index].shared:
            fields = self._fields(index, loc)
            self.rec.writes.extend(fields)
            if loc.bits is not None:
                self.rec.bit_writes.extend(fields)

    # ------------------------------------------------------------ statements
    def _local_only(self, e: Expr) -> bool:
        return not any(loc_is_shared(loc, self.ts.slots) for loc in expr_locs(e))

    def assumes(self, cond: Expr) -> bool:
        """In attempt mode a guard or `Require` stops the step only when it
        reads the thread's own variables alone."""
        return self.attempt and not self._local_only(cond)

    def skips_asserts(self) -> bool:
        return self.attempt

    def on_lock_event(self, ev: LockEvent, st: Sequence[int]) -> None:
        self.rec.ops.append(self.lock_op(ev, st))

    def lock_op(self, ev: LockEvent, st: Sequence[int]) -> LockStep:
        pool = object_lock_pool(self.ts, ev)
        saved = self.rec
        self.rec = StepRecord()  # resolving the lock is not an access
        try:
            if pool is not None:
                lock = object_lock(self.ts, pool, st[ev.loc.base])
            else:
                lock = location_lock(self.ts, ev, self.interp.slot_of(ev.loc, st, "lock"))
            taken = True if ev.held_if is None else bool(self.interp.eval(ev.held_if, st))
        finally:
            self.rec = saved
        return LockStep(ev.op, ev.shared, lock, taken)

    # ------------------------------------------------------------ steps
    def run(self, a: Action, s: int, packing: Packing, attempt: bool = False
            ) -> StepRecord | None:
        """What step `a` does from packed state `s`; None if it is not enabled
        (in attempt mode: not on this path) or faults. The record returned
        may be shared with other calls: read it, do not change it."""
        if not self.memo:
            return self._run(a, s, packing, attempt)
        if a.id not in self._masks:
            self._masks[a.id] = read_mask(self.ts, a, packing)
        mask = self._masks[a.id]
        if mask is None:
            return self._run(a, s, packing, attempt)
        key = (a.id, attempt, s & mask)
        if key in self._memo:
            return self._memo[key]
        got = self._memo[key] = self._run(a, s, packing, attempt)
        return got

    def _run(self, a: Action, s: int, packing: Packing, attempt: bool) -> StepRecord | None:
        self.rec = StepRecord()
        self.attempt = attempt
        # Read and written like the interpreter's list state, slot by slot.
        st = cast(list[int], PackedState(s, packing))
        try:
            if not self.interp.holds(a.guard, st):
                return None
            self.interp.exec(a.body, st)
        except (Blocked, Fault):
            return None
        finally:
            self.attempt = False
        return self.rec


def read_mask(ts: TransitionSystem, a: Action, packing: Packing) -> int | None:
    """The bits of every slot step `a` may read, over-approximated: what its
    conditions, values and lock events read and every slot each location it
    names can reach (with the allocated bits of the pools it reaches through:
    `Symbolic.reads` of a read of it), and all of a pool it allocates from or
    frees into. None for a step that starts a thread, whose effect depends on
    which instance slots are free: it is not memoised."""
    sym = Symbolic(ts.slots, ts.pools)
    slots: set[int] = set(sym.reads(a.guard))

    def body(stmts: Sequence[Stmt]) -> bool:
        for st in stmts:
            match st:
                case Assign():
                    slots.update(sym.reads(Read(st.loc)) | sym.reads(st.value))
                case If():
                    slots.update(sym.reads(st.cond))
                    if not body(st.then) or not body(st.other):
                        return False
                case Require() | Assert() | Warn():
                    slots.update(sym.reads(st.cond))
                case AllocObj() | FreeObj():
                    slots.update(sym.reads(Read(st.loc)) if isinstance(st, AllocObj)
                                 else sym.reads(st.ref))
                    info = ts.pools[st.pool]
                    slots.update(range(info.base, info.base + info.size * info.stride))
                case LockEvent():
                    slots.update(sym.reads(Read(st.loc)))
                    if st.held_if is not None:
                        slots.update(sym.reads(st.held_if))
                case StartThread():
                    return False
                case CoverHit():
                    pass
                case _:
                    assert_never(st)
        return True

    if not body(a.body):
        return None
    mask = 0
    for k in slots:
        mask |= ((1 << packing.widths[k]) - 1) << packing.offsets[k]
    return mask


def has_lock_events(a: Action) -> bool:
    """Whether a step takes or releases a lock (a `__must_hold` check does neither)."""
    return any(ev.op is not LockOp.MUST_HOLD for ev in _lock_events(a.body))


def blocking_acquires(a: Action) -> bool:
    return any(ev.op is LockOp.ACQUIRE for ev in _lock_events(a.body))


def _lock_events(body: Sequence[Stmt]) -> list[LockEvent]:
    out: list[LockEvent] = []
    for s in body:
        if isinstance(s, LockEvent):
            out.append(s)
        elif isinstance(s, If):
            out.extend(_lock_events(s.then))
            out.extend(_lock_events(s.other))
    return out

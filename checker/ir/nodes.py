"""The intermediate representation: one scenario as a transition system.

State: a flat vector of bounded integer slots (`Layout`). Every global,
every field of every pool object (plus its allocated bit), and every thread's
program counter, thread-local variables and locals has one slot; a `word` is
one slot whose value packs its fields.

Transitions: each thread instance has numbered program counters (pc 0 means
"not running": finished, or a dynamic thread slot not yet started) and a list
of `Action`s, each one atomic step `src -> dst` with a guard over the state
before the step and a body of `Stmt`s executed in order. A body may contain
`Require(cond)` statements: the step is enabled only if each holds when
reached; everything before a `Require` in a body touches only the thread's
own locals (see `checker.ir.fuse`).

Faults: expression evaluation faults on a null dereference, an access to a
freed object, an out-of-bounds index or division by zero; a store faults when
the value is outside the location's range; `Assert`, `Free` (double free) and
`Start` (no free thread slot) fault as named. A fault is a violation found in
the step that raised it. A `Warn` whose condition holds fires a warning, an
event of the step (no slot records it) reported only if the step is taken.
Every engine must implement exactly these semantics; `checker.ir.interp` is
the reference implementation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

from checker.dsl.diagnostics import Span
from checker.ir.lockkind import LockOp
from checker.kinds import ExecContext, ExpectKind, PropertyKind, ViolationKind
from checker.sema.types import Type

# ---------------------------------------------------------------- expressions


class ExprNode:
    """Base of the expression classes; `Expr`, their union, is what code
    names, so that a `match` over it is checked exhaustive by mypy."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Const(ExprNode):
    value: int


@dataclass(frozen=True, slots=True)
class Dyn:
    """A dynamic component of a location: `expr * stride` slots further on.

    For an array index, `expr` is the index (0..count-1, else out_of_bounds).
    For a pool reference, `expr` is the reference (1..count; 0 is null) and
    the element is `expr - 1`; reading through it checks the object's
    allocated bit, at `alloc_base + (expr - 1) * stride`.
    """

    expr: Expr
    stride: int
    count: int
    pool: str | None = None
    alloc_base: int = -1


@dataclass(frozen=True, slots=True)
class Loc:
    """A scalar location: slot `base + sum(component * stride)`, or the
    bit-field `bits = (shift, width, lo, hi)` of that slot when it holds a
    word (the field's value is stored as `value - lo` in `width` bits)."""

    base: int
    dyn: tuple[Dyn, ...] = ()
    bits: tuple[int, int, int, int] | None = None

    @property
    def static(self) -> bool:
        return not self.dyn


@dataclass(frozen=True, slots=True)
class Read(ExprNode):
    loc: Loc


@dataclass(frozen=True, slots=True)
class Unary(ExprNode):
    op: str  # "!", "-", "~"
    operand: Expr


@dataclass(frozen=True, slots=True)
class Binary(ExprNode):
    """Integer and boolean operators with C meaning; `&&`/`||` short-circuit,
    `/` and `%` truncate toward zero, comparisons give 0 or 1."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Ite(ExprNode):
    cond: Expr
    then: Expr
    other: Expr


@dataclass(frozen=True, slots=True)
class FieldOf(ExprNode):
    """Field `(shift, width, lo)` of a word-valued expression."""

    word: Expr
    shift: int
    width: int
    lo: int


Expr: TypeAlias = Const | Read | Unary | Binary | Ite | FieldOf

TRUE = Const(1)
FALSE = Const(0)

# ---------------------------------------------------------------- statements


class StmtNode:
    """Base of the statement classes; `Stmt` is their union (see `Expr`)."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Assign(StmtNode):
    loc: Loc
    value: Expr


@dataclass(frozen=True, slots=True)
class If(StmtNode):
    cond: Expr
    then: tuple[Stmt, ...]
    other: tuple[Stmt, ...] = ()


@dataclass(frozen=True, slots=True)
class Require(StmtNode):
    """The step is enabled only if `cond` holds here (a fused guard)."""

    cond: Expr


@dataclass(frozen=True, slots=True)
class Assert(StmtNode):
    """A property checked when reached: an `assert`, or a thread's `on_exit`
    properties at its end. A false condition faults with `kind`."""

    cond: Expr
    prop: int  # index into TransitionSystem.props
    kind: ViolationKind = ViolationKind.ASSERT  # or ON_EXIT


@dataclass(frozen=True, slots=True)
class AllocObj(StmtNode):
    """`loc = alloc(pool)`: the lowest-numbered free object, its fields reset
    to their defaults and its allocated bit set; null when the pool is full."""

    loc: Loc
    pool: str


@dataclass(frozen=True, slots=True)
class FreeObj(StmtNode):
    """`free(ref)`: no-op on null; a double free faults; fields reset."""

    ref: Expr
    pool: str


@dataclass(frozen=True, slots=True)
class ThreadSlot:
    """One instance slot a `StartThread` may fill."""

    thread: int  # thread instance id
    pc_slot: int
    entry_pc: int
    param_slots: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class StartThread(StmtNode):
    """Start a thread in the first slot whose pc is 0; none free faults."""

    kind: str
    args: tuple[Expr, ...]
    slots: tuple[ThreadSlot, ...]


@dataclass(frozen=True, slots=True)
class CoverHit(StmtNode):
    cover: int  # index into TransitionSystem.covers


@dataclass(frozen=True, slots=True)
class LockEvent(StmtNode):
    """A lock operation declared by an annotation on the called procedure
    (`__acquires`, `__releases`, ...), decoded by `checker.ir.lockkind`. No
    effect on the state: analyses read it."""

    op: LockOp
    shared: bool  # the reader side of a reader-writer lock
    loc: Loc
    lock_class: str
    held_if: Expr | None = None  # for TRY_ACQUIRE: held when this is true


@dataclass(frozen=True, slots=True)
class Warn(StmtNode):
    """A non-fatal check (`WARN_ON(cond)`, include/asm-generic/bug.h): when
    `cond` holds, the step fires warning `prop` and goes on. An event, not a
    state change: no slot records it, so the state space is the one without
    the check. A step that is blocked later in its body (a `Require`) or
    faults fires nothing: only a step taken fires its warnings. Evaluating
    `cond` faults as any expression does."""

    cond: Expr
    prop: int  # index into TransitionSystem.props (kind WARNING)


# ---------------------------------------------------------------- the system


Stmt: TypeAlias = (Assign | If | Require | Assert | AllocObj | FreeObj | StartThread | CoverHit
                   | LockEvent | Warn)


@dataclass(frozen=True)
class Origin:
    """A source statement an action executes, with its inlining call stack
    (outermost call site first)."""

    span: Span
    stack: tuple[Span, ...] = ()
    proc: str = ""
    # Per frame (thread body first, then each inlined call): whether that
    # frame runs a one-statement wrapper such as pin_tag().
    wrappers: tuple[bool, ...] = ()
    # Per frame, the function it runs (the thread first): the function a
    # reader is told a displayed statement belongs to (a race diagram's step).
    owners: tuple[str, ...] = ()

    def owner_of(self, frame: int) -> str:
        """The function frame `frame` (0: the thread body) runs; the innermost
        known one where the origin has no per-frame record."""
        return self.owners[frame] if frame < len(self.owners) else self.proc

    def frames(self) -> list[tuple[Span, bool]]:
        """(statement, in a wrapper) for each frame, outermost first."""
        spans = [*self.stack, self.span]
        flags = list(self.wrappers) + [False] * (len(spans) - len(self.wrappers))
        return list(zip(spans, flags, strict=True))


@dataclass
class Action:
    id: int
    thread: int
    src: int
    dst: int
    guard: Expr
    body: tuple[Stmt, ...]
    origins: tuple[Origin, ...]
    visible: bool = True
    key: int = -1  # index in origins of the statement the step exists for
    at: tuple[int, ...] = ()  # per statement of body: index in origins of its source (-1: none)
    atomic: bool = False  # runs an `atomic { }` block: marked atomic accesses (checker.locks)
    # Passes a progress label (`progress:`, `progress_NAME:`): the `no_progress`
    # property (checker.explore.fairness) asks a thread to take such steps forever.
    progress: bool = False

    @property
    def origin(self) -> Origin:
        """The statement a reader should see for this step: the shared access
        (or atomic block) it exists for, not the local statements fused in."""
        if not self.origins:
            return Origin(Span.unknown())
        return self.origins[self.key]

    def origin_at(self, index: int) -> Origin:
        """The source statement of `body[index]` (a fault is drawn at the
        statement that raised it, not at the first of a fused step); the
        step's own for the guard (-1) or where it is not known."""
        if 0 <= index < len(self.at) and 0 <= self.at[index] < len(self.origins):
            return self.origins[self.at[index]]
        return self.origin


@dataclass(frozen=True)
class Slot:
    index: int
    name: str
    lo: int
    hi: int
    default: int
    kind: str  # bool, int, enum, ref, tid, word, pc, alloc
    type: Type | None = None
    thread: int = 0  # 0: shared; else the owning thread instance
    pool: str | None = None
    frame: bool = False  # a procedure's parameter, local or result, or a temporary

    @property
    def shared(self) -> bool:
        return self.thread == 0


@dataclass
class PoolInfo:
    name: str
    base: int  # slot of object 0's allocated bit
    stride: int  # slots per object, allocated bit included
    size: int
    elem: Type


@dataclass(frozen=True)
class Prop:
    """A property that can be violated, with what identifies it to `expect`."""

    index: int
    kind: PropertyKind
    name: str
    span: Span
    # An assert of a procedure annotated `__might_sleep`: what it requires of
    # the thread's own state is "not in atomic context" (checker.locks.explore).
    sleep_check: bool = False
    # A warning site of WARN_ON_ONCE/WARN_ONCE: the kernel prints it once per
    # boot; here that changes only how it is reported (see README).
    once: bool = False


@dataclass(frozen=True)
class Cover:
    index: int
    message: str
    span: Span


@dataclass
class ThreadInstance:
    id: int
    kind: str
    pc_slot: int
    entry_pc: int
    dynamic: bool
    args_text: str
    param_slots: tuple[int, ...]
    owned: tuple[int, ...]  # slots owned by this thread
    # For each pc, where the thread stands (the next statement it executes).
    pc_origin: dict[int, Origin] = field(default_factory=dict)
    cpu: int = 0  # the CPU it runs on (`on cpu N`; else one of its own)
    context: ExecContext = ExecContext.TASK  # a task, or an interrupt/softirq handler
    # `daemon thread`: runs forever by design; it need not finish, and a state
    # where only daemons are unfinished and none can move is an end state.
    daemon: bool = False
    # `fair thread`: strongly fair (checker.explore.fairness); others weakly.
    fair: bool = False

    @property
    def label(self) -> str:
        return f"{self.kind}({self.args_text})" if not self.dynamic else f"{self.kind}#{self.id}"


@dataclass(frozen=True)
class CpuState:
    """The slots of one CPU's execution context (models/irq.mig's per-CPU
    variables; -1 where the spec does not import it): what gates its
    handlers (checker.ir.contexts) and classifies a lock's use
    (checker.explore.irqstate)."""

    hardirqs_off: int = -1
    hardirq_count: int = -1
    softirq_serving: int = -1
    bh_disable_count: int = -1


@dataclass(frozen=True)
class SymmetryGroup:
    """Thread instances declared interchangeable (`run T(args) * N
    symmetric;`, checked by `checker.ir.symmetry`): a state and the state
    with these instances permuted, every thread id renamed the same way,
    have the same futures and violations. `blocks[i]` are instance
    `threads[i]`'s slots, corresponding slot by slot across instances."""

    kind: str
    threads: tuple[int, ...]
    blocks: tuple[tuple[int, ...], ...]
    span: Span


@dataclass(frozen=True)
class PoolSymmetry:
    """A pool whose objects are declared interchangeable (`pool ...
    symmetric;` or a scenario's `symmetric POOL;`, checked by
    `checker.ir.symmetry`): a state and the state with these objects
    permuted, every reference to the pool renamed the same way, have the
    same futures and violations when the permutation keeps the free
    objects in their order. `blocks[i]` are object i's slots (its
    allocated bit, then its fields), `refs` every place that holds a
    reference to the pool (a `TidLoc` read as "a location of an id")."""

    pool: str
    blocks: tuple[tuple[int, ...], ...]
    refs: tuple[TidLoc, ...]
    span: Span
    # (pc slot, pc) of every step that may allocate from the pool: where
    # a freed object still referenced makes the allocator's choice (the
    # lowest free object) observable (checker.explore.symmetry).
    alloc_at: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class TidLoc:
    """A place that holds a thread id: slot `slot`, or with `width` the
    field of `width` bits at `shift` of that word slot. With `bits`, the
    place holds a set of thread ids (a `tidset`: bit t for thread t)."""

    slot: int
    shift: int = 0
    width: int = 0
    bits: bool = False


@dataclass
class Expectation:
    kind: ExpectKind
    name: str | None
    span: Span | None


@dataclass(frozen=True)
class WarnExpectation:
    """`expect warning [NAME];`: a warning the scenario expects to fire
    (any warning when `name` is None)."""

    name: str | None
    span: Span | None


@dataclass
class TransitionSystem:
    """One scenario, lowered. Every engine and back end consumes this."""

    spec: str
    spec_sha256: str
    scenario: str
    bindings: dict[str, int | bool]
    slots: list[Slot]
    pools: dict[str, PoolInfo]
    initial: tuple[int, ...]
    threads: list[ThreadInstance]
    actions: list[Action]
    props: list[Prop]
    invariants: list[tuple[int, Expr]]  # (prop index, condition)
    finals: list[tuple[int, Expr]]
    covers: list[Cover]
    statements: list[Origin]  # every source statement of the scenario's code
    expect: Expectation
    lock_orders: list[list[str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)  # `tag slow;`: large configurations
    warn_expects: list[WarnExpectation] = field(default_factory=list)
    cpus: list[CpuState] = field(default_factory=list)  # per CPU number
    # `symmetric` runs (checker.ir.symmetry); `tid_locs` only when there is one.
    symmetry: list[SymmetryGroup] = field(default_factory=list)
    tid_locs: list[TidLoc] = field(default_factory=list)
    # symmetric pools (checker.ir.symmetry), searched after `symmetry`'s groups.
    pool_symmetry: list[PoolSymmetry] = field(default_factory=list)

    @property
    def symmetric(self) -> bool:
        """Whether the scenario declares anything interchangeable."""
        return bool(self.symmetry or self.pool_symmetry)

    @property
    def warnings(self) -> list[Prop]:
        """The scenario's warning sites (`WARN_ON` and kin)."""
        return [p for p in self.props if p.kind == PropertyKind.WARNING]

    @property
    def has_handlers(self) -> bool:
        return any(t.context != ExecContext.TASK for t in self.threads)

    def actions_at(self, thread: int, pc: int) -> list[Action]:
        return self._by_pc().get((thread, pc), [])

    def _by_pc(self) -> dict[tuple[int, int], list[Action]]:
        cache: dict[tuple[int, int], list[Action]] | None = getattr(self, "_by_pc_cache", None)
        if cache is None:
            cache = {}
            for a in self.actions:
                cache.setdefault((a.thread, a.src), []).append(a)
            self._by_pc_cache = cache
        return cache

    def progress_threads(self) -> set[str]:
        """The kinds of the thread instances with a progress label on some
        step (README, "Liveness and fairness")."""
        marked = {a.thread for a in self.actions if a.progress}
        return {t.kind for t in self.threads if t.id in marked}

    def liveness_refusal(self) -> str | None:
        """Why only the explicit engine can check this scenario, or None.
        A `daemon` thread changes which states are end states (one where
        only daemons are left is no deadlock), and starvation is a property
        of infinite fair runs: the symbolic engines and the Promela export
        encode neither, so they refuse rather than judge another property."""
        daemons = [t.kind for t in self.threads if t.daemon]
        if daemons:
            return (f"scenario {self.scenario} runs daemon thread {daemons[0]}: daemons and "
                    "starvation under fairness are checked by the explicit engine only "
                    "(migcheck check without --engine bmc)")
        marked = sorted(self.progress_threads())
        if marked:
            return (f"scenario {self.scenario}: thread {marked[0]} has a progress label; "
                    "no_progress under fairness is checked by the explicit engine only "
                    "(migcheck check without --engine bmc)")
        if self.expect.kind in (ViolationKind.STARVATION, ViolationKind.NO_PROGRESS):
            return (f"scenario {self.scenario} expects {self.expect.kind}, a property of fair "
                    "infinite runs: the explicit engine checks it (migcheck check without --engine bmc)")
        return None

    @property
    def has_cycles(self) -> bool:
        """Whether some thread can loop (then a run can spin forever).

        A dynamic thread's slot is free at pc 0, which its last step returns
        to, and a `start` by any thread sets it to its entry pc again: that
        edge belongs to the slot's graph too, or threads that restart one
        another (a state cycle with no loop in any body) would be missed."""
        import networkx as nx

        for t in self.threads:
            g: nx.DiGraph = nx.DiGraph()
            g.add_edges_from((a.src, a.dst) for a in self.actions if a.thread == t.id)
            if t.dynamic:
                g.add_edge(0, t.entry_pc)
            try:
                nx.find_cycle(g)
                return True
            except nx.NetworkXNoCycle:
                continue
        return False

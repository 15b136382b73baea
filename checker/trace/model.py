"""A counterexample as data: steps with their statements and state changes.

Built from a search's `Violation` (a list of packed states) by finding, for
each pair of consecutive states, the action that leads from one to the other.
Values are shown as a reader of the spec writes them: `true`, `ZS_FULL`,
`pages[1]`, `null`, `T2`, and words field by field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import Any

from checker.dsl.diagnostics import SourceCache, Span
from checker.explore.codegen import Compiled
from checker.explore.result import FiredWarning, Violation
from checker.ir.display import (
    display_files,
    display_frame,
    display_span,
    source_line,
    strip_comment,
)
from checker.ir.interp import Fault, Interp
from checker.ir.layout import bits_for
from checker.ir.nodes import Action, Expr, Loc, LockEvent, Origin, Prop, Slot, TransitionSystem
from checker.kinds import PropertyKind, ViolationKind
from checker.sema.types import BoolType, EnumType, IntType, PtrType, StructType, TidType, Type

TRACE_FORMAT = "migcheck-trace/1"


@dataclass
class Change:
    var: str
    before: str
    after: str
    frame: bool = False  # a procedure-frame slot: kept for replay, not drawn


@dataclass
class Step:
    index: int  # 1-based
    thread: int  # thread instance id
    line: int  # line of the statement in the thread's own code
    file: str
    text: str  # that statement's source
    inner: str  # the innermost statement when inside a called procedure, else ""
    inner_where: str  # "proc() file:line" of the innermost statement
    changes: list[Change] = field(default_factory=list)
    fault: str = ""  # the violation this step raised, if it did
    pc: int = -1  # the thread's program counter after the step (0: finished)
    func: str = ""  # the function the drawn statement belongs to
    # The locations the step read and wrote (see access_name()): a race
    # diagram slices the trace on them.
    reads: list[str] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)
    # Stores that left a value as it was (before == after), drawn as writes:
    # such a store can overwrite a concurrent update (a lost update).
    rewrites: list[Change] = field(default_factory=list)
    # The WARN_ON warnings this step fired (the run went on), as
    # `warning_message` words them; "" if none.
    warning: str = ""


@dataclass
class ThreadInfo:
    id: int
    kind: str
    label: str
    dynamic: bool


@dataclass
class HeldLock:
    """A lock a thread holds at the end of a run, as lockdep lists it:
    the instance, its class, the annotated procedure that took it and the
    spec line that called it (`checker.locks.held` derives these from the
    run; no state keeps a lock's owner)."""

    lock: str  # the instance: pages[0], zspages[0].lock
    lock_class: str  # page, zspage.lock
    shared: bool  # taken as a reader
    how: str  # the procedure that took it: spin_lock, trylock_page
    file: str
    line: int
    step: int  # the step of the trace that took it (1-based)
    spinning: bool  # taking it raised the thread's preemption count


@dataclass
class LockWait:
    """What a blocked thread waits for: a lock (`lock` names it) or a
    condition over shared state (the statement at `line`), and the threads
    that hold what it waits for."""

    lock: str  # the instance it waits to take or to see released; "" if none is known
    line: int
    file: str
    text: str  # the statement it is blocked at
    holders: list[int] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)  # what its blocking condition reads


@dataclass
class ThreadLocks:
    thread: int
    held: list[HeldLock] = field(default_factory=list)
    wait: LockWait | None = None
    preempt_count: int | None = None  # the counters might_sleep() requires to be 0, summed


@dataclass
class LockReport:
    """The lockdep-style part of a deadlock or sleeping-in-atomic trace."""

    kind: str  # deadlock, sleep_in_atomic
    threads: list[ThreadLocks] = field(default_factory=list)


@dataclass
class Trace:
    spec: str
    spec_sha256: str
    scenario: str
    bindings: dict[str, int | bool]
    kind: str
    name: str | None
    message: str
    threads: list[ThreadInfo]
    steps: list[Step]
    loop_start: int | None = None  # for a livelock: the step where the cycle starts
    final_state: dict[str, str] = field(default_factory=dict)
    blocked: dict[int, str] = field(default_factory=dict)  # thread -> where it stands
    format: str = TRACE_FORMAT
    # The locations the violated property or fault reads (its condition, the
    # faulting access, a blocked thread's guards), named as Step.reads: the
    # end state and the race diagram show what involves them.
    focus: list[str] = field(default_factory=list)
    locks: LockReport | None = None  # held locks and waits (checker.locks.held)

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        if self.locks is None:  # the traces of other violations stay as they were
            del d["locks"]
        for step in d["steps"]:  # a step fires a warning rarely: only then the field
            if not step["warning"]:
                del step["warning"]
        return d

    @staticmethod
    def from_dict(d: dict[str, object]) -> Trace:
        """A trace from its JSON form, every field checked for its type and
        range first (TraceDataError): a trace file is input, and a wrong
        type would otherwise surface as a crash deep in replay or rendering."""
        data = _fields(d, "trace", _TRACE_FIELDS)
        data["bindings"] = {_str(k, "bindings"): _binding(v, f"bindings.{k}")
                            for k, v in _dict(data["bindings"], "bindings").items()}
        data["threads"] = [ThreadInfo(**_fields(t, f"threads[{i}]", _THREAD_FIELDS))
                           for i, t in enumerate(_list(data["threads"], "threads"))]
        steps = []
        for i, raw in enumerate(_list(data["steps"], "steps")):
            fields = _fields(raw, f"steps[{i}]", _STEP_FIELDS)
            for key in ("changes", "rewrites"):
                fields[key] = [Change(**_fields(c, f"steps[{i}].{key}[{j}]", _CHANGE_FIELDS))
                               for j, c in enumerate(_list(fields.get(key, []),
                                                           f"steps[{i}].{key}"))]
            for key in ("reads", "writes"):
                fields[key] = [_str(x, f"steps[{i}].{key}[{j}]")
                               for j, x in enumerate(_list(fields.get(key, []),
                                                           f"steps[{i}].{key}"))]
            steps.append(Step(**fields))
        data["steps"] = steps
        ids = {t.id for t in data["threads"]}
        for i, st in enumerate(steps):
            if st.thread not in ids:
                raise TraceDataError(f"steps[{i}].thread: T{st.thread} is not one of the "
                                     "trace's threads")
        loop = data.get("loop_start")
        if loop is not None and not 0 <= loop <= len(steps):
            raise TraceDataError(f"loop_start: {_short(loop)} is not a step of the trace "
                                 f"(0..{len(steps)})")
        data["final_state"] = {_str(k, "final_state"): _str(v, f"final_state.{k}")
                               for k, v in _dict(data.get("final_state", {}),
                                                 "final_state").items()}
        data["blocked"] = {_thread_key(k): _str(v, f"blocked.{k}")
                           for k, v in _dict(data.get("blocked", {}), "blocked").items()}
        data["focus"] = [_str(x, f"focus[{j}]")
                         for j, x in enumerate(_list(data.get("focus", []), "focus"))]
        if data.get("locks") is not None:
            data["locks"] = _lock_report(data["locks"])
        return Trace(**data)


class TraceDataError(ValueError):
    """A trace's JSON with a missing, unknown or wrongly typed field."""


_BIG = 1 << 62  # ids, indices, lines and program counters: far below, and fit a C index
_Check = tuple[bool, Any]  # (required, checker of the value)


def _short(v: object) -> str:
    text = repr(v) if not isinstance(v, int) or abs(v) < 1 << 64 else "a huge number"
    return text if len(text) <= 40 else text[:37] + "..."


def _str(v: object, where: str) -> str:
    if not isinstance(v, str):
        raise TraceDataError(f"{where}: expected a string, not {_short(v)}")
    return v


def _int(v: object, where: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not -_BIG <= v <= _BIG:
        raise TraceDataError(f"{where}: expected an integer, not {_short(v)}")
    return v


def _nat(v: object, where: str) -> int:
    n = _int(v, where)
    if n < 0:
        raise TraceDataError(f"{where}: expected 0 or more, not {n}")
    return n


def _bool(v: object, where: str) -> bool:
    if not isinstance(v, bool):
        raise TraceDataError(f"{where}: expected true or false, not {_short(v)}")
    return v


def _opt_str(v: object, where: str) -> str | None:
    return None if v is None else _str(v, where)


def _opt_nat(v: object, where: str) -> int | None:
    return None if v is None else _nat(v, where)


def _list(v: object, where: str) -> list[Any]:
    if not isinstance(v, list):
        raise TraceDataError(f"{where}: expected a list, not {_short(v)}")
    return v


def _any(v: object, where: str) -> object:
    """A nested record, checked field by field by its own reader."""
    del where
    return v


def _dict(v: object, where: str) -> dict[Any, Any]:
    if not isinstance(v, dict):
        raise TraceDataError(f"{where}: expected an object, not {_short(v)}")
    return v


def _binding(v: object, where: str) -> int | bool:
    """A constant's or option's value: 62 bits at most (sizes and options of
    a scenario, far below what would exhaust the build)."""
    if isinstance(v, bool):
        return v
    if not isinstance(v, int) or v.bit_length() > 62:
        raise TraceDataError(f"{where}: expected an integer or a bool, not {_short(v)}")
    return v


def _thread_key(k: object) -> int:
    text = _str(k, "blocked")
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise TraceDataError(f"blocked: {_short(k)} is not a thread id")
    return int(text)


def _lock_report(raw: object) -> LockReport:
    d = _fields(raw, "locks", _LOCKS_FIELDS)
    threads = []
    for i, t in enumerate(_list(d["threads"], "locks.threads")):
        where = f"locks.threads[{i}]"
        f = _fields(t, where, _THREAD_LOCKS_FIELDS)
        f["held"] = [HeldLock(**_fields(h, f"{where}.held[{j}]", _HELD_FIELDS))
                     for j, h in enumerate(_list(f.get("held", []), f"{where}.held"))]
        if f.get("wait") is not None:
            w = _fields(f["wait"], f"{where}.wait", _WAIT_FIELDS)
            w["holders"] = [_nat(x, f"{where}.wait.holders") for x in
                            _list(w.get("holders", []), f"{where}.wait.holders")]
            w["reads"] = [_str(x, f"{where}.wait.reads") for x in
                          _list(w.get("reads", []), f"{where}.wait.reads")]
            f["wait"] = LockWait(**w)
        threads.append(ThreadLocks(**f))
    return LockReport(d["kind"], threads)


def _fields(raw: object, where: str, spec: dict[str, _Check]) -> dict[str, Any]:
    """`raw` as keyword arguments: every required key present, no unknown
    key, each value checked."""
    d = _dict(raw, where)
    unknown = [k for k in d if k not in spec]
    if unknown:
        raise TraceDataError(f"{where}: unknown field {_short(unknown[0])}")
    out: dict[str, Any] = {}
    for key, (required, check) in spec.items():
        if key not in d:
            if required:
                raise TraceDataError(f"{where}: missing field '{key}'")
            continue
        out[key] = check(d[key], f"{where}.{key}" if where != "trace" else key)
    return out


_TRACE_FIELDS: dict[str, _Check] = {
    "spec": (True, _str), "spec_sha256": (True, _str),
    "scenario": (True, _str), "bindings": (True, _dict),
    "kind": (True, _str), "name": (True, _opt_str), "message": (True, _str),
    "threads": (True, _list), "steps": (True, _list),
    "loop_start": (False, _opt_nat), "final_state": (False, _dict),
    "blocked": (False, _dict), "format": (False, _str), "focus": (False, _list),
    "locks": (False, _any),
}
_LOCKS_FIELDS: dict[str, _Check] = {"kind": (True, _str), "threads": (True, _list)}
_THREAD_LOCKS_FIELDS: dict[str, _Check] = {
    "thread": (True, _nat), "held": (False, _list), "wait": (False, _any),
    "preempt_count": (False, _opt_nat),
}
_HELD_FIELDS: dict[str, _Check] = {
    "lock": (True, _str), "lock_class": (True, _str), "shared": (True, _bool),
    "how": (True, _str), "file": (True, _str), "line": (True, _nat), "step": (True, _nat),
    "spinning": (True, _bool),
}
_WAIT_FIELDS: dict[str, _Check] = {
    "lock": (True, _str), "line": (True, _nat), "file": (True, _str), "text": (True, _str),
    "holders": (False, _list), "reads": (False, _list),
}
_THREAD_FIELDS: dict[str, _Check] = {
    "id": (True, _nat), "kind": (True, _str), "label": (True, _str),
    "dynamic": (True, _bool),
}
_STEP_FIELDS: dict[str, _Check] = {
    "index": (True, _nat), "thread": (True, _nat), "line": (True, _nat),
    "file": (True, _str), "text": (True, _str), "inner": (True, _str),
    "inner_where": (True, _str), "changes": (True, _list),
    "fault": (False, _str), "pc": (False, _int), "func": (False, _str),
    "reads": (False, _list), "writes": (False, _list), "rewrites": (False, _list),
    "warning": (False, _str),
}
_CHANGE_FIELDS: dict[str, _Check] = {
    "var": (True, _str), "before": (True, _str), "after": (True, _str),
    "frame": (False, _bool),
}


class ValueFormatter:
    def __init__(self, ts: TransitionSystem):
        self.ts = ts
        self.labels = {t.id: t.label for t in ts.threads}

    def scalar(self, t: Type | None, v: int, kind: str) -> str:
        if kind == "alloc":
            return "allocated" if v else "free"
        if isinstance(t, BoolType):
            return "true" if v else "false"
        if isinstance(t, EnumType):
            return t.members[v] if 0 <= v < len(t.members) else str(v)
        if isinstance(t, PtrType):
            if v == 0:
                return "null"
            for pool in self.ts.pools.values():
                if pool.elem is t.target:
                    return f"{pool.name}[{v - 1}]"
            return f"#{v}"
        if isinstance(t, TidType):
            return "none" if v == 0 else f"T{v}"
        return str(v)

    def fields(self, st: StructType, raw: int) -> list[tuple[str, str]]:
        out = []
        for f, shift in zip(st.fields.values(), self._shifts(st), strict=True):
            lo, hi = _field_range(f.type, self.ts)
            v = ((raw >> shift) & ((1 << bits_for(hi - lo + 1)) - 1)) + lo
            out.append((f.name, self.scalar(f.type, v, "")))
        return out

    def value(self, slot: Slot, v: int) -> str:
        if isinstance(slot.type, StructType) and slot.type.is_word:
            inner = ", ".join(f"{n}={x}" for n, x in self.fields(slot.type, v))
            return "{" + inner + "}"
        return self.scalar(slot.type, v, slot.kind)

    def changes(self, before: Sequence[int], after: Sequence[int],
                ended: int = 0) -> list[Change]:
        """What a step changed. `ended`: the thread that finished in it, whose
        own variables were cleared (kept for replay, not drawn)."""
        out: list[Change] = []
        for slot, a, b in zip(self.ts.slots, before, after, strict=True):
            if a == b or slot.kind == "pc":
                continue
            hidden = slot.frame or (ended != 0 and slot.thread == ended)
            if isinstance(slot.type, StructType) and slot.type.is_word:
                fa = self.fields(slot.type, a)
                fb = self.fields(slot.type, b)
                for (name, x), (_, y) in zip(fa, fb, strict=True):
                    if x != y:
                        out.append(Change(f"{slot.name}.{name}", x, y, hidden))
                continue
            out.append(Change(slot.name, self.value(slot, a), self.value(slot, b), hidden))
        return out


    def rewrites(self, writes: Sequence[tuple[int, Loc]], before: Sequence[int],
                 after: Sequence[int]) -> list[Change]:
        """The shared stores among `writes` that left their value as it was
        (a store to one field of a word judged by that field alone; a store of
        a whole word that changed some field is drawn by its changes)."""
        out: dict[str, Change] = {}
        for index, loc in writes:
            slot = self.ts.slots[index]
            if not slot.shared or slot.kind == "pc":
                continue
            if loc.bits is not None and isinstance(slot.type, StructType):
                # One field of a word: judged by itself.
                fields = zip(self.fields(slot.type, before[index]),
                             self.fields(slot.type, after[index]),
                             self._shifts(slot.type), strict=True)
                for (name, x), (_, y), shift in fields:
                    if shift == loc.bits[0] and x == y:
                        out.setdefault(f"{slot.name}.{name}", Change(f"{slot.name}.{name}", x, y))
            elif before[index] == after[index]:
                v = self.value(slot, after[index])
                out.setdefault(slot.name, Change(slot.name, v, v))
        return list(out.values())

    def _shifts(self, st: StructType) -> list[int]:
        """Where each field of a word starts (the layout fields() reads)."""
        out, shift = [], 0
        for f in st.fields.values():
            lo, hi = _field_range(f.type, self.ts)
            out.append(shift)
            shift += bits_for(hi - lo + 1)
        return out


def _field_range(t: Type, ts: TransitionSystem) -> tuple[int, int]:
    if isinstance(t, BoolType):
        return 0, 1
    if isinstance(t, IntType):
        assert t.lo is not None and t.hi is not None
        return t.lo, t.hi
    if isinstance(t, EnumType):
        return 0, len(t.members) - 1
    if isinstance(t, PtrType):
        for pool in ts.pools.values():
            if pool.elem is t.target:
                return 0, pool.size
        return 0, 0
    if isinstance(t, TidType):
        return 0, len(ts.threads)
    return 0, 0


def statement_of(a: Action, shown: str | frozenset[str], origin: Origin | None = None
                 ) -> tuple[Span, str, str, str]:
    """(span, text, inner text, inner place) for an action: the spec line a
    reader follows, and the innermost statement it ran (`origin`: one of
    its statements instead of the one it exists for, such as a fault's)."""
    o = a.origin if origin is None else origin
    outer = display_span(o, shown)
    outer_text = source_line(outer)
    if a.dst == 0 and outer_text == "}":
        outer_text = "} (thread ends)"
    inner = inner_where = ""
    if o.stack:
        # A multi-line atomic block is drawn whole, collapsed onto one line.
        text = _collapse(o.span) if o.span.end_line > o.span.line else source_line(o.span)
        inner = f"{o.proc}: {text}"
        inner_where = f"{o.span.file}:{o.span.line}"
    return outer, outer_text, inner, inner_where


def _collapse(span: Span) -> str:
    """A multi-line statement on one line, comments removed."""
    lines = []
    for ln in range(span.line, span.end_line + 1):
        text = SourceCache.line(span.file, ln)
        if text is None:
            break
        if ln == span.end_line:
            text = text[: span.end_column - 1]
        if ln == span.line:
            text = text[span.column - 1:]
        lines.append(strip_comment(text).strip())
    return " ".join(x for x in lines if x)


def find_action(c: Compiled, s: int, t: int) -> Action:
    """The action that leads from state `s` to state `t`."""
    for a, n in c.moves(s):
        if n == t:
            return a
    raise AssertionError("no action connects two consecutive trace states")


def run_actions(c: Compiled, v: Violation) -> list[Action]:
    """The action of each step of `v`'s run (its path, then its cycle): the
    cycle's own where the violation names them, else one that connects."""
    states = [*v.path, *v.cycle]
    out = [find_action(c, s, t) for s, t in pairwise(v.path)]
    if v.cycle_actions:
        assert len(v.cycle_actions) == len(v.cycle)
        return out + [c.ts.actions[a] for a in v.cycle_actions]
    start = len(v.path) - 1
    return out + [find_action(c, states[k], states[k + 1])
                  for k in range(start, len(states) - 1)]


def build_trace(c: Compiled, v: Violation) -> Trace:
    ts = c.ts
    fmt = ValueFormatter(ts)
    states = [*v.path, *v.cycle]
    steps: list[Step] = []
    for k, a in enumerate(run_actions(c, v)):
        s, t = states[k], states[k + 1]
        steps.append(_step(fmt, c, len(steps) + 1, a, s, t))
    if v.fault_action is not None:
        a = ts.actions[v.fault_action]
        s = states[-1]
        st = _step(fmt, c, len(steps) + 1, a, s, s, raised_by(c, a, s))
        st.fault = v.message
        st.writes, st.rewrites = [], []  # the step faulted: none of its stores happened
        steps.append(st)
    focus = _focus(c, v, states, steps)
    last = c.packing.unpack(states[-1])
    final_state = {slot.name: fmt.value(slot, val) for slot, val in zip(ts.slots, last, strict=True)
                   if slot.shared}
    blocked: dict[int, str] = {}
    for i, th in enumerate(ts.threads):
        pc = c.pc_of(states[-1], i)
        if pc == 0 or (th.daemon and v.kind == ViolationKind.STARVATION):
            continue  # a starvation names the threads that never finish
        origin = th.pc_origin.get(pc)
        if origin is not None:
            span = display_span(origin, display_files(ts))
            blocked[th.id] = f"line {span.line}: {SourceCache.excerpt(span)}"
    threads = [ThreadInfo(t.id, t.kind, t.label, t.dynamic) for t in ts.threads]
    loop_start = len(v.path) - 1 if v.cycle else None
    return Trace(ts.spec, ts.spec_sha256, ts.scenario, dict(ts.bindings), v.kind, v.name,
                 v.message, threads, steps, loop_start, final_state, blocked, focus=focus)


def _focus(c: Compiled, v: Violation, states: list[int], steps: list[Step]) -> list[str]:
    """The locations the violation involves: what the faulting step read
    (the faulting access included), what the broken invariant or final
    condition reads, the guards a deadlocked thread waits on, or everything
    the steps of a spinning cycle read."""
    ts = c.ts
    if v.fault_action is not None:
        return steps[-1].reads
    last = c.packing.unpack(states[-1])
    if v.cycle:
        return sorted({r for st in steps[len(v.path) - 1:] for r in st.reads})
    rec = _Accesses()
    interp = _RecordingInterp(ts.slots, ts.pools, rec)
    props = {"invariant": ts.invariants, "final": ts.finals}.get(v.kind)
    if props is not None:
        for idx, expr in props:
            if v.name is None or ts.props[idx].name == v.name:
                _quietly(interp, expr, last)
    else:
        for th in ts.threads:
            if last[th.pc_slot] != 0:
                for a in ts.actions_at(th.id, last[th.pc_slot]):
                    _quietly(interp, a, last)
    return rec.names(ts.slots)[0]


def _quietly(interp: Interp, what: Expr | Action, st: list[int]) -> None:
    """Evaluate a condition or run a step for the accesses it makes,
    whatever its outcome."""
    try:
        if isinstance(what, Action):
            interp.step(what, st, None)
        else:
            interp.eval(what, st)
    except Fault:
        pass


def access_name(slot: Slot) -> str:
    """A location as Step.reads and Step.writes name it: a shared slot by
    its name, a thread's own by the thread and its name (`T2.page`), since
    two threads' locals can share a name."""
    return slot.name if slot.shared else f"T{slot.thread}.{slot.name}"


class _Accesses:
    """A StepObserver that records the slots a step reads and writes."""

    def __init__(self) -> None:
        self.reads: list[int] = []
        self.writes: list[tuple[int, Loc]] = []

    def on_read(self, index: int, loc: Loc) -> None:
        self.reads.append(index)

    def on_write(self, index: int, loc: Loc) -> None:
        self.writes.append((index, loc))

    def on_lock_event(self, ev: LockEvent, st: Sequence[int]) -> None:
        pass

    def assumes(self, cond: Expr) -> bool:
        return False

    def skips_asserts(self) -> bool:
        return False

    def names(self, slots: Sequence[Slot]) -> tuple[list[str], list[str]]:
        """(reads, writes) by access_name(), each once, in first-access order."""
        reads = dict.fromkeys(access_name(slots[i]) for i in self.reads
                              if slots[i].kind != "pc")
        writes = dict.fromkeys(access_name(slots[i]) for i, _ in self.writes)
        return list(reads), list(writes)


class _RecordingInterp(Interp):
    """The reference interpreter, also reporting the allocated bit a
    reference through a pool reads (the plain one checks it silently): a
    use-after-free involves the free that cleared it."""

    def slot_of(self, loc: Loc, st: Sequence[int], verb: str) -> int:
        if self.observer is not None:
            for d in loc.dyn:
                if d.pool is not None:
                    ref = self.eval(d.expr, st)
                    if 1 <= ref <= d.count:
                        alloc = d.alloc_base + (ref - 1) * d.stride
                        self.observer.on_read(alloc, Loc(alloc))
        return super().slot_of(loc, st, verb)


def raised_by(c: Compiled, a: Action, s: int) -> Origin:
    """The statement of `a` that faults in state `s`: the reference
    interpreter knows which one it executes (the generated code does not),
    so that a fused step is drawn at its faulting statement, not its first."""
    state = c.packing.unpack(s)
    try:
        Interp(c.ts.slots, c.ts.pools).step(a, state, c.ts.threads[a.thread - 1].pc_slot)
    except Fault as f:
        return a.origin_at(f.at)
    return a.origin


def _step(fmt: ValueFormatter, c: Compiled, index: int, a: Action, s: int, t: int,
          origin: Origin | None = None) -> Step:
    shown = display_files(c.ts)
    span, text, inner, inner_where = statement_of(a, shown, origin)
    before, after = c.packing.unpack(s), c.packing.unpack(t)
    changes = fmt.changes(before, after, ended=a.thread if a.dst == 0 else 0)
    rec = _Accesses()
    interp = _RecordingInterp(c.ts.slots, c.ts.pools, rec)
    _quietly(interp, a, list(before))
    reads, writes = rec.names(c.ts.slots)
    rewrites = fmt.rewrites(rec.writes, before, after)
    warning = "; ".join(warning_message(c.ts.props[k]) for k in dict.fromkeys(interp.warned))
    return Step(index, a.thread, span.line, span.file, text, inner, inner_where, changes,
                pc=a.dst, func=display_frame(a.origin if origin is None else origin, shown)[1],
                reads=reads, writes=writes, rewrites=rewrites, warning=warning)


def warning_message(prop: Prop) -> str:
    """How a fired warning reads, as the kernel's "WARNING: ... at file:line"
    (the macro and its condition, where it stands)."""
    return f"{SourceCache.excerpt(prop.span)} at {prop.span.file}:{prop.span.line} fired"


def build_warning_trace(c: Compiled, w: FiredWarning) -> Trace:
    """The run of a fired warning: `w.path`, then the step that fired it
    (that very action: another step to the same state would not fire it)."""
    s = w.path[-1]
    t = c.step[w.action](s)
    assert t is not None, "the step that fired a warning is enabled"
    trace = build_trace(c, Violation(ViolationKind.ASSERT, "", None, [*w.path, t]))
    fmt = ValueFormatter(c.ts)
    trace.steps[-1] = _step(fmt, c, len(trace.steps), c.ts.actions[w.action], s, t)
    trace.kind, trace.name = str(PropertyKind.WARNING), w.name
    trace.message = warning_message(w.prop)
    trace.focus = trace.steps[-1].reads
    return trace

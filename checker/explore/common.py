"""Pieces every search strategy shares: classifying a state with no
successors, checking invariants, and finding which step raised a fault."""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass, field

from checker.dsl.diagnostics import SourceCache
from checker.explore.codegen import Compiled
from checker.explore.properties import prop_key as property_key
from checker.explore.properties import property_of
from checker.explore.result import FiredWarning, Violation
from checker.ir.interp import Fault, Interp
from checker.ir.nodes import Expectation
from checker.kinds import ViolationKind


@dataclass
class StateGraph:
    """The state graph, kept by a search when the livelock pass will need it:
    every state numbered in the order it was first seen, and each step of an
    expanded state as a pair of numbers. A successor list would hold a fresh
    copy of every target state (an int of several hundred bits) per
    transition; numbers cost eight bytes a step, and the livelock pass needs
    numbers anyway."""

    index: dict[int, int] = field(default_factory=dict)
    rows: array[int] = field(default_factory=lambda: array("q"))
    cols: array[int] = field(default_factory=lambda: array("q"))
    # An engine that numbers states itself (checker.vm) hands over the
    # steps and the number of states, and fills `index` only if the
    # livelock pass finds a spinning component and must name its states.
    count: int = -1
    filler: Callable[[StateGraph], None] | None = None

    def size(self) -> int:
        return len(self.index) if self.filler is None else self.count

    def materialize(self) -> None:
        if self.filler is not None:
            fill, self.filler = self.filler, None
            fill(self)

    def add(self, s: int, succ: list[int]) -> None:
        index = self.index
        i = index.get(s)
        if i is None:
            i = index[s] = len(index)
        rows, cols = self.rows, self.cols
        for t in succ:
            j = index.get(t)
            if j is None:
                j = index[t] = len(index)
            rows.append(i)
            cols.append(j)

    def states(self) -> list[int]:
        """The states by number."""
        out = [0] * len(self.index)
        for s, i in self.index.items():
            out[i] = s
        return out


@dataclass
class Outcome:
    """What a search found. With an expected violation, only a matching one
    ends the search; others are kept (the first of each kind) for the report.

    `every` (--all-violations): no violation ends the search; the first of
    each property is kept in `found`, in the order met, which a breadth-first
    search makes a shortest one. `wanted` (--property): the properties
    offered at all; a violation of another is dropped here. Every engine
    reports through `offer`, so both hold in each of them."""

    expect: Expectation | None
    violation: Violation | None = None
    others: list[Violation] = field(default_factory=list)
    limit: str | None = None
    every: bool = False
    wanted: frozenset[str] | None = None
    found: dict[str, Violation] = field(default_factory=dict)
    warnings: dict[int, FiredWarning] = field(default_factory=dict)  # by prop, in order found

    def warned(self, c: Compiled, s: int, path: Callable[[], list[int]]) -> None:
        """Record the warnings that the steps just taken from `s` fired
        (`c.runtime.pending`, filled by the generated code), the first run
        of each site only; then forget them. A warning does not stop the
        search: it changes no state (see nodes.Warn)."""
        pending = c.runtime.pending
        got: list[int] | None = None
        for aid, mask in pending:
            while mask:
                bit = mask & -mask
                mask ^= bit
                k = bit.bit_length() - 1
                if k in self.warnings:
                    continue
                prop = c.ts.props[k]
                if self.wanted is not None and property_key(prop) not in self.wanted:
                    continue
                if got is None:
                    got = path()
                self.warnings[k] = FiredWarning(prop, got, aid)
        pending.clear()

    @property
    def any_recorded(self) -> bool:
        """Whether a violation was kept without ending the search (the
        initial state then is not explored further)."""
        return bool(self.others or self.found)

    def offer(self, v: Violation | None) -> bool:
        """Record a violation; True if the search should stop."""
        if v is None:
            return False
        if self.wanted is not None or self.every:
            key = property_of(v)
            if self.wanted is not None and key not in self.wanted:
                return False
            if self.every:
                self.found.setdefault(key, v)
                return False
        if self.expect is None or self.expect.kind == "verified" or v.matches(self.expect):
            self.violation = v
            return True
        if not any(o.kind == v.kind and o.name == v.name for o in self.others):
            self.others.append(v)
        return False


def expand_safely(c: Compiled, s: int, path: Callable[[], list[int]]
                  ) -> tuple[list[int], list[Violation]]:
    """Successors of a state whose expansion faulted: every step that does not
    fault, and the violation of every step that does, the first one the
    scenario expects first, then in thread order. Two threads can fault in
    one state, and each fault must be offered (`offer_faults`): an expected
    violation, or one asked for by --property, must not hide behind
    another thread's, nor a second property from --all-violations. Under
    symmetry reduction (`c.canon`) the successors are representatives, as
    `c.expand`'s are: the steps themselves stay concrete."""
    succ: list[int] = []
    faults: list[Violation] = []
    expect = c.ts.expect
    run: list[int] | None = None
    for i, t in enumerate(c.ts.threads):
        for a in c.ts.actions_at(t.id, c.pc_of(s, i)):
            try:
                n = c.step[a.id](s)
            except Fault as f:
                if run is None:
                    run = path()
                faults.append(_fault(c, a.id, f, run))
                continue
            if n is not None:
                succ.append(n)
    assert faults
    if expect is not None:
        first = next((v for v in faults if v.matches(expect)), faults[0])
        faults.remove(first)
        faults.insert(0, first)
    if c.canon is not None:
        succ = [c.canon(t) for t in succ]
    return succ, faults


def offer_faults(out: Outcome, faults: list[Violation]) -> bool:
    """Offer a state's faults (`expand_safely`) in order; True if one of
    them stops the search."""
    return any(out.offer(v) for v in faults)


def warned_slowly(c: Compiled, s: int) -> None:
    """The warnings of every step from `s` that does not fault, by the
    reference interpreter, into `c.runtime.pending`: a state whose expansion
    faulted is expanded again by the step functions (`expand_safely`),
    which report no warnings."""
    if not c.ts.warnings:
        return
    interp = Interp(c.ts.slots, c.ts.pools)
    st = c.packing.unpack(s)
    for t in c.ts.threads:
        for a in c.ts.actions_at(t.id, st[t.pc_slot]):
            try:
                new = interp.step(a, st, t.pc_slot)
            except Fault:
                continue
            if new is not None:
                c.runtime.pending.extend((a.id, 1 << k) for k in interp.warned)


def _fault(c: Compiled, aid: int, f: Fault, path: list[int]) -> Violation:
    message, prop = f.reported(c.ts, c.ts.actions[aid])
    return Violation(f.kind, message, prop, path, fault_action=aid)


def where(c: Compiled, s: int, index: int) -> str:
    t = c.ts.threads[index]
    pc = c.pc_of(s, index)
    origin = t.pc_origin.get(pc)
    if origin is None:
        return "?"
    from checker.ir.display import display_files, display_span

    span = display_span(origin, display_files(c.ts))
    text = SourceCache.excerpt(span)
    return f"line {span.line}: {text}"


def terminal(c: Compiled, s: int, path_fn: Callable[[], list[int]]) -> Violation | None:
    """A state with no successor: a deadlock unless every thread finished,
    in which case the `final` properties must hold. A `daemon` thread need
    not finish: a state where only daemons are left, none able to move
    (kcompactd asleep waiting for work), is an end state as well."""
    if s & c.pc_mask and s & must_finish_mask(c):
        blocked = [
            f"{t.label} at {where(c, s, i)}"
            for i, t in enumerate(c.ts.threads)
            if c.pc_of(s, i) != 0
        ]
        return Violation(ViolationKind.DEADLOCK, "no thread can move: " + "; ".join(blocked), None,
                         path_fn())
    if c.final is not None:
        try:
            bad = c.final(s)
        except Fault as f:
            return Violation(ViolationKind.FINAL, f"evaluating final properties: {f.message}", None,
                             path_fn())
        if bad >= 0:
            prop = c.ts.props[bad]
            return Violation(ViolationKind.FINAL, f"final property '{prop.name}' does not hold", prop,
                             path_fn())
    return None


def must_finish_mask(c: Compiled) -> int:
    """The pc bits of the threads that must finish (every one but the daemons)."""
    out = 0
    for t, (off, mask) in zip(c.ts.threads, c.thread_pc, strict=True):
        if not t.daemon:
            out |= mask << off
    return out


def check_invariant(c: Compiled, s: int, path_fn: Callable[[], list[int]]) -> Violation | None:
    assert c.invariant is not None
    try:
        bad = c.invariant(s)
    except Fault as f:
        return Violation(ViolationKind.INVARIANT, f"evaluating invariants: {f.message}", None, path_fn())
    if bad >= 0:
        prop = c.ts.props[bad]
        return Violation(ViolationKind.INVARIANT, f"invariant '{prop.name}' does not hold", prop, path_fn())
    return None



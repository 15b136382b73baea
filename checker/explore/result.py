"""What a search returns: a verdict, its figures, and any counterexample."""

from __future__ import annotations

import math
import resource
from dataclasses import dataclass, field
from typing import Any

from checker.ir.nodes import Cover, Expectation, Origin, Prop, TransitionSystem, WarnExpectation
from checker.kinds import VERIFIED, Status, Verdict, ViolationKind


@dataclass
class Coverage:
    """What a partial search covered and what it may have missed (README,
    "Partial search"). `omitted`: the expected number of states omitted by
    hash collisions (0 for a simulation, which stores nothing)."""

    mode: str  # bitstate, hashcompact, simulation, swarm
    states: int  # states stored (a simulation: distinct states visited)
    bits: int = 0  # the filter's size (bitstate), a stored hash's (hashcompact)
    bits_set: int = 0
    hashes: int = 0
    omitted: float = 0.0
    depth_bound: int | None = None
    cut: bool = False  # the depth bound left states unexpanded
    searches: int = 1  # swarm: the searches run; simulation: the walks
    detail: str = ""

    @property
    def fill(self) -> float:
        """The filter's fill ratio (bitstate)."""
        return self.bits_set / self.bits if self.bits and self.mode != "hashcompact" else 0.0

    @property
    def p_omission(self) -> float:
        """P(at least one state omitted by a collision), the number of
        omissions taken as Poisson with mean `omitted`."""
        return -math.expm1(-self.omitted)

    def to_json(self) -> dict[str, object]:
        return {"mode": self.mode, "states": self.states, "bits": self.bits,
                "bits_set": self.bits_set, "fill": self.fill, "hashes": self.hashes,
                "expected_omissions": self.omitted, "p_omission": self.p_omission,
                "depth_bound": self.depth_bound, "depth_cut": self.cut,
                "searches": self.searches, "detail": self.detail}

    def text(self) -> str:
        if self.mode == "bitstate":
            what = (f"bitstate: {self.states:,} states stored, {self.bits_set:,} of "
                    f"{self.bits:,} bits set (fill {self.fill:.3%}), {self.hashes} hashes")
        elif self.mode == "hashcompact":
            what = f"hash compaction: {self.states:,} states stored as 64-bit hashes"
        else:
            what = f"{self.mode}: {self.states:,} states"
        if self.detail:
            what += f", {self.detail}"
        if self.mode != "simulation":
            what += (f"; expected states omitted by collisions {self.omitted:.3g}, "
                     f"P(any omitted) {self.p_omission:.3g}")
        if self.cut:
            what += f"; depth bound {self.depth_bound} reached"
        return "partial search (never verified): " + what


@dataclass
class Stats:
    states: int = 0
    transitions: int = 0
    depth: int = 0
    seconds: float = 0.0  # the search
    post_seconds: float = 0.0  # livelock and vacuity passes after it
    # For the progress line: states found and not yet expanded (the BFS
    # queue), or the DFS stack; 0 where an engine does not say.
    queue: int = 0
    peak_rss_mb: float = 0.0
    state_bits: int = 0
    # The visited set as allocated, from the arrays of the VM's store
    # (checker/vm/store.py); 0 when the search ended in the Python engine.
    store_bytes: int = 0
    # Per worker of a search on several workers (`--workers`: threads,
    # checker/vm/parallel.py; `--cluster`: processes, checker/vm/ray_search.py):
    # the states it stores and its memory (MB), as of the last level ranked.
    # After a complete search the states add up to `states`.
    workers: list[tuple[int, float]] = field(default_factory=list)
    # What a worker's memory is: "peak" (its process's peak resident memory)
    # or "store" (a thread's arrays: threads share their process's memory).
    workers_memory: str = "peak"
    # A partial search's figures (bitstate, hash compaction, simulation,
    # swarm); None for an exhaustive one.
    coverage: Coverage | None = None
    # Symmetry reduction: what was reduced ("1 group of 3 compactor threads"),
    # or why a declared one was not applied; "" when none was declared.
    symmetry: str = ""
    symmetry_applied: bool = False
    # What --por did: "partial-order reduction", or why it was not applied.
    reduction: str = ""
    # Why a search asked to run on several workers (the default search past
    # its hand-over) ran on one.
    one_worker: str = ""
    # --resume: the seconds the search had run before its checkpoint.
    resumed_seconds: float | None = None

    @property
    def states_per_second(self) -> float:
        return self.states / self.seconds if self.seconds > 0 else 0.0

    def workers_text(self) -> str:
        """The workers' share, for the figures and the progress line:
        "3 workers: 380,011 to 380,502 states, up to 310 MB peak each"."""
        if not self.workers:
            return ""
        states = [n for n, _ in self.workers]
        mb = max(m for _, m in self.workers)
        what = "peak" if self.workers_memory == "peak" else "of store"
        return (f"{len(self.workers)} workers: {min(states):,} to {max(states):,} states, "
                f"up to {mb:,.{1 if mb < 10 else 0}f} MB {what} each")

    def workers_json(self) -> list[dict[str, object]]:
        """The workers' figures for `--format json`, one object a worker."""
        key = "peak_rss_mb" if self.workers_memory == "peak" else "store_mb"
        return [{"worker": w, "states": n, key: round(mb, 1)}
                for w, (n, mb) in enumerate(self.workers)]


@dataclass
class Violation:
    """A property broken by a run: `path` leads from the initial state to the
    state before `fault_action` (a step that faulted), or to the violating state
    itself; for a lasso (livelock, starvation), `cycle` repeats forever from
    the path's last state: its states after that one, ending with it."""

    kind: ViolationKind
    message: str
    prop: Prop | None
    path: list[int]
    fault_action: int | None = None
    cycle: list[int] = field(default_factory=list)
    # An inconsistent lock state's other usage: a run ending with the step
    # that took the lock in the other context (checker.explore.irqstate).
    witness: list[int] = field(default_factory=list)
    # The action of each step of `cycle`, where the finder knows it: two
    # threads can make the same step (`x = 1` where x is 1 already), and
    # which of them moves is what makes a cycle fair (explore.fairness).
    cycle_actions: list[int] = field(default_factory=list)

    @property
    def name(self) -> str | None:
        return self.prop.name if self.prop else None

    def matches(self, expect: Expectation) -> bool:
        if expect.kind != self.kind:
            return False
        return expect.name is None or expect.name == self.name

    @property
    def steps(self) -> int:
        return len(self.path) - 1 + (1 if self.fault_action is not None else 0) + len(self.cycle)


@dataclass
class FiredWarning:
    """A `WARN_ON` site that fired: the first run found to fire it (a
    shortest one under breadth-first search), `path` from the initial state
    to the state in which step `action` fired it."""

    prop: Prop
    path: list[int]
    action: int

    @property
    def name(self) -> str:
        return self.prop.name

    @property
    def steps(self) -> int:
        return len(self.path)

    def matches(self, expect: WarnExpectation) -> bool:
        return expect.name is None or expect.name == self.prop.name


@dataclass
class CheckResult:
    ts: TransitionSystem
    verdict: Verdict
    stats: Stats
    violation: Violation | None = None
    limit: str | None = None  # the limit that cut the search short
    unexecuted: list[Origin] = field(default_factory=list)
    uncovered: list[Cover] = field(default_factory=list)
    search: str = "bfs"
    others: list[Violation] = field(default_factory=list)  # met on the way, not expected
    # --all-violations: `others` holds a shortest run of every other property broken
    every: bool = False
    traces: list[Any] = field(default_factory=list, repr=False)  # of `others`, built by the CLI
    # The generated code: to build traces, and (its `fired` flags) to see what a run executed.
    compiled: Any = field(default=None, repr=False)
    # WARN_ON sites that fired, each with its first run, in the order found.
    warnings: list[FiredWarning] = field(default_factory=list)
    warning_traces: list[Any] = field(default_factory=list, repr=False)  # built by the CLI
    witness_traces: list[Any] = field(default_factory=list, repr=False)  # built by the CLI

    @property
    def unexpected_warnings(self) -> list[FiredWarning]:
        """Warnings no `expect warning` line names: a failure, as a WARN
        splat in a kernel CI run is."""
        expects = self.ts.warn_expects
        return [w for w in self.warnings if not any(w.matches(x) for x in expects)]

    @property
    def missing_warnings(self) -> list[WarnExpectation]:
        """`expect warning` lines no warning fired for."""
        return [x for x in self.ts.warn_expects
                if not any(w.matches(x) for w in self.warnings)]

    @property
    def warnings_met(self) -> bool:
        return not self.unexpected_warnings and not self.missing_warnings

    @property
    def met(self) -> bool:
        """Whether the scenario met its expectation."""
        return self.main_met and self.warnings_met

    @property
    def main_met(self) -> bool:
        """Whether the verdict meets the `expect` line (warnings aside)."""
        exp = self.ts.expect
        if self.verdict == Verdict.INCOMPLETE:
            return False
        if exp.kind == VERIFIED:
            return self.verdict == Verdict.VERIFIED and not self.uncovered
        return self.violation is not None and self.violation.matches(exp)

    @property
    def status(self) -> Status:
        """One word for reports: met, unmet, vacuous, incomplete."""
        if self.verdict == Verdict.INCOMPLETE:
            return Status.INCOMPLETE
        if self.ts.expect.kind == VERIFIED and self.verdict == Verdict.VERIFIED and self.uncovered \
                and self.warnings_met:
            return Status.VACUOUS
        return Status.MET if self.met else Status.UNMET


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * resource.getpagesize() / (1024 * 1024)
    except OSError:
        return peak_rss_mb()

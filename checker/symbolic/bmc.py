"""Bounded model checking: is a violation reachable in at most K steps?

The scenario's transition system is unrolled one step at a time (a free
choice of action per step, frame conditions for every slot the action does
not write). At each depth k the solver is asked whether a state reachable in
exactly k steps is a violation: a step from it faults (null dereference,
use-after-free, failed assert, broken primitive rule, ...), it is
deadlocked, it breaks an invariant, or every thread finished and a `final`
property is false. Depths are tried in increasing order (and at each depth a
bad state before a faulting step from it), so the first violation found has
a shortest trace, in steps, across all kinds.

Like the explicit search, when the scenario expects a violation BMC looks
for that one. It looks for the other kinds only if the expected one is not
found (then the first of each is reported, as the explicit engine reports
the violations it met on the way): a solver query for every other kind at
every depth would cost more than the search itself. The status follows the
explicit engine's: other violations found within a depth bound that did not
cover every run are notes and the scenario is *incomplete* (the expected one
may lie deeper); only when every run ends within the depth reached is a
missing expected violation *unexpected*.

The answer is complete, and "verified" is reported, only when the solver
shows that no state at some depth k <= K has a successor: then every run
ends within k steps and every reachable state was checked. Otherwise a run
without violation up to depth K is *incomplete* (`--depth K`). Runs that
spin forever are not looked for by BMC (a bottom strongly connected
component is not a bounded property); when every run ends, none exist.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import z3

from checker.explore.codegen import Compiled, compile_system
from checker.explore.limits import process_limits
from checker.explore.result import CheckResult, Stats, Violation, peak_rss_mb
from checker.explore.vacuity import uncovered, unexecuted
from checker.ir.contexts import refuse_usage_expectation
from checker.ir.nodes import Cover, Origin, TransitionSystem
from checker.kinds import Verdict
from checker.symbolic.concrete import run_schedule, violation_at
from checker.symbolic.encode import Encoding, Indicator, disj, refuse_warnings
from checker.symbolic.limited import within_limits
from checker.symbolic.stats import BmcStats
from checker.symbolic.unroll import Deadline, Unrolling, first_true, holds


def _matches(ts: TransitionSystem, ind: Indicator, kind: str, name: str | None) -> bool:
    if ind.kind != kind:
        return False
    return name is None or (ind.prop >= 0 and ts.props[ind.prop].name == name)


def _name(ts: TransitionSystem, ind: Indicator) -> str | None:
    return ts.props[ind.prop].name if ind.prop >= 0 else None


class Bmc:
    def __init__(self, ts: TransitionSystem, depth: int, seconds: float | None,
                 progress: Callable[[Stats], None] | None = None,
                 deadline: Deadline | None = None, note_others: bool = False):
        self.ts = ts
        # Look for other violations at every depth (a proof's base case must),
        # or only once the expected one is not found (BMC: a solver query for
        # every other kind at every depth would cost more than the search).
        self.note_others = note_others
        self.max_depth = depth
        limits = process_limits()
        if deadline is None and seconds is not None and limits is not None \
                and limits.deadline is not None:
            deadline = Deadline(limits.deadline)  # --max-seconds: from the process start
        self.deadline = deadline or Deadline.after(seconds)
        self.seconds = seconds
        self.progress = progress
        self.start = time.monotonic()
        self.enc = Encoding(ts)
        self.solver = z3.SolverFor("QF_BV")
        self.u = Unrolling.from_initial(self.enc, self.solver)
        self.c: Compiled = compile_system(ts)
        self.stats = BmcStats(width=self.enc.width)
        self.others: list[Violation] = []
        self.noted: set[tuple[str, str | None]] = set()
        self.found: Violation | None = None

    # ------------------------------------------------------------ queries
    def _violation(self, k: int, inds: list[Indicator]) -> tuple[str, Violation | None]:
        """Ask whether one of `inds` holds at depth k: sat (with the violation),
        unsat, or unknown (out of time)."""
        result, model = self.u.ask(self.u.at(k, disj([i.cond for i in inds])), self.deadline)
        if result != z3.sat:
            return ("unsat" if result == z3.unsat else "unknown"), None
        assert model is not None
        ind = first_true(model, [Indicator(i.kind, i.prop, self.u.at(k, i.cond), i.action)
                                 for i in inds])
        path = run_schedule(self.c, self.u.schedule(model, k))
        return "sat", violation_at(self.c, path, ind.kind, ind.prop, ind.action)

    def check_depth(self, k: int) -> str:
        """Look for violations in the states reachable in exactly k steps (the
        unrolling must have k steps). Returns "violation" (the expected one,
        or any when the scenario expects none: `self.found`), "complete" (no
        state at depth k has a successor), "clear", or "unknown" (time)."""
        ts = self.ts
        exp = ts.expect
        self.stats.depth = k
        self._report()
        inds = self.enc.template.indicators
        if exp.kind == "verified":
            wanted, rest = inds, []
        else:
            wanted = [i for i in inds if _matches(ts, i, exp.kind, exp.name)]
            rest = [i for i in inds if not _matches(ts, i, exp.kind, exp.name)]
        # A bad state at depth k is a k-step trace; a step that faults from it,
        # k+1 steps: ask in that order, so the first violation is a shortest one.
        for group in ([i for i in wanted if i.action is None],
                      [i for i in wanted if i.action is not None]):
            if not group:
                continue
            answer, v = self._violation(k, group)
            if answer == "unknown":
                return "unknown"
            if v is not None:
                self.found = v
                return "violation"
        if self.note_others and self._note_others(k, rest) == "unknown":
            return "unknown"
        answer, _ = self.u.ask(self.u.can_move(k), self.deadline)
        if answer == z3.unknown:
            return "unknown"
        if answer == z3.unsat:
            self.stats.complete = True
            return "complete"
        return "clear"

    def run(self) -> CheckResult:
        limit: str | None = None
        for k in range(self.max_depth + 1):
            try:
                answer = self.check_depth(k)
            except KeyboardInterrupt as e:  # Ctrl-C: how far it got, for the message
                e.add_note(f"scenario {self.ts.scenario}: bmc stopped at depth {k}, no "
                           f"violation within {k - 1} steps: not verified" if k else
                           f"scenario {self.ts.scenario}: bmc stopped at depth 0")
                raise
            if answer == "violation":
                assert self.found is not None
                return self.result(Verdict.VIOLATION, self.found)
            if answer == "unknown":
                limit = self.time_limit()
                break
            if answer == "complete":
                break
            if k == self.max_depth:
                limit = f"--depth {self.max_depth}"
                break
            self.u.extend()
        if not self.note_others and self.ts.expect.kind != "verified":
            # The expected violation is not there: report the others, as the
            # explicit engine does, shortest first (as far as time allows).
            inds = self.enc.template.indicators
            rest = [i for i in inds if not _matches(self.ts, i, self.ts.expect.kind,
                                                      self.ts.expect.name)]
            for k in range(self.u.depth + 1):
                if self._note_others(k, rest) == "unknown":
                    break
        if limit is not None:
            # The expected violation may lie deeper: the others are notes, and
            # the scenario is incomplete, as when the explicit search stops.
            return self.result(Verdict.INCOMPLETE, None, limit=limit)
        if self.others:
            return self.result(Verdict.VIOLATION, self.others[0], others=self.others[1:])
        return self._verified()

    def _note_others(self, k: int, rest: list[Indicator]) -> str:
        """Record the first violation of each other kind at depth k (notes)."""
        while True:
            open_ = [i for i in rest if (i.kind, _name(self.ts, i)) not in self.noted]
            if not open_:
                return "done"
            answer, v = self._violation(k, open_)
            if answer != "sat":
                return answer
            assert v is not None
            self.noted.add((v.kind, v.name))
            self.others.append(v)

    def time_limit(self) -> str:
        limits = process_limits()
        if self.u.memory_hit and limits is not None and limits.memory_mb is not None:
            return f"--max-memory {limits.memory_mb:g}"
        return f"--max-seconds {self.seconds:g}" if self.seconds is not None else "solver timeout"

    def _report(self) -> None:
        self.stats.seconds = time.monotonic() - self.start
        self.stats.queries = self.u.queries
        if self.progress is not None:
            self.progress(self.stats)

    # ------------------------------------------------------------ verified: vacuity
    def _verified(self) -> CheckResult:
        """Every run ends within the depth reached: which actions ever fire and
        which covers are reached, as the explicit engine's vacuity check."""
        reached: set[tuple[str, int]] = set()
        for k in range(self.u.depth):
            events: list[tuple[str, int, z3.BoolRef]] = [
                ("action", a.id, self.u.selected(k, a.id)) for a in self.ts.actions]
            events.extend(("cover", cover, cond) for cover, cond in self.u.covers(k))
            while True:
                open_ = [e for e in events if (e[0], e[1]) not in reached]
                if not open_:
                    break
                answer, model = self.u.ask(disj([e[2] for e in open_]), self.deadline)
                if answer == z3.unknown:
                    return self.result(Verdict.INCOMPLETE, None, limit=self.time_limit())
                if answer == z3.unsat:
                    break
                assert model is not None
                for kind, index, cond in open_:
                    if holds(model, cond):
                        reached.add((kind, index))
        # The explicit engine's vacuity report, from what the solver reached.
        for kind, index in reached:
            if kind == "action":
                self.c.fired[index] = 1
            else:
                self.c.runtime.covered.add(index)
        return self.result(Verdict.VERIFIED, None, missing=unexecuted(self.c),
                            unreached=uncovered(self.c))

    def result(self, verdict: Verdict, v: Violation | None, others: list[Violation] | None = None,
                limit: str | None = None, missing: list[Origin] | None = None,
                unreached: list[Cover] | None = None) -> CheckResult:
        self._report()
        self.stats.peak_rss_mb = peak_rss_mb()
        return CheckResult(self.ts, verdict, self.stats, v, limit=limit,
                           unexecuted=missing or [], uncovered=unreached or [],
                           search="bmc", others=others if others is not None else self.others,
                           compiled=self.c)


def check_bmc(ts: TransitionSystem, depth: int, seconds: float | None = None,
              progress: Callable[[Stats], None] | None = None) -> CheckResult:
    """Bounded model checking of one scenario to `depth` steps. Under the
    process's limits (`checker.explore.limits`) the encoding is a watched
    phase, and z3 gets the memory left as its own ceiling."""
    refuse_warnings(ts, "--engine bmc")
    refuse_usage_expectation(ts, "--engine bmc")
    bmc: Bmc | None = None

    def search() -> CheckResult:
        nonlocal bmc
        bmc = Bmc(ts, depth, seconds, progress)
        return bmc.run()

    def stopped(why: str) -> CheckResult:
        if bmc is None:
            return CheckResult(ts, Verdict.INCOMPLETE, BmcStats(peak_rss_mb=peak_rss_mb()),
                               limit=why, search="bmc")
        return bmc.result(Verdict.INCOMPLETE, None, limit=why)

    # The encoding is built lazily, between queries: the whole run is a
    # watched phase (a limit passed inside z3 is seen when it returns, and
    # z3's own timeout and memory ceiling bound that).
    return within_limits(f"bounded model checking of scenario {ts.scenario}", search, stopped)

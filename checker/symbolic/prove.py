"""`migcheck prove`: prove a scenario safe for every reachable state, or not.

The safety property is the conjunction of everything the explicit engine
checks in a state: no step faults (null dereference, use-after-free, failed
assert, broken primitive rule, ...), no deadlock, invariants hold, and
`final` properties hold once every thread finished. In order:

1. BMC from the initial state, depth by depth (the base case). A violation
   found is a counterexample with an ordinary trace. If no state at some
   depth has a successor, every run ends there and the scenario is proved.
2. After each clear depth k, the k-induction step case with simple-path
   constraints (`checker.symbolic.induction`); unsatisfiable: proved. Its
   states are assumed to satisfy an inductive invariant guessed from a
   sample of reachable states and checked (`checker.symbolic.houdini`);
   when that invariant alone excludes every violation, that is the proof.
3. When induction has not succeeded within its share of the time, z3's
   Horn-clause engine Spacer on the integer encoding
   (`checker.symbolic.chc`); its invariant is checked independently.

The answer is *proved* only from one of these complete arguments; anything
else is *unknown*, with what was tried. Runs that spin forever are a
liveness property, not covered by a safety proof: the report says so when a
thread can loop.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import z3

from checker.explore.codegen import Compiled
from checker.explore.result import Violation
from checker.ir.nodes import TransitionSystem
from checker.symbolic.bmc import Bmc
from checker.symbolic.chc import solve_chc
from checker.symbolic.encode import IntEncoding, conj, refuse_warnings
from checker.symbolic.houdini import houdini
from checker.symbolic.induction import InductionStep
from checker.symbolic.limited import within_limits
from checker.symbolic.unroll import Deadline


@dataclass
class ProofResult:
    ts: TransitionSystem
    verdict: str  # proved, counterexample, unknown
    how: str  # the argument (proved), or the violation (counterexample)
    tried: list[str] = field(default_factory=list)
    violation: Violation | None = None
    others: list[Violation] = field(default_factory=list)
    compiled: Compiled | None = None
    seconds: float = 0.0
    depth: int = -1  # the deepest depth the base case cleared (-1: none)
    liveness_note: bool = False  # a thread can loop: spinning forever is not covered

    @property
    def status(self) -> str:
        """met, unmet or unknown against the scenario's `expect`."""
        exp = self.ts.expect
        if self.verdict == "unknown":
            return "unknown"
        if self.verdict == "counterexample" and self.violation is None:
            # Spacer: some violation is reachable, which one is not known.
            return "unmet" if exp.kind == "verified" else "unknown"
        if exp.kind == "verified":
            return "met" if self.verdict == "proved" else "unmet"
        ok = self.violation is not None and self.violation.matches(exp)
        return "met" if ok else "unmet"


HOUDINI_SHARE = 0.2  # of the time: guessing and checking the invariant


def prove(ts: TransitionSystem, seconds: float = 60.0, max_k: int = 200,
          induction_share: float = 0.5) -> ProofResult:
    """Prove or refute the scenario's safety within `seconds`. Under the
    process's limits (`prove --seconds` sets them per scenario) the whole
    proof is a watched phase: encoding, sampling and Spacer's set-up have no
    deadline of their own, so the watchdog ends them."""
    refuse_warnings(ts, "migcheck prove")
    start = time.monotonic()

    def stopped(why: str) -> ProofResult:
        r = ProofResult(ts, "unknown", "no argument completed",
                        [f"stopped by {why}"], liveness_note=ts.has_cycles)
        r.seconds = time.monotonic() - start
        return r

    return within_limits(f"proving scenario {ts.scenario}",
                         lambda: _prove(ts, seconds, max_k, induction_share), stopped)


def _prove(ts: TransitionSystem, seconds: float, max_k: int,
           induction_share: float) -> ProofResult:
    start = time.monotonic()
    deadline = Deadline.after(seconds)
    first_phase = Deadline.after(seconds * induction_share)
    bmc = Bmc(ts, max_k, None, deadline=first_phase, note_others=True)
    step = InductionStep(bmc.enc)
    tried: list[str] = []
    result = ProofResult(ts, "unknown", "", tried, compiled=bmc.c,
                         liveness_note=ts.has_cycles)

    base_done = -1  # the deepest depth the base case has cleared

    def done(verdict: str, how: str, v: Violation | None = None) -> ProofResult:
        result.verdict, result.how, result.violation = verdict, how, v
        result.others = [o for o in bmc.others if o is not v]
        result.seconds = time.monotonic() - start
        result.depth = base_done
        return result

    step_timed_out = False
    every_run_checked = False  # the base case reached a depth where every run has ended
    for k in range(max_k + 1):
        answer = bmc.check_depth(k)
        if answer == "violation":
            assert bmc.found is not None
            return done("counterexample", f"bmc: {bmc.found.kind} in {bmc.found.steps} steps",
                        bmc.found)
        if answer == "unknown":
            break
        base_done = k
        if answer == "complete":
            if bmc.others:
                every_run_checked = True
                break
            result.liveness_note = False  # no run is infinite
            return done("proved", f"every run ends within {k} steps (bmc)")
        if k == 0 and not bmc.others:
            # Strengthen the step case with an invariant of the reachable states.
            guess_deadline = Deadline(min(first_phase.at or math.inf,
                                          start + seconds * HOUDINI_SHARE))
            found = houdini(bmc.enc, bmc.c, guess_deadline)
            if found is None:
                tried.append("houdini: out of time")
            else:
                t = bmc.enc.template
                excludes, _ = step.u.ask(conj(bmc.enc.in_domain(t.x), found.invariant,
                                              step.bad), first_phase)
                if excludes == z3.unsat:
                    return done("proved", f"an inductive invariant of {found.facts} facts "
                                          "(houdini) excludes every violation")
                step.strengthen(found.invariant)
                tried.append(f"houdini: an inductive invariant of {found.facts} facts, "
                             "assumed in the step case")
        # Once a violation is known the property is false: no induction.
        if not bmc.others and not step_timed_out:
            answer = step.check(first_phase)
            if answer == "proved":
                return done("proved", f"k-induction with simple paths, k = {k + 1}")
            step_timed_out = answer == "unknown"
        if k == max_k:
            break
        bmc.u.extend()
    if bmc.others and every_run_checked:
        first = bmc.others[0]
        tried.append(f"bmc to depth {bmc.stats.depth}: the expected "
                     f"{ts.expect.kind} not found")
        return done("counterexample", f"bmc: {first.kind} in {first.steps} steps", first)
    if bmc.others:
        # Other violations met first: notes, as in the explicit engine. The
        # expected one may lie deeper than the base case reached.
        tried.append(f"bmc (base case) to depth {base_done}: the expected "
                     f"{ts.expect.kind} not found, other violations met first")
        return done("unknown", "the expected violation was not reached")
    tried.append(f"bmc (base case): no violation within {base_done} steps" if base_done >= 0
                 else "bmc (base case): out of time before depth 0 was checked")
    if step.k < 0:
        tried.append("k-induction: not reached")
    elif step_timed_out:
        tried.append(f"k-induction: solver out of time at k = {step.k + 1}")
    else:
        tried.append(f"k-induction with simple paths: step case fails for every k <= {step.k + 1}")
    chc = solve_chc(IntEncoding(ts), deadline)
    if chc.verdict == "proved":
        return done("proved", chc.detail)
    tried.append(chc.detail)
    if chc.verdict == "counterexample":
        return done("counterexample", "spacer: a violation is reachable in more than "
                                      f"{bmc.stats.depth} steps (no trace: run `migcheck check`)")
    return done("unknown", "no argument completed")

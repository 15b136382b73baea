"""Check one transition system: compile, search, then the post-passes
(livelock, vacuity) that only a complete search can support."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from checker.explore.bfs import bfs
from checker.explore.codegen import Compiled, compile_system
from checker.explore.common import Outcome, StateGraph
from checker.explore.dfs import dfs
from checker.explore.limits import Budget, LimitExceeded, figures, limit_text, phase
from checker.explore.options import CheckOptions
from checker.explore.properties import LIVELOCK, NO_PROGRESS, STARVATION, select
from checker.explore.result import CheckResult, Stats, Violation, peak_rss_mb
from checker.explore.switches import MAX_STATES as SWITCH_PASS_MAX_STATES
from checker.explore.switches import fewest_switches
from checker.explore.symmetry import Canon, Concretizer, describe, orbit_bound, reduced
from checker.explore.vacuity import uncovered, unexecuted
from checker.ir.nodes import TransitionSystem
from checker.ir.por import ample_pcs
from checker.kinds import VERIFIED, Verdict, ViolationKind

Search = Callable[[Compiled, Budget, Stats, Outcome, StateGraph | None], Mapping[int, int]]
WATCH_ESCAPED = ("a freed object still referenced where an alloc may run (the allocator's "
                 "lowest free object tells objects apart)")


@runtime_checkable
class Restartable(Protocol):
    """A search that goes on from a saved one (`--resume`), what the saved
    one says of itself (`saved`: which pools it reduced, what the allocator
    watch saw), and the same search from the first state (`fresh`), for
    when the saved one cannot serve: the scenario searched again without a
    pool's reduction."""

    fresh: Search

    def saved(self) -> dict[str, Any] | None: ...

    def __call__(self, c: Compiled, budget: Budget, stats: Stats, out: Outcome,
                 graph: StateGraph | None) -> Mapping[int, int]: ...


def check(ts: TransitionSystem, opts: CheckOptions | None = None,
          progress: Callable[[Stats], None] | None = None,
          engine: Search | None = None) -> CheckResult:
    """`engine`: a search in place of this package's BFS or DFS (the VM's,
    checker.vm.search), same contract: fill `out`, return the parent map."""
    opts = opts or CheckOptions()
    if opts.resumed and isinstance(engine, Restartable) and ts.pool_symmetry and opts.symmetry:
        saved = _saved_pools(ts, engine.saved())
        if saved is not None:
            dropped, why, afresh = saved
            return _without_pools(ts, opts, progress, engine, ", ".join(dropped), why,
                                  resume=not afresh)
    wanted = None
    searched = ts
    if opts.properties is not None:
        searched, wanted = select(ts, opts.properties, opts.check_livelock)
    try:
        with phase(f"compiling scenario {ts.scenario}"):
            c = compile_system(searched)
    except LimitExceeded as e:
        return CheckResult(ts, Verdict.INCOMPLETE, Stats(peak_rss_mb=peak_rss_mb()),
                           limit=limit_text(e), search=opts.search)
    stats = Stats(state_bits=c.packing.total_bits)
    budget = Budget(opts, progress)
    search: Search = engine or (bfs if opts.search == "bfs" else dfs)
    out = Outcome(ts.expect, every=opts.all_violations, wanted=wanted)
    graph = StateGraph() if opts.check_livelock and ts.has_cycles \
        and (wanted is None or bool({LIVELOCK, STARVATION, NO_PROGRESS} & wanted)) else None
    searched_c = c
    concrete: Concretizer | None = None
    if ts.symmetric:
        if not opts.symmetry:
            stats.symmetry = "not applied (--no-symmetry)"
        elif graph is not None:
            # The livelock and fairness passes read the whole state graph:
            # they run on the unreduced system (README, "Symmetry reduction").
            stats.symmetry = ("not applied: the livelock and fairness passes need every "
                              "state (--no-livelock to reduce)")
        else:
            canon = Canon(ts, c.packing)
            searched_c = reduced(c, canon)
            concrete = Concretizer(c, canon)
            stats.symmetry = describe(ts.symmetry, ts.pool_symmetry)
            stats.symmetry_applied = True
    stats.reduction = _reduce(c, opts, graph, concrete is not None)
    try:
        parent = search(searched_c, budget, stats, out, graph)
    except KeyboardInterrupt as e:  # Ctrl-C: the figures so far, for the message
        stats.seconds = budget.elapsed()
        e.add_note(f"scenario {ts.scenario}: stopped at {figures(stats)}: not verified")
        raise
    stats.seconds = budget.elapsed()
    if concrete is not None and concrete.canon.escaped() is not None:
        # A state told a symmetric pool's objects apart through the
        # allocator (checker/explore/symmetry.py): the search again,
        # without that pool's reduction.
        return _without_pools(ts, opts, progress, engine, concrete.canon.escaped() or "",
                              WATCH_ESCAPED)
    # The fewest-switches pass searches the concrete system: up to the
    # product of the groups' factorials more states than the reduced search.
    widening = 1
    if concrete is not None:
        with phase("mapping the counterexamples back from symmetry representatives"):
            concrete_runs(concrete, out)
        widening = orbit_bound(ts.symmetry, ts.pool_symmetry)
    if out.violation is None and out.limit is None and graph is not None:
        from checker.explore.fairness import (  # scipy: only when needed
            find_no_progress,
            find_starvation,
        )
        from checker.explore.livelock import find_livelock

        try:
            # With a daemon, a run that never ends is no livelock by itself:
            # the starvation check judges each thread that must finish.
            spinning = not any(t.daemon for t in ts.threads)
            if spinning:
                with phase(f"looking for spinning runs in scenario {ts.scenario}"):
                    out.offer(find_livelock(c, parent, graph))
            if out.violation is None:
                with phase(f"looking for starvation under fairness in scenario {ts.scenario}"):
                    out.offer(find_starvation(c, graph, skip_bottom=spinning))
            if out.violation is None and ts.progress_threads():
                with phase(f"looking for non-progress cycles in scenario {ts.scenario}"):
                    out.offer(find_no_progress(c, graph))
        except LimitExceeded as e:
            out.limit = limit_text(e)
    if out.violation is None and out.limit is None and ts.has_handlers:
        from checker.explore.irqstate import find_inconsistent

        try:
            with phase(f"checking lock usage in interrupt contexts in scenario {ts.scenario}"):
                out.offer(find_inconsistent(c, parent))
        except LimitExceeded as e:
            out.limit = limit_text(e)
    if out.every and out.found:
        _every(out)
        if out.limit is not None and out.violation is not None \
                and out.expect is not None and out.expect.kind != VERIFIED \
                and not out.violation.matches(out.expect):
            # Cut short before the expected violation: incomplete, as without the option.
            out.others, out.violation = [out.violation, *out.others], None
    if out.violation is not None and opts.search == "bfs" and opts.few_switches \
            and stats.states * widening <= SWITCH_PASS_MAX_STATES:
        try:
            with phase("choosing the counterexample with the fewest thread switches"):
                out.violation = fewest_switches(c, out.violation)
                if out.every:
                    out.others = [fewest_switches(c, o) for o in out.others]
        except LimitExceeded:
            pass  # the counterexample found stands: it is a shortest one
    if out.warnings and opts.search == "bfs" and opts.few_switches \
            and stats.states * widening <= SWITCH_PASS_MAX_STATES:
        try:
            with phase("choosing the warnings' runs with the fewest thread switches"):
                for w in out.warnings.values():
                    # The run to the state the warning fired in, then its step.
                    v = Violation(ViolationKind.ASSERT, "", None, w.path, w.action)
                    w.path = fewest_switches(c, v).path
        except LimitExceeded:
            pass  # the runs found stand: they are shortest ones
    stats.post_seconds = budget.elapsed() - stats.seconds
    stats.peak_rss_mb = peak_rss_mb()
    others = out.others
    warned = list(out.warnings.values())
    if out.violation is not None:
        # With --all-violations a limit may have cut the search short: the
        # violations found stand, and `limit` says others may be missing.
        return CheckResult(ts, Verdict.VIOLATION, stats, out.violation, search=opts.search,
                           others=others, compiled=c, limit=out.limit, every=out.every,
                           warnings=warned)
    if out.limit is not None:
        return CheckResult(ts, Verdict.INCOMPLETE, stats, limit=out.limit, search=opts.search,
                           others=others, warnings=warned)
    if others:
        # Expected violation not found, but others were: report the first.
        return CheckResult(ts, Verdict.VIOLATION, stats, others[0], search=opts.search,
                           others=others[1:], compiled=c, warnings=warned)
    # A search restricted by --property verifies only the properties it checked.
    return CheckResult(ts, Verdict.VERIFIED, stats, unexecuted=unexecuted(c), uncovered=uncovered(c),
                       search=opts.search, warnings=warned, compiled=c)


def _saved_pools(ts: TransitionSystem, meta: dict[str, Any] | None
                 ) -> tuple[list[str], str, bool] | None:
    """What a checkpoint of this scenario says of its symmetric pools,
    read before compiling: (the pools to search unreduced, why, whether
    from the first state), or None to resume it as it is (a file of
    another search is left to `checkpoint.load` to refuse)."""
    if meta is None or (meta.get("spec_sha256"), meta.get("scenario")) \
            != (ts.spec_sha256, ts.scenario):
        return None
    names = [pg.pool for pg in ts.pool_symmetry]
    if "pools" not in meta:  # written by a migcheck that reduced no pool with checkpoints
        return names, "the checkpoint's search, of an older migcheck, did not reduce it", False
    unreduced = meta.get("unreduced")
    why = {p: r for p, r in unreduced.items() if isinstance(p, str) and isinstance(r, str)} \
        if isinstance(unreduced, dict) else {}
    escaped = meta.get("escaped")
    if escaped in names:
        # The saved search saw its reduction go unsound: going on with it
        # would be thrown away at its end. From the first state, without
        # that pool nor those the search before it had dropped.
        why[escaped] = WATCH_ESCAPED
        dropped = [p for p in names if p in why]
        return dropped, "; ".join(dict.fromkeys(why[p] for p in dropped)), True
    dropped = [p for p in names if p in why]  # the search went on without them
    if not dropped:
        return None
    return dropped, "; ".join(dict.fromkeys(why[p] for p in dropped)), False


def _without_pools(ts: TransitionSystem, opts: CheckOptions,
                   progress: Callable[[Stats], None] | None, engine: Search | None,
                   pool: str, reason: str, resume: bool = False) -> CheckResult:
    """The search again without the reduction of `pool` (", "-separated
    names), the figures saying why; a resumed one from its first state,
    unless `resume` (the checkpoint holds the search without them)."""
    from dataclasses import replace

    dropped = pool.split(", ")
    kept = [pg for pg in ts.pool_symmetry if pg.pool not in dropped]
    # Its checkpoints say which pools it left unreduced, and why.
    opts = replace(opts, unreduced=(*opts.unreduced, *((p, reason) for p in dropped)))
    if opts.resumed and not resume:
        # The checkpoint holds the reduced search: this one starts afresh
        # (and its checkpoints, if any, replace the reduced search's).
        opts = replace(opts, resumed=False)
        engine = engine.fresh if isinstance(engine, Restartable) else None
    r = check(replace(ts, pool_symmetry=kept), opts, progress, engine)
    why = f"pool {pool} not applied: {reason}"
    r.stats.symmetry = f"{r.stats.symmetry}; {why}" if r.stats.symmetry else why
    return r


def concrete_runs(concrete: Concretizer, out: Outcome) -> None:
    """Every run the reduced search kept, mapped to a concrete run."""
    if out.violation is not None:
        out.violation = concrete.violation(out.violation)
    out.others = [concrete.violation(v) for v in out.others]
    out.found = {k: concrete.violation(v) for k, v in out.found.items()}
    out.warnings = {k: concrete.warning(w) for k, w in out.warnings.items()}


def _reduce(c: Compiled, opts: CheckOptions, graph: StateGraph | None, symmetric: bool) -> str:
    """Set `c.ample` when --por applies (checker/ir/por.py); what to tell."""
    c.ample = None
    if not opts.por:
        return ""
    why = ("symmetry reduction applies (the two are not combined)" if symmetric
           else "the livelock and liveness passes need every state (--no-livelock)"
           if graph is not None
           else "lockdep's usage pass reads every state of a scenario with handlers"
           if c.ts.has_handlers else None)
    if why is None:
        c.ample = ample_pcs(c.ts)
        if c.ample is None:
            why = "the scenario has WARN_ON sites"
    if why is not None:
        return f"partial-order reduction not applied: {why}"
    return "partial-order reduction"


def _every(out: Outcome) -> None:
    """--all-violations: the violation reported is the expected one if it
    was found, else the first found; every other property's run goes to
    `others`, in the order found."""
    found = list(out.found.values())
    expect = out.expect
    main = next((v for v in found if expect is not None and v.matches(expect)), found[0])
    out.violation = main
    out.others = [v for v in found if v is not main]

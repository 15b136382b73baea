"""Check one transition system: compile, search, then the post-passes
(livelock, vacuity) that only a complete search can support."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from checker.explore.bfs import bfs
from checker.explore.codegen import Compiled, compile_system
from checker.explore.common import Outcome, StateGraph
from checker.explore.dfs import dfs
from checker.explore.limits import Budget, LimitExceeded, figures, limit_text, phase
from checker.explore.options import CheckOptions
from checker.explore.result import CheckResult, Stats, peak_rss_mb
from checker.explore.switches import MAX_STATES as SWITCH_PASS_MAX_STATES
from checker.explore.switches import fewest_switches
from checker.explore.vacuity import uncovered, unexecuted
from checker.ir.nodes import TransitionSystem
from checker.kinds import Verdict

Search = Callable[[Compiled, Budget, Stats, Outcome, StateGraph | None], Mapping[int, int]]


def check(ts: TransitionSystem, opts: CheckOptions | None = None,
          progress: Callable[[Stats], None] | None = None,
          engine: Search | None = None) -> CheckResult:
    """`engine`: a search in place of this package's BFS or DFS (the VM's,
    checker.vm.search), same contract: fill `out`, return the parent map."""
    opts = opts or CheckOptions()
    try:
        with phase(f"compiling scenario {ts.scenario}"):
            c = compile_system(ts)
    except LimitExceeded as e:
        return CheckResult(ts, Verdict.INCOMPLETE, Stats(peak_rss_mb=peak_rss_mb()),
                           limit=limit_text(e), search=opts.search)
    stats = Stats(state_bits=c.packing.total_bits)
    budget = Budget(opts, progress)
    search: Search = engine or (bfs if opts.search == "bfs" else dfs)
    out = Outcome(ts.expect)
    graph = StateGraph() if opts.check_livelock and ts.has_cycles else None
    try:
        parent = search(c, budget, stats, out, graph)
    except KeyboardInterrupt as e:  # Ctrl-C: the figures so far, for the message
        stats.seconds = budget.elapsed()
        e.add_note(f"scenario {ts.scenario}: stopped at {figures(stats)}: not verified")
        raise
    stats.seconds = budget.elapsed()
    if out.violation is None and out.limit is None and graph is not None:
        from checker.explore.livelock import find_livelock  # scipy: only when needed

        try:
            with phase(f"looking for spinning runs in scenario {ts.scenario}"):
                out.offer(find_livelock(c, parent, graph))
        except LimitExceeded as e:
            out.limit = limit_text(e)
    if out.violation is not None and opts.search == "bfs" and opts.few_switches \
            and stats.states <= SWITCH_PASS_MAX_STATES:
        try:
            with phase("choosing the counterexample with the fewest thread switches"):
                out.violation = fewest_switches(c, out.violation)
        except LimitExceeded:
            pass  # the counterexample found stands: it is a shortest one
    stats.post_seconds = budget.elapsed() - stats.seconds
    stats.peak_rss_mb = peak_rss_mb()
    others = out.others
    if out.violation is not None:
        return CheckResult(ts, Verdict.VIOLATION, stats, out.violation, search=opts.search,
                           others=others, compiled=c)
    if out.limit is not None:
        return CheckResult(ts, Verdict.INCOMPLETE, stats, limit=out.limit, search=opts.search,
                           others=others)
    if others:
        # Expected violation not found, but others were: report the first.
        return CheckResult(ts, Verdict.VIOLATION, stats, others[0], search=opts.search,
                           others=others[1:], compiled=c)
    return CheckResult(ts, Verdict.VERIFIED, stats, unexecuted=unexecuted(c), uncovered=uncovered(c),
                       search=opts.search, compiled=c)

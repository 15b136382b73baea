"""Swarm verification (Holzmann, Joshi and Groce's swarm, as SPIN's
`swarm` tool runs it): many small, diversified partial searches on the
machine's cores instead of one large one.

Search i (of N) is `bitstate.partial_bfs` with its own `PartialConfig`:
seed `seed * 1000 + i + 1`, which draws its hash functions and the seeded
permutation of every state's successors (the order in which threads' and
actions' successors are stored, so each search drops different states when
its filter fills); search 0 keeps the plain order. With a depth bound D,
search 0 stops at D and search i > 0 at a bound drawn in [D/2, D]. Every
search is one call of `run_part`, run by one of two backends: forked
worker processes on this machine (`checker.forked`, the kernel
compiled once in the parent first), or Ray tasks of one CPU each on the
machines of a cluster (`--cluster`: `checker.vm.ray_search.Cluster.map`).
Each returns its figures and its violations (paths of packed states, which
the parent's own compiled system turns into traces), so both backends give
the same report for the same seeds. A search whose Ray worker dies counts
as one stopped early (its figures are zero, the reason in the report's
limit); the others still report.

The report keeps every distinct violation (one per property) with its
shortest run, the states each search stored and their sum (states shared
by several searches are counted in each: the union is not known), and the
expected omissions of each search. A swarm is never a proof: its verdict
is *incomplete* when it finds nothing.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, field, replace
from typing import Any

from checker.explore.codegen import compile_system
from checker.explore.common import Outcome
from checker.explore.options import CheckOptions
from checker.explore.partial import PartialConfig
from checker.explore.properties import property_of
from checker.explore.result import CheckResult, Coverage, Stats, Violation
from checker.explore.run import check
from checker.explore.simulate import hand_over
from checker.forked import in_order
from checker.ir.nodes import TransitionSystem
from checker.kinds import Verdict
from checker.vm.bitstate import partial_bfs


@dataclass
class Part:
    """One search's figures and findings, as it comes back from its process."""

    index: int
    cfg: PartialConfig
    stats: Stats
    violations: list[Violation] = field(default_factory=list)
    limit: str | None = None


def configs(n: int, base: PartialConfig, seed: int, max_depth: int | None) -> list[PartialConfig]:
    """The N searches' configurations (see the module docstring)."""
    out = []
    for i in range(n):
        rng = random.Random(seed * 1000 + i)
        depth = max_depth
        if max_depth is not None and i > 0:
            depth = rng.randint(max(1, max_depth // 2), max_depth)
        out.append(replace(base, seed=seed * 1000 + i + 1, permute=i > 0, max_depth=depth))
    return out


def run_part(ts: TransitionSystem, opts: CheckOptions, index: int, cfg: PartialConfig) -> Part:
    """One search (in a worker process)."""
    r = check(ts, opts, engine=partial_bfs(cfg))
    found = ([r.violation] if r.violation is not None else []) + list(r.others)
    return Part(index, cfg, r.stats, found, r.limit)


def swarm_check(ts: TransitionSystem, opts: CheckOptions, n: int, jobs: int | None = None,
                base: PartialConfig | None = None, seed: int = 0,
                max_depth: int | None = None, cluster: Any = None) -> CheckResult:
    """N diversified partial searches of `ts` on `jobs` processes (default:
    the cores), or as tasks on the Ray cluster `cluster`
    (`checker.vm.ray_search.Cluster`), merged into one result that never
    verifies."""
    base = base or PartialConfig(log2_bits=27)
    start = time.monotonic()
    cfgs = configs(n, base, seed, max_depth)
    opts = opts.fewest_switches(False).livelock(False)
    # Compile the kernel here, once, so that every forked worker has it.
    check(ts, opts.max_states(2), engine=partial_bfs(cfgs[0]))
    jobs = max(1, min(jobs or os.cpu_count() or 1, n))
    parts: list[Part] = []
    if cluster is not None:
        parts = _on_cluster(cluster, ts, opts, cfgs)
    else:
        parts = list(in_order(lambda i: run_part(ts, opts, i, cfgs[i]), len(cfgs), jobs))
    result = merge(ts, opts, parts)
    result.stats.seconds = time.monotonic() - start
    return result


def _on_cluster(cluster: Any, ts: TransitionSystem, opts: CheckOptions,
                cfgs: list[PartialConfig]) -> list[Part]:
    """The searches as Ray tasks (`run_part` on the cluster's workers); a
    search whose worker failed comes back with its reason as its limit."""
    from checker.vm.ray_search import WorkerFailed

    got = cluster.map(run_part, (ts, opts), [(i, cfg) for i, cfg in enumerate(cfgs)])
    return [Part(i, cfg, Stats(), limit=str(g)) if isinstance(g, WorkerFailed) else g
            for i, (cfg, g) in enumerate(zip(cfgs, got, strict=True))]


def merge(ts: TransitionSystem, opts: CheckOptions, parts: list[Part]) -> CheckResult:
    """The searches' results as one: every distinct violation with its
    shortest run; the expected one (or the first) as the verdict."""
    found: dict[str, Violation] = {}
    for p in parts:
        for v in p.violations:
            key = property_of(v)
            if key not in found or v.steps < found[key].steps:
                found[key] = v
    stats = Stats(states=sum(p.stats.states for p in parts),
                  transitions=sum(p.stats.transitions for p in parts),
                  depth=max((p.stats.depth for p in parts), default=0),
                  seconds=max((p.stats.seconds for p in parts), default=0.0),
                  peak_rss_mb=max((p.stats.peak_rss_mb for p in parts), default=0.0),
                  state_bits=max((p.stats.state_bits for p in parts), default=0))
    covs = [p.stats.coverage for p in parts if p.stats.coverage is not None]
    largest = max((c.states for c in covs), default=0)
    stats.coverage = Coverage(
        "swarm", stats.states, omitted=sum(c.omitted for c in covs), searches=len(parts),
        detail=(f"{len(parts)} searches ({covs[0].mode if covs else 'bitstate'}), "
                f"largest {largest:,} states; per search: "
                + ", ".join(f"#{p.index} {p.stats.states:,}"
                            + (f" (depth <= {p.cfg.max_depth})" if p.cfg.max_depth else "")
                            for p in parts)))
    out = Outcome(ts.expect, every=opts.all_violations)
    hand_over(out, list(found.values()))
    if out.every and out.found:
        vs = list(out.found.values())
        out.violation = next((v for v in vs if v.matches(ts.expect)), vs[0])
        out.others = [v for v in vs if v is not out.violation]
    limit = f"a swarm of {len(parts)} partial searches"
    cut = [p.limit for p in parts
           if p.limit and not p.limit.startswith(("a bitstate", "a hash-compact"))]
    if cut:
        limit += f" ({len(cut)} stopped early: {cut[0]})"
    c = compile_system(ts)
    if out.violation is not None:
        return CheckResult(ts, Verdict.VIOLATION, stats, out.violation, limit=limit,
                           others=out.others, compiled=c, every=out.every)
    return CheckResult(ts, Verdict.INCOMPLETE, stats, limit=limit, others=out.others,
                       compiled=c)

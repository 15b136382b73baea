"""The distributed search on Ray (`--cluster`): search time, states/s and
speedup as the workers grow, on one large scenario.

Default instance: ../shared/bench/zsmalloc.mig, scenario correct_R4F1M3
with -D K=3 -D O=2 (about 1.1 million states, verified). The baseline is
the single-threaded VM search (`checker.vm.search.vm_bfs`), then
`checker.vm.ray_search` with each N of --workers (N actors on a cluster of
the largest N CPUs started here, or on the cluster at --address). Every run
must give the same verdict, states, transitions and depth (the script says
so if not). "seconds" is the search alone (the livelock pass, which runs on
the driver, is off unless --livelock). A small warm-up run first starts
the workers and loads the numba kernels in them.

On one machine the workers share its cores with the driver and Ray's own
processes: the figures there measure the protocol's overhead, not the
scaling a cluster of several machines gives.

    .venv/bin/python benchmarks/ray_workers.py [--workers 1,2,4] [--address HOST:6379]
        [--spec ../shared/bench/zsmalloc.mig] [--scenario correct_R4F1M3] [-D K=3 -D O=2]
        [--livelock]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checker.dsl.loader import load_program  # noqa: E402
from checker.explore.options import CheckOptions  # noqa: E402
from checker.explore.result import CheckResult  # noqa: E402
from checker.explore.run import Search, check  # noqa: E402
from checker.ir.build import build_all  # noqa: E402
from checker.vm.ray_search import LOCAL, connect, ray_bfs  # noqa: E402
from checker.vm.search import vm_bfs  # noqa: E402

SPEC = ROOT.parent / "shared" / "bench" / "zsmalloc.mig"
SCENARIO = "correct_R4F1M3"
DEFINES = ["K=3", "O=2"]


def run(spec: Path, scenario: str, defines: dict[str, int], engine: Search,
        opts: CheckOptions) -> tuple[CheckResult, float]:
    """The result and the driver's CPU time for the whole check."""
    ts = build_all(load_program(spec, [ROOT / "models"]), defines, only=[scenario])[0]
    gc.collect()
    t = time.process_time()
    result = check(ts, opts, engine=engine)
    return result, time.process_time() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--spec", type=Path, default=SPEC)
    ap.add_argument("--scenario", default=SCENARIO)
    ap.add_argument("-D", dest="defines", action="append", default=None, metavar="NAME=VALUE")
    ap.add_argument("--workers", default="1,2,4", help="comma-separated worker counts")
    ap.add_argument("--address", help="a running Ray cluster (default: start one here)")
    ap.add_argument("--livelock", action="store_true")
    args = ap.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    defines = {k: int(v) for k, v in (d.split("=", 1) for d in args.defines or DEFINES)}
    opts = CheckOptions().livelock(args.livelock)
    address = args.address or f"{LOCAL}{max(counts)}"
    print(f"{args.spec}, scenario {args.scenario}, {defines}; {os.cpu_count()} CPUs here; "
          f"cluster {address}\n")
    print("| engine | workers | verdict | states | transitions | depth | seconds | states/s "
          "| speedup vs 1 worker | vs vm_bfs | driver CPU s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    base, base_cpu = run(args.spec, args.scenario, defines, vm_bfs, opts)
    base_s = base.stats.seconds
    want = (base.verdict, base.stats.states, base.stats.transitions, base.stats.depth)

    def row(name: str, n: int, r: CheckResult, cpu: float, one: float | None) -> None:
        st = r.stats
        s = st.seconds
        speed = "-" if one is None else f"{one / s:.2f}x"
        print(f"| {name} | {n} | {r.verdict} | {st.states:,} | {st.transitions:,} | {st.depth} "
              f"| {s:.2f} | {st.states / s:,.0f} | {speed} | {base_s / s:.2f}x | {cpu:.2f} |",
              flush=True)
        got = (r.verdict, st.states, st.transitions, st.depth)
        if got != want:
            print(f"MISMATCH: {got} != vm_bfs's {want}", file=sys.stderr)

    row("vm_bfs", 1, base, base_cpu, None)
    warm = build_all(load_program(ROOT / "specs" / "shapes" / "lost_wakeup.mig",
                                  [ROOT / "models"]))[0]
    one: float | None = None
    with connect(address, max(counts)) as cluster:
        check(warm, CheckOptions(), engine=ray_bfs(cluster, max(counts)))
        for n in counts:
            r, cpu = run(args.spec, args.scenario, defines, ray_bfs(cluster, n), opts)
            if n == counts[0]:
                one = r.stats.seconds
            row("ray", n, r, cpu, one)
    return 0


if __name__ == "__main__":
    sys.exit(main())

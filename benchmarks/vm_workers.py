"""The VM engine's multi-core search (`--engine vm|jit --workers N`):
search time, states/s and speedup as the workers grow, on one large
scenario.

Default instance: specs/zsmalloc/migration.mig, scenario
frees_vs_two_compactors (about 1.85 million states, verified). For each N
of --workers the scenario is checked in this process with N workers
(`checker.vm.parallel`); the baseline is the single-threaded VM search
(`checker.vm.search.vm_bfs`), run first. With --jit the workers run the
JIT's code from the first state (`--engine jit --workers N`) and the
baseline is `--engine jit` on one thread (`llvm_search.jit_bfs`). --store
picks the store form of every run (default auto, as the command line:
wide states move to the tree store past 256 MiB, the single search's
whole and each worker's own past its share). Every run must report the same
verdict, states, transitions and depth (the script says so if not).
"seconds" is the search alone, the livelock pass (on by default, as in
the command line; --no-livelock to skip it) is reported apart. The numba
kernels are compiled (or loaded from the cache) by a small warm-up run
first.

    .venv/bin/python benchmarks/vm_workers.py [--workers 1,2,4,8,16] [--repeat 1]
        [--spec specs/zsmalloc/migration.mig] [--scenario frees_vs_two_compactors]
        [--no-livelock] [--jit] [--store auto|dense|tree]
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
from checker.vm.llvm_search import jit_bfs  # noqa: E402
from checker.vm.parallel import parallel_bfs  # noqa: E402
from checker.vm.search import vm_bfs  # noqa: E402

SPEC = ROOT / "specs" / "zsmalloc" / "migration.mig"
SCENARIO = "frees_vs_two_compactors"


def run(ts_spec: Path, scenario: str, engine: Search, opts: CheckOptions, repeat: int
        ) -> tuple[CheckResult, float, float]:
    """The result of the last run, the best search time of `repeat` and the
    CPU time of that run's whole check (every thread; compiling the
    scenario and the passes after the search included): on a loaded
    machine, CPU time well below workers x seconds says the workers did
    not get their cores."""
    best = float("inf")
    cpu = 0.0
    result = None
    for _ in range(repeat):
        ts = build_all(load_program(ts_spec, [ROOT / "models"]), only=[scenario])[0]
        gc.collect()
        t = time.process_time()
        result = check(ts, opts, engine=engine)
        if result.stats.seconds < best:
            best, cpu = result.stats.seconds, time.process_time() - t
    assert result is not None
    return result, best, cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--spec", type=Path, default=SPEC)
    ap.add_argument("--scenario", default=SCENARIO)
    ap.add_argument("--workers", default="1,2,4", help="comma-separated worker counts")
    ap.add_argument("--repeat", type=int, default=1, help="runs per row (the best time counts)")
    ap.add_argument("--no-livelock", action="store_true")
    ap.add_argument("--jit", action="store_true", help="the JIT's code instead of the bytecode")
    ap.add_argument("--store", default="auto", choices=("auto", "dense", "tree"))
    args = ap.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    opts = CheckOptions().livelock(not args.no_livelock).store_form(args.store)
    single: Search = jit_bfs if args.jit else vm_bfs
    name = "jit" if args.jit else "vm"
    jit_after = 0 if args.jit else None
    warm = build_all(load_program(ROOT / "specs" / "shapes" / "lost_wakeup.mig",
                                  [ROOT / "models"]))[0]
    check(warm, CheckOptions(), engine=single)
    check(warm, CheckOptions(), engine=parallel_bfs(2, jit_after))

    print(f"{args.spec.relative_to(ROOT) if args.spec.is_absolute() else args.spec}, "
          f"scenario {args.scenario}; {os.cpu_count()} CPUs; store {args.store}\n")
    print("| engine | workers | verdict | states | transitions | depth | seconds | states/s "
          "| speedup vs 1 worker | vs one thread | livelock pass s | CPU s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    base, base_s, base_cpu = run(args.spec, args.scenario, single, opts, args.repeat)
    want = (base.verdict, base.stats.states, base.stats.transitions, base.stats.depth)

    def row(name: str, n: int, r: CheckResult, s: float, cpu: float, one: float | None) -> None:
        st = r.stats
        speed = "-" if one is None else f"{one / s:.2f}x"
        print(f"| {name} | {n} | {r.verdict} | {st.states:,} | {st.transitions:,} | {st.depth} "
              f"| {s:.2f} | {st.states / s:,.0f} | {speed} | {base_s / s:.2f}x "
              f"| {st.post_seconds:.2f} | {cpu:.2f} |", flush=True)
        got = (r.verdict, st.states, st.transitions, st.depth)
        if got != want:
            print(f"MISMATCH: {got} != the single thread's {want}", file=sys.stderr)

    row(f"{name}, one thread", 1, base, base_s, base_cpu, None)
    one: float | None = None
    for n in counts:
        r, s, cpu = run(args.spec, args.scenario, parallel_bfs(n, jit_after), opts, args.repeat)
        if n == 1:
            one = s
        row(f"{name}, parallel", n, r, s, cpu, one)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""States per second and bytes per state of the explicit-state engine.

The instance: specs/zsmalloc/map_vs_migrate.mig with K readers mapping the
same handle, one zs_free of the other handle, and one migration (scenario
text generated here, importing the spec unchanged). For each K it reports
the engine's states, transitions, search seconds, states/s, and the bytes
per state of the visited set (the parent map and its packed states). The
baseline, run in the same process on the same systems, is a plain
breadth-first search over the reference interpreter (checker/ir/interp.py):
the ratio column is how much faster the generated code is.

    .venv/bin/python benchmarks/states_per_second.py [--max-readers 4] [--baseline-up-to 2]
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checker.dsl.loader import load_program  # noqa: E402
from checker.explore.codegen import compile_system  # noqa: E402
from checker.explore.options import CheckOptions  # noqa: E402
from checker.explore.run import check  # noqa: E402
from checker.ir.build import build_all  # noqa: E402
from checker.ir.interp import Interp  # noqa: E402
from checker.ir.nodes import TransitionSystem  # noqa: E402

SPEC = ROOT / "specs" / "zsmalloc" / "map_vs_migrate.mig"


def instance(readers: int, tmp: Path) -> TransitionSystem:
    runs = " ".join("run zs_map_object(H0);" for _ in range(readers))
    text = (f'import "{SPEC.with_suffix("")}";\n'
            f"scenario bench {{ {runs} run zs_free(H1); run migrate_page(OLD, NEW); }}\n")
    path = tmp / f"bench_{readers}.mig"
    path.write_text(text)
    return build_all(load_program(path), only=["bench"])[0]


def visited_bytes(ts: TransitionSystem) -> float:
    """Bytes per state of a parent map holding every reachable state."""
    c = compile_system(ts)
    parent = {c.initial: c.initial}
    frontier = [c.initial]
    while frontier:
        nxt = []
        for s in frontier:
            for t in c.expand(s):
                if t not in parent:
                    parent[t] = s
                    nxt.append(t)
        frontier = nxt
    total = sys.getsizeof(parent) + sum(sys.getsizeof(s) for s in parent)
    return total / len(parent)


def interpreter_bfs(ts: TransitionSystem) -> tuple[int, float]:
    """The baseline: BFS over the reference interpreter, states as tuples."""
    interp = Interp(ts.slots, ts.pools)
    start = time.perf_counter()
    init = tuple(ts.initial)
    seen = {init}
    frontier = [init]
    while frontier:
        nxt = []
        for st in frontier:
            for t in ts.threads:
                for a in ts.actions_at(t.id, st[t.pc_slot]):
                    new = interp.step(a, st, t.pc_slot)
                    if new is not None:
                        key = tuple(new)
                        if key not in seen:
                            seen.add(key)
                            nxt.append(key)
        frontier = nxt
    return len(seen), time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-readers", type=int, default=4)
    ap.add_argument("--baseline-up-to", type=int, default=2,
                    help="run the interpreter baseline up to this many readers")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for k in range(1, args.max_readers + 1):
            ts = instance(k, Path(d))
            gc.collect()
            r = check(ts, CheckOptions().livelock(False))
            assert r.verdict == "verified", r.violation
            s = r.stats
            rate = s.states / s.seconds
            ratio = "-"
            if k <= args.baseline_up_to:
                n, secs = interpreter_bfs(ts)
                assert n == s.states, (n, s.states)
                ratio = f"{rate / (n / secs):.1f}x"
            rows.append((k, len(ts.threads), s.states, s.transitions, s.seconds, rate,
                         visited_bytes(ts), s.state_bits, ratio))
    print("| readers | threads | states | transitions | seconds | states/s | bytes/state "
          "| bits/state | vs interpreter |")
    print("|---|---|---|---|---|---|---|---|---|")
    for k, nt, n, tr, secs, rate, bps, bits, ratio in rows:
        print(f"| {k} | {nt} | {n:,} | {tr:,} | {secs:.2f} | {rate:,.0f} | {bps:.0f} | {bits} "
              f"| {ratio} |")


if __name__ == "__main__":
    main()

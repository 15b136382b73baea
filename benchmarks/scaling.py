"""How the search scales with cores: one prepared run for a many-core machine.

Issues 11 and 15 ask how `--workers N` and `--cluster` scale past the two
cores of the development machine. This script runs, within one time
budget (a borrowed machine's command limit), the benchmarks that answer it,
in the order of what they tell:

1. `vm_workers.py --workers 1,2,4,..`: the bytecode machine on N threads
   against one thread, on the default wide-state scenario (tree parts);
2. `vs_spin_ladder.py --workers 1,N` on the largest rungs of the peer
   families, SPIN side by side (only where `spin`, `gcc`, `/usr/bin/time`
   and the peer-benchmark directory are there);
3. `vm_workers.py --jit --store dense`: the JIT's code on N threads;
4. `ray_workers.py`: the Ray search on a local cluster (only where `ray`
   imports).

Each step gets what is left of the budget, at most its share; a step that
runs out is stopped and reported as cut short. Every step's table goes to
a file of its own in `--out`, and `scaling.md` there gathers them with the
machine's facts. Every step checks that all worker counts report the same
states, transitions and depth (the scripts it runs say so if not).

    python3 benchmarks/scaling.py [--out DIR] [--budget 540] [--workers 1,2,4,8,16]
        [--bench ../shared/bench] [--rung 7]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Step:
    name: str  # its file in --out: NAME.md
    argv: list[str]
    share: float  # the most of the whole budget it may take
    missing: str | None  # why it cannot run here, if it cannot


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def worker_counts(asked: str | None) -> list[int]:
    """1, 2, 4, ... up to the machine's cores (and the cores themselves)."""
    if asked:
        return [int(w) for w in asked.split(",")]
    n, out, w = cores(), [], 1
    while w < n:
        out.append(w)
        w *= 2
    return [*out, n]


def steps(args: argparse.Namespace, counts: list[int]) -> list[Step]:
    py = sys.executable
    ws = ",".join(map(str, counts))
    bench = args.bench.resolve()
    tools = [t for t in ("spin", "gcc") if shutil.which(t) is None]
    if not Path("/usr/bin/time").exists():
        tools.append("/usr/bin/time")
    no_ladder = (f"{', '.join(tools)} missing" if tools
                 else None if (bench / "gen.py").is_file() else f"no gen.py in {bench}")
    no_ray = None if importlib.util.find_spec("ray") else "ray is not installed"
    return [
        Step("vm_workers", [py, str(HERE / "vm_workers.py"), "--workers", ws, "--no-livelock"],
             0.35, None),
        Step("ladder", [py, str(HERE / "vs_spin_ladder.py"), "--bench", str(bench),
                        "--min-size", str(args.rung), "--max-size", str(args.rung),
                        "--max-states", str(10**9), "--workers", f"1,{counts[-1]}",
                        "--no-reduce-only", "--timeout", "300"], 0.5, no_ladder),
        Step("vm_workers_jit", [py, str(HERE / "vm_workers.py"), "--workers", ws,
                                "--no-livelock", "--jit", "--store", "dense"], 0.25, None),
        Step("ray_workers", [py, str(HERE / "ray_workers.py"), "--workers",
                             ",".join(str(w) for w in counts if w <= 8)], 0.25, no_ray),
    ]


def run(step: Step, seconds: float, out: Path) -> str:
    """The step's output (its table), or why it did not run or finish."""
    if step.missing is not None:
        return f"not run: {step.missing}\n"
    if seconds < 30:
        return "not run: the budget is spent\n"
    env = {**os.environ, "PYTHONUNBUFFERED": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    start = time.monotonic()
    try:
        proc = subprocess.run(step.argv, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=seconds, check=False)
        text, tail = proc.stdout, proc.stderr
        status = f"exit {proc.returncode}"
    except subprocess.TimeoutExpired as e:
        text = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        tail = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        status = f"cut short after {seconds:.0f} s (what it printed so far is above)"
    took = time.monotonic() - start
    report = f"{text.rstrip()}\n\n{step.name}: {status}, {took:.0f} s\n"
    if tail.strip() and "exit 0" not in status:
        report += "\nstandard error (end):\n```\n" + tail[-3000:] + "\n```\n"
    (out / f"{step.name}.md").write_text(report, encoding="utf-8")
    return report


def facts() -> str:
    versions = []
    for name in ("numpy", "numba", "llvmlite", "ray"):
        if importlib.util.find_spec(name) is not None:
            try:
                versions.append(f"{name} {metadata.version(name)}")
            except metadata.PackageNotFoundError:
                versions.append(name)
    return (f"{cores()} cores ({platform.processor() or platform.machine()}), Python "
            f"{platform.python_version()}, {', '.join(versions)}; "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "scaling-out")))
    ap.add_argument("--budget", type=float, default=540.0, help="seconds for every step")
    ap.add_argument("--workers", help="comma-separated worker counts (default 1, 2, 4, .., "
                                      "the cores)")
    ap.add_argument("--bench", type=Path, default=ROOT.parent / "shared" / "bench",
                    help="the peer-benchmark directory (its gen.py)")
    ap.add_argument("--rung", type=int, default=7, help="the ladders' rung to climb to")
    ap.add_argument("--only", help="comma-separated step names to run")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    counts = worker_counts(args.workers)
    deadline = time.monotonic() + args.budget
    parts = [f"# Scaling with cores\n\n{facts()}"]
    for step in steps(args, counts):
        if args.only and step.name not in args.only.split(","):
            continue
        left = deadline - time.monotonic()
        print(f"== {step.name} (up to {min(left, step.share * args.budget):.0f} s)", flush=True)
        report = run(step, min(left, step.share * args.budget), args.out)
        print(report, flush=True)
        parts.append(f"## {step.name}\n\n`{' '.join(step.argv[1:])}`\n\n{report}")
    (args.out / "scaling.md").write_text("\n".join(parts), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

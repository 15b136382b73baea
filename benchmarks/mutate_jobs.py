"""`migcheck mutate` with its mutants on 1, 2, ... processes (`-j J`).

Runs `migcheck mutate SPEC -j J` for each J, one after the other on the same
machine, and prints the wall seconds of each whole run, the speed-up over
`-j 1`, and whether every report is byte-identical to the `-j 1` one (it
must be: the mutants are independent searches, reported in their order).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_mutate(spec: str, jobs: int) -> tuple[float, str, int]:
    """Wall seconds, the report and the exit status of one run."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "checker", "mutate", spec, "-j", str(jobs)],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):  # 1: a survivor, still a report
        raise SystemExit(f"mutate -j {jobs} failed:\n{proc.stderr}")
    return seconds, proc.stdout, proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("spec", nargs="?", default="specs/zsmalloc/map_vs_migrate.mig")
    ap.add_argument("--jobs", default="1,2", help="comma-separated values of -j")
    args = ap.parse_args()
    runs = [(j, *run_mutate(args.spec, j)) for j in map(int, args.jobs.split(","))]
    _, base_s, base_out, base_rc = runs[0]
    print("| spec | -j | wall s | speed-up | report as -j 1 |\n|---|---:|---:|---:|---|")
    same = True
    for j, seconds, out, rc in runs:
        alike = out == base_out and rc == base_rc
        same &= alike
        print(f"| `{args.spec}` | {j} | {seconds:.2f} | {base_s / seconds:.2f}x | "
              f"{'yes' if alike else 'NO'} |")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

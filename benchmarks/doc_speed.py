"""`migcheck doc` with the lock search in Python (the reference) and on the VM,
one scenario at a time and on several processes.

Runs `migcheck doc SPEC -j 1 --lock-engine python` and `-j 1 --lock-engine
auto` (the default engine: the VM's pair kernel past a few thousand pairs)
one after the other on the same machine, then `--lock-engine auto -j J`
for each J of `--jobs` (the scenarios J at a time, each in a forked
process), and prints wall seconds, the lock search's pairs per second from
the progress lines (with -j 1: one process reports them), the speed-ups,
and whether every document is byte-identical to the reference's (they
must be: `tests/test_lock_vm.py` and `tests/test_doc.py` hold them equal).

    .venv/bin/python benchmarks/doc_speed.py [SPEC] [--jobs 2] [--no-python]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RATE = re.compile(r"lock search .*pairs, .*?([\d,]+)/s")


def run_doc(spec: Path, engine: str, out: Path, jobs: int = 1) -> tuple[float, int]:
    """Wall seconds of one `doc` run, and the last lock-search rate it printed."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "checker", "doc", str(spec), "-o", str(out),
                           "--lock-engine", engine, "--progress", "-j", str(jobs)],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"doc --lock-engine {engine} failed:\n{proc.stderr}")
    rates = [int(m.group(1).replace(",", "")) for m in RATE.finditer(proc.stderr)]
    return seconds, rates[-1] if rates else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("spec", nargs="?", default="specs/zsmalloc/migration.mig")
    ap.add_argument("--jobs", default="2", help="comma-separated J of the runs on J processes")
    ap.add_argument("--no-python", action="store_true",
                    help="leave out the reference engine (its run takes minutes)")
    args = ap.parse_args()
    spec = ROOT / args.spec
    rows: list[tuple[str, float, int]] = []
    docs: list[bytes] = []
    with tempfile.TemporaryDirectory() as tmp:
        runs = ([] if args.no_python else [("python", 1)]) + [("auto", 1)] \
            + [("auto", int(j)) for j in args.jobs.split(",") if int(j) > 1]
        for k, (engine, jobs) in enumerate(runs):
            out = Path(tmp) / f"{k}.md"
            seconds, rate = run_doc(spec, engine, out, jobs)
            rows.append((f"{engine if engine == 'python' else 'auto (VM)'}, -j {jobs}",
                         seconds, rate))
            docs.append(out.read_bytes())
    same = all(d == docs[0] for d in docs)
    print("| spec | run | wall s | lock pairs/s (last progress line) | vs first |")
    print("|---|---|---|---|---|")
    for what, seconds, rate in rows:
        shown = f"{rate:,}" if rate else "-"
        print(f"| `{args.spec}` | {what} | {seconds:.1f} | {shown} | "
              f"{rows[0][1] / seconds:.2f}x |")
    print(f"\ndocuments identical: {'yes' if same else 'NO'}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

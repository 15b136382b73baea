"""`migcheck doc` with the lock search in Python (the reference) and on the VM.

Runs `migcheck doc SPEC --lock-engine python` and `--lock-engine auto` (the
default: the VM's pair kernel past a few thousand pairs) one after the other
on the same machine, prints wall seconds, the lock search's pairs per second
from the progress lines, the speed-up, and whether the two documents are
byte-identical (they must be: `tests/test_lock_vm.py` holds the facts equal).
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


def run_doc(spec: Path, engine: str, out: Path) -> tuple[float, int]:
    """Wall seconds of one `doc` run, and the last lock-search rate it printed."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "checker", "doc", str(spec), "-o", str(out),
                           "--lock-engine", engine, "--progress"],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"doc --lock-engine {engine} failed:\n{proc.stderr}")
    rates = [int(m.group(1).replace(",", "")) for m in RATE.finditer(proc.stderr)]
    return seconds, rates[-1] if rates else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("spec", nargs="?", default="specs/zsmalloc/migration.mig")
    args = ap.parse_args()
    spec = ROOT / args.spec
    with tempfile.TemporaryDirectory() as tmp:
        ref_doc, vm_doc = Path(tmp) / "python.md", Path(tmp) / "vm.md"
        ref_s, ref_rate = run_doc(spec, "python", ref_doc)
        vm_s, vm_rate = run_doc(spec, "auto", vm_doc)
        same = ref_doc.read_bytes() == vm_doc.read_bytes()
    print("| spec | lock engine | wall s | lock pairs/s (last progress line) |\n|---|---|---|---|")
    print(f"| `{args.spec}` | python | {ref_s:.1f} | {ref_rate:,} |")
    print(f"| `{args.spec}` | auto (VM) | {vm_s:.1f} | {vm_rate:,} |")
    print(f"\nspeed-up of the whole `doc` run: {ref_s / vm_s:.1f}x; "
          f"documents identical: {'yes' if same else 'NO'}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

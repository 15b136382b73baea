"""Where the default search should hand over from the Python engine to the VM.

The VM (checker/vm) searches several times faster than the Python engine,
but every process that uses it first pays numba's and LLVM's start-up and
the loading of its cached kernel (about 0.3-0.5 s). This script measures,
on the scalable zsmalloc instance of `states_per_second.py` (K readers of
one handle, a zs_free, a migration), the time to verdict of one `migcheck
check` process with each engine, start-up included:

- `python`: the Python engine alone;
- `vm`: the VM from the first state;
- `explicit`: the default, Python first and the VM from the first level
  boundary with `VM_AFTER` states (checker/vm/tiered.py).

The crossover of `python` and `vm` is where `VM_AFTER` belongs; `explicit`
should follow the lower of the two. Engines run interleaved, best of
`--repeat` runs each, in fresh processes.

    .venv/bin/python benchmarks/vm_handover.py [--max-readers 6] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "specs" / "zsmalloc" / "map_vs_migrate.mig"
ENGINES = ("python", "vm", "explicit")


def write_instance(readers: int, tmp: Path) -> Path:
    runs = " ".join("run zs_map_object(H0);" for _ in range(readers))
    text = (f'import "{SPEC.stem}";\n'
            f"scenario bench {{ {runs} run zs_free(H1); run migrate_page(OLD, NEW); }}\n")
    path = tmp / f"bench_{readers}.mig"
    path.write_text(text)
    return path


def one_run(path: Path, engine: str) -> tuple[float, int]:
    """Wall seconds of a whole `migcheck check` process, and its states."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "checker", "check", str(path), "-s", "bench",
                           "--engine", engine, "--no-save", "--format", "json", "-I", str(SPEC.parent),
                           "-I", str(ROOT / "models")],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    seconds = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{engine} on {path.name} failed:\n{proc.stderr}")
    return seconds, int(json.loads(proc.stdout)[0]["stats"]["states"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-readers", type=int, default=6)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print("| readers | states | python s | vm s | explicit (default) s | vm / python |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for readers in range(1, args.max_readers + 1):
            path = write_instance(readers, Path(tmp))
            one_run(path, "vm")  # the kernel compiled and cached before timing
            best = {e: float("inf") for e in ENGINES}
            states = {e: 0 for e in ENGINES}
            for _ in range(args.repeat):
                for e in ENGINES:
                    s, n = one_run(path, e)
                    best[e] = min(best[e], s)
                    states[e] = n
            if len(set(states.values())) != 1:
                raise SystemExit(f"state counts differ: {states}")
            print(f"| {readers} | {states['vm']:,} | {best['python']:.2f} | {best['vm']:.2f} | "
                  f"{best['explicit']:.2f} | {best['vm'] / best['python']:.2f} |", flush=True)


if __name__ == "__main__":
    main()

"""The VM's two forms of visited set (checker/vm/store.py) side by side:
dense rows with a hash table, and the tree-compressed store.

For each scenario, one `migcheck check --engine vm` process per form,
interleaved, best of `--repeat`: search seconds, states/s, the store's
bytes per state (from its arrays, as allocated) and the peak RSS of the
process. The dense form's speed against the tree's memory is the trade
`TREE_AT_BYTES` settles (dense until the rows would pass it).

    .venv/bin/python benchmarks/vm_store.py [--repeat 2] [SPEC:SCENARIO[:-D NAME=V,...] ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = [
    "specs/zsmalloc/migration.mig:frees_vs_two_compactors",
    "specs/migrate/isolate_putback.mig:realloc_vs_three_compactors",
    "../shared/bench/zsmalloc.mig:correct_R4F1M3:K=3,O=2",
]
FORMS = ("dense", "tree")


def one_run(spec: str, scenario: str, defines: list[str], form: str) -> dict[str, float]:
    cmd = [sys.executable, "-m", "checker", "check", spec, "-s", scenario, "--engine", "vm",
           "--store", form, "--no-save", "--no-livelock", "--format", "json"]
    for d in defines:
        cmd += ["-D", d]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    s = json.loads(proc.stdout)[0]["stats"]
    return {"states": s["states"], "seconds": s["seconds"],
            "bytes": s["store_bytes"] / max(s["states"], 1), "rss": s["peak_rss_mb"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("instances", nargs="*", default=DEFAULT)
    args = ap.parse_args()
    print("| scenario | states | form | search s | states/s | store bytes/state | peak RSS MB |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for inst in args.instances:
        spec, scenario, *rest = inst.split(":")
        defines = rest[0].split(",") if rest else []
        best: dict[str, dict[str, float]] = {}
        for _ in range(args.repeat):
            for form in FORMS:
                r = one_run(spec, scenario, defines, form)
                if form not in best or r["seconds"] < best[form]["seconds"]:
                    best[form] = r
        if best["dense"]["states"] != best["tree"]["states"]:
            raise SystemExit(f"{inst}: state counts differ")
        for form in FORMS:
            r = best[form]
            print(f"| {scenario} | {r['states']:,.0f} | {form} | {r['seconds']:.2f} | "
                  f"{r['states'] / r['seconds']:,.0f} | {r['bytes']:.1f} | {r['rss']:,.0f} |",
                  flush=True)


if __name__ == "__main__":
    main()

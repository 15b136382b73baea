"""Symmetry reduction: states and time to verdict, reduced and unreduced.

On the peer-benchmark families with identical threads (`../shared/bench`:
`movable`'s compactors, `abba`'s ascending and descending threads), each
roster's repeated `run T();` lines are rewritten as `run T() * N
symmetric;` in a temporary copy of the spec, and both are checked in fresh
`migcheck check` processes (`--no-livelock`: the livelock and fairness
passes run unreduced, README "Symmetry reduction"). Prints a Markdown table;
the verdicts must agree.

    .venv/bin/python benchmarks/symmetry.py [--bench ../shared/bench]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = [  # (family, scenario, -D values)
    ("movable", "correct_C3D2", {"P": 2}),
    ("movable", "correct_C3D3", {"P": 3}),
    ("movable", "buggy_C3D3", {"P": 3}),
    ("abba", "correct_T4", {"N": 3}),
    ("abba", "correct_T8", {"N": 4}),
    ("abba", "buggy_T8", {"N": 4}),
]


def symmetric(text: str) -> str:
    """Each scenario's runs of one argument-less thread kind, as one
    symmetric run item per kind."""
    def roster(m: re.Match[str]) -> str:
        runs = re.findall(r"run (\w+)\(\);", m.group(2))
        kinds = list(dict.fromkeys(runs))
        items = " ".join(f"run {k}() * {runs.count(k)} symmetric;" for k in kinds)
        return m.group(1) + items + m.group(3)

    return re.sub(r"(scenario \w+ \{[^{}]*?)((?:\s*run \w+\(\);)+)([^{}]*\})", roster, text)


def check(spec: Path, scenario: str, defines: dict[str, int]) -> tuple[dict[str, object], float]:
    cmd = [sys.executable, "-m", "checker", "check", str(spec), "-s", scenario, "--no-livelock",
           "--format", "json", "--no-save", "--max-memory", "4000"]
    for k, v in defines.items():
        cmd += ["-D", f"{k}={v}"]
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    took = time.perf_counter() - start
    data: list[dict[str, object]] = json.loads(out.stdout)
    return data[0], took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench", type=Path, default=ROOT.parent / "shared" / "bench")
    args = ap.parse_args()
    print("| instance | verdict | states unreduced | states reduced | ratio | s unreduced | "
          "s reduced |")
    print("|---|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for family, scenario, defines in CASES:
            plain = args.bench / f"{family}.mig"
            reduced = Path(tmp) / f"{family}_sym.mig"
            reduced.write_text(symmetric(plain.read_text()))
            p, tp = check(plain, scenario, defines)
            r, tr = check(reduced, scenario, defines)
            assert p["verdict"] == r["verdict"], (scenario, p["verdict"], r["verdict"])
            ps, rs = p["stats"]["states"], r["stats"]["states"]  # type: ignore[index]
            sizes = " ".join(f"{k}={v}" for k, v in defines.items())
            print(f"| {family} {scenario} {sizes} | {p['verdict']} | {ps:,} | {rs:,} | "
                  f"{ps / rs:.1f}x | {tp:.2f} | {tr:.2f} |", flush=True)


if __name__ == "__main__":
    main()

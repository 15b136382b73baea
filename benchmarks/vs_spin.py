"""migcheck against SPIN on the specs, at growing sizes.

For the first quick scenario of each spec that expects no violation, at
its own constants and then with every numeric constant raised by 1, 2, ...
(`-D`), while migcheck stays under --max-states: migcheck's explicit-state
search (in a subprocess, for its memory), and SPIN on the Promela export
(`migcheck export --promela`), pan built with gcc -O2, partial-order
reduction off (-DNOREDUCE: the same states as migcheck) and on. SPIN's
compile time (spin -a, then gcc) and search time are separate columns;
memory is pan's "total actual memory usage" (its hash table included) and
migcheck's peak RSS. Prints a Markdown table (the README's "migcheck and
SPIN" section).

    .venv/bin/python benchmarks/vs_spin.py [--max-states 300000] [--steps 2] [--spec PATH]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checker.backends.promela import export  # noqa: E402
from checker.backends.spin import compile_pan, missing_tools, run_pan  # noqa: E402
from checker.dsl.diagnostics import SpecError  # noqa: E402
from checker.dsl.loader import load_program  # noqa: E402
from checker.ir.build import build_all  # noqa: E402
from checker.ir.nodes import TransitionSystem  # noqa: E402
from checker.sema.check import elaborate  # noqa: E402

HEADER = ("| spec:scenario | -D | checker | states | transitions | compile s | search s "
          "| states/s | memory MB |")
RULE = "|---|---|---|---:|---:|---:|---:|---:|---:|"


def quick_verified(spec: Path, overrides: dict[str, int]) -> TransitionSystem | None:
    for ts in build_all(load_program(spec), overrides):
        if "slow" not in ts.tags and ts.expect.kind == "verified":
            return ts
    return None


def constants(spec: Path) -> dict[str, int]:
    el = elaborate(load_program(spec))
    return {c.name: int(c.value) for c in el.consts.values()
            if not c.is_option and not c.is_bool}


def migcheck_row(spec: Path, scenario: str, defines: list[str]) -> dict[str, float] | None:
    argv = [sys.executable, "-m", "checker", "check", str(spec), "-s", scenario, "--no-livelock",
            "--no-save", "--format", "json", "--quiet", *[a for d in defines for a in ("-D", d)]]
    r = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, check=False)
    try:
        stats = json.loads(r.stdout)[0]["stats"]
    except (json.JSONDecodeError, IndexError, KeyError):
        return None
    return {"states": stats["states"], "transitions": stats["transitions"],
            "seconds": stats["seconds"], "rate": stats["states_per_second"],
            "memory": stats["peak_rss_mb"]}


def fmt(label: str, size: str, checker: str, states: float, transitions: float,
        compile_s: str, search: float, rate: float, memory: float) -> str:
    return (f"| {label} | {size} | {checker} | {states:,.0f} | {transitions:,.0f} | {compile_s} "
            f"| {search:.2f} | {rate:,.0f} | {memory:,.0f} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-states", type=int, default=300_000)
    ap.add_argument("--steps", type=int, default=2, help="sizes above the spec's own")
    ap.add_argument("--spec", action="append", default=[])
    args = ap.parse_args()
    if (why := missing_tools()) is not None:
        print(f"vs_spin: {why}", file=sys.stderr)
        return 2
    specs = [Path(s).resolve() for s in args.spec] or sorted((ROOT / "specs").rglob("*.mig"))
    print(HEADER)
    print(RULE)
    for spec in specs:
        base = constants(spec)
        for step in range(args.steps + 1):
            overrides = {k: v + step for k, v in base.items()}
            try:
                ts = quick_verified(spec, overrides)
            except SpecError:
                break  # a constant cannot grow further (a range or a type)
            if ts is None:
                break
            defines = [f"{k}={v}" for k, v in overrides.items()] if step else []
            label = f"{spec.relative_to(ROOT / 'specs')}:{ts.scenario}"
            size = " ".join(defines) if defines else "as written"
            mine = migcheck_row(spec, ts.scenario, defines)
            if mine is None:
                break
            print(fmt(label, size, "migcheck", mine["states"], mine["transitions"], "-",
                      mine["seconds"], mine["rate"], mine["memory"]), flush=True)
            model = export(ts)
            for reduce in (False, True):
                with tempfile.TemporaryDirectory() as tmp:
                    pan = compile_pan(model.text, Path(tmp), reduce=reduce, optimize="-O2",
                                      vector_bytes=model.vector_bytes)
                    run = run_pan(pan, max_depth=1_000_000)
                name = "SPIN, POR" if reduce else "SPIN -DNOREDUCE"
                compile_s = f"{pan.spin_seconds:.1f} + {pan.cc_seconds:.1f}"
                print(fmt(label, size, name, run.states, run.transitions, compile_s,
                          run.seconds, run.states_per_second, run.memory_mb), flush=True)
            if mine["states"] > args.max_states or not base:
                break
    return 0


if __name__ == "__main__":
    sys.exit(main())

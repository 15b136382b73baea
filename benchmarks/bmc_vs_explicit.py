"""How far BMC gets in a minute, against the explicit search, on every spec.

Two tables, in Markdown, for the README:

1. Protocols: for each spec under specs/ (or those given), the scenario
   with the most threads and the one with the most threads among those
   that expect a violation. Each is checked by the explicit search and by
   BMC (`--engine bmc`), each with the same wall-clock budget. Reported: the
   explicit verdict, states and BFS depth; the BMC verdict and the depth it
   reached (every run of up to that many steps checked), or the length of
   the counterexample it found. The explicit search also looks for runs that
   spin forever, which BMC does not.
2. Threads: specs/zsmalloc/isolation_wide.mig (Linux 6.3 zsmalloc) with one
   compactor and one zs_free() on each of N zspages, N growing (scenarios
   generated here, importing the spec unchanged, with -D NR_ZSPAGES=N).
   The bug needs 12 steps whatever N; the explicit search explores every
   state within 11 steps first, a number that grows with every thread.

Every run is a separate `migcheck check --format json` process, so memory
and the solver start fresh.

    .venv/bin/python benchmarks/bmc_vs_explicit.py [--seconds 60] [--zspages 1,2,4,6,8,10,12]
        [--skip-protocols] [--skip-threads] [SPEC ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checker.dsl.loader import load_program  # noqa: E402
from checker.sema.check import elaborate  # noqa: E402

MIGCHECK = [str(ROOT / ".venv" / "bin" / "migcheck")]
WIDE = ROOT / "specs" / "zsmalloc" / "isolation_wide.mig"


@dataclass
class Run:
    verdict: str  # verified, violation, incomplete, error
    status: str
    depth: int
    states: int
    seconds: float
    steps: int | None  # counterexample length
    kind: str | None
    loop: bool = False  # a run that spins forever (a livelock)


def check(spec: Path, scenario: str, engine: str, seconds: float,
          extra: list[str] | None = None) -> Run:
    cmd = [*MIGCHECK, "check", str(spec), "-s", scenario, "--format", "json", "--no-save",
           "--max-seconds", str(seconds), "--engine", engine, "--depth", "400", *(extra or [])]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                              timeout=seconds * 3 + 60, check=False)
        data = json.loads(proc.stdout)[0]
    except (subprocess.TimeoutExpired, json.JSONDecodeError, IndexError):
        return Run("error", "error", 0, 0, seconds, None, None)
    stats = data["stats"]
    trace = data.get("trace")
    v = data.get("violation")
    return Run(data["verdict"], data["status"], stats["depth"], stats["states"],
               stats["seconds"], len(trace["steps"]) if trace else None,
               v["kind"] if v else None, bool(trace and trace.get("loop_start") is not None))


def threads_of(spec: Path) -> dict[str, tuple[int, bool, list[str]]]:
    """scenario -> (threads it runs, expects a violation, tags)"""
    el = elaborate(load_program(spec))
    return {name: (len(sc.runs), sc.expect is not None and sc.expect.kind != "verified",
                   list(sc.tags))
            for name, sc in el.scenarios.items()}


def pick(spec: Path) -> list[str]:
    scen = threads_of(spec)
    widest = max(scen, key=lambda n: scen[n][0])
    bugs = [n for n in scen if scen[n][1]]
    chosen = [widest]
    if bugs:
        bug = max(bugs, key=lambda n: scen[n][0])
        if bug != widest:
            chosen.append(bug)
    return chosen


def fmt_explicit(r: Run) -> str:
    if r.verdict == "error":
        return "error"
    if r.verdict == "verified":
        return f"verified: {r.states:,} states, depth {r.depth}, {r.seconds:.1f} s"
    if r.verdict == "violation" and r.steps is not None and r.loop:
        return f"{r.kind} (spinning forever), {r.states:,} states, {r.seconds:.1f} s"
    if r.verdict == "violation":
        return f"{r.kind} in {r.steps} steps, {r.states:,} states, {r.seconds:.1f} s"
    return f"not finished: depth {r.depth} ({r.states:,} states)"


def fmt_bmc(r: Run) -> str:
    if r.verdict == "error":
        return "error"
    if r.verdict == "violation":
        return f"{r.kind} in {r.steps} steps, {r.seconds:.1f} s"
    if r.verdict == "verified":
        return f"verified: every run ends within {r.depth} steps, {r.seconds:.1f} s"
    return f"no violation up to depth {r.depth}"


def protocols(specs: list[Path], seconds: float) -> None:
    print(f"| spec | scenario | threads | explicit ({seconds:g} s) | bmc ({seconds:g} s) |")
    print("|---|---|---|---|---|")
    for spec in specs:
        scen = threads_of(spec)
        for name in pick(spec):
            e = check(spec, name, "explicit", seconds)
            b = check(spec, name, "bmc", seconds)
            rel = spec.relative_to(ROOT / "specs")
            print(f"| {rel} | {name} | {scen[name][0]} | {fmt_explicit(e)} | {fmt_bmc(b)} |",
                  flush=True)


def threads(zspages: list[int], seconds: float) -> None:
    print(f"| zspages | threads | explicit ({seconds:g} s) | bmc ({seconds:g} s) |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in zspages:
            runs = " ".join(f"run compactor({i}, 0);" for i in range(n))
            runs += " " + " ".join(f"run zs_free({i});" for i in range(n))
            text = (f'// Linux 6.3 zsmalloc, generated by benchmarks/bmc_vs_explicit.py\n'
                    f'import "{WIDE.with_suffix("")}";\n'
                    f'scenario wide_{n} {{ {runs} '
                    'expect assert "VM_BUG_ON(zspage->isolated == 0)"; }\n')
            spec = Path(tmp) / f"wide_{n}.mig"
            spec.write_text(text)
            extra = ["-D", f"NR_ZSPAGES={max(n, 1)}"]
            e = check(spec, f"wide_{n}", "explicit", seconds, extra)
            b = check(spec, f"wide_{n}", "bmc", seconds, extra)
            print(f"| {n} | {2 * n} | {fmt_explicit(e)} | {fmt_bmc(b)} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("specs", nargs="*", type=Path)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--zspages", default="1,2,4,6,8,10,12")
    ap.add_argument("--skip-protocols", action="store_true")
    ap.add_argument("--skip-threads", action="store_true")
    args = ap.parse_args()
    specs = [p.resolve() for p in args.specs] or sorted((ROOT / "specs").rglob("*.mig"))
    if not args.skip_protocols:
        protocols(specs, args.seconds)
        print()
    if not args.skip_threads:
        threads([int(x) for x in args.zspages.split(",")], args.seconds)


if __name__ == "__main__":
    main()

"""migcheck against SPIN on the four peer-benchmark families, up their size ladders.

The families of the shared bench directory (`../shared/bench`: zsmalloc,
movable, balloon, abba; its README.md) are the same transition systems
twice: `gen.py` prints Promela for SPIN and the `*.mig` files are migcheck
specs, a size being a scenario named after its thread roster plus `-D`
values. This script climbs every family's ladder (`gen.py --list`)
interleaved, round by round (rung 0 of every family, then rung 1, ...), so
that a change in the machine's load hits all families and tools alike.

Each tool is timed to its verdict with all its costs:

* SPIN: `spin -a` + `gcc -O2 -DSAFETY` (with `-DNOREDUCE`, and a second row
  with partial-order reduction on) + `./pan -m... -wN`, N about log2 of the
  state count; "search s" is pan's wall clock, bytes/state pan's "total
  actual memory usage" over its stored states.
* migcheck: the whole `migcheck check SPEC -s SCENARIO -D ... --no-save -q
  --no-livelock --format json [--engine E] [--workers N]` process; "search
  s" is the search time of its JSON stats, bytes/state its peak RSS over its
  states (the interpreter's ~50 MB included, so meaningful on large rungs
  only).

Peak RSS of both comes from `/usr/bin/time -f %M`. With -DNOREDUCE, a
complete search of both tools must store the same number of states: a
difference is printed as a DISAGREEMENT line and makes the exit status 1.

    .venv/bin/python benchmarks/vs_spin_ladder.py [--families zsmalloc,abba]
        [--max-states 1000000] [--repeat 1] [--timeout 600]
        [--engines explicit,vm] [--workers 1,2] [--markdown FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checker.backends.spin import (  # noqa: E402
    SpinError,
    compile_pan,
    missing_tools,
    parse_pan,
)

FAMILIES = ("zsmalloc", "movable", "balloon", "abba")
VARIANTS = ("correct", "buggy")
# Roster parameters (part of the scenario's name) and constants (-D), per family.
ROSTER = {"zsmalloc": ("R", "F", "M"), "movable": ("C", "D"), "balloon": ("C", "D"),
          "abba": ("T",)}
MAX_DEPTH = 100_000  # pan's -m: above every rung's depth; its stack is allocated up front
TIME = "/usr/bin/time"

HEADER = ("| family | variant | size | tool | verdict | states | to verdict s | search s "
          "| states/s | bytes/state | peak RSS MB | migcheck/SPIN |")
RULE = "|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|"


@dataclass(frozen=True)
class Rung:
    """One size of one family: `gen.py --list`'s line."""

    family: str
    size: int
    params: dict[str, int]

    def scenario(self, variant: str) -> str:
        return variant + "_" + "".join(f"{k}{self.params[k]}" for k in ROSTER[self.family])

    def defines(self) -> list[str]:
        return [f"{k}={v}" for k, v in self.params.items() if k not in ROSTER[self.family]]

    def label(self) -> str:
        return f"{self.size}: " + " ".join(f"{k}={v}" for k, v in self.params.items())


@dataclass
class Result:
    """One tool's run on one instance; `states` None when it did not finish."""

    tool: str
    verdict: str = "-"
    states: int | None = None
    complete: bool = False
    total: float = 0.0  # seconds to verdict, all costs
    search: float = 0.0
    rate: float = 0.0  # states per second of search, the tool's own figure
    memory_mb: float = 0.0  # the tool's own memory figure (pan's line, migcheck's RSS)
    rss_mb: float = 0.0  # /usr/bin/time's peak RSS
    note: str = ""
    totals: list[float] = field(default_factory=list)


def ladder(bench: Path) -> list[Rung]:
    out = subprocess.run([sys.executable, "gen.py", "--list"], cwd=bench, capture_output=True,
                         text=True, check=True).stdout
    rungs = []
    for line in out.splitlines():
        family, size, *kv = line.split()
        rungs.append(Rung(family, int(size), {k: int(v) for k, v in
                                               (p.split("=") for p in kv)}))
    return rungs


def timed(argv: Sequence[str], cwd: Path, timeout: float) -> tuple[str, float, float, int]:
    """Run argv under /usr/bin/time: (stdout + stderr, wall seconds, peak RSS MB,
    exit status). A run past `timeout` raises subprocess.TimeoutExpired."""
    with tempfile.NamedTemporaryFile(mode="r", suffix=".rss") as rss:
        t0 = time.perf_counter()
        r = subprocess.run([TIME, "-f", "%M", "-o", rss.name, *argv], cwd=cwd,
                           capture_output=True, text=True, timeout=timeout, check=False)
        wall = time.perf_counter() - t0
        kb = rss.read().strip().splitlines()
    peak = int(kb[-1]) / 1024 if kb and kb[-1].isdigit() else 0.0
    return r.stdout + r.stderr, wall, peak, r.returncode


def hash_bits(expected: int | None) -> int:
    """pan's -w: about log2 of the state count, 2^18 slots when unknown."""
    return 18 if not expected else min(30, max(10, math.ceil(math.log2(expected)) + 1))


def run_spin(bench: Path, rung: Rung, variant: str, reduce: bool, expected: int | None,
             timeout: float) -> Result:
    gen = ["gen.py", rung.family, variant, "--size", str(rung.size), "--pml", "-"]
    text = subprocess.run([sys.executable, *gen], cwd=bench, capture_output=True, text=True,
                          check=True).stdout
    return spin_on(text, reduce, expected, timeout)


def spin_on(text: str, reduce: bool, expected: int | None, timeout: float) -> Result:
    """SPIN on one Promela model: spin -a, gcc -O2, pan; all three timed."""
    res = Result("SPIN, POR" if reduce else "SPIN -DNOREDUCE")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            pan = compile_pan(text, Path(tmp), reduce=reduce, optimize="-O2",
                              defines=["MEMLIM=16384"])
        except SpinError as e:
            res.note = f"compile failed: {str(e)[:80]}"
            return res
        argv = [f"./{pan.binary.name}", f"-m{MAX_DEPTH}", f"-w{hash_bits(expected)}"]
        try:
            out, wall, rss, _ = timed(argv, pan.workdir, timeout)
        except subprocess.TimeoutExpired:
            res.note = f"timeout {timeout:.0f} s"
            return res
    run = parse_pan(out)
    res.states, res.complete = run.states, run.complete and run.errors == 0
    kind = "deadlock" if "invalid end state" in run.error else run.error.split(" (")[0]
    res.verdict = f"violation ({kind})" if run.errors else (
        "verified" if run.complete else "incomplete")
    # pan's own search time and rate ("pan: elapsed time", "pan: rate"); its
    # wall clock (process start and hash table allocation) counts in the total.
    elapsed = re.search(r"pan: elapsed time ([0-9.e+]+) seconds", out)
    rate = re.search(r"pan: rate\s+([0-9.e+]+) states/second", out)
    res.search = float(elapsed[1]) if elapsed else wall
    res.rate = float(rate[1]) if rate else run.states / wall
    res.rss_mb, res.memory_mb = rss, run.memory_mb
    res.total = pan.spin_seconds + pan.cc_seconds + wall
    return res


def run_migcheck(bench: Path, rung: Rung, variant: str, engine: str, workers: str | None,
                 extra: Sequence[str], timeout: float) -> Result:
    return migcheck_on(bench / f"{rung.family}.mig", rung.scenario(variant), rung.defines(),
                       engine, workers, extra, timeout)


def migcheck_on(spec: Path, scenario: str, defines: Sequence[str], engine: str,
                workers: str | None, extra: Sequence[str], timeout: float) -> Result:
    """One `migcheck check` process on one scenario, timed to its verdict."""
    tool = f"migcheck {engine}" + (f" x{workers}" if workers else "")
    res = Result(tool)
    argv = [sys.executable, "-m", "checker", "check", str(spec),
            "-s", scenario, *[a for d in defines for a in ("-D", d)],
            "--no-save", "-q", "--no-livelock", "--format", "json", "--engine", engine,
            *(["--workers", workers] if workers else []), *extra]
    try:
        out, wall, rss, rc = timed(argv, ROOT, timeout)
    except subprocess.TimeoutExpired:
        res.note = f"timeout {timeout:.0f} s"
        return res
    res.total, res.rss_mb = wall, rss
    if rc == 2 and "usage: migcheck" in out:
        res.note = "rejected: " + out.strip().splitlines()[-1]
        return res
    try:
        report = json.loads(out[:out.rindex("]") + 1])[0]
    except (ValueError, IndexError) as e:
        res.note = f"no JSON report ({e}): {out.strip()[-100:]}"
        return res
    stats = report["stats"]
    res.states, res.search = int(stats["states"]), float(stats["seconds"])
    res.rate = float(stats["states_per_second"])
    res.memory_mb = float(stats.get("peak_rss_mb") or rss)
    res.complete = report["verdict"] == "verified" and report["limit"] is None
    violation = report.get("violation") or {}
    name = violation.get("name") or violation.get("kind")
    res.verdict = f"violation ({name})" if report["verdict"] == "violation" else report["verdict"]
    return res


def best(runs: list[Result]) -> Result:
    """The median run of the repeats (by time to verdict), all totals kept."""
    done = sorted((r for r in runs if r.states is not None), key=lambda r: r.total)
    pick = done[len(done) // 2] if done else runs[-1]
    return replace(pick, totals=[r.total for r in done])


def row(rung: Rung, variant: str, r: Result, spin_total: float | None) -> str:
    if r.states is None:
        return (f"| {rung.family} | {variant} | {rung.label()} | {r.tool} | {r.note} "
                "| - | - | - | - | - | - | - |")
    total = statistics.median(r.totals) if r.totals else r.total
    per_state = r.memory_mb * 2**20 / r.states if r.states else 0.0
    ratio = f"{total / spin_total:.2f}" if spin_total and r.tool.startswith("migcheck") else "-"
    return (f"| {rung.family} | {variant} | {rung.label()} | {r.tool} | {r.verdict} "
            f"| {r.states:,} | {total:.2f} | {r.search:.2f} | {r.rate:,.0f} | {per_state:,.0f} "
            f"| {r.rss_mb:,.0f} | {ratio} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench", type=Path, default=ROOT.parent / "shared" / "bench",
                    help="the peer-benchmark directory (gen.py, *.mig; default ../shared/bench)")
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--max-states", type=int, default=1_000_000,
                    help="stop climbing a family's ladder after a rung past this many states")
    ap.add_argument("--max-size", type=int, default=None, help="highest rung to run")
    ap.add_argument("--min-size", type=int, default=0, help="lowest rung to run")
    ap.add_argument("--repeat", type=int, default=1, help="runs per tool and instance (median)")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per process")
    ap.add_argument("--engines", default="explicit",
                    help="migcheck engines, comma-separated (explicit, vm, jit, ...)")
    ap.add_argument("--workers", default="",
                    help="migcheck --workers values, comma-separated (default: not passed)")
    ap.add_argument("--migcheck-arg", action="append", default=[],
                    help="one more argument for every migcheck run (repeatable)")
    ap.add_argument("--no-reduce-only", action="store_true", help="skip the SPIN row with POR")
    ap.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = ap.parse_args()
    bench = args.bench.resolve()
    if not (bench / "gen.py").is_file():
        print(f"vs_spin_ladder: no gen.py in {bench}: give the peer-benchmark directory "
              "with --bench", file=sys.stderr)
        return 2
    if (why := missing_tools()) is not None or not Path(TIME).exists():
        print(f"vs_spin_ladder: {why or TIME + ' is missing (Debian package time)'}",
              file=sys.stderr)
        return 2
    families = [f for f in args.families.split(",") if f]
    if unknown := set(families) - set(FAMILIES):
        ap.error(f"unknown families {sorted(unknown)}; known: {', '.join(FAMILIES)}")
    variants = [v for v in args.variants.split(",") if v]
    configs = [(e, w or None) for e in args.engines.split(",")
               for w in (args.workers.split(",") if args.workers else [""])]
    rungs = [r for r in ladder(bench) if r.family in families
             and (args.max_size is None or r.size <= args.max_size)
             and r.size >= args.min_size]
    lines = [HEADER, RULE]
    print("\n".join(lines), flush=True)
    notes: list[str] = []
    rejected: set[tuple[str, str | None]] = set()
    stopped: set[str] = set()
    disagree = 0
    for size in sorted({r.size for r in rungs}):
        for rung in (r for r in rungs if r.size == size and r.family not in stopped):
            largest = 0
            for variant in variants:
                mine: list[Result] = []
                for engine, workers in configs:
                    if (engine, workers) in rejected:
                        continue
                    runs = [run_migcheck(bench, rung, variant, engine, workers,
                                         args.migcheck_arg, args.timeout)
                            for _ in range(args.repeat)]
                    if runs[0].note.startswith("rejected"):
                        rejected.add((engine, workers))
                        notes.append(f"{runs[0].tool} skipped: {runs[0].note}")
                        continue
                    mine.append(best(runs))
                expected = next((m.states for m in mine if m.complete), None)
                spins = [best([run_spin(bench, rung, variant, reduce, expected, args.timeout)
                               for _ in range(args.repeat)])
                         for reduce in ((False,) if args.no_reduce_only else (False, True))]
                base = spins[0]
                spin_total = statistics.median(base.totals) if base.totals else None
                for r in [*spins, *mine]:
                    line = row(rung, variant, r, spin_total)
                    lines.append(line)
                    print(line, flush=True)
                    largest = max(largest, r.states or 0)
                for m in mine:
                    if m.complete and base.complete and m.states != base.states:
                        disagree += 1
                        msg = (f"DISAGREEMENT {rung.family} {variant} size {rung.size}: "
                               f"{m.tool} {m.states:,} states, SPIN -DNOREDUCE {base.states:,}")
                        notes.append(msg)
                        print(msg, file=sys.stderr, flush=True)
                    if (m.verdict == "verified") != (base.verdict == "verified") and \
                            m.states is not None and base.states is not None:
                        notes.append(f"verdicts differ {rung.family} {variant} size {rung.size}: "
                                     f"{m.tool} {m.verdict}, SPIN {base.verdict}")
                if all(r.states is None for r in [*spins, *mine]):
                    largest = args.max_states + 1  # nothing finished: climb no further
            if largest > args.max_states:
                stopped.add(rung.family)
    for note in notes:
        print(f"\n{note}", end="")
    print()
    if args.markdown:
        args.markdown.write_text("\n".join([*lines, "", *notes]) + "\n", encoding="utf-8")
    return 1 if disagree else 0


if __name__ == "__main__":
    sys.exit(main())

"""Symmetry reduction against SPIN with POR: states and time to verdict.

For each case, interleaved in one run (so the machine's load hits every
tool alike): migcheck on the plain roster, migcheck with the identical
threads declared `symmetric`, optionally migcheck `--por` on the plain
roster, SPIN with partial-order reduction and SPIN `-DNOREDUCE` (for
reference). All migcheck runs pass `--no-livelock` (the livelock and
fairness passes run unreduced, README "Symmetry reduction").

Cases:

* the peer-benchmark families of `../shared/bench` that have identical
  threads, up their size ladders: `movable` (its compactors take no
  argument), `balloon` (its deflate threads take no argument; its
  compactors each get their own pages, so they are not interchangeable),
  `abba` (ascending and descending threads). Every group of `run T(ARGS);`
  lines of a roster with the same kind and the same argument text becomes
  one `run T(ARGS) * N symmetric;` in a temporary copy of the spec
  (`symmetric()`). SPIN runs `gen.py`'s Promela of the same rung.
* spec scenarios with one thread run three times in place of once
  (`tripled()`: `run T(ARGS) * 3;` plain, `* 3 symmetric` reduced). SPIN
  runs `migcheck export --promela` of the plain copy (the export ignores
  `symmetric`); the export's time is not counted, as gen.py's is not.

Times are to the verdict with all costs: the whole `migcheck check`
process; SPIN's `spin -a` + `gcc -O2` + `pan` (`vs_spin_ladder.spin_on`).
The verdicts of all tools must agree (verified or a violation), and a
complete migcheck search must store as many states as SPIN -DNOREDUCE;
otherwise a DISAGREEMENT line and exit status 1.

    PYTHONPATH=. .venv/bin/python benchmarks/vs_spin_symmetry.py [--bench ../shared/bench]
        [--only "movable correct 6,abba"] [--por] [--no-noreduce] [--repeat 1]
        [--timeout 600] [--markdown FILE]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from vs_spin_ladder import (  # noqa: E402
    Result,
    Rung,
    best,
    ladder,
    migcheck_on,
    run_spin,
    spin_on,
)

from checker.backends.spin import missing_tools  # noqa: E402

MEMORY = ["--max-memory", "4000"]
RUN = re.compile(r"run (\w+)\((.*?)\);")
ROSTER = re.compile(r"(scenario \w+ \{[^{}]*?)((?:\s*run \w+\(.*?\);)+)([^{}]*\})")


def symmetric(text: str) -> str:
    """Each scenario's `run T(ARGS);` lines of one kind and one argument text,
    as one `run T(ARGS) * N symmetric;` item (N >= 2), in order of first
    appearance; single runs stay as they are."""
    def roster(m: re.Match[str]) -> str:
        runs = RUN.findall(m.group(2))
        items = []
        for kind, args in dict.fromkeys(runs):
            n = runs.count((kind, args))
            items.append(f"run {kind}({args}) * {n} symmetric;" if n > 1
                         else f"run {kind}({args});")
        return m.group(1) + " " + " ".join(items) + m.group(3)

    return ROSTER.sub(roster, text)


def tripled(text: str, scenario: str, kind: str, sym: bool) -> str:
    """The scenario's first `run KIND(...);` as `run KIND(...) * 3[ symmetric];`."""
    start = text.index(f"scenario {scenario} {{")
    end = text.index("}", start)
    m = next(m for m in RUN.finditer(text, start, end) if m[1] == kind)
    item = f"run {kind}({m[2]}) * 3{' symmetric' if sym else ''};"
    return text[:m.start()] + item + text[m.end():]


@dataclass(frozen=True)
class Case:
    """One instance: a bench rung (`rung` set) or a spec scenario."""

    label: str
    plain: Path
    reduced: Path
    scenario: str
    defines: tuple[str, ...]
    rung: Rung | None = None
    variant: str = "correct"
    include: tuple[str, ...] = ()  # -I DIR: the original spec's directory


# Bench cases: (family, rung, variant); the rungs with three or more identical threads.
BENCH = [("movable", 4, "correct"), ("movable", 5, "buggy"), ("movable", 5, "correct"),
         ("movable", 6, "correct"),
         ("balloon", 5, "buggy"), ("balloon", 5, "correct"),
         ("abba", 2, "correct"), ("abba", 4, "buggy"), ("abba", 4, "correct"),
         ("abba", 5, "correct")]
# Spec cases: (spec, scenario, the thread kind run three times, or None: the
# scenario as written, its identical runs declared symmetric).
SPECS: list[tuple[str, str, str | None]] = [
    ("specs/zsmalloc/isolation_wide.mig", "fixed_one_zspage_8_threads", None),
    ("specs/zsmalloc/isolation_wide.mig", "fixed_2_zspages", "compactor")]
# Not here: specs/balloon/balloon_compaction.mig two_compactors_one_page with
# three compactors: gcc -O2 on its Promela export ran past 13 minutes.


def cases(bench: Path, tmp: Path) -> list[Case]:
    rungs = {(r.family, r.size): r for r in ladder(bench)}
    out: list[Case] = []
    for family in dict.fromkeys(f for f, _, _ in BENCH):
        (tmp / "sym").mkdir(exist_ok=True)
        (tmp / "sym" / f"{family}.mig").write_text(symmetric((bench / f"{family}.mig")
                                                             .read_text()))
    for family, size, variant in BENCH:
        rung = rungs[(family, size)]
        out.append(Case(f"{family} {variant} {rung.label()}", bench / f"{family}.mig",
                        tmp / "sym" / f"{family}.mig", rung.scenario(variant),
                        tuple(rung.defines()), rung, variant))
    for spec, scenario, kind in SPECS:
        text = (ROOT / spec).read_text()
        stem = f"{Path(spec).stem}_{scenario}"
        plain, reduced = tmp / f"{stem}.mig", tmp / f"{stem}_sym.mig"
        if kind is None:
            plain.write_text(text)
            reduced.write_text(symmetric(text))
        else:
            plain.write_text(tripled(text, scenario, kind, False))
            reduced.write_text(tripled(text, scenario, kind, True))
        label = f"{spec}:{scenario}" + (f", {kind} x3" if kind else "")
        out.append(Case(label, plain, reduced, scenario, (),
                        include=("-I", str((ROOT / spec).parent))))
    return out


def spin(case: Case, bench: Path, reduce: bool, expected: int | None,
         timeout: float) -> Result:
    if case.rung is not None:
        return run_spin(bench, case.rung, case.variant, reduce, expected, timeout)
    argv = [sys.executable, "-m", "checker", "export", "--promela", str(case.plain),
            "-s", case.scenario, *case.include,
            *[a for d in case.defines for a in ("-D", d)]]
    r = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, check=False)
    if r.returncode != 0:
        res = Result("SPIN, POR" if reduce else "SPIN -DNOREDUCE")
        res.note = f"export failed: {r.stderr.strip()[-80:]}"
        return res
    return spin_on(r.stdout, reduce, expected, timeout)


def migcheck(case: Case, kind: str, timeout: float) -> Result:
    spec = case.reduced if kind == "symmetric" else case.plain
    extra = [*MEMORY, *case.include, *(["--por"] if kind == "por" else [])]
    res = migcheck_on(spec, case.scenario, case.defines, "explicit", None, extra, timeout)
    res.tool = {"plain": "migcheck", "symmetric": "migcheck symmetric",
                "por": "migcheck --por"}[kind]
    return res


def agree(a: Result, b: Result) -> bool:
    return (a.verdict == "verified") == (b.verdict == "verified")


HEADER = ("| instance | tool | verdict | states | to verdict s | search s | states / symmetric "
          "| symmetric s / this s |")
RULE = "|---|---|---|---:|---:|---:|---:|---:|"


def row(case: Case, r: Result, sym: Result) -> str:
    if r.states is None:
        return f"| {case.label} | {r.tool} | {r.note} | - | - | - | - | - |"
    total = statistics.median(r.totals) if r.totals else r.total
    stotal = statistics.median(sym.totals) if sym.totals else sym.total
    ratio = f"{r.states / sym.states:.1f}x" if sym.states else "-"
    speed = f"{stotal / total:.2f}" if sym.states is not None and total else "-"
    return (f"| {case.label} | {r.tool} | {r.verdict} | {r.states:,} | {total:.2f} "
            f"| {r.search:.2f} | {ratio} | {speed} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench", type=Path, default=ROOT.parent / "shared" / "bench")
    ap.add_argument("--only", default="", help="run only cases whose label contains one of "
                    "these comma-separated strings")
    ap.add_argument("--por", action="store_true", help="also migcheck --por on the plain roster")
    ap.add_argument("--no-noreduce", action="store_true", help="skip SPIN -DNOREDUCE")
    ap.add_argument("--repeat", type=int, default=1, help="runs per tool and case (median)")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per process")
    ap.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = ap.parse_args()
    bench = args.bench.resolve()
    if (why := missing_tools()) is not None:
        print(f"vs_spin_symmetry: {why}", file=sys.stderr)
        return 2
    lines = [HEADER, RULE]
    print("\n".join(lines), flush=True)
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        todo = [c for c in cases(bench, tmp)
                if not args.only or any(s in c.label for s in args.only.split(","))]
        # The VM's compiled code is cached on disk: one unmeasured run of the
        # smallest case first, so that no measured run pays numba's compile.
        for kind in ("plain", "symmetric"):
            migcheck(todo[0], kind, args.timeout)
        kinds = ["plain", "symmetric", *(["por"] if args.por else [])]
        for case in todo:
            mine = {k: best([migcheck(case, k, args.timeout) for _ in range(args.repeat)])
                    for k in kinds}
            expected = mine["plain"].states if mine["plain"].complete else None
            spins = [best([spin(case, bench, reduce, expected, args.timeout)
                           for _ in range(args.repeat)])
                     for reduce in ((True,) if args.no_noreduce else (True, False))]
            sym = mine["symmetric"]
            for r in [*spins, *mine.values()]:
                line = row(case, r, sym)
                lines.append(line)
                print(line, flush=True)
            done = [r for r in [*spins, *mine.values()] if r.states is not None]
            if any(not agree(r, done[0]) for r in done):
                notes.append(f"DISAGREEMENT {case.label}: verdicts "
                             + ", ".join(f"{r.tool} {r.verdict}" for r in done))
            noreduce = next((s for s in spins if s.tool == "SPIN -DNOREDUCE"), None)
            plain = mine["plain"]
            if noreduce and noreduce.complete and plain.complete \
                    and noreduce.states != plain.states:
                notes.append(f"DISAGREEMENT {case.label}: migcheck {plain.states:,} states, "
                             f"SPIN -DNOREDUCE {noreduce.states:,}")
    for note in notes:
        print(note, file=sys.stderr)
    if args.markdown:
        args.markdown.write_text("\n".join([*lines, "", *notes]) + "\n", encoding="utf-8")
    return 1 if notes else 0


if __name__ == "__main__":
    sys.exit(main())

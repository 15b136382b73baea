"""The JIT tier of the VM (`--engine jit`) against the interpreter (`--engine vm`).

For each instance: the JIT's compile cost in CPU seconds, cold (IR
emission, LLVM, the object written to an empty cache) and from the cache
(IR emission, the object read and linked), as a new process pays them; then
the search of both engines, interleaved round by round in this process:
the kernel's CPU seconds (the search proper, through `vm_bfs`'s kernel
hook) and the whole `check`'s (the Python engine's compile and the rare
events included), with states per CPU second of the kernel. Medians of
`--repeat` rounds. Last, `expand` alone, both engines on the same stored
states (the second half of the store), in CPU nanoseconds per state. The machine is shared, so CPU time, not wall time.

Instances: the peer benchmark's zsmalloc family (`../shared/bench`,
`correct_R4F1M3` at K=3, O=2: 1.14 M states) and
`specs/zsmalloc/migration.mig`'s `frees_vs_two_compactors` (1.85 M).

    PYTHONPATH=. .venv/bin/python benchmarks/vm_jit.py [--repeat 3] [--bench DIR]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from checker.dsl.loader import load_program
from checker.explore.options import CheckOptions
from checker.explore.run import Search, check
from checker.ir.build import build_all
from checker.ir.nodes import TransitionSystem
from checker.vm import kernel, llvm_jit, llvm_kernel, machine
from checker.vm.jit import njit
from checker.vm.layout import Words
from checker.vm.machine import Machine
from checker.vm.program import Program, compile_program
from checker.vm.search import vm_bfs

ROOT = Path(__file__).resolve().parent.parent


def instances(bench: Path) -> list[tuple[str, TransitionSystem]]:
    zs = build_all(load_program(bench / "zsmalloc.mig"), {"K": 3, "O": 2},
                   only=["correct_R4F1M3"])[0]
    frees = next(ts for ts in build_all(load_program(ROOT / "specs" / "zsmalloc" / "migration.mig",
                                                     [ROOT / "models"]))
                 if ts.scenario == "frees_vs_two_compactors")
    return [("zsmalloc.mig correct_R4F1M3 K=3 O=2", zs),
            ("migration.mig frees_vs_two_compactors", frees)]


def compile_costs(prog: Program) -> tuple[float, float]:
    """CPU seconds of a cold compile and of a load from the cache."""
    saved = llvm_jit.object_dir
    with tempfile.TemporaryDirectory() as tmp:
        llvm_jit.object_dir = lambda: Path(tmp) / "jit"  # in a private directory
        try:
            t = time.process_time()
            assert not llvm_jit.load_ir(llvm_jit.ir_of(prog)).cached
            cold = time.process_time() - t
            t = time.process_time()
            assert llvm_jit.load_ir(llvm_jit.ir_of(prog)).cached
            return cold, time.process_time() - t
        finally:
            llvm_jit.object_dir = saved


class Timed:
    """A kernel whose calls add up their CPU time (and keep their arguments:
    the store, for `expand_costs`)."""

    def __init__(self, search: Callable[..., int]):
        self.search = search
        self.seconds = 0.0
        self.args: tuple[Any, ...] = ()

    def __call__(self, *args: Any) -> int:
        self.args = args
        t = time.process_time()
        try:
            return self.search(*args)
        finally:
            self.seconds += time.process_time() - t


@njit
def _expand_all(expand: Any, code: Words, prog: tuple[Words, ...], states: Words,
                m: tuple[Words, ...]) -> int:
    total = 0
    for i in range(states.shape[0]):
        k, nf = expand(code, *prog, states[i], *m)
        total += k + nf
    return total


def expand_costs(prog: Program, store: Words, n: int) -> tuple[float, float, float]:
    """CPU nanoseconds per expansion of stored states, the interpreter's and
    the JIT's (the same successors and faults), and the share of the store
    used (its states n/2 .. n: away from the initial state's few actions)."""
    m = Machine(prog)
    states = np.ascontiguousarray(store[n // 2: n])
    bufs = (m.out, m.out_act, m.faults, m.bufs, m.regs, m.pend)
    tables = (prog.slots, prog.pcs, prog.pcact, prog.acts, prog.aux)
    costs = []
    totals = set()
    for fn, code in ((machine.expand, prog.code),
                     (llvm_kernel.expand, llvm_jit.compile_program_code(prog).addrs)):
        _expand_all(fn, code, tables, states[:10], bufs)  # compiled before timing
        t = time.process_time()
        totals.add(_expand_all(fn, code, tables, states, bufs))
        costs.append((time.process_time() - t) / len(states) * 1e9)
    assert len(totals) == 1
    return costs[0], costs[1], len(states)


def engine(name: str, timed: Timed) -> Search:
    def kernel_of(prog: Program) -> tuple[Callable[..., int], Words]:
        if name == "jit":
            return timed, llvm_jit.compile_program_code(prog).addrs
        return timed, prog.code

    return partial(vm_bfs, kernel=kernel_of)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--bench", type=Path, default=ROOT.parent / "shared" / "bench")
    args = ap.parse_args()
    rows = []
    notes: list[str] = []
    for label, ts in instances(args.bench):
        prog = compile_program(ts)
        cold, cached = compile_costs(prog)
        llvm_jit.compile_program_code(prog)  # loaded once, as a new process would
        runs: dict[str, list[tuple[float, float, int]]] = {"vm": [], "jit": []}
        for _ in range(args.repeat):
            for name in runs:
                timed = Timed(llvm_kernel.search if name == "jit" else kernel.search)
                t = time.process_time()
                r = check(ts, CheckOptions().livelock(False), engine=engine(name, timed))
                runs[name].append((timed.seconds, time.process_time() - t, r.stats.states))
                kept = timed
        vm_ns, jit_ns, count = expand_costs(prog, kept.args[6], int(kept.args[10][kernel.SC_N]))
        notes.append(f"{label}: expand alone, {count:,} stored states: vm {vm_ns:.0f} ns, "
                     f"jit {jit_ns:.0f} ns per state ({vm_ns / jit_ns:.1f}x)")
        for name, got in runs.items():
            states = got[0][2]
            assert all(s == states for _, _, s in got)
            search = statistics.median(s for s, _, _ in got)
            whole = statistics.median(w for _, w, _ in got)
            comp = f"{cold:.2f} / {cached:.3f}" if name == "jit" else "-"
            rows.append(f"| {label} | {states:,} | {name} | {comp} | {search:.2f} | "
                        f"{states / search / 1e6:.2f} M | {whole:.2f} |")
    print("| instance | states | engine | compile cold / cached CPU s | search CPU s | "
          "states per CPU s | check CPU s |")
    print("|---|---:|---|---:|---:|---:|---:|")
    print("\n".join(rows))
    print()
    print("\n".join(notes))


if __name__ == "__main__":
    main()

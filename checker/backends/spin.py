"""Running SPIN on an export: `spin -a`, the C compiler, `pan`, and reading
what pan prints.

`pan` is compiled once per model; several small models can share one
compilation (`batch`): each is exported with a name prefix and a guard
`mc_prog == i`, and a selector process sets `mc_prog` from the environment
variable `MC_PICK` when pan starts (embedded C), so each run of the same
`pan` explores one model only. The selector's step adds one state and one
transition to each model's figures (`BATCH_EXTRA_STATES`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from checker.backends.promela import PromelaModel

# A batched model: the initial state before the selector's step is one more
# state, and that step one more transition.
BATCH_EXTRA_STATES = 1
BATCH_EXTRA_TRANSITIONS = 1


def missing_tools() -> str | None:
    """Why SPIN cannot run here, or None."""
    if shutil.which("spin") is None:
        return "spin is not installed (Debian package 'spin')"
    if shutil.which("gcc") is None and shutil.which("cc") is None:
        return "no C compiler (gcc) to build pan"
    return None


def c_compiler(fast: bool) -> str:
    """tcc when `fast` and installed (it builds pan in a tenth of a second,
    gcc -O0 in one to ten; the tests build hundreds), else gcc."""
    if fast and shutil.which("tcc"):
        return "tcc"
    return shutil.which("gcc") or shutil.which("cc") or "gcc"


class SpinError(Exception):
    """spin or the C compiler rejected a model (a bug in the export)."""


@dataclass
class Pan:
    """A compiled verifier."""

    workdir: Path
    pml: Path
    binary: Path
    spin_seconds: float
    cc_seconds: float


@dataclass
class PanRun:
    """What one pan run printed, parsed."""

    states: int = 0
    transitions: int = 0
    depth: int = 0
    errors: int = 0
    error: str = ""  # the first error line ("assertion violated ...", "invalid end state")
    memory_mb: float = 0.0
    seconds: float = 0.0  # wall clock of the pan process
    vector_bytes: int = 0
    complete: bool = True
    output: str = ""

    @property
    def states_per_second(self) -> float:
        return self.states / self.seconds if self.seconds > 0 else 0.0


def compile_pan(text: str, workdir: Path, name: str = "model", reduce: bool = False,
                optimize: str | None = None, defines: Sequence[str] = (),
                vector_bytes: int = 0) -> Pan:
    """Write the model, run `spin -a -o2` and compile pan (partial-order
    reduction off unless `reduce`). `optimize` ("-O2"): gcc with that flag;
    None: the fastest compiler at hand (tcc, else gcc -O0)."""
    workdir.mkdir(parents=True, exist_ok=True)
    pml = workdir / f"{name}.pml"
    pml.write_text(text, encoding="utf-8")
    t0 = time.perf_counter()
    # -o2: keep variables that are written but never read (a dead local), so
    # that pan's state is migcheck's state.
    r = subprocess.run(["spin", "-a", "-o2", pml.name], cwd=workdir, capture_output=True,
                       text=True, check=False)
    t1 = time.perf_counter()
    if r.returncode != 0 or not (workdir / "pan.c").exists():
        raise SpinError(f"spin -a -o2 {pml}: {r.stdout}{r.stderr}")
    cc = c_compiler(fast=optimize is None)
    flags = [optimize or "-O0", "-w", "-DSAFETY"] if cc != "tcc" else ["-w", "-DSAFETY"]
    if not reduce:
        flags.append("-DNOREDUCE")
    if vector_bytes > 1024:
        flags.append(f"-DVECTORSZ={vector_bytes * 2}")
    flags += [f"-D{d}" for d in defines]
    binary = workdir / f"pan_{name}"
    r = subprocess.run([cc, *flags, "-o", binary.name, "pan.c"], cwd=workdir,
                       capture_output=True, text=True, check=False)
    t2 = time.perf_counter()
    if r.returncode != 0:
        raise SpinError(f"compiling pan for {pml}: {r.stdout}{r.stderr}")
    return Pan(workdir, pml, binary, t1 - t0, t2 - t1)


def run_pan(pan: Pan, args: Sequence[str] = (), pick: int | None = None,
            timeout: float | None = None, max_depth: int = 200_000) -> PanRun:
    """Run pan, its depth limit raised (a search that reaches it is reported
    incomplete)."""
    env = dict(os.environ)
    if pick is not None:
        env["MC_PICK"] = str(pick)
    for old in pan.workdir.glob(f"{pan.pml.name}*.trail"):
        old.unlink()
    argv = [f"./{pan.binary.name}", f"-m{max_depth}", *args]
    t0 = time.perf_counter()
    r = subprocess.run(argv, cwd=pan.workdir, capture_output=True, text=True, env=env,
                       timeout=timeout, check=False)
    run = parse_pan(r.stdout + r.stderr)
    run.seconds = time.perf_counter() - t0
    return run


_NUM = r"([0-9][0-9.e+]*)"


def parse_pan(out: str) -> PanRun:
    run = PanRun(output=out)
    for line in out.splitlines():
        s = line.strip()
        if m := re.match(r"State-vector (\d+) byte, depth reached (\d+), errors: (\d+)", s):
            run.vector_bytes, run.depth, run.errors = (int(m[1]), int(m[2]), int(m[3]))
        elif m := re.match(_NUM + r" states, stored", s):
            run.states = int(float(m[1]))
        elif m := re.match(_NUM + r" transitions \(= stored\+matched\)", s):
            run.transitions = int(float(m[1]))
        elif m := re.match(_NUM + r"\s+total actual memory usage", s):
            run.memory_mb = float(m[1])
        elif (m := re.match(r"pan:\d+: (.*?)(?: \(at depth \d+\))?$", s)) and not run.error:
            run.error = m[1]
        if ("max search depth too small" in s or "out of memory" in s
                or "Search not completed" in s):
            run.complete = False
    return run


@dataclass
class TrailStep:
    depth: int
    line: int


@dataclass
class Replay:
    """A trail as `pan -r` prints it: the steps, and the error at the end."""

    steps: list[TrailStep] = field(default_factory=list)
    error: str = ""


_STEP = re.compile(r"^\s*(\d+):\s+proc\s+\d+\s+\(([^)]*)\)\s+(\S+?):(\d+)\s.*?"
                   r"(?:\[D_STEP(\d+)\])?\s*$")


def replay_trail(pan: Pan, pick: int | None = None, trail: str | None = None) -> Replay:
    """Read back the trail pan wrote (the last run's), step by step."""
    env = dict(os.environ)
    if pick is not None:
        env["MC_PICK"] = str(pick)
    args = [f"./{pan.binary.name}", "-r"] + ([trail] if trail else [])
    r = subprocess.run(args, cwd=pan.workdir, capture_output=True, text=True, env=env,
                       check=False)
    out = Replay()
    for line in (r.stdout + r.stderr).splitlines():
        if line.startswith("#processes") or "trail ends after" in line:
            break  # the end state follows: where each process stands
        if m := _STEP.match(line):
            # a d_step is printed at its process's location; its own line follows
            lineno = int(m[5]) if m[5] else int(m[4])
            out.steps.append(TrailStep(int(m[1]), lineno))
        elif (m := re.match(r"pan:\d+: (.*?)(?: \(at depth \d+\))?$", line.strip())) and \
                not out.error:
            out.error = m[1]
    return out


# ---------------------------------------------------------------- batches


@dataclass
class Batch:
    """Several exports in one file; model i starts at line `offsets[i]`."""

    text: str
    models: list[PromelaModel]
    offsets: list[int]
    selector_lines: set[int]


SELECTOR_HEAD = """\
/* Several models in one file: pan explores the one MC_PICK names. */
c_decl {
    \\#include <stdlib.h>
    \\#define MC_PICKED mc_picked()
    static int mc_pick = -1;
    static int mc_picked(void) {
        if (mc_pick < 0) { char *e = getenv("MC_PICK"); mc_pick = e ? atoi(e) : 0; }
        return mc_pick;
    }
}
byte mc_prog = 0;
"""


def batch(models: Sequence[PromelaModel]) -> Batch:
    """One file holding `models`, which were exported with
    `prefix=f"P{i}_"` and `enable=f"mc_prog == {i}"` for i = 1, 2, ..."""
    lines = SELECTOR_HEAD.splitlines()
    offsets = []
    for m in models:
        offsets.append(len(lines))
        lines += m.text.splitlines()
    lines += ["", "active proctype mc_select() {", "end_select:", "    if"]
    selector = set()
    for i, m in enumerate(models, 1):
        check = f"; {m.initial_check}" if m.initial_check else ""
        lines.append(f"    :: d_step {{ c_expr {{ MC_PICKED == {i} }} -> mc_prog = {i}{check} }}")
        selector.add(len(lines))
    lines += ["    fi;", "end_selected:", "    false", "}"]
    return Batch("\n".join(lines) + "\n", list(models), offsets, selector)

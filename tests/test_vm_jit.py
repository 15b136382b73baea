"""The JIT engine (checker/vm/llvm_*) against the interpreter it compiles.

Per state: on reachable states of every spec scenario and of random
programs, the compiled `expand` gives exactly the interpreter's successors
(their words), actions, faults with their codes and covers, and the compiled
predicates the interpreter's answers; a check left out of the IR is caught.
Per search: the figures of the Python engine (as `tests/test_vm.py` asks of
the VM), the livelock graph, the limits, the command line. And the object
cache: a second compile of the same IR loads the object file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings

from checker.explore.codegen import compile_system
from checker.explore.options import CheckOptions
from checker.explore.run import check
from checker.ir.nodes import TransitionSystem
from checker.vm import llvm_emit, llvm_jit, llvm_kernel
from checker.vm import opcodes as op
from checker.vm.layout import Words
from checker.vm.llvm_search import jit_bfs
from checker.vm.machine import Machine
from checker.vm.program import META_FIN, META_INV, Program, compile_program
from tests.conftest import ROOT
from tests.heap_programs import arith_programs, heap_programs
from tests.programs import programs
from tests.test_vm import (
    EXPAND_CAP,
    NULL_DEREF,
    SEARCH_CAP,
    SETTINGS,
    SPECS,
    SPINNING,
    WIDE,
    _build,
    _figures,
    _scenarios,
)

FEW = settings(SETTINGS, max_examples=15)

Expansion = tuple[list[bytes], list[int], list[tuple[int, int]], bytes]


class _Jit:
    """The compiled program behind `Machine`'s interface, through the same
    shims (`llvm_kernel.expand`, `predicate`) the JIT kernel calls."""

    def __init__(self, prog: Program):
        self.p = prog
        self.m = Machine(prog)  # buffers of the right shapes
        self.addrs = llvm_jit.compile_program_code(prog).addrs

    def expand(self, state: Words) -> Expansion:
        p, m = self.p, self.m
        m.pend[:] = 0
        k, nf = llvm_kernel.expand(self.addrs, p.slots, p.pcs, p.pcact, p.acts, p.aux, state,
                                   m.out, m.out_act, m.faults, m.bufs, m.regs, m.pend)
        return ([m.out[i].tobytes() for i in range(k)], m.out_act[:k].tolist(),
                [(int(a), int(c)) for a, c in m.faults[:nf]], m.pend.tobytes())

    def predicate(self, entry: int, state: Words) -> int:
        p, m = self.p, self.m
        return int(llvm_kernel.predicate(self.addrs, p.slots, p.aux, entry, state, m.bufs,
                                         m.regs, m.pend))


def _interpreted(m: Machine, state: Words) -> tuple[Expansion, list[Words]]:
    m.pend[:] = 0
    succ, acts, faults = m.expand(state)
    return ([s.tobytes() for s in succ], acts, faults, m.pend.tobytes()), succ


def jit_mismatches(ts: TransitionSystem, cap: int) -> list[str]:
    """Breadth-first over up to `cap` states the interpreter reaches: where
    the compiled code and the interpreter disagree."""
    c = compile_system(ts)
    prog = compile_program(ts, c.packing)
    m, jit = Machine(prog), _Jit(prog)
    entries = [int(prog.meta[k]) for k in (META_INV, META_FIN) if prog.meta[k] >= 0]
    first = prog.layout.words_of(c.initial)
    seen = {first.tobytes()}
    todo = [first]
    bad: list[str] = []
    while todo and len(seen) < cap and len(bad) < 5:
        s = todo.pop(0)
        want, succ = _interpreted(m, s)
        got = jit.expand(s)
        if got != want:
            bad.append(f"state {s.tolist()}: expand {got[1:]} != {want[1:]}")
        for e in entries:
            if jit.predicate(e, s) != m.predicate(e, s):
                bad.append(f"state {s.tolist()}: predicate {e}")
        for t in succ:
            if t.tobytes() not in seen:
                seen.add(t.tobytes())
                todo.append(t)
    return bad


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Object files of throwaway programs in a temporary cache."""
    monkeypatch.setattr(llvm_jit, "object_dir", lambda: tmp_path / "jit")
    return tmp_path / "jit"


# ---------------------------------------------------------------- per state


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_jit_expands_every_spec_scenario_as_the_interpreter(spec: Path) -> None:
    for ts in _scenarios(spec):
        assert jit_mismatches(ts, EXPAND_CAP) == [], ts.scenario


@SETTINGS
@given(programs())
def test_jit_expands_random_programs(own_cache: Path, tmp_path: Path, text: str) -> None:
    assert jit_mismatches(_build(tmp_path, text), 2000) == [], text


@SETTINGS
@given(heap_programs())
def test_jit_expands_heap_programs(own_cache: Path, tmp_path: Path, text: str) -> None:
    assert jit_mismatches(_build(tmp_path, text), 2000) == [], text


@SETTINGS
@given(arith_programs())
def test_jit_expands_range_fault_programs(own_cache: Path, tmp_path: Path, text: str) -> None:
    assert jit_mismatches(_build(tmp_path, text), 2000) == [], text


def test_a_missing_null_check_is_caught(own_cache: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    ts = _build(tmp_path, NULL_DEREF)
    assert jit_mismatches(ts, 100) == []
    real = llvm_emit._Routine.fail_if

    def fail_if(self: llvm_emit._Routine, cond: str, status: int) -> None:
        if status != op.NULL_REF:
            real(self, cond, status)

    monkeypatch.setattr(llvm_emit._Routine, "fail_if", fail_if)
    assert jit_mismatches(ts, 100) != []


# ---------------------------------------------------------------- per search


def same_search(ts: TransitionSystem, opts: CheckOptions) -> None:
    want = _figures(check(ts, opts))
    got = _figures(check(ts, opts, engine=jit_bfs))
    assert got == want, ts.scenario


@pytest.mark.parametrize("spec", ["shapes/lost_wakeup.mig", "zsmalloc/isolation_wide.mig",
                                  "zsmalloc/migration.mig"])
def test_jit_search_agrees(spec: str) -> None:
    for ts in _scenarios(ROOT / "specs" / spec):
        same_search(ts, CheckOptions().max_states(SEARCH_CAP))


@FEW
@given(programs())
def test_jit_search_agrees_on_random_programs(own_cache: Path, tmp_path: Path, text: str) -> None:
    same_search(_build(tmp_path, text), CheckOptions())


@FEW
@given(heap_programs())
def test_jit_search_agrees_on_heap_programs(own_cache: Path, tmp_path: Path, text: str) -> None:
    same_search(_build(tmp_path, text), CheckOptions())


@FEW
@given(arith_programs())
def test_jit_search_agrees_on_range_fault_programs(own_cache: Path, tmp_path: Path,
                                                   text: str) -> None:
    same_search(_build(tmp_path, text), CheckOptions())


def test_the_livelock_pass_sees_the_jit_graph(own_cache: Path, tmp_path: Path) -> None:
    spinning = _build(tmp_path, SPINNING)
    same_search(spinning, CheckOptions())
    r = check(spinning, CheckOptions(), engine=jit_bfs)
    assert r.violation is not None and r.violation.cycle


def test_limits_never_yield_verified() -> None:
    ts = _scenarios(ROOT / "specs" / "zsmalloc" / "isolation_wide.mig")[5]
    for opts in (CheckOptions().max_memory(1), CheckOptions().max_states(100)):
        r = check(ts, opts, engine=jit_bfs)
        assert r.verdict == "incomplete" and r.limit is not None


def test_cli_engine_jit(own_cache: Path, tmp_path: Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    from checker.cli import main

    spec = ROOT / "specs" / "shapes" / "lost_wakeup.mig"
    lines = []
    for engine in ("explicit", "jit"):
        assert main(["check", str(spec), "--engine", engine, "-q", "--no-save"]) == 0
        text = capsys.readouterr().out
        lines.append([line.split(", ")[:3] for line in text.splitlines() if "states," in line])
    assert lines[0] == lines[1] and lines[0]
    assert main(["check", str(spec), "--engine", "jit", "--dfs"]) == 2
    path = tmp_path / "wide.mig"
    path.write_text(WIDE)
    assert main(["check", str(path), "--engine", "jit", "--no-save"]) == 0
    assert "the jit engine cannot run it" in capsys.readouterr().err


# ---------------------------------------------------------------- the caches


def test_one_cached_kernel_serves_every_scenario(own_cache: Path, tmp_path: Path) -> None:
    # The entry points are arguments, not constants of the kernel's code:
    # two programs, one compiled kernel, cached on disk by numba.
    for text in (NULL_DEREF, SPINNING):
        check(_build(tmp_path, text), CheckOptions(), engine=jit_bfs)
    assert len(llvm_kernel.search.signatures) == 1
    assert list(llvm_kernel._own_cache().rglob("kernel.llvm_search-*.nbi"))



def test_a_second_compile_loads_the_cached_object(own_cache: Path, tmp_path: Path) -> None:
    ts = _build(tmp_path, NULL_DEREF)
    prog = compile_program(ts)
    ir = llvm_jit.ir_of(prog) + f"\n; {tmp_path}\n"  # an IR no earlier test compiled
    cold = llvm_jit.load_ir(ir)
    assert not cold.cached
    assert [p.suffix for p in own_cache.iterdir()] == [".obj"]  # no temporary file left
    warm = llvm_jit.load_ir(ir)
    assert warm.cached
    state = prog.layout.words_of(compile_system(ts).initial)
    succ, _, faults = Machine(prog).expand(state)
    want = (len(succ), len(faults), [list(f) for f in faults])
    assert want[1] == 1  # the null dereference
    for code in (cold, warm):
        m = Machine(prog)
        k, nf = llvm_kernel.expand(code.addrs, prog.slots, prog.pcs, prog.pcact, prog.acts,
                                   prog.aux, state, m.out, m.out_act, m.faults, m.bufs, m.regs,
                                   m.pend)
        assert (k, nf, m.faults[:nf].tolist()) == want

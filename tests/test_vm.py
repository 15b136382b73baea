"""The VM engine (checker/vm) against the Python engine (codegen + bfs).

Two levels. Per state: on reachable states of every spec scenario and of
random programs, the machine's expansion gives the same successors of the
same actions in the same order as the generated step functions, and it
never misses a fault (it reports one for each action whose step raises;
beyond those it may decline an action it cannot decide, an escape, which
sends the state to the Python engine). Per search: the same verdict,
states, transitions, depth, violation (kind, property, trace length),
other violations, executed actions and covers.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from checker.dsl.loader import load_program
from checker.explore.codegen import Compiled, compile_system
from checker.explore.options import CheckOptions
from checker.explore.result import CheckResult
from checker.explore.run import check
from checker.ir.build import build_all
from checker.ir.interp import Fault
from checker.ir.nodes import TransitionSystem
from checker.kinds import Check, ViolationKind
from checker.vm import opcodes as op
from checker.vm import program as vm_program
from checker.vm.machine import Machine
from checker.vm.program import compile_program
from checker.vm.search import vm_bfs
from tests.conftest import ROOT
from tests.heap_programs import arith_programs, heap_programs
from tests.programs import programs

SPECS = sorted((ROOT / "specs").rglob("*.mig"))
EXPAND_CAP = 400  # reachable states per scenario in the per-state comparison
SEARCH_CAP = 3000  # --max-states of the whole-search comparison
SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

_KIND_OF_CODE = {code: check.rule.kind for check, code in op.CHECK_CODES.items()}


@functools.cache
def _scenarios(spec: Path) -> list[TransitionSystem]:
    return build_all(load_program(spec, [ROOT / "models"]))


def _build(tmp_path: Path, text: str) -> TransitionSystem:
    path = tmp_path / "random.mig"
    path.write_text(text)
    return build_all(load_program(path, [ROOT / "models"]))[0]


# ---------------------------------------------------------------- per state


def expand_mismatches(ts: TransitionSystem, cap: int) -> list[str]:
    """Breadth-first over up to `cap` reachable states: where the machine
    and the generated step functions disagree."""
    c = compile_system(ts)
    m = Machine(compile_program(ts, c.packing))
    layout = m.prog.layout
    seen = {c.initial}
    todo = [c.initial]
    bad: list[str] = []
    while todo and len(seen) < cap and len(bad) < 5:
        s = todo.pop(0)
        words = layout.words_of(s)
        if layout.int_of(words) != s:
            bad.append(f"layout round trip of {s:#x}")
        succ, acts, faults = m.expand(words)
        want: list[tuple[int, int]] = []
        want_faults: dict[int, ViolationKind] = {}
        for i, th in enumerate(ts.threads):
            for a in ts.actions_at(th.id, c.pc_of(s, i)):
                try:
                    t = c.step[a.id](s)
                except Fault as f:
                    want_faults[a.id] = f.kind
                    continue
                if t is not None:
                    want.append((a.id, t))
        got_faults = dict(faults)
        for aid, kind in want_faults.items():
            code = got_faults.get(aid)
            if code is None:
                bad.append(f"state {s:#x}: action {aid} faults ({kind}), not in the machine")
            elif code != op.ESCAPE and not _same_kind(code, kind):
                bad.append(f"state {s:#x}: action {aid}: {kind}, machine code {code}")
        for aid, code in got_faults.items():
            if aid not in want_faults and code != op.ESCAPE:
                bad.append(f"state {s:#x}: action {aid}: machine fault {code}, no fault")
        got = [(a, layout.int_of(w)) for a, w in zip(acts, succ, strict=True)]
        declined = {a for a, code in got_faults.items() if code == op.ESCAPE}
        if got != [(a, t) for a, t in want if a not in declined]:
            bad.append(f"state {s:#x}: successors {got} != {want}")
        for _, t in want:
            if t not in seen:
                seen.add(t)
                todo.append(t)
    return bad


def _same_kind(code: int, kind: ViolationKind) -> bool:
    if code == op.CHECK_CODES[Check.ASSERTION]:
        return kind in (ViolationKind.ASSERT, ViolationKind.ON_EXIT)
    return _KIND_OF_CODE.get(code) == kind


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_machine_expands_every_spec_scenario_as_the_generated_code(spec: Path) -> None:
    for ts in _scenarios(spec):
        assert expand_mismatches(ts, EXPAND_CAP) == [], ts.scenario


@SETTINGS
@given(programs())
def test_machine_expands_random_programs(tmp_path: Path, text: str) -> None:
    assert expand_mismatches(_build(tmp_path, text), 2000) == [], text


@SETTINGS
@given(heap_programs())
def test_machine_expands_heap_programs(tmp_path: Path, text: str) -> None:
    assert expand_mismatches(_build(tmp_path, text), 2000) == [], text


@SETTINGS
@given(arith_programs())
def test_machine_expands_range_fault_programs(tmp_path: Path, text: str) -> None:
    assert expand_mismatches(_build(tmp_path, text), 2000) == [], text


# ---------------------------------------------------------------- per search


def _figures(r: CheckResult) -> dict[str, object]:
    v = r.violation
    c: Compiled | None = r.compiled
    return {
        "verdict": r.verdict, "limit": r.limit,
        "states": r.stats.states, "transitions": r.stats.transitions, "depth": r.stats.depth,
        "violation": None if v is None else (v.kind, v.name, v.steps, v.message,
                                             v.fault_action, len(v.cycle)),
        "others": [(o.kind, o.name, o.steps, o.message) for o in r.others],
        "fired": None if c is None else bytes(c.fired),
        "covered": None if c is None else sorted(c.runtime.covered),
        "unexecuted": [(o.span.line, o.span.column) for o in r.unexecuted],
        "uncovered": [cv.index for cv in r.uncovered],
    }


def same_search(ts: TransitionSystem, opts: CheckOptions) -> None:
    want = _figures(check(ts, opts))
    got = _figures(check(ts, opts, engine=vm_bfs))
    assert got == want, ts.scenario


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_vm_search_agrees_on_every_spec_scenario(spec: Path) -> None:
    for ts in _scenarios(spec):
        same_search(ts, CheckOptions().max_states(SEARCH_CAP))


@SETTINGS
@given(programs())
def test_vm_search_agrees_on_random_programs(tmp_path: Path, text: str) -> None:
    same_search(_build(tmp_path, text), CheckOptions())


@SETTINGS
@given(heap_programs())
def test_vm_search_agrees_on_heap_programs(tmp_path: Path, text: str) -> None:
    same_search(_build(tmp_path, text), CheckOptions())


@SETTINGS
@given(arith_programs())
def test_vm_search_agrees_on_range_fault_programs(tmp_path: Path, text: str) -> None:
    same_search(_build(tmp_path, text), CheckOptions())


# ---------------------------------------------------------------- the tests bite

NULL_DEREF = """\
struct node { int[0..3] v; };
pool struct node nodes[1];
struct node *head = null;
thread t() { head->v = 1; }
scenario s { run t(); expect null_deref; }
"""


def test_a_missing_null_check_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ts = _build(tmp_path, NULL_DEREF)
    assert expand_mismatches(ts, 100) == []
    real = vm_program._Gen.emit

    def emit(self: object, opcode: int, *args: int) -> int:
        if opcode == op.CHKREF:
            opcode, args = op.CHKIDX, (args[0], 1 << 40)  # no null check: any value passes
        return real(self, opcode, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(vm_program._Gen, "emit", emit)
    assert expand_mismatches(ts, 100) != []


# ---------------------------------------------------------------- post-passes and the CLI

SPINNING = """\
int[0..1] a = 0;
int[0..1] b = 0;
thread t1() { while (b == 0) { } a = 1; }
thread t2() { while (a == 0) { } b = 1; }
scenario s { run t1(); run t2(); expect deadlock; }
"""

WAITER = """\
int[0..1] g = 0;
thread waiter() { while (g == 0) { } }
thread setter() { g = 1; }
scenario s { run waiter(); run setter(); }
"""


def test_the_livelock_pass_sees_the_vm_graph(tmp_path: Path) -> None:
    spinning = _build(tmp_path, SPINNING)
    same_search(spinning, CheckOptions())
    r = check(spinning, CheckOptions(), engine=vm_bfs)
    assert r.violation is not None and r.violation.cycle
    assert r.violation.kind == ViolationKind.DEADLOCK
    waiter = _build(tmp_path, WAITER)
    same_search(waiter, CheckOptions())
    assert check(waiter, CheckOptions(), engine=vm_bfs).verdict == "verified"


def test_cli_engine_vm(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from checker.cli import main

    spec = ROOT / "specs" / "shapes" / "lost_wakeup.mig"
    codes = []
    outputs = []
    for engine in ("explicit", "vm"):
        codes.append(main(["check", str(spec), "--engine", engine, "-q", "--save-all", "--trace-dir",
                           str(tmp_path / engine)]))
        text = capsys.readouterr().out
        outputs.append([line.split(", ")[:3] for line in text.splitlines() if "states," in line])
        assert sorted(p.name for p in (tmp_path / engine).rglob("*.json"))
    assert codes[0] == codes[1]
    assert outputs[0] == outputs[1] and outputs[0]


WIDE = """\
int[0..1180591620717411303424] x = 0;
thread t() { x = x + 1; }
scenario s { run t(); }
"""

BEYOND_62_BITS = """\
int[0..7] x = 0;
int[0..3] y = 0;
thread t() { y = 1; x = (y + 2) * 1180591620717411303424 / 1180591620717411303424; }
thread u() { x = y << 70; }
scenario s { run t(); run u(); expect range; }
"""


def test_values_beyond_62_bits_go_to_the_python_engine(tmp_path: Path) -> None:
    # A constant the machine's registers cannot hold, a shift past them:
    # the machine declines (ESCAPE), the Python engine decides.
    ts = _build(tmp_path, BEYOND_62_BITS)
    assert op.ESC in compile_program(ts).code[:, 0]
    assert expand_mismatches(ts, 100) == []
    same_search(ts, CheckOptions())


def test_a_slot_beyond_62_bits_is_refused_and_searched_by_python(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from checker.cli import main
    from checker.vm.layout import NotSupported

    with pytest.raises(NotSupported, match="slot x"):
        check(_build(tmp_path, WIDE), CheckOptions(), engine=vm_bfs)
    path = tmp_path / "wide.mig"
    path.write_text(WIDE)
    assert main(["check", str(path), "--engine", "vm", "--no-save"]) == 0
    assert "searched by the Python engine" in capsys.readouterr().err


def test_limits_never_yield_verified() -> None:
    ts = _scenarios(ROOT / "specs" / "zsmalloc" / "isolation_wide.mig")[5]
    assert ts.expect.kind == "verified"
    for opts in (CheckOptions().max_memory(1), CheckOptions().max_seconds(1e-9),
                 CheckOptions().max_states(100)):
        r = check(ts, opts, engine=vm_bfs)
        assert r.verdict == "incomplete" and r.limit is not None

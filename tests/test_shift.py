"""Shifts: a negative count is a `shift` fault of the checked program, with
one message, in every engine (the reference interpreter, the explicit search
in both orders, BMC, prove, and SPIN on the Promela export); a count >= 0
computes C's value on exact integers; a left shift whose result would pass
2^CONST_BITS is a range fault raised before the value is built."""

from __future__ import annotations

import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from checker.backends.spin import missing_tools
from checker.dsl.parser import CONST_BITS
from checker.explore.options import CheckOptions
from checker.explore.run import check
from checker.ir.interp import Fault, Interp
from checker.ir.nodes import TransitionSystem
from checker.symbolic.bmc import check_bmc
from checker.symbolic.bounds import width_for
from checker.symbolic.prove import prove
from checker.trace.replay import replay_on
from tests.conftest import systems
from tests.spin_referee import referee_one

NEGATIVE = """\
int[-3..3] c = -1;
int[-64..64] m = 0;
thread t() { m = 8 >> c; assert(m != 16, "shifted left by one"); }
scenario s { run t(); }
"""
MESSAGE = "shift by a negative amount (-1)"


def _interp_fault(ts: TransitionSystem) -> Fault:
    """The fault the reference interpreter raises on the first step."""
    interp = Interp(ts.slots, ts.pools)
    (a,) = [a for a in ts.actions if a.src == ts.initial[ts.threads[0].pc_slot]]
    with pytest.raises(Fault) as info:
        interp.step(a, ts.initial, ts.threads[0].pc_slot)
    return info.value


def _every_engine(ts: TransitionSystem) -> dict[str, tuple[str, str]]:
    """(kind, message) of the violation each engine reports."""
    out = {}
    f = _interp_fault(ts)
    out["interp"] = (f.kind, f.message)
    for strategy in ("bfs", "dfs"):
        v = check(ts, CheckOptions().strategy(strategy)).violation
        assert v is not None, strategy
        out[strategy] = (v.kind, v.message)
    b = check_bmc(ts, 5).violation
    assert b is not None
    out["bmc"] = (b.kind, b.message)
    p = prove(ts, seconds=30)
    assert p.verdict == "counterexample" and p.violation is not None
    out["prove"] = (p.violation.kind, p.violation.message)
    return out


def test_a_negative_count_is_a_shift_fault_in_every_engine(
        spec_file: Callable[[str], Path]) -> None:
    ts = systems(spec_file(NEGATIVE))[0]
    got = _every_engine(ts)
    assert set(got.values()) == {("shift", MESSAGE)}, got


def test_a_negative_left_shift_count_too(spec_file: Callable[[str], Path]) -> None:
    ts = systems(spec_file(NEGATIVE.replace("8 >> c", "8 << (c - 1)")))[0]
    got = _every_engine(ts)
    assert set(got.values()) == {("shift", "shift by a negative amount (-2)")}, got


def test_the_shift_fault_is_at_its_statement(spec_file: Callable[[str], Path]) -> None:
    """Faulting in a later statement of the step: the stores before it are
    not the violation, and the kind can be expected."""
    path = spec_file("""\
        int[-3..3] c = -1;
        int[0..64] m = 0;
        thread t() { m = 4; m = m >> c; }
        scenario s { run t(); expect shift; }
        """)
    ts = systems(path)[0]
    r = check(ts)
    assert r.violation is not None and r.violation.kind == "shift"
    assert r.status == "met"
    assert check_bmc(ts, 5).status == "met"


needs_spin = pytest.mark.skipif(missing_tools() is not None,
                                reason=f"needs SPIN: {missing_tools()}")


@needs_spin
def test_spin_reports_the_shift_fault(spec_file: Callable[[str], Path], tmp_path: Path) -> None:
    ts = systems(spec_file(NEGATIVE))[0]
    out = referee_one(ts, tmp_path / "pan")
    assert out.skipped is None and not out.problems, out.problems
    assert out.translated is not None and out.translated.kind == "shift"
    # SPIN's trail, re-run by the reference semantics, raises the same fault
    replayed = replay_on(out.translated.trace, ts)
    assert replayed.reproduced and MESSAGE in replayed.message, replayed.message


C_VALUES = """\
int[0..3] c = 1;
int[0..3] d = 2;
int[-16..16] m = 0;
thread t() {
    m = (0 - 7) >> c;  assert(m == -4, "an arithmetic shift rounds toward minus infinity");
    m = (0 - 8) >> d;  assert(m == -2, "exact");
    m = (0 - 1) >> (d + 40);  assert(m == -1, "a count beyond any width keeps the sign");
    m = 7 >> (d + 40);  assert(m == 0, "and shifts every bit out");
    m = 3 << d;  assert(m == 12, "left");
    m = (0 - 3) << c;  assert(m == -6, "left, negative");
}
scenario s { run t(); }
"""


def test_non_negative_counts_compute_c_values(spec_file: Callable[[str], Path]) -> None:
    ts = systems(spec_file(C_VALUES))[0]
    for strategy in ("bfs", "dfs"):
        assert check(ts, CheckOptions().strategy(strategy)).verdict == "verified"
    assert check_bmc(ts, 20).verdict == "verified"
    assert prove(ts, seconds=30).verdict == "proved"


WIDE = f"""\
int[0..{1 << 40}] c = {1 << 24};
int[0..7] m = 0;
thread t() {{ m = 1 << c; }}
scenario s {{ run t(); }}
"""


def test_a_huge_left_shift_is_a_range_fault_without_building_it(
        spec_file: Callable[[str], Path]) -> None:
    """2^(2^24) would be built (and could not even be printed) without the
    limit; the same spec with the count at 2^40 would take 128 GiB."""
    ts = systems(spec_file(WIDE))[0]
    got = _every_engine(ts)
    want = ("range", f"a left shift by {1 << 24} is beyond +-2^{CONST_BITS}")
    assert set(got.values()) == {want}, got
    # the bit-vectors hold a shift by at most CONST_BITS, not by 2^40
    assert width_for(ts) <= CONST_BITS + 8


def test_a_left_shift_just_below_the_limit_is_computed(spec_file: Callable[[str], Path]) -> None:
    ts = systems(spec_file(WIDE.replace(f"= {1 << 24};", f"= {CONST_BITS - 1};")))[0]
    r = check(ts)
    assert r.violation is not None and r.violation.kind == "range"
    assert r.violation.message.startswith(f"m = {1 << (CONST_BITS - 1)} is outside")


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))


@pytest.mark.parametrize("engine", [["check"], ["check", "--dfs"], ["check", "--engine", "bmc"],
                                    ["prove", "--seconds", "30"]])
def test_a_count_of_2_to_the_40_stays_small(spec_file: Callable[[str], Path],
                                            engine: list[str]) -> None:
    """Under a 3 GiB address-space limit, every engine reports the range
    fault (exit 1) instead of running out of memory (exit 70)."""
    path = spec_file(WIDE.replace(f"= {1 << 24};", f"= {1 << 40};"))
    extra = ["--no-save"] if engine[0] == "check" else []
    r = subprocess.run([sys.executable, "-m", "checker", *engine, *extra, str(path)],
                       capture_output=True, text=True, timeout=300, preexec_fn=_limit_memory)
    assert f"a left shift by {1 << 40} is beyond" in r.stdout, r.stdout + r.stderr
    assert r.returncode == 1, r.stdout + r.stderr

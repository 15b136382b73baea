"""The Promela export: its shape, names, and command line; what it refuses
(values beyond SPIN's 32-bit int); and, where SPIN is installed, that pan
compiles what it writes and counts migcheck's states."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from checker.backends.promela import export
from checker.backends.spin import missing_tools
from checker.cli import main
from tests.conftest import systems
from tests.spin_referee import referee_batch, referee_one

SPEC = """\
struct node { int[0..3] v; struct node *next; };
pool struct node nodes[2];
struct node *head = null;
int[0..3] arr[2];
int[0..3] run = 0;
thread t() { int[0..1] i = 0; head = alloc(nodes); head->v = 2; arr[i] = head->v; }
thread u() { await run == 0; run = 1; }
scenario s { run t(); run u(); }
scenario v { run t(); expect null_deref; }
"""


def test_one_d_step_per_action_and_readable_names(spec_file: Callable[[str], Path]) -> None:
    ts = systems(spec_file(SPEC), scenarios=["s"])[0]
    model = export(ts)
    text = model.text
    assert text.count(":: d_step {") == len(ts.actions) == len(model.action_at_line)
    assert "byte nodes_v[2] = { 0, 0 };" in text  # a pool's field: an array
    assert "bit nodes_allocated[2] = { 0, 0 };" in text
    assert "byte arr[2] = { 0, 0 };" in text
    assert re.search(r"\bbyte run_ = 0;", text)  # a Promela keyword, renamed
    assert "active proctype t_T1()" in text and "active proctype u_T2()" in text
    assert "T1_pc == 1" in text and "bit T1_i = 0;" in text
    # every d_step line names its action and spec line
    lines = text.splitlines()
    for line, aid in model.action_at_line.items():
        assert f"/* a{aid}: " in lines[line - 1] and ".mig:" in lines[line - 1]
    # the null check before the store through head, commented with its kind
    assert any("null_deref" in ln and "assert((head != 0))" in ln.replace(" ", " ")
               for ln in lines)
    assert "goto deadlock" in text and "timeout" in text


def test_focus_on_the_expected_violation(spec_file: Callable[[str], Path]) -> None:
    ts = systems(spec_file(SPEC), scenarios=["v"])[0]
    focused = export(ts)
    assert focused.focus is not None and focused.focus.kind == "null_deref"
    assert "goto deadlock" not in focused.text  # deadlock is not looked for
    every = export(ts, None)
    assert every.focus is None and "goto deadlock" in every.text


def test_export_command(spec_file: Callable[[str], Path], tmp_path: Path, capsys: object) -> None:
    spec = spec_file(SPEC)
    out = tmp_path / "m.pml"
    assert main(["export", "--promela", str(spec), "-s", "s", "-o", str(out)]) == 0
    assert out.read_text().startswith("/* ")
    assert main(["export", "--promela", str(spec), "-o", str(out)]) == 0
    assert (tmp_path / "m.s.pml").exists() and (tmp_path / "m.v.pml").exists()
    # several scenarios and no -o: a usage error
    assert main(["export", "--promela", str(spec)]) == 2


def test_export_of_a_bad_spec_is_a_spec_error(spec_file: Callable[[str], Path],
                                              capsys: object) -> None:
    spec = spec_file("thread t() { x = 1; }\nscenario s { run t(); }\n")
    assert main(["export", "--promela", str(spec), "-o", "/dev/null"]) == 2
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert ":1:14: error:" in err and "^" in err


# ---------------------------------------------------------------- exact or refused

def _export_error(spec: Path, capsys: object) -> str:
    assert main(["export", "--promela", str(spec), "-o", str(spec.with_suffix(".pml"))]) == 2
    assert not spec.with_suffix(".pml").exists()
    return capsys.readouterr().err  # type: ignore[attr-defined,no-any-return]


def test_a_slot_beyond_32_bits_is_refused(spec_file: Callable[[str], Path],
                                         capsys: object) -> None:
    """migcheck's values are exact; pan's are C ints: the probe's
    `int[0..5000000000] g` gave opposite verdicts, so the export refuses."""
    err = _export_error(spec_file("""\
        int[0..5000000000] g = 0;
        thread t() { g = 4294967295; g = g + 1; assert(g > 0, "positive"); }
        scenario s { run t(); }
        """), capsys)
    assert "slot 'g' ranges over 0..5000000000, beyond SPIN's 32-bit int" in err


def test_an_intermediate_value_beyond_32_bits_is_refused(spec_file: Callable[[str], Path],
                                                        capsys: object) -> None:
    err = _export_error(spec_file("""\
        int[0..100000] a = 0;
        int[0..3] b = 0;
        thread t() { a = 100000; b = (a * a) % 4; }
        scenario s { run t(); }
        """), capsys)
    assert ":3:" in err and "error:" in err and "^" in err
    assert "a value may reach 0..10000000000" in err and "(a * a)" in err


def test_int_max_is_exported_but_one_more_is_not(spec_file: Callable[[str], Path],
                                                capsys: object) -> None:
    edge = """\
        int[0..2147483647] g = 0;
        thread t() { g = 2147483647; g = g - 1; }
        scenario s { run t(); }
        """
    assert "int g = 0;" in export(systems(spec_file(edge))[0]).text
    err = _export_error(spec_file(edge.replace("g - 1", "(g + 1) - 2")), capsys)
    assert "1..2147483648" in err and "(g + 1)" in err


def test_a_shift_by_32_or_more_is_refused(spec_file: Callable[[str], Path],
                                         capsys: object) -> None:
    err = _export_error(spec_file("""\
        int[0..40] k = 0;
        int[0..1] b = 0;
        thread t() { k = 33; b = (1 >> k) & 1; }
        scenario s { run t(); }
        """), capsys)
    assert "a shift by up to 40" in err


def test_a_store_indexed_by_its_own_array_reads_the_index_first(
        spec_file: Callable[[str], Path]) -> None:
    """`spin -a` rejects `arr[arr[0]] = 1` ("do not index an array with
    itself"); reads are fine."""
    text = export(systems(spec_file("""\
        int[0..3] arr[4];
        thread t() { arr[arr[0]] = 1; arr[2] = arr[arr[1]]; }
        scenario s { run t(); }
        """))[0]).text
    assert not re.search(r"^\s*arr\[[^=]*arr\[[^=]*\] =", text, re.M)  # no such store
    assert "arr[2] = arr[arr[1]];" in text  # a read indexed by its own array stays
    assert re.search(r"mc_index = arr\[0\];\s+arr\[mc_index\] = 1;", text)
    assert "hidden int mc_index;" in text


# ---------------------------------------------------------------- with SPIN

_MISSING = missing_tools()
needs_spin = pytest.mark.skipif(_MISSING is not None, reason=f"needs SPIN: {_MISSING}")


@needs_spin
def test_spin_accepts_a_store_indexed_by_its_own_array(spec_file: Callable[[str], Path],
                                                       tmp_path: Path) -> None:
    ts = systems(spec_file("""\
        int[0..3] arr[4];
        thread t() { arr[arr[0]] = 1; arr[arr[1]] = 2; }
        thread u() { arr[0] = 3; }
        scenario s { run t(); run u(); }
        """))[0]
    out = referee_one(ts, tmp_path / "pan")
    assert out.skipped is None and not out.problems, out.problems
    assert out.spin.states == out.migcheck.stats.states


@needs_spin
def test_spin_counts_a_write_only_local(spec_file: Callable[[str], Path], tmp_path: Path) -> None:
    """`l` is written and never read: plain `spin -a` leaves it out of pan's
    state vector (3 states, not 5); `spin -a -o2` keeps migcheck's states."""
    ts = systems(spec_file("""\
        int[0..3] g;
        thread t1() {
            int[0..3] l = 0;
            g = 1;
            l = choose(0..2);
            g = 2;
        }
        scenario s { run t1(); }
        """))[0]
    out = referee_one(ts, tmp_path / "pan")
    assert not out.problems, out.problems
    assert (out.migcheck.stats.states, out.migcheck.stats.transitions) == (5, 6)
    assert (out.spin.states, out.spin.transitions) == (5, 7)


@needs_spin
def test_the_referee_skips_what_the_export_refuses(spec_file: Callable[[str], Path],
                                                   tmp_path: Path) -> None:
    wide = systems(spec_file("""\
        int[0..4611686018427387904] g = 0;
        thread t() { g = 4611686018427387904; g = g + 1; }
        scenario s { run t(); }
        """))[0]
    small = systems(spec_file("int[0..1] g;\nthread t() { g = 1; }\nscenario s { run t(); }\n"))[0]
    out = referee_one(wide, tmp_path / "one")
    assert out.skipped is not None and "beyond SPIN's 32-bit int" in out.skipped
    assert out.migcheck.violation is not None  # the range fault, found exactly
    both = referee_batch([wide, small], tmp_path / "batch")
    assert both[0].skipped is not None
    assert both[1].skipped is None and not both[1].problems and both[1].spin.states == 3

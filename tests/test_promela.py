"""The Promela export without SPIN: its shape, names, and command line."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from checker.backends.promela import export
from checker.cli import main
from tests.conftest import systems

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

"""Untrusted specs and trace files: what migcheck guarantees (README, "Security").

Each test builds the hostile input the reliability probe described and
asserts the defense holds; removing the defense makes the test fail.
"""

from __future__ import annotations

import io
import tokenize
from pathlib import Path

import pytest

from checker.cli import main
from checker.dsl.loader import load_program
from checker.explore.codegen import compile_system
from checker.ir.build import build_all
from tests.test_pytest_plugin import pytest_run

# A file or directory name that, pasted raw into a line of generated Python,
# ends the line and runs a command.
# The marker is relative: the tests run with the temporary directory as cwd.
PAYLOAD = "x\n    __import__('os').system('touch MARKER')\n    #"

SMALL = """\
int[0..3] g = 0;
thread t() { g = 1; if (g == 1) { g = 2; } else { g = 3; } }
scenario s { run t(); run t(); }
"""


def _evil_spec(root: Path, marker: Path, in_dir: bool) -> Path:
    name = PAYLOAD
    if in_dir:
        d = root / name
        d.mkdir(parents=True)
        spec = d / "a.mig"
    else:
        root.mkdir(parents=True, exist_ok=True)
        spec = root / (name + ".mig")
    spec.write_text(SMALL)
    return spec


# ------------------------------------------------------------ 1. generated code

def test_generated_source_holds_a_spec_path_only_as_a_literal(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "MARKER"
    spec = _evil_spec(tmp_path, marker, in_dir=False)
    (ts,) = build_all(load_program(str(spec)), {}, None)
    c = compile_system(ts)
    for source in (c.source, c._step_source):
        names = {t.string for t in tokenize.generate_tokens(io.StringIO(source).readline)
                 if t.type == tokenize.NAME}
        assert "__import__" not in names and "system" not in names
        for line in source.splitlines():
            assert not line.lstrip().startswith("__import__"), line
    for step in c.step:  # the per-action step functions are compiled and run too
        step(c.initial)
    assert c.expand(c.initial)
    assert not marker.exists()


@pytest.mark.parametrize("in_dir", [False, True], ids=["file", "directory"])
@pytest.mark.parametrize("command", [
    ["check", "--no-save"],
    ["check", "--engine", "bmc", "--depth", "4", "--no-save"],
    ["doc"],
    ["mutate"],
    ["prove", "--seconds", "20"],
    ["diff"],
])
def test_no_command_runs_code_from_a_spec_path(tmp_path, monkeypatch, capsys, command, in_dir):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "MARKER"
    spec = _evil_spec(tmp_path / "w", marker, in_dir)
    if command[0] == "check" and "bmc" in command:
        # A violation, so the BMC counterexample is rebuilt with compiled steps.
        spec.write_text(SMALL.replace("g = 2; }", "g = 2; assert(g != 2, \"two\"); }"))
    args = [command[0], str(spec), *command[1:]]
    if command[0] == "diff":
        args = ["diff", str(spec), str(spec)]
    rc = main(args)
    assert rc in (0, 1, 3), capsys.readouterr()
    assert not marker.exists()


def test_the_pytest_plugin_runs_no_code_from_a_directory_name(tmp_path):
    marker = tmp_path / "MARKER"
    _evil_spec(tmp_path / "specs", marker, in_dir=True)
    r = pytest_run(tmp_path, "specs")
    assert "1 passed" in r.stdout, r.stdout + r.stderr
    assert not marker.exists()

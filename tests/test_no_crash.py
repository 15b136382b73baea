"""Every input gets a verdict or a diagnostic, never a traceback (exit 70).

Hostile input of each class the reliability probe found: constants beyond
the documented limit, state vectors of tens of thousands of bits, deep
nesting, malformed saved traces, nonsense limit flags, and Ctrl-C in every
engine. Each test runs the real command line (`python -m checker`).
"""

from __future__ import annotations

import copy
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from checker.dsl.parser import CONST_BITS
from tests.conftest import ROOT

MIGCHECK = [sys.executable, "-m", "checker"]


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MIGCHECK, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def assert_clean(r: subprocess.CompletedProcess[str], codes: tuple[int, ...]) -> None:
    text = r.stdout + r.stderr
    assert r.returncode in codes, text[-2000:]
    assert "Traceback" not in text and "internal error" not in text, text[-2000:]


def write(tmp_path: Path, text: str, name: str = "s.mig") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


THREAD = "int[0..3] g = 0;\nthread t() { g = 1; }\nscenario s { run t(); }\n"


# ------------------------------------------------------------------ constants

@pytest.mark.parametrize("const", [
    "1 << 40000000000",  # would allocate 5 GB
    "1 << 20000",  # over 4,300 decimal digits
    f"1 << {CONST_BITS}",  # just over the limit
    "9" * 5000,  # a literal of 5,000 digits
    "0x" + "f" * 300,
    "-(1 << 1023) * 4",
])
def test_a_constant_beyond_the_limit_is_a_diagnostic(tmp_path: Path, const: str) -> None:
    spec = write(tmp_path, f"const X = {const};\n" + THREAD)
    for cmd in ("list", "check"):
        r = cli(cmd, spec)
        assert_clean(r, (2,))
        assert "s.mig:1:11: error:" in r.stderr
        assert f"2^{CONST_BITS}" in r.stderr


def test_a_constant_just_inside_the_limit_is_accepted(tmp_path: Path) -> None:
    spec = write(tmp_path, f"const X = (1 << {CONST_BITS - 1}) - 1 + (1 << {CONST_BITS - 1});\n"
                           + THREAD)
    r = cli("list", spec)
    assert_clean(r, (0,))
    assert f"X={(1 << CONST_BITS) - 1}" in r.stdout


def test_a_negative_constant_shift_is_a_diagnostic(tmp_path: Path) -> None:
    spec = write(tmp_path, "const X = 1 << -1;\n" + THREAD)
    r = cli("list", spec)
    assert_clean(r, (2,))
    assert "s.mig:1:11: error: a constant's value shifts by a negative amount (-1)" in r.stderr


def test_a_huge_range_bound_is_a_diagnostic_in_every_command(tmp_path: Path) -> None:
    spec = write(tmp_path, "int[0..(1 << 20000)] g;\nthread t() { g = 1; }\n"
                           "scenario s { run t(); }\n")
    for args in (["list"], ["ir"], ["check", "--no-save"], ["check", "--engine", "bmc"],
                 ["export", "--promela"]):
        r = cli(*args, spec)
        assert_clean(r, (2,))
        assert "s.mig:1:9: error: an integer bound is too large" in r.stderr


def test_a_huge_define_is_a_diagnostic(tmp_path: Path) -> None:
    spec = write(tmp_path, "const N = 1;\n" + THREAD)
    r = cli("list", spec, "-D", "N=" + "9" * 5000)
    assert_clean(r, (2,))
    assert "-D N:" in r.stderr and "too large" in r.stderr


def test_a_state_of_over_14000_bits_checks(tmp_path: Path) -> None:
    """Masks over such a state have more than 4,300 decimal digits: the
    generated code prints them in hex."""
    spec = write(tmp_path, """\
int[0..3] arr[7200];
int[0..7199] i = 7199;
thread t() { arr[7199] = 1; arr[7198] = 2; arr[i] = 3; arr[7000] = arr[7199];
             assert(arr[7000] == 3, "copied"); }
scenario s { run t(); }
scenario bad { run t(); run t(); }
""")
    r = cli("check", spec, "-s", "s", "--no-save")
    assert_clean(r, (0,))
    assert "14416 bits/state" in r.stdout
    r = cli("check", spec, "-s", "bad", "--no-save", "-q")
    assert_clean(r, (1,))
    assert "assert 'copied' found" in r.stdout
    r = cli("check", spec, "-s", "s", "--engine", "bmc", "--depth", "8")
    assert_clean(r, (0,))
    r = cli("export", "--promela", spec, "-s", "s")
    assert_clean(r, (0,))


# ------------------------------------------------------------------ nesting

def _deep_specs() -> dict[str, str]:
    body = "g = 1;"
    for _ in range(250):
        body = "if (g == 0) { " + body + " }"
    return {
        "sum400": "int[0..1000] g = 1;\nint[0..1000000] h = 0;\n"
                  "thread t() { h = " + "+".join(["g"] * 400) + "; assert(h == 400, \"sum\"); }\n"
                  "scenario s { run t(); }\n",
        "const500": "const X = " + "+".join(["1"] * 600) + ";\nint[0..1000] g = 0;\n"
                    "thread t() { g = X; assert(g == 600, \"X\"); }\nscenario s { run t(); }\n",
        "minus3000": "int[-3..3] g = 0;\nthread t() { g = " + "-" * 3000 + "1; }\n"
                     "scenario s { run t(); }\n",
        "if250": "int[0..3] g = 0;\nthread t() { " + body + " }\nscenario s { run t(); }\n",
    }


@pytest.mark.parametrize("name", sorted(_deep_specs()))
def test_deep_nesting_checks(tmp_path: Path, name: str) -> None:
    spec = write(tmp_path, _deep_specs()[name])
    r = cli("check", spec, "--no-save")
    assert_clean(r, (0,))
    assert "verified: as expected" in r.stdout
    r = cli("check", spec, "--engine", "bmc", "--depth", "3")
    assert_clean(r, (0, 3))
    r = cli("export", "--promela", spec)
    assert_clean(r, (0,))


def test_nesting_beyond_what_python_compiles_is_a_diagnostic(tmp_path: Path) -> None:
    """400 nested parentheses on the right need 400 nested parentheses in
    the generated code; Python's parser stops at 200."""
    spec = write(tmp_path, "int[0..1000] g = 1;\nint[0..1000000] h = 0;\nthread t() { h = "
                 + "(g+" * 400 + "g" + ")" * 400 + "; }\nscenario s { run t(); }\n"
                 + "scenario s2 { run t(); run t(); }\n")
    r = cli("check", spec, "--no-save")
    assert_clean(r, (2,))
    assert "s.mig: error: the spec nests too deeply" in r.stderr
    # The same where the scenarios run as jobs on forked processes: the
    # job's own error comes back, not an internal error (exit 70).
    for command in (["doc", spec, "-j", "2"], ["diff", spec, spec, "-j", "2"]):
        r = cli(*command)
        assert_clean(r, (2,))
        assert "error: the spec nests too deeply" in r.stderr, command


# ------------------------------------------------------------------ flags

@pytest.mark.parametrize("flags", [
    ["--max-seconds", "nan"], ["--max-memory", "nan"], ["--max-seconds", "inf"],
    ["--max-seconds", "0"], ["--max-seconds", "-1"], ["--max-memory", "0"],
    ["--max-memory", "-5"], ["--max-states", "0"], ["--max-states", "-1"],
    ["--max-states", "x"], ["--depth", "-1"],
])
def test_a_nonsense_limit_is_a_usage_error(flags: list[str]) -> None:
    r = cli("check", "specs/shapes/lost_wakeup.mig", "--no-save", *flags)
    assert_clean(r, (2,))
    assert f"argument {flags[0]}:" in r.stderr


@pytest.mark.parametrize("seconds", ["nan", "-1", "inf"])
def test_prove_seconds_nan_is_a_usage_error(seconds: str) -> None:
    r = cli("prove", "specs/shapes/lost_wakeup.mig", "--seconds", seconds)
    assert_clean(r, (2,))
    assert "argument --seconds:" in r.stderr


@pytest.mark.parametrize("search", ["bfs", "dfs"])
def test_max_states_reports_exactly_n_states(search: str) -> None:
    r = cli("check", "specs/shapes/lost_wakeup.mig", "-s", "destroy_vs_putback", "--no-save",
            "--search", search, "--max-states", "20", "--format", "json")
    assert_clean(r, (3,))
    (result,) = json.loads(r.stdout)
    assert result["limit"] == "--max-states 20" and result["stats"]["states"] == 20


# ------------------------------------------------------------------ replay

TRACE = ROOT / "counterexamples" / "shapes" / "bitfield_rmw.isolate_vs_free.json"


@pytest.mark.parametrize(("edit", "message"), [
    ({"blocked": {"x": "y"}}, "blocked: 'x' is not a thread id"),
    ({"loop_start": 10**30}, "loop_start: expected an integer"),
    ({"loop_start": "1"}, "loop_start: expected an integer"),
    ({"loop_start": 999}, "loop_start: 999 is not a step of the trace"),
    ({"bindings": {"NR_TASKS": "x"}}, "bindings.NR_TASKS: expected an integer or a bool"),
    ({"bindings": {"NR_TASKS": 10**30}}, "bindings.NR_TASKS: expected an integer or a bool"),
    ({"bindings": None}, "bindings: expected an object"),
    ({"final_state": {"g": 1}}, "final_state.g: expected a string"),
    ({"threads": [{"id": 1}]}, "threads[0]: missing field 'kind'"),
    ({"steps": [{"line": "x"}]}, "steps[0]: missing field"),
    ({"steps": "x"}, "steps: expected a list"),
    ({"surprise": 1}, "trace: unknown field 'surprise'"),
])
def test_a_malformed_trace_is_an_error(tmp_path: Path, edit: dict[str, object],
                                       message: str) -> None:
    data = json.loads(TRACE.read_text())
    data.update(edit)
    path = tmp_path / "trace.json"
    path.write_text(json.dumps(data))
    r = cli("replay", str(path))
    assert_clean(r, (2,))
    assert f"{path}: error: malformed trace: {message}" in r.stderr


def test_a_step_line_that_is_not_an_int_is_an_error(tmp_path: Path) -> None:
    data = json.loads(TRACE.read_text())
    data["steps"][0]["line"] = "x"
    path = tmp_path / "trace.json"
    path.write_text(json.dumps(data))
    r = cli("replay", str(path))
    assert_clean(r, (2,))
    assert "steps[0].line: expected an integer, not 'x'" in r.stderr


def test_another_scenarios_trace_is_rejected_or_does_not_reproduce(tmp_path: Path) -> None:
    data = json.loads(TRACE.read_text())
    path = tmp_path / "trace.json"
    path.write_text(json.dumps(dict(data, scenario="isolate_vs_two_frees")))
    assert_clean(cli("replay", str(path)), (1,))
    path.write_text(json.dumps(dict(data, scenario="nope")))
    r = cli("replay", str(path))
    assert_clean(r, (2,))
    assert "no scenario nope" in r.stderr


VALUES: list[object] = [None, True, False, 0, -1, 1, 7, 10**30, -(10**30), 1.5, "", "x",
                        "1", [], [1], {}, {"x": "y"}, {"1": 2}]


def _paths(o: object, pre: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    out = [pre]
    if isinstance(o, dict):
        for k, v in o.items():
            out += _paths(v, (*pre, k))
    elif isinstance(o, list):
        for i, v in enumerate(o):
            out += _paths(v, (*pre, i))
    return out


def _corrupt(data: object, rng: random.Random) -> object:
    data = copy.deepcopy(data)
    for _ in range(rng.randint(1, 3)):
        where = rng.choice([p for p in _paths(data) if p])
        parent: object = data
        for k in where[:-1]:
            parent = parent[k]  # type: ignore[index]
        key = where[-1]
        assert isinstance(parent, dict | list)
        op = rng.random()
        if op < 0.6:
            parent[key] = copy.deepcopy(rng.choice(VALUES))  # type: ignore[index]
        elif op < 0.85:
            del parent[key]  # type: ignore[arg-type]
        elif isinstance(parent[key], int) and not isinstance(parent[key], bool):  # type: ignore[index]
            parent[key] += rng.choice([1, -1, 1000])  # type: ignore[index]
        elif isinstance(parent, dict):
            parent["extra"] = 1
    return data


CORRUPTIONS = int(os.environ.get("MIGCHECK_TRACE_CORRUPTIONS", "300"))


def test_corrupted_traces_never_crash(tmp_path: Path) -> None:
    """300 seeded random corruptions of real saved traces, replayed in one
    process each through the forked command line (checker.cli.main): every
    one reproduces, does not, or is rejected, never a traceback."""
    from checker.cli import main

    sources = [json.loads(TRACE.read_text()), json.loads(
        (ROOT / "counterexamples/shapes/lost_wakeup.destroy_vs_putback_reordered.json")
        .read_text())]
    rng = random.Random(20261204)
    outcomes: dict[int, int] = {}
    for i in range(CORRUPTIONS):
        path = tmp_path / f"t{i}.json"
        path.write_text(json.dumps(_corrupt(rng.choice(sources), rng)))
        extra = rng.choice([[], ["--format", "json"], ["--format", "junit"],
                            ["--html", str(tmp_path / "v.html")]])
        log = tmp_path / f"t{i}.log"
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.chdir(ROOT)
            code = 99
            try:
                code = main(["replay", str(path), "-q", *extra])
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        text = log.read_text(errors="replace")
        assert code in (0, 1, 2, 3), (i, code, text[-1500:])
        assert "Traceback" not in text and "internal error" not in text, (i, text[-1500:])
        outcomes[code] = outcomes.get(code, 0) + 1
    assert outcomes.get(2, 0) > CORRUPTIONS // 3  # most corruptions are caught as such
    assert outcomes.get(0, 0) + outcomes.get(1, 0) > 0  # and some still replay


# ------------------------------------------------------------------ Ctrl-C

LONG = ["specs/zsmalloc/migration.mig", "-s", "frees_vs_two_compactors"]


@pytest.mark.parametrize("args", [
    ["check", *LONG, "--no-save"],
    ["check", *LONG, "--no-save", "--dfs"],
    ["check", *LONG, "--no-save", "--engine", "bmc", "--depth", "200"],
    ["prove", *LONG, "--seconds", "100"],
    ["doc", "specs/zsmalloc/migration.mig"],
    # two baselines at once: the pool of forked children is running at the interrupt
    ["mutate", "specs/zsmalloc/migration.mig", "-s", "two_compactors_vs_free", "-s",
     "frees_vs_two_compactors", "-j", "2"],
    ["check", *LONG, "--no-save", "--store", "bitstate:24"],
    ["check", *LONG, "--no-save", "--simulate", "100000000", "--max-depth", "100000"],
    ["check", *LONG, "--no-save", "--swarm", "4", "--jobs", "2", "--store", "bitstate:24"],
], ids=["bfs", "dfs", "bmc", "prove", "doc", "mutate", "bitstate", "simulate", "swarm"])
def test_ctrl_c_exits_130_cleanly(args: list[str]) -> None:
    p = subprocess.Popen([*MIGCHECK, *args], cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(2.5)
    assert p.poll() is None, "the command ended before the interrupt"
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130, out[-1000:] + err[-2000:]
    assert "migcheck: interrupted" in err
    assert "Traceback" not in err and "internal error" not in err, err[-2000:]
    assert not _running_with(args), "a process of the command outlived it"


def _running_with(args: list[str]) -> list[int]:
    """The processes whose command line is `migcheck`'s with `args` (a
    forked child has its parent's)."""
    tail = "\0".join(["checker", *args, ""]).encode()
    found = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and int(d.name) != os.getpid():
            try:
                if (d / "cmdline").read_bytes().endswith(tail):
                    found.append(int(d.name))
            except OSError:
                continue
    return found


def test_an_interrupt_landing_in_a_finaliser_is_silent_and_sent_again(
        capsys: pytest.CaptureFixture[str]) -> None:
    """The Ctrl-C passed to the worker can land in z3's AstRef.__del__, where
    Python would print "Exception ignored ... Traceback" and drop it (seen
    in CI): the hook prints nothing and asks for it to be sent again; any
    other unraisable exception is still printed."""
    from checker import cli

    class Finalised:
        def __init__(self, error: type[BaseException]) -> None:
            self.error = error

        def __del__(self) -> None:
            raise self.error

    old = sys.unraisablehook
    sys.unraisablehook = cli._unraisable
    cli._INTERRUPT.set()
    cli._DROPPED.clear()
    try:
        Finalised(KeyboardInterrupt)  # dropped at once: its __del__ raises
        assert cli._DROPPED.is_set()
        assert capsys.readouterr().err == ""
        cli._INTERRUPT.clear()
        Finalised(KeyboardInterrupt)  # no Ctrl-C pending: not ours to hide
        Finalised(ValueError)
    finally:
        cli._INTERRUPT.clear()
        cli._DROPPED.clear()
        sys.unraisablehook = old
    assert capsys.readouterr().err.count("Exception ignored") == 2


def test_the_pytest_plugin_reports_deep_nesting_as_a_spec_error(tmp_path: Path) -> None:
    """pytest builds specs in its own thread, at Python's default recursion
    limit: a spec nested too deeply for it is a spec error item, not a
    collection crash."""
    (tmp_path / "deep.mig").write_text(
        "int[0..9] g = 1;\nthread t() { g = " + "-" * 3000 + "g; }\nscenario s { run t(); }\n")
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "deep.mig"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "deep.mig: error: the spec nests too deeply" in r.stdout
    assert "1 failed" in r.stdout and "RecursionError" not in r.stdout

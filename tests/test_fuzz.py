"""Fuzzing the whole command line: no input may crash migcheck.

(a) textual mutations of every spec and model (the hand slips of
    tests/test_robustness.py, plus duplicated and swapped lines, huge,
    negative and malformed numbers, deep nesting, truncation, invalid UTF-8)
    through list, ir, check, export, doc, bmc and prove;
(b) random well-typed specs (tests/programs.py, tests/heap_programs.py)
    through check (BFS and DFS), ir, export --promela, doc, bmc, prove and
    replay of the saved counterexample.

Each run is the real `checker.cli.main` in a forked child, with an address
space cap and a wall-clock alarm; it must exit 0-3 without a traceback or
"internal error" and within the alarm. `make test` runs a small
sample with a fixed seed; `make fuzz` runs MIGCHECK_FUZZ_EXAMPLES (default
5,000) of each kind with fresh randomness (marker `fuzz`). With
MIGCHECK_FUZZ_LOG=FILE every run appends `kind command exit` to FILE.
"""

from __future__ import annotations

import os
import re
import resource
import signal
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tests.conftest import ROOT
from tests.heap_programs import arith_programs, heap_programs
from tests.programs import programs
from tests.test_robustness import SOURCES, STRAYS, TOKEN

SAMPLE = 60  # examples per test in `make test`
LONG = int(os.environ.get("MIGCHECK_FUZZ_EXAMPLES", "5000"))
ALARM_S = 120  # far above every command's own limit below: passing it is a hang
MEMORY_CAP = 4 << 30
MODELS = str(ROOT / "models")

NUMBERS = ["0", "-1", "-99999", "4294967296", "1" + "0" * 40, "9" * 400, "9" * 5000,
           "0x", "0xfffffffffffffffffffffffffff", "08", "1e9", "1 << 5000", "1 << -1",
           "(1 << 40000000000)", "-0", "00", "1u", "1..2"]

COMMANDS: dict[str, list[str]] = {
    "list": ["list"],
    "ir": ["ir"],
    "check": ["check", "--max-states", "400", "--max-seconds", "10", "--no-save"],
    "dfs": ["check", "--dfs", "--max-states", "400", "--max-seconds", "10", "--no-save"],
    "export": ["export", "--promela"],
    "doc": ["doc", "--max-states", "400"],
    "bmc": ["check", "--engine", "bmc", "--depth", "3", "--max-seconds", "10", "--no-save"],
    "prove": ["prove", "--seconds", "2", "--max-k", "3"],
}


def _bad_utf8_is_diagnosed() -> bool:
    """Invalid UTF-8 is another change's diagnostic (the module loader):
    mutate with it only once the loader reports it."""
    import tempfile

    from checker.dsl.diagnostics import SpecError
    from checker.dsl.loader import load_program

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bad.mig"
        path.write_bytes(b"int[0..1] g;\xff\n")
        try:
            load_program(path)
        except SpecError:
            return True
        except Exception:
            return False
    return True


BAD_UTF8 = _bad_utf8_is_diagnosed()


def run_main(argv: list[str], cwd: Path, log: Path) -> tuple[int, str]:
    """checker.cli.main(argv) in a forked child: (exit status, output).
    A child killed by the alarm or a signal gives a negative status."""
    from checker.cli import main

    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 98
        try:
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.chdir(cwd)
            resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
            signal.alarm(ALARM_S)
            code = main(argv)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 2
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), log.read_text(encoding="utf-8", errors="replace")


def assert_no_crash(kind: str, argv: list[str], cwd: Path) -> int:
    code, text = run_main(argv, cwd, cwd / "run.log")
    record = os.environ.get("MIGCHECK_FUZZ_LOG")
    if record:
        with open(record, "a", encoding="utf-8") as f:
            f.write(f"{kind} {argv[0]} {code}\n")
    spec = cwd / "s.mig"
    where = f"{argv}\n--- spec ---\n{spec.read_text(errors='replace')[:3000] if spec.exists() else ''}"
    assert code != -signal.SIGALRM, f"hang (over {ALARM_S} s): {where}"
    assert code in (0, 1, 2, 3), f"exit {code}: {text[-2000:]}\n{where}"
    assert "Traceback" not in text and "internal error" not in text, f"{text[-2000:]}\n{where}"
    return code


# ------------------------------------------------------------------ (a) mutations

@st.composite
def mutated(draw: st.DrawFn) -> tuple[Path, bytes]:
    src = draw(st.sampled_from(SOURCES))
    text = src.read_text(encoding="utf-8")
    for _ in range(draw(st.integers(1, 3))):
        text = _mutate(draw, text)
    data = text.encode("utf-8")
    if BAD_UTF8 and draw(st.integers(0, 15)) == 0:
        k = draw(st.integers(0, len(data)))
        data = data[:k] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00"])) \
            + data[k:]
    return src, data


def _mutate(draw: st.DrawFn, text: str) -> str:
    tokens = list(TOKEN.finditer(text)) or [re.match(r"", text)]
    m = tokens[draw(st.integers(0, len(tokens) - 1))]
    assert m is not None
    other = tokens[draw(st.integers(0, len(tokens) - 1))]
    assert other is not None
    lines = text.splitlines(keepends=True) or [""]
    k = draw(st.integers(0, len(lines) - 1))
    j = draw(st.integers(0, len(lines) - 1))
    kind = draw(st.integers(0, 11))
    if kind == 0:  # delete a token
        return text[:m.start()] + text[m.end():]
    if kind == 1:  # duplicate a token
        return text[:m.start()] + m.group() + " " + text[m.start():]
    if kind == 2:  # replace a token by another of the file
        return text[:m.start()] + other.group() + text[m.end():]
    if kind == 3:  # a stray literal or punctuation
        return text[:m.start()] + draw(st.sampled_from(STRAYS)) + text[m.end():]
    if kind == 4:  # drop a line
        return "".join(lines[:k] + lines[k + 1:])
    if kind == 5:  # duplicate a line
        return "".join([*lines[:k], lines[k], *lines[k:]])
    if kind == 6:  # swap two lines
        lines[k], lines[j] = lines[j], lines[k]
        return "".join(lines)
    if kind == 7:  # a number made huge, negative or malformed
        nums = [t for t in tokens if t is not None and t.group().isdigit()]
        if not nums:
            return text
        n = nums[draw(st.integers(0, len(nums) - 1))]
        return text[:n.start()] + draw(st.sampled_from(NUMBERS)) + text[n.end():]
    if kind == 8:  # deep nesting around a token
        depth = draw(st.sampled_from([50, 300, 2000]))
        wrap = draw(st.sampled_from([("(", ")"), ("-", ""), ("!", ""), ("{", "}")]))
        return text[:m.start()] + wrap[0] * depth + m.group() + wrap[1] * depth + text[m.end():]
    if kind == 9:  # truncation
        return text[:m.start()]
    if kind == 10:  # a swapped operator
        ops = [t for t in tokens if t is not None and t.group() in "+-*/%<>&|^=!"]
        if not ops:
            return text
        o = ops[draw(st.integers(0, len(ops) - 1))]
        return text[:o.start()] + draw(st.sampled_from(list("+-*/%<>&|^"))) + text[o.end():]
    # a duplicated block of lines
    lo, hi = sorted((k, j))
    return "".join(lines[:hi] + lines[lo:hi + 1] + lines[hi:])


def _scenario_args(text: str) -> list[str]:
    m = re.search(r"\bscenario\s+(\w+)", text)
    return ["-s", m.group(1)] if m else []


def _mutation_body(tmp_path: Path, case: tuple[Path, bytes], command: str) -> None:
    src, data = case
    spec = tmp_path / "s.mig"
    spec.write_bytes(data)
    text = data.decode("utf-8", errors="replace")
    argv = [*COMMANDS[command][:1], *COMMANDS[command][1:], str(spec), "-I", MODELS,
            "-I", str(src.parent), *(_scenario_args(text) if command != "list" else [])]
    assert_no_crash("mutation", argv, tmp_path)


_FUZZ_SETTINGS = dict(deadline=None, database=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture,
                                             HealthCheck.too_slow, HealthCheck.data_too_large])

test_mutated_specs_never_crash = seed(20261204)(settings(max_examples=SAMPLE,
                                          **_FUZZ_SETTINGS)(  # type: ignore[arg-type]
    given(case=mutated(), command=st.sampled_from(sorted(COMMANDS)))(_mutation_body)))
test_mutated_specs_never_crash_long = pytest.mark.fuzz(settings(
    max_examples=LONG, **_FUZZ_SETTINGS)(  # type: ignore[arg-type]
    given(case=mutated(), command=st.sampled_from(sorted(COMMANDS)))(_mutation_body)))


# ------------------------------------------------------------------ (b) random specs

def _program_body(tmp_path: Path, text: str, command: str) -> None:
    spec = tmp_path / "s.mig"
    spec.write_text(text, encoding="utf-8")
    if command == "replay":
        trace = tmp_path / "t.json"
        code = assert_no_crash("program", ["check", str(spec), "-I", MODELS, "--max-states",
                                           "3000", "--save-trace", str(trace), "-q"], tmp_path)
        if code == 1 and trace.exists():
            assert_no_crash("program", ["replay", str(trace), "-I", MODELS, "-q"], tmp_path)
        return
    argv = [*COMMANDS[command], str(spec), "-I", MODELS]
    assert_no_crash("program", argv, tmp_path)


_SPECS = st.one_of(programs(), heap_programs(), arith_programs())
_PROGRAM_COMMANDS = st.sampled_from([*sorted(set(COMMANDS) - {"list"}), "replay"])

test_random_specs_never_crash = seed(20261204)(settings(max_examples=SAMPLE,
                                         **_FUZZ_SETTINGS)(  # type: ignore[arg-type]
    given(text=_SPECS, command=_PROGRAM_COMMANDS)(_program_body)))
test_random_specs_never_crash_long = pytest.mark.fuzz(settings(
    max_examples=LONG, **_FUZZ_SETTINGS)(  # type: ignore[arg-type]
    given(text=_SPECS, command=_PROGRAM_COMMANDS)(_program_body)))

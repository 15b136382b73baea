"""Helpers shared by the tests: build and check spec text written inline."""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from checker.dsl.diagnostics import SpecError
from checker.dsl.loader import load_program
from checker.explore.options import CheckOptions
from checker.explore.result import CheckResult
from checker.explore.run import check
from checker.ir.build import build_all
from checker.ir.nodes import TransitionSystem
from checker.trace.model import Trace

ROOT = Path(__file__).resolve().parent.parent
_counter = itertools.count()


@pytest.fixture
def spec_file(tmp_path: Path) -> Callable[[str], Path]:
    """Write spec text to a file in a temporary directory; returns its path.
    The project's models/ directory is on the import path."""

    def write(text: str, name: str | None = None) -> Path:
        path = tmp_path / (name or f"spec{next(_counter)}.mig")
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


def systems(path: Path, overrides: dict[str, int] | None = None,
            scenarios: list[str] | None = None) -> list[TransitionSystem]:
    program = load_program(path, [ROOT / "models"])
    return build_all(program, overrides, scenarios)


def system(path: Path, scenario: str | None = None) -> TransitionSystem:
    """The spec's scenario `scenario`, or its first one."""
    return systems(path, scenarios=[scenario] if scenario else None)[0]


def random_system(tmp_path: Path, text: str) -> TransitionSystem:
    """A random program (`tests/programs.py`) built from a file, as the
    engines and their differential tests read specs."""
    path = tmp_path / "random.mig"
    path.write_text(text)
    return system(path)


def run(path: Path, scenario: str | None = None, opts: CheckOptions | None = None,
        overrides: dict[str, int] | None = None) -> CheckResult:
    found = systems(path, overrides, [scenario] if scenario else None)
    assert len(found) == 1, [t.scenario for t in found]
    return check(found[0], opts)


def errors(path: Path) -> str:
    """The rendered diagnostics of a spec that must not build."""
    with pytest.raises(SpecError) as info:
        systems(path)
    return info.value.render()


def replayed_trace(result: CheckResult, path: Path, scenario: str) -> Trace:
    """The counterexample of `result` as a trace, which must replay in the
    spec's scenario (the real-bug specs' tests read it step by step)."""
    from checker.trace.model import build_trace
    from checker.trace.replay import replay_on

    assert result.violation is not None and result.compiled is not None
    trace = build_trace(result.compiled, result.violation)
    assert replay_on(trace, system(path, scenario)).reproduced
    return trace


def thread_label(trace: Trace, thread: int) -> str:
    return next(t.label for t in trace.threads if t.id == thread)

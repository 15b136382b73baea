"""Every spec under specs/ is a regression test.

Each scenario must meet its `expect`. Each scenario that expects a violation
has its counterexample saved under counterexamples/ (JSON and text, as
`migcheck check` writes them); the saved trace must still reproduce on the
current spec, and today's shortest counterexample must be no longer than it.
Scenarios tagged `slow` are left to `make test-slow` and the benchmarks.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.cli import default_trace_path
from checker.dsl.loader import load_program
from checker.explore.run import check
from checker.ir.build import build_all
from checker.trace.jsonio import load
from checker.trace.replay import replay_on
from tests.conftest import ROOT
from tests.spec_reach import reach_marks, unreached_marks

SPECS = sorted((ROOT / "specs").rglob("*.mig"))


def _scenarios() -> list[tuple[Path, str, bool]]:
    out = []
    for spec in SPECS:
        for ts in build_all(load_program(spec)):
            out.append((spec, ts.scenario, "slow" in ts.tags))
    return out


CASES = _scenarios()


def _param(spec: Path, scenario: str, slow: bool) -> object:
    marks = [pytest.mark.slow] if slow else []
    return pytest.param(spec, scenario, id=f"{spec.relative_to(ROOT / 'specs')}:{scenario}",
                        marks=marks)


@pytest.mark.parametrize(("spec", "scenario"), [_param(*c) for c in CASES])
def test_scenario_meets_its_expectation(spec: Path, scenario: str) -> None:
    ts = build_all(load_program(spec), only=[scenario])[0]
    result = check(ts)
    assert result.status == "met", (
        f"{scenario}: expected {ts.expect.kind} {ts.expect.name or ''}, got {result.verdict}"
        + (f" {result.violation.kind}: {result.violation.message}" if result.violation else "")
    )
    if result.violation is None:
        missed = unreached_marks(spec, result)
        assert not missed, "; ".join(missed)
        return
    saved_path = default_trace_path(ROOT / "counterexamples", ts)
    spec_rel = spec.relative_to(ROOT)
    assert saved_path.is_file(), (
        f"no saved counterexample: run `migcheck check {spec_rel} -s {scenario}` from the "
        "project root to write it"
    )
    assert saved_path.with_suffix(".txt").is_file()
    saved = load(saved_path)
    replayed = replay_on(saved, ts)
    assert replayed.reproduced, replayed.message
    assert result.violation.steps <= len(saved.steps), (
        "today's counterexample is longer than the saved one"
    )


def test_reach_marks_name_scenarios_that_verify() -> None:
    """A `// reach:` mark names a scenario of its spec that expects to verify
    (a search that stops at a violation says nothing about what it reached)."""
    for spec in SPECS:
        marks = reach_marks(spec)
        if not marks:
            continue
        verifying = {ts.scenario for ts in build_all(load_program(spec))
                     if ts.expect.kind == "verified"}
        for name in marks:
            assert name in verifying, f"{spec.name}: reach mark for {name}"


def test_every_spec_states_what_it_follows() -> None:
    """A spec names the kernel version or commit it follows in its header."""
    for spec in SPECS:
        head = spec.read_text(encoding="utf-8")[:3000]
        assert "Linux" in head or "commit" in head, spec

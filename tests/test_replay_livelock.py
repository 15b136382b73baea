"""`migcheck replay` of a spinning run (a deadlock trace with `loop_start`)
confirms what the checker means by one: a non-empty cycle in a bottom
strongly connected component of the state graph, one no thread can leave.
A cycle that merely closes is not enough: here `waiter` spins on `g == 0`
while `setter` can always set `g`, and the scenario verifies."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from checker.cli import main
from checker.trace.model import Trace, build_trace
from checker.trace.replay import replay_on
from tests.conftest import ROOT, run, systems

WAITER = """\
int[0..1] g = 0;
thread waiter() { while (g == 0) { } }
thread setter() { g = 1; }
scenario s { run waiter(); run setter(); }
"""


def _fake(spec: str, scenario: str, steps: list[dict[str, object]], loop_start: int,
          threads: list[dict[str, object]]) -> dict[str, object]:
    return {"format": "migcheck-trace/1", "spec": spec, "spec_sha256": "", "scenario": scenario,
            "bindings": {}, "kind": "deadlock", "name": None, "message": "made up",
            "threads": threads, "steps": steps, "loop_start": loop_start,
            "final_state": {}, "blocked": {}}


def _step(index: int, thread: int, pc: int) -> dict[str, object]:
    return {"index": index, "thread": thread, "line": 2, "file": "", "text": "",
            "inner": "", "inner_where": "", "changes": [], "fault": "", "pc": pc}


def test_a_cycle_another_thread_can_leave_is_rejected(
        spec_file: Callable[[str], Path], tmp_path: Path,
        capsys: object) -> None:
    spec = spec_file(WAITER)
    assert run(spec).verdict == "verified"
    threads = [{"id": 1, "kind": "waiter", "label": "waiter()", "dynamic": False},
               {"id": 2, "kind": "setter", "label": "setter()", "dynamic": False}]
    data = _fake(str(spec), "s", [_step(1, 1, 2), _step(2, 1, 2)], 1, threads)
    trace = Trace.from_dict(data)
    res = replay_on(trace, systems(spec)[0])
    assert not res.reproduced
    assert "can leave the cycle" in res.message
    path = tmp_path / "fake.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert main(["replay", str(path)]) == 1
    assert "does not reproduce" in capsys.readouterr().out  # type: ignore[attr-defined]


def test_an_empty_cycle_is_rejected(tmp_path: Path) -> None:
    spec = ROOT / "specs" / "shapes" / "lost_wakeup.mig"
    data = _fake(str(spec), "destroy_vs_putback", [], 0, [])
    path = tmp_path / "empty.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert main(["replay", str(path), "-I", str(ROOT / "models")]) == 1


def test_a_genuine_spinning_run_still_replays(spec_file: Callable[[str], Path]) -> None:
    """The same waiter with nobody to set `g`: it spins forever."""
    spec = spec_file(WAITER.replace("run setter(); }", "expect deadlock; }"))
    result = run(spec)
    assert result.violation is not None and result.violation.cycle
    trace = build_trace(result.compiled, result.violation)
    res = replay_on(trace, systems(spec)[0])
    assert res.reproduced, res.message


def test_a_spinning_run_with_a_way_out_for_the_spinner_is_rejected(
        spec_file: Callable[[str], Path]) -> None:
    """A genuine cycle, replayed against a spec where the setter now exists:
    the cycle still closes, but it is no longer a bottom component."""
    alone = spec_file(WAITER.replace("run setter(); }", "expect deadlock; }"))
    result = run(alone)
    assert result.violation is not None
    trace = build_trace(result.compiled, result.violation)
    both = spec_file(WAITER.replace("run setter(); }", "run setter(); expect deadlock; }"))
    res = replay_on(trace, systems(both)[0])
    assert not res.reproduced and "can leave the cycle" in res.message


def test_saved_spinning_traces_replay() -> None:
    for path in sorted((ROOT / "counterexamples").glob("*/*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("loop_start") is None:
            continue
        assert main(["replay", "-q", str(path), "-I", str(ROOT / "models")]) == 0, path

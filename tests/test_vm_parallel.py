"""The VM engine's multi-core search (checker/vm/parallel, `--workers N`)
against the Python engine's BFS: with 2 and 3 workers, the same verdict,
limit, states, transitions, depth, violation (kind, property, message,
trace length, cycle), other violations, executed actions and covers, on
every spec scenario (capped: a capped search agrees too, since the workers
know where the single-threaded search would have passed the cap) and on
random programs.
"""

from __future__ import annotations

import json
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings

from checker.explore.options import CheckOptions
from checker.explore.run import check
from checker.ir.nodes import TransitionSystem
from checker.kinds import ViolationKind
from checker.vm import parallel
from checker.vm.parallel import parallel_bfs
from tests.conftest import ROOT
from tests.heap_programs import arith_programs, heap_programs
from tests.programs import programs
from tests.test_vm import SETTINGS, SPECS, SPINNING, WAITER, _build, _figures, _scenarios
from tests.test_vm_workers_default import COUNTERS

CAP = 1500  # --max-states of the comparison on the spec scenarios
# Workers, their outboxes' bytes, and their store. 3 workers get the least
# room there is (4 states' successors an owner), so that their levels run
# in many rounds, each stopping mid-frontier (`parallel.OUT_BYTES`). The
# store: dense rows; the tree from the first state; and "auto" with room
# for 4 states at first and a switch past 4 KiB, so that each part of rows
# wider than `TIGHT_WORDS` moves from dense rows to its tree at one of its
# first growths, mid-round (tight rows stay dense).
WORKERS = ((2, parallel.OUT_BYTES, "dense"), (3, 1, "tree"), (2, 1, "auto"))
FEW = settings(SETTINGS, max_examples=30)


def same_as_python(ts: TransitionSystem, opts: CheckOptions) -> None:
    want = _figures(check(ts, opts))
    for n, out_bytes, form in WORKERS:
        with mock.patch.object(parallel, "OUT_BYTES", out_bytes), \
                mock.patch.object(parallel, "FIRST_CAP", 4), \
                mock.patch.object(parallel, "TREE_AT_BYTES", 4096):
            got = _figures(check(ts, opts.store_form(form), engine=parallel_bfs(n)))
        assert got == want, (ts.scenario, n, form)


def test_small_outboxes_take_rounds(tmp_path: Path) -> None:
    """Two counters to 20: 42 ** 2 = 1,764 states (21 values at each loop's
    head, 20 in its body, its end). With outboxes for 4 states' successors,
    the levels of up to 42 states take several rounds; same result."""
    ts = _build(tmp_path, COUNTERS.replace("248", "20"))
    rounds = 0
    phase = parallel._Search._insert

    def counted(self: parallel._Search, p: parallel._Part) -> None:
        nonlocal rounds
        rounds += p.me == 0
        phase(self, p)

    with mock.patch.object(parallel, "OUT_BYTES", 1), \
            mock.patch.object(parallel._Search, "_insert", counted):
        r = check(ts, CheckOptions(), engine=parallel_bfs(2))
    assert (r.verdict, r.stats.states, r.stats.depth) == ("verified", 42 ** 2, 2 * 41)
    assert rounds > r.stats.depth + 1  # more rounds than levels
    same_as_python(ts, CheckOptions())


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_workers_agree_on_every_spec_scenario(spec: Path) -> None:
    """Every scenario but those with WARN_ON() sites, which --workers
    refuses (tests/test_warn.py)."""
    for ts in _scenarios(spec):
        if not ts.warnings:
            same_as_python(ts, CheckOptions().max_states(CAP))


@FEW
@given(programs())
def test_workers_agree_on_random_programs(tmp_path: Path, text: str) -> None:
    same_as_python(_build(tmp_path, text), CheckOptions())


@FEW
@given(heap_programs())
def test_workers_agree_on_heap_programs(tmp_path: Path, text: str) -> None:
    same_as_python(_build(tmp_path, text), CheckOptions())


@FEW
@given(arith_programs())
def test_workers_agree_on_range_fault_programs(tmp_path: Path, text: str) -> None:
    same_as_python(_build(tmp_path, text), CheckOptions())


def test_every_cap_agrees() -> None:
    # The cap falls at every place of a few levels: mid-level, on a level's
    # last state, on a state that breaks an invariant.
    ts = _scenarios(ROOT / "specs" / "shapes" / "lost_wakeup.mig")[0]
    for cap in range(1, 60):
        same_as_python(ts, CheckOptions().max_states(cap))


def test_the_livelock_pass_sees_the_workers_graph(tmp_path: Path) -> None:
    spinning = _build(tmp_path, SPINNING)
    same_as_python(spinning, CheckOptions())
    r = check(spinning, CheckOptions(), engine=parallel_bfs(2))
    assert r.violation is not None and r.violation.cycle
    assert r.violation.kind == ViolationKind.DEADLOCK
    waiter = _build(tmp_path, WAITER)
    same_as_python(waiter, CheckOptions())
    assert check(waiter, CheckOptions(), engine=parallel_bfs(3)).verdict == "verified"


def test_limits_never_yield_verified() -> None:
    ts = _scenarios(ROOT / "specs" / "zsmalloc" / "isolation_wide.mig")[5]
    assert ts.expect.kind == "verified"
    for opts in (CheckOptions().max_memory(1), CheckOptions().max_seconds(1e-9),
                 CheckOptions().max_states(100)):
        r = check(ts, opts, engine=parallel_bfs(2))
        assert r.verdict == "incomplete" and r.limit is not None
    r = check(ts, CheckOptions().max_states(100), engine=parallel_bfs(2))
    assert r.stats.states == 100


def test_cli_workers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from checker.cli import main

    spec = ROOT / "specs" / "shapes" / "lost_wakeup.mig"
    codes = []
    outputs = []
    for extra in (["--engine", "explicit"], ["--engine", "vm", "--workers", "2"]):
        codes.append(main(["check", str(spec), "-q", "--no-save", *extra]))
        text = capsys.readouterr().out
        outputs.append([line.split(", ")[:3] for line in text.splitlines() if "states," in line])
    assert codes[0] == codes[1]
    assert outputs[0] == outputs[1] and outputs[0]
    for bad in (["--engine", "python", "--workers", "2"], ["--engine", "bmc", "--workers", "3"],
                ["--engine", "vm", "--search", "dfs", "--workers", "2"]):
        assert main(["check", str(spec), *bad]) == 2
        assert "breadth-first" in capsys.readouterr().err
    for workers in ("1", "2"):  # the default engine, on one worker or two past the hand-over
        assert main(["check", str(spec), "--workers", workers, "-q", "--no-save"]) == codes[0]
    with pytest.raises(SystemExit) as e:
        main(["check", str(spec), "--engine", "vm", "--workers", "0"])
    assert e.value.code == 2


def test_per_worker_figures(capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Each worker's states and the memory of its arrays: in the stats
    (adding up to the states after a complete search), on the progress
    line (each level), in the figures and in JSON."""
    from checker.cli import main
    from checker.explore.limits import Budget, figures

    monkeypatch.setattr(Budget, "PROGRESS_EVERY_S", -1.0)  # every check reports
    ts = _scenarios(ROOT / "specs" / "shapes" / "lost_wakeup.mig")[0]
    lines: list[str] = []
    r = check(ts, CheckOptions().livelock(False), lambda s: lines.append(figures(s)),
              engine=parallel_bfs(3))
    assert r.verdict == "verified" and len(r.stats.workers) == 3
    assert sum(n for n, _ in r.stats.workers) == r.stats.states
    assert all(mb > 0 for _, mb in r.stats.workers) and r.stats.workers_memory == "store"
    assert any("3 workers:" in line for line in lines)
    assert "MB of store each" in r.stats.workers_text()
    assert main(["check", str(ts.spec), "-s", ts.scenario, "--engine", "vm", "--workers", "2",
                 "--no-save", "--format", "json"]) == 0
    (res,) = json.loads(capsys.readouterr().out)
    workers = res["stats"]["workers"]
    assert [w["worker"] for w in workers] == [0, 1]
    assert sum(w["states"] for w in workers) == res["stats"]["states"]
    assert all(w["store_mb"] > 0 for w in workers)
    assert main(["check", str(ts.spec), "-s", ts.scenario, "--no-save", "--format", "json"]) == 0
    (one,) = json.loads(capsys.readouterr().out)
    assert one["stats"]["workers"] == []

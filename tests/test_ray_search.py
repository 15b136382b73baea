"""The distributed search on Ray (checker/vm/ray_search, `--cluster`)
against the Python engine's BFS, on a local Ray cluster of three worker
processes started once for the module: with 2 and 3 workers, the same
verdict, limit, states, transitions, depth, violation (kind, property,
message, trace length, cycle), other violations, executed actions and
covers, on spec scenarios (capped: a capped search agrees too) and on
random programs; the counterexample replays; a worker killed mid-search
gives *incomplete*, never a verdict.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings

from checker.explore.codegen import compile_system
from checker.explore.limits import figures
from checker.explore.options import CheckOptions
from checker.explore.partial import BITSTATE, PartialConfig
from checker.explore.result import CheckResult
from checker.explore.run import check
from checker.ir.nodes import TransitionSystem
from checker.kinds import Status, Verdict, ViolationKind
from checker.trace.model import build_trace
from checker.trace.replay import replay_on
from tests.conftest import ROOT
from tests.heap_programs import heap_programs
from tests.programs import programs
from tests.test_partial_search import _replays, swarm_figures
from tests.test_vm import SETTINGS, SPINNING, WAITER, _build, _figures, _scenarios

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'migcheck[cluster]')")

from checker.vm.ray_search import (  # noqa: E402
    Checkpoints,
    Cluster,
    WorkerFailed,
    connect,
    ray_bfs,
)
from checker.vm.swarm import swarm_check  # noqa: E402

CAP = 800  # --max-states of the comparison on the spec scenarios
WORKERS = (2, 3)
FEW = settings(SETTINGS, max_examples=15)
# The first two in `make test`, the others with `make test-slow` (each
# scenario is several searches on the cluster).
SPECS = [pytest.param(ROOT / "specs" / p, marks=[] if i < 2 else [pytest.mark.slow], id=p)
         for i, p in enumerate((
             "shapes/irq_enable_under_lock.mig", "zsmalloc/map_vs_migrate.mig",
             "shapes/lost_wakeup.mig", "shapes/chain_walk.mig",
             "balloon/balloon_compaction.mig"))]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    ray.init(num_cpus=3, object_store_memory=100 * 1024 * 1024, include_dashboard=False,
             configure_logging=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
    try:
        with connect("local:3") as c:
            yield c
    finally:
        ray.shutdown()


def same_as_python(cluster: Cluster, ts: TransitionSystem, opts: CheckOptions,
                   workers: tuple[int, ...] = WORKERS) -> None:
    want = _figures(check(ts, opts))
    for n in workers:
        got = _figures(check(ts, opts, engine=ray_bfs(cluster, n)))
        assert got == want, (ts.scenario, n)


@pytest.mark.parametrize("spec", SPECS)
def test_cluster_agrees_on_spec_scenarios(cluster: Cluster, spec: Path) -> None:
    # 2 and 3 workers in turn: the module's time is short.
    # Each worker's rows dense, then in its tree (`parallel.Part`), in turn.
    for i, ts in enumerate(t for t in _scenarios(spec) if not t.warnings):
        opts = CheckOptions().max_states(CAP).store_form(("dense", "tree")[i // 2 % 2])
        same_as_python(cluster, ts, opts, (WORKERS[i % 2],))


@FEW
@given(programs())
def test_cluster_agrees_on_random_programs(cluster: Cluster, tmp_path: Path,
                                           text: str) -> None:
    same_as_python(cluster, _build(tmp_path, text), CheckOptions())


@pytest.mark.slow  # `make test-slow`: each run starts a cluster of its own or many searches
@FEW
@given(heap_programs())
def test_cluster_agrees_on_heap_programs(cluster: Cluster, tmp_path: Path, text: str) -> None:
    same_as_python(cluster, _build(tmp_path, text), CheckOptions())


@pytest.mark.slow  # `make test-slow`: many searches on the cluster
def test_caps_agree(cluster: Cluster) -> None:
    # The cap falls mid-level, on a level's last state, on a state that
    # breaks an invariant: the figures of the single-threaded search.
    ts = _scenarios(ROOT / "specs" / "shapes" / "lost_wakeup.mig")[0]
    for cap in range(1, 45, 4):
        same_as_python(cluster, ts, CheckOptions().max_states(cap))


def test_a_symmetric_scenario_is_left_to_the_engines_that_reduce_it(
        cluster: Cluster, tmp_path: Path) -> None:
    """The parts store states as they are: a symmetric scenario on them
    was searched whole (13 states here) under a result naming the
    reduction (9). It is refused, and the command line searches it on this
    machine's default search, with a note."""
    from checker.vm.layout import NotSupported

    text = """
        struct obj { int[0..1] v; struct obj *next; };
        pool struct obj objs[3];
        struct obj *head = null;
        thread user() { struct obj *p = alloc(objs); head = p; }
        scenario s { symmetric objs; run user() * 2; }
    """
    ts = _build(tmp_path, text)
    assert check(ts, CheckOptions()).stats.states == 9
    with pytest.raises(NotSupported, match="symmetry reduction"):
        check(ts, CheckOptions(), engine=ray_bfs(cluster, 2))


def test_the_counterexample_is_shortest_and_replays(cluster: Cluster) -> None:
    for ts in _scenarios(ROOT / "specs" / "zsmalloc" / "map_vs_migrate.mig"):
        one = check(ts, CheckOptions())
        if one.violation is None:
            continue
        r = check(ts, CheckOptions(), engine=ray_bfs(cluster, 3))
        assert r.violation is not None
        assert r.violation.steps == one.violation.steps
        assert r.violation.path == one.violation.path  # the same parents: the same run
        assert replay_on(build_trace(compile_system(ts), r.violation), ts).reproduced


@pytest.mark.slow  # `make test-slow`: many searches on the cluster
def test_the_livelock_pass_sees_the_workers_graph(cluster: Cluster, tmp_path: Path) -> None:
    spinning = _build(tmp_path, SPINNING)
    same_as_python(cluster, spinning, CheckOptions())
    r = check(spinning, CheckOptions(), engine=ray_bfs(cluster, 2))
    assert r.violation is not None and r.violation.cycle
    assert r.violation.kind == ViolationKind.DEADLOCK
    waiter = _build(tmp_path, WAITER)
    same_as_python(cluster, waiter, CheckOptions())
    # Per worker: the states it stores (all of them, together) and its memory.
    r = check(waiter, CheckOptions(), engine=ray_bfs(cluster, 3))
    assert len(r.stats.workers) == 3
    assert sum(n for n, _ in r.stats.workers) == r.stats.states
    assert all(mb > 0 for _, mb in r.stats.workers)


@pytest.mark.slow  # `make test-slow`: many searches on the cluster
def test_limits_give_incomplete(cluster: Cluster) -> None:
    ts = _scenarios(ROOT / "specs" / "zsmalloc" / "isolation_wide.mig")[5]
    assert ts.expect.kind == "verified"
    for opts in (CheckOptions().max_seconds(1e-9), CheckOptions().max_states(100)):
        r = check(ts, opts, engine=ray_bfs(cluster, 2))
        assert r.verdict == "incomplete" and r.limit is not None
    r = check(ts, CheckOptions().max_states(100), engine=ray_bfs(cluster, 2))
    assert r.stats.states == 100


def test_a_dead_worker_gives_incomplete(cluster: Cluster) -> None:
    ts = _scenarios(ROOT / "specs" / "zsmalloc" / "isolation_wide.mig")[5]
    full = check(ts, CheckOptions().max_states(4000))

    def kill(depth: int, actors: list[Any]) -> None:
        if depth == 3:
            ray.kill(actors[1])

    r = check(ts, CheckOptions().max_states(4000), engine=ray_bfs(cluster, 3, on_level=kill))
    assert r.verdict == "incomplete" and r.violation is None
    assert r.limit is not None and "worker failed" in r.limit
    assert 0 < r.stats.states < full.stats.states
    assert r.stats.depth == 3
    # The pool replaces the dead worker: the next search is whole.
    assert _figures(check(ts, CheckOptions().max_states(4000), engine=ray_bfs(cluster, 3))) \
        == _figures(full)


def test_a_killed_run_resumes_from_its_checkpoint(cluster: Cluster, tmp_path: Path) -> None:
    # Saved before every level; a worker killed at depth 6; the run resumed
    # from the last checkpoint ends as an uninterrupted one.
    ts = _scenarios(ROOT / "specs" / "zsmalloc" / "isolation_wide.mig")[5]
    opts = CheckOptions().max_states(4000)
    full = _figures(check(ts, opts))
    saved = tmp_path / "run.ckpt"

    def kill(depth: int, actors: list[Any]) -> None:
        if depth == 6:
            ray.kill(actors[0])

    cut = check(ts, opts, engine=ray_bfs(cluster, 2, on_level=kill,
                                         checkpoints=Checkpoints(saved, 0.0)))
    assert cut.verdict == "incomplete" and saved.exists()
    seen: list[int] = []
    resumed = check(ts, opts, engine=ray_bfs(
        cluster, 2, on_level=lambda depth, _: seen.append(depth),
        checkpoints=Checkpoints(saved, 0.0, resume=saved)))
    assert seen[0] == 6  # it went on from the level it was saved at
    assert _figures(resumed) == full
    # A checkpoint of another number of workers is refused: incomplete, no verdict.
    other = check(ts, opts, engine=ray_bfs(cluster, 3, checkpoints=Checkpoints(
        None, resume=saved)))
    assert other.verdict == "incomplete" and "checkpoint" in (other.limit or "")


def test_recorded_runs_survive_a_cluster_checkpoint(cluster: Cluster, tmp_path: Path) -> None:
    """--all-violations on a scenario with six properties broken, at depths
    33 to 46: a worker killed at depth 38, after some were recorded; the
    resumed run reports all six, as the uninterrupted one does."""
    (ts,) = [t for t in _scenarios(ROOT / "specs" / "shapes" / "chain_walk.mig")
             if t.scenario == "free_vs_migrate"]
    opts = CheckOptions().every_violation(True)
    full = check(ts, opts)
    saved = tmp_path / "run.ckpt"

    def kill(depth: int, actors: list[Any]) -> None:
        if depth == 38:
            ray.kill(actors[0])

    cut = check(ts, opts, engine=ray_bfs(cluster, 2, on_level=kill,
                                         checkpoints=Checkpoints(saved, 0.0)))
    assert cut.verdict == "incomplete" and saved.exists()
    with np.load(saved, allow_pickle=False) as z:
        recorded = json.loads(bytes(z["meta"]).decode())["recorded"]
    assert 2 <= len(recorded["found"]) < 6
    resumed = check(ts, opts, engine=ray_bfs(cluster, 2, checkpoints=Checkpoints(
        saved, 0.0, resume=saved)))

    def runs(r: CheckResult) -> list[tuple[object, ...]]:
        return [(v.kind, v.prop, v.path) for v in (r.violation, *r.others) if v is not None]
    assert _figures(resumed) == _figures(full)
    assert runs(resumed) == runs(full) and len(runs(full)) == 6


@pytest.mark.slow  # `make test-slow`: each run starts a cluster of its own or many searches
def test_cli_cluster(cluster: Cluster, capsys: pytest.CaptureFixture[str],
                     tmp_path: Path) -> None:
    from checker.cli import main

    cluster.close()  # its workers hold the local cluster's CPUs: the command makes its own
    spec = ROOT / "specs" / "shapes" / "lost_wakeup.mig"
    codes = []
    outputs = []
    ck = str(tmp_path / "run.ckpt")
    one = ["-s", "destroy_vs_putback_with_kcompactd"]
    for extra in (["--engine", "explicit"], ["--cluster", "local:2", "--workers", "3"],
                  [*one], [*one, "--cluster", "local:2", "--checkpoint", ck,
                           "--checkpoint-every", "1e-6"],
                  [*one, "--cluster", "local:2", "--resume", ck]):
        codes.append(main(["check", str(spec), "-q", "--no-save", *extra]))
        text = capsys.readouterr().out
        assert ("workers:" in text) == ("--cluster" in extra)
        outputs.append([line.split(", ")[:3] for line in text.splitlines() if "states," in line])
    assert codes[0] == codes[1] and codes[2] == codes[3] == codes[4]
    assert outputs[0] == outputs[1] and outputs[0]
    assert outputs[2] == outputs[3] == outputs[4] and outputs[2]
    assert Path(ck).exists()
    for bad in (["--cluster", "local:2", "--dfs"], ["--cluster", "local:2", "--engine", "bmc"],
                ["--cluster", "local:0"]):
        assert main(["check", str(spec), "-q", *bad]) == 2
        assert "--cluster" in capsys.readouterr().err


@pytest.mark.slow  # `make test-slow`: a local cluster of its own
def test_cli_cluster_leaves_a_symmetric_scenario_to_this_machine(
        cluster: Cluster, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Searched on this machine's default search, which reduces it (9
    states, not the 13 of the whole system) and would write the checkpoint
    asked for, with a note."""
    from checker.cli import main

    cluster.close()
    spec = tmp_path / "sym.mig"
    spec.write_text("""
        struct obj { int[0..1] v; struct obj *next; };
        pool struct obj objs[3];
        struct obj *head = null;
        thread user() { struct obj *p = alloc(objs); head = p; }
        scenario s { symmetric objs; run user() * 2; }
    """)
    assert main(["check", str(spec), "--no-save", "--cluster", "local:2",
                 "--checkpoint", str(tmp_path / "ck")]) == 0
    got = capsys.readouterr()
    assert "the cluster cannot run it (symmetry reduction" in got.err
    assert "searched on this machine (its checkpoints in" in got.err
    assert "are resumed without --cluster)" in got.err
    assert "9 states" in got.out and "symmetry: pool objs (3 objects)" in got.out


# ---------------------------------------------------------------- swarm on the cluster


def test_the_swarm_on_the_cluster_is_the_local_swarm(cluster: Cluster) -> None:
    """`--swarm N --cluster`: the same searches (`swarm.run_part`) as Ray
    tasks give the report of the local backend for the same seeds (which
    test_partial_search holds equal to the process pool's); the seeded
    bug is found and its trace replays; a swarm that finds nothing is
    incomplete."""
    by_name = {ts.scenario: ts for ts in _scenarios(ROOT / "specs/shapes/lost_wakeup.mig")}
    base = PartialConfig(BITSTATE, 12, 3)
    for name in ("destroy_vs_putback_reordered", "destroy_vs_putback"):
        ts = by_name[name]
        here = swarm_check(ts, CheckOptions(), 4, jobs=1, base=base, seed=3, max_depth=8)
        there = swarm_check(ts, CheckOptions(), 4, base=base, seed=3, max_depth=8,
                            cluster=cluster)
        assert swarm_figures(there) == swarm_figures(here), name
        if name == "destroy_vs_putback_reordered":
            assert there.verdict == Verdict.VIOLATION and there.status == Status.MET
            assert there.violation is not None and str(there.violation.kind) == "deadlock"
            assert _replays(there)
        else:
            assert there.verdict == Verdict.INCOMPLETE and there.violation is None


def test_a_swarm_search_whose_worker_dies_is_reported_and_the_others_count(
        cluster: Cluster) -> None:
    ts = {t.scenario: t for t in _scenarios(ROOT / "specs/shapes/lost_wakeup.mig")}[
        "destroy_vs_putback"]
    got = cluster.map(_die_on_one, (ts,), [(0,), (1,)])
    assert isinstance(got[1], WorkerFailed) and "worker failed" in str(got[1])
    assert got[0] == 0


def _die_on_one(ts: TransitionSystem, i: int) -> int:
    if i == 1:
        os._exit(1)  # the worker process dies, as on a lost node
    return i


def test_per_worker_figures_add_up(cluster: Cluster) -> None:
    ts = {t.scenario: t for t in _scenarios(ROOT / "specs/shapes/lost_wakeup.mig")}[
        "destroy_vs_putback"]
    r = check(ts, CheckOptions(), engine=ray_bfs(cluster, 2))
    assert r.verdict == Verdict.VERIFIED and len(r.stats.workers) == 2
    assert sum(n for n, _ in r.stats.workers) == r.stats.states
    assert all(mb > 0 for _, mb in r.stats.workers) and r.stats.workers_memory == "peak"
    line = figures(r.stats)
    assert "2 workers" in line and f"{max(n for n, _ in r.stats.workers):,}" in line


def test_resume_from_a_missing_or_unreadable_file_is_a_usage_error(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Refused before any cluster starts, as on one machine (exit 2)."""
    from checker.cli import main

    spec = str(ROOT / "specs" / "shapes" / "lost_wakeup.mig")
    junk = tmp_path / "junk.ckpt"
    junk.write_text("not a checkpoint")
    for path, why in ((tmp_path / "none.ckpt", "no such file"), (junk, "not a checkpoint"),
                      (tmp_path, "a directory")):
        code = main(["check", spec, "-s", "destroy_vs_putback", "-q", "--no-save",
                     "--cluster", "local:2", "--resume", str(path)])
        assert code == 2
        err = capsys.readouterr().err
        assert f"--resume {path}: {why}" in err, err
    for bad in (["--store", "bitstate", "--cluster", "local:2"],
                ["--swarm", "2", "--jobs", "2", "--cluster", "local:2"]):
        assert main(["check", spec, "-q", "--no-save", *bad]) == 2
        assert "--cluster" in capsys.readouterr().err


@pytest.mark.slow  # `make test-slow`: starts a cluster of its own
def test_cli_swarm_on_a_local_cluster_is_quiet(tmp_path: Path) -> None:
    """`--swarm 3 --cluster local:2` from the command line: the report of
    the local swarm, and nothing from Ray on stderr."""
    import json
    import subprocess
    import sys

    spec = str(ROOT / "specs" / "shapes" / "lost_wakeup.mig")
    base = ["-m", "checker", "check", spec, "-s", "destroy_vs_putback_reordered",
            "--format", "json", "--no-save", "--max-memory", "2000", "--swarm", "3",
            "--store", "bitstate:12", "--seed", "5"]
    runs = [subprocess.run([sys.executable, *base, *extra], cwd=ROOT, capture_output=True,
                           text=True, timeout=300)
            for extra in (["--jobs", "2"], ["--cluster", "local:2"])]
    for r in runs:
        assert r.returncode == 0, r.stdout + r.stderr
    local, remote = (json.loads(r.stdout)[0] for r in runs)
    assert remote["partial"] == local["partial"]
    assert remote["trace"]["steps"] == local["trace"]["steps"]
    assert runs[1].stderr.strip() == "", runs[1].stderr
